//! Sealing of secret access keys before they reach the metadata store.
//!
//! The sealing key is derived (HKDF-SHA256, purpose label below) from the root key file that
//! `kms` creates and guards (`root.key`, mode 0600), so IAM secrets and KMS key material are
//! protected by the same root but never by the same AES key. `kms` keeps the raw root key
//! private, hence the file is read here once more after `kms` has created or validated it.

use std::fmt;
use std::path::Path;

use ampd_iam::SecretKey;
use ampd_kms::RootKey;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, Salt};
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
    /// The root key file could not be read back.
    #[error("cannot read root key file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The root key file does not hold base64 of 32 bytes.
    #[error("root key file {0} is malformed")]
    Malformed(String),
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
        let path = data_dir.join(ROOT_KEY_FILE);
        RootKey::load_or_create_file(&path)?;
        let text =
            Zeroizing::new(
                std::fs::read_to_string(&path).map_err(|source| SealerError::Read {
                    path: path.display().to_string(),
                    source,
                })?,
            );
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| SealerError::Malformed(path.display().to_string()))?,
        );
        Self::from_root_bytes(&bytes)
    }

    /// Derives the sealing key from raw root key bytes.
    pub fn from_root_bytes(root: &[u8]) -> Result<Self, SealerError> {
        let prk = Salt::new(HKDF_SHA256, &[]).extract(root);
        let okm = prk
            .expand(&[PURPOSE], &AES_256_GCM)
            .map_err(|_| SealerError::Crypto)?;
        Ok(Self {
            key: LessSafeKey::new(UnboundKey::from(okm)),
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
        let sealer = SecretSealer::from_root_bytes(&[7u8; 32]).unwrap();
        let secret = SecretKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let sealed = sealer.seal("AKIA1", &secret).unwrap();
        assert!(!sealed.windows(8).any(|w| w == b"wJalrXUt"));
        assert_eq!(sealer.open("AKIA1", &sealed).unwrap(), secret);
        assert!(sealer.open("AKIA2", &sealed).is_err());
        let other = SecretSealer::from_root_bytes(&[8u8; 32]).unwrap();
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
