//! PromQL: lexer, parser with source positions, printer and evaluation engine over a Queryable.
//!
//! The runtime foundation lives here:
//! - values: [`Labels`], native histograms ([`FloatHistogram`]), vectors, matrices, and the
//!   [`Annotations`] a query returns;
//! - numeric kernels of PromQL functions (`rate`, `deriv`, `quantile`, `*_over_time`, …);
//! - the [`Queryable`] storage contract the engine reads through, with [`MemoryStorage`];
//! - a runner for the Prometheus test-script format ([`TestScript`]) that drives any
//!   [`Evaluator`].
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

mod kernels;
mod storage;
mod test_script;
mod value;

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
    MatchOp, Matcher, MemoryStorage, Queryable, SampleIter, SelectedSeries, SeriesData,
    StorageError, check_queryable,
};
pub use test_script::{
    AnnotationCheck, Command, EPSILON, EvalCommand, EvalFailure, EvalKind, Evaluator, LoadCommand,
    PinAt, QueryError, QueryOutput, RunOptions, ScriptError, ScriptReport, SequenceValue,
    SeriesLine, TestScript, TextMatch, histograms_match, parse_duration, parse_series_line,
    parse_values, run_files,
};
pub use value::annotations::{Annotation, AnnotationKind, Annotations, PositionRange, go_float};
pub use value::histogram::{
    AccumulationNotes, Bucket, CUSTOM_BUCKETS_SCHEMA, Combined, CounterResetHint, FloatHistogram,
    HistogramError, HistogramMean, HistogramSum, MAX_EXPONENTIAL_SCHEMA, MIN_EXPONENTIAL_SCHEMA,
    Span, bucket_bound, custom_bounds_match, histogram_fraction, histogram_quantile,
    histogram_stddev, histogram_stdvar,
};
pub use value::labels::{BUCKET_LABEL, Label, Labels, METRIC_NAME, quote};
pub use value::{
    FPoint, HPoint, Matrix, Point, PointValue, STALE_NAN_BITS, Sample, Scalar, Series, StringValue,
    Value, Vector, is_stale_nan, stale_nan,
};
