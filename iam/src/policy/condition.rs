//! Condition operators: parsing of `{"<Operator>": {"<key>": values}}` and evaluation.

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ipnet::IpNet;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use super::arn::ArnPattern;
use super::context::RequestContext;
use super::error::PolicyError;
use super::variables::Template;

/// The base operator, without qualifier or `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl Operator {
    fn parse(name: &str) -> Option<Self> {
        use Operator::*;
        Some(match name {
            "StringEquals" => StringEquals,
            "StringNotEquals" => StringNotEquals,
            "StringEqualsIgnoreCase" => StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => StringNotEqualsIgnoreCase,
            "StringLike" => StringLike,
            "StringNotLike" => StringNotLike,
            "NumericEquals" => NumericEquals,
            "NumericNotEquals" => NumericNotEquals,
            "NumericLessThan" => NumericLessThan,
            "NumericLessThanEquals" => NumericLessThanEquals,
            "NumericGreaterThan" => NumericGreaterThan,
            "NumericGreaterThanEquals" => NumericGreaterThanEquals,
            "DateEquals" => DateEquals,
            "DateNotEquals" => DateNotEquals,
            "DateLessThan" => DateLessThan,
            "DateLessThanEquals" => DateLessThanEquals,
            "DateGreaterThan" => DateGreaterThan,
            "DateGreaterThanEquals" => DateGreaterThanEquals,
            "Bool" => Bool,
            "BinaryEquals" => BinaryEquals,
            "IpAddress" => IpAddress,
            "NotIpAddress" => NotIpAddress,
            "ArnEquals" => ArnEquals,
            "ArnLike" => ArnLike,
            "ArnNotEquals" => ArnNotEquals,
            "ArnNotLike" => ArnNotLike,
            "Null" => Null,
            _ => return None,
        })
    }

    /// Negated operators are evaluated as "no policy value matches", and are true on a missing
    /// key.
    fn negated(self) -> bool {
        use Operator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }
}

/// `ForAllValues:` / `ForAnyValue:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

/// How numbers and dates compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ordering {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Ordering {
    fn holds(self, request: f64, policy: f64) -> bool {
        match self {
            Self::Eq => request == policy,
            Self::Lt => request < policy,
            Self::Le => request <= policy,
            Self::Gt => request > policy,
            Self::Ge => request >= policy,
        }
    }
}

/// A policy value compiled for its operator.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(Template),
    Number(f64),
    Date(f64),
    Bool(bool),
    Binary(Vec<u8>),
    Cidr(IpNet),
    Arn(ArnPattern),
    Null(bool),
}

/// One compiled condition: an operator applied to one key with its values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    operator: Operator,
    qualifier: Option<SetQualifier>,
    if_exists: bool,
    /// Lower-case key name.
    key: String,
    /// The key as the policy spells it.
    name: String,
    values: Vec<Value>,
}

impl Condition {
    /// Compiles one `operator` / `key` / `values` triple.
    pub(crate) fn compile(
        operator_name: &str,
        key: &str,
        raw_values: &[serde_json::Value],
        variables: bool,
    ) -> Result<Self, PolicyError> {
        let invalid_type =
            || PolicyError::new(format!("Invalid Condition type : {operator_name}."));
        let (qualifier, rest) = if let Some(r) = operator_name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else if let Some(r) = operator_name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else {
            (None, operator_name)
        };
        let (if_exists, base) = match rest.strip_suffix("IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let operator = Operator::parse(base).ok_or_else(invalid_type)?;
        if operator == Operator::Null && (if_exists || qualifier.is_some()) {
            return Err(invalid_type());
        }
        if key.is_empty() {
            return Err(PolicyError::new("Condition key must not be empty."));
        }
        if raw_values.is_empty() {
            return Err(PolicyError::new(format!(
                "Condition {operator_name} for key {key} has no values."
            )));
        }
        let values = raw_values
            .iter()
            .map(|raw| compile_value(operator, operator_name, raw, variables))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            operator,
            qualifier,
            if_exists,
            key: key.to_ascii_lowercase(),
            name: key.to_owned(),
            values,
        })
    }

    /// Returns the key as the policy spells it, when the condition needs a value the context
    /// lacks (`…IfExists` and `Null` conditions are satisfied by absence).
    pub(crate) fn missing_key(&self, ctx: &RequestContext) -> Option<&str> {
        let absent = ctx.get(&self.key).is_none_or(|v| v.as_slice().is_empty());
        (absent && !self.if_exists && self.operator != Operator::Null).then_some(self.name.as_str())
    }

    /// Evaluates the condition against the request context.
    pub(crate) fn evaluate(&self, ctx: &RequestContext) -> bool {
        let request_values = ctx
            .get(&self.key)
            .map(|v| v.as_slice())
            .filter(|v| !v.is_empty());
        if self.operator == Operator::Null {
            let absent = request_values.is_none();
            return self.values.contains(&Value::Null(absent));
        }
        let Some(request_values) = request_values else {
            if self.if_exists {
                return true;
            }
            return match self.qualifier {
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => false,
                None => self.operator.negated(),
            };
        };
        // A policy value whose variable cannot be resolved makes the condition not match.
        let mut unresolved = false;
        let mut satisfied = |request: &str| -> bool {
            let mut any = false;
            for value in &self.values {
                match self.positive_match(request, value, ctx) {
                    Some(true) => any = true,
                    Some(false) => {}
                    None => unresolved = true,
                }
            }
            any != self.operator.negated()
        };
        let result = match self.qualifier {
            Some(SetQualifier::ForAllValues) => request_values.iter().all(|v| satisfied(v)),
            // Plain operators on multi-valued keys behave like ForAnyValue.
            Some(SetQualifier::ForAnyValue) | None => request_values.iter().any(|v| satisfied(v)),
        };
        result && !unresolved
    }

    /// Whether one request value matches one policy value under the non-negated form of the
    /// operator; `None` when a policy variable is unresolved.
    fn positive_match(&self, request: &str, value: &Value, ctx: &RequestContext) -> Option<bool> {
        use Operator::*;
        Some(match (self.operator, value) {
            (StringEquals | StringNotEquals, Value::Text(t)) => t.resolve(ctx)? == request,
            (StringEqualsIgnoreCase | StringNotEqualsIgnoreCase, Value::Text(t)) => {
                t.resolve(ctx)?.to_lowercase() == request.to_lowercase()
            }
            (StringLike | StringNotLike, Value::Text(t)) => t.matches(request, ctx, false)?,
            (op, Value::Number(n)) => {
                parse_number(request).is_some_and(|r| ordering(op).holds(r, *n))
            }
            (op, Value::Date(d)) => parse_date(request).is_some_and(|r| ordering(op).holds(r, *d)),
            (Bool, Value::Bool(b)) => {
                request.eq_ignore_ascii_case(if *b { "true" } else { "false" })
            }
            (BinaryEquals, Value::Binary(bytes)) => {
                BASE64.decode(request).is_ok_and(|r| r == *bytes)
            }
            (IpAddress | NotIpAddress, Value::Cidr(net)) => {
                request.parse::<IpAddr>().is_ok_and(|ip| net.contains(&ip))
            }
            (ArnEquals | ArnLike | ArnNotEquals | ArnNotLike, Value::Arn(pattern)) => {
                pattern.matches(request, ctx)?
            }
            _ => false,
        })
    }
}

fn ordering(op: Operator) -> Ordering {
    use Operator::*;
    match op {
        NumericLessThan | DateLessThan => Ordering::Lt,
        NumericLessThanEquals | DateLessThanEquals => Ordering::Le,
        NumericGreaterThan | DateGreaterThan => Ordering::Gt,
        NumericGreaterThanEquals | DateGreaterThanEquals => Ordering::Ge,
        _ => Ordering::Eq,
    }
}

/// Renders a JSON scalar as the string IAM compares (`true`, `10`, `"x"`).
fn scalar_text(raw: &serde_json::Value) -> Option<String> {
    match raw {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn compile_value(
    operator: Operator,
    operator_name: &str,
    raw: &serde_json::Value,
    variables: bool,
) -> Result<Value, PolicyError> {
    use Operator::*;
    let text = scalar_text(raw).ok_or_else(PolicyError::syntax)?;
    let invalid = || {
        PolicyError::new(format!(
            "Invalid value for condition operator {operator_name}: {text}"
        ))
    };
    Ok(match operator {
        StringEquals | StringNotEquals | StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
            Value::Text(Template::compile(&text, false, variables, false))
        }
        StringLike | StringNotLike => Value::Text(Template::compile(&text, true, variables, false)),
        NumericEquals
        | NumericNotEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => Value::Number(parse_number(&text).ok_or_else(invalid)?),
        DateEquals
        | DateNotEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => Value::Date(parse_date(&text).ok_or_else(invalid)?),
        Bool => Value::Bool(match text.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(invalid()),
        }),
        BinaryEquals => Value::Binary(BASE64.decode(&text).map_err(|_| invalid())?),
        IpAddress | NotIpAddress => Value::Cidr(parse_cidr(&text).ok_or_else(invalid)?),
        ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => {
            Value::Arn(ArnPattern::compile(&text, variables))
        }
        Null => Value::Null(match text.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(invalid()),
        }),
    })
}

fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Parses an ISO 8601 time (`2025-01-01T00:00:00Z`, with offset or fraction, or a bare
/// date) or epoch seconds, into epoch seconds.
fn parse_date(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(dt) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(dt.unix_timestamp_nanos() as f64 / 1e9);
    }
    if let Ok(date) = time::Date::parse(text, format_description!("[year]-[month]-[day]")) {
        return Some(date.midnight().assume_utc().unix_timestamp() as f64);
    }
    let no_seconds = format_description!("[year]-[month]-[day]T[hour]:[minute]Z");
    if let Ok(dt) = time::PrimitiveDateTime::parse(text, no_seconds) {
        return Some(dt.assume_utc().unix_timestamp() as f64);
    }
    parse_number(text)
}

/// Parses a CIDR block; a bare address means /32 (IPv4) or /128 (IPv6).
fn parse_cidr(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_operator_names() {
        let v = [serde_json::json!("x")];
        for name in [
            "StringEquals",
            "ForAllValues:StringLike",
            "ForAnyValue:StringEqualsIfExists",
            "ArnNotLikeIfExists",
        ] {
            assert!(Condition::compile(name, "k", &v, true).is_ok(), "{name}");
        }
        for name in [
            "StringEqualz",
            "NullIfExists",
            "ForAllValues:Null",
            "forallvalues:StringLike",
        ] {
            let err = Condition::compile(name, "k", &v, true).unwrap_err();
            assert!(
                err.to_string().starts_with("Invalid Condition type"),
                "{name}"
            );
        }
    }

    #[test]
    fn rejects_invalid_values() {
        for (op, value) in [
            ("NumericEquals", serde_json::json!("ten")),
            ("DateEquals", serde_json::json!("yesterday")),
            ("Bool", serde_json::json!("yes")),
            ("IpAddress", serde_json::json!("10.0.0.0/33")),
            ("BinaryEquals", serde_json::json!("***")),
            ("Null", serde_json::json!("maybe")),
            ("StringEquals", serde_json::json!({"a": 1})),
        ] {
            assert!(Condition::compile(op, "k", &[value], true).is_err(), "{op}");
        }
    }

    #[test]
    fn parses_dates() {
        assert_eq!(parse_date("1970-01-02"), Some(86_400.0));
        assert_eq!(parse_date("1970-01-01T00:01:00Z"), Some(60.0));
        assert_eq!(parse_date("1970-01-01T01:00:00+01:00"), Some(0.0));
        assert_eq!(parse_date("86400"), Some(86_400.0));
        assert_eq!(parse_date("nope"), None);
    }
}
