//! `histogram_*` functions over native histograms and classic `le` buckets.

use std::collections::HashMap;

use crate::ast::Call;
use crate::engine::EngineError;
use crate::engine::eval::pos;
use crate::engine::eval::{Ctx, Stepped, Steps};
use crate::kernels::{ClassicBucket, bucket_fraction, bucket_quantile};
use crate::value::annotations::Annotation;
use crate::value::histogram::{
    FloatHistogram, histogram_fraction, histogram_quantile, histogram_stddev, histogram_stdvar,
};
use crate::value::labels::{BUCKET_LABEL, Labels};
use crate::value::{PointValue, Sample, Vector};

/// Parses an `le` value like Go's `strconv.ParseFloat`.
fn parse_le(s: &str) -> Option<f64> {
    match s.trim_start_matches('+').to_ascii_lowercase().as_str() {
        "inf" | "infinity" => Some(f64::INFINITY),
        _ if s.starts_with('-') && s[1..].eq_ignore_ascii_case("inf") => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

pub(super) fn eval(cx: &mut Ctx<'_>, c: &Call, steps: Steps) -> Result<Stepped, EngineError> {
    let name = c.func.name;
    match name {
        "histogram_quantiles" => {
            let label = match &c.args[1] {
                crate::ast::Expr::String(s) => s.value.clone(),
                _ => String::new(),
            };
            let mut qs = Vec::new();
            for a in &c.args[2..] {
                qs.push((cx.eval_scalar(a, steps)?, pos(a.span())));
            }
            let input = cx.eval_vector(&c.args[0], steps)?;
            let p = pos(c.args[0].span());
            let mut out = Vec::with_capacity(input.len());
            for (i, vec) in input.into_iter().enumerate() {
                let mut step = Vector::new();
                for (q, qpos) in &qs {
                    let q = q[i];
                    if !(0.0..=1.0).contains(&q) {
                        cx.annotate(Annotation::invalid_quantile(q, *qpos));
                    }
                    for mut s in
                        quantile_or_fraction(cx, "histogram_quantile", &[q], vec.clone(), p)
                    {
                        s.labels.set(label.clone(), open_metrics_float(q));
                        step.push(s);
                    }
                }
                out.push(step);
            }
            Ok(Stepped::Vector(out))
        }
        "histogram_quantile" | "histogram_fraction" => {
            let vec_arg = c.args.len() - 1;
            let mut params = Vec::new();
            for a in &c.args[..vec_arg] {
                params.push(cx.eval_scalar(a, steps)?);
            }
            let input = cx.eval_vector(&c.args[vec_arg], steps)?;
            let p = pos(c.args[vec_arg].span());
            let mut out = Vec::with_capacity(input.len());
            for (i, vec) in input.into_iter().enumerate() {
                if name == "histogram_quantile" {
                    let q = params[0][i];
                    if !(0.0..=1.0).contains(&q) {
                        cx.annotate(Annotation::invalid_quantile(q, pos(c.args[0].span())));
                    }
                }
                let args: Vec<f64> = params.iter().map(|v| v[i]).collect();
                out.push(quantile_or_fraction(cx, name, &args, vec, p));
            }
            Ok(Stepped::Vector(out))
        }
        _ => {
            let input = cx.eval_vector(&c.args[0], steps)?;
            let f = |h: &FloatHistogram| match name {
                "histogram_count" => h.count,
                "histogram_sum" => h.sum,
                "histogram_avg" => h.sum / h.count,
                "histogram_stddev" => histogram_stddev(h),
                _ => histogram_stdvar(h),
            };
            Ok(Stepped::Vector(
                input
                    .into_iter()
                    .map(|vec| {
                        vec.into_iter()
                            .filter_map(|mut s| match &s.value {
                                PointValue::Histogram(h) => {
                                    let v = f(h);
                                    s.value = PointValue::Float(v);
                                    s.drop_name = true;
                                    Some(s)
                                }
                                PointValue::Float(_) => None,
                            })
                            .collect()
                    })
                    .collect(),
            ))
        }
    }
}

/// Formats a float as OpenMetrics does in labels: integers keep a `.0`.
fn open_metrics_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else if f == f.trunc() && f.abs() < 1e15 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

fn quantile_or_fraction(
    cx: &mut Ctx<'_>,
    name: &str,
    args: &[f64],
    vec: Vector,
    p: crate::value::annotations::PositionRange,
) -> Vector {
    let mut natives: Vec<Sample> = Vec::new();
    let mut classic: HashMap<Labels, (Labels, Vec<ClassicBucket>)> = HashMap::new();
    let mut order: Vec<Labels> = Vec::new();
    for s in vec {
        match &s.value {
            PointValue::Histogram(_) => natives.push(s),
            PointValue::Float(f) => {
                let le = s.labels.get(BUCKET_LABEL).unwrap_or_default();
                let Some(bound) = parse_le(le) else {
                    cx.annotate(Annotation::bad_bucket_label(
                        le,
                        s.labels.metric_name().unwrap_or_default(),
                        p,
                    ));
                    continue;
                };
                let key = s.labels.without(&[BUCKET_LABEL]);
                let entry = classic.entry(key.clone()).or_insert_with(|| {
                    order.push(key.clone());
                    (key, Vec::new())
                });
                entry.1.push(ClassicBucket {
                    upper_bound: bound,
                    count: *f,
                });
            }
        }
    }
    let mut out = Vector::new();
    for s in natives {
        let metric = s.labels.metric_name().unwrap_or_default().to_owned();
        if classic.get(&s.labels).is_some_and(|(_, b)| !b.is_empty()) {
            cx.annotate(Annotation::mixed_classic_native_histograms(&metric, p));
            classic.remove(&s.labels);
            continue;
        }
        let PointValue::Histogram(h) = &s.value else {
            continue;
        };
        let (v, note) = if name == "histogram_quantile" {
            histogram_quantile(args[0], h, &metric, p)
        } else {
            histogram_fraction(args[0], args[1], h, &metric, p)
        };
        if let Some(n) = note {
            cx.annotate(n);
        }
        out.push(Sample {
            labels: s.labels,
            t: 0,
            value: PointValue::Float(v),
            drop_name: true,
        });
    }
    for key in order {
        let Some((labels, buckets)) = classic.remove(&key) else {
            continue;
        };
        let v = if name == "histogram_quantile" {
            let r = bucket_quantile(args[0], &buckets);
            if r.forced_monotonic {
                cx.annotate(Annotation::histogram_quantile_forced_monotonicity(
                    labels.metric_name().unwrap_or_default(),
                    p,
                ));
            }
            r.value
        } else {
            bucket_fraction(args[0], args[1], &buckets)
        };
        out.push(Sample {
            labels,
            t: 0,
            value: PointValue::Float(v),
            drop_name: true,
        });
    }
    out
}
