//! Bit-level writer and reader for the Gorilla-style float chunk.

use crate::error::{Error, Result};

/// Appends bits most-significant first.
#[derive(Clone, Default)]
pub(crate) struct BitWriter {
    pub(crate) bytes: Vec<u8>,
    /// Bits still free in the last byte (0 means a new byte is needed).
    free: u8,
}

impl BitWriter {
    pub(crate) fn with_prefix(prefix: &[u8]) -> Self {
        Self {
            bytes: prefix.to_vec(),
            free: 0,
        }
    }

    pub(crate) fn bit(&mut self, b: bool) {
        if self.free == 0 {
            self.bytes.push(0);
            self.free = 8;
        }
        self.free -= 1;
        if b && let Some(last) = self.bytes.last_mut() {
            *last |= 1 << self.free;
        }
    }

    /// Writes the low `n` bits of `v` (n <= 64).
    pub(crate) fn bits(&mut self, v: u64, n: u8) {
        let mut n = n;
        while n > 0 {
            if self.free == 0 {
                self.bytes.push(0);
                self.free = 8;
            }
            let take = n.min(self.free);
            let chunk = ((v >> (n - take)) & ((1u64 << take) - 1)) as u8;
            self.free -= take;
            if let Some(last) = self.bytes.last_mut() {
                *last |= chunk << self.free;
            }
            n -= take;
        }
    }
}

/// Reads bits most-significant first.
pub(crate) struct BitReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    pub(crate) fn bit(&mut self) -> Result<bool> {
        Ok(self.bits(1)? == 1)
    }

    pub(crate) fn bits(&mut self, n: u8) -> Result<u64> {
        let n = usize::from(n);
        if self.pos + n > self.bytes.len() * 8 {
            return Err(Error::corrupt("chunk", "bit stream ends early"));
        }
        let mut v = 0u64;
        let mut left = n;
        while left > 0 {
            let byte = self.bytes[self.pos / 8];
            let offset = self.pos % 8;
            let avail = 8 - offset;
            let take = left.min(avail);
            let chunk = (byte >> (avail - take)) & (((1u16 << take) - 1) as u8);
            v = (v << take) | u64::from(chunk);
            self.pos += take;
            left -= take;
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn bits_round_trip(items in proptest::collection::vec((any::<u64>(), 1u8..=64), 0..50)) {
            let mut w = BitWriter::default();
            for &(v, n) in &items {
                w.bits(v, n);
            }
            let mut r = BitReader::new(&w.bytes);
            for &(v, n) in &items {
                let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
                prop_assert_eq!(r.bits(n).unwrap(), v & mask);
            }
        }
    }
}
