//! The account root user's access key: given by the operator, or created on first start.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use ampd_iam::{AccessKeyKind, SecretKey, generate_access_key_id, generate_secret_key};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Name of the file holding the generated root access key, in the data folder.
pub const ROOT_CREDENTIALS_FILE: &str = "root-credentials.json";

/// The root user's access key id and secret.
#[derive(Clone, PartialEq, Eq)]
pub struct RootAccessKey {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret: SecretKey,
}

impl fmt::Debug for RootAccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootAccessKey")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Why the root access key cannot be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum RootCredentialsError {
    /// Reading or writing the file failed.
    #[error("root credentials file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The file is not the JSON ampd writes.
    #[error("root credentials file {0} is malformed")]
    Malformed(PathBuf),
    /// The file grants group or other permissions.
    #[error("root credentials file {path} has mode {mode:o}; it must be private (chmod 600)")]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its mode bits.
        mode: u32,
    },
    /// The system random generator failed.
    #[error(transparent)]
    Random(#[from] ampd_iam::RandomError),
}

#[derive(Serialize, Deserialize)]
struct FileFormat {
    access_key_id: String,
    secret_access_key: String,
}

impl RootAccessKey {
    /// Returns `configured` if the operator gave one, else the key in
    /// `data_dir/root-credentials.json`, creating that file (mode 0600) on first start.
    pub fn resolve(
        configured: Option<&RootAccessKey>,
        data_dir: &Path,
    ) -> Result<Self, RootCredentialsError> {
        if let Some(key) = configured {
            return Ok(key.clone());
        }
        let path = data_dir.join(ROOT_CREDENTIALS_FILE);
        let io = |source| RootCredentialsError::Io {
            path: path.clone(),
            source,
        };
        match std::fs::File::open(&path) {
            Ok(file) => return Self::read(&path, file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let key = Self {
            access_key_id: generate_access_key_id(AccessKeyKind::LongTerm)?,
            secret: generate_secret_key()?,
        };
        let text = Zeroizing::new(
            serde_json::to_string_pretty(&FileFormat {
                access_key_id: key.access_key_id.clone(),
                secret_access_key: key.secret.expose().to_owned(),
            })
            .map_err(|_| RootCredentialsError::Malformed(path.clone()))?,
        );
        write_private(&path, text.as_bytes()).map_err(io)?;
        tracing::info!(
            path = %path.display(), access_key_id = %key.access_key_id,
            "created the root access key {}; its secret is in {}",
            key.access_key_id, path.display()
        );
        Ok(key)
    }

    fn read(path: &Path, mut file: std::fs::File) -> Result<Self, RootCredentialsError> {
        use std::io::Read;
        use std::os::unix::fs::PermissionsExt;
        let io = |source| RootCredentialsError::Io {
            path: path.to_owned(),
            source,
        };
        let mode = file.metadata().map_err(io)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(RootCredentialsError::InsecurePermissions {
                path: path.to_owned(),
                mode: mode & 0o777,
            });
        }
        let mut text = Zeroizing::new(String::new());
        file.read_to_string(&mut text).map_err(io)?;
        let parsed: FileFormat = serde_json::from_str(&text)
            .map_err(|_| RootCredentialsError::Malformed(path.to_owned()))?;
        Ok(Self {
            access_key_id: parsed.access_key_id,
            secret: SecretKey::new(parsed.secret_access_key),
        })
    }
}

/// Creates `path` with mode 0600 and `contents`; fails if it exists.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reused_and_configured_wins() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = RootAccessKey::resolve(None, dir.path()).unwrap();
        assert!(first.access_key_id.starts_with("AKIA"));
        let file = dir.path().join(ROOT_CREDENTIALS_FILE);
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(RootAccessKey::resolve(None, dir.path()).unwrap(), first);
        let given = RootAccessKey {
            access_key_id: "AKIAGIVEN".into(),
            secret: SecretKey::new("given"),
        };
        assert_eq!(
            RootAccessKey::resolve(Some(&given), dir.path()).unwrap(),
            given
        );
        assert!(!format!("{first:?}").contains(first.secret.expose()));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            RootAccessKey::resolve(None, dir.path()),
            Err(RootCredentialsError::InsecurePermissions { .. })
        ));
    }
}
