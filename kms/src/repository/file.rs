//! A [`KeyRepository`] on plain files, so keys survive restarts of the embedded default.
//!
//! Layout under the data folder: `keys/<key-id>.json` and
//! `aliases/<account-id>/<base64url(sha256(alias name))>.json`. Every write goes to a temporary file
//! that is fsynced, renamed over the target, and followed by an fsync of the directory, so a
//! crash leaves either the old or the new record. All records are loaded at open and served
//! from memory; one process owns the folder.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use tokio::sync::Mutex;

use super::memory::{State, alias_id};
use super::{KeyRepository, Page, PageRequest, RepositoryError};
use crate::record::{AliasRecord, KeyRecord};

const KEYS_DIR: &str = "keys";
const ALIASES_DIR: &str = "aliases";
const TMP_SUFFIX: &str = ".tmp";

/// Keys and aliases as one JSON file each in a folder; material stays wrapped by the root key.
pub struct FileKeyRepository {
    root: PathBuf,
    state: Mutex<State>,
}

// Only the folder: the records (policies, wrapped material) have no place in debug output.
impl fmt::Debug for FileKeyRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileKeyRepository")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl FileKeyRepository {
    /// Opens (creating if needed) the repository in `dir` and loads every record.
    pub async fn open(dir: impl Into<PathBuf>) -> Result<Self, RepositoryError> {
        let root = dir.into();
        let load_root = root.clone();
        let state = blocking(move || load(&load_root))
            .await
            .map_err(|e| RepositoryError::storage(format!("open {}", root.display()), e))?;
        tracing::info!(
            path = %root.display(),
            keys = state.keys.len(),
            aliases = state.aliases.len(),
            "opened kms key repository at {}",
            root.display()
        );
        Ok(Self {
            root,
            state: Mutex::new(state),
        })
    }

    fn key_path(&self, key_id: &str) -> Result<PathBuf, RepositoryError> {
        if key_id.is_empty()
            || !key_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(RepositoryError::storage(
                "write key",
                format!("key id {key_id:?} is not a safe file name"),
            ));
        }
        Ok(self.root.join(KEYS_DIR).join(format!("{key_id}.json")))
    }

    fn alias_path(&self, account_id: &str, alias_name: &str) -> Result<PathBuf, RepositoryError> {
        if account_id.is_empty() || !account_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(RepositoryError::storage(
                "write alias",
                format!("account id {account_id:?} is not a safe file name"),
            ));
        }
        // Alias names may hold '/' and be 256 bytes long, too long for one file name once
        // encoded, so the file is named by a digest; the record inside carries the name.
        let digest = ring::digest::digest(&ring::digest::SHA256, alias_name.as_bytes());
        let file = format!("{}.json", URL_SAFE_NO_PAD.encode(digest.as_ref()));
        Ok(self.root.join(ALIASES_DIR).join(account_id).join(file))
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(io::Error::other)?
}

fn load(root: &Path) -> io::Result<State> {
    let mut state = State::default();
    let keys_dir = root.join(KEYS_DIR);
    fs::create_dir_all(&keys_dir)?;
    fs::create_dir_all(root.join(ALIASES_DIR))?;
    for record in read_records::<KeyRecord>(&keys_dir)? {
        state.keys.insert(record.key_id.clone(), record);
    }
    for entry in fs::read_dir(root.join(ALIASES_DIR))? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            for alias in read_records::<AliasRecord>(&entry.path())? {
                state.aliases.insert(alias_id(&alias), alias);
            }
        }
    }
    Ok(state)
}

/// Reads every `*.json` in `dir`, removing temporary files a crash left behind.
fn read_records<T: DeserializeOwned>(dir: &Path) -> io::Result<Vec<T>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.ends_with(TMP_SUFFIX) {
            fs::remove_file(&path)?;
        } else if name.ends_with(".json") {
            let bytes = fs::read(&path)?;
            let record = serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            })?;
            out.push(record);
        }
    }
    Ok(out)
}

/// Replaces `path` with `bytes` atomically and durably.
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("record path has no parent"))?;
    fs::create_dir_all(dir)?;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(TMP_SUFFIX);
    let tmp = PathBuf::from(tmp_name);
    // Records hold only wrapped material, but policies and tags are nobody else's business.
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

/// Removes `path` durably; a missing file is fine.
fn remove_durably(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err),
    }
    match path.parent() {
        Some(dir) => File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

async fn write_record<T: Serialize>(path: PathBuf, record: &T) -> Result<(), RepositoryError> {
    let bytes = serde_json::to_vec_pretty(record)
        .map_err(|e| RepositoryError::storage("encode record", e))?;
    let shown = path.display().to_string();
    blocking(move || write_atomic(&path, &bytes))
        .await
        .map_err(|e| RepositoryError::storage(format!("write {shown}"), e))
}

async fn remove_record(path: PathBuf) -> Result<(), RepositoryError> {
    let shown = path.display().to_string();
    blocking(move || remove_durably(&path))
        .await
        .map_err(|e| RepositoryError::storage(format!("remove {shown}"), e))
}

// The lock is held across each file write so memory and disk change in the same order.
#[async_trait]
impl KeyRepository for FileKeyRepository {
    async fn get_key(&self, key_id: &str) -> Result<Option<KeyRecord>, RepositoryError> {
        Ok(self.state.lock().await.keys.get(key_id).cloned())
    }

    async fn put_key(
        &self,
        record: &KeyRecord,
        expected_revision: Option<u64>,
    ) -> Result<(), RepositoryError> {
        let path = self.key_path(&record.key_id)?;
        let mut state = self.state.lock().await;
        state.check_put_key(record, expected_revision)?;
        write_record(path, record).await?;
        state.keys.insert(record.key_id.clone(), record.clone());
        Ok(())
    }

    async fn delete_key(
        &self,
        key_id: &str,
        expected_revision: u64,
    ) -> Result<(), RepositoryError> {
        let path = self.key_path(key_id)?;
        let mut state = self.state.lock().await;
        state.check_delete_key(key_id, expected_revision)?;
        for (account, name) in state.aliases_of(key_id) {
            remove_record(self.alias_path(&account, &name)?).await?;
        }
        remove_record(path).await?;
        state.delete_key(key_id);
        Ok(())
    }

    async fn list_keys(
        &self,
        account_id: &str,
        page: PageRequest,
    ) -> Result<Page<KeyRecord>, RepositoryError> {
        Ok(self.state.lock().await.list_keys(account_id, page))
    }

    async fn due_keys(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<String>, RepositoryError> {
        Ok(self.state.lock().await.due_keys(now, limit))
    }

    async fn get_alias(
        &self,
        account_id: &str,
        alias_name: &str,
    ) -> Result<Option<AliasRecord>, RepositoryError> {
        let id = (account_id.to_owned(), alias_name.to_owned());
        Ok(self.state.lock().await.aliases.get(&id).cloned())
    }

    async fn create_alias(&self, alias: &AliasRecord) -> Result<(), RepositoryError> {
        let path = self.alias_path(&alias.account_id, &alias.alias_name)?;
        let mut state = self.state.lock().await;
        state.check_create_alias(alias)?;
        write_record(path, alias).await?;
        state.aliases.insert(alias_id(alias), alias.clone());
        Ok(())
    }

    async fn update_alias(&self, alias: &AliasRecord) -> Result<(), RepositoryError> {
        let path = self.alias_path(&alias.account_id, &alias.alias_name)?;
        let mut state = self.state.lock().await;
        state.check_update_alias(alias)?;
        write_record(path, alias).await?;
        state.aliases.insert(alias_id(alias), alias.clone());
        Ok(())
    }

    async fn delete_alias(
        &self,
        account_id: &str,
        alias_name: &str,
    ) -> Result<bool, RepositoryError> {
        let path = self.alias_path(account_id, alias_name)?;
        let mut state = self.state.lock().await;
        let id = (account_id.to_owned(), alias_name.to_owned());
        if !state.aliases.contains_key(&id) {
            return Ok(false);
        }
        remove_record(path).await?;
        state.aliases.remove(&id);
        Ok(true)
    }

    async fn list_aliases(
        &self,
        account_id: &str,
        target_key_id: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AliasRecord>, RepositoryError> {
        Ok(self
            .state
            .lock()
            .await
            .list_aliases(account_id, target_key_id, page))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::repository::testsuite;

    crate::key_repository_conformance!(async {
        let dir = tempfile::tempdir().unwrap();
        let repo = FileKeyRepository::open(dir.path()).await.unwrap();
        (dir, repo)
    });

    #[tokio::test]
    async fn records_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let key = testsuite::sample_key("111122223333", "0b0c0d0e-0000-4000-8000-000000000001");
        let long_name = format!("alias/{}", "a/b_c-d:".repeat(31));
        assert_eq!(long_name.len(), 254);
        let alias = testsuite::sample_alias("111122223333", &long_name, key.key_id());
        {
            let repo = FileKeyRepository::open(dir.path()).await.unwrap();
            repo.put_key(&key, None).await.unwrap();
            repo.create_alias(&alias).await.unwrap();
        }
        let reopened = FileKeyRepository::open(dir.path()).await.unwrap();
        assert_eq!(
            reopened.get_key(key.key_id()).await.unwrap(),
            Some(key.clone())
        );
        assert_eq!(
            reopened
                .get_alias("111122223333", &long_name)
                .await
                .unwrap(),
            Some(alias)
        );
        let file = dir
            .path()
            .join(KEYS_DIR)
            .join(format!("{}.json", key.key_id()));
        let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        reopened.delete_key(key.key_id(), 1).await.unwrap();
        let again = FileKeyRepository::open(dir.path()).await.unwrap();
        assert_eq!(again.get_key(key.key_id()).await.unwrap(), None);
        assert_eq!(
            again.get_alias("111122223333", &long_name).await.unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn leftover_temporary_files_are_ignored_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join(KEYS_DIR);
        fs::create_dir_all(&keys).unwrap();
        let tmp = keys.join("half-written.json.tmp");
        fs::write(&tmp, b"{ not json").unwrap();
        let repo = FileKeyRepository::open(dir.path()).await.unwrap();
        assert!(!tmp.try_exists().unwrap());
        let page = repo.list_keys(
            "111122223333",
            PageRequest {
                after: None,
                limit: 10,
            },
        );
        assert!(page.await.unwrap().items.is_empty());
    }

    #[tokio::test]
    async fn corrupt_records_fail_the_open() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join(KEYS_DIR);
        fs::create_dir_all(&keys).unwrap();
        fs::write(keys.join("x.json"), b"{ not json").unwrap();
        assert!(FileKeyRepository::open(dir.path()).await.is_err());
    }
}
