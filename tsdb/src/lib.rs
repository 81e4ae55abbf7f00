//! Embedded time-series storage: WAL, head, compressed chunks, blocks, postings index, retention.

mod chunk;
mod enc;
mod error;
mod model;
mod seal;
mod wal;

pub use error::{Error, Result, SealError};
pub use model::*;
pub use seal::{IdentitySealer, Sealer};
pub use wal::{FsyncPolicy, WalOptions, WalRepair};
