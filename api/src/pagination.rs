//! Opaque, tamper-evident `nextToken`s.
//!
//! A token is `base64url(position) "." base64url(HMAC-SHA256(key, scope || 0 || position))`.
//! The scope names the operation and its filters, so a token only continues the listing it came
//! from; a modified or foreign token is a `ValidationException`. The key lives in the data
//! folder (`pagination.key`, mode 0600) so tokens survive restarts and every node sharing the
//! folder accepts them.

use std::fmt;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::AwsError;

type HmacSha256 = Hmac<Sha256>;

const KEY_LEN: usize = 32;
const KEY_FILE: &str = "pagination.key";

/// Signs and checks pagination tokens.
#[derive(Clone)]
pub struct PageTokens {
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl fmt::Debug for PageTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageTokens")
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Why the pagination key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the key file failed.
    #[error("pagination key {path}: {source}")]
    Io {
        /// The key file.
        path: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The key file has the wrong size.
    #[error("pagination key {0} must hold exactly {KEY_LEN} bytes")]
    Size(String),
    /// The operating system could not provide randomness.
    #[error("no randomness for a new pagination key: {0}")]
    Random(String),
}

impl PageTokens {
    /// Uses a given key (tests, or keys managed elsewhere).
    pub fn from_key(key: [u8; KEY_LEN]) -> Self {
        Self {
            key: Zeroizing::new(key),
        }
    }

    /// Loads `pagination.key` from `dir`, creating it with fresh random bytes on first start.
    pub fn load_or_create(dir: &Path) -> Result<Self, KeyError> {
        let path = dir.join(KEY_FILE);
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read(&path) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let key: [u8; KEY_LEN] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| KeyError::Size(path.display().to_string()))?;
                Ok(Self::from_key(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = Zeroizing::new([0u8; KEY_LEN]);
                getrandom::fill(key.as_mut_slice()).map_err(|e| KeyError::Random(e.to_string()))?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(&path).map_err(io)?;
                file.write_all(key.as_slice()).map_err(io)?;
                file.sync_all().map_err(io)?;
                Ok(Self { key })
            }
            Err(e) => Err(io(e)),
        }
    }

    fn mac(&self, scope: &str, position: &str) -> Result<HmacSha256, AwsError> {
        // HMAC takes keys of any length; the error exists only for fixed-key MACs.
        let mut mac = HmacSha256::new_from_slice(self.key.as_slice())
            .map_err(|e| AwsError::Internal(anyhow::anyhow!("pagination key: {e}")))?;
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(position.as_bytes());
        Ok(mac)
    }

    /// Wraps a store position into a token bound to `scope`.
    pub fn seal(&self, scope: &str, position: &str) -> Result<String, AwsError> {
        let tag = self.mac(scope, position)?.finalize().into_bytes();
        Ok(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(position),
            URL_SAFE_NO_PAD.encode(tag)
        ))
    }

    /// Returns the store position inside `token` if it was sealed for `scope` by this key.
    pub fn open(&self, scope: &str, token: &str) -> Result<String, AwsError> {
        let invalid = || AwsError::field("nextToken", "the pagination token is invalid or expired");
        let (position, tag) = token.split_once('.').ok_or_else(invalid)?;
        let position = URL_SAFE_NO_PAD.decode(position).map_err(|_| invalid())?;
        let position = String::from_utf8(position).map_err(|_| invalid())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        // verify_slice compares in constant time.
        self.mac(scope, &position)?
            .verify_slice(&tag)
            .map_err(|_| invalid())?;
        Ok(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_scope_binding() {
        let t = PageTokens::from_key([7; KEY_LEN]);
        let token = t.seal("ListWorkspaces\0alias=a", "1700:ws-1").unwrap();
        assert_eq!(
            t.open("ListWorkspaces\0alias=a", &token).unwrap(),
            "1700:ws-1"
        );
        assert!(t.open("ListWorkspaces\0alias=b", &token).is_err());
        assert!(
            PageTokens::from_key([8; KEY_LEN])
                .open("ListWorkspaces\0alias=a", &token)
                .is_err()
        );
    }

    #[test]
    fn tampering_is_rejected() {
        let t = PageTokens::from_key([7; KEY_LEN]);
        let token = t.seal("s", "1700:ws-1").unwrap();
        let (_, tag) = token.split_once('.').unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("1700:ws-2"));
        for bad in [forged.as_str(), "", "abc", "abc.def", &token[1..]] {
            let e = t.open("s", bad).unwrap_err();
            assert_eq!(e.code().1, "ValidationException", "{bad}");
        }
    }

    #[test]
    fn key_is_created_once_with_private_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let a = PageTokens::load_or_create(dir.path()).unwrap();
        let b = PageTokens::load_or_create(dir.path()).unwrap();
        assert_eq!(a.open("s", &b.seal("s", "p").unwrap()).unwrap(), "p");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0);
        }
        assert!(format!("{a:?}").contains("redacted"));
    }
}
