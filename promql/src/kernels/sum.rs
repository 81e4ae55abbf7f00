//! Compensated summation and tolerant float comparison.

/// Adds `inc` to `sum` with Kahan–Neumaier compensation `c`; returns the new `(sum, c)`.
///
/// The caller adds `c` to `sum` once at the end. An infinite running sum resets the
/// compensation, which would otherwise turn into NaN.
pub fn kahan_sum_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// Returns the compensated sum of `values`.
pub fn kahan_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let (mut sum, mut c) = (0.0, 0.0);
    for v in values {
        (sum, c) = kahan_sum_inc(v, sum, c);
    }
    sum + c
}

/// Smallest positive normal f64, the scale for comparisons against zero.
const MIN_NORMAL: f64 = f64::MIN_POSITIVE;

/// Tells whether `a` and `b` are equal within relative tolerance `epsilon`.
///
/// NaN equals NaN, the staleness marker equals only itself, and a comparison with zero uses an
/// absolute tolerance of `epsilon` times the smallest normal float.
pub fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    use crate::value::is_stale_nan;
    if is_stale_nan(a) || is_stale_nan(b) {
        return is_stale_nan(a) && is_stale_nan(b);
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < epsilon * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::value::stale_nan;

    #[test]
    fn compensates_cancellation() {
        let values = [1e100, 1.0, -1e100];
        assert_eq!(values.iter().sum::<f64>(), 0.0);
        assert_eq!(kahan_sum(values), 1.0);
        assert_eq!(kahan_sum([0.1; 10]), 1.0);
        assert_eq!(kahan_sum([f64::INFINITY, 1.0]), f64::INFINITY);
        assert!(kahan_sum([f64::INFINITY, f64::NEG_INFINITY]).is_nan());
    }

    #[test]
    fn tolerant_comparison() {
        assert!(almost_equal(1.0, 1.0 + 1e-9, 1e-6));
        assert!(!almost_equal(1.0, 1.0001, 1e-6));
        assert!(almost_equal(f64::NAN, f64::NAN, 1e-6));
        assert!(!almost_equal(stale_nan(), f64::NAN, 1e-6));
        assert!(almost_equal(stale_nan(), stale_nan(), 1e-6));
        assert!(!almost_equal(0.0, 1e-300, 1e-6));
        assert!(almost_equal(f64::INFINITY, f64::INFINITY, 1e-6));
        assert!(!almost_equal(f64::INFINITY, f64::MAX, 1e-6));
    }

    /// Values `m * 2^e` whose exact sum fits an i128 scaled by 2^40.
    fn dyadic() -> impl Strategy<Value = f64> {
        (any::<i32>(), -40i32..40).prop_map(|(m, e)| f64::from(m) * 2f64.powi(e))
    }

    proptest! {
        #[test]
        fn matches_exact_sum(values in prop::collection::vec(dyadic(), 1..60)) {
            let exact: i128 = values.iter().map(|v| (v * 2f64.powi(40)) as i128).sum();
            let exact_f = exact as f64 / 2f64.powi(40);
            let got = kahan_sum(values.iter().copied());
            let magnitude: f64 = values.iter().map(|v| v.abs()).sum();
            // Neumaier's bound: one rounding of the result plus a second-order term.
            let bound = 2.0 * f64::EPSILON * exact_f.abs()
                + values.len() as f64 * f64::EPSILON * f64::EPSILON * magnitude;
            prop_assert!((got - exact_f).abs() <= bound, "got {got}, exact {exact_f}");
        }
    }
}
