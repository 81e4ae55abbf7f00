//! Label matchers: `=`, `!=`, `=~`, `!~`.

use std::fmt;

use regex::Regex;

use super::StorageError;
pub use crate::ast::MatchOp;
use crate::value::labels::{Labels, quote};

/// A condition on one label; an absent label has the empty value.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// The label name.
    pub name: String,
    /// The comparison.
    pub op: MatchOp,
    /// The value or the regex as written.
    pub value: String,
    regex: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Matcher {
    /// Builds a matcher; regexes match the whole value and `.` also matches a newline.
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, StorageError> {
        let value = value.into();
        let regex = match op {
            MatchOp::Regex | MatchOp::NotRegex => {
                Some(Regex::new(&format!("^(?s:{value})$")).map_err(|e| {
                    StorageError::InvalidRegex {
                        pattern: value.clone(),
                        source: Box::new(e),
                    }
                })?)
            }
            MatchOp::Equal | MatchOp::NotEqual => None,
        };
        Ok(Self {
            name: name.into(),
            op,
            value,
            regex,
        })
    }

    /// Tells whether a label value (empty if absent) satisfies the matcher.
    pub fn matches(&self, v: &str) -> bool {
        match (self.op, &self.regex) {
            (MatchOp::Equal, _) => v == self.value,
            (MatchOp::NotEqual, _) => v != self.value,
            (MatchOp::Regex, Some(re)) => re.is_match(v),
            (MatchOp::NotRegex, Some(re)) => !re.is_match(v),
            (MatchOp::Regex | MatchOp::NotRegex, None) => false,
        }
    }

    /// Tells whether a series' labels satisfy the matcher.
    pub fn matches_labels(&self, labels: &Labels) -> bool {
        self.matches(labels.get(&self.name).unwrap_or(""))
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.name, self.op.as_str(), quote(&self.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_and_absent_labels() {
        let l = Labels::from_pairs([("job", "api"), ("path", "a\nb")]);
        let m = |op, n: &str, v: &str| Matcher::new(op, n, v).unwrap().matches_labels(&l);
        assert!(m(MatchOp::Equal, "job", "api"));
        assert!(!m(MatchOp::NotEqual, "job", "api"));
        assert!(m(MatchOp::Equal, "missing", ""));
        assert!(m(MatchOp::NotEqual, "missing", "x"));
        assert!(m(MatchOp::Regex, "job", "a.i"));
        // Anchored: a partial match is no match.
        assert!(!m(MatchOp::Regex, "job", "ap"));
        assert!(m(MatchOp::NotRegex, "job", "ap"));
        assert!(m(MatchOp::Regex, "missing", ".*"));
        assert!(m(MatchOp::Regex, "path", "a.b"));
        assert!(m(MatchOp::Regex, "job", "api|web"));
    }

    #[test]
    fn bad_regex_and_display() {
        assert!(matches!(
            Matcher::new(MatchOp::Regex, "a", "("),
            Err(StorageError::InvalidRegex { .. })
        ));
        assert_eq!(
            Matcher::new(MatchOp::NotRegex, "a", "x\"")
                .unwrap()
                .to_string(),
            r#"a!~"x\"""#
        );
    }
}
