//! Estimates over native histograms: quantiles, fractions, standard deviation and variance.

use super::FloatHistogram;
use crate::kernels::kahan_sum_inc;
use crate::value::annotations::{Annotation, PositionRange};

/// Estimates the `q`-quantile of the observations in `h`.
///
/// Within exponential buckets the estimate interpolates on a logarithmic scale (the buckets are
/// equally wide there); in custom and zero buckets it interpolates linearly. The zero bucket
/// shrinks to `[0, t]` or `[-t, 0]` when the histogram has buckets on one side only. NaN
/// observations count in `count` but in no bucket, which the returned info reports.
pub fn histogram_quantile(
    q: f64,
    h: &FloatHistogram,
    metric: &str,
    pos: PositionRange,
) -> (f64, Option<Annotation>) {
    if q < 0.0 {
        return (f64::NEG_INFINITY, None);
    }
    if q > 1.0 {
        return (f64::INFINITY, None);
    }
    if h.count == 0.0 || q.is_nan() {
        return (f64::NAN, None);
    }
    let has_nans = h.sum.is_nan();
    // Counting from the closer end keeps high quantiles accurate; with NaN observations the
    // bucket total falls short of `count`, so only counting from below is meaningful.
    let forward = has_nans || q < 0.5;
    let mut buckets = h.all_buckets();
    let rank = if forward {
        q * h.count
    } else {
        buckets.reverse();
        (1.0 - q) * h.count
    };
    let mut count = 0.0;
    let mut found = None;
    for b in buckets.iter().filter(|b| b.count != 0.0) {
        count += b.count;
        found = Some(*b);
        if count >= rank {
            break;
        }
    }
    let Some(mut bucket) = found else {
        let note = has_nans.then(|| Annotation::histogram_quantile_nan_result(metric, pos));
        return (f64::NAN, note);
    };
    let note_skew = || has_nans.then(|| Annotation::histogram_quantile_nan_skew(metric, pos));
    if h.uses_custom_buckets() {
        if bucket.lower == f64::NEG_INFINITY {
            if bucket.upper <= 0.0 {
                return (bucket.upper, note_skew());
            }
            bucket.lower = 0.0;
        } else if bucket.upper == f64::INFINITY {
            return (bucket.lower, note_skew());
        }
    } else if bucket.lower < 0.0 && bucket.upper > 0.0 {
        if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
            bucket.lower = 0.0;
        } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
            bucket.upper = 0.0;
        }
    }
    // Rounding can push the running total past `count`.
    let count = count.min(h.count);
    if count < rank {
        if has_nans {
            return (
                f64::NAN,
                Some(Annotation::histogram_quantile_nan_result(metric, pos)),
            );
        }
        return (bucket.upper, None);
    }
    let into = (rank - (count - bucket.count)) / bucket.count;
    let fraction = if forward { into } else { 1.0 - into };
    if h.uses_custom_buckets() || (bucket.lower <= 0.0 && bucket.upper >= 0.0) {
        return (
            bucket.lower + (bucket.upper - bucket.lower) * fraction,
            note_skew(),
        );
    }
    let log_lower = bucket.lower.abs().log2();
    let log_upper = bucket.upper.abs().log2();
    let v = if bucket.lower > 0.0 {
        (log_lower + (log_upper - log_lower) * fraction).exp2()
    } else {
        -(log_upper + (log_lower - log_upper) * (1.0 - fraction)).exp2()
    };
    (v, note_skew())
}

/// Estimates the fraction of observations in `h` between `lower` and `upper`.
///
/// Interpolation inside a bucket follows [`histogram_quantile`], so the two functions invert
/// each other. NaN observations are in no bucket and therefore in no fraction.
pub fn histogram_fraction(
    lower: f64,
    upper: f64,
    h: &FloatHistogram,
    metric: &str,
    pos: PositionRange,
) -> (f64, Option<Annotation>) {
    if h.count == 0.0 || lower.is_nan() || upper.is_nan() {
        return (f64::NAN, None);
    }
    let note = h
        .sum
        .is_nan()
        .then(|| Annotation::histogram_fraction_nans(metric, pos));
    if lower >= upper {
        return (0.0, note);
    }
    let mut rank = 0.0;
    let mut lower_rank = None;
    let mut upper_rank = None;
    for mut b in h.all_buckets() {
        let mut linear = h.uses_custom_buckets();
        if h.uses_custom_buckets() {
            if b.lower == f64::NEG_INFINITY && b.upper > 0.0 {
                b.lower = 0.0;
            }
        } else if b.lower <= 0.0 && b.upper >= 0.0 {
            linear = true;
            if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
                b.lower = 0.0;
            } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
                b.upper = 0.0;
            }
        }
        let interpolate = |v: f64| -> f64 {
            // No interpolation across an infinitely wide bucket: its observations count as
            // sitting at the finite bound.
            if b.lower == f64::NEG_INFINITY {
                return rank + b.count;
            }
            if b.upper == f64::INFINITY {
                return rank;
            }
            if linear {
                return rank + b.count * (v - b.lower) / (b.upper - b.lower);
            }
            let log_lower = b.lower.abs().log2();
            let log_upper = b.upper.abs().log2();
            let log_v = v.abs().log2();
            let fraction = if v > 0.0 {
                (log_v - log_lower) / (log_upper - log_lower)
            } else {
                1.0 - (log_v - log_upper) / (log_lower - log_upper)
            };
            rank + b.count * fraction
        };
        if lower_rank.is_none() && b.lower >= lower {
            lower_rank = Some(rank);
        }
        if upper_rank.is_none() && b.lower >= upper {
            upper_rank = Some(rank);
        }
        if lower_rank.is_some() && upper_rank.is_some() {
            break;
        }
        if lower_rank.is_none() && b.lower < lower && b.upper > lower {
            lower_rank = Some(interpolate(lower));
        }
        if upper_rank.is_none() && b.lower < upper && b.upper > upper {
            upper_rank = Some(interpolate(upper));
        }
        if lower_rank.is_some() && upper_rank.is_some() {
            break;
        }
        rank += b.count;
    }
    // Bounds beyond the last bucket sit at the bucket total, which excludes NaN observations.
    // `if r > count` rather than `min`, so that a NaN rank stays NaN.
    let clamp = |r: f64| if r > h.count { h.count } else { r };
    let lower_rank = clamp(lower_rank.unwrap_or(rank));
    let upper_rank = clamp(upper_rank.unwrap_or(rank));
    ((upper_rank - lower_rank) / h.count, note)
}

/// Estimates the variance of the observations in `h`.
///
/// Each bucket stands for its midpoint: arithmetic for custom buckets, zero for the zero
/// bucket, geometric for exponential buckets (which are equally wide on a log scale).
pub fn histogram_stdvar(h: &FloatHistogram) -> f64 {
    let mean = h.sum / h.count;
    let (mut variance, mut c) = (0.0, 0.0);
    for b in h.all_buckets().into_iter().filter(|b| b.count != 0.0) {
        let v = if h.uses_custom_buckets() {
            (b.upper + b.lower) / 2.0
        } else if b.lower <= 0.0 && b.upper >= 0.0 {
            0.0
        } else {
            let g = (b.upper * b.lower).sqrt();
            if b.upper < 0.0 { -g } else { g }
        };
        let delta = v - mean;
        (variance, c) = kahan_sum_inc(b.count * delta * delta, variance, c);
    }
    (variance + c) / h.count
}

/// Estimates the standard deviation of the observations in `h`.
pub fn histogram_stddev(h: &FloatHistogram) -> f64 {
    histogram_stdvar(h).sqrt()
}

#[cfg(test)]
mod tests {
    use super::super::tests::h;
    use super::super::{BucketSpan, CUSTOM_BUCKETS_SCHEMA};
    use super::*;

    const P: PositionRange = PositionRange { start: 0, end: 0 };

    fn q(quantile: f64, hist: &FloatHistogram) -> f64 {
        histogram_quantile(quantile, hist, "m", P).0
    }

    #[test]
    fn quantile_interpolates_exponentially() {
        // One bucket (1, 2] holding 4 observations; the median sits at sqrt(2).
        let hist = h(0, 4.0, 6.0, 1, &[4.0]);
        assert!((q(0.5, &hist) - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(q(1.0, &hist), 2.0);
        assert_eq!(q(0.0, &hist), 1.0);
        assert_eq!(q(-0.1, &hist), f64::NEG_INFINITY);
        assert_eq!(q(1.1, &hist), f64::INFINITY);
        assert!(q(f64::NAN, &hist).is_nan());
    }

    #[test]
    fn quantile_in_zero_bucket_and_negative() {
        let mut hist = h(0, 4.0, 0.0, 0, &[2.0]);
        hist.zero_threshold = 0.5;
        hist.zero_count = 2.0;
        // Only positive buckets: zero bucket is [0, 0.5], the 0.25-quantile is its middle.
        assert!((q(0.25, &hist) - 0.25).abs() < 1e-12);
        let neg = FloatHistogram {
            count: 2.0,
            negative_spans: vec![BucketSpan {
                offset: 1,
                length: 1,
            }],
            negative_buckets: vec![2.0],
            ..Default::default()
        };
        // Bucket [-2, -1): the median mirrors the log interpolation.
        assert!((q(0.5, &neg) + 2f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn quantile_custom_buckets() {
        let mut hist = h(CUSTOM_BUCKETS_SCHEMA, 4.0, 10.0, 0, &[2.0, 2.0, 0.0]);
        hist.custom_values = vec![10.0, 20.0];
        assert!((q(0.25, &hist) - 5.0).abs() < 1e-12);
        assert!((q(0.75, &hist) - 15.0).abs() < 1e-12);
        let mut top = h(CUSTOM_BUCKETS_SCHEMA, 1.0, 50.0, 2, &[1.0]);
        top.custom_values = vec![10.0, 20.0];
        assert_eq!(q(0.5, &top), 20.0);
    }

    #[test]
    fn quantile_with_nan_observations() {
        let mut hist = h(0, 15.0, f64::NAN, 0, &[12.0]);
        let (v, note) = histogram_quantile(0.8, &hist, "m", P);
        assert_eq!(v, 1.0);
        assert!(note.unwrap().message.contains("skewed higher"));
        let (v, note) = histogram_quantile(0.81, &hist, "m", P);
        assert!(v.is_nan());
        assert!(note.unwrap().message.contains("result is NaN"));
        hist.positive_buckets.clear();
        hist.positive_spans.clear();
        assert!(histogram_quantile(0.1, &hist, "m", P).0.is_nan());
    }

    #[test]
    fn fraction_matches_quantile() {
        let hist = h(0, 15.0, f64::NAN, 0, &[12.0]);
        let (f, note) = histogram_fraction(f64::NEG_INFINITY, 0.5f64.sqrt(), &hist, "m", P);
        assert!((f - 0.4).abs() < 1e-12);
        assert!(note.is_some());
        assert!(
            (histogram_fraction(f64::NEG_INFINITY, f64::INFINITY, &hist, "m", P).0 - 0.8).abs()
                < 1e-12
        );
        let plain = h(0, 4.0, 6.0, 1, &[4.0]);
        assert!((histogram_fraction(0.0, 2f64.sqrt(), &plain, "m", P).0 - 0.5).abs() < 1e-12);
        assert_eq!(histogram_fraction(3.0, 2.0, &plain, "m", P).0, 0.0);
        // Custom buckets (-Inf,-3] (-3,-2] (-2,+Inf] holding 10, 2 and 88: nothing of the
        // infinitely wide first bucket lies above -4.
        let mut nhcb = h(CUSTOM_BUCKETS_SCHEMA, 100.0, 0.0, 0, &[10.0, 2.0, 88.0]);
        nhcb.custom_values = vec![-3.0, -2.0];
        assert!((histogram_fraction(-4.0, -2.0, &nhcb, "m", P).0 - 0.02).abs() < 1e-12);
        assert!((histogram_fraction(-2.0, 100.0, &nhcb, "m", P).0 - 0.0).abs() < 1e-12);
    }

    #[test]
    fn stddev_uses_bucket_midpoints() {
        // Buckets (1,2] and (2,4] each hold one observation: points sqrt2 and 2sqrt2.
        let (a, b) = (2f64.sqrt(), 2.0 * 2f64.sqrt());
        let hist = h(0, 2.0, a + b, 1, &[1.0, 1.0]);
        let mean = (a + b) / 2.0;
        let expected = ((a - mean).powi(2) + (b - mean).powi(2)) / 2.0;
        assert!((histogram_stdvar(&hist) - expected).abs() < 1e-12);
        assert!((histogram_stddev(&hist) - expected.sqrt()).abs() < 1e-12);
    }
}
