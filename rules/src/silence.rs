//! Silences: matchers plus a time window, persisted to a JSON file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::matchers::{LabelSet, MatchOp, Matcher, all_match};
use crate::persist;
use crate::wire::{GettableSilence, PostableSilence, SilenceState, SilenceStatus, WireMatcher};

/// Why a silence operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SilenceError {
    /// No silence has this id.
    #[error("silence {0} not found")]
    NotFound(String),
    /// The silence already ended and cannot change.
    #[error("silence {0} already expired")]
    AlreadyExpired(String),
    /// The silence is malformed.
    #[error("invalid silence: {0}")]
    Invalid(String),
    /// The silence file could not be read or written.
    #[error("silence storage: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    matchers: Vec<WireMatcher>,
    #[serde(with = "time::serde::rfc3339")]
    starts_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    ends_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    created_by: String,
    comment: String,
}

#[derive(Debug, Clone)]
struct Entry {
    stored: Stored,
    matchers: Vec<Matcher>,
}

impl Entry {
    fn state(&self, now: OffsetDateTime) -> SilenceState {
        if self.stored.ends_at <= now {
            SilenceState::Expired
        } else if self.stored.starts_at > now {
            SilenceState::Pending
        } else {
            SilenceState::Active
        }
    }

    fn gettable(&self, id: &str, now: OffsetDateTime) -> GettableSilence {
        let s = &self.stored;
        GettableSilence {
            id: id.to_owned(),
            status: SilenceStatus {
                state: self.state(now),
            },
            updated_at: s.updated_at,
            matchers: s.matchers.clone(),
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            created_by: s.created_by.clone(),
            comment: s.comment.clone(),
        }
    }
}

/// All silences of one Alertmanager.
#[derive(Debug)]
pub(crate) struct Silences {
    by_id: BTreeMap<String, Entry>,
    path: PathBuf,
}

fn compile(matchers: &[WireMatcher]) -> Result<Vec<Matcher>, SilenceError> {
    matchers
        .iter()
        .map(|m| {
            if m.name.is_empty() {
                return Err(SilenceError::Invalid(
                    "matcher with empty label name".to_owned(),
                ));
            }
            Matcher::new(
                m.name.clone(),
                MatchOp::from_flags(m.is_regex, m.is_equal),
                m.value.clone(),
            )
            .map_err(|e| SilenceError::Invalid(e.to_string()))
        })
        .collect()
}

impl Silences {
    /// Loads the silences stored at `path` (none if the file does not exist).
    pub(crate) fn load(path: PathBuf) -> Result<Self, SilenceError> {
        let stored: BTreeMap<String, Stored> = persist::load(&path)?;
        let by_id = stored
            .into_iter()
            .map(|(id, stored)| {
                Ok((
                    id,
                    Entry {
                        matchers: compile(&stored.matchers)?,
                        stored,
                    },
                ))
            })
            .collect::<Result<_, SilenceError>>()?;
        Ok(Self { by_id, path })
    }

    fn save(&self) -> Result<(), SilenceError> {
        let stored: BTreeMap<&String, &Stored> =
            self.by_id.iter().map(|(id, e)| (id, &e.stored)).collect();
        Ok(persist::store(&self.path, &stored)?)
    }

    /// Creates a silence, or updates the one named by `p.id`; returns the id in effect.
    ///
    /// A pending silence is changed in place; an active one too if only its end time, comment or
    /// author change. Any other change to an active silence expires it and creates a new one.
    pub(crate) fn set(
        &mut self,
        p: PostableSilence,
        now: OffsetDateTime,
    ) -> Result<String, SilenceError> {
        let matchers = compile(&p.matchers)?;
        if matchers.is_empty() {
            return Err(SilenceError::Invalid(
                "at least one matcher required".to_owned(),
            ));
        }
        if matchers.iter().all(|m| m.matches_value("")) {
            return Err(SilenceError::Invalid(
                "at least one matcher must not match the empty string".to_owned(),
            ));
        }
        if p.ends_at < p.starts_at {
            return Err(SilenceError::Invalid(
                "end time must not be before start time".to_owned(),
            ));
        }
        if p.ends_at <= now {
            return Err(SilenceError::Invalid(
                "end time can't be in the past".to_owned(),
            ));
        }
        let mut stored = Stored {
            matchers: p.matchers,
            starts_at: p.starts_at.max(now),
            ends_at: p.ends_at,
            updated_at: now,
            created_by: p.created_by,
            comment: p.comment,
        };
        if let Some(id) = p.id.filter(|id| !id.is_empty()) {
            let existing = self
                .by_id
                .get_mut(&id)
                .ok_or_else(|| SilenceError::NotFound(id.clone()))?;
            match existing.state(now) {
                SilenceState::Expired => return Err(SilenceError::AlreadyExpired(id)),
                SilenceState::Pending => {
                    *existing = Entry { stored, matchers };
                    self.save()?;
                    return Ok(id);
                }
                SilenceState::Active => {
                    if existing.stored.matchers == stored.matchers && p.starts_at <= now {
                        stored.starts_at = existing.stored.starts_at;
                        *existing = Entry { stored, matchers };
                        self.save()?;
                        return Ok(id);
                    }
                    existing.stored.ends_at = now;
                    existing.stored.updated_at = now;
                }
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        self.by_id.insert(id.clone(), Entry { stored, matchers });
        self.save()?;
        Ok(id)
    }

    /// Returns the silence `id`.
    pub(crate) fn get(&self, id: &str, now: OffsetDateTime) -> Option<GettableSilence> {
        self.by_id.get(id).map(|e| e.gettable(id, now))
    }

    /// Ends the silence `id` now (a pending silence never starts).
    pub(crate) fn expire(&mut self, id: &str, now: OffsetDateTime) -> Result<(), SilenceError> {
        let entry = self
            .by_id
            .get_mut(id)
            .ok_or_else(|| SilenceError::NotFound(id.to_owned()))?;
        match entry.state(now) {
            SilenceState::Expired => return Err(SilenceError::AlreadyExpired(id.to_owned())),
            SilenceState::Pending => entry.stored.starts_at = now,
            SilenceState::Active => {}
        }
        entry.stored.ends_at = now;
        entry.stored.updated_at = now;
        self.save()
    }

    /// Lists silences whose matchers satisfy `filter`: active first (soonest end first), then
    /// pending (soonest start first), then expired (latest end first).
    pub(crate) fn list(&self, filter: &[Matcher], now: OffsetDateTime) -> Vec<GettableSilence> {
        let mut out: Vec<GettableSilence> = self
            .by_id
            .iter()
            .filter(|(_, e)| {
                filter.iter().all(|f| {
                    e.matchers
                        .iter()
                        .any(|m| m.name == f.name && f.matches_value(&m.value))
                })
            })
            .map(|(id, e)| e.gettable(id, now))
            .collect();
        let rank = |s: &GettableSilence| match s.status.state {
            SilenceState::Active => (0, s.ends_at.unix_timestamp_nanos()),
            SilenceState::Pending => (1, s.starts_at.unix_timestamp_nanos()),
            SilenceState::Expired => (2, -s.ends_at.unix_timestamp_nanos()),
        };
        out.sort_by_key(rank);
        out
    }

    /// Returns the ids of active silences muting `labels`.
    pub(crate) fn silenced_by(&self, labels: &LabelSet, now: OffsetDateTime) -> Vec<String> {
        self.by_id
            .iter()
            .filter(|(_, e)| e.state(now) == SilenceState::Active && all_match(&e.matchers, labels))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Drops silences that expired more than `retention` ago.
    pub(crate) fn gc(
        &mut self,
        now: OffsetDateTime,
        retention: time::Duration,
    ) -> Result<(), SilenceError> {
        let before = self.by_id.len();
        self.by_id.retain(|_, e| e.stored.ends_at + retention > now);
        if self.by_id.len() != before {
            self.save()
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;

    const T0: OffsetDateTime = datetime!(2026-11-24 10:00 UTC);

    fn postable(
        matchers: &[(&str, &str, bool)],
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> PostableSilence {
        PostableSilence {
            id: None,
            matchers: matchers
                .iter()
                .map(|(n, v, re)| WireMatcher {
                    name: (*n).into(),
                    value: (*v).into(),
                    is_regex: *re,
                    is_equal: true,
                })
                .collect(),
            starts_at: start,
            ends_at: end,
            created_by: "ops".into(),
            comment: "maintenance".into(),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn lifecycle_pending_active_expired() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Silences::load(dir.path().join("silences.json")).unwrap();
        let id = s
            .set(
                postable(
                    &[("job", "api|web", true)],
                    T0 + Duration::hours(1),
                    T0 + Duration::hours(2),
                ),
                T0,
            )
            .unwrap();
        let l = labels(&[("job", "api")]);
        assert_eq!(s.get(&id, T0).unwrap().status.state, SilenceState::Pending);
        assert!(s.silenced_by(&l, T0).is_empty());
        let t1 = T0 + Duration::minutes(90);
        assert_eq!(s.get(&id, t1).unwrap().status.state, SilenceState::Active);
        assert_eq!(s.silenced_by(&l, t1), vec![id.clone()]);
        assert!(s.silenced_by(&labels(&[("job", "apix")]), t1).is_empty());
        s.expire(&id, t1).unwrap();
        assert_eq!(s.get(&id, t1).unwrap().status.state, SilenceState::Expired);
        assert!(matches!(
            s.expire(&id, t1),
            Err(SilenceError::AlreadyExpired(_))
        ));
        assert!(matches!(
            s.expire("nope", t1),
            Err(SilenceError::NotFound(_))
        ));
    }

    #[test]
    fn persists_across_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("silences.json");
        let id = Silences::load(path.clone())
            .unwrap()
            .set(
                postable(&[("a", "b", false)], T0, T0 + Duration::hours(1)),
                T0,
            )
            .unwrap();
        let s = Silences::load(path).unwrap();
        let got = s.get(&id, T0).unwrap();
        assert_eq!(got.created_by, "ops");
        assert_eq!(s.silenced_by(&labels(&[("a", "b")]), T0), vec![id]);
    }

    #[test]
    fn validation() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Silences::load(dir.path().join("s.json")).unwrap();
        let end = T0 + Duration::hours(1);
        assert!(matches!(
            s.set(postable(&[], T0, end), T0),
            Err(SilenceError::Invalid(_))
        ));
        assert!(
            matches!(s.set(postable(&[("a", ".*", true)], T0, end), T0), Err(SilenceError::Invalid(m)) if m.contains("empty string"))
        );
        assert!(matches!(
            s.set(postable(&[("a", "b", false)], end, T0), T0),
            Err(SilenceError::Invalid(_))
        ));
        assert!(
            matches!(s.set(postable(&[("a", "b", false)], T0 - Duration::hours(2), T0 - Duration::hours(1)), T0), Err(SilenceError::Invalid(m)) if m.contains("past"))
        );
        assert!(matches!(
            s.set(postable(&[("a", "(", true)], T0, end), T0),
            Err(SilenceError::Invalid(_))
        ));
        let mut p = postable(&[("a", "b", false)], T0, end);
        p.id = Some("missing".into());
        assert!(matches!(s.set(p, T0), Err(SilenceError::NotFound(_))));
    }

    #[test]
    fn updates_in_place_or_replace() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Silences::load(dir.path().join("s.json")).unwrap();
        let id = s
            .set(
                postable(&[("a", "b", false)], T0, T0 + Duration::hours(1)),
                T0,
            )
            .unwrap();
        let t1 = T0 + Duration::minutes(10);
        // Extending an active silence keeps its id and start.
        let mut p = postable(&[("a", "b", false)], T0, T0 + Duration::hours(3));
        p.id = Some(id.clone());
        assert_eq!(s.set(p, t1).unwrap(), id);
        assert_eq!(s.get(&id, t1).unwrap().starts_at, T0);
        // Changing the matchers of an active silence expires it and creates another.
        let mut p = postable(&[("a", "c", false)], t1, T0 + Duration::hours(3));
        p.id = Some(id.clone());
        let new_id = s.set(p, t1).unwrap();
        assert_ne!(new_id, id);
        assert_eq!(s.get(&id, t1).unwrap().status.state, SilenceState::Expired);
        let filter = Matcher::parse_list(r#"a="c""#).unwrap();
        let listed = s.list(&filter, t1);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, new_id);
        assert_eq!(s.list(&[], t1)[0].status.state, SilenceState::Active);
        s.gc(t1 + Duration::days(6), Duration::days(5)).unwrap();
        assert!(s.get(&id, t1).is_none());
    }
}
