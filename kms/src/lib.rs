//! Keys and envelope encryption: root key, KMS key material, data keys, rotation and
//! crypto-shredding.
//!
//! The key hierarchy has three levels:
//!
//! 1. The [`RootKey`] (256 bits) is the one secret kept outside the databases: a file created on
//!    first start with mode 0600 (refused if group or others have any permission), or a base64
//!    value passed in the environment, never both.
//! 2. KMS keys ([`KmsService`]) own versions of 256-bit material, each sealed by the root key
//!    with AES-256-GCM under the key ARN and version as AAD. Rotation adds a version; old
//!    versions keep decrypting. When a key's deletion waiting period ends, [`KmsService::tick`]
//!    deletes its record, and every ciphertext under it becomes unrecoverable.
//! 3. Workspace data keys ([`DataKey`]) come from [`KmsService::create_data_key`], are stored
//!    only as a KMS ciphertext blob bound to the workspace ARN, and seal the workspace's data
//!    with [`DataKey::seal`] / [`DataKey::open`].
//!
//! [`KmsService::handle`] answers the KMS JSON protocol (`X-Amz-Target: TrentService.*`) for the
//! HTTP layer; the typed methods (`create_key`, `encrypt`, …) do the same for callers in process.
//! Keys and aliases live in a [`KeyRepository`]: [`FileKeyRepository`] for the embedded default,
//! [`MemoryKeyRepository`] for tests and ephemeral use, database backends elsewhere.
//!
//! # Example
//!
//! ```
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use ampd_kms::{
//!     EncryptionContext, KmsConfig, KmsService, MemoryKeyRepository, RootKey, SystemClock,
//!     WORKSPACE_CONTEXT_KEY,
//! };
//!
//! let kms = KmsService::new(
//!     KmsConfig::default(),
//!     RootKey::generate()?,
//!     Arc::new(MemoryKeyRepository::new()),
//!     Arc::new(SystemClock),
//! );
//! let key = kms.default_workspace_key("111122223333").await?;
//! let context = EncryptionContext::from([(
//!     WORKSPACE_CONTEXT_KEY.to_owned(),
//!     "arn:aws:aps:us-east-1:111122223333:workspace/ws-1".to_owned(),
//! )]);
//! let (data_key, wrapped) = kms.create_data_key("111122223333", &key.arn, &context).await?;
//! let sealed = data_key.seal(b"wal/00000001", b"samples")?;
//! let again = kms.unwrap_data_key(&wrapped, &context).await?;
//! assert_eq!(again.open(b"wal/00000001", &sealed)?, b"samples");
//! # Ok(())
//! # }
//! ```
//!
//! # Backing up and restoring
//!
//! Everything needed to read the data back is: the root key, and the key repository (for
//! [`FileKeyRepository`], the `keys/` and `aliases/` folders; for a database backend, its key
//! tables). The repository holds key material only wrapped by the root key, so a repository
//! backup alone reveals nothing, and a root key alone decrypts nothing.
//!
//! - Back up the root key once, separately from the data backups (e.g. in a password manager
//!   or a secrets vault): copy the base64 line of the root key file, or the environment value.
//! - Back up the repository with the rest of the data folder or database. A file-backed
//!   repository may be copied while ampd runs: every record is replaced atomically.
//! - To restore, put the root key back (file with mode 0600, or the environment variable) and
//!   the repository in place, then start ampd. A wrong root key shows as
//!   `KMSInternalException` on every cryptographic call and an error log naming the key.
//! - Losing the root key makes all data unrecoverable. Deleted keys are not in backups taken
//!   after the deletion, and restoring an older backup brings a deleted key back: keep that in
//!   mind when crypto-shredding must be final.
//!
//! # Modules
//!
//! All modules are private; this page lists the public API.

mod blob;
mod clock;
mod crypto;
mod data_key;
mod error;
mod ids;
mod model;
mod operation;
mod record;
mod repository;
mod root_key;
mod service;

pub use blob::EncryptionContext;
#[cfg(any(test, feature = "testsuite"))]
pub use clock::TestClock;
pub use clock::{Clock, SystemClock};
pub use data_key::{DataKey, SealError};
pub use error::KmsError;
pub use model::*;
pub use operation::{Operation, TARGET_PREFIX};
pub use record::{AliasRecord, KeyManager, KeyRecord};
#[cfg(any(test, feature = "testsuite"))]
pub use repository::testsuite;
pub use repository::{
    FileKeyRepository, KeyRepository, MemoryKeyRepository, Page, PageRequest, RepositoryError,
};
pub use root_key::{RootKey, RootKeyError};
pub use service::{
    KmsConfig, KmsService, TickSummary, WORKSPACE_CONTEXT_KEY, WORKSPACE_DEFAULT_ALIAS,
};
