//! The KMS service: key lifecycle, aliases, envelope encryption and workspace data keys.

mod aliases;
mod crypto_ops;
mod keys;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::blob::{self, EncryptionContext};
use crate::clock::Clock;
use crate::crypto::{self, KEY_LEN};
use crate::data_key::DataKey;
use crate::error::KmsError;
use crate::ids::{self, AliasUse, KeyRef};
use crate::model::{KeyMetadata, KeyState};
use crate::operation::Operation;
use crate::record::{
    AliasRecord, KeyManager, KeyRecord, Lifecycle, MaterialOrigin, MaterialVersion, Rotation,
};
use crate::repository::{KeyRepository, RepositoryError};
use crate::root_key::RootKey;

/// Encryption-context key under which workspaces bind their ARN to their data key.
pub const WORKSPACE_CONTEXT_KEY: &str = "aws:aps:arn";
/// Alias of the per-account AWS managed key protecting workspaces without a customer key.
pub const WORKSPACE_DEFAULT_ALIAS: &str = "alias/aws/prometheus";

const AAD_MATERIAL: &[u8] = b"ampd-kms/material/v1\0";
const DEFAULT_ROTATION_DAYS: u32 = 365;
const MAX_UPDATE_ATTEMPTS: usize = 5;
const TICK_BATCH: usize = 1000;
const SYMMETRIC_DEFAULT: &str = "SYMMETRIC_DEFAULT";

/// Where this service runs: the partition and region written into ARNs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsConfig {
    /// The ARN partition, normally `aws`.
    pub partition: String,
    /// The region, e.g. `us-east-1`.
    pub region: String,
}

impl Default for KmsConfig {
    fn default() -> Self {
        Self {
            partition: "aws".to_owned(),
            region: "us-east-1".to_owned(),
        }
    }
}

/// What one [`KmsService::tick`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickSummary {
    /// Keys that got a new material version from automatic rotation.
    pub rotated: usize,
    /// Keys whose waiting period ended and whose material was destroyed.
    pub deleted: usize,
    /// The ARNs of those deleted keys, so their dependents can be destroyed too.
    pub deleted_arns: Vec<String>,
    /// Keys whose due action failed (logged; retried on the next tick).
    pub failed: usize,
}

/// The KMS service; cheap to clone, all clones share state.
///
/// Callers pass the account the request is made in. Authentication and authorization (IAM
/// policies, key policies) happen before these methods are called; key ARNs of other accounts
/// are honoured for cryptographic operations and DescribeKey, as KMS does for cross-account use,
/// while management operations only see the caller's own keys.
#[derive(Clone)]
pub struct KmsService {
    inner: Arc<Inner>,
}

struct Inner {
    config: KmsConfig,
    root: RootKey,
    repo: Arc<dyn KeyRepository>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for KmsService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsService")
            .field("config", &self.inner.config)
            .field("repo", &self.inner.repo)
            .finish_non_exhaustive()
    }
}

fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, KmsError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| KmsError::Serialization(e.to_string()))
}

fn to_body<T: Serialize>(value: &T) -> Result<Vec<u8>, KmsError> {
    serde_json::to_vec(value).map_err(|e| KmsError::Internal(format!("encode response: {e}")))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn invalid_ciphertext() -> KmsError {
    KmsError::InvalidCiphertext(
        "The ciphertext is invalid, was modified, or does not match the encryption context."
            .to_owned(),
    )
}

fn crypto_failure(_: crypto::CryptoFailure) -> KmsError {
    KmsError::Internal("the system random source failed".to_owned())
}

impl KmsService {
    /// Creates the service over a repository, sealing all key material with `root`.
    pub fn new(
        config: KmsConfig,
        root: RootKey,
        repo: Arc<dyn KeyRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                root,
                repo,
                clock,
            }),
        }
    }

    /// Returns the partition and region the service writes into ARNs.
    pub fn config(&self) -> &KmsConfig {
        &self.inner.config
    }

    /// Answers one `TrentService.<operation>` request: JSON body in, JSON body out.
    ///
    /// Map an `Err` to HTTP with [`KmsError::http_status`] and [`KmsError::to_json`].
    pub async fn handle(
        &self,
        account: &str,
        operation: Operation,
        body: &[u8],
    ) -> Result<Vec<u8>, KmsError> {
        // Each arm parses the operation's request shape, runs it and encodes its response.
        macro_rules! run {
            ($method:ident) => {
                to_body(&self.$method(account, parse_body(body)?).await?)
            };
        }
        use Operation as Op;
        match operation {
            Op::CreateKey => run!(create_key),
            Op::DescribeKey => run!(describe_key),
            Op::ListKeys => run!(list_keys),
            Op::CreateAlias => run!(create_alias),
            Op::DeleteAlias => run!(delete_alias),
            Op::ListAliases => run!(list_aliases),
            Op::UpdateAlias => run!(update_alias),
            Op::Encrypt => run!(encrypt),
            Op::Decrypt => run!(decrypt),
            Op::ReEncrypt => run!(re_encrypt),
            Op::GenerateDataKey => run!(generate_data_key),
            Op::GenerateDataKeyWithoutPlaintext => run!(generate_data_key_without_plaintext),
            Op::EnableKey => run!(enable_key),
            Op::DisableKey => run!(disable_key),
            Op::EnableKeyRotation => run!(enable_key_rotation),
            Op::DisableKeyRotation => run!(disable_key_rotation),
            Op::GetKeyRotationStatus => run!(get_key_rotation_status),
            Op::RotateKeyOnDemand => run!(rotate_key_on_demand),
            Op::ListKeyRotations => run!(list_key_rotations),
            Op::ScheduleKeyDeletion => run!(schedule_key_deletion),
            Op::CancelKeyDeletion => run!(cancel_key_deletion),
            Op::TagResource => run!(tag_resource),
            Op::UntagResource => run!(untag_resource),
            Op::ListResourceTags => run!(list_resource_tags),
            Op::GetKeyPolicy => run!(get_key_policy),
            Op::PutKeyPolicy => run!(put_key_policy),
        }
    }

    /// Resolves any `KeyId` form to the key ARN, for authorizing a request before it runs.
    pub async fn resolve_key_arn(&self, account: &str, key_id: &str) -> Result<String, KmsError> {
        Ok(self.find(account, key_id, AliasUse::Allowed).await?.arn)
    }

    /// Checks that the key `key_arn` names can be used for cryptography now, failing with the
    /// error KMS would answer a Decrypt with: `DisabledException`, `KMSInvalidStateException`
    /// (pending deletion) or `NotFoundException` (deleted).
    pub async fn check_usable(&self, key_arn: &str) -> Result<(), KmsError> {
        // A full ARN names its own account; the caller account only resolves bare ids.
        let record = self.find("", key_arn, AliasUse::Allowed).await?;
        ensure_usable(&record)
    }

    /// Returns the ARN of the key a ciphertext blob was encrypted under (Decrypt without KeyId).
    pub async fn ciphertext_key_arn(&self, ciphertext: &[u8]) -> Result<String, KmsError> {
        let parsed = blob::parse(ciphertext).map_err(|_| invalid_ciphertext())?;
        let key_id = parsed.key_id.hyphenated().to_string();
        let record = self.inner.repo.get_key(&key_id).await?;
        Ok(record.ok_or_else(invalid_ciphertext)?.arn)
    }

    /// Creates a workspace data key under `key_id` bound to `context`; returns the plaintext key
    /// and the blob to store next to the data (a GenerateDataKey ciphertext).
    pub async fn create_data_key(
        &self,
        account: &str,
        key_id: &str,
        context: &EncryptionContext,
    ) -> Result<(DataKey, Vec<u8>), KmsError> {
        let record = self.find(account, key_id, AliasUse::Allowed).await?;
        ensure_usable(&record)?;
        let bytes = Zeroizing::new(crypto::random::<KEY_LEN>().map_err(crypto_failure)?);
        let (blob, _) = self.encrypt_with(&record, context, bytes.as_slice())?;
        Ok((DataKey::from_bytes(bytes), blob))
    }

    /// Unwraps a data key made by [`KmsService::create_data_key`] with the same context.
    ///
    /// Fails with `DisabledException` while the key is disabled and `KMSInvalidStateException`
    /// while it is pending deletion, and works again once the key is re-enabled; after deletion
    /// it fails for good with `InvalidCiphertextException`. Callers that cache the [`DataKey`]
    /// should keep it only briefly (e.g. a minute) so that disabling the key takes effect.
    pub async fn unwrap_data_key(
        &self,
        blob: &[u8],
        context: &EncryptionContext,
    ) -> Result<DataKey, KmsError> {
        let (_, _, plaintext) = self.decrypt_blob(None, blob, context).await?;
        let bytes: [u8; KEY_LEN] = plaintext
            .as_slice()
            .try_into()
            .map_err(|_| invalid_ciphertext())?;
        Ok(DataKey::from_bytes(Zeroizing::new(bytes)))
    }

    /// Returns the account's AWS managed key for workspaces (`alias/aws/prometheus`), creating
    /// it on first use.
    pub async fn default_workspace_key(&self, account: &str) -> Result<KeyMetadata, KmsError> {
        let repo = &self.inner.repo;
        if let Some(alias) = repo.get_alias(account, WORKSPACE_DEFAULT_ALIAS).await?
            && let Some(record) = repo.get_key(&alias.target_key_id).await?
        {
            return Ok(self.metadata(&record));
        }
        let now = self.now();
        let key_id = Uuid::new_v4().hyphenated().to_string();
        let arn = self.key_arn(account, &key_id);
        let config = &self.inner.config;
        let policy = managed_key_policy(&config.partition, account, &config.region);
        let mut record = self.new_record(account, key_id, arn, KeyManager::Aws, policy, now)?;
        record.description =
            "Default key that protects my Prometheus workspaces when no other key is defined"
                .to_owned();
        record.rotation = Rotation {
            enabled: true,
            period_days: DEFAULT_ROTATION_DAYS,
            next_rotation: Some(now + Duration::days(DEFAULT_ROTATION_DAYS.into())),
            on_demand_count: 0,
        };
        repo.put_key(&record, None).await?;
        let alias = AliasRecord {
            account_id: account.to_owned(),
            alias_name: WORKSPACE_DEFAULT_ALIAS.to_owned(),
            target_key_id: record.key_id.clone(),
            created_at: now,
            updated_at: now,
        };
        match repo.create_alias(&alias).await {
            Ok(()) => {
                tracing::info!(account, key_id = %record.key_id,
                    "created aws managed workspace key {} for account {account}", record.key_id);
                Ok(self.metadata(&record))
            }
            // Another request created it first: drop ours and use theirs.
            Err(RepositoryError::Conflict(_)) => {
                repo.delete_key(&record.key_id, record.revision).await?;
                let alias = repo
                    .get_alias(account, WORKSPACE_DEFAULT_ALIAS)
                    .await?
                    .ok_or_else(|| KmsError::Internal("managed key alias vanished".to_owned()))?;
                let record = repo
                    .get_key(&alias.target_key_id)
                    .await?
                    .ok_or_else(|| KmsError::Internal("managed key vanished".to_owned()))?;
                Ok(self.metadata(&record))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Applies what is due at the clock's current time: automatic rotations of enabled keys
    /// and destruction of keys whose deletion waiting period has ended. Call it periodically.
    pub async fn tick(&self) -> Result<TickSummary, KmsError> {
        let now = self.now();
        let mut summary = TickSummary::default();
        for key_id in self.inner.repo.due_keys(now, TICK_BATCH).await? {
            match self.apply_due(&key_id, now).await {
                Ok(Some(Due::Rotated)) => summary.rotated += 1,
                Ok(Some(Due::Deleted(arn))) => {
                    summary.deleted += 1;
                    summary.deleted_arns.push(arn);
                }
                Ok(None) => {}
                Err(err) => {
                    summary.failed += 1;
                    tracing::error!(key_id, error = %err, "kms tick failed for key {key_id}: {err}");
                }
            }
        }
        Ok(summary)
    }

    async fn apply_due(&self, key_id: &str, now: OffsetDateTime) -> Result<Option<Due>, KmsError> {
        let Some(record) = self.inner.repo.get_key(key_id).await? else {
            return Ok(None);
        };
        match record.lifecycle {
            Lifecycle::PendingDeletion { deletion_date, .. } if deletion_date <= now => {
                match self.inner.repo.delete_key(key_id, record.revision).await {
                    Ok(()) => {}
                    // Changed since we read it (e.g. deletion cancelled): the next tick decides.
                    Err(RepositoryError::Conflict(_)) => return Ok(None),
                    Err(err) => return Err(err.into()),
                }
                tracing::info!(
                    key_id,
                    "deleted kms key {key_id} and destroyed its key material"
                );
                Ok(Some(Due::Deleted(record.arn)))
            }
            Lifecycle::Enabled if rotation_due(&record.rotation, now) => {
                self.modify(record, |r, now| {
                    if r.lifecycle == Lifecycle::Enabled && rotation_due(&r.rotation, now) {
                        self.rotate_automatically(r, now)?;
                    }
                    Ok(())
                })
                .await?;
                tracing::info!(key_id, "rotated kms key {key_id} automatically");
                Ok(Some(Due::Rotated))
            }
            _ => Ok(None),
        }
    }

    fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    fn key_arn(&self, account: &str, key_id: &str) -> String {
        let config = &self.inner.config;
        ids::key_arn(&config.partition, &config.region, account, key_id)
    }

    fn alias_arn(&self, account: &str, alias_name: &str) -> String {
        let config = &self.inner.config;
        ids::alias_arn(&config.partition, &config.region, account, alias_name)
    }

    /// Looks a key up by any accepted `KeyId` form.
    async fn find(
        &self,
        account: &str,
        key_id: &str,
        alias_use: AliasUse,
    ) -> Result<KeyRecord, KmsError> {
        let config = &self.inner.config;
        let reference = ids::parse_key_ref(
            key_id,
            account,
            &config.partition,
            &config.region,
            alias_use,
        )?;
        let (owner, id) = match reference {
            KeyRef::Key { account, key_id } => (account, key_id.hyphenated().to_string()),
            KeyRef::Alias {
                account,
                alias_name,
            } => {
                let alias = self.inner.repo.get_alias(&account, &alias_name).await?;
                let alias = alias.ok_or_else(|| {
                    KmsError::NotFound(format!(
                        "Alias {} is not found.",
                        self.alias_arn(&account, &alias_name)
                    ))
                })?;
                (account, alias.target_key_id)
            }
        };
        let not_found = || ids::not_found_key(&self.key_arn(&owner, &id));
        if alias_use == AliasUse::Refused && owner != account {
            return Err(not_found());
        }
        match self.inner.repo.get_key(&id).await? {
            Some(record) if record.account_id == owner => Ok(record),
            _ => Err(not_found()),
        }
    }

    /// Applies `change` to the stored key with optimistic concurrency, retrying on conflicts.
    async fn modify<T>(
        &self,
        mut current: KeyRecord,
        mut change: impl FnMut(&mut KeyRecord, OffsetDateTime) -> Result<T, KmsError>,
    ) -> Result<(KeyRecord, T), KmsError> {
        for _ in 0..MAX_UPDATE_ATTEMPTS {
            let mut next = current.clone();
            let out = change(&mut next, self.now())?;
            next.revision = current.revision + 1;
            match self.inner.repo.put_key(&next, Some(current.revision)).await {
                Ok(()) => return Ok((next, out)),
                Err(RepositoryError::Conflict(_)) => {
                    current = self
                        .inner
                        .repo
                        .get_key(&current.key_id)
                        .await?
                        .ok_or_else(|| ids::not_found_key(&current.arn))?;
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(KmsError::Internal(format!(
            "key {} kept changing concurrently",
            current.key_id
        )))
    }

    fn new_record(
        &self,
        account: &str,
        key_id: String,
        arn: String,
        manager: KeyManager,
        policy: String,
        now: OffsetDateTime,
    ) -> Result<KeyRecord, KmsError> {
        let first = self.new_version(&arn, 1, MaterialOrigin::Creation, now)?;
        Ok(KeyRecord {
            key_id,
            account_id: account.to_owned(),
            arn,
            revision: 1,
            created_at: now,
            description: String::new(),
            manager,
            lifecycle: Lifecycle::Enabled,
            policy,
            tags: Vec::new(),
            rotation: Rotation {
                enabled: false,
                period_days: DEFAULT_ROTATION_DAYS,
                next_rotation: None,
                on_demand_count: 0,
            },
            versions: vec![first],
        })
    }

    /// Generates fresh 256-bit material and seals it under the root key.
    fn new_version(
        &self,
        arn: &str,
        version: u32,
        origin: MaterialOrigin,
        now: OffsetDateTime,
    ) -> Result<MaterialVersion, KmsError> {
        let material = Zeroizing::new(crypto::random::<KEY_LEN>().map_err(crypto_failure)?);
        let wrapped = self
            .inner
            .root
            .wrap(&material_aad(arn, version), material.as_slice())
            .map_err(crypto_failure)?;
        Ok(MaterialVersion {
            version,
            material_id: hex(&crypto::random::<32>().map_err(crypto_failure)?),
            created_at: now,
            origin,
            wrapped,
        })
    }

    /// Adds a material version; later encryptions use it, older ones keep decrypting.
    fn add_version(
        &self,
        record: &mut KeyRecord,
        origin: MaterialOrigin,
        now: OffsetDateTime,
    ) -> Result<(), KmsError> {
        let version = record.current().map_or(1, |v| v.version + 1);
        let added = self.new_version(&record.arn, version, origin, now)?;
        record.versions.push(added);
        Ok(())
    }

    fn rotate_automatically(
        &self,
        record: &mut KeyRecord,
        now: OffsetDateTime,
    ) -> Result<(), KmsError> {
        self.add_version(record, MaterialOrigin::Automatic, now)?;
        record.rotation.next_rotation =
            Some(now + Duration::days(record.rotation.period_days.into()));
        Ok(())
    }

    /// Unwraps one material version of a key.
    fn material(
        &self,
        record: &KeyRecord,
        version: &MaterialVersion,
    ) -> Result<Zeroizing<[u8; KEY_LEN]>, KmsError> {
        let opened = self
            .inner
            .root
            .unwrap(
                &material_aad(&record.arn, version.version),
                &version.wrapped,
            )
            .map_err(|_| {
                tracing::error!(key_id = %record.key_id, version = version.version,
                    "key material of {} version {} does not open with the root key; \
                     is the right root key configured?", record.key_id, version.version);
                KmsError::Internal(format!("key material of {} does not unwrap", record.key_id))
            })?;
        let bytes: [u8; KEY_LEN] = opened
            .as_slice()
            .try_into()
            .map_err(|_| KmsError::Internal("key material has the wrong length".to_owned()))?;
        Ok(Zeroizing::new(bytes))
    }

    /// Encrypts under the key's current material; returns the blob and the material id.
    fn encrypt_with(
        &self,
        record: &KeyRecord,
        context: &EncryptionContext,
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, String), KmsError> {
        let current = record
            .current()
            .ok_or_else(|| KmsError::Internal(format!("key {} has no material", record.key_id)))?;
        let material = self.material(record, current)?;
        let key_uuid = Uuid::try_parse(&record.key_id)
            .map_err(|_| KmsError::Internal(format!("key id {} is not a uuid", record.key_id)))?;
        let blob = blob::seal(&material, key_uuid, current.version, context, plaintext)
            .map_err(crypto_failure)?;
        Ok((blob, current.material_id.clone()))
    }

    /// Decrypts a blob; `expected` is the request's KeyId, which must name the blob's key.
    async fn decrypt_blob(
        &self,
        expected: Option<(&str, &str)>,
        ciphertext: &[u8],
        context: &EncryptionContext,
    ) -> Result<(KeyRecord, String, Zeroizing<Vec<u8>>), KmsError> {
        if ciphertext.is_empty() || ciphertext.len() > 6144 {
            return Err(KmsError::Validation(
                "1 validation error detected: Value at 'ciphertextBlob' failed to satisfy \
                 constraint: Member must have length between 1 and 6144"
                    .to_owned(),
            ));
        }
        let parsed = blob::parse(ciphertext).map_err(|_| invalid_ciphertext())?;
        let blob_key_id = parsed.key_id.hyphenated().to_string();
        if let Some((account, key_id)) = expected {
            let named = self.find(account, key_id, AliasUse::Allowed).await?;
            if named.key_id != blob_key_id {
                return Err(KmsError::IncorrectKey(
                    "The key ID in the request does not identify the KMS key that encrypted \
                     the ciphertext."
                        .to_owned(),
                ));
            }
        }
        let record = self
            .inner
            .repo
            .get_key(&blob_key_id)
            .await?
            .ok_or_else(invalid_ciphertext)?;
        ensure_usable(&record)?;
        let version = record
            .version(parsed.version)
            .ok_or_else(invalid_ciphertext)?;
        let material = self.material(&record, version)?;
        let plaintext = parsed
            .open(&material, context)
            .map_err(|_| invalid_ciphertext())?;
        let material_id = version.material_id.clone();
        Ok((record, material_id, plaintext))
    }

    /// Builds the DescribeKey view of a record.
    fn metadata(&self, record: &KeyRecord) -> KeyMetadata {
        let (state, deletion_date, window) = match record.lifecycle {
            Lifecycle::Enabled => (KeyState::Enabled, None, None),
            Lifecycle::Disabled => (KeyState::Disabled, None, None),
            Lifecycle::PendingDeletion {
                deletion_date,
                window_days,
            } => (
                KeyState::PendingDeletion,
                Some(deletion_date),
                Some(window_days),
            ),
        };
        KeyMetadata {
            aws_account_id: record.account_id.clone(),
            key_id: record.key_id.clone(),
            arn: record.arn.clone(),
            creation_date: record.created_at,
            enabled: state == KeyState::Enabled,
            description: record.description.clone(),
            key_usage: "ENCRYPT_DECRYPT".to_owned(),
            key_state: state,
            deletion_date,
            origin: "AWS_KMS".to_owned(),
            key_manager: match record.manager {
                KeyManager::Aws => "AWS",
                KeyManager::Customer => "CUSTOMER",
            }
            .to_owned(),
            customer_master_key_spec: SYMMETRIC_DEFAULT.to_owned(),
            key_spec: SYMMETRIC_DEFAULT.to_owned(),
            encryption_algorithms: vec![SYMMETRIC_DEFAULT.to_owned()],
            multi_region: false,
            pending_deletion_window_in_days: window,
            current_key_material_id: record.current().map(|v| v.material_id.clone()),
        }
    }
}

enum Due {
    Rotated,
    Deleted(String),
}

fn rotation_due(rotation: &Rotation, now: OffsetDateTime) -> bool {
    rotation.enabled && rotation.next_rotation.is_some_and(|due| due <= now)
}

/// The AAD sealing a material version: it can only be unwrapped as that version of that key.
fn material_aad(arn: &str, version: u32) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_MATERIAL.len() + arn.len() + 5);
    aad.extend_from_slice(AAD_MATERIAL);
    aad.extend_from_slice(arn.as_bytes());
    aad.push(0);
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

/// Refuses use of keys that are not enabled (cryptography, rotation), with the exception KMS
/// uses.
fn ensure_usable(record: &KeyRecord) -> Result<(), KmsError> {
    match record.lifecycle {
        Lifecycle::Enabled => Ok(()),
        Lifecycle::Disabled => Err(KmsError::Disabled(format!("{} is disabled.", record.arn))),
        Lifecycle::PendingDeletion { .. } => Err(pending_deletion(record)),
    }
}

/// Refuses changes to keys that are pending deletion.
fn ensure_not_pending_deletion(record: &KeyRecord) -> Result<(), KmsError> {
    match record.lifecycle {
        Lifecycle::PendingDeletion { .. } => Err(pending_deletion(record)),
        Lifecycle::Enabled | Lifecycle::Disabled => Ok(()),
    }
}

fn pending_deletion(record: &KeyRecord) -> KmsError {
    KmsError::InvalidState(format!("{} is pending deletion.", record.arn))
}

/// The key policy of an AWS managed key: use through the service by the account's principals,
/// read-only metadata access for the account.
fn managed_key_policy(partition: &str, account: &str, region: &str) -> String {
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Id": "auto-prometheus-1",
        "Statement": [
            {
                "Sid": "Allow access through Amazon Managed Service for Prometheus for all principals in the account that are authorized to use it",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {
                    "kms:CallerAccount": account,
                    "kms:ViaService": format!("aps.{region}.amazonaws.com"),
                }},
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:{partition}:iam::{account}:root")},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                "Resource": "*",
            },
        ],
    });
    format!("{policy:#}")
}
