//! The sealing hook: every WAL record payload and every block file section passes through a
//! [`Sealer`], which the key management layer implements with authenticated encryption.

use std::fmt;

use crate::error::SealError;

/// Seals and opens byte strings bound to associated data.
///
/// `open` must return [`SealError::Integrity`] for anything it did not seal with the same
/// `aad`; the engine relies on it to never hand out wrong data.
pub trait Sealer: fmt::Debug + Send + Sync + 'static {
    /// Seals `plaintext`, binding it to `aad` (which is not stored in the output); fails with
    /// [`SealError::KeyUnavailable`] when the key has been revoked.
    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError>;
    /// Opens what [`Sealer::seal`] produced with the same `aad`.
    fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError>;
}

/// Stores plaintext as is; for tests and unencrypted deployments.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdentitySealer;

impl Sealer for IdentitySealer {
    fn seal(&self, _aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        Ok(plaintext.to_vec())
    }

    fn open(&self, _aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        Ok(sealed.to_vec())
    }
}

/// A test sealer that XORs with a key byte and appends a checksum of key, aad and plaintext,
/// so tests can see that aad binding and integrity failures surface as errors.
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct TestSealer(pub(crate) u8);

#[cfg(test)]
impl TestSealer {
    fn tag(&self, aad: &[u8], plain: &[u8]) -> u32 {
        let c = crc32c::crc32c(&[self.0]);
        let c = crc32c::crc32c_append(c, aad);
        crc32c::crc32c_append(c, plain)
    }
}

#[cfg(test)]
impl Sealer for TestSealer {
    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut out: Vec<u8> = plaintext.iter().map(|b| b ^ self.0).collect();
        out.extend_from_slice(&self.tag(aad, plaintext).to_le_bytes());
        Ok(out)
    }

    fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let split = sealed.len().checked_sub(4).ok_or(SealError::Integrity)?;
        let (body, tag) = sealed.split_at(split);
        let plain: Vec<u8> = body.iter().map(|b| b ^ self.0).collect();
        if tag != self.tag(aad, &plain).to_le_bytes() {
            return Err(SealError::Integrity);
        }
        Ok(plain)
    }
}
