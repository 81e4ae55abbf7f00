//! The plaintext of one WAL record: a batch of entries written and replayed atomically.

use std::sync::Arc;

use crate::enc::{Decoder, Encoder};
use crate::error::{Error, Result};
use crate::model::{
    CounterResetHint, Exemplar, FloatHistogram, Histogram, Label, Labels, MetricMetadata,
    MetricType, Span,
};

/// One entry of a WAL record.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Entry {
    /// New series and their refs.
    Series(Vec<(u64, Labels)>),
    /// Float samples: (series ref, timestamp, value).
    Samples(Vec<(u64, i64, f64)>),
    /// Integer histogram samples.
    Histograms(Vec<(u64, i64, Arc<Histogram>)>),
    /// Float histogram samples.
    FloatHistograms(Vec<(u64, i64, Arc<FloatHistogram>)>),
    /// Exemplars per series ref.
    Exemplars(Vec<(u64, Exemplar)>),
    /// Metadata per metric family name.
    Metadata(Vec<(String, MetricMetadata)>),
    /// Deleted time ranges: (series ref, min time, max time), inclusive.
    Tombstones(Vec<(u64, i64, i64)>),
}

pub(crate) fn put_labels(e: &mut Encoder, l: &Labels) {
    e.uvarint(l.len() as u64);
    for lab in l.iter() {
        e.str(&lab.name);
        e.str(&lab.value);
    }
}

pub(crate) fn get_labels(d: &mut Decoder<'_>) -> Result<Labels> {
    let n = d.len()?;
    let mut v: Vec<Label> = Vec::with_capacity(n);
    for _ in 0..n {
        let name = d.str()?;
        let value = d.str()?;
        if let Some(prev) = v.last()
            && *prev.name >= *name
        {
            return Err(Error::corrupt("labels", "labels not sorted"));
        }
        v.push(Label {
            name: Arc::from(name),
            value: Arc::from(value),
        });
    }
    Ok(Labels::from_sorted(v))
}

fn put_spans(e: &mut Encoder, spans: &[Span]) {
    e.uvarint(spans.len() as u64);
    for s in spans {
        e.varint(i64::from(s.offset));
        e.uvarint(u64::from(s.length));
    }
}

fn get_spans(d: &mut Decoder<'_>) -> Result<Vec<Span>> {
    let n = d.len()?;
    (0..n)
        .map(|_| {
            let offset = i32::try_from(d.varint()?)
                .map_err(|_| Error::corrupt("histogram", "span offset out of range"))?;
            let length = u32::try_from(d.uvarint()?)
                .map_err(|_| Error::corrupt("histogram", "span length out of range"))?;
            Ok(Span { offset, length })
        })
        .collect()
}

fn put_f64s(e: &mut Encoder, v: &[f64]) {
    e.uvarint(v.len() as u64);
    for x in v {
        e.f64(*x);
    }
}

fn get_f64s(d: &mut Decoder<'_>) -> Result<Vec<f64>> {
    let n = d.len()?;
    (0..n).map(|_| d.f64()).collect()
}

fn get_hint(d: &mut Decoder<'_>) -> Result<CounterResetHint> {
    CounterResetHint::from_u8(d.u8()?)
        .ok_or_else(|| Error::corrupt("histogram", "unknown counter reset hint"))
}

fn get_schema(d: &mut Decoder<'_>) -> Result<i32> {
    i32::try_from(d.varint()?).map_err(|_| Error::corrupt("histogram", "schema out of range"))
}

pub(crate) fn put_histogram(e: &mut Encoder, h: &Histogram) {
    e.u8(h.counter_reset_hint.to_u8());
    e.varint(i64::from(h.schema));
    e.f64(h.zero_threshold);
    e.uvarint(h.zero_count);
    e.uvarint(h.count);
    e.f64(h.sum);
    put_spans(e, &h.positive_spans);
    e.uvarint(h.positive_deltas.len() as u64);
    h.positive_deltas.iter().for_each(|x| e.varint(*x));
    put_spans(e, &h.negative_spans);
    e.uvarint(h.negative_deltas.len() as u64);
    h.negative_deltas.iter().for_each(|x| e.varint(*x));
    put_f64s(e, &h.custom_values);
}

pub(crate) fn get_histogram(d: &mut Decoder<'_>) -> Result<Histogram> {
    let counter_reset_hint = get_hint(d)?;
    let schema = get_schema(d)?;
    let zero_threshold = d.f64()?;
    let zero_count = d.uvarint()?;
    let count = d.uvarint()?;
    let sum = d.f64()?;
    let positive_spans = get_spans(d)?;
    let n = d.len()?;
    let positive_deltas = (0..n).map(|_| d.varint()).collect::<Result<_>>()?;
    let negative_spans = get_spans(d)?;
    let n = d.len()?;
    let negative_deltas = (0..n).map(|_| d.varint()).collect::<Result<_>>()?;
    let custom_values = get_f64s(d)?;
    Ok(Histogram {
        counter_reset_hint,
        schema,
        zero_threshold,
        zero_count,
        count,
        sum,
        positive_spans,
        positive_deltas,
        negative_spans,
        negative_deltas,
        custom_values,
    })
}

pub(crate) fn put_float_histogram(e: &mut Encoder, h: &FloatHistogram) {
    e.u8(h.counter_reset_hint.to_u8());
    e.varint(i64::from(h.schema));
    e.f64(h.zero_threshold);
    e.f64(h.zero_count);
    e.f64(h.count);
    e.f64(h.sum);
    put_spans(e, &h.positive_spans);
    put_f64s(e, &h.positive_counts);
    put_spans(e, &h.negative_spans);
    put_f64s(e, &h.negative_counts);
    put_f64s(e, &h.custom_values);
}

pub(crate) fn get_float_histogram(d: &mut Decoder<'_>) -> Result<FloatHistogram> {
    Ok(FloatHistogram {
        counter_reset_hint: get_hint(d)?,
        schema: get_schema(d)?,
        zero_threshold: d.f64()?,
        zero_count: d.f64()?,
        count: d.f64()?,
        sum: d.f64()?,
        positive_spans: get_spans(d)?,
        positive_counts: get_f64s(d)?,
        negative_spans: get_spans(d)?,
        negative_counts: get_f64s(d)?,
        custom_values: get_f64s(d)?,
    })
}

/// Encodes a batch of entries into one record plaintext.
pub(crate) fn encode(entries: &[Entry]) -> Vec<u8> {
    let mut e = Encoder::new();
    for entry in entries {
        match entry {
            Entry::Series(v) => {
                e.u8(1);
                e.uvarint(v.len() as u64);
                for (r, l) in v {
                    e.uvarint(*r);
                    put_labels(&mut e, l);
                }
            }
            Entry::Samples(v) => {
                e.u8(2);
                e.uvarint(v.len() as u64);
                for (r, t, x) in v {
                    e.uvarint(*r);
                    e.varint(*t);
                    e.f64(*x);
                }
            }
            Entry::Histograms(v) => {
                e.u8(3);
                e.uvarint(v.len() as u64);
                for (r, t, h) in v {
                    e.uvarint(*r);
                    e.varint(*t);
                    put_histogram(&mut e, h);
                }
            }
            Entry::FloatHistograms(v) => {
                e.u8(4);
                e.uvarint(v.len() as u64);
                for (r, t, h) in v {
                    e.uvarint(*r);
                    e.varint(*t);
                    put_float_histogram(&mut e, h);
                }
            }
            Entry::Exemplars(v) => {
                e.u8(5);
                e.uvarint(v.len() as u64);
                for (r, x) in v {
                    e.uvarint(*r);
                    e.varint(x.t);
                    e.f64(x.value);
                    put_labels(&mut e, &x.labels);
                }
            }
            Entry::Tombstones(v) => {
                e.u8(7);
                e.uvarint(v.len() as u64);
                for (r, a, b) in v {
                    e.uvarint(*r);
                    e.varint(*a);
                    e.varint(*b);
                }
            }
            Entry::Metadata(v) => {
                e.u8(6);
                e.uvarint(v.len() as u64);
                for (name, m) in v {
                    e.str(name);
                    e.u8(m.metric_type.to_u8());
                    e.str(&m.help);
                    e.str(&m.unit);
                }
            }
        }
    }
    e.buf
}

/// Decodes a record plaintext.
pub(crate) fn decode(buf: &[u8]) -> Result<Vec<Entry>> {
    let mut d = Decoder::new(buf, "wal record");
    let mut out = Vec::new();
    while !d.is_empty() {
        let kind = d.u8()?;
        let n = d.len()?;
        let entry = match kind {
            1 => Entry::Series(
                (0..n)
                    .map(|_| Ok((d.uvarint()?, get_labels(&mut d)?)))
                    .collect::<Result<_>>()?,
            ),
            2 => Entry::Samples(
                (0..n)
                    .map(|_| Ok((d.uvarint()?, d.varint()?, d.f64()?)))
                    .collect::<Result<_>>()?,
            ),
            3 => Entry::Histograms(
                (0..n)
                    .map(|_| Ok((d.uvarint()?, d.varint()?, Arc::new(get_histogram(&mut d)?))))
                    .collect::<Result<_>>()?,
            ),
            4 => Entry::FloatHistograms(
                (0..n)
                    .map(|_| {
                        Ok((
                            d.uvarint()?,
                            d.varint()?,
                            Arc::new(get_float_histogram(&mut d)?),
                        ))
                    })
                    .collect::<Result<_>>()?,
            ),
            5 => Entry::Exemplars(
                (0..n)
                    .map(|_| {
                        let r = d.uvarint()?;
                        let t = d.varint()?;
                        let value = d.f64()?;
                        let labels = get_labels(&mut d)?;
                        Ok((r, Exemplar { labels, value, t }))
                    })
                    .collect::<Result<_>>()?,
            ),
            6 => Entry::Metadata(
                (0..n)
                    .map(|_| {
                        let name = d.str()?.to_owned();
                        let metric_type = MetricType::from_u8(d.u8()?)
                            .ok_or_else(|| Error::corrupt("wal record", "unknown metric type"))?;
                        let help = d.str()?.to_owned();
                        let unit = d.str()?.to_owned();
                        Ok((
                            name,
                            MetricMetadata {
                                metric_type,
                                help,
                                unit,
                            },
                        ))
                    })
                    .collect::<Result<_>>()?,
            ),
            7 => Entry::Tombstones(
                (0..n)
                    .map(|_| Ok((d.uvarint()?, d.varint()?, d.varint()?)))
                    .collect::<Result<_>>()?,
            ),
            k => {
                return Err(Error::corrupt(
                    "wal record",
                    format!("unknown entry kind {k}"),
                ));
            }
        };
        out.push(entry);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::histogram::tests::{arb_float_histogram, arb_histogram};
    use proptest::prelude::*;

    fn debug_eq(a: &[Entry], b: &[Entry]) -> bool {
        // Debug output prints floats exactly enough for bit-identical NaN-free values; NaN
        // payloads are covered by the sample test below.
        format!("{a:?}") == format!("{b:?}")
    }

    proptest! {
        #[test]
        fn entries_round_trip(
            samples in proptest::collection::vec((any::<u64>(), any::<i64>(), any::<u64>()), 0..20),
            hists in proptest::collection::vec(arb_histogram(), 0..3),
            fhists in proptest::collection::vec(arb_float_histogram(), 0..3),
            name in "[a-z_]{1,10}",
        ) {
            let entries = vec![
                Entry::Series(vec![(7, Labels::from_pairs([("__name__", name.as_str()), ("job", "x")]))]),
                Entry::Samples(samples.iter().map(|&(r, t, v)| (r, t, f64::from_bits(v))).collect()),
                Entry::Histograms(hists.into_iter().map(|h| (1, 2, Arc::new(h))).collect()),
                Entry::FloatHistograms(fhists.into_iter().map(|h| (3, 4, Arc::new(h))).collect()),
                Entry::Exemplars(vec![(7, Exemplar { labels: Labels::from_pairs([("trace_id", "abc")]), value: 1.0, t: 5 })]),
                Entry::Metadata(vec![(name.clone(), MetricMetadata { metric_type: MetricType::Counter, help: "h".into(), unit: "s".into() })]),
                Entry::Tombstones(vec![(7, -5, i64::MAX)]),
            ];
            let got = decode(&encode(&entries)).unwrap();
            prop_assert!(debug_eq(&got, &entries));
            if let (Entry::Samples(a), Entry::Samples(b)) = (&got[1], &entries[1]) {
                for (x, y) in a.iter().zip(b) {
                    prop_assert_eq!(x.2.to_bits(), y.2.to_bits());
                }
            }
        }
    }
}
