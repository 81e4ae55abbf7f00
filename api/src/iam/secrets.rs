//! Sealing of secret access keys before they reach the metadata store.
//!
//! The sealing key is derived by `kms` (HKDF-SHA256, purpose label below) from the root key file
//! it creates and guards (`root.key`, mode 0600), so IAM secrets and KMS key material are
//! protected by the same root but never by the same AES key.

use std::fmt;
use std::path::Path;

use ampd_iam::SecretKey;
use ampd_kms::RootKey;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

/// Name of the root key file in the data folder.
pub const ROOT_KEY_FILE: &str = "root.key";
const PURPOSE: &[u8] = b"ampd/iam/secret-access-keys/v1";

/// Why secrets cannot be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SealerError {
    /// The root key could not be loaded or created.
    #[error(transparent)]
    RootKey(#[from] ampd_kms::RootKeyError),
    /// A cryptographic primitive failed, or sealed bytes were tampered with or belong to
    /// another root key.
    #[error("sealed secret failed its integrity check")]
    Crypto,
}

/// Seals and opens secret access keys (AES-256-GCM, the access key id as AAD).
pub struct SecretSealer {
    key: LessSafeKey,
}

impl fmt::Debug for SecretSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretSealer(<redacted>)")
    }
}

impl SecretSealer {
    /// Loads (or creates, mode 0600) `data_dir/root.key` and derives the sealing key from it.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, SealerError> {
        let root = RootKey::load_or_create_file(&data_dir.join(ROOT_KEY_FILE))?;
        Self::from_root(&root)
    }

    /// Derives the sealing key from the root key.
    pub fn from_root(root: &RootKey) -> Result<Self, SealerError> {
        let key = root.derive_key(PURPOSE)?;
        let unbound = UnboundKey::new(&AES_256_GCM, &key[..]).map_err(|_| SealerError::Crypto)?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
        })
    }

    /// Seals `secret` for `access_key_id`: `nonce || ciphertext || tag`.
    pub fn seal(&self, access_key_id: &str, secret: &SecretKey) -> Result<Vec<u8>, SealerError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealerError::Crypto)?;
        let mut out = nonce.to_vec();
        let mut body = secret.expose().as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(access_key_id.as_bytes()),
                &mut body,
            )
            .map_err(|_| SealerError::Crypto)?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Opens what [`SecretSealer::seal`] produced for the same access key id.
    pub fn open(&self, access_key_id: &str, sealed: &[u8]) -> Result<SecretKey, SealerError> {
        let (nonce, body) = sealed
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(SealerError::Crypto)?;
        let mut buf = Zeroizing::new(body.to_vec());
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(access_key_id.as_bytes()),
                &mut buf,
            )
            .map_err(|_| SealerError::Crypto)?;
        let text = std::str::from_utf8(plain).map_err(|_| SealerError::Crypto)?;
        Ok(SecretKey::new(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_binds_the_key_id() {
        let sealer = SecretSealer::from_root(&RootKey::generate().unwrap()).unwrap();
        let secret = SecretKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let sealed = sealer.seal("AKIA1", &secret).unwrap();
        assert!(!sealed.windows(8).any(|w| w == b"wJalrXUt"));
        assert_eq!(sealer.open("AKIA1", &sealed).unwrap(), secret);
        assert!(sealer.open("AKIA2", &sealed).is_err());
        let other = SecretSealer::from_root(&RootKey::generate().unwrap()).unwrap();
        assert!(other.open("AKIA1", &sealed).is_err());
    }

    #[test]
    fn root_key_file_is_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = SecretSealer::load_or_create(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join(ROOT_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let sealed = a.seal("AKIA1", &SecretKey::new("s")).unwrap();
        let b = SecretSealer::load_or_create(dir.path()).unwrap();
        assert_eq!(b.open("AKIA1", &sealed).unwrap(), SecretKey::new("s"));
    }
}
