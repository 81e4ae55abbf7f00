//! Notification log: what each receiver integration was last told about each group, so a
//! restart or reload neither repeats a notification nor loses a due one.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::alert::Fingerprint;
use crate::persist;

/// The last successful notification for one group and integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    firing: BTreeSet<Fingerprint>,
    resolved: BTreeSet<Fingerprint>,
    #[serde(with = "time::serde::rfc3339")]
    timestamp: OffsetDateTime,
}

/// The log of one Alertmanager, persisted as one JSON file.
#[derive(Debug)]
pub(crate) struct NotificationLog {
    entries: BTreeMap<String, Entry>,
    path: PathBuf,
    /// Whether `entries` changed since the last save.
    dirty: bool,
}

/// What a flush is about to notify.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending<'a> {
    pub(crate) firing: &'a BTreeSet<Fingerprint>,
    pub(crate) resolved: &'a BTreeSet<Fingerprint>,
    pub(crate) send_resolved: bool,
    pub(crate) repeat_interval: time::Duration,
}

impl NotificationLog {
    /// Loads the log at `path` (empty if the file does not exist).
    pub(crate) fn load(path: PathBuf) -> io::Result<Self> {
        Ok(Self {
            entries: persist::load(&path)?,
            path,
            dirty: false,
        })
    }

    /// Returns the log key of one integration of one group.
    pub(crate) fn key(group_key: &str, receiver: &str, integration: &str) -> String {
        format!("{group_key}\u{1f}{receiver}\u{1f}{integration}")
    }

    /// Returns whether a notification is due: something new is firing, everything that was
    /// firing resolved, newly resolved alerts should be announced, or the repeat interval passed.
    pub(crate) fn needs_update(&self, key: &str, p: Pending<'_>, now: OffsetDateTime) -> bool {
        let Some(entry) = self.entries.get(key) else {
            return !p.firing.is_empty();
        };
        if !p.firing.is_subset(&entry.firing) {
            return true;
        }
        if p.firing.is_empty() {
            return !entry.firing.is_empty();
        }
        if p.send_resolved && !p.resolved.is_subset(&entry.resolved) {
            return true;
        }
        entry.timestamp + p.repeat_interval <= now
    }

    /// Records a successful notification (in memory; call [`Self::save`] to persist).
    pub(crate) fn log(
        &mut self,
        key: String,
        firing: BTreeSet<Fingerprint>,
        resolved: BTreeSet<Fingerprint>,
        now: OffsetDateTime,
    ) {
        self.entries.insert(
            key,
            Entry {
                firing,
                resolved,
                timestamp: now,
            },
        );
        self.dirty = true;
    }

    /// Forgets entries older than `retention`.
    pub(crate) fn gc(&mut self, now: OffsetDateTime, retention: time::Duration) {
        let before = self.entries.len();
        self.entries.retain(|_, e| e.timestamp + retention > now);
        self.dirty |= self.entries.len() != before;
    }

    /// Writes the log to its file atomically if it changed.
    pub(crate) fn save(&mut self) -> io::Result<()> {
        if self.dirty {
            persist::store(&self.path, &self.entries)?;
            self.dirty = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;

    const T0: OffsetDateTime = datetime!(2026-11-24 10:00 UTC);

    fn set(ids: &[u64]) -> BTreeSet<Fingerprint> {
        ids.iter().map(|i| Fingerprint(*i)).collect()
    }

    fn pending<'a>(f: &'a BTreeSet<Fingerprint>, r: &'a BTreeSet<Fingerprint>) -> Pending<'a> {
        Pending {
            firing: f,
            resolved: r,
            send_resolved: true,
            repeat_interval: Duration::hours(4),
        }
    }

    #[test]
    fn decides_like_alertmanager() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = NotificationLog::load(dir.path().join("nflog.json")).unwrap();
        let (none, one, two) = (set(&[]), set(&[1]), set(&[1, 2]));
        assert!(!log.needs_update("k", pending(&none, &one), T0));
        assert!(log.needs_update("k", pending(&one, &none), T0));
        log.log("k".into(), one.clone(), none.clone(), T0);
        assert!(!log.needs_update("k", pending(&one, &none), T0 + Duration::minutes(5)));
        assert!(log.needs_update("k", pending(&two, &none), T0));
        assert!(log.needs_update("k", pending(&none, &one), T0));
        assert!(log.needs_update("k", pending(&one, &set(&[2])), T0));
        let two_resolved = set(&[2]);
        let mut quiet = pending(&one, &two_resolved);
        quiet.send_resolved = false;
        assert!(!log.needs_update("k", quiet, T0));
        assert!(log.needs_update("k", pending(&one, &none), T0 + Duration::hours(4)));
    }

    #[test]
    fn survives_restart_and_gc() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nflog.json");
        let mut log = NotificationLog::load(path.clone()).unwrap();
        log.log("k".into(), set(&[7]), set(&[]), T0);
        log.save().unwrap();
        let mut log = NotificationLog::load(path).unwrap();
        assert!(!log.needs_update(
            "k",
            pending(&set(&[7]), &set(&[])),
            T0 + Duration::minutes(1)
        ));
        log.gc(T0 + Duration::days(6), Duration::days(5));
        assert!(log.needs_update(
            "k",
            pending(&set(&[7]), &set(&[])),
            T0 + Duration::minutes(1)
        ));
    }
}
