use proptest::prelude::*;
use prost::Message as _;

use super::*;
use crate::encode::{compress, encode, to_v1, to_v2};
use crate::model::STALE_NAN_BITS;

const V1: &str = "application/x-protobuf;proto=prometheus.WriteRequest";
const V2: &str = "application/x-protobuf;proto=io.prometheus.write.v2.Request";

fn up(timestamps_values: &[(i64, f64)]) -> WriteBatch {
    WriteBatch {
        series: vec![Series {
            labels: vec![Label::new("__name__", "up"), Label::new("job", "node")],
            samples: timestamps_values
                .iter()
                .map(|&(timestamp, value)| Sample { timestamp, value })
                .collect(),
            ..Series::default()
        }],
        metadata: vec![],
    }
}

/// Bit-exact comparison: the 1.0 encoding of the model is deterministic and keeps float bits.
fn same(a: &WriteBatch, b: &WriteBatch) -> bool {
    a.series
        .iter()
        .map(|s| s.created_timestamp)
        .eq(b.series.iter().map(|s| s.created_timestamp))
        && to_v1(a).encode_to_vec() == to_v1(b).encode_to_vec()
}

fn decode_v2_message(request: &v2::Request) -> Result<DecodedRequest, DecodeError> {
    let body = compress(&request.encode_to_vec()).unwrap();
    decode(Some(V2), Some("snappy"), &body, &Limits::default())
}

#[test]
fn negotiates_content_types() {
    assert_eq!(negotiate(None).unwrap(), Protocol::V1);
    assert_eq!(
        negotiate(Some("application/x-protobuf")).unwrap(),
        Protocol::V1
    );
    assert_eq!(negotiate(Some(V1)).unwrap(), Protocol::V1);
    assert_eq!(negotiate(Some(V2)).unwrap(), Protocol::V2);
    assert_eq!(
        negotiate(Some(
            "Application/X-Protobuf; proto=\"io.prometheus.write.v2.Request\""
        ))
        .unwrap(),
        Protocol::V2
    );
    for bad in [
        "application/json",
        "text/plain",
        "application/x-protobuf;proto=foo.Bar",
        "",
    ] {
        let err = negotiate(Some(bad)).unwrap_err();
        assert!(matches!(err, DecodeError::UnsupportedMediaType(_)), "{bad}");
        assert_eq!(err.status_code(), 415);
    }
}

#[test]
fn refuses_other_encodings() {
    let body = encode(&up(&[(1, 1.0)]), Protocol::V1).unwrap();
    let err = decode(Some(V1), Some("gzip"), &body, &Limits::default()).unwrap_err();
    assert!(matches!(err, DecodeError::UnsupportedEncoding(_)));
    assert_eq!(err.status_code(), 415);
    // A missing Content-Encoding is read as snappy.
    decode(Some(V1), None, &body, &Limits::default()).unwrap();
}

#[test]
fn refuses_an_oversize_declared_length_before_allocating() {
    // A snappy header declaring 4 GiB - 1 followed by nothing: only the header is read.
    let body = [0xff, 0xff, 0xff, 0xff, 0x0f];
    let limits = Limits {
        max_decoded_bytes: 1024,
        ..Limits::default()
    };
    let err = decode(Some(V1), Some("snappy"), &body, &limits).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::TooLarge {
                declared: 0xffff_ffff,
                limit: 1024
            }
        ),
        "{err}"
    );
    assert_eq!(err.status_code(), 413);

    let real = encode(&up(&[(1, 1.0)]), Protocol::V1).unwrap();
    let declared = snap::raw::decompress_len(&real).unwrap();
    let tight = Limits {
        max_decoded_bytes: declared - 1,
        ..Limits::default()
    };
    assert!(matches!(
        decode(Some(V1), None, &real, &tight),
        Err(DecodeError::TooLarge { .. })
    ));
    let exact = Limits {
        max_decoded_bytes: declared,
        ..Limits::default()
    };
    decode(Some(V1), None, &real, &exact).unwrap();
}

#[test]
fn truncated_snappy_is_a_clean_error() {
    let body = encode(&up(&[(1, 1.0), (2, 2.0)]), Protocol::V1).unwrap();
    for cut in 0..body.len() {
        let err = decode(Some(V1), None, &body[..cut], &Limits::default()).unwrap_err();
        assert!(matches!(err, DecodeError::Snappy(_)), "cut at {cut}: {err}");
        assert_eq!(err.status_code(), 400);
    }
}

#[test]
fn protobuf_with_bad_field_types_is_a_clean_error() {
    // Field 1 (timeseries, a message) sent as a varint.
    let raw = [0x08, 0x01];
    let err = decode(Some(V1), None, &compress(&raw).unwrap(), &Limits::default()).unwrap_err();
    assert!(matches!(err, DecodeError::Protobuf(_)), "{err}");
    // Field 4 (symbols, a string) holding invalid UTF-8.
    let raw = [0x22, 0x02, 0xff, 0xfe];
    let err = decode(Some(V2), None, &compress(&raw).unwrap(), &Limits::default()).unwrap_err();
    assert!(matches!(err, DecodeError::Protobuf(_)), "{err}");
    assert!(err.to_string().starts_with("protobuf decode error: "));
}

#[test]
fn random_bytes_are_a_clean_error() {
    let body = b"definitely not snappy or protobuf";
    assert!(decode(Some(V1), None, body, &Limits::default()).is_err());
}

#[test]
fn validation_errors_surface_with_400() {
    let mut batch = up(&[(2, 1.0), (1, 1.0)]);
    let body = encode(&batch, Protocol::V1).unwrap();
    let err = decode(Some(V1), None, &body, &Limits::default()).unwrap_err();
    assert_eq!(err.status_code(), 400);
    assert!(matches!(
        err,
        DecodeError::Invalid(ValidationError::SampleOutOfOrder { .. })
    ));
    batch.series[0].labels.remove(0);
    batch.series[0].samples.truncate(1);
    let body = encode(&batch, Protocol::V2).unwrap();
    let err = decode(Some(V2), None, &body, &Limits::default()).unwrap_err();
    assert_eq!(err.to_string(), "sample missing metric name");
}

#[test]
fn stale_marker_passes_bit_exactly() {
    let stale = f64::from_bits(STALE_NAN_BITS);
    for protocol in [Protocol::V1, Protocol::V2] {
        let body = encode(&up(&[(1, 1.0), (2, stale)]), protocol).unwrap();
        let decoded = decode(
            Some(protocol.content_type()),
            None,
            &body,
            &Limits::default(),
        )
        .unwrap();
        let samples = &decoded.batch.series[0].samples;
        assert_eq!(samples[1].value.to_bits(), STALE_NAN_BITS);
        assert!(samples[1].is_stale_marker());
        assert!(!samples[0].is_stale_marker());
    }
}

#[test]
fn v2_symbols_must_start_empty() {
    let request = v2::Request {
        symbols: vec!["__name__".into(), "up".into()],
        timeseries: vec![v2::TimeSeries {
            labels_refs: vec![0, 1],
            ..v2::TimeSeries::default()
        }],
    };
    let err = decode_v2_message(&request).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"invalid symbols table: symbols[0] must be the empty string, got "__name__""#
    );
}

#[test]
fn v2_odd_label_refs() {
    let request = v2::Request {
        symbols: vec![String::new(), "__name__".into(), "up".into()],
        timeseries: vec![v2::TimeSeries {
            labels_refs: vec![1, 2, 1],
            ..v2::TimeSeries::default()
        }],
    };
    let err = decode_v2_message(&request).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::Invalid(ValidationError::OddLabelRefs { len: 3 })
    ));
}

#[test]
fn v2_out_of_range_refs() {
    let symbols = vec![String::new(), "__name__".into(), "up".into()];
    let series = v2::TimeSeries {
        labels_refs: vec![1, 9],
        ..v2::TimeSeries::default()
    };
    let request = v2::Request {
        symbols: symbols.clone(),
        timeseries: vec![series],
    };
    assert_eq!(
        decode_v2_message(&request).unwrap_err().to_string(),
        "symbol reference 9 out of range (symbols table size: 3)"
    );
    let bad_help = v2::TimeSeries {
        labels_refs: vec![1, 2],
        metadata: Some(v2::Metadata {
            r#type: 1,
            help_ref: 7,
            unit_ref: 0,
        }),
        ..v2::TimeSeries::default()
    };
    let request = v2::Request {
        symbols: symbols.clone(),
        timeseries: vec![bad_help],
    };
    assert!(matches!(
        decode_v2_message(&request),
        Err(DecodeError::Invalid(ValidationError::SymbolRefOutOfRange {
            reference: 7,
            size: 3
        }))
    ));
    let bad_exemplar = v2::TimeSeries {
        labels_refs: vec![1, 2],
        exemplars: vec![v2::Exemplar {
            labels_refs: vec![3, 4],
            value: 1.0,
            timestamp: 1,
        }],
        ..v2::TimeSeries::default()
    };
    let request = v2::Request {
        symbols,
        timeseries: vec![bad_exemplar],
    };
    assert!(matches!(
        decode_v2_message(&request),
        Err(DecodeError::Invalid(ValidationError::SymbolRefOutOfRange {
            reference: 3,
            ..
        }))
    ));
}

#[test]
fn v2_refuses_samples_mixed_with_histograms() {
    let request = v2::Request {
        symbols: vec![String::new(), "__name__".into(), "up".into()],
        timeseries: vec![v2::TimeSeries {
            labels_refs: vec![1, 2],
            samples: vec![v2::Sample {
                value: 1.0,
                timestamp: 1,
            }],
            histograms: vec![v1::Histogram::default()],
            ..v2::TimeSeries::default()
        }],
    };
    assert_eq!(
        decode_v2_message(&request).unwrap_err().to_string(),
        "series has both float samples and histograms, send them separately: series 'up{}'"
    );
}

#[test]
fn v2_metadata_is_lifted_to_families_once() {
    let request = v2::Request {
        symbols: vec![
            String::new(),
            "__name__".into(),
            "jobs_total".into(),
            "job".into(),
            "a".into(),
            "b".into(),
            "Jobs run.".into(),
        ],
        timeseries: [4, 5]
            .into_iter()
            .map(|job| v2::TimeSeries {
                labels_refs: vec![1, 2, 3, job],
                samples: vec![v2::Sample {
                    value: 1.0,
                    timestamp: 1,
                }],
                metadata: Some(v2::Metadata {
                    r#type: 1,
                    help_ref: 6,
                    unit_ref: 0,
                }),
                created_timestamp: 5,
                ..v2::TimeSeries::default()
            })
            .collect(),
    };
    let decoded = decode_v2_message(&request).unwrap();
    assert_eq!(
        decoded.batch.metadata,
        vec![MetricMetadata {
            metric_family_name: "jobs_total".into(),
            kind: MetricKind::Counter,
            help: "Jobs run.".into(),
            unit: String::new(),
        }]
    );
    assert_eq!(decoded.batch.series[1].created_timestamp, Some(5));
}

#[test]
fn empty_requests_are_valid() {
    for protocol in [Protocol::V1, Protocol::V2] {
        let body = encode(&WriteBatch::default(), protocol).unwrap();
        let decoded = decode(
            Some(protocol.content_type()),
            None,
            &body,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(decoded.batch, WriteBatch::default());
    }
}

fn label_name() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,8}".prop_filter("reserved", |n| n != "__name__")
}

fn labels() -> impl Strategy<Value = Vec<Label>> {
    (
        "[a-z_:][a-z0-9_:]{0,10}",
        proptest::collection::btree_map(label_name(), "\\PC{1,6}", 0..5),
    )
        .prop_map(|(name, rest)| {
            let mut labels: Vec<Label> = rest.into_iter().map(|(n, v)| Label::new(n, v)).collect();
            labels.push(Label::new("__name__", name));
            labels.sort();
            labels
        })
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        any::<u64>().prop_map(f64::from_bits),
        Just(f64::from_bits(STALE_NAN_BITS))
    ]
}

fn spans() -> impl Strategy<Value = Vec<BucketSpan>> {
    proptest::collection::vec(
        (any::<i32>(), 0u32..3).prop_map(|(offset, length)| BucketSpan { offset, length }),
        0..3,
    )
}

fn bucket_count(spans: &[BucketSpan]) -> usize {
    spans.iter().map(|s| s.length as usize).sum()
}

/// A valid native histogram: known schema, as many buckets as its spans describe.
fn histogram(timestamp: i64) -> impl Strategy<Value = Histogram> {
    (spans(), spans()).prop_flat_map(move |(negative_spans, positive_spans)| {
        let (neg, pos) = (bucket_count(&negative_spans), bucket_count(&positive_spans));
        let counts = prop_oneof![
            (
                any::<u64>(),
                any::<u64>(),
                proptest::collection::vec(any::<i64>(), neg),
                proptest::collection::vec(any::<i64>(), pos)
            )
                .prop_map(|(count, zero_count, negative_deltas, positive_deltas)| {
                    HistogramCounts::Int {
                        count,
                        zero_count,
                        negative_deltas,
                        positive_deltas,
                    }
                }),
            (
                any_f64(),
                any_f64(),
                proptest::collection::vec(any_f64(), neg),
                proptest::collection::vec(any_f64(), pos)
            )
                .prop_map(|(count, zero_count, negative_counts, positive_counts)| {
                    HistogramCounts::Float {
                        count,
                        zero_count,
                        negative_counts,
                        positive_counts,
                    }
                }),
        ];
        let hint = prop_oneof![
            Just(ResetHint::Unknown),
            Just(ResetHint::Yes),
            Just(ResetHint::No),
            Just(ResetHint::Gauge)
        ];
        let schema = prop_oneof![-4i32..=8, Just(-53)];
        let custom_values = proptest::collection::vec(any_f64(), 0..3);
        let (negative_spans, positive_spans) = (negative_spans.clone(), positive_spans.clone());
        (counts, any_f64(), schema, any_f64(), hint, custom_values).prop_map(
            move |(counts, sum, schema, zero_threshold, reset_hint, custom_values)| Histogram {
                timestamp,
                counts,
                sum,
                schema,
                zero_threshold,
                negative_spans: negative_spans.clone(),
                positive_spans: positive_spans.clone(),
                reset_hint,
                custom_values,
            },
        )
    })
}

/// A valid series: sorted timestamps, either samples or histograms (so it is valid in 2.0 too).
fn series(created: bool) -> impl Strategy<Value = Series> {
    let created = if created {
        any::<i64>()
            .prop_filter("unset", |t| *t != 0)
            .prop_map(Some)
            .boxed()
    } else {
        Just(None).boxed()
    };
    (
        labels(),
        proptest::collection::vec(any::<i64>(), 0..5),
        any::<bool>(),
        proptest::collection::vec((labels(), any_f64(), any::<i64>()), 0..2),
        created,
    )
        .prop_flat_map(
            |(labels, mut timestamps, use_histograms, exemplars, created_timestamp)| {
                timestamps.sort_unstable();
                let exemplars: Vec<Exemplar> = exemplars
                    .into_iter()
                    .map(|(labels, value, timestamp)| Exemplar {
                        labels,
                        value,
                        timestamp,
                    })
                    .collect();
                let histograms = if use_histograms {
                    timestamps
                        .iter()
                        .map(|&t| histogram(t))
                        .collect::<Vec<_>>()
                        .boxed()
                } else {
                    Just(vec![]).boxed()
                };
                let samples = if use_histograms {
                    Just(vec![]).boxed()
                } else {
                    timestamps
                        .iter()
                        .map(|&timestamp| {
                            any_f64().prop_map(move |value| Sample { timestamp, value })
                        })
                        .collect::<Vec<_>>()
                        .boxed()
                };
                (samples, histograms).prop_map(move |(samples, histograms)| Series {
                    labels: labels.clone(),
                    samples,
                    histograms,
                    exemplars: exemplars.clone(),
                    created_timestamp,
                })
            },
        )
}

fn kind() -> impl Strategy<Value = MetricKind> {
    prop_oneof![
        Just(MetricKind::Counter),
        Just(MetricKind::Gauge),
        Just(MetricKind::Histogram),
        Just(MetricKind::GaugeHistogram),
        Just(MetricKind::Summary),
        Just(MetricKind::Info),
        Just(MetricKind::StateSet),
    ]
}

/// Metadata for some of the metric names used, in order of first use (what 2.0 can carry).
fn batch(created: bool) -> impl Strategy<Value = WriteBatch> {
    (
        proptest::collection::vec(series(created), 0..4),
        proptest::collection::vec((any::<bool>(), kind(), "\\PC{0,8}", "[a-z]{0,3}"), 4),
    )
        .prop_map(|(series, meta)| {
            let mut metadata: Vec<MetricMetadata> = Vec::new();
            // One decision per metric name, in order of first use, as 2.0 decoding lifts them.
            let mut names: Vec<String> = Vec::new();
            for s in &series {
                let name = s.metric_name().unwrap_or_default().to_owned();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            for (name, (keep, kind, help, unit)) in names.into_iter().zip(meta) {
                if keep {
                    metadata.push(MetricMetadata {
                        metric_family_name: name,
                        kind,
                        help,
                        unit,
                    });
                }
            }
            WriteBatch { series, metadata }
        })
}

proptest! {
    #[test]
    fn v1_round_trip(batch in batch(false)) {
        let body = encode(&batch, Protocol::V1).unwrap();
        let decoded = decode(Some(V1), Some("snappy"), &body, &Limits::default()).unwrap();
        prop_assert_eq!(decoded.protocol, Protocol::V1);
        prop_assert!(same(&decoded.batch, &batch));
    }

    #[test]
    fn v2_round_trip(batch in batch(true)) {
        let body = encode(&batch, Protocol::V2).unwrap();
        let decoded = decode(Some(V2), Some("snappy"), &body, &Limits::default()).unwrap();
        prop_assert_eq!(decoded.protocol, Protocol::V2);
        prop_assert!(same(&decoded.batch, &batch));
        let reencoded = to_v2(&decoded.batch);
        prop_assert_eq!(reencoded.symbols.first().map(String::as_str), Some(""));
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256), v2 in any::<bool>()) {
        let content_type = if v2 { V2 } else { V1 };
        let _ = decode(Some(content_type), None, &body, &Limits::default());
        // The same bytes as a valid snappy frame reach the protobuf decoder.
        let _ = decode(Some(content_type), None, &compress(&body).unwrap(), &Limits::default());
    }
}
