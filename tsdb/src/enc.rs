//! Varint-based binary encoding shared by WAL records, chunks and block files.
//!
//! Written by hand because the formats are tiny and must stay byte-stable; a general
//! serialization crate would add framing we do not want inside checksummed records.

use crate::error::{Error, Result};

/// Appends primitive values to a byte buffer.
#[derive(Clone, Default)]
pub(crate) struct Encoder {
    pub(crate) buf: Vec<u8>,
}

impl Encoder {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    pub(crate) fn varint(&mut self, v: i64) {
        self.uvarint(((v << 1) ^ (v >> 63)) as u64);
    }

    pub(crate) fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
    }

    pub(crate) fn u64_le(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.uvarint(b.len() as u64);
        self.buf.extend_from_slice(b);
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
}

/// Reads primitive values from a byte slice; every read is bounds checked.
pub(crate) struct Decoder<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, what }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn remaining(&self) -> &'a [u8] {
        self.buf
    }

    fn eof(&self) -> Error {
        Error::corrupt(self.what, "unexpected end of data")
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        let (&b, rest) = self.buf.split_first().ok_or_else(|| self.eof())?;
        self.buf = rest;
        Ok(b)
    }

    pub(crate) fn uvarint(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Error::corrupt(self.what, "varint overflows 64 bits"))
    }

    pub(crate) fn varint(&mut self) -> Result<i64> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.buf.len() < n {
            return Err(self.eof());
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub(crate) fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_bits(u64::from_le_bytes(self.array()?)))
    }

    pub(crate) fn u64_le(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.len()?;
        self.take(n)
    }

    pub(crate) fn str(&mut self) -> Result<&'a str> {
        let b = self.bytes()?;
        std::str::from_utf8(b).map_err(|_| Error::corrupt(self.what, "string is not UTF-8"))
    }

    /// Reads a length and checks it against the remaining input, so corrupt lengths cannot
    /// trigger huge allocations.
    pub(crate) fn len(&mut self) -> Result<usize> {
        let n = self.uvarint()?;
        if n > self.buf.len() as u64 {
            return Err(Error::corrupt(
                self.what,
                format!("length {n} exceeds remaining input"),
            ));
        }
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn primitives_round_trip(a in any::<u64>(), b in any::<i64>(), c in any::<u64>(), s in ".*") {
            let mut e = Encoder::new();
            e.uvarint(a);
            e.varint(b);
            e.f64(f64::from_bits(c));
            e.str(&s);
            let mut d = Decoder::new(&e.buf, "test");
            prop_assert_eq!(d.uvarint().unwrap(), a);
            prop_assert_eq!(d.varint().unwrap(), b);
            prop_assert_eq!(d.f64().unwrap().to_bits(), c);
            prop_assert_eq!(d.str().unwrap(), s.as_str());
            prop_assert!(d.is_empty());
        }
    }
}
