//! AES-256-GCM with random nonces, the one primitive every layer of the key hierarchy uses.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, Zeroizing};

/// Length of an AES-256-GCM nonce.
pub(crate) const NONCE_LEN: usize = 12;
/// Length of an AES-256-GCM tag.
pub(crate) const TAG_LEN: usize = 16;
/// Length of an AES-256 key.
pub(crate) const KEY_LEN: usize = 32;

/// The operating system's random source failed or a key could not be built.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("cryptographic primitive failed")]
pub(crate) struct CryptoFailure;

/// Authentication failed: wrong key, wrong AAD or tampered bytes.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("authentication failed")]
pub(crate) struct OpenFailure;

/// Fills `N` bytes from the system CSPRNG.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], CryptoFailure> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| CryptoFailure)?;
    Ok(out)
}

/// Fills `len` bytes from the system CSPRNG into a buffer that is wiped on drop.
pub(crate) fn random_vec(len: usize) -> Result<Zeroizing<Vec<u8>>, CryptoFailure> {
    let mut out = Zeroizing::new(vec![0u8; len]);
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| CryptoFailure)?;
    Ok(out)
}

// ring's expanded key schedule is not wiped on drop, so it is built per call from the zeroized
// raw key instead of being kept alive next to it; the expansion costs well under a microsecond.
fn cipher(key: &[u8; KEY_LEN]) -> Result<LessSafeKey, CryptoFailure> {
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| CryptoFailure)
}

/// Appends `ciphertext || tag` of `plaintext` to `out` under a fresh random nonce, returned.
pub(crate) fn seal_append(
    key: &[u8; KEY_LEN],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<[u8; NONCE_LEN], CryptoFailure> {
    let nonce = random::<NONCE_LEN>()?;
    let cipher = cipher(key)?;
    let start = out.len();
    out.extend_from_slice(plaintext);
    match cipher.seal_in_place_separate_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut out[start..],
    ) {
        Ok(tag) => out.extend_from_slice(tag.as_ref()),
        Err(_) => {
            // Only an oversized input fails here; don't leave the plaintext behind in `out`.
            out[start..].zeroize();
            out.truncate(start);
            return Err(CryptoFailure);
        }
    }
    Ok(nonce)
}

/// Verifies and decrypts `ciphertext || tag`; never returns unauthenticated bytes.
pub(crate) fn open(
    key: &[u8; KEY_LEN],
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, OpenFailure> {
    let mut buf = Zeroizing::new(sealed.to_vec());
    let cipher = cipher(key).map_err(|_| OpenFailure)?;
    let len = cipher
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut buf,
        )
        .map_err(|_| OpenFailure)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open() {
        let key = [7u8; KEY_LEN];
        let mut out = b"header".to_vec();
        let nonce = seal_append(&key, b"aad", b"hello", &mut out).unwrap();
        assert_eq!(&out[..6], b"header");
        assert_eq!(out.len(), 6 + 5 + TAG_LEN);
        assert_eq!(&*open(&key, nonce, b"aad", &out[6..]).unwrap(), b"hello");
        assert!(open(&key, nonce, b"other", &out[6..]).is_err());
        assert!(open(&[8u8; KEY_LEN], nonce, b"aad", &out[6..]).is_err());
    }
}
