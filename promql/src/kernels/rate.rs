//! `rate`, `increase`, `delta`, `irate` and `idelta`.

use crate::value::PointValue;
use crate::value::annotations::{Annotation, Annotations, PositionRange};
use crate::value::histogram::{CounterResetHint, FloatHistogram, HistogramError};
use crate::value::{FPoint, HPoint};

/// The range a range-vector function looks at: `(start, end]` in ms, and its length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RangeWindow {
    /// Exclusive start of the range in ms (evaluation time minus offset minus range).
    pub start: i64,
    /// Inclusive end of the range in ms (evaluation time minus offset).
    pub end: i64,
}

impl RangeWindow {
    /// Returns the range length in seconds.
    pub fn seconds(&self) -> f64 {
        (self.end - self.start) as f64 / 1000.0
    }
}

/// Computes `rate` (`is_counter && is_rate`), `increase` (`is_counter`) or `delta` (neither)
/// over the samples of one series in `window`.
///
/// The difference between the first and last sample is extrapolated towards the range bounds:
/// all the way if a sample is within 110% of the average sample interval of the bound,
/// otherwise by half an interval. A counter is never extrapolated below zero. Counter resets
/// add the value before the reset back. Floats and histograms must not be mixed, and at least
/// two samples are needed; otherwise there is no result.
pub fn extrapolated_rate(
    floats: &[FPoint],
    histograms: &[HPoint],
    window: RangeWindow,
    is_counter: bool,
    is_rate: bool,
    metric: &str,
    pos: PositionRange,
) -> (Option<PointValue>, Annotations) {
    let mut annos = Annotations::new();
    if !floats.is_empty() && !histograms.is_empty() {
        annos.add(Annotation::mixed_floats_histograms(metric, pos));
        return (None, annos);
    }
    let (first_t, last_t, samples_minus_one, mut result) = if histograms.len() > 1 {
        let Some(h) = histogram_rate(histograms, is_counter, metric, pos, &mut annos) else {
            return (None, annos);
        };
        let n = histograms.len() - 1;
        (
            histograms[0].t,
            histograms[n].t,
            n,
            PointValue::Histogram(h),
        )
    } else if floats.len() > 1 {
        let n = floats.len() - 1;
        let mut delta = floats[n].f - floats[0].f;
        if is_counter {
            for pair in floats.windows(2) {
                if pair[1].f < pair[0].f {
                    delta += pair[0].f;
                }
            }
        }
        (floats[0].t, floats[n].t, n, PointValue::Float(delta))
    } else {
        return (None, annos);
    };

    let mut to_start = (first_t - window.start) as f64 / 1000.0;
    let mut to_end = (window.end - last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    let average = sampled / samples_minus_one as f64;
    let threshold = average * 1.1;
    if to_start >= threshold {
        to_start = average / 2.0;
    }
    if is_counter {
        // Where the counter would have been zero, assuming a constant slope.
        let to_zero = match &result {
            PointValue::Float(delta) if *delta > 0.0 && floats[0].f >= 0.0 => {
                sampled * (floats[0].f / delta)
            }
            PointValue::Histogram(h) if h.count > 0.0 && histograms[0].h.count >= 0.0 => {
                sampled * (histograms[0].h.count / h.count)
            }
            _ => to_start,
        };
        to_start = to_start.min(to_zero);
    }
    if to_end >= threshold {
        to_end = average / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if is_rate {
        factor /= window.seconds();
    }
    result = match result {
        PointValue::Float(f) => PointValue::Float(f * factor),
        PointValue::Histogram(h) => PointValue::Histogram(h.mul(factor)),
    };
    (Some(result), annos)
}

/// Returns last minus first histogram, corrected for counter resets, as a gauge histogram.
fn histogram_rate(
    points: &[HPoint],
    is_counter: bool,
    metric: &str,
    pos: PositionRange,
    annos: &mut Annotations,
) -> Option<FloatHistogram> {
    let first = &points[0].h;
    let last = &points[points.len() - 1].h;
    let is_gauge = |h: &FloatHistogram| h.counter_reset_hint == CounterResetHint::Gauge;
    if is_counter && points.iter().any(|p| is_gauge(&p.h)) {
        annos.add(Annotation::native_histogram_not_counter(metric, pos));
    }
    // A reset right after the first sample makes the first sample irrelevant, whatever its
    // layout, so it is replaced by an empty histogram.
    let mut prev = first.clone();
    if is_counter && points[1].h.detect_reset(first) {
        prev = FloatHistogram {
            schema: points[1].h.schema,
            custom_values: points[1].h.custom_values.clone(),
            counter_reset_hint: CounterResetHint::CounterReset,
            ..Default::default()
        };
    }
    let custom = prev.uses_custom_buckets();
    if points[1..]
        .iter()
        .any(|p| p.h.uses_custom_buckets() != custom)
    {
        annos.add(Annotation::mixed_exponential_custom_histograms(metric, pos));
        return None;
    }
    let min_schema = points[1..]
        .iter()
        .map(|p| p.h.schema)
        .fold(prev.schema, i32::min);
    let mut h = match last.reduce_resolution(min_schema).sub(&prev) {
        Ok(r) => {
            if r.custom_buckets_reconciled {
                annos.add(Annotation::mismatched_custom_buckets("subtraction", pos));
            }
            r.histogram
        }
        Err(HistogramError::IncompatibleSchema) => {
            annos.add(Annotation::mixed_exponential_custom_histograms(metric, pos));
            return None;
        }
    };
    if is_counter {
        for p in &points[1..] {
            if p.h.detect_reset(&prev) {
                match h.add(&prev) {
                    Ok(r) => {
                        if r.custom_buckets_reconciled {
                            annos.add(Annotation::mismatched_custom_buckets("addition", pos));
                        }
                        h = r.histogram;
                    }
                    Err(HistogramError::IncompatibleSchema) => {
                        annos.add(Annotation::mixed_exponential_custom_histograms(metric, pos));
                        return None;
                    }
                }
            }
            prev = p.h.clone();
        }
    } else if !is_gauge(first) || !is_gauge(last) {
        annos.add(Annotation::native_histogram_not_gauge(metric, pos));
    }
    h.counter_reset_hint = CounterResetHint::Gauge;
    Some(h.compact(0))
}

/// Computes `irate` (`is_rate`) or `idelta` from the last two samples of one series.
///
/// `irate` treats a decrease as a counter reset and returns the last value per second of
/// the interval; `idelta` returns the plain difference.
pub fn instant_value(
    floats: &[FPoint],
    histograms: &[HPoint],
    is_rate: bool,
    metric: &str,
    pos: PositionRange,
) -> (Option<PointValue>, Annotations) {
    let mut annos = Annotations::new();
    let mut last_two: Vec<(i64, PointValue)> = floats[floats.len().saturating_sub(2)..]
        .iter()
        .map(|p| (p.t, PointValue::Float(p.f)))
        .chain(
            histograms[histograms.len().saturating_sub(2)..]
                .iter()
                .map(|p| (p.t, PointValue::Histogram(p.h.clone()))),
        )
        .collect();
    last_two.sort_by_key(|(t, _)| *t);
    let [.., (prev_t, prev), (last_t, last)] = last_two.as_slice() else {
        return (None, annos);
    };
    let result = match (prev, last) {
        (PointValue::Float(p), PointValue::Float(l)) => {
            PointValue::Float(if is_rate && l < p { *l } else { l - p })
        }
        (PointValue::Histogram(p), PointValue::Histogram(l)) => {
            let is_gauge = |h: &FloatHistogram| h.counter_reset_hint == CounterResetHint::Gauge;
            if is_rate && (is_gauge(p) || is_gauge(l)) {
                annos.add(Annotation::native_histogram_not_counter(metric, pos));
            }
            if !is_rate && (!is_gauge(p) || !is_gauge(l)) {
                annos.add(Annotation::native_histogram_not_gauge(metric, pos));
            }
            let mut h = if is_rate && l.detect_reset(p) {
                l.clone()
            } else {
                match l.sub(p) {
                    Ok(r) => {
                        if r.custom_buckets_reconciled {
                            annos.add(Annotation::mismatched_custom_buckets("subtraction", pos));
                        }
                        r.histogram
                    }
                    Err(HistogramError::IncompatibleSchema) => {
                        annos.add(Annotation::mixed_exponential_custom_histograms(metric, pos));
                        return (None, annos);
                    }
                }
            };
            h.counter_reset_hint = CounterResetHint::Gauge;
            PointValue::Histogram(h.compact(0))
        }
        _ => {
            annos.add(Annotation::mixed_floats_histograms(metric, pos));
            return (None, annos);
        }
    };
    if !is_rate {
        return (Some(result), annos);
    }
    let interval = last_t - prev_t;
    if interval == 0 {
        return (None, annos);
    }
    let seconds = interval as f64 / 1000.0;
    let result = match result {
        PointValue::Float(f) => PointValue::Float(f / seconds),
        PointValue::Histogram(h) => PointValue::Histogram(h.div(seconds)),
    };
    (Some(result), annos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::histogram::BucketSpan;

    const P: PositionRange = PositionRange { start: 0, end: 0 };

    fn pts(t0: i64, step: i64, values: &[f64]) -> Vec<FPoint> {
        values
            .iter()
            .enumerate()
            .map(|(i, &f)| FPoint {
                t: t0 + step * i as i64,
                f,
            })
            .collect()
    }

    fn float(v: Option<PointValue>) -> f64 {
        match v {
            Some(PointValue::Float(f)) => f,
            other => panic!("expected a float, got {other:?}"),
        }
    }

    #[test]
    fn rate_of_regular_counter_covering_the_range() {
        // Samples every 15s from 15s to 300s in the window (0, 300s]: extrapolate 15s at start.
        let floats = pts(
            15_000,
            15_000,
            &(1..=20).map(|i| f64::from(i) * 15.0).collect::<Vec<_>>(),
        );
        let w = RangeWindow {
            start: 0,
            end: 300_000,
        };
        let (r, _) = extrapolated_rate(&floats, &[], w, true, true, "m", P);
        // 285 over 285s sampled; to_start = 15 but the zero point is 15s away too: 300/300.
        assert!((float(r) - 1.0).abs() < 1e-12);
        let (inc, _) = extrapolated_rate(&floats, &[], w, true, false, "m", P);
        assert!((float(inc) - 300.0).abs() < 1e-9);
    }

    #[test]
    fn rate_clamps_at_counter_zero_point() {
        // Counter starts at 10 and rises 10 per minute; window (0, 5m] with samples at 1m..5m.
        let floats = pts(60_000, 60_000, &[10.0, 20.0, 30.0, 40.0, 50.0]);
        let w = RangeWindow {
            start: 0,
            end: 300_000,
        };
        let (inc, _) = extrapolated_rate(&floats, &[], w, true, false, "m", P);
        // to_start = 60s, zero point also 60s away: 40 * (240 + 60 + 0) / 240 = 50.
        assert!((float(inc) - 50.0).abs() < 1e-9);
        // A higher start value keeps the zero point out of reach: full 60s extrapolation.
        let floats = pts(60_000, 60_000, &[100.0, 110.0, 120.0, 130.0, 140.0]);
        let (inc, _) = extrapolated_rate(&floats, &[], w, true, false, "m", P);
        assert!((float(inc) - 50.0).abs() < 1e-9);
        // delta does not clamp and extrapolates a gauge as is.
        let floats = pts(60_000, 60_000, &[10.0, 0.0, 10.0, 0.0, 10.0]);
        let (d, _) = extrapolated_rate(&floats, &[], w, false, false, "m", P);
        assert_eq!(float(d), 0.0);
    }

    #[test]
    fn rate_handles_resets_and_gaps() {
        // Reset from 30 to 5: increase = (5 - 10) + 30 = 25 over samples 0..120s.
        let floats = pts(0, 60_000, &[10.0, 30.0, 5.0]);
        let w = RangeWindow {
            start: -1,
            end: 600_000,
        };
        // Interval 60s; to_start = 0.001s (< 66s), to_end = 480s (>= 66s) -> 30s.
        let (inc, _) = extrapolated_rate(&floats, &[], w, true, false, "m", P);
        let expected = 25.0 * (120.0 + 0.001 + 30.0) / 120.0;
        assert!((float(inc) - expected).abs() < 1e-9);
        let (none, _) = extrapolated_rate(&floats[..1], &[], w, true, false, "m", P);
        assert!(none.is_none());
    }

    #[test]
    fn rate_of_histograms_and_mixed_input() {
        let hist = |count: f64| FloatHistogram {
            count,
            sum: count,
            positive_spans: vec![BucketSpan {
                offset: 0,
                length: 1,
            }],
            positive_buckets: vec![count],
            ..Default::default()
        };
        let hs: Vec<HPoint> = (0..=4)
            .map(|i| HPoint {
                t: i * 60_000,
                h: hist(f64::from(i as i32 + 1) * 6.0),
            })
            .collect();
        let w = RangeWindow {
            start: -1,
            end: 240_000,
        };
        let (r, annos) = extrapolated_rate(&[], &hs, w, true, true, "m", P);
        let Some(PointValue::Histogram(h)) = r else {
            panic!("expected histogram")
        };
        // increase 24 (+ extrapolation by 0.001s) over 240.001s.
        assert!((h.count - 24.0 * (240.001 / 240.0) / 240.001).abs() < 1e-9);
        assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);
        assert!(annos.is_empty());
        let floats = pts(0, 60_000, &[1.0]);
        let (none, annos) = extrapolated_rate(&floats, &hs, w, true, true, "m", P);
        assert!(none.is_none());
        assert_eq!(annos.warnings("").len(), 1);
    }

    #[test]
    fn irate_and_idelta() {
        let floats = pts(0, 10_000, &[1.0, 5.0, 3.0]);
        let (r, _) = instant_value(&floats, &[], true, "m", P);
        assert!((float(r) - 0.3).abs() < 1e-12);
        let (d, _) = instant_value(&floats, &[], false, "m", P);
        assert_eq!(float(d), -2.0);
        let (none, _) = instant_value(&floats[..1], &[], true, "m", P);
        assert!(none.is_none());
    }
}
