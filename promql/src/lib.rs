//! PromQL: lexer, parser with source positions, printer and evaluation engine over a Queryable.
//!
//! The front end parses the full Prometheus 3.x grammar into an [`Expr`] tree whose nodes carry
//! byte [`Span`]s, type-checks it with Prometheus' error messages, and prints it back
//! (`Display`) in a form that parses to the same tree.
//!
//! - [`parse`] / [`parse_with`]: text to [`Expr`], or a [`ParseError`] that displays exactly as
//!   Prometheus' (`1:5: parse error: unexpected <op:+>`).
//! - [`ParserOptions`]: the experimental syntax switches (functions, duration expressions,
//!   `anchored`/`smoothed`, `fill` modifiers), off by default as in Prometheus.
//! - [`function`]: the function catalog ([`FunctionDef`]: argument types, variadic arity,
//!   return type, experimental flag).
//! - [`DurationExpr`]: ranges, steps and offsets; [`DurationExpr::evaluate`] resolves `step()`
//!   and `range()`.
//! - [`parse_metric_selector`]: a bare series selector, as in the HTTP API's `match[]`.
//!
//! Trees deeper than 256 levels are rejected, so recursive passes over an [`Expr`] stay within
//! the stack.
//!
//! ```
//! use ampd_promql::{parse, Expr};
//!
//! let expr = parse("sum by (job) (rate(http_requests_total[5m]))").unwrap();
//! assert!(matches!(expr, Expr::Aggregate(_)));
//! assert_eq!(expr.to_string(), "sum by (job) (rate(http_requests_total[5m]))");
//! assert_eq!(parse("1 +").unwrap_err().to_string(), "1:4: parse error: unexpected end of input");
//! ```
//!
//! The engine evaluates queries with Prometheus 3.x semantics ([`Engine`]):
//!
//! ```
//! use ampd_promql::{Engine, EngineOptions, Labels, MemoryStorage, PointValue, Value};
//!
//! let mut storage = MemoryStorage::new();
//! for job in ["a", "b"] {
//!     let labels = Labels::from_pairs([("__name__", "up"), ("job", job)]);
//!     storage.append(labels, 0, PointValue::Float(1.0));
//! }
//! let engine = Engine::new(EngineOptions::default());
//! let result = engine.instant(&storage, "count(up)", 60_000).unwrap();
//! assert!(matches!(result.value, Value::Vector(v) if v[0].value == PointValue::Float(2.0)));
//! let err = engine.instant(&storage, "up +", 0).unwrap_err();
//! assert_eq!(err.kind(), ampd_promql::ErrorKind::BadData);
//! ```
//!
//! The runtime underneath:
//! - values: [`Labels`], native histograms ([`FloatHistogram`]), vectors, matrices, and the
//!   [`Annotations`] a query returns;
//! - numeric kernels of PromQL functions (`rate`, `deriv`, `quantile`, `*_over_time`, …);
//! - the [`Queryable`] storage contract the engine reads through, with [`MemoryStorage`];
//! - a runner for the Prometheus test-script format ([`TestScript`]) that drives any
//!   [`Evaluator`] over any [`ScriptStorage`], and checks a run against a [`KnownFailures`]
//!   list.
//!
//! ```
//! use ampd_promql::{MatchOp, Matcher, MemoryStorage, PointValue, Queryable, RangeWindow};
//! use ampd_promql::{FPoint, Labels, PositionRange, extrapolated_rate};
//!
//! let mut storage = MemoryStorage::new();
//! let labels = Labels::from_pairs([("__name__", "requests_total"), ("job", "api")]);
//! for (i, v) in [0.0, 60.0, 120.0].into_iter().enumerate() {
//!     storage.append(labels.clone(), i as i64 * 60_000, PointValue::Float(v));
//! }
//! let name = Matcher::new(MatchOp::Equal, "__name__", "requests_total").unwrap();
//! // rate(requests_total[2m]) at t=2m: samples in (0, 2m].
//! let series = storage.select(1, 120_000, &[name]).unwrap().remove(0);
//! let floats: Vec<FPoint> = series
//!     .samples
//!     .filter_map(|p| {
//!         let p = p.ok()?;
//!         match p.value {
//!             PointValue::Float(f) => Some(FPoint { t: p.t, f }),
//!             PointValue::Histogram(_) => None,
//!         }
//!     })
//!     .collect();
//! let window = RangeWindow { start: 0, end: 120_000 };
//! let (rate, _) =
//!     extrapolated_rate(&floats, &[], window, true, true, "requests_total", PositionRange::default());
//! assert_eq!(rate, Some(PointValue::Float(1.0)));
//! ```

mod ast;
mod engine;
mod functions;
mod kernels;
mod lexer;
mod parser;
mod printer;
mod storage;
mod test_script;
mod value;

pub use ast::{
    AggregateExpr, AggregateOp, AtModifier, BinaryExpr, BinaryOp, Call, Cardinality, DurationExpr,
    DurationOp, Expr, FillValues, FunctionDef, LabelMatcher, MatchOp, MatrixSelector,
    NumberLiteral, ParenExpr, Span, StringLiteral, SubqueryExpr, UnaryExpr, UnaryOp, ValueType,
    VectorMatching, VectorSelector, function, functions,
};
pub use engine::{
    CancelFlag, Engine, EngineError, EngineOptions, ErrorKind, QueryResult, QueryStats, pin_at,
};
pub use parser::{
    ParseError, ParserOptions, parse, parse_duration_ms, parse_metric_selector, parse_with,
};

pub use kernels::{
    ClassicBucket, ClassicQuantile, KernelError, MeanAccumulator, RangeWindow, StdvarAccumulator,
    almost_equal, avg_over_time, bucket_fraction, bucket_quantile, changes, clamp, count_over_time,
    deriv, double_exponential_smoothing, extrapolated_rate, first_over_time, instant_value,
    kahan_sum, kahan_sum_inc, last_over_time, linear_regression, mad_over_time, max_over_time,
    min_over_time, predict_linear, quantile, quantile_over_time, resets, round_to_nearest, sgn,
    stddev_over_time, stdvar_over_time, sum_over_time, ts_of_first_over_time, ts_of_last_over_time,
    ts_of_max_over_time, ts_of_min_over_time,
};
pub use storage::{
    Matcher, MemoryStorage, Queryable, SampleIter, SelectedSeries, SeriesData, StorageError,
    check_queryable,
};
pub use test_script::{
    AnnotationCheck, Command, EPSILON, EvalCommand, EvalFailure, EvalKind, Evaluator,
    KnownFailures, KnownFailuresError, LoadCommand, NewStorage, PinAt, QueryError, QueryOutput,
    RunOptions, ScriptError, ScriptReport, ScriptStorage, SequenceValue, SeriesLine, TestScript,
    TextMatch, histograms_match, parse_series_line, parse_values, run_files,
};
pub use value::annotations::{Annotation, AnnotationKind, Annotations, PositionRange, go_float};
pub use value::histogram::{
    AccumulationNotes, Bucket, BucketSpan, CUSTOM_BUCKETS_SCHEMA, Combined, CounterResetHint,
    FloatHistogram, HistogramError, HistogramMean, HistogramSum, MAX_EXPONENTIAL_SCHEMA,
    MIN_EXPONENTIAL_SCHEMA, bucket_bound, custom_bounds_match, histogram_fraction,
    histogram_quantile, histogram_stddev, histogram_stdvar,
};
pub use value::labels::{BUCKET_LABEL, Label, Labels, METRIC_NAME, quote};
pub use value::{
    FPoint, HPoint, Matrix, Point, PointValue, STALE_NAN_BITS, Sample, Scalar, Series, StringValue,
    Value, Vector, is_stale_nan, stale_nan,
};
