//! `histogram_quantile` over classic histograms (series of cumulative `le` buckets).

use super::sum::almost_equal;
use crate::value::annotations::PositionRange;
use crate::value::histogram::{
    BucketSpan, CUSTOM_BUCKETS_SCHEMA, FloatHistogram, histogram_fraction,
};

/// One cumulative bucket of a classic histogram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassicBucket {
    /// The `le` bound.
    pub upper_bound: f64,
    /// Cumulative count of observations up to the bound.
    pub count: f64,
}

/// The estimate and what had to be repaired to get it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassicQuantile {
    /// The estimated quantile.
    pub value: f64,
    /// Some bucket count decreased and was raised (reported as an info).
    pub forced_monotonic: bool,
    /// Differences within float precision were smoothed away (not reported).
    pub fixed_precision: bool,
}

/// Differences smaller than this relative amount are float noise, not decreases.
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

/// Estimates the `q`-quantile from cumulative buckets, interpolating linearly inside a bucket.
///
/// Buckets are sorted and duplicates merged; without a `+Inf` bucket the result is NaN.
/// A quantile in the `+Inf` bucket returns the highest finite bound, and one in the lowest
/// bucket returns that bound if it is not positive (otherwise the bucket starts at 0).
pub fn bucket_quantile(q: f64, buckets: &[ClassicBucket]) -> ClassicQuantile {
    let plain = |value| ClassicQuantile {
        value,
        forced_monotonic: false,
        fixed_precision: false,
    };
    if q.is_nan() {
        return plain(f64::NAN);
    }
    if q < 0.0 {
        return plain(f64::NEG_INFINITY);
    }
    if q > 1.0 {
        return plain(f64::INFINITY);
    }
    let mut sorted = buckets.to_vec();
    sorted.sort_by(|a, b| a.upper_bound.total_cmp(&b.upper_bound));
    if sorted.last().is_none_or(|b| b.upper_bound != f64::INFINITY) {
        return plain(f64::NAN);
    }
    let mut merged: Vec<ClassicBucket> = Vec::with_capacity(sorted.len());
    for b in sorted {
        match merged.last_mut() {
            Some(last) if last.upper_bound == b.upper_bound => last.count += b.count,
            _ => merged.push(b),
        }
    }
    let (forced_monotonic, fixed_precision) = ensure_monotonic(&mut merged);
    let result = |value| ClassicQuantile {
        value,
        forced_monotonic,
        fixed_precision,
    };
    let n = merged.len();
    if n < 2 {
        return result(f64::NAN);
    }
    let observations = merged[n - 1].count;
    if observations == 0.0 {
        return result(f64::NAN);
    }
    let mut rank = q * observations;
    let b = merged[..n - 1].partition_point(|b| b.count < rank);
    if b == n - 1 {
        return result(merged[n - 2].upper_bound);
    }
    if b == 0 && merged[0].upper_bound <= 0.0 {
        return result(merged[0].upper_bound);
    }
    let end = merged[b].upper_bound;
    let mut count = merged[b].count;
    let mut start = 0.0;
    if b > 0 {
        start = merged[b - 1].upper_bound;
        count -= merged[b - 1].count;
        rank -= merged[b - 1].count;
    }
    result(start + (end - start) * (rank / count))
}

/// Estimates the fraction of observations between `lower` and `upper` from cumulative buckets.
///
/// The buckets are read as a native histogram with custom bounds, so interpolation is exactly
/// that of [`histogram_fraction`]; without a `+Inf` bucket the result is NaN.
pub fn bucket_fraction(lower: f64, upper: f64, buckets: &[ClassicBucket]) -> f64 {
    let mut sorted = buckets.to_vec();
    sorted.sort_by(|a, b| a.upper_bound.total_cmp(&b.upper_bound));
    let mut merged: Vec<ClassicBucket> = Vec::with_capacity(sorted.len());
    for b in sorted {
        match merged.last_mut() {
            Some(last) if last.upper_bound == b.upper_bound => last.count += b.count,
            _ => merged.push(b),
        }
    }
    if merged.last().is_none_or(|b| b.upper_bound != f64::INFINITY) {
        return f64::NAN;
    }
    ensure_monotonic(&mut merged);
    let counts: Vec<f64> = merged
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if i == 0 {
                b.count
            } else {
                b.count - merged[i - 1].count
            }
        })
        .collect();
    let h = FloatHistogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: merged.last().map_or(0.0, |b| b.count),
        custom_values: merged[..merged.len() - 1]
            .iter()
            .map(|b| b.upper_bound)
            .collect(),
        positive_spans: vec![BucketSpan {
            offset: 0,
            length: counts.len() as u32,
        }],
        positive_buckets: counts,
        ..Default::default()
    };
    histogram_fraction(lower, upper, &h, "", PositionRange::default()).0
}

/// Raises decreasing counts to the previous count; returns `(forced, precision_fixed)`.
fn ensure_monotonic(buckets: &mut [ClassicBucket]) -> (bool, bool) {
    let (mut forced, mut fixed) = (false, false);
    let Some(first) = buckets.first() else {
        return (false, false);
    };
    let mut prev = first.count;
    for b in buckets.iter_mut().skip(1) {
        let curr = b.count;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, SMALL_DELTA_TOLERANCE) {
            b.count = prev;
            fixed = true;
        } else if curr < prev {
            b.count = prev;
            forced = true;
        } else {
            prev = curr;
        }
    }
    (forced, fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bs(pairs: &[(f64, f64)]) -> Vec<ClassicBucket> {
        pairs
            .iter()
            .map(|&(upper_bound, count)| ClassicBucket { upper_bound, count })
            .collect()
    }

    #[test]
    fn interpolates_linearly() {
        let b = bs(&[(0.1, 10.0), (0.2, 20.0), (f64::INFINITY, 20.0)]);
        assert!((bucket_quantile(0.5, &b).value - 0.1).abs() < 1e-12);
        assert!((bucket_quantile(0.75, &b).value - 0.15).abs() < 1e-12);
        // First bucket starts at 0.
        assert!((bucket_quantile(0.25, &b).value - 0.05).abs() < 1e-12);
        assert_eq!(bucket_quantile(-1.0, &b).value, f64::NEG_INFINITY);
        assert_eq!(bucket_quantile(2.0, &b).value, f64::INFINITY);
    }

    #[test]
    fn inf_bucket_rules() {
        let b = bs(&[(1.0, 1.0), (2.0, 2.0), (f64::INFINITY, 10.0)]);
        assert_eq!(bucket_quantile(0.9, &b).value, 2.0);
        let no_inf = bs(&[(1.0, 1.0), (2.0, 2.0)]);
        assert!(bucket_quantile(0.5, &no_inf).value.is_nan());
        let only_inf = bs(&[(f64::INFINITY, 3.0)]);
        assert!(bucket_quantile(0.5, &only_inf).value.is_nan());
        let empty = bs(&[(1.0, 0.0), (f64::INFINITY, 0.0)]);
        assert!(bucket_quantile(0.5, &empty).value.is_nan());
        let negative = bs(&[(-1.0, 5.0), (f64::INFINITY, 10.0)]);
        assert_eq!(bucket_quantile(0.1, &negative).value, -1.0);
    }

    #[test]
    fn fraction_of_classic_buckets() {
        let b = bs(&[(-3.0, 10.0), (-2.0, 12.0), (f64::INFINITY, 100.0)]);
        assert!((bucket_fraction(-4.0, -2.0, &b) - 0.02).abs() < 1e-12);
        let pos = bs(&[(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)]);
        assert!((bucket_fraction(0.0, 1.5, &pos) - 0.75).abs() < 1e-12);
        assert!(bucket_fraction(0.0, 1.0, &pos[..2]).is_nan());
    }

    #[test]
    fn fixes_monotonicity() {
        // Unsorted input and a dip at le=2 that must be raised to 5.
        let b = bs(&[(f64::INFINITY, 10.0), (2.0, 4.0), (1.0, 5.0), (4.0, 10.0)]);
        let r = bucket_quantile(0.5, &b);
        assert!(r.forced_monotonic && !r.fixed_precision);
        assert!((r.value - 1.0).abs() < 1e-12);
        let noisy = bs(&[(1.0, 5.0), (2.0, 5.0 - 1e-15), (f64::INFINITY, 10.0)]);
        let r = bucket_quantile(0.5, &noisy);
        assert!(!r.forced_monotonic && r.fixed_precision);
    }
}
