//! The root key: the one secret ampd keeps outside its databases.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::crypto::{self, KEY_LEN, NONCE_LEN};

/// Why a root key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum RootKeyError {
    /// Both a root key file and an inline root key were configured.
    #[error("the root key is configured both as a file and inline; configure exactly one")]
    Ambiguous,
    /// Neither a root key file nor an inline root key was configured.
    #[error("no root key configured: give a root key file or an inline base64 root key")]
    Missing,
    /// The root key file can be read by group or others.
    #[error(
        "root key file {path} has mode {mode:o}; it must not grant group or other permissions (chmod 600)"
    )]
    InsecurePermissions {
        /// The file that was refused.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Reading or creating the root key file failed.
    #[error("root key file {path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// The root key is not base64 of exactly 32 bytes.
    #[error("the root key must be base64 of exactly 32 bytes")]
    Malformed,
    /// The system random source failed while generating a key.
    #[error("the system random source failed")]
    Random,
    /// Deriving a subkey failed.
    #[error("deriving a key from the root key failed")]
    Derivation,
}

/// The 256-bit root key that wraps all KMS key material.
///
/// `Debug` prints a placeholder, the bytes are wiped on drop, and there is no `Clone`: one copy
/// lives in the [`crate::KmsService`].
pub struct RootKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootKey(<redacted>)")
    }
}

impl RootKey {
    /// Loads the root key from exactly one source: a file (created on first start) or an inline
    /// base64 value (typically an environment variable).
    pub fn load(file: Option<&Path>, inline_base64: Option<&str>) -> Result<Self, RootKeyError> {
        match (file, inline_base64) {
            (Some(_), Some(_)) => Err(RootKeyError::Ambiguous),
            (None, None) => Err(RootKeyError::Missing),
            (Some(path), None) => Self::load_or_create_file(path),
            (None, Some(value)) => Self::from_base64(value),
        }
    }

    /// Reads the key file, or creates it with 32 random bytes and mode 0600 if it does not exist.
    ///
    /// A file that grants any group or other permission bit is refused.
    pub fn load_or_create_file(path: &Path) -> Result<Self, RootKeyError> {
        let io_err = |source| RootKeyError::Io {
            path: path.to_owned(),
            source,
        };
        match open_existing(path) {
            Ok(file) => return Self::read_file(path, file),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(io_err(err)),
        }
        let key = Self::generate()?;
        let encoded = Zeroizing::new(format!("{}\n", STANDARD.encode(*key.bytes)));
        match publish_new(path, encoded.as_bytes()) {
            Ok(()) => {
                tracing::info!(path = %path.display(), "created root key file {}", path.display());
                Ok(key)
            }
            // Another process created it between our open and create: use theirs.
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                let file = open_existing(path).map_err(io_err)?;
                Self::read_file(path, file)
            }
            Err(err) => Err(io_err(err)),
        }
    }

    /// Decodes a base64 (standard alphabet) encoding of exactly 32 bytes.
    pub fn from_base64(encoded: &str) -> Result<Self, RootKeyError> {
        let decoded = Zeroizing::new(
            STANDARD
                .decode(encoded.trim())
                .map_err(|_| RootKeyError::Malformed)?,
        );
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        if decoded.len() != KEY_LEN {
            return Err(RootKeyError::Malformed);
        }
        bytes.copy_from_slice(&decoded);
        Ok(Self { bytes })
    }

    /// Generates a fresh random root key (for ephemeral deployments and tests).
    pub fn generate() -> Result<Self, RootKeyError> {
        let bytes = Zeroizing::new(crypto::random::<KEY_LEN>().map_err(|_| RootKeyError::Random)?);
        Ok(Self { bytes })
    }

    fn read_file(path: &Path, mut file: File) -> Result<Self, RootKeyError> {
        let io_err = |source| RootKeyError::Io {
            path: path.to_owned(),
            source,
        };
        check_permissions(path, &file)?;
        let mut text = Zeroizing::new(String::new());
        file.read_to_string(&mut text).map_err(io_err)?;
        Self::from_base64(&text)
    }

    /// Derives an independent 256-bit key for `purpose` (HKDF-SHA256, `purpose` as info), so
    /// other subsystems protected by the root key never share an AES key with KMS material.
    pub fn derive_key(&self, purpose: &[u8]) -> Result<Zeroizing<[u8; KEY_LEN]>, RootKeyError> {
        struct Len;
        impl ring::hkdf::KeyType for Len {
            fn len(&self) -> usize {
                KEY_LEN
            }
        }
        let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, &[]).extract(&self.bytes[..]);
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        prk.expand(&[purpose], Len)
            .and_then(|okm| okm.fill(&mut out[..]))
            .map_err(|_| RootKeyError::Derivation)?;
        Ok(out)
    }

    /// Seals key material under the root key; `aad` names what the material belongs to.
    pub(crate) fn wrap(
        &self,
        aad: &[u8],
        material: &[u8],
    ) -> Result<Vec<u8>, crypto::CryptoFailure> {
        let mut out = Vec::with_capacity(NONCE_LEN + material.len() + crypto::TAG_LEN);
        out.extend_from_slice(&[0u8; NONCE_LEN]);
        let nonce = crypto::seal_append(&self.bytes, aad, material, &mut out)?;
        out[..NONCE_LEN].copy_from_slice(&nonce);
        Ok(out)
    }

    /// Opens material sealed by [`RootKey::wrap`] with the same `aad`.
    pub(crate) fn unwrap(
        &self,
        aad: &[u8],
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, crypto::OpenFailure> {
        let (nonce, sealed) = wrapped
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(crypto::OpenFailure)?;
        crypto::open(&self.bytes, *nonce, aad, sealed)
    }
}

fn open_existing(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// Writes a complete, fsynced 0600 file next to `path`, then hard-links it into place, which
/// fails if `path` exists: a crash never leaves a partly written root key behind.
fn publish_new(path: &Path, contents: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let suffix = crypto::random::<8>().map_err(io::Error::other)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", u64::from_be_bytes(suffix)));
    let tmp = PathBuf::from(tmp);
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(contents)?;
            file.sync_all()
        })
        .and_then(|()| fs::hard_link(&tmp, path));
    if let Err(err) = fs::remove_file(&tmp) {
        tracing::warn!(path = %tmp.display(), error = %err,
            "could not remove temporary root key file {}: {err}", tmp.display());
    }
    written?;
    sync_parent(path)
}

fn check_permissions(path: &Path, file: &File) -> Result<(), RootKeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file
        .metadata()
        .map_err(|source| RootKeyError::Io {
            path: path.to_owned(),
            source,
        })?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(RootKeyError::InsecurePermissions {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => File::open(parent)?.sync_all(),
        None => File::open(".")?.sync_all(),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn derived_keys_are_stable_per_purpose_and_differ_from_the_root() {
        let root = RootKey::generate().unwrap();
        let a = root.derive_key(b"purpose-a").unwrap();
        assert_eq!(a, root.derive_key(b"purpose-a").unwrap());
        assert_ne!(a, root.derive_key(b"purpose-b").unwrap());
        assert_ne!(*a, *root.bytes);
        let other = RootKey::generate().unwrap();
        assert_ne!(a, other.derive_key(b"purpose-a").unwrap());
    }

    #[test]
    fn creates_file_with_0600_and_reloads_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/root.key");
        let first = RootKey::load_or_create_file(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let second = RootKey::load(Some(&path), None).unwrap();
        assert_eq!(*first.bytes, *second.bytes);
    }

    #[test]
    fn creation_leaves_only_the_key_file() {
        let dir = tempfile::tempdir().unwrap();
        RootKey::load_or_create_file(&dir.path().join("root.key")).unwrap();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["root.key"]);
    }

    #[test]
    fn an_empty_key_file_is_refused_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        fs::write(&path, b"").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(
            RootKey::load_or_create_file(&path),
            Err(RootKeyError::Malformed)
        ));
        assert_eq!(fs::read(&path).unwrap(), b"");
    }

    #[test]
    fn refuses_group_or_other_bits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        RootKey::load_or_create_file(&path).unwrap();
        for mode in [0o640, 0o604, 0o610, 0o644] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let err = RootKey::load_or_create_file(&path).unwrap_err();
            assert!(
                matches!(err, RootKeyError::InsecurePermissions { mode: m, .. } if m == mode),
                "{err}"
            );
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        RootKey::load_or_create_file(&path).unwrap();
    }

    #[test]
    fn exactly_one_source() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        let inline = STANDARD.encode([1u8; 32]);
        assert!(matches!(
            RootKey::load(Some(&path), Some(&inline)),
            Err(RootKeyError::Ambiguous)
        ));
        assert!(matches!(
            RootKey::load(None, None),
            Err(RootKeyError::Missing)
        ));
        let key = RootKey::load(None, Some(&inline)).unwrap();
        assert_eq!(*key.bytes, [1u8; 32]);
        assert!(!path.try_exists().unwrap());
    }

    #[test]
    fn rejects_wrong_length_and_bad_base64() {
        assert!(matches!(
            RootKey::from_base64(&STANDARD.encode([1u8; 31])),
            Err(RootKeyError::Malformed)
        ));
        assert!(matches!(
            RootKey::from_base64("not base64!"),
            Err(RootKeyError::Malformed)
        ));
    }

    #[test]
    fn debug_is_redacted() {
        let key = RootKey::from_base64(&STANDARD.encode([0xabu8; 32])).unwrap();
        let shown = format!("{key:?}");
        assert_eq!(shown, "RootKey(<redacted>)");
    }

    #[test]
    fn wrap_binds_aad() {
        let key = RootKey::generate().unwrap();
        let wrapped = key.wrap(b"arn:1", b"material").unwrap();
        assert_eq!(&*key.unwrap(b"arn:1", &wrapped).unwrap(), b"material");
        assert!(key.unwrap(b"arn:2", &wrapped).is_err());
        assert!(
            RootKey::generate()
                .unwrap()
                .unwrap(b"arn:1", &wrapped)
                .is_err()
        );
    }
}
