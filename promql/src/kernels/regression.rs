//! `deriv`, `predict_linear` and `double_exponential_smoothing`.

use super::sum::kahan_sum_inc;
use crate::value::FPoint;

/// Errors of kernels that validate their parameters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KernelError {
    /// The smoothing factor of `double_exponential_smoothing` is outside (0, 1).
    #[error("invalid smoothing factor. Expected: 0 < sf < 1, got: {0:.6}")]
    SmoothingFactor(f64),
    /// The trend factor of `double_exponential_smoothing` is outside (0, 1).
    #[error("invalid trend factor. Expected: 0 < tf < 1, got: {0:.6}")]
    TrendFactor(f64),
}

/// Fits a least-squares line through `points`; returns `(slope, intercept)` with x in seconds
/// relative to `intercept_time` (ms).
///
/// Sums are compensated. A constant series has slope 0 (or NaN if the constant is infinite),
/// which keeps the result exact where the general formula would lose precision.
pub fn linear_regression(points: &[FPoint], intercept_time: i64) -> (f64, f64) {
    let Some(first) = points.first() else {
        return (f64::NAN, f64::NAN);
    };
    let init_y = first.f;
    let mut const_y = true;
    let (mut n, mut sum_x, mut c_x, mut sum_y, mut c_y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut c_xy, mut sum_x2, mut c_x2) = (0.0, 0.0, 0.0, 0.0);
    for p in points {
        if const_y && p.f != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (p.t - intercept_time) as f64 / 1e3;
        (sum_x, c_x) = kahan_sum_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_sum_inc(p.f, sum_y, c_y);
        (sum_xy, c_xy) = kahan_sum_inc(x * p.f, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_sum_inc(x * x, sum_x2, c_x2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let (sum_x, sum_y, sum_xy, sum_x2) = (sum_x + c_x, sum_y + c_y, sum_xy + c_xy, sum_x2 + c_x2);
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    (slope, sum_y / n - slope * sum_x / n)
}

/// Returns the per-second slope of `points`, or `None` with fewer than two points.
pub fn deriv(points: &[FPoint]) -> Option<f64> {
    // Regressing around the first timestamp keeps x small and the sums precise.
    let first = points.first()?;
    (points.len() >= 2).then(|| linear_regression(points, first.t).0)
}

/// Predicts the value `seconds` after `eval_time` (ms), or `None` with fewer than two points.
pub fn predict_linear(points: &[FPoint], eval_time: i64, seconds: f64) -> Option<f64> {
    (points.len() >= 2).then(|| {
        let (slope, intercept) = linear_regression(points, eval_time);
        slope * seconds + intercept
    })
}

/// Smooths `points` with Holt's linear (double exponential) method; returns the last level.
///
/// Both factors must lie strictly between 0 and 1. Fewer than two points give `Ok(None)`.
pub fn double_exponential_smoothing(
    points: &[FPoint],
    smoothing: f64,
    trend: f64,
) -> Result<Option<f64>, KernelError> {
    if smoothing.is_nan() || smoothing <= 0.0 || smoothing >= 1.0 {
        return Err(KernelError::SmoothingFactor(smoothing));
    }
    if trend.is_nan() || trend <= 0.0 || trend >= 1.0 {
        return Err(KernelError::TrendFactor(trend));
    }
    let [first, second, ..] = points else {
        return Ok(None);
    };
    let (mut s0, mut s1) = (0.0, first.f);
    let mut b = second.f - first.f;
    for (i, p) in points.iter().enumerate().skip(1) {
        let x = smoothing * p.f;
        if i > 1 {
            b = trend * (s1 - s0) + (1.0 - trend) * b;
        }
        let y = (1.0 - smoothing) * (s1 + b);
        (s0, s1) = (s1, x + y);
    }
    Ok(Some(s1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(values: &[(i64, f64)]) -> Vec<FPoint> {
        values.iter().map(|&(t, f)| FPoint { t, f }).collect()
    }

    #[test]
    fn regression_of_a_line() {
        // y = 2x + 1 with x in seconds.
        let p = pts(&[(0, 1.0), (1000, 3.0), (2000, 5.0), (3000, 7.0)]);
        let (slope, intercept) = linear_regression(&p, 0);
        assert!((slope - 2.0).abs() < 1e-12 && (intercept - 1.0).abs() < 1e-12);
        assert_eq!(deriv(&p), Some(2.0));
        // At t=3s the line is 7; 10s later it is 27.
        assert!((predict_linear(&p, 3000, 10.0).unwrap() - 27.0).abs() < 1e-9);
        assert_eq!(deriv(&p[..1]), None);
    }

    #[test]
    fn regression_of_constants() {
        let p = pts(&[(0, 5.0), (1000, 5.0)]);
        assert_eq!(linear_regression(&p, 0), (0.0, 5.0));
        let inf = pts(&[(0, f64::INFINITY), (1000, f64::INFINITY)]);
        assert!(linear_regression(&inf, 0).0.is_nan());
    }

    #[test]
    fn holt_smoothing_by_hand() {
        // sf = 0.5, tf = 0.5 over 0, 10, 20:
        // i=1: b=10, s1 = 0.5*10 + 0.5*(0+10) = 10
        // i=2: b = 0.5*(10-0) + 0.5*10 = 10, s1 = 0.5*20 + 0.5*(10+10) = 20
        let p = pts(&[(0, 0.0), (1, 10.0), (2, 20.0)]);
        assert_eq!(double_exponential_smoothing(&p, 0.5, 0.5), Ok(Some(20.0)));
        // 1, 3, 4 with sf=0.5, tf=0.5: i=1: b=2, s1=0.5*3+0.5*(1+2)=3;
        // i=2: b=0.5*(3-1)+0.5*2=2, s1=0.5*4+0.5*(3+2)=4.5
        let p = pts(&[(0, 1.0), (1, 3.0), (2, 4.0)]);
        assert_eq!(double_exponential_smoothing(&p, 0.5, 0.5), Ok(Some(4.5)));
        assert_eq!(double_exponential_smoothing(&p[..1], 0.5, 0.5), Ok(None));
        let err = double_exponential_smoothing(&p, 1.0, 0.5).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000"
        );
        assert!(double_exponential_smoothing(&p, 0.5, 0.0).is_err());
    }
}
