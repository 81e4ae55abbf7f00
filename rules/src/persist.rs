//! Atomic JSON state files: write to a temporary sibling, fsync, rename, fsync the directory.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Reads `path` as JSON; a missing file reads as `T::default()`.
pub(crate) fn load<T: DeserializeOwned + Default>(path: &Path) -> io::Result<T> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(e),
    }
}

/// Replaces `path` with `value` as JSON so a crash leaves either the old or the new file.
pub(crate) fn store<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let bytes =
        serde_json::to_vec(value).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let tmp = path.with_extension("tmp");
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn round_trips_and_defaults_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let empty: BTreeMap<String, u32> = load(&path).unwrap();
        assert!(empty.is_empty());
        store(&path, &BTreeMap::from([("a".to_owned(), 1u32)])).unwrap();
        let back: BTreeMap<String, u32> = load(&path).unwrap();
        assert_eq!(back["a"], 1);
        assert!(!path.with_extension("tmp").try_exists().unwrap());
    }
}
