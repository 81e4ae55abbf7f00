//! Binary operators: arithmetic, comparisons and set operators, with vector matching.

use std::collections::{HashMap, HashSet};

use super::EngineError;
use super::eval::{Ctx, Stepped, Steps, exec_err, pos};
use crate::ast::{BinaryExpr, BinaryOp, Cardinality, FillValues, VectorMatching};
use crate::value::annotations::{Annotation, PositionRange};
use crate::value::histogram::{CounterResetHint, FloatHistogram, HistogramError};
use crate::value::labels::Labels;
use crate::value::{PointValue, Sample, Vector};

pub(crate) fn eval(cx: &mut Ctx<'_>, b: &BinaryExpr, steps: Steps) -> Result<Stepped, EngineError> {
    let lhs = cx.eval(&b.lhs, steps)?;
    let rhs = cx.eval(&b.rhs, steps)?;
    let p = pos(b.span);
    match (lhs, rhs) {
        (Stepped::Scalar(l), Stepped::Scalar(r)) => Ok(Stepped::Scalar(
            l.into_iter()
                .zip(r)
                .map(|(a, c)| scalar_op(b.op, a, c))
                .collect(),
        )),
        (Stepped::Vector(l), Stepped::Scalar(r)) => {
            let mut out = Vec::with_capacity(l.len());
            for (vec, s) in l.into_iter().zip(r) {
                out.push(vector_scalar(cx, b, vec, s, false, p));
            }
            Ok(Stepped::Vector(out))
        }
        (Stepped::Scalar(l), Stepped::Vector(r)) => {
            let mut out = Vec::with_capacity(r.len());
            for (vec, s) in r.into_iter().zip(l) {
                out.push(vector_scalar(cx, b, vec, s, true, p));
            }
            Ok(Stepped::Vector(out))
        }
        (Stepped::Vector(l), Stepped::Vector(r)) => {
            let default = VectorMatching {
                card: if b.op.is_set_operator() {
                    Cardinality::ManyToMany
                } else {
                    Cardinality::OneToOne
                },
                matching_labels: Vec::new(),
                on: false,
                include: Vec::new(),
                fill: FillValues::default(),
            };
            let matching = b.matching.as_ref().unwrap_or(&default);
            let mut out = Vec::with_capacity(l.len());
            for (lv, rv) in l.into_iter().zip(r) {
                cx.check()?;
                out.push(match b.op {
                    BinaryOp::And => and(lv, rv, matching),
                    BinaryOp::Or => or(lv, rv, matching),
                    BinaryOp::Unless => unless(lv, rv, matching),
                    _ => vector_vector(cx, b, lv, rv, matching, p)?,
                });
            }
            Ok(Stepped::Vector(out))
        }
        _ => Err(exec_err(format!(
            "operator {:?} not allowed on strings",
            b.op.as_str()
        ))),
    }
}

fn bool_f(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

fn scalar_op(op: BinaryOp, a: f64, b: f64) -> f64 {
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        // Rust's `%` on floats matches Go's math.Mod: the result takes the sign of `a`.
        BinaryOp::Mod => a % b,
        BinaryOp::Pow => a.powf(b),
        BinaryOp::Atan2 => a.atan2(b),
        BinaryOp::Eql => bool_f(a == b),
        BinaryOp::Neq => bool_f(a != b),
        BinaryOp::Gtr => bool_f(a > b),
        BinaryOp::Lss => bool_f(a < b),
        BinaryOp::Gte => bool_f(a >= b),
        BinaryOp::Lte => bool_f(a <= b),
        BinaryOp::TrimUpper
        | BinaryOp::TrimLower
        | BinaryOp::And
        | BinaryOp::Or
        | BinaryOp::Unless => f64::NAN,
    }
}

/// Whether the operator turns the value into something that is no longer the metric.
fn changes_schema(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Pow
            | BinaryOp::Mod
            | BinaryOp::Atan2
    )
}

/// The outcome of one element operation: the value, whether to keep it, an annotation.
struct Elem {
    value: Option<PointValue>,
    keep: bool,
    note: Option<Annotation>,
}

fn incompatible(l: &str, op: BinaryOp, r: &str, p: PositionRange) -> Elem {
    Elem {
        value: None,
        keep: false,
        note: Some(Annotation::incompatible_types_in_bin_op(
            l,
            op.as_str(),
            r,
            p,
        )),
    }
}

fn combine(
    l: &FloatHistogram,
    r: &FloatHistogram,
    op: BinaryOp,
    p: PositionRange,
) -> Result<Elem, EngineError> {
    let (res, name) = if op == BinaryOp::Add {
        (l.add(r), "addition")
    } else {
        (l.sub(r), "subtraction")
    };
    match res {
        Ok(c) => {
            let mut h = c.histogram;
            if op == BinaryOp::Sub {
                h.counter_reset_hint = CounterResetHint::Gauge;
            }
            let note = if c.counter_reset_collision {
                Some(Annotation::histogram_counter_reset_collision(name, p))
            } else if c.custom_buckets_reconciled {
                Some(Annotation::mismatched_custom_buckets(name, p))
            } else {
                None
            };
            Ok(Elem {
                value: Some(PointValue::Histogram(h.compact(0))),
                keep: true,
                note,
            })
        }
        Err(HistogramError::IncompatibleSchema) => {
            Err(exec_err(HistogramError::IncompatibleSchema.to_string()))
        }
    }
}

/// Multiplies or divides a histogram by a float. A negative factor makes it a gauge, and
/// dividing by zero leaves no buckets, only infinite (or NaN) totals, as in Prometheus.
fn scale(h: &FloatHistogram, factor: f64, divide: bool) -> FloatHistogram {
    let mut out = if divide { h.div(factor) } else { h.mul(factor) };
    if factor < 0.0 {
        out.counter_reset_hint = CounterResetHint::Gauge;
    }
    if divide && factor == 0.0 {
        out.positive_buckets.clear();
        out.negative_buckets.clear();
        out.positive_spans.clear();
        out.negative_spans.clear();
        return out;
    }
    out.compact(0)
}

fn elem_op(
    op: BinaryOp,
    l: &PointValue,
    r: &PointValue,
    p: PositionRange,
) -> Result<Elem, EngineError> {
    let float = |f: f64, keep: bool| Elem {
        value: Some(PointValue::Float(f)),
        keep,
        note: None,
    };
    Ok(match (l, r) {
        (PointValue::Float(a), PointValue::Float(b)) => {
            let (a, b) = (*a, *b);
            match op {
                BinaryOp::Eql => float(a, a == b),
                BinaryOp::Neq => float(a, a != b),
                BinaryOp::Gtr => float(a, a > b),
                BinaryOp::Lss => float(a, a < b),
                BinaryOp::Gte => float(a, a >= b),
                BinaryOp::Lte => float(a, a <= b),
                BinaryOp::TrimUpper | BinaryOp::TrimLower => incompatible("float", op, "float", p),
                _ => float(scalar_op(op, a, b), true),
            }
        }
        (PointValue::Float(a), PointValue::Histogram(h)) => match op {
            BinaryOp::Mul => Elem {
                value: Some(PointValue::Histogram(scale(h, *a, false))),
                keep: true,
                note: None,
            },
            _ => incompatible("float", op, "histogram", p),
        },
        (PointValue::Histogram(h), PointValue::Float(b)) => match op {
            BinaryOp::Mul => Elem {
                value: Some(PointValue::Histogram(scale(h, *b, false))),
                keep: true,
                note: None,
            },
            BinaryOp::Div => Elem {
                value: Some(PointValue::Histogram(scale(h, *b, true))),
                keep: true,
                note: None,
            },
            BinaryOp::TrimUpper | BinaryOp::TrimLower => Elem {
                value: Some(PointValue::Histogram(super::trim::trim_buckets(
                    h,
                    *b,
                    op == BinaryOp::TrimUpper,
                ))),
                keep: true,
                note: None,
            },
            _ => incompatible("histogram", op, "float", p),
        },
        (PointValue::Histogram(a), PointValue::Histogram(b)) => match op {
            BinaryOp::Add | BinaryOp::Sub => combine(a, b, op, p)?,
            BinaryOp::Eql => Elem {
                value: Some(l.clone()),
                keep: a.equals(b),
                note: None,
            },
            BinaryOp::Neq => Elem {
                value: Some(l.clone()),
                keep: !a.equals(b),
                note: None,
            },
            _ => incompatible("histogram", op, "histogram", p),
        },
    })
}

fn vector_scalar(
    cx: &mut Ctx<'_>,
    b: &BinaryExpr,
    vec: Vector,
    scalar: f64,
    swap: bool,
    p: PositionRange,
) -> Vector {
    let mut out = Vec::with_capacity(vec.len());
    let s = PointValue::Float(scalar);
    for mut sample in vec {
        let res = if swap {
            elem_op(b.op, &s, &sample.value, p)
        } else {
            elem_op(b.op, &sample.value, &s, p)
        };
        let mut e = match res {
            Ok(e) => e,
            Err(_) => continue,
        };
        if let Some(n) = e.note.take() {
            cx.annotate(n);
        }
        if b.op.is_comparison() && swap {
            e.value = Some(sample.value.clone());
        }
        let mut keep = e.keep;
        if e.value.is_none() {
            continue;
        }
        if b.return_bool {
            e.value = Some(PointValue::Float(bool_f(keep)));
            keep = true;
        }
        if !keep {
            continue;
        }
        let Some(v) = e.value else { continue };
        sample.value = v;
        if changes_schema(b.op) || b.return_bool {
            sample.drop_name = true;
        }
        out.push(sample);
    }
    out
}

/// The labels two sides are matched on.
fn match_key(labels: &Labels, m: &VectorMatching) -> Labels {
    if m.on {
        labels.keep_only(&m.matching_labels)
    } else {
        let mut names: Vec<&str> = m.matching_labels.iter().map(String::as_str).collect();
        names.push("__name__");
        labels.without(&names)
    }
}

fn and(lhs: Vector, rhs: Vector, m: &VectorMatching) -> Vector {
    let keys: HashSet<Labels> = rhs.iter().map(|s| match_key(&s.labels, m)).collect();
    lhs.into_iter()
        .filter(|s| keys.contains(&match_key(&s.labels, m)))
        .collect()
}

fn or(lhs: Vector, rhs: Vector, m: &VectorMatching) -> Vector {
    let keys: HashSet<Labels> = lhs.iter().map(|s| match_key(&s.labels, m)).collect();
    let mut out = lhs;
    out.extend(
        rhs.into_iter()
            .filter(|s| !keys.contains(&match_key(&s.labels, m))),
    );
    out
}

fn unless(lhs: Vector, rhs: Vector, m: &VectorMatching) -> Vector {
    let keys: HashSet<Labels> = rhs.iter().map(|s| match_key(&s.labels, m)).collect();
    lhs.into_iter()
        .filter(|s| !keys.contains(&match_key(&s.labels, m)))
        .collect()
}

fn result_labels(
    l: &Labels,
    r: &Labels,
    op: BinaryOp,
    m: &VectorMatching,
    drop_name: bool,
) -> Labels {
    let mut out = if drop_name || changes_schema(op) {
        super::eval::drop_metadata(l)
    } else {
        l.clone()
    };
    if m.card == Cardinality::OneToOne {
        out = if m.on {
            out.keep_only(&m.matching_labels)
        } else {
            out.without(&m.matching_labels)
        };
    }
    for name in &m.include {
        match r.get(name) {
            Some(v) => out.set(name.clone(), v.to_owned()),
            None => {
                out.remove(name);
            }
        }
    }
    out
}

/// Match groups already used, to detect ambiguous matches.
#[derive(Default)]
struct Matched {
    one: HashSet<Labels>,
    many: HashMap<Labels, HashSet<Labels>>,
}

fn vector_vector(
    cx: &mut Ctx<'_>,
    b: &BinaryExpr,
    lhs: Vector,
    rhs: Vector,
    m: &VectorMatching,
    p: PositionRange,
) -> Result<Vector, EngineError> {
    let fill = m.fill;
    if (lhs.is_empty() && rhs.is_empty())
        || ((lhs.is_empty() || rhs.is_empty()) && fill.lhs.is_none() && fill.rhs.is_none())
    {
        return Ok(Vec::new());
    }
    let one_to_many = m.card == Cardinality::OneToMany;
    let (lhs, rhs) = if one_to_many { (rhs, lhs) } else { (lhs, rhs) };
    let (fill_for_rhs, fill_for_lhs) = (fill.rhs, fill.lhs);
    let mut right: HashMap<Labels, usize> = HashMap::new();
    for (i, rs) in rhs.iter().enumerate() {
        let key = match_key(&rs.labels, m);
        if let Some(&prev) = right.get(&key) {
            let side = if one_to_many { "left" } else { "right" };
            let (mut d1, mut d2) = (rs.labels.to_string(), rhs[prev].labels.to_string());
            if d1 > d2 {
                std::mem::swap(&mut d1, &mut d2);
            }
            return Err(exec_err(format!(
                "found duplicate series for the match group {key} on the {side} hand-side of the operation: [{d1}, {d2}];many-to-many matching not allowed: matching labels must be unique on one side"
            )));
        }
        right.insert(key, i);
    }
    let mut matched = Matched::default();
    let mut out = Vec::new();
    let do_op = |cx: &mut Ctx<'_>,
                 matched: &mut Matched,
                 ls: &Sample,
                 rs: &Sample,
                 key: Labels,
                 out: &mut Vector|
     -> Result<(), EngineError> {
        let (lv, rv) = if one_to_many {
            (&rs.value, &ls.value)
        } else {
            (&ls.value, &rs.value)
        };
        let mut e = elem_op(b.op, lv, rv, p)?;
        if let Some(n) = e.note.take() {
            cx.annotate(n);
        }
        if e.value.is_none() {
            return Ok(());
        }
        if b.return_bool {
            e.value = Some(PointValue::Float(bool_f(e.keep)));
        }
        let labels = result_labels(&ls.labels, &rs.labels, b.op, m, false);
        if m.card == Cardinality::OneToOne {
            if !matched.one.insert(key) {
                return Err(exec_err(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
        } else if !matched.many.entry(key).or_default().insert(labels.clone()) {
            return Err(exec_err(
                "multiple matches for labels: grouping labels must ensure unique matches",
            ));
        }
        if !e.keep && !b.return_bool {
            return Ok(());
        }
        if let Some(value) = e.value {
            out.push(Sample {
                labels,
                t: ls.t,
                value,
                drop_name: b.return_bool,
            });
        }
        Ok(())
    };
    for ls in &lhs {
        let key = match_key(&ls.labels, m);
        let filled;
        let rs = match right.get(&key) {
            Some(&i) => &rhs[i],
            None => match fill_for_rhs {
                Some(f) => {
                    filled = Sample {
                        labels: key.clone(),
                        t: ls.t,
                        value: PointValue::Float(f),
                        drop_name: false,
                    };
                    &filled
                }
                None => continue,
            },
        };
        do_op(cx, &mut matched, ls, rs, key, &mut out)?;
    }
    if let Some(f) = fill_for_lhs {
        for rs in &rhs {
            let key = match_key(&rs.labels, m);
            let done = if m.card == Cardinality::OneToOne {
                matched.one.contains(&key)
            } else {
                matched.many.get(&key).is_some_and(|s| !s.is_empty())
            };
            if done {
                continue;
            }
            let ls = Sample {
                labels: key.clone(),
                t: rs.t,
                value: PointValue::Float(f),
                drop_name: false,
            };
            do_op(cx, &mut matched, &ls, rs, key, &mut out)?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vm(on: bool, labels: &[&str], card: Cardinality, include: &[&str]) -> VectorMatching {
        VectorMatching {
            card,
            matching_labels: labels.iter().map(|s| (*s).to_owned()).collect(),
            on,
            include: include.iter().map(|s| (*s).to_owned()).collect(),
            fill: FillValues::default(),
        }
    }

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn matching_keys_drop_the_name_unless_on() {
        let labels = l(&[("__name__", "x"), ("job", "a"), ("i", "1")]);
        let ignoring = vm(false, &["i"], Cardinality::OneToOne, &[]);
        assert_eq!(match_key(&labels, &ignoring), l(&[("job", "a")]));
        let on = vm(true, &["__name__"], Cardinality::OneToOne, &[]);
        assert_eq!(match_key(&labels, &on), l(&[("__name__", "x")]));
    }

    #[test]
    fn group_left_copies_included_labels_from_the_one_side() {
        let m = vm(true, &["job"], Cardinality::ManyToOne, &["version"]);
        let out = result_labels(
            &l(&[("__name__", "x"), ("job", "a"), ("i", "1")]),
            &l(&[("__name__", "info"), ("job", "a"), ("version", "2")]),
            BinaryOp::Mul,
            &m,
            false,
        );
        assert_eq!(out, l(&[("i", "1"), ("job", "a"), ("version", "2")]));
    }

    #[test]
    fn histogram_and_float_mix_is_an_info_not_an_error() {
        let p = PositionRange::default();
        let h = PointValue::Histogram(FloatHistogram::default());
        let e = elem_op(BinaryOp::Add, &h, &PointValue::Float(1.0), p).unwrap();
        assert!(e.value.is_none() && e.note.is_some());
    }
}
