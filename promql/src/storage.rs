//! The storage contract the engine reads through, and an in-memory implementation.
//!
//! The engine knows nothing about the project's tsdb: a backend adapts it to [`Queryable`].

mod conformance;
mod matcher;
mod memory;

pub use conformance::{SeriesData, check_queryable};
pub use matcher::{MatchOp, Matcher};
pub use memory::MemoryStorage;

use crate::value::Point;
use crate::value::labels::Labels;

/// Errors a [`Queryable`] can return.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A regex matcher does not compile.
    #[error("invalid regular expression {pattern:?}: {source}")]
    InvalidRegex {
        /// The pattern as written in the query.
        pattern: String,
        /// Why it does not compile.
        #[source]
        source: Box<regex::Error>,
    },
    /// The backing store failed.
    #[error("storage failure")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The samples of one series in time order; histograms and floats interleave.
pub type SampleIter = Box<dyn Iterator<Item = Result<Point, StorageError>> + Send>;

/// One series returned by [`Queryable::select`].
pub struct SelectedSeries {
    /// The series labels, `__name__` included.
    pub labels: Labels,
    /// The series' samples within the selected time range.
    pub samples: SampleIter,
}

impl std::fmt::Debug for SelectedSeries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelectedSeries")
            .field("labels", &self.labels)
            .finish_non_exhaustive()
    }
}

/// Read access to time series, as the engine needs it. Times are ms since the epoch and both
/// bounds are inclusive.
pub trait Queryable: Send + Sync {
    /// Returns the series matching all `matchers` that have samples in `[mint, maxt]`, sorted
    /// by labels, each with its samples in that range.
    fn select(
        &self,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<Vec<SelectedSeries>, StorageError>;

    /// Returns the sorted label names of the matching series with samples in `[mint, maxt]`.
    fn label_names(
        &self,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<Vec<String>, StorageError>;

    /// Returns the sorted values of label `name` over the matching series with samples in
    /// `[mint, maxt]`.
    fn label_values(
        &self,
        name: &str,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<Vec<String>, StorageError>;
}
