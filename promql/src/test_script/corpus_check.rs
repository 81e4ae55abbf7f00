//! Checks the kernels against the upstream corpus: a test-only evaluator answers calls of the
//! shape `func(number, …, selector)` or `func(selector[range], number)`, where the selector is
//! a metric name with equality matchers. It is deliberately no PromQL parser: anything else is
//! reported as unsupported and skipped.

use std::collections::BTreeMap;

use regex::Regex;

use super::notation::{parse_duration, parse_scalar, parse_series_labels};
use super::{Evaluator, QueryError, QueryOutput, RunOptions, TestScript};
use crate::kernels::{self as k, ClassicBucket, RangeWindow};
use crate::storage::{MatchOp, Matcher, Queryable};
use crate::value::annotations::{Annotation, Annotations, PositionRange};
use crate::value::histogram::{
    FloatHistogram, HistogramMean, HistogramSum, histogram_fraction, histogram_quantile,
    histogram_stddev, histogram_stdvar,
};
use crate::value::labels::{BUCKET_LABEL, Labels};
use crate::value::{FPoint, HPoint, PointValue, Sample, Series, Value};

const LOOKBACK: i64 = 300_000;
const UNSUPPORTED: &str = "unsupported by the kernel check";

enum Arg {
    Number(f64),
    Selector {
        matchers: Vec<Matcher>,
        range: Option<i64>,
        pos: PositionRange,
    },
}

fn unsupported() -> QueryError {
    UNSUPPORTED.into()
}

fn parse_args(expr: &str) -> Result<(String, Vec<Arg>), QueryError> {
    let call = Regex::new(r"^([a-z_]+)\((.*)\)$")?;
    let caps = call.captures(expr).ok_or_else(unsupported)?;
    let func = caps[1].to_owned();
    let inner = caps.get(2).ok_or_else(unsupported)?;
    let mut args = Vec::new();
    let mut depth = 0i32;
    let mut start = inner.start();
    let mut pieces = Vec::new();
    for (i, c) in expr[inner.start()..inner.end()].char_indices() {
        match c {
            '{' | '[' | '(' => depth += 1,
            '}' | ']' | ')' => depth -= 1,
            '"' => return Err(unsupported()),
            ',' if depth == 0 => {
                pieces.push((start, inner.start() + i));
                start = inner.start() + i + 1;
            }
            _ => {}
        }
    }
    pieces.push((start, inner.end()));
    for (s, e) in pieces {
        let raw = &expr[s..e];
        let text = raw.trim();
        let offset = s + (raw.len() - raw.trim_start().len());
        if let Some(v) = parse_scalar(text) {
            args.push(Arg::Number(v));
            continue;
        }
        let (sel, range) = match text.strip_suffix(']').and_then(|t| t.rsplit_once('[')) {
            Some((sel, r)) => (
                sel,
                Some(parse_duration(r, false).map_err(|_| unsupported())?),
            ),
            None => (text, None),
        };
        let (labels, rest) = parse_series_labels(sel).map_err(|_| unsupported())?;
        if !rest.trim().is_empty() || labels.is_empty() {
            return Err(unsupported());
        }
        let matchers = labels
            .iter()
            .map(|l| Matcher::new(MatchOp::Equal, l.name.clone(), l.value.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let pos = PositionRange {
            start: offset,
            end: offset + text.len(),
        };
        args.push(Arg::Selector {
            matchers,
            range,
            pos,
        });
    }
    Ok((func, args))
}

/// One series of a range selection: labels, floats and histograms.
type RangeSeries = (Labels, Vec<FPoint>, Vec<HPoint>);

/// Samples in `(start, end]`, stale markers dropped.
fn select_range(
    storage: &dyn Queryable,
    matchers: &[Matcher],
    start: i64,
    end: i64,
) -> Result<Vec<RangeSeries>, QueryError> {
    let mut out = Vec::new();
    for s in storage.select(start + 1, end, matchers)? {
        let (mut floats, mut hists) = (Vec::new(), Vec::new());
        for p in s.samples {
            let p = p?;
            match p.value {
                PointValue::Float(f) if !crate::value::is_stale_nan(f) => {
                    floats.push(FPoint { t: p.t, f })
                }
                PointValue::Float(_) => {}
                PointValue::Histogram(h) => hists.push(HPoint { t: p.t, h }),
            }
        }
        out.push((s.labels, floats, hists));
    }
    Ok(out)
}

fn instant_vector(
    storage: &dyn Queryable,
    matchers: &[Matcher],
    t: i64,
) -> Result<Vec<(Labels, PointValue)>, QueryError> {
    let mut out = Vec::new();
    for s in storage.select(t - LOOKBACK + 1, t, matchers)? {
        if let Some(p) = s.samples.last().transpose()?
            && !p.value.is_stale()
        {
            out.push((s.labels, p.value));
        }
    }
    Ok(out)
}

struct KernelCheck;

impl KernelCheck {
    fn eval(
        &self,
        storage: &dyn Queryable,
        expr: &str,
        t: i64,
    ) -> Result<(Vec<Sample>, Annotations), QueryError> {
        let (func, args) = parse_args(expr)?;
        const SUPPORTED: &[&str] = &[
            "histogram_quantile",
            "histogram_fraction",
            "histogram_count",
            "histogram_sum",
            "histogram_avg",
            "histogram_stddev",
            "histogram_stdvar",
            "rate",
            "increase",
            "delta",
            "irate",
            "idelta",
            "deriv",
            "changes",
            "resets",
            "count_over_time",
            "present_over_time",
            "last_over_time",
            "first_over_time",
            "ts_of_last_over_time",
            "ts_of_first_over_time",
            "min_over_time",
            "max_over_time",
            "ts_of_min_over_time",
            "ts_of_max_over_time",
            "stddev_over_time",
            "stdvar_over_time",
            "mad_over_time",
            "quantile_over_time",
            "sum_over_time",
            "avg_over_time",
            "sum",
            "avg",
            "min",
            "max",
            "count",
            "stddev",
            "stdvar",
            "quantile",
            "group",
            "round",
            "abs",
            "ceil",
            "floor",
            "sgn",
            "clamp",
            "clamp_min",
            "clamp_max",
            "predict_linear",
            "double_exponential_smoothing",
        ];
        if !SUPPORTED.contains(&func.as_str()) {
            return Err(unsupported());
        }
        let mut annos = Annotations::new();
        let mut out = Vec::new();
        let nums: Vec<(f64, usize)> = args
            .iter()
            .enumerate()
            .filter_map(|(i, a)| match a {
                Arg::Number(v) => Some((*v, i)),
                Arg::Selector { .. } => None,
            })
            .collect();
        let Some(Arg::Selector {
            matchers,
            range,
            pos,
        }) = args.iter().find(|a| matches!(a, Arg::Selector { .. }))
        else {
            return Err(unsupported());
        };
        let pos = *pos;
        let push = |out: &mut Vec<Sample>, labels: Labels, value: PointValue| {
            out.push(Sample {
                labels,
                t,
                value,
                drop_name: false,
            });
        };
        match (func.as_str(), range) {
            (
                f @ ("round" | "abs" | "ceil" | "floor" | "sgn" | "clamp" | "clamp_min"
                | "clamp_max"),
                None,
            ) => {
                let n: Vec<f64> = nums.iter().map(|n| n.0).collect();
                for (labels, value) in instant_vector(storage, matchers, t)? {
                    let PointValue::Float(x) = value else {
                        continue;
                    };
                    let r = match (f, n.as_slice()) {
                        ("round", []) => Some(k::round_to_nearest(x, 1.0)),
                        ("round", [to]) => Some(k::round_to_nearest(x, *to)),
                        ("abs", []) => Some(x.abs()),
                        ("ceil", []) => Some(x.ceil()),
                        ("floor", []) => Some(x.floor()),
                        ("sgn", []) => Some(k::sgn(x)),
                        ("clamp", [lo, hi]) => k::clamp(x, *lo, *hi),
                        ("clamp_min", [lo]) => k::clamp(x, *lo, f64::INFINITY),
                        ("clamp_max", [hi]) => k::clamp(x, f64::NEG_INFINITY, *hi),
                        _ => return Err(unsupported()),
                    };
                    if let Some(r) = r {
                        push(&mut out, labels.without_metric_name(), PointValue::Float(r));
                    }
                }
            }
            (f, None) if !f.starts_with("histogram_") => {
                let v = instant_vector(storage, matchers, t)?;
                let mut floats = Vec::new();
                let mut hists = Vec::new();
                for (_, value) in v {
                    match value {
                        PointValue::Float(x) => floats.push(x),
                        PointValue::Histogram(h) => hists.push(HPoint { t, h }),
                    }
                }
                if !hists.is_empty() {
                    match f {
                        "sum" | "avg" if floats.is_empty() => {
                            if let Some(h) = hist_sum(&hists, f == "avg", pos, &mut annos)? {
                                push(&mut out, Labels::empty(), h);
                            }
                            return Ok((out, annos));
                        }
                        "sum" | "avg" => {
                            annos.add(Annotation::mixed_floats_histograms_aggregation(pos));
                            return Ok((out, annos));
                        }
                        "count" | "group" => {}
                        other => {
                            annos.add(Annotation::histogram_ignored_in_aggregation(other, pos));
                        }
                    }
                }
                if matches!(f, "count" | "group") {
                    floats.extend(hists.iter().map(|_| 0.0));
                }
                if floats.is_empty() {
                    return Ok((out, annos));
                }
                let r = match f {
                    "sum" => k::kahan_sum(floats.iter().copied()),
                    "avg" => {
                        let mut acc = k::MeanAccumulator::default();
                        floats.iter().for_each(|x| acc.push(*x));
                        acc.mean()
                    }
                    "stddev" | "stdvar" => {
                        let mut acc = k::StdvarAccumulator::default();
                        floats.iter().for_each(|x| acc.push(*x));
                        if f == "stddev" {
                            acc.variance().sqrt()
                        } else {
                            acc.variance()
                        }
                    }
                    "min" | "max" => {
                        let better = |a: f64, b: f64| if f == "min" { a < b } else { a > b };
                        floats.iter().skip(1).fold(floats[0], |acc, &x| {
                            if better(x, acc) || acc.is_nan() {
                                x
                            } else {
                                acc
                            }
                        })
                    }
                    "count" => floats.len() as f64,
                    "group" => 1.0,
                    "quantile" => {
                        let q = nums.first().map(|n| n.0).ok_or_else(unsupported)?;
                        if !(0.0..=1.0).contains(&q) {
                            annos.add(Annotation::invalid_quantile(q, arg_pos(expr, 0)));
                        }
                        k::quantile(q, &mut floats)
                    }
                    _ => return Err(unsupported()),
                };
                push(&mut out, Labels::empty(), PointValue::Float(r));
            }
            (f, None) if f.starts_with("histogram_") => {
                let v = instant_vector(storage, matchers, t)?;
                if f == "histogram_quantile" {
                    let q = nums.first().map(|n| n.0).ok_or_else(unsupported)?;
                    if !(0.0..=1.0).contains(&q) {
                        let q_pos = arg_pos(expr, 0);
                        annos.add(Annotation::invalid_quantile(q, q_pos));
                    }
                    classic_and_native_quantile(q, v, pos, &mut annos, &mut out, t);
                    return Ok((out, annos));
                }
                if f == "histogram_fraction"
                    && v.iter().all(|(_, p)| matches!(p, PointValue::Float(_)))
                {
                    let (lo, hi) = match nums.as_slice() {
                        [(lo, _), (hi, _)] => (*lo, *hi),
                        _ => return Err(unsupported()),
                    };
                    let mut groups: BTreeMap<Labels, Vec<ClassicBucket>> = BTreeMap::new();
                    for (labels, value) in v {
                        let (PointValue::Float(count), Some(Ok(upper_bound))) =
                            (value, labels.get(BUCKET_LABEL).map(str::parse::<f64>))
                        else {
                            return Err(unsupported());
                        };
                        let key = labels.without(&[BUCKET_LABEL]).without_metric_name();
                        groups
                            .entry(key)
                            .or_default()
                            .push(ClassicBucket { upper_bound, count });
                    }
                    for (key, buckets) in groups {
                        push(
                            &mut out,
                            key,
                            PointValue::Float(k::bucket_fraction(lo, hi, &buckets)),
                        );
                    }
                    return Ok((out, annos));
                }
                for (labels, value) in v {
                    let PointValue::Histogram(h) = value else {
                        if f == "histogram_fraction" {
                            return Err(unsupported());
                        }
                        continue;
                    };
                    let name = labels.metric_name().unwrap_or("").to_owned();
                    let r = match f {
                        "histogram_count" => h.count,
                        "histogram_sum" => h.sum,
                        "histogram_avg" => h.sum / h.count,
                        "histogram_stddev" => histogram_stddev(&h),
                        "histogram_stdvar" => histogram_stdvar(&h),
                        "histogram_fraction" => {
                            let (lo, hi) = match nums.as_slice() {
                                [(lo, _), (hi, _)] => (*lo, *hi),
                                _ => return Err(unsupported()),
                            };
                            let (v, note) = histogram_fraction(lo, hi, &h, &name, pos);
                            annos.extend(note);
                            v
                        }
                        _ => return Err(unsupported()),
                    };
                    push(&mut out, labels.without_metric_name(), PointValue::Float(r));
                }
            }
            (f, Some(r)) => {
                let window = RangeWindow {
                    start: t - r,
                    end: t,
                };
                for (labels, floats, hists) in select_range(storage, matchers, t - r, t)? {
                    let name = labels.metric_name().unwrap_or("").to_owned();
                    let keep = matches!(f, "last_over_time" | "first_over_time");
                    let result_labels = if keep {
                        labels.clone()
                    } else {
                        labels.without_metric_name()
                    };
                    if matches!(f, "rate" | "increase")
                        && !floats.is_empty()
                        && !["_total", "_sum", "_count", "_bucket"]
                            .iter()
                            .any(|s| name.ends_with(s))
                    {
                        annos.add(Annotation::possible_non_counter(&name, pos));
                    }
                    let float_only = |annos: &mut Annotations| -> Option<&[FPoint]> {
                        if floats.is_empty() {
                            return None;
                        }
                        if !hists.is_empty() {
                            annos.add(Annotation::histogram_ignored_in_mixed_range(&name, pos));
                        }
                        Some(&floats)
                    };
                    let value: Option<PointValue> = match f {
                        "rate" | "increase" | "delta" => {
                            let (v, a) = k::extrapolated_rate(
                                &floats,
                                &hists,
                                window,
                                f != "delta",
                                f == "rate",
                                &name,
                                pos,
                            );
                            annos.merge(a);
                            v
                        }
                        "irate" | "idelta" => {
                            let (v, a) =
                                k::instant_value(&floats, &hists, f == "irate", &name, pos);
                            annos.merge(a);
                            v
                        }
                        "predict_linear" => {
                            let secs = nums.first().map(|n| n.0).ok_or_else(unsupported)?;
                            float_only(&mut annos)
                                .and_then(|p| k::predict_linear(p, t, secs))
                                .map(PointValue::Float)
                        }
                        "double_exponential_smoothing" => {
                            let [(sf, _), (tf, _)] = nums.as_slice() else {
                                return Err(unsupported());
                            };
                            match float_only(&mut annos) {
                                Some(p) => k::double_exponential_smoothing(p, *sf, *tf)?
                                    .map(PointValue::Float),
                                None => None,
                            }
                        }
                        "deriv" => float_only(&mut annos)
                            .and_then(k::deriv)
                            .map(PointValue::Float),
                        "changes" => k::changes(&floats, &hists).map(PointValue::Float),
                        "resets" => k::resets(&floats, &hists).map(PointValue::Float),
                        "count_over_time" => {
                            k::count_over_time(&floats, &hists).map(PointValue::Float)
                        }
                        "present_over_time" => {
                            k::count_over_time(&floats, &hists).map(|_| PointValue::Float(1.0))
                        }
                        "last_over_time" => k::last_over_time(&floats, &hists).map(|p| p.value),
                        "first_over_time" => k::first_over_time(&floats, &hists).map(|p| p.value),
                        "ts_of_last_over_time" => {
                            k::ts_of_last_over_time(&floats, &hists).map(PointValue::Float)
                        }
                        "ts_of_first_over_time" => {
                            k::ts_of_first_over_time(&floats, &hists).map(PointValue::Float)
                        }
                        "min_over_time" => float_only(&mut annos)
                            .and_then(k::min_over_time)
                            .map(PointValue::Float),
                        "max_over_time" => float_only(&mut annos)
                            .and_then(k::max_over_time)
                            .map(PointValue::Float),
                        "ts_of_min_over_time" => float_only(&mut annos)
                            .and_then(k::ts_of_min_over_time)
                            .map(PointValue::Float),
                        "ts_of_max_over_time" => float_only(&mut annos)
                            .and_then(k::ts_of_max_over_time)
                            .map(PointValue::Float),
                        "stddev_over_time" => float_only(&mut annos)
                            .and_then(k::stddev_over_time)
                            .map(PointValue::Float),
                        "stdvar_over_time" => float_only(&mut annos)
                            .and_then(k::stdvar_over_time)
                            .map(PointValue::Float),
                        "mad_over_time" => float_only(&mut annos)
                            .and_then(k::mad_over_time)
                            .map(PointValue::Float),
                        "quantile_over_time" => {
                            let q = nums.first().map(|n| n.0).ok_or_else(unsupported)?;
                            if !(0.0..=1.0).contains(&q) {
                                annos.add(Annotation::invalid_quantile(q, arg_pos(expr, 0)));
                            }
                            float_only(&mut annos)
                                .and_then(|p| k::quantile_over_time(q, p))
                                .map(PointValue::Float)
                        }
                        "sum_over_time" | "avg_over_time" => {
                            if !floats.is_empty() && !hists.is_empty() {
                                annos.add(Annotation::mixed_floats_histograms(&name, pos));
                                None
                            } else if !floats.is_empty() {
                                Some(PointValue::Float(if f == "sum_over_time" {
                                    k::sum_over_time(&floats)
                                } else {
                                    k::avg_over_time(&floats)
                                }))
                            } else {
                                hist_sum(&hists, f == "avg_over_time", pos, &mut annos)?
                            }
                        }
                        _ => return Err(unsupported()),
                    };
                    if let Some(v) = value {
                        push(&mut out, result_labels, v);
                    }
                }
            }
            _ => return Err(unsupported()),
        }
        Ok((out, annos))
    }
}

/// Position of the `n`-th top-level argument of a call.
fn arg_pos(expr: &str, n: usize) -> PositionRange {
    let open = expr.find('(').map_or(0, |i| i + 1);
    let mut idx = 0;
    let mut depth = 0;
    let mut start = open;
    for (i, c) in expr[open..].char_indices() {
        match c {
            '{' | '[' | '(' => depth += 1,
            '}' | ']' | ')' => depth -= 1,
            ',' if depth == 0 => {
                if idx == n {
                    break;
                }
                idx += 1;
                start = open + i + 1;
            }
            _ => {}
        }
    }
    let skip = expr[start..].len() - expr[start..].trim_start().len();
    PositionRange {
        start: start + skip,
        end: start + skip,
    }
}

fn hist_sum(
    hists: &[HPoint],
    avg: bool,
    pos: PositionRange,
    annos: &mut Annotations,
) -> Result<Option<PointValue>, QueryError> {
    let (mut sum, mut mean) = (HistogramSum::default(), HistogramMean::default());
    for p in hists {
        if avg { mean.push(&p.h) } else { sum.push(&p.h) }.map_err(|_| unsupported())?;
    }
    let (result, notes) = if avg {
        (mean.result(), mean.notes())
    } else {
        (sum.result(), sum.notes())
    };
    if notes.custom_buckets_reconciled {
        annos.add(Annotation::mismatched_custom_buckets("aggregation", pos));
    }
    Ok(result.map(PointValue::Histogram))
}

fn classic_and_native_quantile(
    q: f64,
    v: Vec<(Labels, PointValue)>,
    pos: PositionRange,
    annos: &mut Annotations,
    out: &mut Vec<Sample>,
    t: i64,
) {
    let mut groups: BTreeMap<Labels, (String, Vec<ClassicBucket>)> = BTreeMap::new();
    let mut natives: BTreeMap<Labels, (String, FloatHistogram)> = BTreeMap::new();
    for (labels, value) in v {
        let name = labels.metric_name().unwrap_or("").to_owned();
        match value {
            PointValue::Histogram(h) => {
                natives.insert(labels.without_metric_name(), (name, h));
            }
            PointValue::Float(f) => {
                let le = labels.get(BUCKET_LABEL).unwrap_or("");
                let Ok(upper_bound) = le.parse::<f64>() else {
                    annos.add(Annotation::bad_bucket_label(le, &name, pos));
                    continue;
                };
                let key = labels.without(&[BUCKET_LABEL]).without_metric_name();
                let g = groups.entry(key).or_insert_with(|| (name, Vec::new()));
                g.1.push(ClassicBucket {
                    upper_bound,
                    count: f,
                });
            }
        }
    }
    for (key, (name, buckets)) in groups {
        if natives.remove(&key).is_some() {
            annos.add(Annotation::mixed_classic_native_histograms(&name, pos));
            continue;
        }
        let r = k::bucket_quantile(q, &buckets);
        if r.forced_monotonic {
            annos.add(Annotation::histogram_quantile_forced_monotonicity(
                &name, pos,
            ));
        }
        out.push(Sample {
            labels: key,
            t,
            value: PointValue::Float(r.value),
            drop_name: false,
        });
    }
    for (key, (name, h)) in natives {
        let (value, note) = histogram_quantile(q, &h, &name, pos);
        annos.extend(note);
        out.push(Sample {
            labels: key,
            t,
            value: PointValue::Float(value),
            drop_name: false,
        });
    }
}

impl Evaluator for KernelCheck {
    fn instant(
        &self,
        storage: &dyn Queryable,
        expr: &str,
        at: i64,
    ) -> Result<QueryOutput, QueryError> {
        let (v, annotations) = self.eval(storage, expr, at)?;
        Ok(QueryOutput {
            value: Value::Vector(v),
            annotations,
        })
    }

    fn range(
        &self,
        storage: &dyn Queryable,
        expr: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryOutput, QueryError> {
        let mut series: BTreeMap<Labels, Series> = BTreeMap::new();
        let mut annotations = Annotations::new();
        let mut t = start;
        while t <= end {
            let (v, a) = self.eval(storage, expr, t)?;
            annotations.merge(a);
            for s in v {
                let e = series.entry(s.labels.clone()).or_insert_with(|| Series {
                    labels: s.labels.clone(),
                    ..Default::default()
                });
                match s.value {
                    PointValue::Float(f) => e.floats.push(FPoint { t, f }),
                    PointValue::Histogram(h) => e.histograms.push(HPoint { t, h }),
                }
            }
            t += step;
        }
        Ok(QueryOutput {
            value: Value::Matrix(series.into_values().collect()),
            annotations,
        })
    }
}

#[test]
fn kernels_agree_with_the_corpus() {
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/promql-testdata");
    let (mut passed, mut failures) = (0, Vec::new());
    for entry in std::fs::read_dir(corpus).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".test") || name == "start_timestamps.test" {
            continue;
        }
        let script =
            TestScript::parse(name.clone(), &std::fs::read_to_string(&path).unwrap()).unwrap();
        let report = script.run(&KernelCheck, &RunOptions::default());
        passed += report.passed;
        failures.extend(
            report
                .failures
                .into_iter()
                .filter(|f| !f.message.contains(UNSUPPORTED))
                .map(|f| format!("{name}:{}: {}: {}", f.line, f.expr, f.message)),
        );
    }
    println!("kernel check: {passed} passed, {} failed", failures.len());
    for f in &failures {
        println!("{f}");
    }
    assert!(failures.is_empty());
    assert!(passed >= 602, "only {passed} evals passed");
}
