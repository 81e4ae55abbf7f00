//! Compressed chunks of samples: one encoding for floats, one for native histograms.

mod bits;
pub(crate) mod histogram;
mod xor;

use std::sync::Arc;

use self::histogram::{HistAppender, HistIter, HistValue};
use self::xor::{XorAppender, XorIter};
use crate::error::{Error, Result};
use crate::model::{Value, ValueKind};

/// How a chunk's bytes are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    Xor = 1,
    Histogram = 2,
    FloatHistogram = 3,
}

impl Encoding {
    pub(crate) fn from_u8(b: u8) -> Result<Self> {
        Ok(match b {
            1 => Self::Xor,
            2 => Self::Histogram,
            3 => Self::FloatHistogram,
            _ => return Err(Error::corrupt("chunk", format!("unknown encoding {b}"))),
        })
    }

    pub(crate) fn for_kind(kind: ValueKind) -> Self {
        match kind {
            ValueKind::Float => Self::Xor,
            ValueKind::Histogram => Self::Histogram,
            ValueKind::FloatHistogram => Self::FloatHistogram,
        }
    }
}

/// An immutable encoded chunk with its time range.
#[derive(Clone, Debug)]
pub(crate) struct Chunk {
    pub(crate) encoding: Encoding,
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    pub(crate) data: Arc<[u8]>,
}

impl Chunk {
    pub(crate) fn num_samples(&self) -> usize {
        match self.data.get(..2) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => 0,
        }
    }

    pub(crate) fn iter(&self) -> Result<ChunkIter> {
        ChunkIter::new(self.encoding, self.data.clone())
    }
}

/// Appends samples of one kind to a chunk under construction.
#[derive(Clone)]
pub(crate) enum ChunkAppender {
    Xor(XorAppender),
    Hist(HistAppender),
}

impl ChunkAppender {
    pub(crate) fn new(encoding: Encoding) -> Self {
        match encoding {
            Encoding::Xor => Self::Xor(XorAppender::new()),
            Encoding::Histogram => Self::Hist(HistAppender::new(false)),
            Encoding::FloatHistogram => Self::Hist(HistAppender::new(true)),
        }
    }

    pub(crate) fn count(&self) -> u16 {
        match self {
            Self::Xor(a) => a.count(),
            Self::Hist(a) => a.count(),
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Self::Xor(a) => a.bytes(),
            Self::Hist(a) => a.bytes(),
        }
    }

    /// Appends a sample whose kind matches the chunk's encoding; callers check the kind first.
    pub(crate) fn append(&mut self, t: i64, v: &Value) {
        match (self, v) {
            (Self::Xor(a), Value::Float(f)) => a.append(t, *f),
            (Self::Hist(a), Value::Histogram(h)) => a.append(t, &HistValue::Int(h.clone())),
            (Self::Hist(a), Value::FloatHistogram(h)) => a.append(t, &HistValue::Float(h.clone())),
            _ => {}
        }
    }
}

/// Iterates the samples of a chunk, owning its bytes.
pub(crate) struct ChunkIter {
    // A chunk holds at most a few hundred samples, so decoding it whole keeps the iterator free
    // of self-references (the decoders borrow the bytes) at a small memory cost.
    samples: std::vec::IntoIter<(i64, Value)>,
}

impl ChunkIter {
    fn new(encoding: Encoding, data: Arc<[u8]>) -> Result<Self> {
        let mut out = Vec::new();
        match encoding {
            Encoding::Xor => {
                let mut it = XorIter::new(&data)?;
                while let Some((t, v)) = it.next_sample()? {
                    out.push((t, Value::Float(v)));
                }
            }
            Encoding::Histogram | Encoding::FloatHistogram => {
                let mut it = HistIter::new(&data, encoding == Encoding::FloatHistogram)?;
                while let Some((t, h)) = it.next_sample()? {
                    out.push((
                        t,
                        match h {
                            HistValue::Int(h) => Value::Histogram(h),
                            HistValue::Float(h) => Value::FloatHistogram(h),
                        },
                    ));
                }
            }
        }
        Ok(Self {
            samples: out.into_iter(),
        })
    }
}

impl Iterator for ChunkIter {
    type Item = (i64, Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.samples.next()
    }
}

/// Samples per chunk, as in Prometheus: small enough to decode cheaply, large enough to
/// compress well.
pub(crate) const CHUNK_SAMPLES: u16 = 120;

/// Encodes time-ordered samples into chunks of at most [`CHUNK_SAMPLES`], starting a new chunk
/// whenever the value kind changes.
pub(crate) fn encode_samples(samples: &[(i64, Value)]) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut cur: Option<(Encoding, ChunkAppender, i64, i64)> = None;
    for (t, v) in samples {
        let enc = Encoding::for_kind(v.kind());
        let full = match &cur {
            Some((e, a, _, _)) => *e != enc || a.count() >= CHUNK_SAMPLES,
            None => true,
        };
        if full {
            if let Some((encoding, a, min_t, max_t)) = cur.take() {
                out.push(Chunk {
                    encoding,
                    min_t,
                    max_t,
                    data: Arc::from(a.bytes()),
                });
            }
            cur = Some((enc, ChunkAppender::new(enc), *t, *t));
        }
        if let Some((_, a, _, max_t)) = &mut cur {
            a.append(*t, v);
            *max_t = *t;
        }
    }
    if let Some((encoding, a, min_t, max_t)) = cur {
        out.push(Chunk {
            encoding,
            min_t,
            max_t,
            data: Arc::from(a.bytes()),
        });
    }
    out
}

/// Merges chunk lists of one series into sorted, non-overlapping chunks. Chunks that do not
/// overlap are kept as they are; overlapping ones are decoded, merged (the first source wins
/// on equal timestamps) and re-encoded, together with `loose` samples.
pub(crate) fn merge_chunks(lists: Vec<Vec<Chunk>>, loose: Vec<(i64, Value)>) -> Result<Vec<Chunk>> {
    let mut all: Vec<Chunk> = lists.into_iter().flatten().collect();
    all.sort_by_key(|c| c.min_t);
    let disjoint = all.windows(2).all(|w| w[0].max_t < w[1].min_t);
    if disjoint && loose.is_empty() {
        return Ok(all);
    }
    let mut samples: Vec<(i64, Value)> = Vec::new();
    for c in &all {
        samples.extend(c.iter()?);
    }
    samples.extend(loose);
    // Stable sort keeps the first source first among equal timestamps.
    samples.sort_by_key(|(t, _)| *t);
    samples.dedup_by_key(|(t, _)| *t);
    Ok(encode_samples(&samples))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_dedups_and_splits_by_kind() {
        let a = encode_samples(&[(1, Value::Float(1.0)), (3, Value::Float(3.0))]);
        let b = encode_samples(&[(2, Value::Float(2.0)), (3, Value::Float(9.0))]);
        let merged = merge_chunks(vec![a, b], vec![(4, Value::Float(4.0))]).unwrap();
        let got: Vec<(i64, Value)> = merged.iter().flat_map(|c| c.iter().unwrap()).collect();
        let want: Vec<(i64, Value)> = (1..=4).map(|i| (i, Value::Float(i as f64))).collect();
        assert_eq!(got, want);
        let h = Value::Histogram(Arc::new(crate::model::Histogram::default()));
        let mixed = encode_samples(&[(1, Value::Float(1.0)), (2, h), (3, Value::Float(1.0))]);
        assert_eq!(mixed.len(), 3);
        assert_eq!(mixed[1].encoding, Encoding::Histogram);
    }
}
