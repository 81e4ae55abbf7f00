//! Aggregation operators (`sum`, `avg`, `topk`, `quantile`, …) with `by`/`without`.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::EngineError;
use super::eval::{Ctx, Stepped, Steps, exec_err, pos};
use crate::ast::{AggregateExpr, AggregateOp};
use crate::kernels::{MeanAccumulator, StdvarAccumulator, kahan_sum_inc, quantile};
use crate::value::annotations::{Annotation, PositionRange, go_float};
use crate::value::histogram::{HistogramMean, HistogramSum};
use crate::value::labels::Labels;
use crate::value::{PointValue, Sample, Vector};

/// The state of one output group at one step.
#[derive(Default)]
struct Group {
    labels: Labels,
    drop_name: bool,
    count: f64,
    floats: Vec<f64>,
    histograms: usize,
    samples: Vec<Sample>,
    hsum: Option<HistogramSum>,
    hmean: Option<HistogramMean>,
    failed: bool,
}

pub(crate) fn eval(
    cx: &mut Ctx<'_>,
    a: &AggregateExpr,
    steps: Steps,
) -> Result<Stepped, EngineError> {
    let param = match &a.param {
        Some(p) => Some(cx.eval(p, steps)?),
        None => None,
    };
    let input = cx.eval_vector(&a.expr, steps)?;
    let param_pos = a.param.as_ref().map_or(pos(a.span), |p| pos(p.span()));
    let expr_pos = pos(a.expr.span());
    let scalars = match &param {
        Some(Stepped::Scalar(v)) => Some(v.clone()),
        _ => None,
    };
    match a.op {
        AggregateOp::Topk | AggregateOp::Bottomk | AggregateOp::Limitk => {
            if let Some(ks) = &scalars {
                if ks.iter().any(|k| k.is_nan()) {
                    return Err(exec_err("Parameter value is NaN"));
                }
                let max = ks.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if max < 1.0 {
                    return Ok(Stepped::Vector(vec![Vec::new(); steps.len()]));
                }
                for k in ks {
                    if *k <= i64::MIN as f64 {
                        return Err(exec_err(format!(
                            "Scalar value {} underflows int64",
                            go_float(*k)
                        )));
                    }
                    if *k >= i64::MAX as f64 {
                        return Err(exec_err(format!(
                            "Scalar value {} overflows int64",
                            go_float(*k)
                        )));
                    }
                }
            }
        }
        AggregateOp::LimitRatio => {
            if let Some(rs) = &scalars {
                if rs.iter().all(|r| *r == 0.0) {
                    return Ok(Stepped::Vector(vec![Vec::new(); steps.len()]));
                }
                if rs.iter().any(|r| r.is_nan()) {
                    return Err(exec_err("Ratio value is NaN"));
                }
                let max = rs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let min = rs.iter().copied().fold(f64::INFINITY, f64::min);
                if max > 1.0 {
                    cx.annotate(Annotation::invalid_ratio(max, 1.0, param_pos));
                }
                if min < -1.0 {
                    cx.annotate(Annotation::invalid_ratio(min, -1.0, param_pos));
                }
            }
        }
        AggregateOp::Quantile => {
            if let Some(qs) = &scalars {
                for q in qs {
                    if !(0.0..=1.0).contains(q) {
                        cx.annotate(Annotation::invalid_quantile(*q, param_pos));
                    }
                }
            }
        }
        _ => {}
    }
    if let Some(bytes) = a.param.as_deref().and_then(string_bytes) {
        return Err(exec_err(format!(
            "invalid label name {}",
            super::eval::go_quote_bytes(bytes)
        )));
    }
    let label_param = match &param {
        Some(Stepped::String(s)) => {
            if !valid_label_name(s) {
                return Err(exec_err(format!("invalid label name {s:?}")));
            }
            Some(s.clone())
        }
        _ => None,
    };
    let mut out = Vec::with_capacity(input.len());
    let mut keys = GroupKeys::default();
    for (i, vec) in input.into_iter().enumerate() {
        cx.check()?;
        let p = scalars.as_ref().map_or(0.0, |v| v[i]);
        out.push(aggregate_step(
            cx,
            &mut keys,
            a,
            vec,
            p,
            label_param.as_deref(),
            expr_pos,
        )?);
    }
    Ok(Stepped::Vector(out))
}

fn valid_label_name(s: &str) -> bool {
    !s.is_empty()
}

/// The raw bytes of a string literal that is not valid UTF-8.
fn string_bytes(e: &crate::ast::Expr) -> Option<&[u8]> {
    match e {
        crate::ast::Expr::String(s) => s.non_utf8.as_deref(),
        crate::ast::Expr::Paren(p) => string_bytes(&p.expr),
        _ => None,
    }
}

fn group_key(labels: &Labels, a: &AggregateExpr) -> Labels {
    if a.without {
        labels.grouping_without(&a.grouping)
    } else {
        labels.grouping_by(&a.grouping)
    }
}

/// Formats a float as Go's `strconv.FormatFloat(f, 'f', -1, 64)`.
fn format_plain(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{f}")
    }
}

/// Renders a histogram as Prometheus does in `count_values` labels:
/// `{count:20, sum:10, [-2,-1):2, [-0.001,0.001]:2, (0.5,1]:1}`, empty buckets left out.
fn histogram_string(h: &crate::value::histogram::FloatHistogram) -> String {
    let bucket = |b: &crate::value::histogram::Bucket| {
        format!(
            "{}{},{}{}:{}",
            if b.lower_inclusive { '[' } else { '(' },
            go_float(b.lower),
            go_float(b.upper),
            if b.upper_inclusive { ']' } else { ')' },
            go_float(b.count)
        )
    };
    let mut parts = vec![
        format!("count:{}", go_float(h.count)),
        format!("sum:{}", go_float(h.sum)),
    ];
    let negative: Vec<_> = h
        .negative_bucket_iter()
        .filter(|b| b.count != 0.0)
        .collect();
    parts.extend(negative.iter().rev().map(bucket));
    if h.zero_count != 0.0 {
        parts.extend(h.zero_bucket().as_ref().map(bucket));
    }
    parts.extend(
        h.positive_bucket_iter()
            .filter(|b| b.count != 0.0)
            .map(|b| bucket(&b)),
    );
    format!("{{{}}}", parts.join(", "))
}

/// Output group of each input label set, computed once per series for all steps.
#[derive(Default)]
struct GroupKeys {
    /// The input labels seen at each position of the previous step's vector; steps usually
    /// list the same series in the same order, and comparing is cheaper than hashing.
    by_position: Vec<(Labels, usize)>,
    by_input: HashMap<Labels, usize>,
    by_key: HashMap<Labels, usize>,
    keys: Vec<Labels>,
}

impl GroupKeys {
    fn id_at(&mut self, position: usize, labels: &Labels, a: &AggregateExpr) -> usize {
        if let Some((seen, id)) = self.by_position.get(position)
            && seen == labels
        {
            return *id;
        }
        let id = self.id(labels, a);
        match self.by_position.get_mut(position) {
            Some(slot) => *slot = (labels.clone(), id),
            None => self.by_position.push((labels.clone(), id)),
        }
        id
    }

    fn id(&mut self, labels: &Labels, a: &AggregateExpr) -> usize {
        if let Some(&id) = self.by_input.get(labels) {
            return id;
        }
        let id = self.id_for_key(group_key(labels, a));
        self.by_input.insert(labels.clone(), id);
        id
    }

    fn id_for_key(&mut self, key: Labels) -> usize {
        if let Some(&id) = self.by_key.get(&key) {
            return id;
        }
        self.keys.push(key.clone());
        self.by_key.insert(key, self.keys.len() - 1);
        self.keys.len() - 1
    }
}

fn aggregate_step(
    cx: &mut Ctx<'_>,
    keys: &mut GroupKeys,
    a: &AggregateExpr,
    vec: Vector,
    param: f64,
    label: Option<&str>,
    p: PositionRange,
) -> Result<Vector, EngineError> {
    let op = a.op;
    let mut order: Vec<usize> = Vec::new();
    let mut groups: Vec<Option<Group>> = Vec::new();
    for (position, s) in vec.into_iter().enumerate() {
        let id = if op == AggregateOp::CountValues {
            let mut key = group_key(&s.labels, a);
            let v = match &s.value {
                PointValue::Float(f) => format_plain(*f),
                PointValue::Histogram(h) => histogram_string(h),
            };
            key.set(label.unwrap_or_default(), v);
            keys.id_for_key(key)
        } else {
            keys.id_at(position, &s.labels, a)
        };
        if groups.len() <= id {
            groups.resize_with(id + 1, || None);
        }
        let g = groups[id].get_or_insert_with(|| {
            order.push(id);
            Group {
                labels: keys.keys[id].clone(),
                ..Default::default()
            }
        });
        g.drop_name |= s.drop_name;
        g.count += 1.0;
        match op {
            AggregateOp::Topk
            | AggregateOp::Bottomk
            | AggregateOp::Limitk
            | AggregateOp::LimitRatio => g.samples.push(s),
            _ => match &s.value {
                PointValue::Float(f) => g.floats.push(*f),
                PointValue::Histogram(h) => {
                    g.histograms += 1;
                    match op {
                        AggregateOp::Sum => {
                            let acc = g.hsum.get_or_insert_with(HistogramSum::default);
                            if acc.push(h).is_err() {
                                g.failed = true;
                            }
                        }
                        AggregateOp::Avg => {
                            let acc = g.hmean.get_or_insert_with(HistogramMean::default);
                            if acc.push(h).is_err() {
                                g.failed = true;
                            }
                        }
                        _ => {}
                    }
                }
            },
        }
    }
    let mut out = Vector::new();
    for id in order {
        let Some(g) = groups[id].take() else {
            continue;
        };
        let mut push = |labels: Labels, value: PointValue, drop_name: bool| {
            out.push(Sample {
                labels,
                t: 0,
                value,
                drop_name,
            })
        };
        let ignored = |cx: &mut Ctx<'_>, g: &Group, name: &str| {
            if g.histograms > 0 {
                cx.annotate(Annotation::histogram_ignored_in_aggregation(name, p));
            }
        };
        match op {
            AggregateOp::Sum | AggregateOp::Avg => {
                if g.histograms > 0 && !g.floats.is_empty() {
                    cx.annotate(Annotation::mixed_floats_histograms_aggregation(p));
                    continue;
                }
                if g.histograms > 0 {
                    if g.failed {
                        cx.annotate(Annotation::mixed_exponential_custom_histograms("", p));
                        continue;
                    }
                    let (h, notes) = if op == AggregateOp::Sum {
                        let acc = g.hsum.as_ref();
                        (
                            acc.and_then(HistogramSum::result),
                            acc.map(HistogramSum::notes),
                        )
                    } else {
                        let acc = g.hmean.as_ref();
                        (
                            acc.and_then(HistogramMean::result),
                            acc.map(HistogramMean::notes),
                        )
                    };
                    if let Some(n) = notes {
                        if n.counter_reset_collision {
                            cx.annotate(Annotation::histogram_counter_reset_collision(
                                "aggregation",
                                p,
                            ));
                        }
                        if n.custom_buckets_reconciled {
                            cx.annotate(Annotation::mismatched_custom_buckets("aggregation", p));
                        }
                    }
                    if let Some(h) = h {
                        push(g.labels, PointValue::Histogram(h.compact(0)), g.drop_name);
                    }
                    continue;
                }
                let v = if op == AggregateOp::Sum {
                    let (mut sum, mut c) = (0.0, 0.0);
                    for f in &g.floats {
                        (sum, c) = kahan_sum_inc(*f, sum, c);
                    }
                    if sum.is_infinite() { sum } else { sum + c }
                } else {
                    let mut acc = MeanAccumulator::default();
                    g.floats.iter().for_each(|f| acc.push(*f));
                    acc.mean()
                };
                push(g.labels, PointValue::Float(v), g.drop_name);
            }
            AggregateOp::Count => push(g.labels, PointValue::Float(g.count), g.drop_name),
            AggregateOp::CountValues => push(g.labels, PointValue::Float(g.count), false),
            AggregateOp::Group => push(g.labels, PointValue::Float(1.0), g.drop_name),
            AggregateOp::Min | AggregateOp::Max => {
                ignored(cx, &g, op.as_str());
                let mut it = g.floats.iter().copied();
                let Some(mut v) = it.next() else { continue };
                for f in it {
                    let better = if op == AggregateOp::Max { v < f } else { v > f };
                    if better || v.is_nan() {
                        v = f;
                    }
                }
                push(g.labels, PointValue::Float(v), g.drop_name);
            }
            AggregateOp::Stddev | AggregateOp::Stdvar => {
                ignored(cx, &g, op.as_str());
                if g.floats.is_empty() {
                    continue;
                }
                let v = if g.floats.iter().any(|f| !f.is_finite()) {
                    f64::NAN
                } else {
                    let mut acc = StdvarAccumulator::default();
                    g.floats.iter().for_each(|f| acc.push(*f));
                    acc.variance()
                };
                let v = if op == AggregateOp::Stddev {
                    v.sqrt()
                } else {
                    v
                };
                push(g.labels, PointValue::Float(v), g.drop_name);
            }
            AggregateOp::Quantile => {
                ignored(cx, &g, "quantile");
                let mut values = g.floats.clone();
                if values.is_empty() {
                    continue;
                }
                push(
                    g.labels,
                    PointValue::Float(quantile(param, &mut values)),
                    g.drop_name,
                );
            }
            AggregateOp::Topk | AggregateOp::Bottomk => {
                let k = param as i64;
                if k < 1 {
                    continue;
                }
                let mut floats: Vec<Sample> = Vec::new();
                let mut saw_histogram = false;
                for s in g.samples {
                    if matches!(s.value, PointValue::Float(_)) {
                        floats.push(s);
                    } else {
                        saw_histogram = true;
                    }
                }
                if saw_histogram {
                    cx.annotate(Annotation::histogram_ignored_in_aggregation(op.as_str(), p));
                }
                let val = |s: &Sample| match s.value {
                    PointValue::Float(f) => f,
                    PointValue::Histogram(_) => f64::NAN,
                };
                let top = op == AggregateOp::Topk;
                floats.sort_by(|x, y| {
                    let (a, b) = (val(x), val(y));
                    match (a.is_nan(), b.is_nan()) {
                        (true, true) => std::cmp::Ordering::Equal,
                        (true, false) => std::cmp::Ordering::Greater,
                        (false, true) => std::cmp::Ordering::Less,
                        _ if top => b.total_cmp(&a),
                        _ => a.total_cmp(&b),
                    }
                });
                floats.truncate(usize::try_from(k).unwrap_or(usize::MAX));
                out.extend(floats);
            }
            AggregateOp::Limitk => {
                let k = param as i64;
                if k < 1 {
                    continue;
                }
                out.extend(
                    g.samples
                        .into_iter()
                        .take(usize::try_from(k).unwrap_or(usize::MAX)),
                );
            }
            AggregateOp::LimitRatio => {
                let ratio = param.clamp(-1.0, 1.0);
                out.extend(g.samples.into_iter().filter(|s| {
                    let offset = ratio_offset(&s.labels);
                    (ratio >= 0.0 && offset < ratio) || (ratio < 0.0 && offset >= 1.0 + ratio)
                }));
            }
        }
    }
    Ok(out)
}

/// A stable position of a series in `[0, 1)`, so `limit_ratio` keeps the same series at
/// every step and `limit_ratio(r)` and `limit_ratio(-(1-r))` split the series between them.
fn ratio_offset(labels: &Labels) -> f64 {
    let mut h = DefaultHasher::new();
    labels.hash(&mut h);
    h.finish() as f64 / u64::MAX as f64
}
