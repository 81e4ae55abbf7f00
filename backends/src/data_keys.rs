//! Where workspace data keys are kept: wrapped by KMS, next to the workspace they belong to.

use std::fmt;

use async_trait::async_trait;

use crate::error::StoreResult;
use crate::model::Timestamp;

/// A workspace's data key as stored: only the KMS ciphertext blob, never the plaintext.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedDataKey {
    /// The workspace the key seals.
    pub workspace_id: String,
    /// ARN of the KMS key that wraps it.
    pub kms_key_arn: String,
    /// The KMS ciphertext blob (GenerateDataKey output bound to the workspace ARN).
    pub wrapped: Vec<u8>,
    /// When it was created.
    pub created_at: Timestamp,
}

// The blob is not secret, but it is noise in logs; show who owns it and under which key.
impl fmt::Debug for WrappedDataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedDataKey")
            .field("workspace_id", &self.workspace_id)
            .field("kms_key_arn", &self.kms_key_arn)
            .finish_non_exhaustive()
    }
}

/// Storage of wrapped workspace data keys. Deleting the workspace (moving it to `DELETING`)
/// deletes its data key in the same transaction.
#[async_trait]
pub trait DataKeyStore: fmt::Debug + Send + Sync + 'static {
    /// Stores `key` unless the workspace has a data key already; returns the one stored.
    async fn put_data_key_if_absent(&self, key: WrappedDataKey) -> StoreResult<WrappedDataKey>;
    /// Returns the workspace's data key, if it has one.
    async fn data_key(&self, workspace_id: &str) -> StoreResult<Option<WrappedDataKey>>;
    /// Destroys the workspace's data key; returns whether there was one.
    async fn delete_data_key(&self, workspace_id: &str) -> StoreResult<bool>;
    /// Returns every stored data key, oldest first.
    async fn data_keys(&self) -> StoreResult<Vec<WrappedDataKey>>;
}
