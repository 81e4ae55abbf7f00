//! Query annotations: the warnings and infos a query returns next to its result.
//!
//! Texts follow Prometheus word for word because clients and the acceptance corpus match on them.

use std::fmt;

use super::labels::quote;

/// A byte range of the query text an annotation points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PositionRange {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset just past the last character.
    pub end: usize,
}

impl PositionRange {
    /// Returns `line:col` (both 1-based) of the start of the range within `query`.
    pub fn start_line_col(&self, query: &str) -> String {
        let pos = self.start.min(query.len());
        let head = query.get(..pos).unwrap_or(query);
        let line = 1 + head.matches('\n').count();
        let col = match head.rfind('\n') {
            Some(nl) => pos - nl,
            None => pos + 1,
        };
        format!("{line}:{col}")
    }
}

/// Whether an annotation is a warning or an info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnnotationKind {
    /// Something is likely wrong with the query or the data.
    Warning,
    /// The result may be surprising, but the query is not necessarily wrong.
    Info,
}

/// One warning or info, with the part of the query it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Annotation {
    /// Warning or info.
    pub kind: AnnotationKind,
    /// The text after the `PromQL warning: ` / `PromQL info: ` prefix.
    pub message: String,
    /// The sub-expression that caused it, when known.
    pub position: Option<PositionRange>,
}

impl Annotation {
    fn warn(message: String, position: PositionRange) -> Self {
        Self {
            kind: AnnotationKind::Warning,
            message,
            position: Some(position),
        }
    }

    fn info(message: String, position: PositionRange) -> Self {
        Self {
            kind: AnnotationKind::Info,
            message,
            position: Some(position),
        }
    }

    /// Renders the annotation like the HTTP API does: text plus ` (line:col)` within `query`.
    pub fn render(&self, query: &str) -> String {
        match self.position {
            Some(p) if !query.is_empty() => format!("{self} ({})", p.start_line_col(query)),
            _ => self.to_string(),
        }
    }

    /// Warns that a quantile parameter is outside [0, 1].
    pub fn invalid_quantile(q: f64, pos: PositionRange) -> Self {
        Self::warn(
            format!(
                "quantile value should be between 0 and 1, got {}",
                go_float(q)
            ),
            pos,
        )
    }

    /// Warns that a `limit_ratio` parameter is outside [-1, 1] and was capped.
    pub fn invalid_ratio(ratio: f64, capped: f64, pos: PositionRange) -> Self {
        Self::warn(
            format!(
                "ratio value should be between -1 and 1, got {}, capping to {}",
                go_float(ratio),
                go_float(capped)
            ),
            pos,
        )
    }

    /// Warns that a classic histogram bucket has no usable `le` label.
    pub fn bad_bucket_label(le: &str, metric: &str, pos: PositionRange) -> Self {
        Self::warn(
            format!(
                "bucket label \"le\" is missing or has a malformed value of {} for metric name {}",
                quote(le),
                quote(metric)
            ),
            pos,
        )
    }

    /// Warns that floats and histograms were mixed where only one kind makes sense.
    pub fn mixed_floats_histograms(metric: &str, pos: PositionRange) -> Self {
        Self::warn(
            format!(
                "encountered a mix of histograms and floats for metric name {}",
                quote(metric)
            ),
            pos,
        )
    }

    /// Warns that an aggregation met floats and histograms in one group.
    pub fn mixed_floats_histograms_aggregation(pos: PositionRange) -> Self {
        Self::warn(
            "encountered a mix of histograms and floats for aggregation".to_owned(),
            pos,
        )
    }

    /// Warns that a binary operator met histograms whose bucket layouts cannot be combined.
    pub fn incompatible_bucket_layout_in_bin_op(operator: &str, pos: PositionRange) -> Self {
        Self::warn(
            format!("incompatible bucket layout encountered for binary operator {operator}"),
            pos,
        )
    }

    /// Warns that a histogram function saw classic and native histograms for one metric.
    pub fn mixed_classic_native_histograms(metric: &str, pos: PositionRange) -> Self {
        Self::warn(
            format!(
                "vector contains a mix of classic and native histograms for metric name {}",
                quote(metric)
            ),
            pos,
        )
    }

    /// Warns that exponential and custom-bucket histograms were combined.
    pub fn mixed_exponential_custom_histograms(metric: &str, pos: PositionRange) -> Self {
        Self::warn(
            format!(
                "vector contains a mix of histograms with exponential and custom buckets schemas \
                 for metric name {}",
                quote(metric)
            ),
            pos,
        )
    }

    /// Warns that a counter function got a gauge histogram.
    pub fn native_histogram_not_counter(metric: &str, pos: PositionRange) -> Self {
        Self::warn(
            format!(
                "this native histogram metric is not a counter: {}",
                quote(metric)
            ),
            pos,
        )
    }

    /// Warns that a gauge function got a counter histogram.
    pub fn native_histogram_not_gauge(metric: &str, pos: PositionRange) -> Self {
        Self::warn(
            format!(
                "this native histogram metric is not a gauge: {}",
                quote(metric)
            ),
            pos,
        )
    }

    /// Warns that histograms with a counter reset and without one were combined.
    pub fn histogram_counter_reset_collision(operation: &str, pos: PositionRange) -> Self {
        Self::warn(
            format!("conflicting counter resets during histogram {operation}"),
            pos,
        )
    }

    /// Warns that sorting a range query's result has no effect.
    pub fn ineffective_sort(pos: PositionRange) -> Self {
        Self::warn(
            "sort is ineffective for range queries since results are always ordered by labels"
                .to_owned(),
            pos,
        )
    }

    /// Notes that a metric given to `rate` and friends may not be a counter.
    pub fn possible_non_counter(metric: &str, pos: PositionRange) -> Self {
        Self::info(
            format!(
                "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {}",
                quote(metric)
            ),
            pos,
        )
    }

    /// Notes that classic histogram buckets had to be made monotonic.
    pub fn histogram_quantile_forced_monotonicity(metric: &str, pos: PositionRange) -> Self {
        Self::info(
            format!(
                "input to histogram_quantile needed to be fixed for monotonicity (see \
                 https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) \
                 for metric name {}",
                quote(metric)
            ),
            pos,
        )
    }

    /// Notes that a native histogram's NaN observations made the quantile NaN.
    pub fn histogram_quantile_nan_result(metric: &str, pos: PositionRange) -> Self {
        Self::info(
            format!(
                "input to histogram_quantile has NaN observations, result is NaN for metric name {}",
                quote(metric)
            ),
            pos,
        )
    }

    /// Notes that a native histogram's NaN observations skewed the quantile upwards.
    pub fn histogram_quantile_nan_skew(metric: &str, pos: PositionRange) -> Self {
        Self::info(
            format!(
                "input to histogram_quantile has NaN observations, result is skewed higher for \
                 metric name {}",
                quote(metric)
            ),
            pos,
        )
    }

    /// Notes that a native histogram's NaN observations were left out of a fraction.
    pub fn histogram_fraction_nans(metric: &str, pos: PositionRange) -> Self {
        Self::info(
            format!(
                "input to histogram_fraction has NaN observations, which are excluded from all \
                 fractions for metric name {}",
                quote(metric)
            ),
            pos,
        )
    }

    /// Notes that a binary operator met a float and a histogram it cannot combine.
    pub fn incompatible_types_in_bin_op(
        lhs: &str,
        operator: &str,
        rhs: &str,
        pos: PositionRange,
    ) -> Self {
        Self::info(
            format!(
                "incompatible sample types encountered for binary operator {operator:?}: {lhs} {operator} {rhs}"
            ),
            pos,
        )
    }

    /// Notes that an aggregation ignored histograms it cannot handle.
    pub fn histogram_ignored_in_aggregation(aggregation: &str, pos: PositionRange) -> Self {
        Self::info(
            format!("ignored histogram in {aggregation} aggregation"),
            pos,
        )
    }

    /// Notes that histograms were ignored in a range that also holds floats.
    pub fn histogram_ignored_in_mixed_range(metric: &str, pos: PositionRange) -> Self {
        Self::info(
            format!(
                "ignored histograms in a range containing both floats and histograms for metric \
                 name {}",
                quote(metric)
            ),
            pos,
        )
    }

    /// Notes that custom-bucket histograms with different bounds were reconciled.
    pub fn mismatched_custom_buckets(operation: &str, pos: PositionRange) -> Self {
        Self::info(
            format!("mismatched custom buckets were reconciled during {operation}"),
            pos,
        )
    }
}

impl fmt::Display for Annotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.kind {
            AnnotationKind::Warning => "PromQL warning",
            AnnotationKind::Info => "PromQL info",
        };
        write!(f, "{prefix}: {}", self.message)
    }
}

/// The annotations of one query, without duplicates, in the order they were first added.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Annotations(Vec<Annotation>);

impl Annotations {
    /// Returns an empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an annotation unless an identical one is already present.
    pub fn add(&mut self, a: Annotation) {
        if !self.0.contains(&a) {
            self.0.push(a);
        }
    }

    /// Adds every annotation of `other`.
    pub fn merge(&mut self, other: Annotations) {
        for a in other.0 {
            self.add(a);
        }
    }

    /// Iterates the annotations.
    pub fn iter(&self) -> impl Iterator<Item = &Annotation> {
        self.0.iter()
    }

    /// Tells whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Returns the warnings rendered against `query`.
    pub fn warnings(&self, query: &str) -> Vec<String> {
        self.rendered(AnnotationKind::Warning, query)
    }

    /// Returns the infos rendered against `query`.
    pub fn infos(&self, query: &str) -> Vec<String> {
        self.rendered(AnnotationKind::Info, query)
    }

    fn rendered(&self, kind: AnnotationKind, query: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|a| a.kind == kind)
            .map(|a| a.render(query))
            .collect()
    }
}

impl Extend<Annotation> for Annotations {
    fn extend<T: IntoIterator<Item = Annotation>>(&mut self, iter: T) {
        for a in iter {
            self.add(a);
        }
    }
}

/// Formats a float like Go's `%g` verb (shortest form), as Prometheus messages do.
pub fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // `{:e}` yields the shortest round-trip digits, e.g. "-1.25e-7".
    let sci = format!("{v:e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    // With shortest digits Go's %g uses exponent form outside 1e-4 <= |v| < 1e6.
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    let (neg, digits) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest.replace('.', "")),
        None => (false, mantissa.replace('.', "")),
    };
    let point = exp + 1;
    let body = if point <= 0 {
        format!("0.{}{}", "0".repeat(point.unsigned_abs() as usize), digits)
    } else if point as usize >= digits.len() {
        format!("{}{}", digits, "0".repeat(point as usize - digits.len()))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    if neg { format!("-{body}") } else { body }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_position() {
        let a = Annotation::possible_non_counter("foo", PositionRange { start: 5, end: 8 });
        assert_eq!(
            a.render("rate(foo[5m])"),
            "PromQL info: metric might not be a counter, name does not end in \
             _total/_sum/_count/_bucket: \"foo\" (1:6)"
        );
        let multi = PositionRange { start: 7, end: 8 };
        assert_eq!(multi.start_line_col("sum(\n  x)"), "2:3");
    }

    #[test]
    fn deduplicates() {
        let mut a = Annotations::new();
        let pos = PositionRange::default();
        a.add(Annotation::ineffective_sort(pos));
        a.add(Annotation::ineffective_sort(pos));
        a.add(Annotation::invalid_quantile(f64::NAN, pos));
        assert_eq!(a.warnings("").len(), 2);
        assert!(a.infos("").is_empty());
    }

    #[test]
    fn go_float_formatting() {
        assert_eq!(go_float(1.1), "1.1");
        assert_eq!(go_float(-1.0), "-1");
        assert_eq!(go_float(f64::NAN), "NaN");
        assert_eq!(go_float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(1.5e300), "1.5e+300");
    }
}
