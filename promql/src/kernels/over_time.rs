//! The `*_over_time` family, `changes`, `resets`, and the φ-quantile shared with `quantile`.

use std::cmp::Ordering;

use super::sum::kahan_sum_inc;
use crate::value::{FPoint, HPoint, Point, PointValue};

/// Returns the compensated sum of the values.
pub fn sum_over_time(points: &[FPoint]) -> f64 {
    let (mut sum, mut c) = (0.0, 0.0);
    for p in points {
        (sum, c) = kahan_sum_inc(p.f, sum, c);
    }
    sum + c
}

/// Accumulates a mean the way `avg` and `avg_over_time` do.
///
/// It sums with compensation while the sum stays finite and switches to an incremental mean
/// once the sum would overflow, so large finite inputs still give a finite mean.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MeanAccumulator {
    count: f64,
    sum: f64,
    mean: f64,
    c: f64,
    incremental: bool,
}

impl MeanAccumulator {
    /// Adds one value.
    pub fn push(&mut self, v: f64) {
        self.count += 1.0;
        if self.count == 1.0 {
            // The first value starts the sum as is, even if infinite.
            self.sum = v;
            return;
        }
        if !self.incremental {
            let (sum, c) = kahan_sum_inc(v, self.sum, self.c);
            if !sum.is_infinite() {
                (self.sum, self.c) = (sum, c);
                return;
            }
            self.incremental = true;
            self.mean = self.sum / (self.count - 1.0);
            self.c /= self.count - 1.0;
        }
        let q = (self.count - 1.0) / self.count;
        (self.mean, self.c) = kahan_sum_inc(v / self.count, q * self.mean, q * self.c);
    }

    /// Returns the mean, NaN for no values.
    pub fn mean(&self) -> f64 {
        if self.incremental {
            self.mean + self.c
        } else {
            self.sum / self.count + self.c / self.count
        }
    }
}

/// Returns the mean of the values, or NaN for none.
pub fn avg_over_time(points: &[FPoint]) -> f64 {
    let mut acc = MeanAccumulator::default();
    points.iter().for_each(|p| acc.push(p.f));
    acc.mean()
}

/// Returns the smallest value; NaN only if all values are NaN.
pub fn min_over_time(points: &[FPoint]) -> Option<f64> {
    extreme(points, |cur, best| cur < best).map(|p| p.f)
}

/// Returns the largest value; NaN only if all values are NaN.
pub fn max_over_time(points: &[FPoint]) -> Option<f64> {
    extreme(points, |cur, best| cur > best).map(|p| p.f)
}

/// Returns the timestamp in seconds of the (latest) smallest value.
pub fn ts_of_min_over_time(points: &[FPoint]) -> Option<f64> {
    extreme(points, |cur, best| cur <= best).map(|p| p.t as f64 / 1000.0)
}

/// Returns the timestamp in seconds of the (latest) largest value.
pub fn ts_of_max_over_time(points: &[FPoint]) -> Option<f64> {
    extreme(points, |cur, best| cur >= best).map(|p| p.t as f64 / 1000.0)
}

fn extreme(points: &[FPoint], better: impl Fn(f64, f64) -> bool) -> Option<FPoint> {
    let mut best = *points.first()?;
    for p in points {
        if better(p.f, best.f) || best.f.is_nan() {
            best = *p;
        }
    }
    Some(best)
}

/// Returns the number of samples, floats and histograms together.
pub fn count_over_time(floats: &[FPoint], histograms: &[HPoint]) -> Option<f64> {
    let n = floats.len() + histograms.len();
    (n > 0).then_some(n as f64)
}

/// Returns the earliest sample of either kind.
pub fn first_over_time(floats: &[FPoint], histograms: &[HPoint]) -> Option<Point> {
    let f = floats.first().map(|p| Point {
        t: p.t,
        value: PointValue::Float(p.f),
    });
    let h = histograms.first();
    match (f, h) {
        (Some(f), Some(h)) if f.t <= h.t => Some(f),
        (_, Some(h)) => Some(Point {
            t: h.t,
            value: PointValue::Histogram(h.h.clone()),
        }),
        (f, None) => f,
    }
}

/// Returns the latest sample of either kind.
pub fn last_over_time(floats: &[FPoint], histograms: &[HPoint]) -> Option<Point> {
    let f = floats.last().map(|p| Point {
        t: p.t,
        value: PointValue::Float(p.f),
    });
    let h = histograms.last();
    match (f, h) {
        (Some(f), Some(h)) if f.t >= h.t => Some(f),
        (_, Some(h)) => Some(Point {
            t: h.t,
            value: PointValue::Histogram(h.h.clone()),
        }),
        (f, None) => f,
    }
}

/// Returns the timestamp in seconds of the earliest sample.
pub fn ts_of_first_over_time(floats: &[FPoint], histograms: &[HPoint]) -> Option<f64> {
    first_over_time(floats, histograms).map(|p| p.t as f64 / 1000.0)
}

/// Returns the timestamp in seconds of the latest sample.
pub fn ts_of_last_over_time(floats: &[FPoint], histograms: &[HPoint]) -> Option<f64> {
    last_over_time(floats, histograms).map(|p| p.t as f64 / 1000.0)
}

/// Accumulates a population variance with Welford's method and a compensated mean, the way the
/// `stddev`/`stdvar` aggregations do.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StdvarAccumulator {
    count: f64,
    mean: f64,
    mean_c: f64,
    m2: f64,
}

impl StdvarAccumulator {
    /// Adds one value.
    pub fn push(&mut self, v: f64) {
        self.count += 1.0;
        let delta = v - (self.mean + self.mean_c);
        (self.mean, self.mean_c) = kahan_sum_inc(delta / self.count, self.mean, self.mean_c);
        self.m2 += delta * (v - (self.mean + self.mean_c));
    }

    /// Returns the population variance, NaN for no values.
    pub fn variance(&self) -> f64 {
        self.m2 / self.count
    }
}

/// Returns the population variance of the values (Welford, compensated throughout).
pub fn stdvar_over_time(points: &[FPoint]) -> Option<f64> {
    if points.is_empty() {
        return None;
    }
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in points {
        count += 1.0;
        let delta = p.f - (mean + c_mean);
        (mean, c_mean) = kahan_sum_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_sum_inc(delta * (p.f - (mean + c_mean)), aux, c_aux);
    }
    Some((aux + c_aux) / count)
}

/// Returns the population standard deviation of the values.
pub fn stddev_over_time(points: &[FPoint]) -> Option<f64> {
    stdvar_over_time(points).map(f64::sqrt)
}

/// Returns the φ-quantile of `values` with linear interpolation between closest ranks.
///
/// `q < 0` gives -Inf, `q > 1` gives +Inf, NaN `q` or no values give NaN. NaN values sort
/// below all others, as in Prometheus.
pub fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// Returns the φ-quantile of the float values (`quantile_over_time`).
pub fn quantile_over_time(q: f64, points: &[FPoint]) -> Option<f64> {
    if points.is_empty() {
        return None;
    }
    let mut values: Vec<f64> = points.iter().map(|p| p.f).collect();
    Some(quantile(q, &mut values))
}

/// Returns the median absolute deviation from the median of the values.
pub fn mad_over_time(points: &[FPoint]) -> Option<f64> {
    if points.is_empty() {
        return None;
    }
    // A NaN sample makes the result NaN instead of being sorted out of the way.
    if points.iter().any(|p| p.f.is_nan()) {
        return Some(f64::NAN);
    }
    let mut values: Vec<f64> = points.iter().map(|p| p.f).collect();
    let median = quantile(0.5, &mut values);
    let mut deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
    Some(quantile(0.5, &mut deviations))
}

enum Either<'a> {
    Float(f64),
    Histogram(&'a crate::value::histogram::FloatHistogram),
}

/// Walks floats and histograms together in time order.
fn merged<'a>(floats: &'a [FPoint], histograms: &'a [HPoint]) -> Vec<Either<'a>> {
    let mut out: Vec<(i64, Either<'a>)> = floats
        .iter()
        .map(|p| (p.t, Either::Float(p.f)))
        .chain(histograms.iter().map(|p| (p.t, Either::Histogram(&p.h))))
        .collect();
    out.sort_by_key(|(t, _)| *t);
    out.into_iter().map(|(_, v)| v).collect()
}

/// Counts how often the value changed; a switch between float and histogram is a change.
pub fn changes(floats: &[FPoint], histograms: &[HPoint]) -> Option<f64> {
    let samples = merged(floats, histograms);
    if samples.is_empty() {
        return None;
    }
    let n = samples
        .windows(2)
        .filter(|w| match (&w[0], &w[1]) {
            (Either::Float(a), Either::Float(b)) => a != b && !(a.is_nan() && b.is_nan()),
            (Either::Histogram(a), Either::Histogram(b)) => !a.equals(b),
            _ => true,
        })
        .count();
    Some(n as f64)
}

/// Counts counter resets; a switch between float and histogram counts as one.
pub fn resets(floats: &[FPoint], histograms: &[HPoint]) -> Option<f64> {
    let samples = merged(floats, histograms);
    if samples.is_empty() {
        return None;
    }
    let n = samples
        .windows(2)
        .filter(|w| match (&w[0], &w[1]) {
            (Either::Float(a), Either::Float(b)) => b < a,
            (Either::Histogram(a), Either::Histogram(b)) => b.detect_reset(a),
            _ => true,
        })
        .count();
    Some(n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::histogram::FloatHistogram;

    fn pts(values: &[f64]) -> Vec<FPoint> {
        values
            .iter()
            .enumerate()
            .map(|(i, &f)| FPoint {
                t: i as i64 * 1000,
                f,
            })
            .collect()
    }

    #[test]
    fn sums_and_means() {
        assert_eq!(sum_over_time(&pts(&[1e100, 1.0, -1e100])), 1.0);
        assert_eq!(avg_over_time(&pts(&[1.0, 2.0, 3.0, 4.0])), 2.5);
        // The sum overflows but the mean does not.
        let big = avg_over_time(&pts(&[f64::MAX, f64::MAX, f64::MAX]));
        assert!((big - f64::MAX).abs() / f64::MAX < 1e-12);
        assert_eq!(avg_over_time(&pts(&[f64::INFINITY, 1.0])), f64::INFINITY);
        assert!(avg_over_time(&[]).is_nan());
    }

    #[test]
    fn extremes_skip_nan() {
        let p = pts(&[f64::NAN, 3.0, 1.0, 4.0, 1.0]);
        assert_eq!(min_over_time(&p), Some(1.0));
        assert_eq!(max_over_time(&p), Some(4.0));
        assert_eq!(ts_of_min_over_time(&p), Some(4.0));
        assert_eq!(ts_of_max_over_time(&p), Some(3.0));
        assert!(max_over_time(&pts(&[f64::NAN])).unwrap().is_nan());
        assert_eq!(min_over_time(&[]), None);
    }

    #[test]
    fn variance_by_hand() {
        // 2 4 4 4 5 5 7 9: mean 5, population variance 4.
        let p = pts(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(stdvar_over_time(&p), Some(4.0));
        assert_eq!(stddev_over_time(&p), Some(2.0));
        let mut acc = StdvarAccumulator::default();
        p.iter().for_each(|x| acc.push(x.f));
        assert_eq!(acc.variance(), 4.0);
        // Large offset: a naive sum-of-squares formula loses all precision here.
        let shifted: Vec<f64> = [4.0, 7.0, 13.0, 16.0].iter().map(|v| v + 1e9).collect();
        assert_eq!(stdvar_over_time(&pts(&shifted)), Some(22.5));
    }

    #[test]
    fn quantiles() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(0.5, &mut v), 2.5);
        assert_eq!(quantile(0.0, &mut v), 1.0);
        assert_eq!(quantile(1.0, &mut v), 4.0);
        assert!((quantile(0.9, &mut v) - 3.7).abs() < 1e-12);
        assert_eq!(quantile(-0.1, &mut v), f64::NEG_INFINITY);
        assert!(quantile(f64::NAN, &mut v).is_nan());
        let mut with_nan = vec![1.0, f64::NAN, 2.0];
        assert!(quantile(0.0, &mut with_nan).is_nan());
        assert_eq!(quantile(1.0, &mut with_nan), 2.0);
        // Median 3, deviations 2 1 0 1 6 -> median 1.
        assert_eq!(mad_over_time(&pts(&[1.0, 2.0, 3.0, 4.0, 9.0])), Some(1.0));
        assert!(
            mad_over_time(&pts(&[1.0, 2.0, f64::NAN, 4.0]))
                .unwrap()
                .is_nan()
        );
        assert_eq!(quantile_over_time(0.5, &pts(&[1.0, 3.0])), Some(2.0));
    }

    #[test]
    fn changes_resets_first_last() {
        let p = pts(&[1.0, 1.0, 2.0, f64::NAN, f64::NAN, 0.0]);
        assert_eq!(changes(&p, &[]), Some(3.0));
        assert_eq!(resets(&pts(&[3.0, 1.0, 2.0, 0.0]), &[]), Some(2.0));
        let h = vec![HPoint {
            t: 500,
            h: FloatHistogram::default(),
        }];
        assert_eq!(changes(&p[..2], &h), Some(2.0));
        assert_eq!(count_over_time(&p, &h), Some(7.0));
        assert_eq!(
            first_over_time(&p, &h).map(|p| p.value),
            Some(PointValue::Float(1.0))
        );
        let last = last_over_time(&p[..1], &h).unwrap();
        assert_eq!(
            (last.t, last.value),
            (500, PointValue::Histogram(FloatHistogram::default()))
        );
        assert_eq!(ts_of_last_over_time(&p, &h), Some(5.0));
        assert_eq!(ts_of_first_over_time(&[], &h), Some(0.5));
        assert_eq!(changes(&[], &[]), None);
    }
}
