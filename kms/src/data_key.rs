//! Workspace data keys: the keys that seal WAL segments, chunks, blocks and rule files.

use std::fmt;

use zeroize::Zeroizing;

use crate::crypto::{self, KEY_LEN, NONCE_LEN, TAG_LEN};

const SEALED_V1: u8 = 1;
const AAD_LABEL: &[u8] = b"ampd-kms/sealed/v1\0";

/// Sealing or opening with a [`DataKey`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The sealed bytes are malformed, were tampered with, or the AAD or key differ.
    #[error("sealed data failed its integrity check")]
    Integrity,
    /// The system random source failed while drawing a nonce.
    #[error("the system random source failed")]
    Random,
}

/// A plaintext 256-bit data key, unwrapped by [`crate::KmsService::unwrap_data_key`].
///
/// Sealed format: version byte `1`, 12-byte random nonce, AES-256-GCM ciphertext and tag; the
/// version byte and the caller's AAD are authenticated. Random nonces keep one key safe for
/// about 2^32 seals, far beyond what one workspace data key is used for before it is replaced.
pub struct DataKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

impl DataKey {
    /// Wraps 32 plaintext key bytes.
    pub(crate) fn from_bytes(bytes: Zeroizing<[u8; KEY_LEN]>) -> Self {
        Self { bytes }
    }

    /// Seals `plaintext`, binding `aad` (e.g. the segment path) so it opens only with the same AAD.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + TAG_LEN);
        out.push(SEALED_V1);
        out.extend_from_slice(&[0u8; NONCE_LEN]);
        let nonce = crypto::seal_append(&self.bytes, &full_aad(aad), plaintext, &mut out)
            .map_err(|_| SealError::Random)?;
        out[1..1 + NONCE_LEN].copy_from_slice(&nonce);
        Ok(out)
    }

    /// Opens bytes made by [`DataKey::seal`] with the same `aad`; never returns unauthenticated data.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let Some((&SEALED_V1, rest)) = sealed.split_first() else {
            return Err(SealError::Integrity);
        };
        let (nonce, body) = rest
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(SealError::Integrity)?;
        let mut plaintext = crypto::open(&self.bytes, *nonce, &full_aad(aad), body)
            .map_err(|_| SealError::Integrity)?;
        // Workspace data is not key material: hand the buffer over instead of copying it.
        Ok(std::mem::take(&mut *plaintext))
    }
}

fn full_aad(aad: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(AAD_LABEL.len() + 1 + aad.len());
    out.extend_from_slice(AAD_LABEL);
    out.push(SEALED_V1);
    out.extend_from_slice(aad);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> DataKey {
        DataKey::from_bytes(Zeroizing::new([byte; KEY_LEN]))
    }

    #[test]
    fn seal_open_round_trip() {
        let k = key(1);
        for len in [0, 1, 4096] {
            let data = vec![0x5au8; len];
            let sealed = k.seal(b"seg-1", &data).unwrap();
            assert_eq!(sealed.len(), 1 + NONCE_LEN + len + TAG_LEN);
            assert_eq!(k.open(b"seg-1", &sealed).unwrap(), data);
        }
    }

    #[test]
    fn nonces_differ() {
        let k = key(1);
        assert_ne!(k.seal(b"", b"same").unwrap(), k.seal(b"", b"same").unwrap());
    }

    #[test]
    fn wrong_aad_key_or_any_flipped_byte_fails() {
        let k = key(1);
        let sealed = k.seal(b"seg-1", b"samples").unwrap();
        assert_eq!(k.open(b"seg-2", &sealed), Err(SealError::Integrity));
        assert_eq!(key(2).open(b"seg-1", &sealed), Err(SealError::Integrity));
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                k.open(b"seg-1", &bad),
                Err(SealError::Integrity),
                "byte {i}"
            );
        }
        assert_eq!(
            k.open(b"seg-1", &sealed[..sealed.len() - 1]),
            Err(SealError::Integrity)
        );
        assert_eq!(k.open(b"seg-1", &[]), Err(SealError::Integrity));
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", key(9)), "DataKey(<redacted>)");
    }
}
