//! Label matchers with Prometheus semantics: regular expressions are fully anchored.

use regex::Regex;

use crate::error::{Error, Result};

/// The operator of a label matcher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchType {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    RegexMatch,
    /// `!~`
    NotRegexMatch,
}

/// How a regular expression is evaluated; common shapes skip the regex engine.
#[derive(Clone, Debug)]
enum Pattern {
    Literal(String),
    /// `a|b|c` of plain literals (sorted, deduplicated).
    Set(Vec<String>),
    /// `foo.*`
    Prefix(String),
    /// `.*`
    Any,
    /// `.+`
    NonEmpty,
    Regex(Regex),
}

/// A label matcher such as `job=~"api|db"`.
#[derive(Clone, Debug)]
pub struct Matcher {
    name: String,
    kind: MatchType,
    value: String,
    pattern: Pattern,
}

fn is_literal(s: &str) -> bool {
    !s.chars().any(|c| "\\.+*?()|[]{}^$".contains(c))
}

fn compile(re: &str) -> Result<Pattern> {
    if re == ".*" {
        return Ok(Pattern::Any);
    }
    if re == ".+" {
        return Ok(Pattern::NonEmpty);
    }
    if is_literal(re) {
        return Ok(Pattern::Literal(re.to_owned()));
    }
    if let Some(prefix) = re.strip_suffix(".*")
        && is_literal(prefix)
    {
        return Ok(Pattern::Prefix(prefix.to_owned()));
    }
    if re.contains('|') && re.split('|').all(is_literal) {
        let mut set: Vec<String> = re.split('|').map(str::to_owned).collect();
        set.sort();
        set.dedup();
        return Ok(Pattern::Set(set));
    }
    // Prometheus anchors regexes at both ends; `(?s)` lets `.` match newlines as it does there.
    Regex::new(&format!("^(?s:{re})$"))
        .map(Pattern::Regex)
        .map_err(|e| Error::InvalidMatcher(e.to_string()))
}

impl Matcher {
    /// Builds a matcher, compiling the regular expression for `=~` and `!~`.
    pub fn new(kind: MatchType, name: &str, value: &str) -> Result<Self> {
        let pattern = match kind {
            MatchType::Equal | MatchType::NotEqual => Pattern::Literal(value.to_owned()),
            MatchType::RegexMatch | MatchType::NotRegexMatch => compile(value)?,
        };
        Ok(Self {
            name: name.to_owned(),
            kind,
            value: value.to_owned(),
            pattern,
        })
    }

    /// Returns the label name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the operator.
    pub fn kind(&self) -> MatchType {
        self.kind
    }

    /// Returns the value or regular expression as written.
    pub fn value(&self) -> &str {
        &self.value
    }

    fn pattern_matches(&self, v: &str) -> bool {
        match &self.pattern {
            Pattern::Literal(l) => l == v,
            Pattern::Set(s) => s.binary_search_by(|x| x.as_str().cmp(v)).is_ok(),
            Pattern::Prefix(p) => v.starts_with(p.as_str()),
            Pattern::Any => true,
            Pattern::NonEmpty => !v.is_empty(),
            Pattern::Regex(r) => r.is_match(v),
        }
    }

    /// Tells whether a label value (empty for an absent label) satisfies the matcher.
    pub fn matches(&self, v: &str) -> bool {
        match self.kind {
            MatchType::Equal | MatchType::RegexMatch => self.pattern_matches(v),
            MatchType::NotEqual | MatchType::NotRegexMatch => !self.pattern_matches(v),
        }
    }

    /// Returns the exact values a positive matcher accepts, when it names them.
    pub(crate) fn literal_values(&self) -> Option<Vec<&str>> {
        if matches!(self.kind, MatchType::NotEqual | MatchType::NotRegexMatch) {
            return None;
        }
        match &self.pattern {
            Pattern::Literal(l) => Some(vec![l.as_str()]),
            Pattern::Set(s) => Some(s.iter().map(String::as_str).collect()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn regexes_are_anchored_and_fast_paths_agree() {
        let m = Matcher::new(MatchType::RegexMatch, "a", "foo|bar").unwrap();
        assert!(m.matches("foo") && !m.matches("foobar") && !m.matches(""));
        let m = Matcher::new(MatchType::RegexMatch, "a", "fo+").unwrap();
        assert!(m.matches("fooo") && !m.matches("xfoo"));
        let m = Matcher::new(MatchType::NotRegexMatch, "a", "foo.*").unwrap();
        assert!(!m.matches("foobar") && m.matches("bar") && m.matches(""));
        assert!(Matcher::new(MatchType::RegexMatch, "a", "(").is_err());
        let m = Matcher::new(MatchType::RegexMatch, "a", ".*").unwrap();
        assert!(m.matches("a\nb"));
    }

    proptest! {
        #[test]
        fn fast_paths_agree_with_the_regex_engine(
            re in prop_oneof![
                "[a-c]{0,3}", "[a-c]{1,2}\\.\\*", "[a-c]{1,2}(\\|[a-c]{0,2}){1,3}",
                Just(".*".to_owned()), Just(".+".to_owned())
            ],
            v in "[a-c]{0,4}",
        ) {
            let fast = Matcher::new(MatchType::RegexMatch, "x", &re).unwrap();
            let slow = Regex::new(&format!("^(?s:{re})$")).unwrap();
            prop_assert_eq!(fast.matches(&v), slow.is_match(&v));
        }
    }
}
