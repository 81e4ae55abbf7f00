//! PromQL functions: evaluation of every call over the steps of a query.
//!
//! The numeric work lives in the kernels; this module selects the inputs of each step, wires
//! the kernels, and builds output samples with the right labels and annotations.

mod calendar;
mod histogram;
mod info;
mod labels;

use crate::ast::{Call, Expr};
use crate::engine::EngineError;
use crate::engine::eval::{
    Ctx, RangeInput, RangeSeries, Stepped, Steps, exec_err, interpolate_histograms, pick_left,
    pick_right, pos,
};
use crate::kernels::{
    RangeWindow, avg_over_time, changes, count_over_time, deriv, double_exponential_smoothing,
    extrapolated_rate, first_over_time, instant_value, last_over_time, mad_over_time,
    max_over_time, min_over_time, predict_linear, quantile_over_time, resets, round_to_nearest,
    sgn, stddev_over_time, stdvar_over_time, sum_over_time, ts_of_first_over_time,
    ts_of_last_over_time, ts_of_max_over_time, ts_of_min_over_time,
};
use crate::value::annotations::{Annotation, PositionRange};
use crate::value::histogram::{CounterResetHint, FloatHistogram, HistogramError, HistogramMean};
use crate::value::labels::Labels;
use crate::value::{FPoint, HPoint, Point, PointValue, Sample, Vector};

/// Evaluates a function call at every step.
pub(crate) fn call(cx: &mut Ctx<'_>, c: &Call, steps: Steps) -> Result<Stepped, EngineError> {
    let name = c.func.name;
    if let Some(f) = float_fn(name) {
        return map_floats(cx, c, steps, f);
    }
    if c.func.name.starts_with("sort") && cx.is_range {
        cx.annotate(Annotation::ineffective_sort(pos(c.span)));
    }
    match name {
        "time" => Ok(Stepped::Scalar(
            (0..steps.len())
                .map(|i| steps.ts(i) as f64 / 1000.0)
                .collect(),
        )),
        "pi" => Ok(Stepped::Scalar(vec![std::f64::consts::PI; steps.len()])),
        "start" | "end" | "range" | "step" => {
            let v = cx.query_param(name);
            Ok(Stepped::Scalar(vec![v; steps.len()]))
        }
        "min_of" | "max_of" => {
            let a = cx.eval_scalar(&c.args[0], steps)?;
            let b = cx.eval_scalar(&c.args[1], steps)?;
            Ok(Stepped::Scalar(
                a.into_iter()
                    .zip(b)
                    .map(|(a, b)| {
                        // Go's math.Min and math.Max return NaN if either is NaN.
                        if a.is_nan() || b.is_nan() {
                            f64::NAN
                        } else if name == "min_of" {
                            a.min(b)
                        } else {
                            a.max(b)
                        }
                    })
                    .collect(),
            ))
        }
        "vector" => {
            let v = cx.eval_scalar(&c.args[0], steps)?;
            Ok(Stepped::Vector(
                v.into_iter()
                    .map(|f| {
                        vec![Sample {
                            labels: Labels::empty(),
                            t: 0,
                            value: PointValue::Float(f),
                            drop_name: false,
                        }]
                    })
                    .collect(),
            ))
        }
        "scalar" => {
            let v = cx.eval_vector(&c.args[0], steps)?;
            Ok(Stepped::Scalar(
                v.into_iter()
                    .map(|vec: Vector| {
                        // The one float of the vector; histograms do not count.
                        let mut floats = vec.iter().filter_map(|s| match s.value {
                            PointValue::Float(f) => Some(f),
                            PointValue::Histogram(_) => None,
                        });
                        match (floats.next(), floats.next()) {
                            (Some(f), None) => f,
                            _ => f64::NAN,
                        }
                    })
                    .collect(),
            ))
        }
        "timestamp" => timestamp(cx, c, steps),
        "round" => {
            let to = match c.args.get(1) {
                Some(a) => cx.eval_scalar(a, steps)?,
                None => vec![1.0; steps.len()],
            };
            map_floats_with(cx, c, steps, |f, i| round_to_nearest(f, to[i]))
        }
        "clamp" | "clamp_min" | "clamp_max" => clamp_fn(cx, c, steps),
        "sort" | "sort_desc" => {
            let mut v = cx.eval_vector(&c.args[0], steps)?;
            let desc = name == "sort_desc";
            for vec in &mut v {
                vec.retain(|s| matches!(s.value, PointValue::Float(_)));
                vec.sort_by(|a, b| {
                    let (x, y) = (float_of(a), float_of(b));
                    // NaN sorts last in both directions, as in Prometheus.
                    match (x.is_nan(), y.is_nan()) {
                        (true, true) => std::cmp::Ordering::Equal,
                        (true, false) => std::cmp::Ordering::Greater,
                        (false, true) => std::cmp::Ordering::Less,
                        _ if desc => y.total_cmp(&x),
                        _ => x.total_cmp(&y),
                    }
                });
            }
            Ok(Stepped::Vector(v))
        }
        "sort_by_label" | "sort_by_label_desc" => labels::sort_by_label(cx, c, steps),
        "label_replace" => labels::label_replace(cx, c, steps),
        "label_join" => labels::label_join(cx, c, steps),
        "absent" => absent(cx, c, steps),
        "info" => info::eval(cx, c, steps),
        "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month" | "hour" | "minute"
        | "month" | "year" => calendar::eval(cx, c, steps),
        "histogram_count"
        | "histogram_sum"
        | "histogram_avg"
        | "histogram_stddev"
        | "histogram_stdvar"
        | "histogram_fraction"
        | "histogram_quantile"
        | "histogram_quantiles" => histogram::eval(cx, c, steps),
        _ => range_function(cx, c, steps),
    }
}

fn float_of(s: &Sample) -> f64 {
    match s.value {
        PointValue::Float(f) => f,
        PointValue::Histogram(_) => f64::NAN,
    }
}

/// The element-wise float functions.
fn float_fn(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sqrt" => f64::sqrt,
        "sgn" => sgn,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => f64::to_degrees,
        "rad" => f64::to_radians,
        _ => return None,
    })
}

fn map_floats(
    cx: &mut Ctx<'_>,
    c: &Call,
    steps: Steps,
    f: fn(f64) -> f64,
) -> Result<Stepped, EngineError> {
    map_floats_with(cx, c, steps, |v, _| f(v))
}

/// Applies `f` to every float sample of the first argument; histograms are dropped.
fn map_floats_with(
    cx: &mut Ctx<'_>,
    c: &Call,
    steps: Steps,
    f: impl Fn(f64, usize) -> f64,
) -> Result<Stepped, EngineError> {
    let input = cx.eval_vector(&c.args[0], steps)?;
    let out = input
        .into_iter()
        .enumerate()
        .map(|(i, vec)| {
            vec.into_iter()
                .filter_map(|mut s| match s.value {
                    PointValue::Float(v) => {
                        s.value = PointValue::Float(f(v, i));
                        s.drop_name = true;
                        Some(s)
                    }
                    PointValue::Histogram(_) => None,
                })
                .collect()
        })
        .collect();
    Ok(Stepped::Vector(out))
}

fn clamp_fn(cx: &mut Ctx<'_>, c: &Call, steps: Steps) -> Result<Stepped, EngineError> {
    let name = c.func.name;
    let (min, max) = match name {
        "clamp" => (
            cx.eval_scalar(&c.args[1], steps)?,
            cx.eval_scalar(&c.args[2], steps)?,
        ),
        "clamp_min" => (
            cx.eval_scalar(&c.args[1], steps)?,
            vec![f64::INFINITY; steps.len()],
        ),
        _ => (
            vec![f64::NEG_INFINITY; steps.len()],
            cx.eval_scalar(&c.args[1], steps)?,
        ),
    };
    let input = cx.eval_vector(&c.args[0], steps)?;
    let out = input
        .into_iter()
        .enumerate()
        .map(|(i, vec)| {
            if name == "clamp" && max[i] < min[i] {
                return Vec::new();
            }
            vec.into_iter()
                .filter_map(|mut s| match s.value {
                    PointValue::Float(v) => {
                        // Go's math.Max/Min propagate NaN bounds.
                        let lo = if min[i].is_nan() || v.is_nan() {
                            f64::NAN
                        } else {
                            v.max(min[i])
                        };
                        let r = if max[i].is_nan() || lo.is_nan() {
                            f64::NAN
                        } else {
                            lo.min(max[i])
                        };
                        s.value = PointValue::Float(r);
                        s.drop_name = true;
                        Some(s)
                    }
                    PointValue::Histogram(_) => None,
                })
                .collect()
        })
        .collect();
    Ok(Stepped::Vector(out))
}

fn unwrap_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unwrap_parens(&p.expr),
        other => other,
    }
}

fn timestamp(cx: &mut Ctx<'_>, c: &Call, steps: Steps) -> Result<Stepped, EngineError> {
    let from_selector = matches!(unwrap_parens(&c.args[0]), Expr::VectorSelector(_));
    let input = cx.eval_vector(&c.args[0], steps)?;
    Ok(Stepped::Vector(
        input
            .into_iter()
            .enumerate()
            .map(|(i, vec)| {
                vec.into_iter()
                    .map(|mut s| {
                        let t = if from_selector { s.t } else { steps.ts(i) };
                        s.value = PointValue::Float(t as f64 / 1000.0);
                        s.drop_name = true;
                        s
                    })
                    .collect()
            })
            .collect(),
    ))
}

/// The labels `absent` gives its output: the equality matchers of a plain selector, except
/// labels matched more than once.
fn absent_labels(e: &Expr) -> Labels {
    let selector = match unwrap_parens(e) {
        Expr::VectorSelector(v) => v,
        Expr::MatrixSelector(m) => &m.selector,
        _ => return Labels::empty(),
    };
    let mut out = Labels::empty();
    let mut seen = std::collections::HashSet::new();
    let mut dup = std::collections::HashSet::new();
    for m in &selector.matchers {
        if m.name == "__name__" {
            continue;
        }
        if !seen.insert(m.name.clone()) {
            dup.insert(m.name.clone());
        }
        if m.op == crate::ast::MatchOp::Equal {
            out.set(m.name.clone(), m.value.clone());
        }
    }
    for d in dup {
        out.remove(&d);
    }
    out
}

fn absent(cx: &mut Ctx<'_>, c: &Call, steps: Steps) -> Result<Stepped, EngineError> {
    let input = cx.eval_vector(&c.args[0], steps)?;
    let labels = absent_labels(&c.args[0]);
    Ok(Stepped::Vector(
        input
            .into_iter()
            .map(|vec| {
                if vec.is_empty() {
                    vec![one(labels.clone())]
                } else {
                    Vec::new()
                }
            })
            .collect(),
    ))
}

fn one(labels: Labels) -> Sample {
    Sample {
        labels,
        t: 0,
        value: PointValue::Float(1.0),
        drop_name: false,
    }
}

/// Annotates what happened while summing histograms.
fn note_accumulation(
    cx: &mut Ctx<'_>,
    notes: crate::value::histogram::AccumulationNotes,
    p: PositionRange,
) {
    if notes.counter_reset_collision {
        cx.annotate(Annotation::histogram_counter_reset_collision(
            "aggregation",
            p,
        ));
    }
    if notes.custom_buckets_reconciled {
        cx.annotate(Annotation::mismatched_custom_buckets("aggregation", p));
    }
}

fn metric_name(s: &RangeSeries) -> &str {
    s.labels.metric_name().unwrap_or_default()
}

/// Drops histograms mixed into a float range, with an info, as the `*_over_time` functions do
/// that only work on floats.
fn floats_only<'a>(
    cx: &mut Ctx<'_>,
    s: &RangeSeries,
    f: &'a [FPoint],
    h: &[HPoint],
    p: PositionRange,
) -> Option<&'a [FPoint]> {
    if f.is_empty() {
        return None;
    }
    if !h.is_empty() {
        cx.annotate(Annotation::histogram_ignored_in_mixed_range(
            metric_name(s),
            p,
        ));
    }
    Some(f)
}

/// Functions that accept `anchored` and `smoothed` ranges.
const ANCHORED_SAFE: [&str; 5] = ["changes", "delta", "increase", "rate", "resets"];
const SMOOTHED_SAFE: [&str; 3] = ["delta", "increase", "rate"];

fn check_extended_modifiers(name: &str, anchored: bool, smoothed: bool) -> Result<(), EngineError> {
    let (modifier, allowed): (&str, &[&str]) = if anchored {
        ("anchored", &ANCHORED_SAFE)
    } else if smoothed {
        ("smoothed", &SMOOTHED_SAFE)
    } else {
        return Ok(());
    };
    if allowed.contains(&name) {
        return Ok(());
    }
    Err(exec_err(format!(
        "{modifier} modifier can only be used with: {} - not with {name}",
        allowed.join(", ")
    )))
}

/// `rate`, `increase`, `delta`, `changes` and `resets` over an `anchored` or `smoothed`
/// range: the bounds take the value of the sample at or before them (anchored) or the value
/// interpolated there (smoothed), so nothing is extrapolated.
#[allow(clippy::too_many_arguments)]
fn extended_value(
    cx: &mut Ctx<'_>,
    name: &str,
    f: &[FPoint],
    h: &[HPoint],
    window: RangeWindow,
    smoothed: bool,
    metric: &str,
    p: PositionRange,
) -> Option<PointValue> {
    if !f.is_empty() && !h.is_empty() && name != "changes" && name != "resets" {
        cx.annotate(Annotation::mixed_floats_histograms(metric, p));
        return None;
    }
    match name {
        "changes" | "resets" => {
            let lf = f.partition_point(|x| x.t <= window.start) as isize - 1;
            let lh = h.partition_point(|x| x.t <= window.start) as isize - 1;
            if lf + 1 >= f.len() as isize && lh + 1 >= h.len() as isize {
                return None;
            }
            let (fi, hi) = if lf < 0 && lh < 0 {
                (0, 0)
            } else if lh < 0 || (lf >= 0 && f[lf as usize].t >= h[lh as usize].t) {
                (lf, lh + 1)
            } else {
                (lf + 1, lh)
            };
            let (f, h) = (&f[fi.max(0) as usize..], &h[hi.max(0) as usize..]);
            let v = if name == "changes" {
                changes(f, h)
            } else {
                resets(f, h)
            };
            v.map(PointValue::Float)
        }
        _ if f.is_empty() => extended_histogram_rate(cx, name, h, window, smoothed, metric, p),
        _ => {
            let is_counter = name != "delta";
            let mut last = f.len() - 1;
            let first = f[..last]
                .partition_point(|x| x.t <= window.start)
                .saturating_sub(1);
            if smoothed {
                last = f[..last].partition_point(|x| x.t < window.end);
            }
            if f[last].t <= window.start || (smoothed && f[first].t > window.end) {
                return None;
            }
            let left = pick_left(f, first, window.start, smoothed, is_counter);
            let right = pick_right(f, last, window.end, smoothed, is_counter);
            let mut result = right - left;
            if is_counter {
                let a = if f[first].t <= window.start {
                    first + 1
                } else {
                    first
                };
                let b = if f[last].t >= window.end {
                    last
                } else {
                    last + 1
                };
                let mut prev = left;
                for x in f.get(a..b).unwrap_or_default() {
                    if x.f < prev {
                        result += prev;
                    }
                    prev = x.f;
                }
                if right < prev {
                    result += prev;
                }
            }
            if name == "rate" {
                result /= window.seconds();
            }
            Some(PointValue::Float(result))
        }
    }
}

/// Adds `b` to or subtracts it from `a`, annotating as Prometheus does; `None` when the
/// layouts cannot be combined.
fn combine_histograms(
    cx: &mut Ctx<'_>,
    a: &FloatHistogram,
    b: &FloatHistogram,
    add: bool,
    metric: &str,
    p: PositionRange,
) -> Option<FloatHistogram> {
    let (res, op) = if add {
        (a.add(b), "addition")
    } else {
        (a.sub(b), "subtraction")
    };
    match res {
        Ok(c) => {
            if c.custom_buckets_reconciled {
                cx.annotate(Annotation::mismatched_custom_buckets(op, p));
            }
            Some(c.histogram)
        }
        Err(_) => {
            cx.annotate(Annotation::mixed_exponential_custom_histograms(metric, p));
            None
        }
    }
}

/// The histogram at an extended range bound: sample `i` itself, or (smoothed) the value
/// interpolated at `t` between it and its `neighbour`.
fn histogram_at(
    cx: &mut Ctx<'_>,
    h: &[HPoint],
    (i, neighbour): (usize, Option<usize>),
    t: i64,
    is_counter: bool,
    p: PositionRange,
) -> Result<FloatHistogram, HistogramError> {
    let Some(j) = neighbour else {
        return Ok(h[i].h.clone());
    };
    let (a, b) = if j > i {
        (&h[i], &h[j])
    } else {
        (&h[j], &h[i])
    };
    interpolate_histograms(a, b, t, is_counter, &mut cx.annotations, p)
}

/// `rate`, `increase` and `delta` of native histograms over an `anchored` or `smoothed` range.
fn extended_histogram_rate(
    cx: &mut Ctx<'_>,
    name: &str,
    h: &[HPoint],
    window: RangeWindow,
    smoothed: bool,
    metric: &str,
    p: PositionRange,
) -> Option<PointValue> {
    let is_counter = name != "delta";
    let mut last = h.len().checked_sub(1)?;
    let first = h[..last]
        .partition_point(|x| x.t <= window.start)
        .saturating_sub(1);
    if smoothed {
        last = h[..last].partition_point(|x| x.t < window.end);
    }
    if h[last].t <= window.start || (smoothed && h[first].t > window.end) {
        return None;
    }
    let custom = h[first].h.uses_custom_buckets();
    for x in &h[first..=last] {
        if x.h.uses_custom_buckets() != custom {
            cx.annotate(Annotation::mixed_exponential_custom_histograms(metric, p));
            return None;
        }
        if is_counter && x.h.counter_reset_hint == CounterResetHint::Gauge {
            cx.annotate(Annotation::native_histogram_not_counter(metric, p));
        }
    }
    let left_neighbour =
        (smoothed && h[first].t < window.start && first + 1 < h.len()).then_some(first + 1);
    let right_neighbour = (smoothed && last > 0 && h[last].t > window.end).then(|| last - 1);
    let bounds = histogram_at(cx, h, (first, left_neighbour), window.start, is_counter, p)
        .and_then(|l| {
            histogram_at(cx, h, (last, right_neighbour), window.end, is_counter, p).map(|r| (l, r))
        });
    let Ok((left, right)) = bounds else {
        cx.annotate(Annotation::mixed_exponential_custom_histograms(metric, p));
        return None;
    };
    if !is_counter
        && (left.counter_reset_hint != CounterResetHint::Gauge
            || right.counter_reset_hint != CounterResetHint::Gauge)
    {
        cx.annotate(Annotation::native_histogram_not_gauge(metric, p));
    }
    let mut result = combine_histograms(cx, &right, &left, false, metric, p)?;
    if is_counter {
        let mut start = first + 1;
        let mut prev = left.clone();
        if smoothed
            && h[first].t < window.start
            && first + 1 < h.len()
            && h[first + 1].h.detect_reset(&h[first].h)
        {
            prev = h[first + 1].h.clone();
            start += 1;
        }
        let mut correction: Option<FloatHistogram> = None;
        if start <= last {
            let mut add = |cx: &mut Ctx<'_>, x: &FloatHistogram| -> Option<()> {
                correction = Some(match &correction {
                    None => x.clone(),
                    Some(c) => combine_histograms(cx, c, x, true, metric, p)?,
                });
                Some(())
            };
            for x in &h[start..last] {
                if x.h.detect_reset(&prev) {
                    add(cx, &prev)?;
                }
                prev = x.h.clone();
            }
            if right.detect_reset(&prev) {
                add(cx, &prev)?;
            }
        }
        if let Some(c) = correction {
            result = combine_histograms(cx, &result, &c, true, metric, p)?;
        }
    }
    if name == "rate" {
        result = result.div(window.seconds());
    }
    result.counter_reset_hint = CounterResetHint::Gauge;
    Some(PointValue::Histogram(result.compact(0)))
}

fn range_function(cx: &mut Ctx<'_>, c: &Call, steps: Steps) -> Result<Stepped, EngineError> {
    let name = c.func.name;
    // The range argument is the last for quantile_over_time, the first otherwise.
    let (range_arg, scalar_args): (&Expr, Vec<&Expr>) = if name == "quantile_over_time" {
        (&c.args[1], vec![&c.args[0]])
    } else {
        (&c.args[0], c.args[1..].iter().collect())
    };
    let mut params = Vec::new();
    for a in &scalar_args {
        params.push(cx.eval_scalar(a, steps)?);
    }
    if name == "absent_over_time" {
        let input = cx.range_input(range_arg, steps)?;
        let labels = absent_labels(range_arg);
        let out = (0..steps.len())
            .map(|i| {
                let any = input.series.iter().any(|s| {
                    let (f, h) = input.window(s, i);
                    !f.is_empty() || !h.is_empty()
                });
                if any {
                    Vec::new()
                } else {
                    vec![one(labels.clone())]
                }
            })
            .collect();
        return Ok(Stepped::Vector(out));
    }
    if let Expr::MatrixSelector(m) = unwrap_parens(range_arg) {
        check_extended_modifiers(name, m.selector.anchored, m.selector.smoothed)?;
    }
    let input = cx.range_input(range_arg, steps)?;
    let p = pos(range_arg.span());
    let keeps_name = matches!(name, "last_over_time" | "first_over_time");
    if name == "quantile_over_time" {
        for q in &params[0] {
            if !(0.0..=1.0).contains(q) {
                cx.annotate(Annotation::invalid_quantile(*q, pos(c.args[0].span())));
            }
        }
    }
    let mut out: Vec<Vector> = vec![Vec::new(); steps.len()];
    for s in &input.series {
        cx.check()?;
        let mut warned_counter = false;
        for (i, slot) in out.iter_mut().enumerate() {
            let (f, h) = input.window(s, i);
            if f.is_empty() && h.is_empty() {
                continue;
            }
            let value = range_value(cx, name, &input, s, f, h, i, &params, p, steps)?;
            if matches!(name, "rate" | "increase")
                && !f.is_empty()
                && value.is_some()
                && !warned_counter
            {
                let m = metric_name(s);
                if !m.is_empty()
                    && !["_total", "_sum", "_count", "_bucket"]
                        .iter()
                        .any(|suf| m.ends_with(suf))
                {
                    cx.annotate(Annotation::possible_non_counter(m, p));
                }
                warned_counter = true;
            }
            let Some(value) = value else { continue };
            slot.push(Sample {
                labels: s.labels.clone(),
                t: 0,
                value,
                drop_name: s.drop_name || !keeps_name,
            });
        }
    }
    Ok(Stepped::Vector(out))
}

#[allow(clippy::too_many_arguments)]
fn range_value(
    cx: &mut Ctx<'_>,
    name: &str,
    input: &RangeInput,
    s: &RangeSeries,
    f: &[FPoint],
    h: &[HPoint],
    i: usize,
    params: &[Vec<f64>],
    p: PositionRange,
    steps: Steps,
) -> Result<Option<PointValue>, EngineError> {
    let end = input.refs[i];
    let window = RangeWindow {
        start: end - input.range_ms,
        end,
    };
    let metric = metric_name(s);
    let float = |v: Option<f64>| v.map(PointValue::Float);
    if let Some(smoothed) = input.extend {
        return Ok(extended_value(cx, name, f, h, window, smoothed, metric, p));
    }
    Ok(match name {
        "rate" | "increase" | "delta" => {
            let (v, annos) =
                extrapolated_rate(f, h, window, name != "delta", name == "rate", metric, p);
            cx.annotations.merge(annos);
            v
        }
        "irate" | "idelta" => {
            let (v, annos) = instant_value(f, h, name == "irate", metric, p);
            cx.annotations.merge(annos);
            v
        }
        "changes" => float(changes(f, h)),
        "resets" => float(resets(f, h)),
        "count_over_time" => float(count_over_time(f, h)),
        "present_over_time" => Some(PointValue::Float(1.0)),
        "last_over_time" => last_over_time(f, h).map(|p: Point| p.value),
        "first_over_time" => first_over_time(f, h).map(|p: Point| p.value),
        "ts_of_last_over_time" => float(ts_of_last_over_time(f, h)),
        "ts_of_first_over_time" => float(ts_of_first_over_time(f, h)),
        "sum_over_time" | "avg_over_time" => {
            if !f.is_empty() && !h.is_empty() {
                cx.annotate(Annotation::mixed_floats_histograms(metric, p));
                return Ok(None);
            }
            if f.is_empty() {
                let mut acc = if name == "sum_over_time" {
                    let mut sum = crate::value::histogram::HistogramSum::default();
                    for x in h {
                        if sum.push(&x.h).is_err() {
                            cx.annotate(Annotation::mixed_exponential_custom_histograms(metric, p));
                            return Ok(None);
                        }
                    }
                    note_accumulation(cx, sum.notes(), p);
                    sum.result()
                } else {
                    let mut mean = HistogramMean::default();
                    for x in h {
                        if mean.push(&x.h).is_err() {
                            cx.annotate(Annotation::mixed_exponential_custom_histograms(metric, p));
                            return Ok(None);
                        }
                    }
                    note_accumulation(cx, mean.notes(), p);
                    mean.result()
                };
                return Ok(acc.take().map(|h| PointValue::Histogram(h.compact(0))));
            }
            Some(PointValue::Float(if name == "sum_over_time" {
                sum_over_time(f)
            } else {
                avg_over_time(f)
            }))
        }
        _ => {
            let Some(f) = floats_only(cx, s, f, h, p) else {
                return Ok(None);
            };
            match name {
                "min_over_time" => float(min_over_time(f)),
                "max_over_time" => float(max_over_time(f)),
                "ts_of_min_over_time" => float(ts_of_min_over_time(f)),
                "ts_of_max_over_time" => float(ts_of_max_over_time(f)),
                "stddev_over_time" => float(stddev_over_time(f)),
                "stdvar_over_time" => float(stdvar_over_time(f)),
                "mad_over_time" => float(mad_over_time(f)),
                "quantile_over_time" => float(quantile_over_time(params[0][i], f)),
                "deriv" => float(deriv(f)),
                "predict_linear" => float(predict_linear(f, steps.ts(i), params[0][i])),
                "double_exponential_smoothing" => float(
                    double_exponential_smoothing(f, params[0][i], params[1][i])
                        .map_err(|e| exec_err(e.to_string()))?,
                ),
                other => {
                    return Err(exec_err(format!(
                        "function {other:?} is not supported by this engine"
                    )));
                }
            }
        }
    })
}
