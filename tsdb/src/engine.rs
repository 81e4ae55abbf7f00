//! Many tenants, each with its own database in its own directory, opened on first use.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::db::{Db, MaintenanceReport, Options};
use crate::error::{Error, Result, SealError};
use crate::seal::{IdentitySealer, Sealer};

/// Supplies each tenant's sealer (the key management layer binds it to the tenant's data key).
pub trait SealerProvider: fmt::Debug + Send + Sync + 'static {
    /// Returns the sealer for `tenant`.
    fn sealer_for(&self, tenant: &str) -> Result<Arc<dyn Sealer>, SealError>;
}

impl SealerProvider for IdentitySealer {
    fn sealer_for(&self, _tenant: &str) -> Result<Arc<dyn Sealer>, SealError> {
        Ok(Arc::new(IdentitySealer))
    }
}

/// Tenant databases under one root directory.
#[derive(Debug)]
pub struct Engine {
    root: PathBuf,
    opts: Options,
    sealers: Arc<dyn SealerProvider>,
    /// One slot per tenant, so opening one tenant (a WAL replay) does not block the others.
    tenants: Mutex<HashMap<String, Slot>>,
}

type Slot = Arc<Mutex<Option<Arc<Db>>>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Tenant ids become directory names, so only a safe alphabet is allowed (AMP workspace ids
/// such as `ws-1a2b…` fit).
fn check_tenant(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidTenant(id.to_owned()))
    }
}

impl Engine {
    /// Creates the engine over `root`; tenants are opened lazily with `opts`.
    pub fn new(root: &Path, opts: Options, sealers: Arc<dyn SealerProvider>) -> Result<Self> {
        fs::create_dir_all(root).map_err(Error::io("create dir", root))?;
        Ok(Self {
            root: root.to_path_buf(),
            opts,
            sealers,
            tenants: Mutex::new(HashMap::new()),
        })
    }

    fn slot(&self, id: &str) -> Slot {
        lock(&self.tenants)
            .entry(id.to_owned())
            .or_default()
            .clone()
    }

    fn open_dbs(&self) -> Vec<(String, Arc<Db>)> {
        let slots: Vec<(String, Slot)> = lock(&self.tenants)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        slots
            .into_iter()
            .filter_map(|(k, slot)| lock(&slot).clone().map(|db| (k, db)))
            .collect()
    }

    /// Returns the tenant's database, opening (and creating) it on first use.
    pub fn tenant(&self, id: &str) -> Result<Arc<Db>> {
        check_tenant(id)?;
        let slot = self.slot(id);
        let mut guard = lock(&slot);
        if let Some(db) = guard.as_ref() {
            return Ok(db.clone());
        }
        let sealer = self
            .sealers
            .sealer_for(id)
            .map_err(|source| Error::Sealing {
                what: "tenant key",
                source,
            })?;
        let db = Arc::new(Db::open(&self.root.join(id), sealer, self.opts.clone())?);
        if let Some(r) = db.wal_repair() {
            tracing::warn!(
                tenant = id,
                segment = r.segment,
                offset = r.offset,
                "tenant {id} wal was repaired on open"
            );
        }
        *guard = Some(db.clone());
        Ok(db)
    }

    /// Returns the tenant's database if it has any data on disk, without creating it.
    pub fn existing_tenant(&self, id: &str) -> Result<Option<Arc<Db>>> {
        check_tenant(id)?;
        let on_disk = self
            .root
            .join(id)
            .try_exists()
            .map_err(Error::io("stat", self.root.join(id)))?;
        let slot = lock(&self.tenants).get(id).cloned();
        let open = slot.is_some_and(|slot| lock(&slot).is_some());
        if !on_disk && !open {
            return Ok(None);
        }
        self.tenant(id).map(Some)
    }

    /// Closes the tenant's database if it is open, dropping its in-memory head; open handles
    /// fail with [`Error::Closed`] and the next [`Engine::tenant`] reopens it from disk with a
    /// fresh sealer. Used when the tenant's key is revoked, so no plaintext stays cached.
    pub fn close_tenant(&self, id: &str) -> Result<()> {
        check_tenant(id)?;
        let slot = self.slot(id);
        let mut guard = lock(&slot);
        if let Some(db) = guard.take() {
            db.close();
        }
        Ok(())
    }

    /// Deletes everything stored for the tenant; open handles fail with [`Error::Closed`].
    pub fn delete_tenant(&self, id: &str) -> Result<()> {
        check_tenant(id)?;
        // Holding the slot keeps a concurrent `tenant(id)` from reopening while files go.
        let slot = self.slot(id);
        let mut guard = lock(&slot);
        if let Some(db) = guard.take() {
            db.close();
        }
        let dir = self.root.join(id);
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", dir)(e)),
        }
    }

    /// Runs [`Db::maintain`] on every open tenant; returns the first error after trying all.
    pub fn maintain_all(&self, now_ms: i64) -> Result<Vec<(String, MaintenanceReport)>> {
        let dbs = self.open_dbs();
        let mut out = Vec::new();
        let mut first_err = None;
        for (id, db) in dbs {
            match db.maintain(now_ms) {
                Ok(r) => out.push((id, r)),
                Err(Error::Closed) => {}
                Err(e) => {
                    tracing::error!(tenant = %id, error = %e, "maintenance of tenant {id} failed");
                    first_err.get_or_insert(e);
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// Fsyncs every open tenant's WAL.
    pub fn sync_all(&self) -> Result<()> {
        for (_, db) in self.open_dbs() {
            match db.sync() {
                Ok(()) | Err(Error::Closed) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::{MatchType, Matcher};
    use crate::model::Labels;

    #[test]
    fn tenants_are_isolated_and_deletable() {
        let dir = tempfile::tempdir().unwrap();
        let e = Engine::new(dir.path(), Options::default(), Arc::new(IdentitySealer)).unwrap();
        let a = e.tenant("ws-a").unwrap();
        let b = e.tenant("ws-b").unwrap();
        let l = Labels::from_pairs([("__name__", "up")]);
        let mut app = a.appender();
        app.append(&l, 1000, 1.0).unwrap();
        app.commit().unwrap();
        let m = [Matcher::new(MatchType::Equal, "__name__", "up").unwrap()];
        assert_eq!(a.series(&m, 0, 2000).unwrap().len(), 1);
        assert!(b.series(&m, 0, 2000).unwrap().is_empty());
        assert!(e.tenant("../x").is_err());
        e.delete_tenant("ws-a").unwrap();
        assert!(matches!(a.series(&m, 0, 2000), Err(Error::Closed)));
        assert!(!dir.path().join("ws-a").try_exists().unwrap());
        assert!(e.existing_tenant("ws-a").unwrap().is_none());
        let a2 = e.tenant("ws-a").unwrap();
        assert!(a2.series(&m, 0, 2000).unwrap().is_empty());
    }

    #[test]
    fn closed_tenants_reopen_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let e = Engine::new(dir.path(), Options::default(), Arc::new(IdentitySealer)).unwrap();
        let a = e.tenant("ws-a").unwrap();
        let l = Labels::from_pairs([("__name__", "up")]);
        let mut app = a.appender();
        app.append(&l, 1000, 1.0).unwrap();
        app.commit().unwrap();
        e.close_tenant("ws-a").unwrap();
        let m = [Matcher::new(MatchType::Equal, "__name__", "up").unwrap()];
        assert!(matches!(a.series(&m, 0, 2000), Err(Error::Closed)));
        let again = e.tenant("ws-a").unwrap();
        assert_eq!(again.series(&m, 0, 2000).unwrap().len(), 1);
        e.close_tenant("ws-never-opened").unwrap();
    }
}
