//! The PromQL evaluation engine: instant and range queries over a [`Queryable`].
//!
//! Every node is evaluated over all steps of the query at once: selectors read each series once
//! for the whole range and then pick the samples of each step, so a range query costs one
//! storage read per selector. Long range queries are cut into slices of steps
//! ([`EngineOptions::range_slice_ms`]) evaluated one after the other, which bounds the samples
//! held at once by the slice instead of the whole range.

mod aggregate;
mod binary;
pub(crate) mod eval;
mod pin;
mod trim;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::parser::{ParseError, ParserOptions, parse_with};
use crate::storage::{Queryable, StorageError};
use crate::test_script::{Evaluator, PinAt, QueryError, QueryOutput};
use crate::value::annotations::Annotations;
use crate::value::labels::Labels;
use crate::value::{Series, Value};

pub use pin::pin_at;

/// Fewest steps of a range query slice (see [`EngineOptions::range_slice_ms`]).
const MIN_SLICE_STEPS: usize = 10;

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back a vector selector looks for a sample (Prometheus default 5m), in ms.
    pub lookback_delta_ms: i64,
    /// Most samples a query may hold in memory at once.
    pub max_samples: usize,
    /// Most series a query may read from storage, summed over its selectors.
    pub max_series: usize,
    /// Most samples a query may process ([`QueryStats::samples_processed`]), AMP's
    /// `max_samples_processed_error_threshold`.
    pub max_samples_processed: u64,
    /// Longest a query may run.
    pub timeout: Option<Duration>,
    /// Syntax switches, e.g. experimental functions.
    pub parser: ParserOptions,
    /// Subquery step when none is written, in ms.
    pub default_subquery_step_ms: i64,
    /// Range queries are evaluated in slices of at least this many ms of evaluation time (and
    /// at least 10 steps), each reading only the data its steps need, so memory grows with the
    /// slice rather than with the whole range; the answers are the same. Queries with
    /// subqueries run whole.
    pub range_slice_ms: i64,
    /// Keep `__name__` through functions and operators that drop it until the end of the
    /// query, so `label_replace` or `by (__name__)` can still see it (Prometheus'
    /// `--enable-feature=promql-delayed-name-removal`; off by default, as there).
    pub delayed_name_removal: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            lookback_delta_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            max_series: usize::MAX,
            max_samples_processed: u64::MAX,
            timeout: Some(Duration::from_secs(120)),
            parser: ParserOptions::default(),
            default_subquery_step_ms: 60_000,
            range_slice_ms: 3_600_000,
            delayed_name_removal: false,
        }
    }
}

/// The class of an [`EngineError`], as the HTTP API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The query or its parameters are invalid (`bad_data`).
    BadData,
    /// Evaluation failed (`execution`).
    Execution,
    /// The query ran past its deadline (`timeout`).
    Timeout,
    /// The query was canceled (`canceled`).
    Canceled,
    /// Storage failed (`internal`).
    Internal,
}

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The query does not parse or type-check.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The query parameters are invalid.
    #[error("{0}")]
    BadQuery(String),
    /// Evaluation failed, with Prometheus' message.
    #[error("{0}")]
    Execution(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The deadline passed.
    #[error("query timed out in expression evaluation")]
    Timeout,
    /// The cancel flag was raised.
    #[error("query was canceled in expression evaluation")]
    Canceled,
    /// The query needed more samples than allowed.
    #[error("query processing would load too many samples into memory in query execution")]
    TooManySamples,
    /// The query processed more samples than allowed.
    #[error(
        "query processing would process more samples than the error threshold of {limit} \
         (max_samples_processed_error_threshold)"
    )]
    TooManySamplesProcessed {
        /// The limit.
        limit: u64,
    },
    /// The query read more series than allowed.
    #[error("the query hit the max number of series limit (limit: {limit} series)")]
    TooManySeries {
        /// The limit.
        limit: usize,
    },
}

impl EngineError {
    /// Returns the class of the error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Parse(_) | Self::BadQuery(_) => ErrorKind::BadData,
            Self::Execution(_)
            | Self::TooManySamples
            | Self::TooManySeries { .. }
            | Self::TooManySamplesProcessed { .. } => ErrorKind::Execution,
            Self::Storage(StorageError::InvalidRegex { .. }) => ErrorKind::BadData,
            Self::Storage(_) => ErrorKind::Internal,
            Self::Timeout => ErrorKind::Timeout,
            Self::Canceled => ErrorKind::Canceled,
        }
    }
}

/// Counters of one query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Samples read from storage.
    pub samples_loaded: u64,
    /// Samples the selectors fed into evaluation, summed over steps (Prometheus'
    /// `totalQueryableSamples`, AMP's query samples processed).
    pub samples_processed: u64,
    /// [`QueryStats::samples_processed`] per evaluation step of the query.
    pub samples_per_step: Vec<u64>,
    /// Most samples the query held at once, as counted against the sample limit.
    pub peak_samples: u64,
    /// Series the selectors read.
    pub series_touched: u64,
    /// Time spent parsing and checking the query.
    pub preparation_time: Duration,
    /// Time spent evaluating it.
    pub eval_time: Duration,
}

/// A query's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// The value: a vector, scalar, string or range vector for an instant query; a matrix
    /// for a range query.
    pub value: Value,
    /// Warnings and infos.
    pub annotations: Annotations,
    /// Counters.
    pub stats: QueryStats,
}

/// The PromQL engine.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    options: EngineOptions,
}

/// Lets a caller cancel a running query from another thread.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// Returns a flag that is not raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises the flag; the query stops at its next check.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Tells whether the flag is raised.
    pub fn is_canceled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Where a query must stop: a deadline and a cancel flag, checked inside evaluation loops.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    deadline: Option<Instant>,
    cancel: CancelFlag,
    max_samples: usize,
    max_series: usize,
    max_samples_processed: u64,
}

impl Limits {
    pub(crate) fn check(&self) -> Result<(), EngineError> {
        if self.cancel.is_canceled() {
            return Err(EngineError::Canceled);
        }
        match self.deadline {
            Some(d) if Instant::now() > d => Err(EngineError::Timeout),
            _ => Ok(()),
        }
    }
}

impl Engine {
    /// Creates an engine.
    pub fn new(options: EngineOptions) -> Self {
        Self { options }
    }

    /// Returns the settings.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    fn limits(&self, cancel: Option<&CancelFlag>) -> Limits {
        Limits {
            deadline: self.options.timeout.map(|t| Instant::now() + t),
            cancel: cancel.cloned().unwrap_or_default(),
            max_samples: self.options.max_samples,
            max_series: self.options.max_series,
            max_samples_processed: self.options.max_samples_processed,
        }
    }

    /// Evaluates `query` at `at_ms`.
    pub fn instant(
        &self,
        storage: &dyn Queryable,
        query: &str,
        at_ms: i64,
    ) -> Result<QueryResult, EngineError> {
        self.instant_with_cancel(storage, query, at_ms, None)
    }

    /// Evaluates `query` at `at_ms`, stopping early when `cancel` is raised.
    pub fn instant_with_cancel(
        &self,
        storage: &dyn Queryable,
        query: &str,
        at_ms: i64,
        cancel: Option<&CancelFlag>,
    ) -> Result<QueryResult, EngineError> {
        let started = Instant::now();
        let expr = parse_with(query, &self.options.parser)?;
        let limits = self.limits(cancel);
        let steps = eval::Steps::instant(at_ms);
        timed(started, || {
            eval::run(storage, &self.options, &limits, &expr, steps, steps, false)
        })
    }

    /// Evaluates `query` from `start` to `end` (ms, inclusive) every `step` ms.
    pub fn range(
        &self,
        storage: &dyn Queryable,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, EngineError> {
        self.range_with_cancel(storage, query, start, end, step, None)
    }

    /// Range query that stops early when `cancel` is raised.
    pub fn range_with_cancel(
        &self,
        storage: &dyn Queryable,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
        cancel: Option<&CancelFlag>,
    ) -> Result<QueryResult, EngineError> {
        if step <= 0 {
            return Err(EngineError::BadQuery(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        if end < start {
            return Err(EngineError::BadQuery(
                "end timestamp must not be before start time".into(),
            ));
        }
        let started = Instant::now();
        let expr = parse_with(query, &self.options.parser)?;
        let vt = expr.value_type();
        if vt != crate::ast::ValueType::InstantVector && vt != crate::ast::ValueType::Scalar {
            return Err(EngineError::BadQuery(format!(
                "invalid expression type {:?} for range query, must be Scalar or instant Vector",
                vt.to_string()
            )));
        }
        let limits = self.limits(cancel);
        let steps = eval::Steps {
            start,
            end,
            interval: step,
        };
        timed(started, || {
            self.range_in_slices(storage, &limits, &expr, steps)
        })
    }

    /// Evaluates a range query slice by slice (see [`EngineOptions::range_slice_ms`]) and
    /// joins the slices' series; the limits apply to the whole query.
    fn range_in_slices(
        &self,
        storage: &dyn Queryable,
        limits: &Limits,
        expr: &crate::ast::Expr,
        query: eval::Steps,
    ) -> Result<QueryResult, EngineError> {
        let total = query.len();
        if total > limits.max_samples {
            return Err(EngineError::TooManySamples);
        }
        let per_slice = usize::try_from(self.options.range_slice_ms / query.interval)
            .unwrap_or(0)
            .max(MIN_SLICE_STEPS);
        // Slices would evaluate the steps a subquery shares between them again, which changes
        // the samples processed (AMP meters them); such queries run whole.
        let mut has_subquery = false;
        expr.walk(&mut |e| has_subquery |= matches!(e, crate::ast::Expr::Subquery(_)));
        if total <= per_slice || has_subquery {
            return eval::run(storage, &self.options, limits, expr, query, query, true);
        }
        let mut series: Vec<Series> = Vec::new();
        let mut index: HashMap<Labels, usize> = HashMap::new();
        let mut annotations = Annotations::new();
        let mut stats = QueryStats::default();
        let mut points = 0usize;
        let mut first = 0;
        while first < total {
            let last = (first + per_slice).min(total) - 1;
            let slice = eval::Steps {
                start: query.ts(first),
                end: query.ts(last),
                interval: query.interval,
            };
            let mut slice_limits = limits.clone();
            slice_limits.max_samples_processed = limits
                .max_samples_processed
                .saturating_sub(stats.samples_processed);
            let r = eval::run(
                storage,
                &self.options,
                &slice_limits,
                expr,
                slice,
                query,
                true,
            )?;
            annotations.merge(r.annotations);
            stats.samples_loaded += r.stats.samples_loaded;
            stats.samples_processed += r.stats.samples_processed;
            stats.samples_per_step.extend(r.stats.samples_per_step);
            stats.peak_samples = stats.peak_samples.max(r.stats.peak_samples);
            stats.series_touched += r.stats.series_touched;
            let Value::Matrix(matrix) = r.value else {
                return Err(EngineError::Execution(
                    "range query slice did not evaluate to a matrix".into(),
                ));
            };
            for s in matrix {
                // The joined answer is held at once, so its points count against the limit.
                points += s.floats.len() + s.histograms.len();
                if points > limits.max_samples {
                    return Err(EngineError::TooManySamples);
                }
                match index.get(&s.labels) {
                    Some(&i) => {
                        series[i].floats.extend(s.floats);
                        series[i].histograms.extend(s.histograms);
                    }
                    None => {
                        index.insert(s.labels.clone(), series.len());
                        series.push(s);
                    }
                }
            }
            first = last + 1;
        }
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(QueryResult {
            value: Value::Matrix(series),
            annotations,
            stats,
        })
    }

    /// Returns the rewriting the test-script runner uses for its `@` invariance check.
    pub fn pin_at_fn(&self) -> PinAt {
        let options = self.options.parser;
        Arc::new(move |q: &str, t: i64| pin_at(q, t, &options))
    }
}

/// Runs an evaluation that follows preparation begun at `started`, recording both times.
fn timed(
    started: Instant,
    run: impl FnOnce() -> Result<QueryResult, EngineError>,
) -> Result<QueryResult, EngineError> {
    let prepared = Instant::now();
    let mut r = run()?;
    r.stats.preparation_time = prepared - started;
    r.stats.eval_time = prepared.elapsed();
    Ok(r)
}

impl Evaluator for Engine {
    fn instant(
        &self,
        storage: &dyn Queryable,
        expr: &str,
        at: i64,
    ) -> Result<QueryOutput, QueryError> {
        let r = Engine::instant(self, storage, expr, at)?;
        Ok(QueryOutput {
            value: r.value,
            annotations: r.annotations,
        })
    }

    fn range(
        &self,
        storage: &dyn Queryable,
        expr: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryOutput, QueryError> {
        let r = Engine::range(self, storage, expr, start, end, step)?;
        Ok(QueryOutput {
            value: r.value,
            annotations: r.annotations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStorage;
    use crate::value::labels::Labels;
    use crate::value::{PointValue, Sample, Vector};

    fn storage() -> MemoryStorage {
        let mut s = MemoryStorage::new();
        for (job, step) in [("a", 1.0), ("b", 2.0)] {
            let labels = Labels::from_pairs([("__name__", "up_total"), ("job", job)]);
            for i in 0..=10 {
                s.append(
                    labels.clone(),
                    i * 60_000,
                    PointValue::Float(i as f64 * step),
                );
            }
        }
        s
    }

    fn floats(v: &Vector) -> Vec<(String, f64)> {
        v.iter()
            .map(|s: &Sample| match s.value {
                PointValue::Float(f) => (s.labels.to_string(), f),
                PointValue::Histogram(_) => (s.labels.to_string(), f64::NAN),
            })
            .collect()
    }

    #[test]
    fn instant_query_aggregates_rates() {
        let e = Engine::default();
        let r = e
            .instant(&storage(), "sum by (job) (rate(up_total[5m]))", 600_000)
            .unwrap();
        let Value::Vector(mut v) = r.value else {
            panic!("not a vector")
        };
        v.sort_by(|a, b| a.labels.cmp(&b.labels));
        let got = floats(&v);
        assert_eq!(got.len(), 2);
        assert!((got[0].1 - 1.0 / 60.0).abs() < 1e-12, "{got:?}");
        assert!((got[1].1 - 2.0 / 60.0).abs() < 1e-12, "{got:?}");
        assert_eq!(got[0].0, "{job=\"a\"}");
        assert_eq!(r.stats.series_touched, 2);
        assert!(r.stats.samples_loaded >= 10);
    }

    #[test]
    fn range_query_returns_sorted_matrix() {
        let e = Engine::default();
        let r = e
            .range(&storage(), "up_total * 2", 0, 120_000, 60_000)
            .unwrap();
        let Value::Matrix(m) = r.value else {
            panic!("not a matrix")
        };
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].labels.to_string(), "{job=\"a\"}");
        let values: Vec<f64> = m[1].floats.iter().map(|p| p.f).collect();
        assert_eq!(values, [0.0, 4.0, 8.0]);
    }

    #[test]
    fn errors_have_api_kinds() {
        let e = Engine::default();
        let s = storage();
        let parse = e.instant(&s, "sum(", 0).unwrap_err();
        assert_eq!(parse.kind(), ErrorKind::BadData);
        let step = e.range(&s, "up_total", 0, 10, 0).unwrap_err();
        assert_eq!(step.kind(), ErrorKind::BadData);
        let card = e
            .instant(&s, "up_total + on() up_total", 60_000)
            .unwrap_err();
        assert_eq!(card.kind(), ErrorKind::Execution);
        assert!(
            card.to_string().starts_with("found duplicate series"),
            "{card}"
        );
    }

    #[test]
    fn sample_limit_and_cancellation_stop_queries() {
        let s = storage();
        let small = Engine::new(EngineOptions {
            max_samples: 5,
            ..EngineOptions::default()
        });
        let err = small.instant(&s, "up_total[10m]", 600_000).unwrap_err();
        assert!(matches!(err, EngineError::TooManySamples));
        let steps = small.range(&s, "1", 0, 60_000, 1_000).unwrap_err();
        assert!(matches!(steps, EngineError::TooManySamples));
        let sub = small
            .instant(&s, "max_over_time(up_total[1h:1s])", 0)
            .unwrap_err();
        assert!(matches!(sub, EngineError::TooManySamples));
        assert_eq!(
            err.to_string(),
            "query processing would load too many samples into memory in query execution"
        );
        let cancel = CancelFlag::new();
        cancel.cancel();
        let err = Engine::default()
            .instant_with_cancel(&s, "up_total", 0, Some(&cancel))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Canceled);
        let expired = Engine::new(EngineOptions {
            timeout: Some(Duration::ZERO),
            ..EngineOptions::default()
        });
        std::thread::sleep(Duration::from_millis(2));
        let err = expired.instant(&s, "up_total", 0).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
    }

    #[test]
    fn sliced_range_queries_answer_as_whole_ones() {
        let mut s = MemoryStorage::new();
        for (job, k) in [("a", 1.0), ("b", 3.0)] {
            let counter = Labels::from_pairs([("__name__", "reqs_total"), ("job", job)]);
            let gauge = Labels::from_pairs([("__name__", "temp"), ("job", job)]);
            for i in 0..240_i64 {
                // Every 15s, jittered off the grid by a few hundred ms.
                let t = i * 15_000 + (i * 7_919 % 900) + 50;
                s.append(counter.clone(), t, PointValue::Float(i as f64 * k));
                if !(100..140).contains(&i) {
                    let v = ((i as f64) * k / 7.0).sin() * 10.0;
                    s.append(gauge.clone(), t, PointValue::Float(v));
                }
            }
        }
        let whole = Engine::default();
        let sliced = Engine::new(EngineOptions {
            range_slice_ms: 1,
            ..EngineOptions::default()
        });
        for q in [
            "rate(reqs_total[2m])",
            "sum by (job) (increase(reqs_total[5m] offset 3m))",
            "temp",
            "max_over_time(temp[10m:1m])",
            "temp @ start() + temp @ end()",
            "topk(1, temp)",
            "absent(temp{job=\"a\"})",
            "changes(temp[5m]) + timestamp(temp)",
            "time() - scalar(sum(temp))",
        ] {
            let a = whole.range(&s, q, 300_000, 3_540_000, 30_000).unwrap();
            let b = sliced.range(&s, q, 300_000, 3_540_000, 30_000).unwrap();
            // Debug output compares NaN results as equal, unlike `==`.
            assert_eq!(format!("{:?}", a.value), format!("{:?}", b.value), "{q}");
            assert_eq!(a.stats.samples_processed, b.stats.samples_processed, "{q}");
            assert_eq!(a.stats.samples_per_step, b.stats.samples_per_step, "{q}");
            assert!(b.stats.peak_samples <= a.stats.peak_samples, "{q}");
        }
        // The joined answer still counts against the sample limit.
        let small = Engine::new(EngineOptions {
            range_slice_ms: 1,
            max_samples: 150,
            ..EngineOptions::default()
        });
        let err = small
            .range(&s, "temp", 300_000, 3_540_000, 30_000)
            .unwrap_err();
        assert!(matches!(err, EngineError::TooManySamples), "{err}");
    }

    #[test]
    fn series_limit_counts_every_selector() {
        let s = storage();
        let e = Engine::new(EngineOptions {
            max_series: 3,
            ..EngineOptions::default()
        });
        assert!(e.instant(&s, "up_total", 60_000).is_ok());
        let err = e.instant(&s, "up_total + up_total", 60_000).unwrap_err();
        assert!(matches!(err, EngineError::TooManySeries { limit: 3 }));
        assert_eq!(err.kind(), ErrorKind::Execution);
        assert_eq!(
            err.to_string(),
            "the query hit the max number of series limit (limit: 3 series)"
        );
    }

    #[test]
    fn processed_samples_threshold_stops_queries() {
        let s = storage();
        let e = Engine::new(EngineOptions {
            max_samples_processed: 4,
            ..EngineOptions::default()
        });
        // Two series × two samples in each 2m window: exactly at the threshold.
        assert!(e.instant(&s, "rate(up_total[2m])", 600_000).is_ok());
        let err = e.instant(&s, "rate(up_total[3m])", 600_000).unwrap_err();
        assert!(matches!(
            err,
            EngineError::TooManySamplesProcessed { limit: 4 }
        ));
        assert_eq!(err.kind(), ErrorKind::Execution);
    }

    #[test]
    fn long_series_hit_the_sample_limit_while_loading() {
        let mut s = MemoryStorage::new();
        let labels = Labels::from_pairs([("__name__", "dense")]);
        for i in 0..10_000 {
            s.append(labels.clone(), i, PointValue::Float(1.0));
        }
        let e = Engine::new(EngineOptions {
            max_samples: 5_000,
            ..EngineOptions::default()
        });
        let err = e
            .instant(&s, "count_over_time(dense[10s])", 10_000)
            .unwrap_err();
        assert!(matches!(err, EngineError::TooManySamples), "{err}");
    }

    #[test]
    fn stats_count_samples_per_step() {
        let e = Engine::default();
        // Two series, one sample a minute: a 2m window holds 2 samples of each series.
        let r = e
            .range(&storage(), "rate(up_total[2m])", 120_000, 240_000, 60_000)
            .unwrap();
        assert_eq!(r.stats.samples_per_step, vec![4, 4, 4]);
        assert_eq!(r.stats.samples_processed, 12);
        assert!(r.stats.peak_samples >= 4);
        // Subquery steps are counted at the query step they precede.
        let r = e
            .instant(&storage(), "max_over_time(up_total[2m:1m])", 240_000)
            .unwrap();
        assert_eq!(r.stats.samples_per_step, vec![r.stats.samples_processed]);
        assert_eq!(r.stats.samples_processed, 4);
    }

    #[test]
    fn delayed_name_removal_keeps_the_name_for_later_nodes() {
        let s = storage();
        let q = r#"label_replace(rate(up_total[5m]), "was", "$1", "__name__", "(.+)")"#;
        let names = |delayed: bool| {
            let e = Engine::new(EngineOptions {
                delayed_name_removal: delayed,
                ..EngineOptions::default()
            });
            let Value::Vector(v) = e.instant(&s, q, 600_000).unwrap().value else {
                panic!("not a vector")
            };
            v.iter()
                .map(|s| {
                    (
                        s.labels.get("was").map(str::to_owned),
                        s.labels.has("__name__"),
                    )
                })
                .collect::<Vec<_>>()
        };
        let kept = (Some("up_total".to_owned()), false);
        assert_eq!(names(true), [kept.clone(), kept]);
        assert_eq!(names(false), [(None, false), (None, false)]);
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let e = Engine::default();
        let s = storage();
        for q in [
            "up_total @ 9000000000000",
            "rate(up_total[1y] @ -9000000000000)",
            "up_total offset -10000w",
            "max_over_time(up_total[1h:1m] offset 10000w)",
        ] {
            let r = e.instant(&s, q, i64::MAX / 2);
            assert!(
                matches!(r, Ok(QueryResult { value: Value::Vector(ref v), .. }) if v.is_empty()),
                "{q}: {r:?}"
            );
        }
    }

    #[test]
    fn experimental_functions_need_the_feature_flag() {
        let s = storage();
        let plain = Engine::default();
        assert!(plain.instant(&s, "limitk(1, up_total)", 0).is_err());
        let enabled = Engine::new(EngineOptions {
            parser: ParserOptions::all_enabled(),
            ..EngineOptions::default()
        });
        let r = enabled.instant(&s, "limitk(1, up_total)", 0).unwrap();
        assert!(matches!(r.value, Value::Vector(v) if v.len() == 1));
    }
}
