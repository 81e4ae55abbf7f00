//! Conversions between the remote-write model, the tsdb model and the PromQL engine's model.

use ampd_promql as promql;
use ampd_remote_write as rw;
use ampd_tsdb as tsdb;

/// Builds a tsdb label set from remote-write labels.
pub(super) fn labels(ls: &[rw::Label]) -> tsdb::Labels {
    tsdb::Labels::from_pairs(ls.iter().map(|l| (l.name.as_str(), l.value.as_str())))
}

/// Builds an engine label set from a tsdb one.
pub(super) fn promql_labels(ls: &tsdb::Labels) -> promql::Labels {
    promql::Labels::from_pairs(ls.iter().map(|l| (l.name.to_string(), l.value.to_string())))
}

fn spans(s: &[rw::BucketSpan]) -> Vec<tsdb::Span> {
    s.iter()
        .map(|s| tsdb::Span {
            offset: s.offset,
            length: s.length,
        })
        .collect()
}

fn hint(h: rw::ResetHint) -> tsdb::CounterResetHint {
    match h {
        rw::ResetHint::Unknown => tsdb::CounterResetHint::Unknown,
        rw::ResetHint::Yes => tsdb::CounterResetHint::Reset,
        rw::ResetHint::No => tsdb::CounterResetHint::NotReset,
        rw::ResetHint::Gauge => tsdb::CounterResetHint::Gauge,
    }
}

/// A remote-write histogram as the tsdb stores it: integer or float.
pub(super) enum StoredHistogram {
    /// Integer counts, delta encoded.
    Int(tsdb::Histogram),
    /// Float counts.
    Float(tsdb::FloatHistogram),
}

/// Converts a remote-write histogram, keeping its integer or float nature.
pub(super) fn histogram(h: &rw::Histogram) -> StoredHistogram {
    match &h.counts {
        rw::HistogramCounts::Int {
            count,
            zero_count,
            negative_deltas,
            positive_deltas,
        } => StoredHistogram::Int(tsdb::Histogram {
            counter_reset_hint: hint(h.reset_hint),
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            zero_count: *zero_count,
            count: *count,
            sum: h.sum,
            positive_spans: spans(&h.positive_spans),
            positive_deltas: positive_deltas.clone(),
            negative_spans: spans(&h.negative_spans),
            negative_deltas: negative_deltas.clone(),
            custom_values: h.custom_values.clone(),
        }),
        rw::HistogramCounts::Float {
            count,
            zero_count,
            negative_counts,
            positive_counts,
        } => StoredHistogram::Float(tsdb::FloatHistogram {
            counter_reset_hint: hint(h.reset_hint),
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            zero_count: *zero_count,
            count: *count,
            sum: h.sum,
            positive_spans: spans(&h.positive_spans),
            positive_counts: positive_counts.clone(),
            negative_spans: spans(&h.negative_spans),
            negative_counts: negative_counts.clone(),
            custom_values: h.custom_values.clone(),
        }),
    }
}

/// Converts remote-write metadata into the tsdb's.
pub(super) fn metadata(m: &rw::MetricMetadata) -> tsdb::MetricMetadata {
    let metric_type = match m.kind {
        rw::MetricKind::Unknown => tsdb::MetricType::Unknown,
        rw::MetricKind::Counter => tsdb::MetricType::Counter,
        rw::MetricKind::Gauge => tsdb::MetricType::Gauge,
        rw::MetricKind::Histogram => tsdb::MetricType::Histogram,
        rw::MetricKind::GaugeHistogram => tsdb::MetricType::GaugeHistogram,
        rw::MetricKind::Summary => tsdb::MetricType::Summary,
        rw::MetricKind::Info => tsdb::MetricType::Info,
        rw::MetricKind::StateSet => tsdb::MetricType::StateSet,
    };
    tsdb::MetricMetadata {
        metric_type,
        help: m.help.clone(),
        unit: m.unit.clone(),
    }
}

fn promql_spans(s: &[tsdb::Span]) -> Vec<promql::BucketSpan> {
    s.iter()
        .map(|s| promql::BucketSpan {
            offset: s.offset,
            length: s.length,
        })
        .collect()
}

fn promql_hint(h: tsdb::CounterResetHint) -> promql::CounterResetHint {
    match h {
        tsdb::CounterResetHint::Unknown => promql::CounterResetHint::Unknown,
        tsdb::CounterResetHint::Reset => promql::CounterResetHint::CounterReset,
        tsdb::CounterResetHint::NotReset => promql::CounterResetHint::NotCounterReset,
        tsdb::CounterResetHint::Gauge => promql::CounterResetHint::Gauge,
    }
}

/// Turns delta-encoded integer bucket counts into absolute float counts.
fn undelta(deltas: &[i64]) -> Vec<f64> {
    let mut acc: i64 = 0;
    deltas
        .iter()
        .map(|d| {
            acc = acc.wrapping_add(*d);
            acc as f64
        })
        .collect()
}

/// Converts a stored sample value into the engine's.
pub(super) fn point_value(v: &tsdb::Value) -> promql::PointValue {
    match v {
        // Moving the f64 keeps its bits, so the staleness marker survives.
        tsdb::Value::Float(f) => promql::PointValue::Float(*f),
        tsdb::Value::Histogram(h) => promql::PointValue::Histogram(promql::FloatHistogram {
            counter_reset_hint: promql_hint(h.counter_reset_hint),
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            zero_count: h.zero_count as f64,
            count: h.count as f64,
            sum: h.sum,
            positive_spans: promql_spans(&h.positive_spans),
            negative_spans: promql_spans(&h.negative_spans),
            positive_buckets: undelta(&h.positive_deltas),
            negative_buckets: undelta(&h.negative_deltas),
            custom_values: h.custom_values.clone(),
        }),
        tsdb::Value::FloatHistogram(h) => promql::PointValue::Histogram(promql::FloatHistogram {
            counter_reset_hint: promql_hint(h.counter_reset_hint),
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            zero_count: h.zero_count,
            count: h.count,
            sum: h.sum,
            positive_spans: promql_spans(&h.positive_spans),
            negative_spans: promql_spans(&h.negative_spans),
            positive_buckets: h.positive_counts.clone(),
            negative_buckets: h.negative_counts.clone(),
            custom_values: h.custom_values.clone(),
        }),
    }
}

/// Converts an engine matcher into a tsdb one.
pub(super) fn matcher(m: &promql::Matcher) -> tsdb::Result<tsdb::Matcher> {
    let kind = match m.op {
        promql::MatchOp::Equal => tsdb::MatchType::Equal,
        promql::MatchOp::NotEqual => tsdb::MatchType::NotEqual,
        promql::MatchOp::Regex => tsdb::MatchType::RegexMatch,
        promql::MatchOp::NotRegex => tsdb::MatchType::NotRegexMatch,
    };
    tsdb::Matcher::new(kind, &m.name, &m.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_histogram_buckets_become_absolute() {
        let h = tsdb::Histogram {
            count: 6,
            zero_count: 1,
            sum: 9.0,
            positive_spans: vec![tsdb::Span {
                offset: 0,
                length: 3,
            }],
            positive_deltas: vec![1, 2, -2],
            ..tsdb::Histogram::default()
        };
        let promql::PointValue::Histogram(f) = point_value(&tsdb::Value::Histogram(h.into()))
        else {
            panic!("histogram expected");
        };
        assert_eq!(f.positive_buckets, vec![1.0, 3.0, 1.0]);
        assert_eq!((f.count, f.zero_count, f.sum), (6.0, 1.0, 9.0));
    }

    #[test]
    fn stale_marker_bits_survive() {
        let v = tsdb::Value::Float(tsdb::stale_nan());
        let promql::PointValue::Float(f) = point_value(&v) else {
            panic!("float expected");
        };
        assert!(promql::is_stale_nan(f));
    }

    #[test]
    fn reset_hints_map_both_ways() {
        let rw_hints = [
            rw::ResetHint::Unknown,
            rw::ResetHint::Yes,
            rw::ResetHint::No,
            rw::ResetHint::Gauge,
        ];
        let engine_hints = [
            promql::CounterResetHint::Unknown,
            promql::CounterResetHint::CounterReset,
            promql::CounterResetHint::NotCounterReset,
            promql::CounterResetHint::Gauge,
        ];
        for (r, e) in rw_hints.into_iter().zip(engine_hints) {
            assert_eq!(promql_hint(hint(r)), e);
        }
    }
}
