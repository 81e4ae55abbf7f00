//! The data model: label sets, float and native histogram samples, exemplars, metadata.

use std::fmt;
use std::sync::Arc;

/// The bit pattern Prometheus uses to mark a series as stale; it must survive storage bit-exactly.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Returns the staleness marker value.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Tells whether `v` is the staleness marker (and not just any NaN).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One label pair; strings are reference counted so the head can intern them.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    /// Label name.
    pub name: Arc<str>,
    /// Label value.
    pub value: Arc<str>,
}

/// A label set, always sorted by name, names unique.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Labels(Vec<Label>);

impl Labels {
    /// Builds a label set from pairs, sorting them by name; empty values are dropped
    /// (Prometheus treats an empty value as an absent label) and for duplicate names the last wins.
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let mut v: Vec<Label> = pairs
            .into_iter()
            .filter(|(_, val)| !val.as_ref().is_empty())
            .map(|(n, val)| Label {
                name: Arc::from(n.as_ref()),
                value: Arc::from(val.as_ref()),
            })
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        // Keep the last occurrence of a duplicate name: reverse, dedup keeps the first, reverse.
        v.reverse();
        v.dedup_by(|a, b| a.name == b.name);
        v.reverse();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Self(v)
    }

    /// Builds a label set from labels already sorted by name with unique names.
    pub(crate) fn from_sorted(v: Vec<Label>) -> Self {
        Self(v)
    }

    /// Returns the value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| l.name.as_ref().cmp(name))
            .ok()
            .map(|i| self.0[i].value.as_ref())
    }

    /// Iterates the labels in name order.
    pub fn iter(&self) -> impl Iterator<Item = &Label> {
        self.0.iter()
    }

    /// Returns the number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Tells whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Returns the metric name (`__name__`), if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get("__name__")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, l) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={:?}", l.name, l.value)?;
        }
        f.write_str("}")
    }
}

/// The counter reset hint of a native histogram.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CounterResetHint {
    /// Nothing is known.
    #[default]
    Unknown,
    /// A counter reset happened right before this histogram.
    Reset,
    /// Definitely no counter reset.
    NotReset,
    /// A gauge histogram; resets do not apply.
    Gauge,
}

impl CounterResetHint {
    pub(crate) fn to_u8(self) -> u8 {
        match self {
            Self::Unknown => 0,
            Self::Reset => 1,
            Self::NotReset => 2,
            Self::Gauge => 3,
        }
    }

    pub(crate) fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            0 => Self::Unknown,
            1 => Self::Reset,
            2 => Self::NotReset,
            3 => Self::Gauge,
            _ => return None,
        })
    }
}

/// A run of consecutive buckets: `offset` buckets skipped since the previous span, then `length`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Gap to the end of the previous span (or start index for the first span).
    pub offset: i32,
    /// Number of consecutive buckets.
    pub length: u32,
}

/// A native histogram with integer counts; buckets are delta encoded as on the wire.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// Counter reset hint.
    pub counter_reset_hint: CounterResetHint,
    /// Resolution schema (-4..=8, or -53 for custom buckets).
    pub schema: i32,
    /// Width of the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: u64,
    /// Total observations.
    pub count: u64,
    /// Sum of observations.
    pub sum: f64,
    /// Positive bucket spans.
    pub positive_spans: Vec<Span>,
    /// Positive bucket counts, each a delta to the previous bucket.
    pub positive_deltas: Vec<i64>,
    /// Negative bucket spans.
    pub negative_spans: Vec<Span>,
    /// Negative bucket counts, each a delta to the previous bucket.
    pub negative_deltas: Vec<i64>,
    /// Custom bucket bounds (schema -53 only).
    pub custom_values: Vec<f64>,
}

/// A native histogram with float counts; buckets hold absolute counts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FloatHistogram {
    /// Counter reset hint.
    pub counter_reset_hint: CounterResetHint,
    /// Resolution schema.
    pub schema: i32,
    /// Width of the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: f64,
    /// Total observations.
    pub count: f64,
    /// Sum of observations.
    pub sum: f64,
    /// Positive bucket spans.
    pub positive_spans: Vec<Span>,
    /// Positive bucket counts (absolute).
    pub positive_counts: Vec<f64>,
    /// Negative bucket spans.
    pub negative_spans: Vec<Span>,
    /// Negative bucket counts (absolute).
    pub negative_counts: Vec<f64>,
    /// Custom bucket bounds (schema -53 only).
    pub custom_values: Vec<f64>,
}

/// The value of one sample of any kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A float (possibly the staleness marker).
    Float(f64),
    /// An integer native histogram.
    Histogram(Arc<Histogram>),
    /// A float native histogram.
    FloatHistogram(Arc<FloatHistogram>),
}

impl Value {
    /// Compares bit-exactly, so two NaNs with equal bits are equal (used for duplicate detection).
    pub(crate) fn same_as(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Histogram(a), Value::Histogram(b)) => a == b,
            (Value::FloatHistogram(a), Value::FloatHistogram(b)) => a == b,
            _ => false,
        }
    }

    pub(crate) fn kind(&self) -> ValueKind {
        match self {
            Value::Float(_) => ValueKind::Float,
            Value::Histogram(_) => ValueKind::Histogram,
            Value::FloatHistogram(_) => ValueKind::FloatHistogram,
        }
    }
}

/// The kind of a [`Value`], which selects the chunk encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueKind {
    Float,
    Histogram,
    FloatHistogram,
}

/// An exemplar attached to a series.
#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar {
    /// Exemplar labels (e.g. `trace_id`).
    pub labels: Labels,
    /// Observed value.
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    pub t: i64,
}

/// The metric type of a metric family, as in remote write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MetricType {
    /// Unknown.
    #[default]
    Unknown,
    /// Counter.
    Counter,
    /// Gauge.
    Gauge,
    /// Classic or native histogram.
    Histogram,
    /// Gauge histogram.
    GaugeHistogram,
    /// Summary.
    Summary,
    /// Info.
    Info,
    /// State set.
    StateSet,
}

impl MetricType {
    pub(crate) fn to_u8(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            0 => Self::Unknown,
            1 => Self::Counter,
            2 => Self::Gauge,
            3 => Self::Histogram,
            4 => Self::GaugeHistogram,
            5 => Self::Summary,
            6 => Self::Info,
            7 => Self::StateSet,
            _ => return None,
        })
    }

    /// Returns the lowercase name Prometheus uses in its metadata API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
            Self::GaugeHistogram => "gaugehistogram",
            Self::Summary => "summary",
            Self::Info => "info",
            Self::StateSet => "stateset",
        }
    }
}

/// Metadata of a metric family.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricMetadata {
    /// Metric type.
    pub metric_type: MetricType,
    /// Help text.
    pub help: String,
    /// Unit.
    pub unit: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_sort_drop_empty_and_keep_last_duplicate() {
        let l = Labels::from_pairs([("b", "2"), ("a", "1"), ("c", ""), ("b", "3")]);
        assert_eq!(format!("{l:?}"), r#"{a="1", b="3"}"#);
        assert_eq!(l.get("b"), Some("3"));
        assert_eq!(l.get("c"), None);
    }

    #[test]
    fn stale_nan_differs_from_plain_nan() {
        assert!(is_stale_nan(stale_nan()));
        assert!(!is_stale_nan(f64::NAN));
        assert!(!Value::Float(f64::NAN).same_as(&Value::Float(stale_nan())));
    }
}
