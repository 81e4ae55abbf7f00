//! The data-plane contract: per-tenant writes, PromQL queries and series metadata.
//!
//! Queries are PromQL *strings* so that a backend fronting a remote engine can push the whole
//! query down; the local backend evaluates them with `ampd_promql` over `ampd_tsdb`.

#[cfg(any(test, feature = "testsuite"))]
pub mod testsuite;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use ampd_promql::{Annotations, Labels, QueryStats, Value};
use ampd_remote_write::WriteBatch;
use async_trait::async_trait;

use crate::model::LabelSetLimit;

/// A tenant of the metrics backend: one AMP workspace, named by its workspace id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TenantId(String);

impl TenantId {
    /// Wraps a workspace id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// Returns the id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a write stored and what it rejected, per kind.
///
/// Rejected samples do not fail the write: the rest is kept and the API answers 400 with
/// [`WriteOutcome::rejection_message`], as Prometheus and Cortex do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Float samples stored (staleness markers included).
    pub samples: u64,
    /// Native histogram samples stored.
    pub histograms: u64,
    /// Exemplars stored.
    pub exemplars: u64,
    /// Metadata entries recorded.
    pub metadata: u64,
    /// Samples older than their series' newest sample beyond the out-of-order window.
    pub out_of_order: u64,
    /// Samples older than the out-of-order window allows relative to the whole tenant.
    pub too_old: u64,
    /// Samples outside the writable time range.
    pub out_of_bounds: u64,
    /// Samples at an existing timestamp with a different value.
    pub duplicate: u64,
    /// Exemplars rejected (out of order or duplicate).
    pub exemplars_rejected: u64,
    /// Samples of new series refused because the tenant is at an active-series limit.
    pub series_limited: u64,
    /// The limit they ran into, worded for the sender.
    pub limit: Option<String>,
}

impl WriteOutcome {
    /// Number of rejected samples and histograms.
    pub fn rejected(&self) -> u64 {
        self.out_of_order + self.too_old + self.out_of_bounds + self.duplicate + self.series_limited
    }

    /// Why samples were refused by an active-series limit, or `None` when none was; senders
    /// should retry such writes later (429) rather than drop them.
    pub fn limit_message(&self) -> Option<String> {
        (self.series_limited > 0).then(|| {
            format!(
                "{} samples rejected: {}",
                self.series_limited,
                self.limit
                    .as_deref()
                    .unwrap_or("active series limit exceeded")
            )
        })
    }

    /// A Prometheus-worded summary of the samples rejected as bad data (400), or `None` when
    /// none was; limit refusals are in [`WriteOutcome::limit_message`].
    pub fn rejection_message(&self) -> Option<String> {
        let bad = self.out_of_order + self.too_old + self.out_of_bounds + self.duplicate;
        let parts: Vec<String> = [
            (self.out_of_order, "out of order sample"),
            (self.too_old, "too old sample"),
            (self.out_of_bounds, "out of bounds"),
            (self.duplicate, "duplicate sample for timestamp"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{what} ({n})"))
        .collect();
        (!parts.is_empty()).then(|| format!("{bad} samples rejected: {}", parts.join(", ")))
    }
}

/// Per-query resource limits; `None` means the backend's default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueryLimits {
    /// Most samples a query may hold in memory at once.
    pub max_samples: Option<usize>,
    /// Most series a query may read, summed over its selectors.
    pub max_series: Option<usize>,
    /// Most samples a query may process (AMP's `max_samples_processed_error_threshold`).
    pub max_samples_processed: Option<u64>,
}

/// A PromQL instant query.
#[derive(Clone, Debug, PartialEq)]
pub struct InstantQuery {
    /// The PromQL expression.
    pub expr: String,
    /// Evaluation time (ms since the epoch).
    pub time_ms: i64,
    /// Evaluation timeout; `None` means the backend's default.
    pub timeout: Option<Duration>,
    /// Resource limits.
    pub limits: QueryLimits,
}

/// A PromQL range query.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeQuery {
    /// The PromQL expression.
    pub expr: String,
    /// First evaluation time (ms since the epoch).
    pub start_ms: i64,
    /// Last evaluation time bound (ms since the epoch, inclusive).
    pub end_ms: i64,
    /// Resolution step (ms).
    pub step_ms: i64,
    /// Evaluation timeout; `None` means the backend's default.
    pub timeout: Option<Duration>,
    /// Resource limits.
    pub limits: QueryLimits,
}

/// The result of a query, with the figures used for metering.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryData {
    /// The result value (vector, matrix, scalar or string).
    pub value: Value,
    /// Warnings and infos attached to the result.
    pub annotations: Annotations,
    /// Samples loaded and processed (AMP's query samples processed).
    pub stats: QueryStats,
}

/// An inclusive time range in ms since the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    /// Start (inclusive).
    pub start_ms: i64,
    /// End (inclusive).
    pub end_ms: i64,
}

impl TimeRange {
    /// All of time, the default of the series and label APIs.
    pub const ALL: TimeRange = TimeRange {
        start_ms: i64::MIN,
        end_ms: i64::MAX,
    };
}

/// Metadata of a metric family, as the `/api/v1/metadata` endpoint shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricMetadata {
    /// Metric type in lower case (`counter`, `gauge`, `histogram`, …).
    pub metric_type: String,
    /// Help text.
    pub help: String,
    /// Unit.
    pub unit: String,
}

/// One exemplar.
#[derive(Clone, Debug, PartialEq)]
pub struct ExemplarData {
    /// Exemplar labels (e.g. `trace_id`).
    pub labels: Labels,
    /// Observed value.
    pub value: f64,
    /// Timestamp (ms since the epoch).
    pub timestamp_ms: i64,
}

/// The exemplars of one series.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesExemplars {
    /// Series labels.
    pub series: Labels,
    /// Its exemplars in time order.
    pub exemplars: Vec<ExemplarData>,
}

/// Per-tenant settings (AMP workspace configuration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantSettings {
    /// How long samples are kept.
    pub retention: Duration,
    /// How far behind a series' newest sample a sample is still accepted.
    pub out_of_order_window: Duration,
    /// Most active series the tenant may have; samples creating more are refused.
    pub max_active_series: Option<u64>,
    /// Caps on the active series carrying given labels (AMP's `limitsPerLabelSet`).
    pub label_set_limits: Vec<LabelSetLimit>,
}

/// Usage figures of a tenant, for metering and `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TenantUsage {
    /// Series currently in the in-memory head.
    pub active_series: u64,
    /// Samples and histograms stored since the backend started.
    pub samples_ingested: u64,
    /// Samples processed by queries since the backend started.
    pub query_samples_processed: u64,
}

/// The class of a [`MetricsError`], which the API maps to a status and an error type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricsErrorKind {
    /// Malformed query, selector or write (`bad_data`, 400).
    BadData,
    /// The query failed while running (`execution`, 422).
    Execution,
    /// The query ran out of time (`timeout`, 503).
    Timeout,
    /// The query was canceled (`canceled`, 503).
    Canceled,
    /// The query would load too many samples (`execution`, 422).
    TooManySamples,
    /// The tenant's data cannot be used now (e.g. its key is disabled).
    TenantUnavailable,
    /// Anything else (`internal`, 500).
    Internal,
}

/// Errors of a metrics backend.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// Malformed query, selector or write.
    #[error("{0}")]
    BadData(String),
    /// The query failed while running.
    #[error("{0}")]
    Execution(String),
    /// The query ran out of time.
    #[error("query timed out in expression evaluation")]
    Timeout,
    /// The query was canceled.
    #[error("query was canceled in expression evaluation")]
    Canceled,
    /// The query would load too many samples.
    #[error("query processing would load too many samples into memory in query execution")]
    TooManySamples,
    /// The tenant's data cannot be used now.
    #[error("tenant {tenant} unavailable: {reason}")]
    TenantUnavailable {
        /// The tenant.
        tenant: String,
        /// Why.
        reason: String,
    },
    /// Any other failure.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl MetricsError {
    /// Returns the class of the error.
    pub fn kind(&self) -> MetricsErrorKind {
        match self {
            Self::BadData(_) => MetricsErrorKind::BadData,
            Self::Execution(_) => MetricsErrorKind::Execution,
            Self::Timeout => MetricsErrorKind::Timeout,
            Self::Canceled => MetricsErrorKind::Canceled,
            Self::TooManySamples => MetricsErrorKind::TooManySamples,
            Self::TenantUnavailable { .. } => MetricsErrorKind::TenantUnavailable,
            Self::Internal(_) => MetricsErrorKind::Internal,
        }
    }
}

/// Result alias of the metrics backend.
pub type MetricsResult<T> = Result<T, MetricsError>;

/// Data-plane contract; `api` and `rules` only ever hold `Arc<dyn MetricsBackend>`.
///
/// Selectors (`match[]`) are PromQL series selectors; several selectors are OR-ed, as in the
/// Prometheus HTTP API. A tenant that never received data reads as empty.
#[async_trait]
pub trait MetricsBackend: fmt::Debug + Send + Sync + 'static {
    /// Stores a remote-write batch, keeping the valid samples and counting the rejected ones;
    /// a structurally invalid series (e.g. empty label set) fails the whole batch as bad data.
    /// Created timestamps are not turned into zero samples (Prometheus' default too).
    async fn write(&self, tenant: &TenantId, batch: WriteBatch) -> MetricsResult<WriteOutcome>;

    /// Evaluates an instant query.
    async fn query(&self, tenant: &TenantId, query: InstantQuery) -> MetricsResult<QueryData>;

    /// Evaluates a range query.
    async fn query_range(&self, tenant: &TenantId, query: RangeQuery) -> MetricsResult<QueryData>;

    /// Returns the label sets of the series matching any selector in `range`, sorted.
    async fn series(
        &self,
        tenant: &TenantId,
        selectors: &[String],
        range: TimeRange,
    ) -> MetricsResult<Vec<Labels>>;

    /// Returns the sorted label names of the series matching any selector (all when empty).
    async fn label_names(
        &self,
        tenant: &TenantId,
        selectors: &[String],
        range: TimeRange,
    ) -> MetricsResult<Vec<String>>;

    /// Returns the sorted values of label `name` over the series matching any selector (all
    /// when empty).
    async fn label_values(
        &self,
        tenant: &TenantId,
        name: &str,
        selectors: &[String],
        range: TimeRange,
    ) -> MetricsResult<Vec<String>>;

    /// Returns metric metadata by family name, for one family or all, at most `limit` families.
    async fn metadata(
        &self,
        tenant: &TenantId,
        metric: Option<&str>,
        limit: Option<usize>,
    ) -> MetricsResult<BTreeMap<String, Vec<MetricMetadata>>>;

    /// Returns the exemplars in `range` of the series matching any selector.
    async fn exemplars(
        &self,
        tenant: &TenantId,
        selectors: &[String],
        range: TimeRange,
    ) -> MetricsResult<Vec<SeriesExemplars>>;

    /// Deletes everything stored for the tenant.
    async fn delete_tenant(&self, tenant: &TenantId) -> MetricsResult<()>;

    /// Sets the tenant's retention and out-of-order window; they hold until changed.
    async fn set_limits(&self, tenant: &TenantId, settings: TenantSettings) -> MetricsResult<()>;

    /// Returns the tenant's usage figures.
    async fn usage(&self, tenant: &TenantId) -> MetricsResult<TenantUsage>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_message_uses_prometheus_wording() {
        let ok = WriteOutcome {
            samples: 3,
            ..WriteOutcome::default()
        };
        assert_eq!(ok.rejection_message(), None);
        let bad = WriteOutcome {
            out_of_order: 2,
            duplicate: 1,
            ..WriteOutcome::default()
        };
        assert_eq!(bad.rejected(), 3);
        assert_eq!(
            bad.rejection_message().as_deref(),
            Some("3 samples rejected: out of order sample (2), duplicate sample for timestamp (1)")
        );
    }

    #[test]
    fn error_kinds() {
        assert_eq!(
            MetricsError::BadData("x".into()).kind(),
            MetricsErrorKind::BadData
        );
        assert_eq!(MetricsError::Timeout.kind(), MetricsErrorKind::Timeout);
        let e = MetricsError::TenantUnavailable {
            tenant: "ws-1".into(),
            reason: "key disabled".into(),
        };
        assert_eq!(e.kind(), MetricsErrorKind::TenantUnavailable);
        assert_eq!(e.to_string(), "tenant ws-1 unavailable: key disabled");
    }
}
