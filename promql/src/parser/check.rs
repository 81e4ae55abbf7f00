//! Type checking after a successful parse, with Prometheus' messages and positions.
//!
//! It also normalizes vector matching the way Prometheus does: set operators become
//! many-to-many, and matching is dropped when an operand is not an instant vector.

use regex::Regex;

use crate::ast::{
    AggregateOp, BinaryExpr, Cardinality, Expr, MatchOp, Span, ValueType, VectorSelector,
    with_stack,
};
use crate::lexer::go_quote;

/// A type error: span and message.
pub(crate) type CheckError = (Span, String);

/// Checks the whole tree; returns the first error.
pub(crate) fn check(input: &str, expr: &mut Expr) -> Result<(), CheckError> {
    Checker { input }.check(expr).map(|_| ())
}

/// Compiles a matcher regex the way Prometheus does: fully anchored, `.` matching newlines.
pub(crate) fn compile_anchored(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?s:{pattern})$")).map_err(|e| {
        let detail = match &e {
            regex::Error::Syntax(text) => {
                let last = text.lines().last().unwrap_or_default().trim();
                last.strip_prefix("error: ").unwrap_or(last).to_string()
            }
            other => other.to_string(),
        };
        format!("error parsing regexp: {detail}: `{pattern}`")
    })
}

struct Checker<'a> {
    input: &'a str,
}

impl Checker<'_> {
    fn check(&self, expr: &mut Expr) -> Result<ValueType, CheckError> {
        with_stack(|| self.check_levels(expr))
    }

    fn check_levels(&self, expr: &mut Expr) -> Result<ValueType, CheckError> {
        match expr {
            Expr::Number(_) | Expr::String(_) => {}
            Expr::Aggregate(agg) => {
                self.expect_type(
                    &mut agg.expr,
                    ValueType::InstantVector,
                    "aggregation expression",
                )?;
                let param_type = match agg.op {
                    AggregateOp::Topk
                    | AggregateOp::Bottomk
                    | AggregateOp::Quantile
                    | AggregateOp::Limitk
                    | AggregateOp::LimitRatio => Some(ValueType::Scalar),
                    AggregateOp::CountValues => Some(ValueType::String),
                    _ => None,
                };
                if let (Some(want), Some(param)) = (param_type, agg.param.as_mut()) {
                    self.expect_type(param, want, "aggregation parameter")?;
                }
            }
            Expr::Binary(bin) => self.check_binary(bin)?,
            Expr::Call(call) => {
                let func = call.func;
                let nargs = func.arg_types.len();
                let given = call.args.len();
                let name = go_quote(func.name);
                if func.variadic == 0 {
                    if nargs != given {
                        return Err((
                            call.span,
                            format!("expected {nargs} argument(s) in call to {name}, got {given}"),
                        ));
                    }
                } else {
                    let required = nargs - 1;
                    if required > given {
                        return Err((
                            call.span,
                            format!(
                                "expected at least {required} argument(s) in call to {name}, got {given}"
                            ),
                        ));
                    }
                    let max = required + usize::try_from(func.variadic).unwrap_or(0);
                    if func.variadic > 0 && max < given {
                        return Err((
                            call.span,
                            format!(
                                "expected at most {max} argument(s) in call to {name}, got {given}"
                            ),
                        ));
                    }
                }
                let info_labels = func.name == "info" && given > 1;
                if info_labels {
                    let second = &call.args[1];
                    if second.value_type() != ValueType::InstantVector {
                        return Err((
                            call.span,
                            format!(
                                "expected type instant vector in call to function {name}, got {}",
                                second.value_type()
                            ),
                        ));
                    }
                    match second {
                        Expr::VectorSelector(vs) if vs.name.is_some() => {
                            return Err((
                                second.span(),
                                "expected label selectors only, got vector selector instead".into(),
                            ));
                        }
                        Expr::VectorSelector(_) => {}
                        _ => return Err((second.span(), "expected label selectors only".into())),
                    }
                }
                for (i, arg) in call.args.iter_mut().enumerate() {
                    let want = match func.arg_types.get(i) {
                        Some(t) => *t,
                        None if func.variadic == 0 => break,
                        None => func.arg_types[nargs - 1],
                    };
                    let got = match arg {
                        // `info` takes label selectors that may match the empty string.
                        Expr::VectorSelector(vs) if info_labels && i == 1 => {
                            self.check_selector(vs, true)?
                        }
                        _ => self.check(arg)?,
                    };
                    if got != want {
                        return Err((
                            arg.span(),
                            format!("expected type {want} in call to function {name}, got {got}"),
                        ));
                    }
                }
            }
            Expr::Paren(paren) => {
                self.check(&mut paren.expr)?;
            }
            Expr::Unary(unary) => {
                let t = self.check(&mut unary.expr)?;
                if t != ValueType::Scalar && t != ValueType::InstantVector {
                    return Err((
                        unary.span,
                        format!(
                            "unary expression only allowed on expressions of type scalar or instant vector, got {}",
                            go_quote(&t.to_string())
                        ),
                    ));
                }
            }
            Expr::Subquery(sq) => {
                let t = self.check(&mut sq.expr)?;
                if t != ValueType::InstantVector {
                    return Err((
                        sq.span,
                        format!(
                            "subquery is only allowed on instant vector, got {} instead",
                            t.internal_name()
                        ),
                    ));
                }
            }
            Expr::MatrixSelector(ms) => {
                self.check_selector(&ms.selector, false)?;
            }
            Expr::VectorSelector(vs) => {
                self.check_selector(vs, false)?;
            }
        }
        Ok(expr.value_type())
    }

    fn expect_type(
        &self,
        expr: &mut Expr,
        want: ValueType,
        context: &str,
    ) -> Result<(), CheckError> {
        let got = self.check(expr)?;
        if got != want {
            return Err((
                expr.span(),
                format!("expected type {want} in {context}, got {got}"),
            ));
        }
        Ok(())
    }

    fn check_selector(
        &self,
        vs: &VectorSelector,
        allow_empty: bool,
    ) -> Result<ValueType, CheckError> {
        if let Some(name) = &vs.name {
            // The last matcher is the one built from the name written before the braces.
            let inside = &vs.matchers[..vs.matchers.len().saturating_sub(1)];
            if let Some(m) = inside.iter().find(|m| m.name == "__name__") {
                return Err((
                    vs.span,
                    format!(
                        "metric name must not be set twice: {} or {}",
                        go_quote(name),
                        go_quote(&m.value)
                    ),
                ));
            }
            return Ok(ValueType::InstantVector);
        }
        if !allow_empty && vs.matchers.iter().all(matches_empty) {
            return Err((
                vs.span,
                "vector selector must contain at least one non-empty matcher".into(),
            ));
        }
        Ok(ValueType::InstantVector)
    }

    fn check_binary(&self, bin: &mut BinaryExpr) -> Result<(), CheckError> {
        let lt = self.check(&mut bin.lhs)?;
        let rt = self.check(&mut bin.rhs)?;
        let op_span = self.operator_span(bin);
        if bin.return_bool && !bin.op.is_comparison() {
            return Err((
                op_span,
                "bool modifier can only be used on comparison operators".into(),
            ));
        }
        if bin.op.is_comparison()
            && !bin.return_bool
            && lt == ValueType::Scalar
            && rt == ValueType::Scalar
        {
            return Err((
                op_span,
                "comparisons between scalars must use BOOL modifier".into(),
            ));
        }
        if let Some(matching) = bin.matching.as_mut() {
            if bin.op.is_set_operator() && matching.card == Cardinality::OneToOne {
                matching.card = Cardinality::ManyToMany;
            }
            if matching.on
                && let Some(label) = matching
                    .matching_labels
                    .iter()
                    .find(|l| matching.include.contains(l))
            {
                return Err((
                    op_span,
                    format!(
                        "label {} must not occur in ON and GROUP clause at once",
                        go_quote(label)
                    ),
                ));
            }
        }
        for (t, side) in [(lt, &bin.lhs), (rt, &bin.rhs)] {
            if t != ValueType::Scalar && t != ValueType::InstantVector {
                return Err((
                    side.span(),
                    "binary expression must contain only scalar and instant vector types".into(),
                ));
            }
        }
        let op_name = go_quote(bin.op.as_str());
        if lt != ValueType::InstantVector || rt != ValueType::InstantVector {
            if let Some(matching) = bin.matching.take() {
                if !matching.matching_labels.is_empty() {
                    return Err((
                        bin.span,
                        "vector matching only allowed between instant vectors".into(),
                    ));
                }
                if matching.fill.lhs.is_some() || matching.fill.rhs.is_some() {
                    return Err((
                        bin.span,
                        "filling in missing series only allowed between instant vectors".into(),
                    ));
                }
            }
        } else if let Some(matching) = bin.matching.as_ref().filter(|_| bin.op.is_set_operator()) {
            if matches!(
                matching.card,
                Cardinality::OneToMany | Cardinality::ManyToOne
            ) {
                return Err((
                    bin.span,
                    format!("no grouping allowed for {op_name} operation"),
                ));
            }
            if matching.card != Cardinality::ManyToMany {
                return Err((
                    bin.span,
                    "set operations must always be many-to-many".into(),
                ));
            }
            if matching.fill.lhs.is_some() || matching.fill.rhs.is_some() {
                return Err((
                    bin.span,
                    "filling in missing series not allowed for set operators".into(),
                ));
            }
        }
        if (lt == ValueType::Scalar || rt == ValueType::Scalar) && bin.op.is_set_operator() {
            return Err((
                bin.span,
                format!("set operator {op_name} not allowed in binary scalar expression"),
            ));
        }
        Ok(())
    }

    /// Span of the operator and its modifiers, trimmed of surrounding whitespace.
    fn operator_span(&self, bin: &BinaryExpr) -> Span {
        let bytes = self.input.as_bytes();
        let mut start = bin.lhs.span().end;
        let mut end = bin.rhs.span().start.saturating_sub(1);
        while start < end && bytes.get(start).is_some_and(u8::is_ascii_whitespace) {
            start += 1;
        }
        while end > start && bytes.get(end).is_some_and(u8::is_ascii_whitespace) {
            end -= 1;
        }
        Span::new(start, end)
    }
}

/// Whether a matcher accepts the empty label value.
fn matches_empty(m: &crate::ast::LabelMatcher) -> bool {
    match m.op {
        MatchOp::Equal => m.value.is_empty(),
        MatchOp::NotEqual => !m.value.is_empty(),
        MatchOp::Regex => compile_anchored(&m.value).is_ok_and(|re| re.is_match("")),
        MatchOp::NotRegex => compile_anchored(&m.value).is_ok_and(|re| !re.is_match("")),
    }
}
