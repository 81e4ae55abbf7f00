//! The crate's error type.

use std::io;
use std::path::PathBuf;

/// Errors from a sealer; `open` must fail this way rather than return wrong plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The ciphertext or its associated data failed authentication.
    #[error("sealed data failed its integrity check")]
    Integrity,
    /// The key needed to open or seal is not available (e.g. destroyed by crypto-shredding).
    #[error("sealing key unavailable: {0}")]
    KeyUnavailable(String),
    /// The cryptographic primitive failed (e.g. the system random source).
    #[error("sealing failed: {0}")]
    Failed(String),
}

/// Errors of the storage engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A filesystem operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Stored data failed a checksum or could not be decoded.
    #[error("corrupt data in {what}: {detail}")]
    Corrupt {
        /// Which structure is corrupt.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// A sealed record or section could not be opened.
    #[error("cannot open sealed {what}: {source}")]
    Sealing {
        /// Which structure was sealed.
        what: &'static str,
        /// The sealer's error.
        #[source]
        source: SealError,
    },
    /// A label matcher is invalid (e.g. its regular expression does not compile).
    #[error("invalid matcher: {0}")]
    InvalidMatcher(String),
    /// A tenant id is not usable as a directory name.
    #[error("invalid tenant id {0:?}")]
    InvalidTenant(String),
    /// A series label set is invalid.
    #[error("invalid series: {0}")]
    InvalidSeries(String),
    /// The options are inconsistent.
    #[error("invalid options: {0}")]
    InvalidOptions(String),
    /// A write batch does not fit in one WAL record.
    #[error("write batch of {0} bytes exceeds the WAL record limit")]
    BatchTooLarge(usize),
    /// The database has been deleted or closed.
    #[error("database closed")]
    Closed,
}

/// Result alias of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { op, path, source }
    }

    pub(crate) fn corrupt(what: &'static str, detail: impl Into<String>) -> Error {
        Error::Corrupt {
            what,
            detail: detail.into(),
        }
    }
}
