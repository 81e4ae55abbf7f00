//! `info(v, {selector})`: adds the data labels of info series (by default `target_info`) to
//! the series of `v` that share their identifying labels (`instance`, `job`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::ast::{
    AtModifier, Call, DurationExpr, Expr, LabelMatcher, MatchOp, NumberLiteral, Span,
    VectorSelector,
};
use crate::engine::EngineError;
use crate::engine::eval::{Ctx, Stepped, Steps, exec_err};
use crate::storage::Matcher;
use crate::value::labels::Labels;
use crate::value::{PointValue, Sample, Vector};

const TARGET_INFO: &str = "target_info";
const IDENTIFYING: [&str; 2] = ["instance", "job"];

fn matcher(name: &str, op: MatchOp, value: &str) -> LabelMatcher {
    LabelMatcher {
        name: name.to_owned(),
        op,
        value: value.to_owned(),
    }
}

/// The `__name__` matchers that pick the info series: as given if one of them selects
/// positively, otherwise restricted to `*_info` metrics, or `target_info` when none is given.
fn effective_name_matchers(given: &[LabelMatcher]) -> Vec<LabelMatcher> {
    if given
        .iter()
        .any(|m| matches!(m.op, MatchOp::Equal | MatchOp::Regex))
    {
        return given.to_vec();
    }
    if given.is_empty() {
        return vec![matcher("__name__", MatchOp::Equal, TARGET_INFO)];
    }
    let mut out = vec![matcher("__name__", MatchOp::Regex, ".+_info")];
    out.extend(given.iter().cloned());
    out
}

fn compile(m: &LabelMatcher) -> Result<Matcher, EngineError> {
    Matcher::new(m.op, m.name.clone(), m.value.clone()).map_err(Into::into)
}

/// The `@` and `offset` (ms) of the first vector selector in `e`, which the info series
/// follow; offsets of enclosing subqueries add up, and the innermost `@` wins.
fn first_selector(cx: &Ctx<'_>, e: &Expr) -> Option<(Option<AtModifier>, i64)> {
    match e {
        Expr::VectorSelector(v) => Some((v.at, v.offset.as_ref().map_or(0, |o| cx.duration_ms(o)))),
        Expr::MatrixSelector(m) => first_selector(cx, &Expr::VectorSelector(m.selector.clone())),
        Expr::Subquery(sq) => {
            let (at, offset) = first_selector(cx, &sq.expr)?;
            let own = sq.offset.as_ref().map_or(0, |o| cx.duration_ms(o));
            Some((at.or(sq.at), offset + own))
        }
        other => other
            .children()
            .into_iter()
            .find_map(|c| first_selector(cx, c)),
    }
}

fn info_signature(name: &str, labels: &Labels) -> Labels {
    let mut sig = labels.keep_only(&IDENTIFYING);
    sig.set("__name__", name);
    sig
}

pub(super) fn eval(cx: &mut Ctx<'_>, c: &Call, steps: Steps) -> Result<Stepped, EngineError> {
    let base = cx.eval_vector(&c.args[0], steps)?;
    let mut data: BTreeMap<String, Vec<LabelMatcher>> = BTreeMap::new();
    let mut name_matchers = Vec::new();
    match c.args.get(1) {
        Some(Expr::VectorSelector(sel)) => {
            for m in &sel.matchers {
                data.entry(m.name.clone()).or_default().push(m.clone());
                if m.name == "__name__" {
                    name_matchers.push(m.clone());
                }
            }
        }
        _ => name_matchers.push(matcher("__name__", MatchOp::Equal, TARGET_INFO)),
    }
    let effective: Vec<Matcher> = effective_name_matchers(&name_matchers)
        .iter()
        .map(compile)
        .collect::<Result<_, _>>()?;
    let is_info = |l: &Labels| {
        let name = l.metric_name().unwrap_or_default();
        effective.iter().all(|m| m.matches(name))
    };

    let mut id_values: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for s in base.iter().flatten() {
        if is_info(&s.labels) {
            continue;
        }
        for l in IDENTIFYING {
            if let Some(v) = s.labels.get(l).filter(|v| !v.is_empty()) {
                id_values.entry(l).or_default().insert(v.to_owned());
            }
        }
    }
    let data_names: Vec<LabelMatcher> = data
        .values()
        .flatten()
        .filter(|m| m.name == "__name__")
        .cloned()
        .collect();
    data.remove("__name__");
    let info: Vec<Vector> = if id_values.is_empty() {
        vec![Vec::new(); steps.len()]
    } else {
        let mut matchers: Vec<LabelMatcher> = id_values
            .iter()
            .map(|(name, vals)| {
                let alts: Vec<String> = vals.iter().map(|v| regex::escape(v)).collect();
                matcher(name, MatchOp::Regex, &alts.join("|"))
            })
            .collect();
        matchers.extend(data.values().flatten().cloned());
        matchers.extend(effective_name_matchers(&data_names));
        let (at, offset_ms) = first_selector(cx, &c.args[0]).unwrap_or((None, 0));
        let selector = VectorSelector {
            name: None,
            matchers,
            offset: (offset_ms != 0).then(|| {
                DurationExpr::Number(NumberLiteral {
                    value: offset_ms as f64 / 1000.0,
                    duration: true,
                    span: Span::default(),
                })
            }),
            at,
            anchored: false,
            smoothed: false,
            span: Span::default(),
        };
        cx.eval_vector(&Expr::VectorSelector(selector), steps)?
    };
    let data_matchers: Vec<Matcher> = data
        .values()
        .flatten()
        .map(compile)
        .collect::<Result<_, _>>()?;
    let all_match_empty = data_matchers.iter().all(|m| m.matches(""));
    let info_names: BTreeSet<String> = info
        .iter()
        .flatten()
        .filter_map(|s| s.labels.metric_name().map(str::to_owned))
        .collect();

    let mut out = Vec::with_capacity(steps.len());
    for (base_vec, info_vec) in base.into_iter().zip(info) {
        cx.check()?;
        // The newest info sample per signature.
        let mut by_sig: HashMap<Labels, Sample> = HashMap::new();
        for s in info_vec {
            if matches!(s.value, PointValue::Histogram(_)) {
                return Err(exec_err(format!(
                    "this should be an info metric, with float samples: {}",
                    s.labels
                )));
            }
            let sig = info_signature(s.labels.metric_name().unwrap_or_default(), &s.labels);
            match by_sig.get(&sig) {
                Some(existing) if existing.t > s.t => {}
                Some(existing) if existing.t == s.t => {
                    return Err(exec_err(format!(
                        "found duplicate series for info metric: existing {} @ {}, new {} @ {}",
                        existing.labels, existing.t, s.labels, s.t
                    )));
                }
                _ => {
                    by_sig.insert(sig, s);
                }
            }
        }
        let mut step = Vector::new();
        for mut bs in base_vec {
            if is_info(&bs.labels) {
                step.push(bs);
                continue;
            }
            let mut added = Labels::empty();
            let mut seen = false;
            for name in &info_names {
                let Some(is) = by_sig.get(&info_signature(name, &bs.labels)) else {
                    continue;
                };
                seen = true;
                for l in is.labels.iter() {
                    if l.name == "__name__" || (!data.is_empty() && !data.contains_key(&l.name)) {
                        continue;
                    }
                    if added.get(&l.name).is_some_and(|v| v != l.value) {
                        return Err(exec_err(format!("conflicting label: {}", l.name)));
                    }
                    if bs.labels.has(&l.name) {
                        continue;
                    }
                    added.set(l.name.clone(), l.value.clone());
                }
            }
            if !seen && !all_match_empty {
                continue;
            }
            for l in added.iter() {
                bs.labels.set(l.name.clone(), l.value.clone());
            }
            step.push(bs);
        }
        out.push(step);
    }
    Ok(Stepped::Vector(out))
}
