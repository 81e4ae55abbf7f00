//! Native histogram chunk: byte-oriented, one chunk holds either integer or float histograms.
//!
//! Layout: a big-endian `u16` sample count, then one record per sample. A record starts with
//! the timestamp (raw varint for the first sample, then the varint delta of deltas) and a flag
//! byte. When the bucket layout (schema, zero threshold, spans, custom bounds) equals the
//! previous sample's, the layout is omitted and every count is written as the varint
//! difference from the previous sample's count (integer) or the varint XOR with the previous
//! value's bits (float). Otherwise the full layout and plain counts follow. Scrape-to-scrape
//! changes are small, so most counts take one or two bytes.

use std::sync::Arc;

use crate::enc::{Decoder, Encoder};
use crate::error::{Error, Result};
use crate::model::{CounterResetHint, FloatHistogram, Histogram, Span};

const FLAG_SAME_LAYOUT: u8 = 0x80;

/// The part of a histogram that decides the meaning of the bucket arrays.
#[derive(Clone, Debug, PartialEq, Default)]
struct Layout {
    schema: i32,
    zero_threshold: u64,
    positive: Vec<Span>,
    negative: Vec<Span>,
    custom: Vec<u64>,
}

/// The numbers of a histogram in a flat form that both kinds share: integer histograms use
/// absolute counts as `i64` (deltas resolved), float histograms use `f64` bits.
#[derive(Clone, Debug, Default, PartialEq)]
struct Numbers {
    count: u64,
    zero_count: u64,
    sum: u64,
    buckets: Vec<u64>,
}

fn layout_of(schema: i32, zt: f64, pos: &[Span], neg: &[Span], custom: &[f64]) -> Layout {
    Layout {
        schema,
        zero_threshold: zt.to_bits(),
        positive: pos.to_vec(),
        negative: neg.to_vec(),
        custom: custom.iter().map(|c| c.to_bits()).collect(),
    }
}

fn resolve_deltas(deltas: &[i64]) -> impl Iterator<Item = u64> + '_ {
    deltas.iter().scan(0i64, |acc, d| {
        *acc = acc.wrapping_add(*d);
        Some(*acc as u64)
    })
}

fn to_deltas(abs: &[u64]) -> Vec<i64> {
    let mut prev = 0i64;
    abs.iter()
        .map(|&a| {
            let d = (a as i64).wrapping_sub(prev);
            prev = a as i64;
            d
        })
        .collect()
}

/// A histogram value of either kind, as stored in this chunk.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum HistValue {
    Int(Arc<Histogram>),
    Float(Arc<FloatHistogram>),
}

impl HistValue {
    fn split(&self) -> (CounterResetHint, Layout, Numbers, usize) {
        match self {
            HistValue::Int(h) => {
                let layout = layout_of(
                    h.schema,
                    h.zero_threshold,
                    &h.positive_spans,
                    &h.negative_spans,
                    &h.custom_values,
                );
                let mut buckets: Vec<u64> = resolve_deltas(&h.positive_deltas).collect();
                buckets.extend(resolve_deltas(&h.negative_deltas));
                let nums = Numbers {
                    count: h.count,
                    zero_count: h.zero_count,
                    sum: h.sum.to_bits(),
                    buckets,
                };
                (h.counter_reset_hint, layout, nums, h.positive_deltas.len())
            }
            HistValue::Float(h) => {
                let layout = layout_of(
                    h.schema,
                    h.zero_threshold,
                    &h.positive_spans,
                    &h.negative_spans,
                    &h.custom_values,
                );
                let mut buckets: Vec<u64> = h.positive_counts.iter().map(|c| c.to_bits()).collect();
                buckets.extend(h.negative_counts.iter().map(|c| c.to_bits()));
                let nums = Numbers {
                    count: h.count.to_bits(),
                    zero_count: h.zero_count.to_bits(),
                    sum: h.sum.to_bits(),
                    buckets,
                };
                (h.counter_reset_hint, layout, nums, h.positive_counts.len())
            }
        }
    }
}

/// Appends histograms of one kind to a chunk.
#[derive(Clone)]
pub(crate) struct HistAppender {
    float: bool,
    e: Encoder,
    count: u16,
    t: i64,
    delta: i64,
    prev: Option<(Layout, Numbers)>,
}

/// Encodes an integer number as a difference, a float number (its bits) as an XOR.
fn put_num(e: &mut Encoder, float: bool, cur: u64, prev: u64) {
    if float {
        e.uvarint(cur ^ prev);
    } else {
        e.varint((cur as i64).wrapping_sub(prev as i64));
    }
}

fn get_num(d: &mut Decoder<'_>, float: bool, prev: u64) -> Result<u64> {
    if float {
        Ok(d.uvarint()? ^ prev)
    } else {
        Ok((prev as i64).wrapping_add(d.varint()?) as u64)
    }
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
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let offset = i32::try_from(d.varint()?)
            .map_err(|_| Error::corrupt("chunk", "span offset out of range"))?;
        let length = u32::try_from(d.uvarint()?)
            .map_err(|_| Error::corrupt("chunk", "span length out of range"))?;
        v.push(Span { offset, length });
    }
    Ok(v)
}

fn span_buckets(spans: &[Span]) -> usize {
    spans.iter().map(|s| s.length as usize).sum()
}

impl HistAppender {
    pub(crate) fn new(float: bool) -> Self {
        let mut e = Encoder::new();
        e.buf.extend_from_slice(&[0, 0]);
        Self {
            float,
            e,
            count: 0,
            t: 0,
            delta: 0,
            prev: None,
        }
    }

    pub(crate) fn count(&self) -> u16 {
        self.count
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.e.buf
    }

    pub(crate) fn append(&mut self, t: i64, h: &HistValue) {
        let (hint, layout, nums, _) = h.split();
        if self.count == 0 {
            self.e.varint(t);
        } else {
            let delta = t.wrapping_sub(self.t);
            self.e.varint(delta.wrapping_sub(self.delta));
            self.delta = delta;
        }
        self.t = t;
        let same = matches!(&self.prev, Some((l, _)) if *l == layout);
        self.e
            .u8(hint.to_u8() | if same { FLAG_SAME_LAYOUT } else { 0 });
        let float = self.float;
        match (&self.prev, same) {
            (Some((_, p)), true) => {
                put_num(&mut self.e, float, nums.count, p.count);
                put_num(&mut self.e, float, nums.zero_count, p.zero_count);
                self.e.uvarint(nums.sum ^ p.sum);
                for (c, pc) in nums.buckets.iter().zip(&p.buckets) {
                    put_num(&mut self.e, float, *c, *pc);
                }
            }
            _ => {
                self.e.varint(i64::from(layout.schema));
                self.e.u64_le(layout.zero_threshold);
                put_spans(&mut self.e, &layout.positive);
                put_spans(&mut self.e, &layout.negative);
                self.e.uvarint(layout.custom.len() as u64);
                for c in &layout.custom {
                    self.e.u64_le(*c);
                }
                put_num(&mut self.e, float, nums.count, 0);
                put_num(&mut self.e, float, nums.zero_count, 0);
                self.e.uvarint(nums.sum);
                for c in &nums.buckets {
                    put_num(&mut self.e, float, *c, 0);
                }
            }
        }
        self.prev = Some((layout, nums));
        self.count += 1;
        let [hi, lo] = self.count.to_be_bytes();
        self.e.buf[0] = hi;
        self.e.buf[1] = lo;
    }
}

/// Decodes a histogram chunk.
pub(crate) struct HistIter<'a> {
    float: bool,
    d: Decoder<'a>,
    left: u16,
    first: bool,
    t: i64,
    delta: i64,
    prev: Option<(Layout, Numbers)>,
}

impl<'a> HistIter<'a> {
    pub(crate) fn new(data: &'a [u8], float: bool) -> Result<Self> {
        if data.len() < 2 {
            return Err(Error::corrupt(
                "chunk",
                "histogram chunk shorter than its header",
            ));
        }
        Ok(Self {
            float,
            d: Decoder::new(&data[2..], "histogram chunk"),
            left: u16::from_be_bytes([data[0], data[1]]),
            first: true,
            t: 0,
            delta: 0,
            prev: None,
        })
    }

    pub(crate) fn next_sample(&mut self) -> Result<Option<(i64, HistValue)>> {
        if self.left == 0 {
            return Ok(None);
        }
        if self.first {
            self.t = self.d.varint()?;
            self.first = false;
        } else {
            self.delta = self.delta.wrapping_add(self.d.varint()?);
            self.t = self.t.wrapping_add(self.delta);
        }
        let flag = self.d.u8()?;
        let hint = CounterResetHint::from_u8(flag & !FLAG_SAME_LAYOUT)
            .ok_or_else(|| Error::corrupt("chunk", "unknown counter reset hint"))?;
        let float = self.float;
        let (layout, nums) = if flag & FLAG_SAME_LAYOUT != 0 {
            let (layout, p) = self.prev.take().ok_or_else(|| {
                Error::corrupt("chunk", "layout reference without a previous sample")
            })?;
            let count = get_num(&mut self.d, float, p.count)?;
            let zero_count = get_num(&mut self.d, float, p.zero_count)?;
            let sum = self.d.uvarint()? ^ p.sum;
            let mut buckets = Vec::with_capacity(p.buckets.len());
            for pc in &p.buckets {
                buckets.push(get_num(&mut self.d, float, *pc)?);
            }
            (
                layout,
                Numbers {
                    count,
                    zero_count,
                    sum,
                    buckets,
                },
            )
        } else {
            let schema = i32::try_from(self.d.varint()?)
                .map_err(|_| Error::corrupt("chunk", "schema out of range"))?;
            let zero_threshold = self.d.u64_le()?;
            let positive = get_spans(&mut self.d)?;
            let negative = get_spans(&mut self.d)?;
            let nc = self.d.len()?;
            let mut custom = Vec::with_capacity(nc);
            for _ in 0..nc {
                custom.push(self.d.u64_le()?);
            }
            let count = get_num(&mut self.d, float, 0)?;
            let zero_count = get_num(&mut self.d, float, 0)?;
            let sum = self.d.uvarint()?;
            let nb = span_buckets(&positive) + span_buckets(&negative);
            if nb > self.d.remaining().len() {
                return Err(Error::corrupt("chunk", "bucket count exceeds chunk size"));
            }
            let mut buckets = Vec::with_capacity(nb);
            for _ in 0..nb {
                buckets.push(get_num(&mut self.d, float, 0)?);
            }
            (
                Layout {
                    schema,
                    zero_threshold,
                    positive,
                    negative,
                    custom,
                },
                Numbers {
                    count,
                    zero_count,
                    sum,
                    buckets,
                },
            )
        };
        let npos = span_buckets(&layout.positive).min(nums.buckets.len());
        let value = if float {
            let f = |v: &[u64]| v.iter().map(|b| f64::from_bits(*b)).collect::<Vec<_>>();
            HistValue::Float(Arc::new(FloatHistogram {
                counter_reset_hint: hint,
                schema: layout.schema,
                zero_threshold: f64::from_bits(layout.zero_threshold),
                zero_count: f64::from_bits(nums.zero_count),
                count: f64::from_bits(nums.count),
                sum: f64::from_bits(nums.sum),
                positive_spans: layout.positive.clone(),
                positive_counts: f(&nums.buckets[..npos]),
                negative_spans: layout.negative.clone(),
                negative_counts: f(&nums.buckets[npos..]),
                custom_values: layout.custom.iter().map(|c| f64::from_bits(*c)).collect(),
            }))
        } else {
            HistValue::Int(Arc::new(Histogram {
                counter_reset_hint: hint,
                schema: layout.schema,
                zero_threshold: f64::from_bits(layout.zero_threshold),
                zero_count: nums.zero_count,
                count: nums.count,
                sum: f64::from_bits(nums.sum),
                positive_spans: layout.positive.clone(),
                positive_deltas: to_deltas(&nums.buckets[..npos]),
                negative_spans: layout.negative.clone(),
                negative_deltas: to_deltas(&nums.buckets[npos..]),
                custom_values: layout.custom.iter().map(|c| f64::from_bits(*c)).collect(),
            }))
        };
        self.prev = Some((layout, nums));
        self.left -= 1;
        Ok(Some((self.t, value)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn arb_spans() -> impl Strategy<Value = Vec<Span>> {
        proptest::collection::vec((-3i32..5, 0u32..4), 0..4).prop_map(|v| {
            v.into_iter()
                .map(|(offset, length)| Span { offset, length })
                .collect()
        })
    }

    fn arb_hint() -> impl Strategy<Value = CounterResetHint> {
        (0u8..4).prop_map(|b| CounterResetHint::from_u8(b).unwrap_or_default())
    }

    pub(crate) fn arb_histogram() -> impl Strategy<Value = Histogram> {
        (
            arb_hint(),
            -4i32..9,
            arb_spans(),
            arb_spans(),
            any::<u64>(),
            any::<u64>(),
            any::<f64>(),
        )
            .prop_flat_map(|(hint, schema, pos, neg, count, zc, sum)| {
                let np = span_buckets(&pos);
                let nn = span_buckets(&neg);
                (
                    proptest::collection::vec(-1000i64..1000, np),
                    proptest::collection::vec(-1000i64..1000, nn),
                )
                    .prop_map(move |(pd, nd)| Histogram {
                        counter_reset_hint: hint,
                        schema,
                        zero_threshold: 1e-128,
                        zero_count: zc,
                        count,
                        sum,
                        positive_spans: pos.clone(),
                        positive_deltas: pd,
                        negative_spans: neg.clone(),
                        negative_deltas: nd,
                        custom_values: vec![],
                    })
            })
    }

    pub(crate) fn arb_float_histogram() -> impl Strategy<Value = FloatHistogram> {
        (
            arb_hint(),
            arb_spans(),
            any::<f64>(),
            any::<f64>(),
            any::<f64>(),
        )
            .prop_flat_map(|(hint, pos, count, zc, sum)| {
                let np = span_buckets(&pos);
                proptest::collection::vec(any::<f64>(), np).prop_map(move |pc| FloatHistogram {
                    counter_reset_hint: hint,
                    schema: -53,
                    zero_threshold: 0.0,
                    zero_count: zc,
                    count,
                    sum,
                    positive_spans: pos.clone(),
                    positive_counts: pc,
                    negative_spans: vec![],
                    negative_counts: vec![],
                    custom_values: vec![0.5, 1.0, 2.5],
                })
            })
    }

    /// Compares float fields by bits so NaNs round-trip exactly.
    fn bits_eq(a: &HistValue, b: &HistValue) -> bool {
        format!("{a:?}") == format!("{b:?}")
            && match (a, b) {
                (HistValue::Int(x), HistValue::Int(y)) => x.sum.to_bits() == y.sum.to_bits(),
                (HistValue::Float(x), HistValue::Float(y)) => {
                    x.sum.to_bits() == y.sum.to_bits() && x.count.to_bits() == y.count.to_bits()
                }
                _ => false,
            }
    }

    fn round_trip(float: bool, items: &[(i64, HistValue)]) {
        let mut a = HistAppender::new(float);
        for (t, h) in items {
            a.append(*t, h);
        }
        let mut it = HistIter::new(a.bytes(), float).unwrap();
        for (t, h) in items {
            let (gt, gh) = it.next_sample().unwrap().unwrap();
            assert_eq!(gt, *t);
            assert!(bits_eq(&gh, h), "{gh:?} != {h:?}");
        }
        assert!(it.next_sample().unwrap().is_none());
    }

    proptest! {
        #[test]
        fn integer_histograms_round_trip(
            hs in proptest::collection::vec(arb_histogram(), 1..20),
            repeat in 1usize..4,
        ) {
            // Repeating each histogram exercises the same-layout path.
            let items: Vec<(i64, HistValue)> = hs.into_iter()
                .flat_map(|h| std::iter::repeat_n(h, repeat))
                .enumerate()
                .map(|(i, h)| (i as i64 * 15_000 + (i as i64 % 3), HistValue::Int(Arc::new(h))))
                .collect();
            round_trip(false, &items);
        }

        #[test]
        fn float_histograms_round_trip(hs in proptest::collection::vec(arb_float_histogram(), 1..20)) {
            let items: Vec<(i64, HistValue)> = hs.into_iter().enumerate()
                .map(|(i, h)| (i as i64 * 1000, HistValue::Float(Arc::new(h)))).collect();
            round_trip(true, &items);
        }
    }
}
