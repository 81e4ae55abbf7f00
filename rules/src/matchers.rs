//! Label matchers (`a="b"`, `a=~"x|y"`, `a!="b"`, `a!~"re"`) and label sets.

use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A set of labels, sorted by name.
pub type LabelSet = BTreeMap<String, String>;

/// How a [`Matcher`] compares a label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`: the value equals.
    Equal,
    /// `!=`: the value differs.
    NotEqual,
    /// `=~`: the value matches the fully anchored regex.
    Regex,
    /// `!~`: the value does not match the fully anchored regex.
    NotRegex,
}

impl MatchOp {
    fn as_str(self) -> &'static str {
        match self {
            Self::Equal => "=",
            Self::NotEqual => "!=",
            Self::Regex => "=~",
            Self::NotRegex => "!~",
        }
    }

    /// Builds the operator from the v2 API's `isRegex` / `isEqual` flags.
    pub fn from_flags(is_regex: bool, is_equal: bool) -> Self {
        match (is_regex, is_equal) {
            (false, true) => Self::Equal,
            (false, false) => Self::NotEqual,
            (true, true) => Self::Regex,
            (true, false) => Self::NotRegex,
        }
    }
}

/// A parse failure for a matcher, with the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad matcher {input:?}: {reason}")]
pub struct MatcherError {
    /// The matcher text as given.
    pub input: String,
    /// Why it was refused.
    pub reason: String,
}

/// One label matcher.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Comparison.
    pub op: MatchOp,
    /// Right-hand side as written (the regex source for regex matchers).
    pub value: String,
    anchored: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Eq for Matcher {}

impl Matcher {
    /// Builds a matcher, compiling the regex (anchored at both ends) when `op` needs one.
    pub fn new(
        name: impl Into<String>,
        op: MatchOp,
        value: impl Into<String>,
    ) -> Result<Self, MatcherError> {
        let name = name.into();
        let value = value.into();
        let anchored = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(
                Regex::new(&format!("^(?s:{value})$")).map_err(|e| MatcherError {
                    input: format!("{name}{}{value:?}", op.as_str()),
                    reason: format!("invalid regular expression: {e}"),
                })?,
            ),
            MatchOp::Equal | MatchOp::NotEqual => None,
        };
        Ok(Self {
            name,
            op,
            value,
            anchored,
        })
    }

    /// Returns whether the value `v` satisfies this matcher; a missing label is the empty string.
    pub fn matches_value(&self, v: &str) -> bool {
        match (self.op, &self.anchored) {
            (MatchOp::Equal, _) => v == self.value,
            (MatchOp::NotEqual, _) => v != self.value,
            (MatchOp::Regex, Some(re)) => re.is_match(v),
            (MatchOp::NotRegex, Some(re)) => !re.is_match(v),
            (MatchOp::Regex | MatchOp::NotRegex, None) => false,
        }
    }

    /// Returns whether `labels` satisfy this matcher.
    pub fn matches(&self, labels: &LabelSet) -> bool {
        self.matches_value(labels.get(&self.name).map_or("", String::as_str))
    }

    /// Parses one matcher such as `severity=~"critical|page"` or `env!=prod`.
    pub fn parse(input: &str) -> Result<Self, MatcherError> {
        let err = |reason: &str| MatcherError {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let s = input.trim();
        let (name, rest) = if let Some(q) = s.strip_prefix('"') {
            let (name, used) = unquote(q).ok_or_else(|| err("unterminated quoted label name"))?;
            (name, &q[used..])
        } else {
            let end = s
                .find(['=', '!', '~'])
                .ok_or_else(|| err("missing operator"))?;
            (s[..end].trim().to_owned(), &s[end..])
        };
        if name.is_empty() {
            return Err(err("missing label name"));
        }
        if name
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '{' | '}' | ',' | '"'))
            && !s.starts_with('"')
        {
            return Err(err(
                "label name must be quoted when it holds whitespace or punctuation",
            ));
        }
        let rest = rest.trim_start();
        let (op, rest) = if let Some(r) = rest.strip_prefix("=~") {
            (MatchOp::Regex, r)
        } else if let Some(r) = rest.strip_prefix("!~") {
            (MatchOp::NotRegex, r)
        } else if let Some(r) = rest.strip_prefix("!=") {
            (MatchOp::NotEqual, r)
        } else if let Some(r) = rest.strip_prefix('=') {
            (MatchOp::Equal, r)
        } else {
            return Err(err("unknown operator (want =, !=, =~ or !~)"));
        };
        let rest = rest.trim();
        let value = if let Some(q) = rest.strip_prefix('"') {
            let (value, used) = unquote(q).ok_or_else(|| err("unterminated quoted value"))?;
            if !q[used..].trim().is_empty() {
                return Err(err("unexpected text after quoted value"));
            }
            value
        } else {
            if rest.contains('"') {
                return Err(err("unquoted value holds a double quote"));
            }
            rest.to_owned()
        };
        Self::new(name, op, value).map_err(|e| MatcherError {
            input: input.to_owned(),
            reason: e.reason,
        })
    }

    /// Parses a comma-separated list, optionally wrapped in braces (`{a="b", c=~"d"}`).
    pub fn parse_list(input: &str) -> Result<Vec<Self>, MatcherError> {
        let mut s = input.trim();
        if let Some(inner) = s.strip_prefix('{') {
            s = inner.strip_suffix('}').ok_or_else(|| MatcherError {
                input: input.to_owned(),
                reason: "missing closing brace".to_owned(),
            })?;
        }
        split_outside_quotes(s)
            .into_iter()
            .filter(|part| !part.trim().is_empty())
            .map(Self::parse)
            .collect()
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.name.chars();
        let plain = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain {
            f.write_str(&self.name)?;
        } else {
            f.write_str(&quote(&self.name))?;
        }
        write!(f, "{}{}", self.op.as_str(), quote(&self.value))
    }
}

/// Double-quotes `s`, escaping exactly what [`unquote`] decodes.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Serialize for Matcher {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Returns whether every matcher accepts `labels`.
pub fn all_match(matchers: &[Matcher], labels: &LabelSet) -> bool {
    matchers.iter().all(|m| m.matches(labels))
}

/// Formats a label set as `{a="b", c="d"}`, the way Alertmanager writes group labels in keys.
pub fn format_label_set(labels: &LabelSet) -> String {
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// Decodes a double-quoted string body (after the opening quote); returns it and the bytes used
/// including the closing quote.
fn unquote(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

fn split_outside_quotes(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut in_quotes, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parses_every_operator_quoted_and_unquoted() {
        let m = Matcher::parse(r#"severity=~"critical|page""#).unwrap();
        assert_eq!(
            (m.name.as_str(), m.op, m.value.as_str()),
            ("severity", MatchOp::Regex, "critical|page")
        );
        let m = Matcher::parse("env != prod").unwrap();
        assert_eq!(
            (m.name.as_str(), m.op, m.value.as_str()),
            ("env", MatchOp::NotEqual, "prod")
        );
        let m = Matcher::parse(r#"a!~"x.*""#).unwrap();
        assert_eq!(m.op, MatchOp::NotRegex);
        let m = Matcher::parse(r#""odd name"="v \"q\"""#).unwrap();
        assert_eq!(
            (m.name.as_str(), m.value.as_str()),
            ("odd name", r#"v "q""#)
        );
        let m = Matcher::parse("a=").unwrap();
        assert_eq!(m.value, "");
    }

    #[test]
    fn rejects_bad_matchers() {
        for bad in [
            "",
            "a",
            "=b",
            r#"a=~"(""#,
            r#"a="b"#,
            r#"a="b" c"#,
            "a<b",
            r#"a=b"c"#,
        ] {
            assert!(Matcher::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn regex_is_anchored_and_missing_label_is_empty() {
        let m = Matcher::parse(r#"job=~"api""#).unwrap();
        assert!(m.matches(&labels(&[("job", "api")])));
        assert!(!m.matches(&labels(&[("job", "api-server")])));
        let m = Matcher::parse(r#"team="""#).unwrap();
        assert!(m.matches(&labels(&[])));
        let m = Matcher::parse(r#"team!~".+""#).unwrap();
        assert!(m.matches(&labels(&[("job", "x")])));
    }

    #[test]
    fn parses_lists_with_braces_and_commas_in_values() {
        let ms = Matcher::parse_list(r#"{alertname="A,B", severity=~"x|y"}"#).unwrap();
        assert_eq!(ms.len(), 2);
        assert_eq!(ms[0].value, "A,B");
        assert!(Matcher::parse_list(r#"{a="b""#).is_err());
    }

    #[test]
    fn displays_in_matcher_syntax() {
        let m = Matcher::parse(r#"a=~"b|c""#).unwrap();
        assert_eq!(m.to_string(), r#"a=~"b|c""#);
        assert_eq!(Matcher::parse(&m.to_string()).unwrap(), m);
    }

    proptest::proptest! {
        #[test]
        fn display_then_parse_round_trips(
            name in "[a-zA-Z_][a-zA-Z0-9_]{0,8}|[^\"{},]{1,8}",
            value in ".{0,16}",
            op in 0u8..4,
        ) {
            let (op, value) = match op {
                0 => (MatchOp::Equal, value),
                1 => (MatchOp::NotEqual, value),
                2 => (MatchOp::Regex, regex::escape(&value)),
                _ => (MatchOp::NotRegex, regex::escape(&value)),
            };
            let m = Matcher::new(name.trim(), op, value).unwrap();
            proptest::prop_assume!(!m.name.is_empty());
            let back = Matcher::parse(&m.to_string()).unwrap();
            proptest::prop_assert_eq!(back, m);
        }
    }
}
