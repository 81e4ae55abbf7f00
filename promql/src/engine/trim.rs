//! The histogram trim operators `</` (keep observations below a bound) and `>/` (keep those
//! above), estimating how much of a bucket lies on each side of the bound.

use crate::value::histogram::{Bucket, FloatHistogram};

/// Returns `h` with the observations above (`upper`) or below (`!upper`) `bound` removed.
pub(crate) fn trim_buckets(h: &FloatHistogram, bound: f64, upper: bool) -> FloatHistogram {
    let mut h = h.clone();
    let custom = h.uses_custom_buckets();
    let (mut count, mut sum) = (0.0, 0.0);
    let mut trimmed = false;
    let mut has = [false, false];
    for positive in [true, false] {
        let buckets: Vec<Bucket> = if positive {
            h.positive_bucket_iter().collect()
        } else {
            h.negative_bucket_iter().collect()
        };
        for (i, b) in buckets.iter().enumerate() {
            if b.count == 0.0 {
                continue;
            }
            has[usize::from(positive)] = true;
            let (keep_all, drop_all) = if upper {
                (b.upper <= bound, b.lower >= bound)
            } else {
                (b.lower >= bound, b.upper <= bound)
            };
            let counts = if positive {
                &mut h.positive_buckets
            } else {
                &mut h.negative_buckets
            };
            if keep_all {
                count += b.count;
                sum += midpoint(b.lower, b.upper, positive, custom) * b.count;
            } else if drop_all {
                counts[i] = 0.0;
                trimmed = true;
            } else {
                let (keep, mid) = bucket_trim(b, bound, upper, positive, custom);
                count += keep;
                sum += mid * keep;
                if counts[i] != keep {
                    counts[i] = keep;
                    trimmed = true;
                }
            }
        }
    }
    if h.zero_count > 0.0 {
        let (has_positive, has_negative) = (has[1], has[0]);
        let (mut lo, mut hi) = (-h.zero_threshold, h.zero_threshold);
        if has_negative && !has_positive {
            hi = 0.0;
        }
        if has_positive && !has_negative {
            lo = 0.0;
        }
        let zc = h.zero_count;
        let (keep, mid) = if upper {
            if bound <= lo {
                (0.0, 0.0)
            } else if bound >= hi {
                (zc, (lo + hi) / 2.0)
            } else {
                (zc * (bound - lo) / (hi - lo), (lo + bound) / 2.0)
            }
        } else if bound <= lo {
            (zc, (lo + hi) / 2.0)
        } else if bound >= hi {
            (0.0, 0.0)
        } else {
            (zc * (hi - bound) / (hi - lo), (bound + hi) / 2.0)
        };
        if keep != zc {
            h.zero_count = keep;
            trimmed = true;
        }
        sum += mid * keep;
        count += keep;
    }
    if trimmed {
        h.count = count;
        h.sum = sum;
        h = h.compact(0);
    }
    h
}

/// The representative value of the surviving part `[lo, hi]` of a bucket: the arithmetic
/// mean for linear (custom) buckets, the geometric mean for exponential ones.
fn midpoint(lo: f64, hi: f64, positive: bool, linear: bool) -> f64 {
    if lo.is_infinite() {
        if hi.is_infinite() {
            return 0.0;
        }
        return if hi > 0.0 { hi / 2.0 } else { hi };
    }
    if hi.is_infinite() {
        return lo;
    }
    if linear {
        return (lo + hi) / 2.0;
    }
    let geo = (lo * hi).abs().sqrt();
    if positive { geo } else { -geo }
}

/// The share of a bucket's count below `v`, linear or on a log scale.
fn fraction_below(b: &Bucket, v: f64, linear: bool) -> f64 {
    if linear {
        return (v - b.lower) / (b.upper - b.lower);
    }
    let (ll, lu, lv) = (b.lower.abs().log2(), b.upper.abs().log2(), v.abs().log2());
    if v > 0.0 {
        (lv - ll) / (lu - ll)
    } else {
        1.0 - (lv - lu) / (ll - lu)
    }
}

/// The count kept of a bucket that straddles `bound`, and the midpoint of the kept part.
fn bucket_trim(b: &Bucket, bound: f64, upper: bool, positive: bool, linear: bool) -> (f64, f64) {
    if b.lower == f64::NEG_INFINITY || b.upper == f64::INFINITY {
        return infinite_bucket_trim(b, bound, upper);
    }
    let under = if bound <= b.lower {
        0.0
    } else if bound >= b.upper {
        b.count
    } else {
        b.count * fraction_below(b, bound, linear)
    };
    if upper {
        (under, midpoint(b.lower, bound, positive, linear))
    } else {
        (b.count - under, midpoint(bound, b.upper, positive, linear))
    }
}

/// Trimming a bucket with an infinite bound: the distribution inside is unknown, so such a
/// bucket is kept or dropped whole, except that a custom bucket `(-Inf, u]` with `u > 0` is
/// read as `[0, u]`.
fn infinite_bucket_trim(b: &Bucket, bound: f64, upper: bool) -> (f64, f64) {
    let zero_if_inf = |x: f64| if x.is_infinite() { 0.0 } else { x };
    if b.lower == f64::NEG_INFINITY {
        if upper {
            if bound >= b.upper {
                return (b.count, 0.0);
            }
            if bound > 0.0 && b.upper > 0.0 && b.upper.is_finite() {
                return (b.count * bound / b.upper, bound / 2.0);
            }
            if b.upper <= 0.0 {
                return (b.count, bound);
            }
            return (0.0, zero_if_inf(b.upper));
        }
        if bound <= b.lower {
            return (b.count, 0.0);
        }
        if bound >= 0.0 && b.upper > bound && b.upper.is_finite() {
            return (b.count * (1.0 - bound / b.upper), (bound + b.upper) / 2.0);
        }
        return (0.0, zero_if_inf(b.upper));
    }
    if upper {
        return (0.0, zero_if_inf(b.lower));
    }
    if bound >= b.lower {
        return (b.count, bound);
    }
    (0.0, zero_if_inf(b.lower))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::histogram::{BucketSpan, CUSTOM_BUCKETS_SCHEMA};

    fn custom() -> FloatHistogram {
        // Buckets (-Inf,1] (1,2] (2,4] (4,+Inf] with 1, 2, 4, 1 observations.
        FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: 8.0,
            sum: 20.0,
            custom_values: vec![1.0, 2.0, 4.0],
            positive_spans: vec![BucketSpan {
                offset: 0,
                length: 4,
            }],
            positive_buckets: vec![1.0, 2.0, 4.0, 1.0],
            ..Default::default()
        }
    }

    #[test]
    fn upper_trim_interpolates_the_straddling_bucket() {
        let h = trim_buckets(&custom(), 3.0, true);
        // Half of (2,4] survives; (4,+Inf] is dropped; (-Inf,1] counts as [0,1].
        assert_eq!(h.count, 1.0 + 2.0 + 2.0);
        let expected_sum = 0.5 * 1.0 + 1.5 * 2.0 + 2.5 * 2.0;
        assert!((h.sum - expected_sum).abs() < 1e-12, "{}", h.sum);
    }

    #[test]
    fn lower_trim_keeps_what_is_above() {
        let h = trim_buckets(&custom(), 2.0, false);
        assert_eq!(h.count, 4.0 + 1.0);
        // A bound on a bucket edge trims nothing more.
        let same = trim_buckets(&h, 2.0, false);
        assert_eq!(same, h);
    }
}
