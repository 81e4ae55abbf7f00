//! Renders a syntax tree back to PromQL in Prometheus' `String()` style.
//!
//! The output parses back to the same tree (ignoring positions). Two deliberate differences
//! from Prometheus keep that round trip exact: label matchers keep their written order instead
//! of being sorted, and positive infinity prints as `Inf` rather than `+Inf`.

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::{
    AggregateExpr, AtModifier, BinaryExpr, Cardinality, DurationExpr, Expr, LabelMatcher, MatchOp,
    NumberLiteral, StringLiteral, VectorSelector,
};
use crate::lexer::{go_quote, go_quote_bytes};

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        crate::ast::with_stack(|| self.write_to(f))
    }
}

impl Expr {
    fn write_to(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number(n) => n.fmt(f),
            Expr::String(s) => s.fmt(f),
            Expr::VectorSelector(vs) => {
                write_selector_body(f, vs)?;
                write_at(f, vs.at)?;
                write_extended(f, vs)?;
                write_offset(f, vs.offset.as_ref())
            }
            Expr::MatrixSelector(ms) => {
                write_selector_body(f, &ms.selector)?;
                write!(f, "[{}]", ms.range)?;
                write_extended(f, &ms.selector)?;
                write_at(f, ms.selector.at)?;
                write_offset(f, ms.selector.offset.as_ref())
            }
            Expr::Subquery(sq) => {
                write!(f, "{}[{}:", sq.expr, sq.range)?;
                if let Some(step) = &sq.step {
                    write!(f, "{step}")?;
                }
                f.write_char(']')?;
                write_at(f, sq.at)?;
                write_offset(f, sq.offset.as_ref())
            }
            Expr::Aggregate(agg) => agg.fmt(f),
            Expr::Binary(bin) => bin.fmt(f),
            Expr::Unary(u) => write!(f, "{}{}", u.op.as_str(), u.expr),
            Expr::Paren(p) => write!(f, "({})", p.expr),
            Expr::Call(call) => {
                write!(f, "{}(", call.func.name)?;
                for (i, arg) in call.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_char(')')
            }
        }
    }
}

impl Display for NumberLiteral {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.duration && self.value.is_finite() {
            return f.write_str(&format_duration(self.value));
        }
        if self.value == f64::INFINITY {
            // Prometheus writes `+Inf`, but a leading sign would make `Inf ^ x` print as
            // `+Inf ^ x`, which parses as `+(Inf ^ x)`.
            return f.write_str("Inf");
        }
        f.write_str(&format_float(self.value))
    }
}

impl Display for StringLiteral {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.non_utf8 {
            Some(bytes) => f.write_str(&go_quote_bytes(bytes)),
            None => f.write_str(&go_quote(&self.value)),
        }
    }
}

impl Display for LabelMatcher {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_label_name(f, &self.name)?;
        write!(f, "{}{}", self.op.as_str(), go_quote(&self.value))
    }
}

impl Display for AggregateExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.op.as_str())?;
        if self.without || !self.grouping.is_empty() {
            f.write_str(if self.without { " without (" } else { " by (" })?;
            write_labels(f, &self.grouping)?;
            f.write_str(") ")?;
        }
        f.write_char('(')?;
        if let Some(param) = &self.param {
            write!(f, "{param}, ")?;
        }
        write!(f, "{})", self.expr)
    }
}

impl Display for BinaryExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.lhs, self.op.as_str())?;
        if self.return_bool {
            f.write_str(" bool")?;
        }
        if let Some(vm) = &self.matching {
            let grouped = matches!(vm.card, Cardinality::ManyToOne | Cardinality::OneToMany);
            if !vm.matching_labels.is_empty() || vm.on || grouped {
                f.write_str(if vm.on { " on (" } else { " ignoring (" })?;
                write_labels(f, &vm.matching_labels)?;
                f.write_char(')')?;
            }
            if grouped {
                f.write_str(if vm.card == Cardinality::ManyToOne {
                    " group_left ("
                } else {
                    " group_right ("
                })?;
                write_labels(f, &vm.include)?;
                f.write_char(')')?;
            }
            match (vm.fill.lhs, vm.fill.rhs) {
                (Some(l), Some(r)) if l.to_bits() == r.to_bits() => {
                    write!(f, " fill ({})", format_float(l))?
                }
                (l, r) => {
                    if let Some(l) = l {
                        write!(f, " fill_left ({})", format_float(l))?;
                    }
                    if let Some(r) = r {
                        write!(f, " fill_right ({})", format_float(r))?;
                    }
                }
            }
        }
        write!(f, " {}", self.rhs)
    }
}

impl Display for DurationExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            DurationExpr::Number(n) => n.fmt(f),
            DurationExpr::Step(_) => f.write_str("step()"),
            DurationExpr::Range(_) => f.write_str("range()"),
            DurationExpr::Neg { expr, .. } => write!(f, "-{expr}"),
            DurationExpr::Binary { op, lhs, rhs, .. } => write!(f, "{lhs} {} {rhs}", op.as_str()),
            DurationExpr::MinOf { lhs, rhs, .. } => write!(f, "min_of({lhs}, {rhs})"),
            DurationExpr::MaxOf { lhs, rhs, .. } => write!(f, "max_of({lhs}, {rhs})"),
            DurationExpr::Paren { expr, .. } => write!(f, "({expr})"),
        }
    }
}

fn write_selector_body(f: &mut Formatter<'_>, vs: &VectorSelector) -> fmt::Result {
    let name = vs.name.as_deref().unwrap_or_default();
    f.write_str(name)?;
    let is_name_matcher = |m: &LabelMatcher| {
        m.name == "__name__" && m.op == MatchOp::Equal && !name.is_empty() && m.value == name
    };
    let shown: Vec<&LabelMatcher> = vs.matchers.iter().filter(|m| !is_name_matcher(m)).collect();
    if shown.is_empty() {
        // A selector needs either a name or braces.
        return if name.is_empty() {
            f.write_str("{}")
        } else {
            Ok(())
        };
    }
    f.write_char('{')?;
    for (i, m) in shown.iter().enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        write!(f, "{m}")?;
    }
    f.write_char('}')
}

fn write_at(f: &mut Formatter<'_>, at: Option<AtModifier>) -> fmt::Result {
    match at {
        None => Ok(()),
        Some(AtModifier::Start) => f.write_str(" @ start()"),
        Some(AtModifier::End) => f.write_str(" @ end()"),
        Some(AtModifier::Timestamp(ms)) => {
            let sign = if ms < 0 { "-" } else { "" };
            let abs = ms.unsigned_abs();
            write!(f, " @ {sign}{}.{:03}", abs / 1000, abs % 1000)
        }
    }
}

fn write_extended(f: &mut Formatter<'_>, vs: &VectorSelector) -> fmt::Result {
    if vs.anchored {
        f.write_str(" anchored")
    } else if vs.smoothed {
        f.write_str(" smoothed")
    } else {
        Ok(())
    }
}

fn write_offset(f: &mut Formatter<'_>, offset: Option<&DurationExpr>) -> fmt::Result {
    match offset {
        Some(d) => write!(f, " offset {d}"),
        None => Ok(()),
    }
}

fn write_labels(f: &mut Formatter<'_>, labels: &[String]) -> fmt::Result {
    for (i, label) in labels.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_label_name(f, label)?;
    }
    Ok(())
}

/// Writes a label name, quoting it unless it is a legacy `[a-zA-Z_][a-zA-Z0-9_]*` name.
fn write_label_name(f: &mut Formatter<'_>, name: &str) -> fmt::Result {
    let legacy = !name.is_empty()
        && name
            .chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    if legacy {
        f.write_str(name)
    } else {
        f.write_str(&go_quote(name))
    }
}

/// Formats a float like Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
pub(crate) fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

/// Formats seconds as a Prometheus duration (`1h30m`, `-5m`, `0s`), at millisecond precision.
pub(crate) fn format_duration(seconds: f64) -> String {
    let nanos = (seconds * 1e9).round();
    let ms = (nanos / 1e6).trunc() as i64;
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
    }
    let mut rest = ms.unsigned_abs();
    const UNITS: [(&str, u64, bool); 7] = [
        ("y", 365 * 24 * 3_600_000, true),
        ("w", 7 * 24 * 3_600_000, true),
        ("d", 24 * 3_600_000, false),
        ("h", 3_600_000, false),
        ("m", 60_000, false),
        ("s", 1000, false),
        ("ms", 1, false),
    ];
    for (unit, mult, exact) in UNITS {
        // Years and weeks are only used when they divide evenly: `90d` reads better than `12w6d`.
        if exact && !rest.is_multiple_of(mult) {
            continue;
        }
        let v = rest / mult;
        if v > 0 {
            let _ = write!(out, "{v}{unit}");
            rest -= v * mult;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(format_duration(5400.0), "1h30m");
        assert_eq!(format_duration(-300.0), "-5m");
        assert_eq!(format_duration(0.0), "0s");
        assert_eq!(format_duration(0.3), "300ms");
        assert_eq!(format_duration(90.0 * 86400.0), "90d");
        assert_eq!(format_duration(14.0 * 86400.0), "2w");
        assert_eq!(format_duration(365.0 * 86400.0), "1y");
    }

    #[test]
    fn floats() {
        assert_eq!(format_float(1.0), "1");
        assert_eq!(format_float(0.5), "0.5");
        assert_eq!(format_float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_float(1e21), "1000000000000000000000");
    }
}
