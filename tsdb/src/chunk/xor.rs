//! Float chunk: delta-of-delta timestamps and XOR-compressed values (the Gorilla scheme).
//!
//! Layout: a big-endian `u16` sample count, then a bit stream. The first timestamp and value
//! are stored raw (64 bits each); later timestamps store the delta of deltas in one of five
//! buckets, later values the XOR with the previous value, reusing the previous window of
//! meaningful bits when the new XOR fits inside it.

use super::bits::{BitReader, BitWriter};
use crate::error::{Error, Result};

/// Delta-of-delta buckets: (prefix bits, prefix length, payload bits). The 7-bit bucket
/// holds the few-millisecond jitter of real scrapes (16 bits with a 14-bit first bucket); the
/// 14-bit one covers irregular intervals up to ±8 s.
const DOD_BUCKETS: [(u64, u8, u8); 3] = [(0b10, 2, 7), (0b110, 3, 14), (0b1110, 4, 20)];

/// Appends float samples to a chunk.
#[derive(Clone)]
pub(crate) struct XorAppender {
    w: BitWriter,
    count: u16,
    t: i64,
    delta: i64,
    v: u64,
    leading: u8,
    trailing: u8,
}

impl XorAppender {
    pub(crate) fn new() -> Self {
        Self {
            w: BitWriter::with_prefix(&[0, 0]),
            count: 0,
            t: 0,
            delta: 0,
            v: 0,
            leading: 0xff,
            trailing: 0,
        }
    }

    pub(crate) fn count(&self) -> u16 {
        self.count
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.w.bytes
    }

    pub(crate) fn append(&mut self, t: i64, v: f64) {
        let bits = v.to_bits();
        if self.count == 0 {
            self.w.bits(t as u64, 64);
            self.w.bits(bits, 64);
        } else {
            let delta = t.wrapping_sub(self.t);
            self.write_dod(delta.wrapping_sub(self.delta));
            self.write_xor(bits);
            self.delta = delta;
        }
        self.t = t;
        self.v = bits;
        self.count += 1;
        let [hi, lo] = self.count.to_be_bytes();
        self.w.bytes[0] = hi;
        self.w.bytes[1] = lo;
    }

    fn write_dod(&mut self, dod: i64) {
        if dod == 0 {
            self.w.bit(false);
            return;
        }
        for (prefix, plen, nbits) in DOD_BUCKETS {
            let half = 1i64 << (nbits - 1);
            if (-half..half).contains(&dod) {
                self.w.bits(prefix, plen);
                self.w.bits(dod as u64, nbits);
                return;
            }
        }
        self.w.bits(0b1111, 4);
        self.w.bits(dod as u64, 64);
    }

    fn write_xor(&mut self, bits: u64) {
        let x = bits ^ self.v;
        if x == 0 {
            self.w.bit(false);
            return;
        }
        self.w.bit(true);
        let leading = (x.leading_zeros() as u8).min(31);
        let trailing = x.trailing_zeros() as u8;
        if self.leading != 0xff && leading >= self.leading && trailing >= self.trailing {
            self.w.bit(false);
            self.w
                .bits(x >> self.trailing, 64 - self.leading - self.trailing);
        } else {
            let sig = 64 - leading - trailing;
            self.w.bit(true);
            self.w.bits(u64::from(leading), 5);
            // 64 significant bits do not fit in 6 bits; 0 stands for 64 (0 is never needed).
            self.w.bits(u64::from(sig & 63), 6);
            self.w.bits(x >> trailing, sig);
            self.leading = leading;
            self.trailing = trailing;
        }
    }
}

/// Decodes a float chunk.
pub(crate) struct XorIter<'a> {
    r: BitReader<'a>,
    left: u16,
    read: u16,
    t: i64,
    delta: i64,
    v: u64,
    leading: u8,
    trailing: u8,
}

impl<'a> XorIter<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Result<Self> {
        if data.len() < 2 {
            return Err(Error::corrupt(
                "chunk",
                "float chunk shorter than its header",
            ));
        }
        Ok(Self {
            r: BitReader::new(&data[2..]),
            left: u16::from_be_bytes([data[0], data[1]]),
            read: 0,
            t: 0,
            delta: 0,
            v: 0,
            leading: 0,
            trailing: 0,
        })
    }

    pub(crate) fn next_sample(&mut self) -> Result<Option<(i64, f64)>> {
        if self.left == 0 {
            return Ok(None);
        }
        if self.read == 0 {
            self.t = self.r.bits(64)? as i64;
            self.v = self.r.bits(64)?;
        } else {
            let dod = self.read_dod()?;
            self.delta = self.delta.wrapping_add(dod);
            self.t = self.t.wrapping_add(self.delta);
            self.read_xor()?;
        }
        self.read += 1;
        self.left -= 1;
        Ok(Some((self.t, f64::from_bits(self.v))))
    }

    fn read_dod(&mut self) -> Result<i64> {
        let mut ones = 0;
        while ones < 4 && self.r.bit()? {
            ones += 1;
        }
        let nbits = match ones {
            0 => return Ok(0),
            1..=3 => DOD_BUCKETS[ones - 1].2,
            _ => 64,
        };
        let raw = self.r.bits(nbits)?;
        if nbits == 64 {
            return Ok(raw as i64);
        }
        // Sign-extend the payload.
        let shift = 64 - nbits;
        Ok(((raw << shift) as i64) >> shift)
    }

    fn read_xor(&mut self) -> Result<()> {
        if !self.r.bit()? {
            return Ok(());
        }
        if self.r.bit()? {
            self.leading = self.r.bits(5)? as u8;
            let mut sig = self.r.bits(6)? as u8;
            if sig == 0 {
                sig = 64;
            }
            self.trailing = 64u8
                .checked_sub(self.leading + sig)
                .ok_or_else(|| Error::corrupt("chunk", "invalid XOR window"))?;
        }
        let sig = 64 - self.leading - self.trailing;
        let x = self.r.bits(sig)?;
        self.v ^= if self.trailing >= 64 {
            0
        } else {
            x << self.trailing
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::STALE_NAN_BITS;
    use proptest::prelude::*;

    fn round_trip(samples: &[(i64, u64)]) -> Vec<(i64, u64)> {
        let mut a = XorAppender::new();
        for &(t, v) in samples {
            a.append(t, f64::from_bits(v));
        }
        let mut it = XorIter::new(a.bytes()).unwrap();
        let mut out = Vec::new();
        while let Some((t, v)) = it.next_sample().unwrap() {
            out.push((t, v.to_bits()));
        }
        out
    }

    #[test]
    fn stale_marker_survives_bit_exactly() {
        let s = [
            (1000, 1.5f64.to_bits()),
            (2000, STALE_NAN_BITS),
            (3000, f64::NAN.to_bits()),
        ];
        assert_eq!(round_trip(&s), s);
    }

    #[test]
    fn regular_scrapes_are_small() {
        let s: Vec<(i64, u64)> = (0..120)
            .map(|i| (i * 15_000, (i as f64).to_bits()))
            .collect();
        let mut a = XorAppender::new();
        for &(t, v) in &s {
            a.append(t, f64::from_bits(v));
        }
        assert!(a.bytes().len() < 120 * 3, "{} bytes", a.bytes().len());
        assert_eq!(round_trip(&s), s);
    }

    proptest! {
        #[test]
        fn arbitrary_samples_round_trip(
            start in any::<i64>(),
            steps in proptest::collection::vec((any::<i64>(), any::<u64>()), 0..200),
        ) {
            let mut t = start;
            let mut s = Vec::new();
            for (d, v) in steps {
                t = t.wrapping_add(d >> 20);
                s.push((t, v));
            }
            prop_assert_eq!(round_trip(&s), s);
        }

        #[test]
        fn jittery_gauges_round_trip(
            vals in proptest::collection::vec(-1e6f64..1e6, 1..200),
            jitter in proptest::collection::vec(-500i64..500, 200),
        ) {
            let s: Vec<(i64, u64)> = vals.iter().enumerate()
                .map(|(i, v)| (i as i64 * 15_000 + jitter[i], v.to_bits())).collect();
            prop_assert_eq!(round_trip(&s), s);
        }
    }
}
