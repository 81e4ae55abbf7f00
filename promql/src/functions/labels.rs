//! `label_replace`, `label_join` and `sort_by_label`.

use regex::Regex;

use crate::ast::{Call, Expr};
use crate::engine::EngineError;
use crate::engine::eval::go_quote_bytes;
use crate::engine::eval::{Ctx, Stepped, Steps, exec_err};

/// Reads a string-literal argument; label names must be valid UTF-8.
fn label_arg(e: &Expr, what: &str, func: &str) -> Result<String, EngineError> {
    match e {
        Expr::String(s) => match &s.non_utf8 {
            Some(bytes) => Err(exec_err(format!(
                "invalid {what} in {func}(): {}",
                go_quote_bytes(bytes)
            ))),
            None => Ok(s.value.clone()),
        },
        Expr::Paren(p) => label_arg(&p.expr, what, func),
        other => Err(exec_err(format!("expected a string literal, got {other}"))),
    }
}

fn valid_label_name(name: &str) -> bool {
    !name.is_empty()
}

pub(super) fn label_replace(
    cx: &mut Ctx<'_>,
    c: &Call,
    steps: Steps,
) -> Result<Stepped, EngineError> {
    const F: &str = "label_replace";
    let dst = label_arg(&c.args[1], "destination label name", F)?;
    let replacement = label_arg(&c.args[2], "replacement", F)?;
    let src = label_arg(&c.args[3], "source label name", F)?;
    let pattern = label_arg(&c.args[4], "regular expression", F)?;
    let re = Regex::new(&format!("^(?s:{pattern})$")).map_err(|_| {
        exec_err(format!(
            "invalid regular expression in label_replace(): {pattern}"
        ))
    })?;
    if !valid_label_name(&dst) {
        return Err(exec_err(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let input = cx.eval_vector(&c.args[0], steps)?;
    let out = input
        .into_iter()
        .map(|vec| {
            vec.into_iter()
                .map(|mut s| {
                    let value = s.labels.get(&src).unwrap_or_default().to_owned();
                    if let Some(caps) = re.captures(&value) {
                        let mut res = String::new();
                        caps.expand(&replacement, &mut res);
                        s.labels.set(dst.clone(), res);
                        if dst == "__name__" {
                            s.drop_name = false;
                        }
                    }
                    s
                })
                .collect()
        })
        .collect();
    Ok(Stepped::Vector(out))
}

pub(super) fn label_join(cx: &mut Ctx<'_>, c: &Call, steps: Steps) -> Result<Stepped, EngineError> {
    const F: &str = "label_join";
    let dst = label_arg(&c.args[1], "destination label name", F)?;
    let sep = label_arg(&c.args[2], "separator", F)?;
    let mut srcs = Vec::new();
    for a in &c.args[3..] {
        srcs.push(label_arg(a, "source label name", F)?);
    }
    if !valid_label_name(&dst) {
        return Err(exec_err(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let input = cx.eval_vector(&c.args[0], steps)?;
    let out = input
        .into_iter()
        .map(|vec| {
            vec.into_iter()
                .map(|mut s| {
                    let joined = srcs
                        .iter()
                        .map(|n| s.labels.get(n).unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(&sep);
                    s.labels.set(dst.clone(), joined);
                    if dst == "__name__" {
                        s.drop_name = false;
                    }
                    s
                })
                .collect()
        })
        .collect();
    Ok(Stepped::Vector(out))
}

pub(super) fn sort_by_label(
    cx: &mut Ctx<'_>,
    c: &Call,
    steps: Steps,
) -> Result<Stepped, EngineError> {
    let desc = c.func.name == "sort_by_label_desc";
    let mut names = Vec::new();
    for a in &c.args[1..] {
        names.push(label_arg(a, "label name", c.func.name)?);
    }
    let mut input = cx.eval_vector(&c.args[0], steps)?;
    for vec in &mut input {
        vec.sort_by(|a, b| {
            let by_names = names
                .iter()
                .map(|n| {
                    let (x, y) = (
                        a.labels.get(n).unwrap_or_default(),
                        b.labels.get(n).unwrap_or_default(),
                    );
                    natural_cmp(x, y)
                })
                .find(|o| o.is_ne())
                .unwrap_or_else(|| a.labels.cmp(&b.labels));
            if desc { by_names.reverse() } else { by_names }
        });
    }
    Ok(Stepped::Vector(input))
}

/// Compares strings so that runs of digits compare by their numeric value (`a2 < a10`).
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let nx = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let ny = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (dx, dy) = (&x[..nx], &y[..ny]);
                let tx = dx.iter().skip_while(|c| **c == b'0').count();
                let ty = dy.iter().skip_while(|c| **c == b'0').count();
                let o = tx.cmp(&ty).then_with(|| dx[nx - tx..].cmp(&dy[ny - ty..]));
                if o.is_ne() {
                    return o;
                }
                x = &x[nx..];
                y = &y[ny..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        assert!(natural_cmp("a2", "a10").is_lt());
        assert!(natural_cmp("b", "a10").is_gt());
        assert!(natural_cmp("x01", "x1").is_eq());
    }
}
