//! Request and response shapes of the KMS JSON protocol (awsJson1.1, `TrentService`).
//!
//! Member names follow the botocore `kms/2014-11-01` model exactly: PascalCase JSON, blobs as
//! base64 strings, timestamps as epoch seconds. Enum-valued request members are kept as strings
//! so an unknown value becomes a `ValidationException` rather than a parse failure.
//! Reference: <https://docs.aws.amazon.com/kms/latest/APIReference/API_Operations.html>.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::blob::EncryptionContext;

/// Serde helpers for blobs as standard base64 strings.
pub(crate) mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes bytes as a base64 string.
    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(&STANDARD.encode(bytes))
    }

    /// Reads a base64 string.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(de)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }

    /// The same for optional members.
    pub(crate) mod option {
        use super::*;

        /// Writes optional bytes as a base64 string.
        pub(crate) fn serialize<S: Serializer>(
            bytes: &Option<Vec<u8>>,
            ser: S,
        ) -> Result<S::Ok, S::Error> {
            match bytes {
                Some(bytes) => super::serialize(bytes, ser),
                None => ser.serialize_none(),
            }
        }

        /// Reads an optional base64 string.
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            de: D,
        ) -> Result<Option<Vec<u8>>, D::Error> {
            Option::<String>::deserialize(de)?
                .map(|text| STANDARD.decode(text).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

/// A tag on a key ([`Tag`](https://docs.aws.amazon.com/kms/latest/APIReference/API_Tag.html)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// The tag key, 1..128 characters, not starting with `aws:`.
    pub tag_key: String,
    /// The tag value, 0..256 characters.
    pub tag_value: String,
}

/// The lifecycle states this service reports ([`KeyState`](https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyState {
    /// Usable.
    Enabled,
    /// Disabled by EnableKey/DisableKey or by CancelKeyDeletion.
    Disabled,
    /// Scheduled for deletion.
    PendingDeletion,
}

/// Key metadata ([`KeyMetadata`](https://docs.aws.amazon.com/kms/latest/APIReference/API_KeyMetadata.html)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata {
    /// The owning account.
    #[serde(rename = "AWSAccountId")]
    pub aws_account_id: String,
    /// The key id.
    pub key_id: String,
    /// The key ARN.
    pub arn: String,
    /// When the key was created.
    #[serde(with = "time::serde::timestamp")]
    pub creation_date: OffsetDateTime,
    /// Whether the key state is `Enabled`.
    pub enabled: bool,
    /// The description.
    pub description: String,
    /// Always `ENCRYPT_DECRYPT`.
    pub key_usage: String,
    /// The key state.
    pub key_state: KeyState,
    /// When the key will be deleted, while pending deletion.
    #[serde(
        default,
        with = "time::serde::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub deletion_date: Option<OffsetDateTime>,
    /// Always `AWS_KMS`.
    pub origin: String,
    /// `AWS` or `CUSTOMER`.
    pub key_manager: String,
    /// Always `SYMMETRIC_DEFAULT` (deprecated twin of `KeySpec`).
    pub customer_master_key_spec: String,
    /// Always `SYMMETRIC_DEFAULT`.
    pub key_spec: String,
    /// Always `["SYMMETRIC_DEFAULT"]`.
    pub encryption_algorithms: Vec<String>,
    /// Always false.
    pub multi_region: bool,
    /// The waiting period, while pending deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_deletion_window_in_days: Option<u32>,
    /// The id of the material new encryptions use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_key_material_id: Option<String>,
}

/// An entry of ListKeys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyListEntry {
    /// The key id.
    pub key_id: String,
    /// The key ARN.
    pub key_arn: String,
}

/// An entry of ListAliases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasListEntry {
    /// The alias name.
    pub alias_name: String,
    /// The alias ARN.
    pub alias_arn: String,
    /// The id of the key it points to.
    pub target_key_id: String,
    /// When the alias was created.
    #[serde(with = "time::serde::timestamp")]
    pub creation_date: OffsetDateTime,
    /// When the alias was last associated with a key.
    #[serde(with = "time::serde::timestamp")]
    pub last_updated_date: OffsetDateTime,
}

/// Declares a request or response struct with PascalCase members, all optional unless typed
/// otherwise, so each operation reads as its member list.
macro_rules! shape {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "PascalCase")]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
        }
    };
}

shape!(
    /// CreateKey input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html>
    #[derive(Default)]
    CreateKeyRequest {
        /// The key policy; the default policy when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy: Option<String>,
        /// A description.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// Only `ENCRYPT_DECRYPT` is supported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_usage: Option<String>,
        /// Only `SYMMETRIC_DEFAULT` is supported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        customer_master_key_spec: Option<String>,
        /// Only `SYMMETRIC_DEFAULT` is supported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_spec: Option<String>,
        /// Only `AWS_KMS` is supported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<String>,
        /// Custom key stores are not supported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        custom_key_store_id: Option<String>,
        /// Accepted; the policy lockout check is the policy engine's concern.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bypass_policy_lockout_safety_check: Option<bool>,
        /// Tags to attach.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tags: Option<Vec<Tag>>,
        /// Multi-Region keys are not supported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        multi_region: Option<bool>,
        /// External key stores are not supported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        xks_key_id: Option<String>,
    }
);

shape!(
    /// CreateKey and DescribeKey output.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html>
    KeyMetadataResponse {
        /// The key's metadata.
        key_metadata: Option<KeyMetadata>,
    }
);

shape!(
    /// DescribeKey input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html>
    DescribeKeyRequest {
        /// Key id, key ARN, alias name or alias ARN.
        key_id: String,
        /// Accepted and ignored (grants are not implemented).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grant_tokens: Option<Vec<String>>,
    }
);

shape!(
    /// Input of the operations that take only a `KeyId` (EnableKey, DisableKey,
    /// DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand, CancelKeyDeletion).
    KeyIdRequest {
        /// Key id or key ARN.
        key_id: String,
    }
);

shape!(
    /// Output of the operations that return only a `KeyId` (the key ARN).
    KeyIdResponse {
        /// The key ARN.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_id: Option<String>,
    }
);

shape!(
    /// Input of list operations without other filters (ListKeys).
    #[derive(Default)]
    ListRequest {
        /// Page size, 1..1000.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
        /// `NextMarker` of the previous page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        marker: Option<String>,
    }
);

shape!(
    /// ListKeys output.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeys.html>
    ListKeysResponse {
        /// The keys.
        keys: Vec<KeyListEntry>,
        /// Marker of the next page, when truncated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next_marker: Option<String>,
        /// Whether more pages follow.
        truncated: bool,
    }
);

shape!(
    /// CreateAlias and UpdateAlias input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html>
    AliasRequest {
        /// The alias name, `alias/…`.
        alias_name: String,
        /// Key id or key ARN of the target.
        target_key_id: String,
    }
);

shape!(
    /// DeleteAlias input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteAlias.html>
    DeleteAliasRequest {
        /// The alias name.
        alias_name: String,
    }
);

shape!(
    /// ListAliases input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_ListAliases.html>
    #[derive(Default)]
    ListAliasesRequest {
        /// Only aliases of this key (key id or key ARN).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_id: Option<String>,
        /// Page size, 1..1000.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
        /// `NextMarker` of the previous page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        marker: Option<String>,
    }
);

shape!(
    /// ListAliases output.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_ListAliases.html>
    ListAliasesResponse {
        /// The aliases.
        aliases: Vec<AliasListEntry>,
        /// Marker of the next page, when truncated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next_marker: Option<String>,
        /// Whether more pages follow.
        truncated: bool,
    }
);

shape!(
    /// Encrypt input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html>
    EncryptRequest {
        /// Key id, key ARN, alias name or alias ARN.
        key_id: String,
        /// 1..4096 bytes to encrypt.
        #[serde(with = "base64_bytes")]
        plaintext: Vec<u8>,
        /// Pairs bound to the ciphertext.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encryption_context: Option<EncryptionContext>,
        /// Accepted and ignored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grant_tokens: Option<Vec<String>>,
        /// Only `SYMMETRIC_DEFAULT`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encryption_algorithm: Option<String>,
        /// Check only, then fail with `DryRunOperationException`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dry_run: Option<bool>,
    }
);

shape!(
    /// Encrypt output.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html>
    EncryptResponse {
        /// The ciphertext blob.
        #[serde(with = "base64_bytes")]
        ciphertext_blob: Vec<u8>,
        /// The key ARN.
        key_id: String,
        /// `SYMMETRIC_DEFAULT`.
        encryption_algorithm: String,
    }
);

shape!(
    /// Decrypt input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html>
    DecryptRequest {
        /// The ciphertext blob.
        #[serde(with = "base64_bytes")]
        ciphertext_blob: Vec<u8>,
        /// The context given at encryption.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encryption_context: Option<EncryptionContext>,
        /// Accepted and ignored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grant_tokens: Option<Vec<String>>,
        /// When given, the blob must belong to this key (`IncorrectKeyException` otherwise).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_id: Option<String>,
        /// Only `SYMMETRIC_DEFAULT`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encryption_algorithm: Option<String>,
        /// Nitro Enclaves recipients are not supported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recipient: Option<serde_json::Value>,
        /// Check only, then fail with `DryRunOperationException`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dry_run: Option<bool>,
    }
);

shape!(
    /// Decrypt output.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html>
    DecryptResponse {
        /// The key ARN.
        key_id: String,
        /// The plaintext.
        #[serde(with = "base64_bytes")]
        plaintext: Vec<u8>,
        /// `SYMMETRIC_DEFAULT`.
        encryption_algorithm: String,
        /// The material that decrypted the blob.
        key_material_id: String,
    }
);

shape!(
    /// ReEncrypt input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html>
    ReEncryptRequest {
        /// The ciphertext blob.
        #[serde(with = "base64_bytes")]
        ciphertext_blob: Vec<u8>,
        /// The context given at encryption.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source_encryption_context: Option<EncryptionContext>,
        /// When given, the blob must belong to this key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source_key_id: Option<String>,
        /// The key to encrypt under.
        destination_key_id: String,
        /// The context to bind to the new ciphertext.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        destination_encryption_context: Option<EncryptionContext>,
        /// Only `SYMMETRIC_DEFAULT`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source_encryption_algorithm: Option<String>,
        /// Only `SYMMETRIC_DEFAULT`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        destination_encryption_algorithm: Option<String>,
        /// Accepted and ignored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grant_tokens: Option<Vec<String>>,
        /// Check only, then fail with `DryRunOperationException`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dry_run: Option<bool>,
    }
);

shape!(
    /// ReEncrypt output.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html>
    ReEncryptResponse {
        /// The new ciphertext blob.
        #[serde(with = "base64_bytes")]
        ciphertext_blob: Vec<u8>,
        /// ARN of the key that had encrypted the input.
        source_key_id: String,
        /// ARN of the key that encrypted the output.
        key_id: String,
        /// `SYMMETRIC_DEFAULT`.
        source_encryption_algorithm: String,
        /// `SYMMETRIC_DEFAULT`.
        destination_encryption_algorithm: String,
        /// The material that decrypted the input.
        source_key_material_id: String,
        /// The material that encrypted the output.
        destination_key_material_id: String,
    }
);

shape!(
    /// GenerateDataKey and GenerateDataKeyWithoutPlaintext input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html>
    GenerateDataKeyRequest {
        /// Key id, key ARN, alias name or alias ARN.
        key_id: String,
        /// Pairs bound to the ciphertext.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encryption_context: Option<EncryptionContext>,
        /// 1..1024; exactly one of this and `KeySpec`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        number_of_bytes: Option<u32>,
        /// `AES_256` or `AES_128`; exactly one of this and `NumberOfBytes`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_spec: Option<String>,
        /// Accepted and ignored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grant_tokens: Option<Vec<String>>,
        /// Nitro Enclaves recipients are not supported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recipient: Option<serde_json::Value>,
        /// Check only, then fail with `DryRunOperationException`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dry_run: Option<bool>,
    }
);

shape!(
    /// GenerateDataKey and GenerateDataKeyWithoutPlaintext output.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html>
    GenerateDataKeyResponse {
        /// The data key encrypted under the KMS key.
        #[serde(with = "base64_bytes")]
        ciphertext_blob: Vec<u8>,
        /// The plaintext data key; absent for GenerateDataKeyWithoutPlaintext.
        #[serde(
            default,
            with = "base64_bytes::option",
            skip_serializing_if = "Option::is_none"
        )]
        plaintext: Option<Vec<u8>>,
        /// The key ARN.
        key_id: String,
        /// The material that encrypted the data key.
        key_material_id: String,
    }
);

shape!(
    /// EnableKeyRotation input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html>
    EnableKeyRotationRequest {
        /// Key id or key ARN.
        key_id: String,
        /// 90..2560, default 365.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rotation_period_in_days: Option<u32>,
    }
);

shape!(
    /// GetKeyRotationStatus output.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyRotationStatus.html>
    GetKeyRotationStatusResponse {
        /// Whether automatic rotation is on (false while pending deletion).
        key_rotation_enabled: bool,
        /// The key ARN.
        key_id: String,
        /// The rotation period, while enabled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rotation_period_in_days: Option<u32>,
        /// When automatic rotation is next due, while enabled.
        #[serde(
            default,
            with = "time::serde::timestamp::option",
            skip_serializing_if = "Option::is_none"
        )]
        next_rotation_date: Option<OffsetDateTime>,
        /// On-demand rotations complete at once here, so this is never set.
        #[serde(
            default,
            with = "time::serde::timestamp::option",
            skip_serializing_if = "Option::is_none"
        )]
        on_demand_rotation_start_date: Option<OffsetDateTime>,
    }
);

shape!(
    /// ListKeyRotations input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeyRotations.html>
    ListKeyRotationsRequest {
        /// Key id or key ARN.
        key_id: String,
        /// `ROTATIONS_ONLY` (default) or `ALL_KEY_MATERIAL` (also the first material).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        include_key_material: Option<String>,
        /// Page size, 1..1000.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
        /// `NextMarker` of the previous page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        marker: Option<String>,
    }
);

/// An entry of ListKeyRotations ([`RotationsListEntry`](https://docs.aws.amazon.com/kms/latest/APIReference/API_RotationsListEntry.html)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotationsListEntry {
    /// The key id.
    pub key_id: String,
    /// The material's id.
    pub key_material_id: String,
    /// `CURRENT` for the material new encryptions use, otherwise `NON_CURRENT`.
    pub key_material_state: String,
    /// When the rotation completed; absent for the first material.
    #[serde(
        default,
        with = "time::serde::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub rotation_date: Option<OffsetDateTime>,
    /// `AUTOMATIC` or `ON_DEMAND`; absent for the first material.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_type: Option<String>,
}

shape!(
    /// ListKeyRotations output.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeyRotations.html>
    ListKeyRotationsResponse {
        /// The rotations, oldest first.
        rotations: Vec<RotationsListEntry>,
        /// Marker of the next page, when truncated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next_marker: Option<String>,
        /// Whether more pages follow.
        truncated: bool,
    }
);

shape!(
    /// ScheduleKeyDeletion input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html>
    ScheduleKeyDeletionRequest {
        /// Key id or key ARN.
        key_id: String,
        /// 7..30, default 30.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pending_window_in_days: Option<u32>,
    }
);

shape!(
    /// ScheduleKeyDeletion output.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html>
    ScheduleKeyDeletionResponse {
        /// The key ARN.
        key_id: String,
        /// When the key material will be destroyed.
        #[serde(with = "time::serde::timestamp")]
        deletion_date: OffsetDateTime,
        /// `PendingDeletion`.
        key_state: KeyState,
        /// The waiting period.
        pending_window_in_days: u32,
    }
);

shape!(
    /// TagResource input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_TagResource.html>
    TagResourceRequest {
        /// Key id or key ARN.
        key_id: String,
        /// Tags to add or overwrite.
        tags: Vec<Tag>,
    }
);

shape!(
    /// UntagResource input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_UntagResource.html>
    UntagResourceRequest {
        /// Key id or key ARN.
        key_id: String,
        /// Keys of the tags to remove.
        tag_keys: Vec<String>,
    }
);

shape!(
    /// ListResourceTags input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_ListResourceTags.html>
    ListResourceTagsRequest {
        /// Key id or key ARN.
        key_id: String,
        /// Page size, 1..50.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
        /// `NextMarker` of the previous page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        marker: Option<String>,
    }
);

shape!(
    /// ListResourceTags output.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_ListResourceTags.html>
    ListResourceTagsResponse {
        /// The tags.
        tags: Vec<Tag>,
        /// Marker of the next page, when truncated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next_marker: Option<String>,
        /// Whether more pages follow.
        truncated: bool,
    }
);

shape!(
    /// GetKeyPolicy input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyPolicy.html>
    GetKeyPolicyRequest {
        /// Key id or key ARN.
        key_id: String,
        /// Only `default`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy_name: Option<String>,
    }
);

shape!(
    /// GetKeyPolicy output.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyPolicy.html>
    GetKeyPolicyResponse {
        /// The policy document.
        policy: String,
        /// `default`.
        policy_name: String,
    }
);

shape!(
    /// PutKeyPolicy input.
    ///
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html>
    PutKeyPolicyRequest {
        /// Key id or key ARN.
        key_id: String,
        /// Only `default`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy_name: Option<String>,
        /// The new policy document.
        policy: String,
        /// Accepted; the lockout check is the policy engine's concern.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bypass_policy_lockout_safety_check: Option<bool>,
    }
);

shape!(
    /// The empty output of operations that return nothing.
    #[derive(Default)]
    EmptyResponse {}
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_and_blobs_follow_the_wire() {
        let req: EncryptRequest = serde_json::from_str(
            r#"{"KeyId":"alias/a","Plaintext":"aGk=","EncryptionContext":{"b":"2","a":"1"}}"#,
        )
        .unwrap();
        assert_eq!(req.plaintext, b"hi");
        assert_eq!(req.encryption_context.unwrap().len(), 2);

        let metadata = KeyMetadata {
            aws_account_id: "111122223333".into(),
            key_id: "k".into(),
            arn: "arn".into(),
            creation_date: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
            enabled: true,
            description: String::new(),
            key_usage: "ENCRYPT_DECRYPT".into(),
            key_state: KeyState::PendingDeletion,
            deletion_date: None,
            origin: "AWS_KMS".into(),
            key_manager: "CUSTOMER".into(),
            customer_master_key_spec: "SYMMETRIC_DEFAULT".into(),
            key_spec: "SYMMETRIC_DEFAULT".into(),
            encryption_algorithms: vec!["SYMMETRIC_DEFAULT".into()],
            multi_region: false,
            pending_deletion_window_in_days: Some(7),
            current_key_material_id: None,
        };
        let json = serde_json::to_value(&metadata).unwrap();
        assert_eq!(json["AWSAccountId"], "111122223333");
        assert_eq!(json["CreationDate"], 1_700_000_000);
        assert_eq!(json["KeyState"], "PendingDeletion");
        assert_eq!(json["PendingDeletionWindowInDays"], 7);
        assert!(json.get("DeletionDate").is_none());

        let out = GenerateDataKeyResponse {
            ciphertext_blob: vec![1, 2],
            plaintext: None,
            key_id: "arn".into(),
            key_material_id: "m".into(),
        };
        let json = serde_json::to_value(&out).unwrap();
        assert_eq!(json["CiphertextBlob"], "AQI=");
        assert!(json.get("Plaintext").is_none());
    }

    #[test]
    fn bad_base64_is_rejected() {
        let err = serde_json::from_str::<DecryptRequest>(r#"{"CiphertextBlob":"!!"}"#);
        assert!(err.is_err());
    }
}
