//! Per-series validation as a Prometheus-compatible receiver does it. The whole batch is checked
//! before anything is stored, so a caller can reject a request with no partial effect.

use std::fmt::Write as _;

use crate::error::ValidationError;
use crate::model::{BucketSpan, Histogram, HistogramCounts, Label, Series, WriteBatch};

/// Schema of native histograms with custom bucket bounds (NHCB).
const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// Limits a receiver applies to each request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest decompressed body accepted, checked against the snappy header before allocating.
    pub max_decoded_bytes: usize,
    /// Most labels per series, `__name__` included (AMP's quota is 70).
    pub max_labels_per_series: usize,
    /// Longest label name in bytes.
    pub max_label_name_length: usize,
    /// Longest label value in bytes.
    pub max_label_value_length: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_decoded_bytes: 32 * 1024 * 1024,
            max_labels_per_series: 70,
            max_label_name_length: 1024,
            max_label_value_length: 2048,
        }
    }
}

/// Checks every series of the batch; returns the first rule broken.
///
/// Label names must match the classic charset `[a-zA-Z_][a-zA-Z0-9_]*` and metric names
/// `[a-zA-Z_:][a-zA-Z0-9_:]*`: AMP documents only these, and the UTF-8 names of Prometheus 3
/// would need quoting support all the way through the query language. Empty label values are
/// refused, not dropped: the spec forbids sending them, and dropping one would quietly store the
/// sample under another series than the sender named.
pub fn validate(batch: &WriteBatch, limits: &Limits) -> Result<(), ValidationError> {
    batch
        .series
        .iter()
        .try_for_each(|series| validate_series(series, limits))
}

fn validate_series(series: &Series, limits: &Limits) -> Result<(), ValidationError> {
    validate_labels(&series.labels, limits)?;
    check_order(series.samples.iter().map(|s| s.timestamp)).map_err(|(last, incoming)| {
        ValidationError::SampleOutOfOrder {
            last,
            incoming,
            series: series_text(&series.labels),
        }
    })?;
    check_order(series.histograms.iter().map(|h| h.timestamp)).map_err(|(last, incoming)| {
        ValidationError::HistogramOutOfOrder {
            last,
            incoming,
            series: series_text(&series.labels),
        }
    })?;
    series
        .histograms
        .iter()
        .try_for_each(|h| validate_histogram(h, &series.labels))
}

/// Checks what storage relies on: a known schema and spans that match the buckets sent.
fn validate_histogram(h: &Histogram, labels: &[Label]) -> Result<(), ValidationError> {
    if !((-4..=8).contains(&h.schema) || h.schema == CUSTOM_BUCKETS_SCHEMA) {
        return Err(ValidationError::InvalidHistogramSchema {
            schema: h.schema,
            series: series_text(labels),
        });
    }
    let (negative, positive) = match &h.counts {
        HistogramCounts::Int {
            negative_deltas,
            positive_deltas,
            ..
        } => (negative_deltas.len(), positive_deltas.len()),
        HistogramCounts::Float {
            negative_counts,
            positive_counts,
            ..
        } => (negative_counts.len(), positive_counts.len()),
    };
    for (side, spans, have) in [
        ("negative", &h.negative_spans, negative),
        ("positive", &h.positive_spans, positive),
    ] {
        let need: u64 = spans.iter().map(|s: &BucketSpan| u64::from(s.length)).sum();
        if need != have as u64 {
            return Err(ValidationError::HistogramSpansMismatch {
                side,
                need,
                have,
                series: series_text(labels),
            });
        }
    }
    Ok(())
}

/// Checks the label set of one series.
fn validate_labels(labels: &[Label], limits: &Limits) -> Result<(), ValidationError> {
    let name = labels
        .iter()
        .find(|l| l.name == "__name__")
        .map(|l| l.value.as_str());
    let Some(name) = name else {
        return Err(ValidationError::MissingMetricName);
    };
    if !is_metric_name(name) {
        return Err(ValidationError::InvalidMetricName {
            name: name.to_owned(),
        });
    }
    if labels.len() > limits.max_labels_per_series {
        return Err(ValidationError::TooManyLabels {
            actual: labels.len(),
            limit: limits.max_labels_per_series,
            series: series_text(labels),
        });
    }
    let mut previous: Option<&str> = None;
    for label in labels {
        let metric = || name.to_owned();
        if !is_label_name(&label.name) {
            return Err(ValidationError::InvalidLabel {
                name: label.name.clone(),
                metric: metric(),
            });
        }
        if label.name.len() > limits.max_label_name_length {
            return Err(ValidationError::LabelNameTooLong {
                name: label.name.clone(),
                metric: metric(),
            });
        }
        if label.value.is_empty() {
            return Err(ValidationError::EmptyLabelValue {
                name: label.name.clone(),
                metric: metric(),
            });
        }
        if label.value.len() > limits.max_label_value_length {
            return Err(ValidationError::LabelValueTooLong {
                value: label.value.clone(),
                metric: metric(),
            });
        }
        if let Some(prev) = previous {
            if prev == label.name {
                return Err(ValidationError::DuplicateLabelName {
                    name: label.name.clone(),
                    metric: metric(),
                });
            }
            if prev > label.name.as_str() {
                return Err(ValidationError::LabelsNotSorted {
                    name: label.name.clone(),
                    metric: metric(),
                });
            }
        }
        previous = Some(&label.name);
    }
    Ok(())
}

/// Returns the first pair (last, incoming) where time goes backwards.
fn check_order(timestamps: impl Iterator<Item = i64>) -> Result<(), (i64, i64)> {
    let mut last = i64::MIN;
    for ts in timestamps {
        if ts < last {
            return Err((last, ts));
        }
        last = ts;
    }
    Ok(())
}

fn is_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// Formats a label set the way Prometheus prints a metric: `name{a="1", b="2"}`.
pub(crate) fn series_text(labels: &[Label]) -> String {
    let mut out = String::new();
    if let Some(name) = labels.iter().find(|l| l.name == "__name__") {
        out.push_str(&name.value);
    }
    out.push('{');
    let mut first = true;
    for label in labels.iter().filter(|l| l.name != "__name__") {
        if !first {
            out.push_str(", ");
        }
        first = false;
        // Writing into a String cannot fail.
        let _ = write!(out, "{}={:?}", label.name, label.value);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ResetHint, Sample};

    fn series(labels: &[(&str, &str)]) -> Series {
        Series {
            labels: labels.iter().map(|(n, v)| Label::new(*n, *v)).collect(),
            samples: vec![Sample {
                timestamp: 1,
                value: 1.0,
            }],
            ..Series::default()
        }
    }

    fn check(series: Series) -> Result<(), ValidationError> {
        validate(
            &WriteBatch {
                series: vec![series],
                metadata: vec![],
            },
            &Limits::default(),
        )
    }

    fn message(series: Series) -> String {
        check(series).unwrap_err().to_string()
    }

    #[test]
    fn accepts_a_well_formed_series() {
        check(series(&[
            ("__name__", "up"),
            ("instance", "a:9100"),
            ("job", "node"),
        ]))
        .unwrap();
        check(series(&[("__name__", "ns:rule_total"), ("_x", "1")])).unwrap();
    }

    #[test]
    fn missing_metric_name() {
        assert_eq!(
            message(series(&[("job", "node")])),
            "sample missing metric name"
        );
    }

    #[test]
    fn invalid_metric_name() {
        assert_eq!(
            message(series(&[("__name__", "1up")])),
            r#"sample invalid metric name: "1up""#
        );
    }

    #[test]
    fn invalid_label_name() {
        assert_eq!(
            message(series(&[("__name__", "up"), ("a-b", "x")])),
            r#"sample invalid label: "a-b" metric "up""#
        );
        assert!(matches!(
            check(series(&[("__name__", "up"), ("", "x")])),
            Err(ValidationError::InvalidLabel { .. })
        ));
        assert!(matches!(
            check(series(&[("__name__", "up"), ("a:b", "x")])),
            Err(ValidationError::InvalidLabel { .. })
        ));
    }

    #[test]
    fn empty_label_value() {
        assert_eq!(
            message(series(&[("__name__", "up"), ("job", "")])),
            r#"sample empty label value: "job" metric "up""#
        );
    }

    #[test]
    fn duplicate_label_name() {
        assert_eq!(
            message(series(&[("__name__", "up"), ("job", "a"), ("job", "b")])),
            r#"duplicate label name: "job" metric "up""#
        );
    }

    #[test]
    fn unsorted_labels() {
        assert_eq!(
            message(series(&[
                ("__name__", "up"),
                ("job", "a"),
                ("instance", "b")
            ])),
            r#"labels not sorted: "instance" metric "up""#
        );
    }

    #[test]
    fn too_many_labels() {
        let limits = Limits {
            max_labels_per_series: 2,
            ..Limits::default()
        };
        let batch = WriteBatch {
            series: vec![series(&[("__name__", "up"), ("a", "1"), ("b", "2")])],
            metadata: vec![],
        };
        assert_eq!(
            validate(&batch, &limits).unwrap_err().to_string(),
            r#"series has too many labels (actual: 3, limit: 2) series: 'up{a="1", b="2"}'"#
        );
    }

    #[test]
    fn label_name_and_value_too_long() {
        let limits = Limits {
            max_label_name_length: 8,
            max_label_value_length: 3,
            ..Limits::default()
        };
        let long_name = WriteBatch {
            series: vec![series(&[("__name__", "up"), ("abcdefghi", "1")])],
            metadata: vec![],
        };
        assert_eq!(
            validate(&long_name, &limits).unwrap_err().to_string(),
            r#"label name too long: "abcdefghi" metric "up""#
        );
        let long_value = WriteBatch {
            series: vec![series(&[("__name__", "up"), ("a", "1234")])],
            metadata: vec![],
        };
        assert_eq!(
            validate(&long_value, &limits).unwrap_err().to_string(),
            r#"label value too long: "1234" metric "up""#
        );
    }

    #[test]
    fn samples_out_of_order() {
        let mut s = series(&[("__name__", "up"), ("job", "node")]);
        s.samples = vec![
            Sample {
                timestamp: 20,
                value: 1.0,
            },
            Sample {
                timestamp: 10,
                value: 1.0,
            },
        ];
        assert_eq!(
            message(s),
            r#"sample timestamp out of order; last timestamp: 20, incoming timestamp: 10 for series up{job="node"}"#
        );
    }

    #[test]
    fn histograms_out_of_order() {
        let histogram = |timestamp| Histogram {
            timestamp,
            counts: HistogramCounts::Int {
                count: 0,
                zero_count: 0,
                negative_deltas: vec![],
                positive_deltas: vec![],
            },
            sum: 0.0,
            schema: 0,
            zero_threshold: 0.0,
            negative_spans: vec![],
            positive_spans: vec![],
            reset_hint: ResetHint::Unknown,
            custom_values: vec![],
        };
        let mut s = series(&[("__name__", "h")]);
        s.samples.clear();
        s.histograms = vec![histogram(5), histogram(4)];
        assert!(matches!(
            check(s),
            Err(ValidationError::HistogramOutOfOrder {
                last: 5,
                incoming: 4,
                ..
            })
        ));
    }

    #[test]
    fn histogram_schema_and_spans() {
        let histogram = Histogram {
            timestamp: 1,
            counts: HistogramCounts::Float {
                count: 3.0,
                zero_count: 0.0,
                negative_counts: vec![],
                positive_counts: vec![1.0, 2.0],
            },
            sum: 1.0,
            schema: 0,
            zero_threshold: 0.0,
            negative_spans: vec![],
            positive_spans: vec![BucketSpan {
                offset: 0,
                length: 2,
            }],
            reset_hint: ResetHint::No,
            custom_values: vec![],
        };
        let with = |h: Histogram| {
            let mut s = series(&[("__name__", "h")]);
            s.samples.clear();
            s.histograms = vec![h];
            s
        };
        check(with(histogram.clone())).unwrap();
        check(with(Histogram {
            schema: -53,
            ..histogram.clone()
        }))
        .unwrap();
        assert_eq!(
            message(with(Histogram {
                schema: 9,
                ..histogram.clone()
            })),
            "native histogram has invalid schema 9, must be between -4 and 8, or -53 for custom \
             buckets, for series h{}"
        );
        let short = Histogram {
            positive_spans: vec![BucketSpan {
                offset: 0,
                length: 3,
            }],
            ..histogram
        };
        assert_eq!(
            message(with(short)),
            "native histogram positive side: spans need 3 buckets, have 2 buckets for series h{}"
        );
    }

    #[test]
    fn one_bad_series_rejects_the_batch() {
        let batch = WriteBatch {
            series: vec![series(&[("__name__", "up")]), series(&[("job", "x")])],
            metadata: vec![],
        };
        assert_eq!(
            validate(&batch, &Limits::default()),
            Err(ValidationError::MissingMetricName)
        );
    }
}
