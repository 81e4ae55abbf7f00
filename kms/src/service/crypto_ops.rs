//! Cryptographic operations: Encrypt, Decrypt, ReEncrypt and data key generation.

use super::{KmsService, SYMMETRIC_DEFAULT, crypto_failure, ensure_usable};
use crate::crypto;
use crate::error::KmsError;
use crate::ids::AliasUse;
use crate::model::{
    DecryptRequest, DecryptResponse, EncryptRequest, EncryptResponse, GenerateDataKeyRequest,
    GenerateDataKeyResponse, ReEncryptRequest, ReEncryptResponse,
};

const MAX_ENCRYPT_PLAINTEXT: usize = 4096;

impl KmsService {
    /// Encrypt: up to 4 KiB under the key's current material, bound to the encryption context.
    pub async fn encrypt(
        &self,
        account: &str,
        req: EncryptRequest,
    ) -> Result<EncryptResponse, KmsError> {
        check_algorithm(req.encryption_algorithm.as_deref())?;
        if req.plaintext.is_empty() || req.plaintext.len() > MAX_ENCRYPT_PLAINTEXT {
            return Err(KmsError::Validation(
                "1 validation error detected: Value at 'plaintext' failed to satisfy \
                 constraint: Member must have length between 1 and 4096"
                    .to_owned(),
            ));
        }
        let record = self.find(account, &req.key_id, AliasUse::Allowed).await?;
        ensure_usable(&record)?;
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        let context = req.encryption_context.unwrap_or_default();
        let (blob, _) = self.encrypt_with(&record, &context, &req.plaintext)?;
        Ok(EncryptResponse {
            ciphertext_blob: blob,
            key_id: record.arn,
            encryption_algorithm: SYMMETRIC_DEFAULT.to_owned(),
        })
    }

    /// Decrypt: the blob names its key and material version; `KeyId`, if given, must match.
    pub async fn decrypt(
        &self,
        account: &str,
        req: DecryptRequest,
    ) -> Result<DecryptResponse, KmsError> {
        check_algorithm(req.encryption_algorithm.as_deref())?;
        check_no_recipient(req.recipient.as_ref())?;
        let context = req.encryption_context.unwrap_or_default();
        let expected = req.key_id.as_deref().map(|key_id| (account, key_id));
        let (record, material_id, plaintext) = self
            .decrypt_blob(expected, &req.ciphertext_blob, &context)
            .await?;
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        Ok(DecryptResponse {
            key_id: record.arn,
            plaintext: plaintext.to_vec(),
            encryption_algorithm: SYMMETRIC_DEFAULT.to_owned(),
            key_material_id: material_id,
        })
    }

    /// ReEncrypt: decrypts and encrypts again, without the plaintext leaving the service.
    pub async fn re_encrypt(
        &self,
        account: &str,
        req: ReEncryptRequest,
    ) -> Result<ReEncryptResponse, KmsError> {
        check_algorithm(req.source_encryption_algorithm.as_deref())?;
        check_algorithm(req.destination_encryption_algorithm.as_deref())?;
        let source_context = req.source_encryption_context.unwrap_or_default();
        let expected = req.source_key_id.as_deref().map(|key_id| (account, key_id));
        let (source, source_material_id, plaintext) = self
            .decrypt_blob(expected, &req.ciphertext_blob, &source_context)
            .await?;
        let destination = self
            .find(account, &req.destination_key_id, AliasUse::Allowed)
            .await?;
        ensure_usable(&destination)?;
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        let destination_context = req.destination_encryption_context.unwrap_or_default();
        let (blob, destination_material_id) =
            self.encrypt_with(&destination, &destination_context, &plaintext)?;
        Ok(ReEncryptResponse {
            ciphertext_blob: blob,
            source_key_id: source.arn,
            key_id: destination.arn,
            source_encryption_algorithm: SYMMETRIC_DEFAULT.to_owned(),
            destination_encryption_algorithm: SYMMETRIC_DEFAULT.to_owned(),
            source_key_material_id: source_material_id,
            destination_key_material_id: destination_material_id,
        })
    }

    /// GenerateDataKey: a random data key, returned in plaintext and encrypted.
    pub async fn generate_data_key(
        &self,
        account: &str,
        req: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        self.generate(account, req, true).await
    }

    /// GenerateDataKeyWithoutPlaintext: a random data key, returned encrypted only.
    pub async fn generate_data_key_without_plaintext(
        &self,
        account: &str,
        req: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        self.generate(account, req, false).await
    }

    async fn generate(
        &self,
        account: &str,
        req: GenerateDataKeyRequest,
        with_plaintext: bool,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        check_no_recipient(req.recipient.as_ref())?;
        let len = data_key_len(req.key_spec.as_deref(), req.number_of_bytes)?;
        let record = self.find(account, &req.key_id, AliasUse::Allowed).await?;
        ensure_usable(&record)?;
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        let data_key = crypto::random_vec(len).map_err(crypto_failure)?;
        let context = req.encryption_context.unwrap_or_default();
        let (blob, material_id) = self.encrypt_with(&record, &context, &data_key)?;
        Ok(GenerateDataKeyResponse {
            ciphertext_blob: blob,
            plaintext: with_plaintext.then(|| data_key.to_vec()),
            key_id: record.arn,
            key_material_id: material_id,
        })
    }
}

fn check_algorithm(algorithm: Option<&str>) -> Result<(), KmsError> {
    match algorithm {
        None | Some(SYMMETRIC_DEFAULT) => Ok(()),
        Some(other) => Err(KmsError::InvalidKeyUsage(format!(
            "The encryption algorithm {other} is not compatible with a symmetric key."
        ))),
    }
}

fn check_no_recipient(recipient: Option<&serde_json::Value>) -> Result<(), KmsError> {
    match recipient {
        None => Ok(()),
        Some(_) => Err(KmsError::UnsupportedOperation(
            "Recipient (Nitro Enclaves attestation) is not supported.".to_owned(),
        )),
    }
}

/// Returns the data key length from exactly one of `KeySpec` and `NumberOfBytes`.
fn data_key_len(key_spec: Option<&str>, number_of_bytes: Option<u32>) -> Result<usize, KmsError> {
    match (key_spec, number_of_bytes) {
        (Some(_), Some(_)) | (None, None) => Err(KmsError::Validation(
            "Please specify either number of bytes or key spec.".to_owned(),
        )),
        (Some("AES_256"), None) => Ok(32),
        (Some("AES_128"), None) => Ok(16),
        (Some(other), None) => Err(KmsError::Validation(format!(
            "1 validation error detected: Value '{other}' at 'keySpec' failed to satisfy \
             constraint: Member must satisfy enum value set: [AES_256, AES_128]"
        ))),
        (None, Some(n)) if (1..=1024).contains(&n) => {
            usize::try_from(n).map_err(|_| KmsError::Internal("length overflow".to_owned()))
        }
        (None, Some(n)) => Err(KmsError::Validation(format!(
            "1 validation error detected: Value '{n}' at 'numberOfBytes' failed to satisfy \
             constraint: Member must have value between 1 and 1024"
        ))),
    }
}
