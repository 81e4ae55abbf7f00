//! The crate's error type.

use std::io;
use std::path::PathBuf;

/// Errors raised by the audit trail itself (lookup requests have their own [`crate::LookupError`]).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A file of the trail could not be read or written.
    #[error("audit trail i/o on {path}: {source}")]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A record, digest or state file could not be encoded or decoded.
    #[error("audit trail json: {0}")]
    Json(#[from] serde_json::Error),
    /// The lookup index failed.
    #[error("audit index: {0}")]
    Index(#[from] sqlx::Error),
    /// The signing key could not be created, loaded or used.
    #[error("audit signing key: {0}")]
    Key(String),
    /// A file of the trail has content this crate did not write.
    #[error("corrupt audit file {path}: {reason}")]
    Corrupt {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An event record lacks a required field.
    #[error("invalid audit event: {0}")]
    InvalidEvent(String),
    /// The configuration is unusable.
    #[error("invalid audit configuration: {0}")]
    Config(String),
    /// Another process has the trail open.
    #[error("audit journal {0} is locked by another process")]
    Locked(PathBuf),
    /// An earlier write or fsync failed; the journal refuses writes until the trail is reopened,
    /// because after a failed fsync the state of the page cache is unknown.
    #[error("audit journal is unusable after an earlier write failure")]
    Poisoned,
    /// A background task or thread of the trail failed.
    #[error("audit background task failed: {0}")]
    Background(String),
    /// The trail's writer has stopped.
    #[error("audit trail is closed")]
    Closed,
}

impl AuditError {
    /// Returns a closure that wraps an [`io::Error`] with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

/// Result alias of the crate.
pub type AuditResult<T> = Result<T, AuditError>;
