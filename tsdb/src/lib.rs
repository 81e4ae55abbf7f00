//! Embedded time-series storage: WAL, head, compressed chunks, blocks, postings index, retention.

mod block;
mod chunk;
mod db;
mod enc;
mod engine;
mod error;
mod head;
mod matcher;
mod model;
mod postings;
mod query;
mod seal;
mod wal;

pub use block::{BlockCompression, BlockMeta, BlockStats};
pub use db::{AppendOutcome, Appender, Db, DbStats, MaintenanceReport, Options};
pub use engine::{Engine, SealerProvider};
pub use error::{Error, Result, SealError};
pub use matcher::{MatchType, Matcher};
pub use model::*;
pub use query::{QueryStats, SampleIter, Series, SeriesSet};
pub use seal::{IdentitySealer, Sealer};
pub use wal::{FsyncPolicy, WalOptions, WalRepair};
