//! From the owned model to protobuf messages and snappy-compressed request bodies, for senders
//! (the load tool) and tests.

use std::collections::HashMap;

use prost::Message as _;

use crate::model::{
    BucketSpan, Histogram, HistogramCounts, Label, MetricKind, Protocol, ResetHint, WriteBatch,
};
use crate::proto::{v1, v2};

/// Compressing a body failed (only for inputs beyond snappy's size limit).
#[derive(Debug, thiserror::Error)]
#[error("snappy compression failed: {0}")]
pub struct EncodeError(#[from] snap::Error);

/// Encodes a batch as a snappy-compressed protobuf body of the given version.
pub fn encode(batch: &WriteBatch, protocol: Protocol) -> Result<Vec<u8>, EncodeError> {
    let raw = match protocol {
        Protocol::V1 => to_v1(batch).encode_to_vec(),
        Protocol::V2 => to_v2(batch).encode_to_vec(),
    };
    compress(&raw)
}

/// Compresses bytes in snappy block format, as remote write requires.
pub fn compress(raw: &[u8]) -> Result<Vec<u8>, EncodeError> {
    Ok(snap::raw::Encoder::new().compress_vec(raw)?)
}

/// Builds the 1.0 message for a batch.
pub fn to_v1(batch: &WriteBatch) -> v1::WriteRequest {
    let labels = |labels: &[Label]| {
        labels
            .iter()
            .map(|l| v1::Label {
                name: l.name.clone(),
                value: l.value.clone(),
            })
            .collect()
    };
    v1::WriteRequest {
        timeseries: batch
            .series
            .iter()
            .map(|s| v1::TimeSeries {
                labels: labels(&s.labels),
                samples: s
                    .samples
                    .iter()
                    .map(|x| v1::Sample {
                        value: x.value,
                        timestamp: x.timestamp,
                    })
                    .collect(),
                exemplars: s
                    .exemplars
                    .iter()
                    .map(|e| v1::Exemplar {
                        labels: labels(&e.labels),
                        value: e.value,
                        timestamp: e.timestamp,
                    })
                    .collect(),
                histograms: s.histograms.iter().map(histogram_to_proto).collect(),
            })
            .collect(),
        metadata: batch
            .metadata
            .iter()
            .map(|m| v1::MetricMetadata {
                r#type: kind_to_wire(m.kind),
                metric_family_name: m.metric_family_name.clone(),
                help: m.help.clone(),
                unit: m.unit.clone(),
            })
            .collect(),
    }
}

/// Builds the 2.0 message for a batch, interning every string once.
///
/// Family metadata is attached to each series whose `__name__` equals the family name, since 2.0
/// has no family-level metadata.
pub fn to_v2(batch: &WriteBatch) -> v2::Request {
    let mut symbols = Symbols::default();
    let mut pairs = |labels: &[Label]| {
        labels
            .iter()
            .flat_map(|l| [symbols.intern(&l.name), symbols.intern(&l.value)])
            .collect()
    };
    let mut timeseries: Vec<v2::TimeSeries> = batch
        .series
        .iter()
        .map(|s| v2::TimeSeries {
            labels_refs: pairs(&s.labels),
            samples: s
                .samples
                .iter()
                .map(|x| v2::Sample {
                    value: x.value,
                    timestamp: x.timestamp,
                })
                .collect(),
            histograms: s.histograms.iter().map(histogram_to_proto).collect(),
            exemplars: s
                .exemplars
                .iter()
                .map(|e| v2::Exemplar {
                    labels_refs: pairs(&e.labels),
                    value: e.value,
                    timestamp: e.timestamp,
                })
                .collect(),
            metadata: None,
            created_timestamp: s.created_timestamp.unwrap_or(0),
        })
        .collect();
    for (series, wire) in batch.series.iter().zip(timeseries.iter_mut()) {
        let family = series
            .metric_name()
            .and_then(|name| batch.metadata.iter().find(|m| m.metric_family_name == name));
        if let Some(meta) = family {
            wire.metadata = Some(v2::Metadata {
                r#type: kind_to_wire(meta.kind),
                help_ref: symbols.intern(&meta.help),
                unit_ref: symbols.intern(&meta.unit),
            });
        }
    }
    v2::Request {
        symbols: symbols.table,
        timeseries,
    }
}

/// A symbols table that starts with the empty string, as 2.0 requires.
struct Symbols {
    table: Vec<String>,
    index: HashMap<String, u32>,
}

impl Default for Symbols {
    fn default() -> Self {
        Self {
            table: vec![String::new()],
            index: HashMap::from([(String::new(), 0)]),
        }
    }
}

impl Symbols {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&reference) = self.index.get(s) {
            return reference;
        }
        // A request holds far fewer than 2^32 distinct strings: the body limit is much smaller.
        let reference = u32::try_from(self.table.len()).unwrap_or(u32::MAX);
        self.table.push(s.to_owned());
        self.index.insert(s.to_owned(), reference);
        reference
    }
}

fn histogram_to_proto(h: &Histogram) -> v1::Histogram {
    use v1::histogram::{Count, ZeroCount};
    let mut wire = v1::Histogram {
        count: None,
        sum: h.sum,
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: None,
        negative_spans: h.negative_spans.iter().map(span_to_proto).collect(),
        negative_deltas: vec![],
        negative_counts: vec![],
        positive_spans: h.positive_spans.iter().map(span_to_proto).collect(),
        positive_deltas: vec![],
        positive_counts: vec![],
        reset_hint: match h.reset_hint {
            ResetHint::Unknown => v1::histogram::ResetHint::Unknown,
            ResetHint::Yes => v1::histogram::ResetHint::Yes,
            ResetHint::No => v1::histogram::ResetHint::No,
            ResetHint::Gauge => v1::histogram::ResetHint::Gauge,
        } as i32,
        timestamp: h.timestamp,
        custom_values: h.custom_values.clone(),
    };
    match &h.counts {
        HistogramCounts::Int {
            count,
            zero_count,
            negative_deltas,
            positive_deltas,
        } => {
            wire.count = Some(Count::CountInt(*count));
            wire.zero_count = Some(ZeroCount::ZeroCountInt(*zero_count));
            wire.negative_deltas.clone_from(negative_deltas);
            wire.positive_deltas.clone_from(positive_deltas);
        }
        HistogramCounts::Float {
            count,
            zero_count,
            negative_counts,
            positive_counts,
        } => {
            wire.count = Some(Count::CountFloat(*count));
            wire.zero_count = Some(ZeroCount::ZeroCountFloat(*zero_count));
            wire.negative_counts.clone_from(negative_counts);
            wire.positive_counts.clone_from(positive_counts);
        }
    }
    wire
}

fn span_to_proto(span: &BucketSpan) -> v1::BucketSpan {
    v1::BucketSpan {
        offset: span.offset,
        length: span.length,
    }
}

/// Both versions number the metric types alike (2.0's `UNSPECIFIED` is 1.0's `UNKNOWN`).
fn kind_to_wire(kind: MetricKind) -> i32 {
    match kind {
        MetricKind::Unknown => 0,
        MetricKind::Counter => 1,
        MetricKind::Gauge => 2,
        MetricKind::Histogram => 3,
        MetricKind::GaugeHistogram => 4,
        MetricKind::Summary => 5,
        MetricKind::Info => 6,
        MetricKind::StateSet => 7,
    }
}
