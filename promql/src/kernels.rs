//! Numeric kernels of PromQL functions and aggregations, with Prometheus's exact semantics.
//!
//! The engine selects the samples; these functions only compute. Timestamps are milliseconds,
//! durations given to the functions are seconds, as in PromQL.

mod classic;
mod over_time;
mod rate;
mod regression;
mod round;
mod sum;

pub use classic::{ClassicBucket, ClassicQuantile, bucket_fraction, bucket_quantile};
pub use over_time::{
    MeanAccumulator, StdvarAccumulator, avg_over_time, changes, count_over_time, first_over_time,
    last_over_time, mad_over_time, max_over_time, min_over_time, quantile, quantile_over_time,
    resets, stddev_over_time, stdvar_over_time, sum_over_time, ts_of_first_over_time,
    ts_of_last_over_time, ts_of_max_over_time, ts_of_min_over_time,
};
pub use rate::{RangeWindow, extrapolated_rate, instant_value};
pub use regression::{
    KernelError, deriv, double_exponential_smoothing, linear_regression, predict_linear,
};
pub use round::{clamp, round_to_nearest, sgn};
pub use sum::{almost_equal, kahan_sum, kahan_sum_inc};
