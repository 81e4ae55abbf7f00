//! Rounding, sign and clamping.

/// Rounds `v` to the nearest multiple of `to_nearest`; ties go up (towards +Inf).
///
/// Multiplying by the inverse instead of dividing by `to_nearest` matches Prometheus, which
/// found it to cause fewer precision surprises.
pub fn round_to_nearest(v: f64, to_nearest: f64) -> f64 {
    let inverse = 1.0 / to_nearest;
    (v * inverse + 0.5).floor() / inverse
}

/// Returns 1 for positive, -1 for negative, and `v` itself for zero and NaN.
pub fn sgn(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        v
    }
}

/// Clamps `v` into `[min, max]`; `None` when `max < min` (the sample is dropped).
pub fn clamp(v: f64, min: f64, max: f64) -> Option<f64> {
    // f64::clamp would panic on NaN bounds; Go's Max/Min propagate NaN instead.
    (max >= min || max.is_nan() || min.is_nan()).then(|| go_max(min, go_min(max, v)))
}

fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_round_up() {
        assert_eq!(round_to_nearest(2.5, 1.0), 3.0);
        assert_eq!(round_to_nearest(-2.5, 1.0), -2.0);
        assert_eq!(round_to_nearest(-2.51, 1.0), -3.0);
        assert_eq!(round_to_nearest(12.34, 0.1), 12.3);
        assert_eq!(round_to_nearest(15.0, 10.0), 20.0);
        assert!(round_to_nearest(f64::NAN, 1.0).is_nan());
        assert_eq!(round_to_nearest(f64::NEG_INFINITY, 1.0), f64::NEG_INFINITY);
        assert_eq!(round_to_nearest(-0.0, 1.0), 0.0);
    }

    #[test]
    fn sign_and_clamp() {
        assert_eq!(sgn(-3.0), -1.0);
        assert_eq!(sgn(0.0), 0.0);
        assert!(sgn(f64::NAN).is_nan());
        assert_eq!(clamp(5.0, 0.0, 1.0), Some(1.0));
        assert_eq!(clamp(-5.0, 0.0, 1.0), Some(0.0));
        assert_eq!(clamp(0.5, 1.0, 0.0), None);
        assert!(clamp(f64::NAN, 0.0, 1.0).unwrap().is_nan());
    }
}
