//! PromQL: lexer, parser with source positions, printer and evaluation engine over a Queryable.
//!
//! The runtime foundation lives here:
//! - values: [`Labels`], native histograms ([`FloatHistogram`]), vectors, matrices, and the
//!   [`Annotations`] a query returns;
//! - numeric kernels of PromQL functions (`rate`, `deriv`, `quantile`, `*_over_time`, …);
//! - the [`Queryable`] storage contract the engine reads through, with [`MemoryStorage`];
//! - a runner for the Prometheus test-script format ([`TestScript`]) that drives any
//!   [`Evaluator`].

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
    MatchOp, Matcher, MemoryStorage, Queryable, SampleIter, SelectedSeries, StorageError,
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
