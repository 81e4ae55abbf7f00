//! Pinning every selector and subquery of a query to one time with `@`.

use crate::ast::{AtModifier, Expr};
use crate::parser::{ParserOptions, parse_with};

/// Rewrites `query` so that every selector and subquery without `@` gets `@ <at_ms>`; what
/// is inside a subquery is left alone. Returns `None` when
/// the query does not parse.
pub fn pin_at(query: &str, at_ms: i64, options: &ParserOptions) -> Option<String> {
    let mut expr = parse_with(query, options).ok()?;
    pin(&mut expr, at_ms);
    Some(expr.to_string())
}

fn pin(expr: &mut Expr, at_ms: i64) {
    match expr {
        Expr::VectorSelector(v) => {
            v.at.get_or_insert(AtModifier::Timestamp(at_ms));
        }
        Expr::MatrixSelector(m) => {
            m.selector.at.get_or_insert(AtModifier::Timestamp(at_ms));
        }
        Expr::Subquery(s) => {
            // Selectors inside a pinned subquery keep following the subquery's steps.
            s.at.get_or_insert(AtModifier::Timestamp(at_ms));
        }
        Expr::Aggregate(a) => {
            if let Some(p) = &mut a.param {
                pin(p, at_ms);
            }
            pin(&mut a.expr, at_ms);
        }
        Expr::Binary(b) => {
            pin(&mut b.lhs, at_ms);
            pin(&mut b.rhs, at_ms);
        }
        Expr::Unary(u) => pin(&mut u.expr, at_ms),
        Expr::Paren(p) => pin(&mut p.expr, at_ms),
        Expr::Call(c) => c.args.iter_mut().for_each(|a| pin(a, at_ms)),
        Expr::Number(_) | Expr::String(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_selectors_but_not_inside_subqueries() {
        let o = ParserOptions::all_enabled();
        assert_eq!(
            pin_at("rate(x[5m]) + y", 10_000, &o).as_deref(),
            Some("rate(x[5m] @ 10.000) + y @ 10.000")
        );
        assert_eq!(
            pin_at(
                "sum_over_time(x[5m:1m]) + sum_over_time(y[5m:1m] @ 20)",
                10_000,
                &o
            )
            .as_deref(),
            Some("sum_over_time(x[5m:1m] @ 10.000) + sum_over_time(y[5m:1m] @ 20.000)")
        );
    }
}
