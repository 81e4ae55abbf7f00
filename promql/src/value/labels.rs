//! Label sets: sorted, unique name/value pairs with the grouping helpers PromQL needs.

use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};

/// The label that carries the metric name.
pub const METRIC_NAME: &str = "__name__";
/// The label classic histogram buckets carry their upper bound in.
pub const BUCKET_LABEL: &str = "le";

/// One label: a name and its value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    /// The label name.
    pub name: String,
    /// The label value.
    pub value: String,
}

/// A set of labels, sorted by name, with unique names and no empty values.
///
/// An empty value means "label absent" in Prometheus, so constructors drop such pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Labels(Vec<Label>);

impl Labels {
    /// Returns the empty label set.
    pub fn empty() -> Self {
        Self(Vec::new())
    }

    /// Builds a label set from pairs; a later pair wins over an earlier one with the same name.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let mut out = Self::empty();
        for (name, value) in pairs {
            out.set(name.into(), value.into());
        }
        out
    }

    /// Returns the number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Tells whether the set has no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates the labels in name order.
    pub fn iter(&self) -> impl Iterator<Item = &Label> {
        self.0.iter()
    }

    /// Returns the value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.find(name).ok().map(|i| self.0[i].value.as_str())
    }

    /// Tells whether `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// Returns the metric name (`__name__`), if present.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// Sets `name` to `value`; an empty value removes the label.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        match self.find(&name) {
            Ok(i) if value.is_empty() => {
                self.0.remove(i);
            }
            Ok(i) => self.0[i].value = value,
            Err(_) if value.is_empty() => {}
            Err(i) => self.0.insert(i, Label { name, value }),
        }
    }

    /// Removes `name` and returns its value, if it was present.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.find(name).ok().map(|i| self.0.remove(i).value)
    }

    /// Returns a copy without the metric name.
    pub fn without_metric_name(&self) -> Self {
        self.without(&[METRIC_NAME])
    }

    /// Returns a copy holding only the listed names (PromQL `by (...)` / `on (...)`).
    pub fn keep_only<S: AsRef<str>>(&self, names: &[S]) -> Self {
        Self(
            self.0
                .iter()
                .filter(|l| names.iter().any(|n| n.as_ref() == l.name))
                .cloned()
                .collect(),
        )
    }

    /// Returns a copy without the listed names.
    pub fn without<S: AsRef<str>>(&self, names: &[S]) -> Self {
        Self(
            self.0
                .iter()
                .filter(|l| !names.iter().any(|n| n.as_ref() == l.name))
                .cloned()
                .collect(),
        )
    }

    /// Returns the grouping key for `by (names)` / `on (names)`.
    pub fn grouping_by<S: AsRef<str>>(&self, names: &[S]) -> Self {
        self.keep_only(names)
    }

    /// Returns the grouping key for `without (names)` / `ignoring (names)`.
    ///
    /// The metric name never takes part in such a key, as in Prometheus.
    pub fn grouping_without<S: AsRef<str>>(&self, names: &[S]) -> Self {
        Self(
            self.0
                .iter()
                .filter(|l| l.name != METRIC_NAME && !names.iter().any(|n| n.as_ref() == l.name))
                .cloned()
                .collect(),
        )
    }

    /// Returns a 64-bit signature of the whole set.
    ///
    /// Signatures index hash maps; callers that must rule out collisions compare the labels too.
    pub fn signature(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        self.hash(&mut hasher);
        hasher.finish()
    }

    /// Returns the signature of the `by (names)` / `on (names)` grouping key.
    pub fn signature_by<S: AsRef<str>>(&self, names: &[S]) -> u64 {
        self.grouping_by(names).signature()
    }

    /// Returns the signature of the `without (names)` / `ignoring (names)` grouping key.
    pub fn signature_without<S: AsRef<str>>(&self, names: &[S]) -> u64 {
        self.grouping_without(names).signature()
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|l| l.name.as_str().cmp(name))
    }
}

impl FromIterator<Label> for Labels {
    fn from_iter<T: IntoIterator<Item = Label>>(iter: T) -> Self {
        let mut out = Self::empty();
        for l in iter {
            out.set(l.name, l.value);
        }
        out
    }
}

impl fmt::Display for Labels {
    /// Formats as `{a="1", b="2"}`, the way Prometheus prints label sets in messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, l) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if is_legacy_name(&l.name) {
                f.write_str(&l.name)?;
            } else {
                f.write_str(&quote(&l.name))?;
            }
            write!(f, "={}", quote(&l.value))?;
        }
        f.write_str("}")
    }
}

/// Tells whether `name` is a label name that needs no quoting (`[a-zA-Z_][a-zA-Z0-9_]*`).
pub fn is_legacy_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Quotes a string with double quotes and Go-style escapes, as Prometheus prints label values.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if c.is_control() => {
                let code = u32::from(c);
                if code < 0x80 {
                    out.push_str(&format!("\\x{code:02x}"));
                } else {
                    out.push_str(&format!("\\u{code:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn sorted_unique_and_empty_values_dropped() {
        let l = ls(&[("b", "2"), ("a", "1"), ("b", "3"), ("c", "")]);
        let names: Vec<_> = l.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(l.get("b"), Some("3"));
        assert!(!l.has("c"));
    }

    #[test]
    fn grouping_without_drops_metric_name() {
        let l = ls(&[("__name__", "m"), ("job", "j"), ("instance", "i")]);
        assert_eq!(l.grouping_without(&["instance"]), ls(&[("job", "j")]));
        assert_eq!(
            l.grouping_by(&["job", "__name__"]),
            ls(&[("__name__", "m"), ("job", "j")])
        );
        assert_eq!(
            l.signature_without(&["instance"]),
            ls(&[("job", "j")]).signature()
        );
        assert_ne!(l.signature_by(&["job"]), l.signature_by(&["instance"]));
    }

    #[test]
    fn display_quotes_like_prometheus() {
        let l = ls(&[("__name__", "dup"), ("label", "a\"b\n"), ("my.dot", "x")]);
        assert_eq!(
            l.to_string(),
            r#"{__name__="dup", label="a\"b\n", "my.dot"="x"}"#
        );
    }
}
