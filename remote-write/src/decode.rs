//! From HTTP request parts to a validated [`WriteBatch`]: content negotiation, snappy block
//! decompression under a size limit, protobuf decoding and conversion of either version.

use std::collections::HashSet;

use prost::Message as _;

use crate::error::{DecodeError, ValidationError};
use crate::model::{
    BucketSpan, Exemplar, Histogram, HistogramCounts, Label, MetricKind, MetricMetadata, Protocol,
    ResetHint, Sample, Series, WriteBatch,
};
use crate::proto::{v1, v2};
use crate::validate::{Limits, series_text, validate};

/// A decoded, validated request and the protocol version it came in.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedRequest {
    /// Protocol version negotiated from `Content-Type`.
    pub protocol: Protocol,
    /// The request contents.
    pub batch: WriteBatch,
}

/// Decodes and validates one remote write body given its `Content-Type` and `Content-Encoding`.
///
/// Either everything is valid or an error is returned, so the caller never stores part of a
/// request it rejects.
pub fn decode(
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    body: &[u8],
    limits: &Limits,
) -> Result<DecodedRequest, DecodeError> {
    let protocol = negotiate(content_type)?;
    let raw = decompress(content_encoding, body, limits.max_decoded_bytes)?;
    let batch = match protocol {
        Protocol::V1 => {
            from_v1(v1::WriteRequest::decode(raw.as_slice()).map_err(DecodeError::Protobuf)?)
        }
        Protocol::V2 => {
            from_v2(v2::Request::decode(raw.as_slice()).map_err(DecodeError::Protobuf)?)?
        }
    };
    validate(&batch, limits)?;
    Ok(DecodedRequest { protocol, batch })
}

/// Picks the protocol version from a `Content-Type` header.
///
/// A missing header means 1.0, as Prometheus' own receiver assumes for old senders.
pub fn negotiate(content_type: Option<&str>) -> Result<Protocol, DecodeError> {
    let Some(header) = content_type else {
        return Ok(Protocol::V1);
    };
    let unsupported = || DecodeError::UnsupportedMediaType(header.to_owned());
    let mut parts = header.split(';');
    let media_type = parts.next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("application/x-protobuf") {
        return Err(unsupported());
    }
    let mut protocol = Protocol::V1;
    for param in parts {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        if key.trim().eq_ignore_ascii_case("proto") {
            protocol = match value.trim().trim_matches('"') {
                "prometheus.WriteRequest" => Protocol::V1,
                "io.prometheus.write.v2.Request" => Protocol::V2,
                _ => return Err(unsupported()),
            };
        }
    }
    Ok(protocol)
}

/// Decompresses a snappy block-format body, refusing one whose header declares more than
/// `max_decoded` bytes before any buffer is allocated.
///
/// A missing `Content-Encoding` is read as snappy, as Prometheus' receiver does.
pub fn decompress(
    content_encoding: Option<&str>,
    body: &[u8],
    max_decoded: usize,
) -> Result<Vec<u8>, DecodeError> {
    if let Some(encoding) = content_encoding
        && !encoding.trim().eq_ignore_ascii_case("snappy")
    {
        return Err(DecodeError::UnsupportedEncoding(encoding.to_owned()));
    }
    let declared = snap::raw::decompress_len(body).map_err(DecodeError::Snappy)?;
    if declared > max_decoded {
        return Err(DecodeError::TooLarge {
            declared,
            limit: max_decoded,
        });
    }
    snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(DecodeError::Snappy)
}

/// Converts a 1.0 message to the owned model (no validation).
pub fn from_v1(request: v1::WriteRequest) -> WriteBatch {
    let series = request
        .timeseries
        .into_iter()
        .map(|ts| Series {
            labels: ts
                .labels
                .into_iter()
                .map(|l| Label {
                    name: l.name,
                    value: l.value,
                })
                .collect(),
            samples: ts
                .samples
                .into_iter()
                .map(|s| Sample {
                    timestamp: s.timestamp,
                    value: s.value,
                })
                .collect(),
            histograms: ts
                .histograms
                .into_iter()
                .map(histogram_from_proto)
                .collect(),
            exemplars: ts
                .exemplars
                .into_iter()
                .map(|e| Exemplar {
                    labels: e
                        .labels
                        .into_iter()
                        .map(|l| Label {
                            name: l.name,
                            value: l.value,
                        })
                        .collect(),
                    value: e.value,
                    timestamp: e.timestamp,
                })
                .collect(),
            created_timestamp: None,
        })
        .collect();
    let metadata = request
        .metadata
        .into_iter()
        .map(|m| MetricMetadata {
            kind: kind_from_v1(m.r#type),
            metric_family_name: m.metric_family_name,
            help: m.help,
            unit: m.unit,
        })
        .collect();
    WriteBatch { series, metadata }
}

/// Converts a 2.0 message to the owned model, resolving symbol references.
///
/// Checks the 2.0-only rules (symbols table, references, samples and histograms not mixed); the
/// rules shared with 1.0 are left to [`validate`].
pub fn from_v2(request: v2::Request) -> Result<WriteBatch, ValidationError> {
    let symbols = request.symbols;
    if let Some(first) = symbols.first()
        && !first.is_empty()
    {
        return Err(ValidationError::FirstSymbolNotEmpty {
            first: first.clone(),
        });
    }
    let symbol = |reference: u32| {
        usize::try_from(reference)
            .ok()
            .and_then(|i| symbols.get(i))
            .ok_or(ValidationError::SymbolRefOutOfRange {
                reference,
                size: symbols.len(),
            })
    };
    let resolve = |refs: &[u32]| -> Result<Vec<Label>, ValidationError> {
        if !refs.len().is_multiple_of(2) {
            return Err(ValidationError::OddLabelRefs { len: refs.len() });
        }
        refs.chunks_exact(2)
            .map(|pair| {
                Ok(Label::new(
                    symbol(pair[0])?.as_str(),
                    symbol(pair[1])?.as_str(),
                ))
            })
            .collect()
    };

    let mut batch = WriteBatch::default();
    // Families already lifted; a set keeps requests with many metric names linear.
    let mut families = HashSet::new();
    for ts in request.timeseries {
        let labels = resolve(&ts.labels_refs)?;
        if !ts.samples.is_empty() && !ts.histograms.is_empty() {
            return Err(ValidationError::MixedSamplesAndHistograms {
                series: series_text(&labels),
            });
        }
        if let Some(meta) = ts.metadata {
            let kind = kind_from_v2(meta.r#type);
            let help = symbol(meta.help_ref)?.clone();
            let unit = symbol(meta.unit_ref)?.clone();
            let name = labels
                .iter()
                .find(|l| l.name == "__name__")
                .map(|l| l.value.clone());
            let informative = kind != MetricKind::Unknown || !help.is_empty() || !unit.is_empty();
            if let Some(name) = name
                && informative
                && families.insert(name.clone())
            {
                batch.metadata.push(MetricMetadata {
                    metric_family_name: name,
                    kind,
                    help,
                    unit,
                });
            }
        }
        let exemplars = ts
            .exemplars
            .into_iter()
            .map(|e| {
                Ok(Exemplar {
                    labels: resolve(&e.labels_refs)?,
                    value: e.value,
                    timestamp: e.timestamp,
                })
            })
            .collect::<Result<_, ValidationError>>()?;
        batch.series.push(Series {
            labels,
            samples: ts
                .samples
                .into_iter()
                .map(|s| Sample {
                    timestamp: s.timestamp,
                    value: s.value,
                })
                .collect(),
            histograms: ts
                .histograms
                .into_iter()
                .map(histogram_from_proto)
                .collect(),
            exemplars,
            created_timestamp: (ts.created_timestamp != 0).then_some(ts.created_timestamp),
        });
    }
    Ok(batch)
}

/// Integer or float form follows the `count` oneof, as in Prometheus (`IsFloatHistogram`); a zero
/// count given in the other form reads as 0 there too.
fn histogram_from_proto(h: v1::Histogram) -> Histogram {
    use v1::histogram::{Count, ZeroCount};
    let counts = match h.count {
        Some(Count::CountFloat(count)) => HistogramCounts::Float {
            count,
            zero_count: match h.zero_count {
                Some(ZeroCount::ZeroCountFloat(z)) => z,
                _ => 0.0,
            },
            negative_counts: h.negative_counts,
            positive_counts: h.positive_counts,
        },
        Some(Count::CountInt(count)) => {
            int_counts(count, h.zero_count, h.negative_deltas, h.positive_deltas)
        }
        None => int_counts(0, h.zero_count, h.negative_deltas, h.positive_deltas),
    };
    Histogram {
        timestamp: h.timestamp,
        counts,
        sum: h.sum,
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        negative_spans: h.negative_spans.into_iter().map(span_from_proto).collect(),
        positive_spans: h.positive_spans.into_iter().map(span_from_proto).collect(),
        reset_hint: match v1::histogram::ResetHint::try_from(h.reset_hint) {
            Ok(v1::histogram::ResetHint::Yes) => ResetHint::Yes,
            Ok(v1::histogram::ResetHint::No) => ResetHint::No,
            Ok(v1::histogram::ResetHint::Gauge) => ResetHint::Gauge,
            _ => ResetHint::Unknown,
        },
        custom_values: h.custom_values,
    }
}

fn int_counts(
    count: u64,
    zero_count: Option<v1::histogram::ZeroCount>,
    negative_deltas: Vec<i64>,
    positive_deltas: Vec<i64>,
) -> HistogramCounts {
    let zero_count = match zero_count {
        Some(v1::histogram::ZeroCount::ZeroCountInt(z)) => z,
        _ => 0,
    };
    HistogramCounts::Int {
        count,
        zero_count,
        negative_deltas,
        positive_deltas,
    }
}

fn span_from_proto(span: v1::BucketSpan) -> BucketSpan {
    BucketSpan {
        offset: span.offset,
        length: span.length,
    }
}

fn kind_from_v1(raw: i32) -> MetricKind {
    match v1::MetricType::try_from(raw) {
        Ok(v1::MetricType::Counter) => MetricKind::Counter,
        Ok(v1::MetricType::Gauge) => MetricKind::Gauge,
        Ok(v1::MetricType::Histogram) => MetricKind::Histogram,
        Ok(v1::MetricType::Gaugehistogram) => MetricKind::GaugeHistogram,
        Ok(v1::MetricType::Summary) => MetricKind::Summary,
        Ok(v1::MetricType::Info) => MetricKind::Info,
        Ok(v1::MetricType::Stateset) => MetricKind::StateSet,
        Ok(v1::MetricType::Unknown) | Err(_) => MetricKind::Unknown,
    }
}

fn kind_from_v2(raw: i32) -> MetricKind {
    match v2::MetricType::try_from(raw) {
        Ok(v2::MetricType::Counter) => MetricKind::Counter,
        Ok(v2::MetricType::Gauge) => MetricKind::Gauge,
        Ok(v2::MetricType::Histogram) => MetricKind::Histogram,
        Ok(v2::MetricType::Gaugehistogram) => MetricKind::GaugeHistogram,
        Ok(v2::MetricType::Summary) => MetricKind::Summary,
        Ok(v2::MetricType::Info) => MetricKind::Info,
        Ok(v2::MetricType::Stateset) => MetricKind::StateSet,
        Ok(v2::MetricType::Unspecified) | Err(_) => MetricKind::Unknown,
    }
}

#[cfg(test)]
mod tests;
