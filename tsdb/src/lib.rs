//! Embedded time-series storage: WAL, head, compressed chunks, blocks, postings index, retention.
//!
//! An [`Engine`] holds one [`Db`] per tenant, each in its own directory:
//!
//! ```text
//! <root>/<tenant>/wal/00000001 …          sealed, checksummed records; checkpoint.NNNNNNNN/
//! <root>/<tenant>/blocks/<id>/meta.json   time range, counts, compaction lineage
//!                            /chunks      one sealed section per series
//!                            /index       symbols, series, postings (sealed sections + footer)
//!                            /tombstones  deleted ranges (sealed)
//! ```
//!
//! A commit from an [`Appender`] is validated as a whole against the head (out of order, too
//! old, out of bounds, duplicate), logged to the WAL as one record, applied to the in-memory
//! head and made durable per the [`FsyncPolicy`]. [`Db::maintain`] cuts 2h blocks from the
//! head, checkpoints the WAL, compacts blocks into larger ranges and applies retention.
//! [`Db::select`] resolves [`Matcher`]s through the postings index and returns [`Series`] whose
//! iterators read only chunks overlapping the range, across head and blocks.
//!
//! Every WAL record payload and every block file section goes through a [`Sealer`], so the
//! key management layer can encrypt with a tenant key; [`IdentitySealer`] stores plaintext.
//!
//! ```
//! # fn main() -> ampd_tsdb::Result<()> {
//! use std::sync::Arc;
//! use ampd_tsdb::{Engine, IdentitySealer, Labels, MatchType, Matcher, Options, Value};
//!
//! # let dir = tempfile::tempdir().expect("temporary directory");
//! let engine = Engine::new(dir.path(), Options::default(), Arc::new(IdentitySealer))?;
//! let db = engine.tenant("ws-example")?;
//! let up = Labels::from_pairs([("__name__", "up"), ("job", "node")]);
//! let mut app = db.appender();
//! app.append(&up, 1_000, 1.0)?;
//! assert_eq!(app.commit()?.samples, 1);
//!
//! let set = db.select(&[Matcher::new(MatchType::Equal, "job", "node")?], 0, 2_000)?;
//! let samples: Vec<(i64, Value)> = set.series[0].samples().collect::<Result<_, _>>()?;
//! assert_eq!(samples, vec![(1_000, Value::Float(1.0))]);
//! # Ok(())
//! # }
//! ```

mod block;
mod chunk;
mod db;
mod enc;
mod engine;
mod error;
mod head;
mod limits;
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
pub use limits::{LabelSetLimit, LimitHit, SeriesLimits};
pub use matcher::{MatchType, Matcher};
pub use model::*;
pub use query::{QueryStats, SampleIter, Series, SeriesSet};
pub use seal::{IdentitySealer, Sealer};
pub use wal::{FsyncPolicy, WalOptions, WalRepair};
