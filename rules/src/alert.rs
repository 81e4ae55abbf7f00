//! Alerts as the Alertmanager keeps them, and their fingerprints.

use std::hash::Hasher;

use fnv::FnvHasher;
use time::OffsetDateTime;

use crate::matchers::LabelSet;
use crate::wire::PostableAlert;

/// Identifies an alert by its labels: FNV-1a 64 over sorted `name 0xff value 0xff`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// Computes the fingerprint of `labels`.
    pub fn of(labels: &LabelSet) -> Self {
        let mut h = FnvHasher::default();
        for (k, v) in labels {
            h.write(k.as_bytes());
            h.write(&[0xff]);
            h.write(v.as_bytes());
            h.write(&[0xff]);
        }
        Self(h.finish())
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// An alert held by the Alertmanager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Identifying labels.
    pub labels: LabelSet,
    /// Annotations.
    pub annotations: LabelSet,
    /// Start time.
    pub starts_at: OffsetDateTime,
    /// End time; the alert is resolved from then on.
    pub ends_at: OffsetDateTime,
    /// Last time a client sent the alert.
    pub updated_at: OffsetDateTime,
    /// Link to the alert's source.
    pub generator_url: String,
    /// Whether `ends_at` was derived from `resolve_timeout` rather than sent by the client.
    pub timeout: bool,
    /// Fingerprint of `labels`.
    pub fingerprint: Fingerprint,
}

/// Why a posted alert was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    /// The alert has no labels.
    #[error("at least one label pair required")]
    NoLabels,
    /// A label name is not valid.
    #[error("invalid label name {0:?}")]
    LabelName(String),
    /// A label value is empty.
    #[error("empty value for label {0:?}")]
    EmptyValue(String),
    /// `endsAt` precedes `startsAt`.
    #[error("start time must be before end time")]
    EndBeforeStart,
}

impl Alert {
    /// Validates a posted alert received at `now`, filling defaults the way Alertmanager does.
    pub fn from_postable(
        p: PostableAlert,
        now: OffsetDateTime,
        resolve_timeout: time::Duration,
    ) -> Result<Self, AlertError> {
        if p.labels.is_empty() {
            return Err(AlertError::NoLabels);
        }
        for (k, v) in &p.labels {
            let mut chars = k.chars();
            let ok = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok {
                return Err(AlertError::LabelName(k.clone()));
            }
            if v.is_empty() {
                return Err(AlertError::EmptyValue(k.clone()));
            }
        }
        let starts_at = p.starts_at.or(p.ends_at).unwrap_or(now);
        let (ends_at, timeout) = match p.ends_at {
            Some(e) => (e, false),
            None => (now + resolve_timeout, true),
        };
        if ends_at < starts_at {
            return Err(AlertError::EndBeforeStart);
        }
        Ok(Self {
            fingerprint: Fingerprint::of(&p.labels),
            labels: p.labels,
            annotations: p.annotations,
            starts_at,
            ends_at,
            updated_at: now,
            generator_url: p.generator_url.unwrap_or_default(),
            timeout,
        })
    }

    /// Returns whether the alert is resolved at `now`.
    pub fn resolved_at(&self, now: OffsetDateTime) -> bool {
        self.ends_at <= now
    }

    /// Merges a newer sighting of the same alert into this one.
    ///
    /// A sighting that starts after this alert ended is a new occurrence and replaces it;
    /// otherwise the earlier start is kept and the newer end and annotations win, except that a
    /// timeout-derived end never shortens an explicit one.
    pub fn merge(&mut self, newer: Self) {
        if newer.starts_at > self.ends_at {
            *self = newer;
            return;
        }
        let starts_at = self.starts_at.min(newer.starts_at);
        let keep_end = newer.timeout && !self.timeout && self.ends_at > newer.ends_at;
        let ends_at = if keep_end {
            self.ends_at
        } else {
            newer.ends_at
        };
        let timeout = if keep_end {
            self.timeout
        } else {
            newer.timeout
        };
        *self = Self {
            starts_at,
            ends_at,
            timeout,
            ..newer
        };
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn post(labels: &[(&str, &str)]) -> PostableAlert {
        PostableAlert {
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            annotations: LabelSet::new(),
            starts_at: None,
            ends_at: None,
            generator_url: None,
        }
    }

    #[test]
    fn fingerprint_is_stable_and_label_sensitive() {
        let a = Fingerprint::of(&post(&[("alertname", "A"), ("job", "x")]).labels);
        let b = Fingerprint::of(&post(&[("job", "x"), ("alertname", "A")]).labels);
        let c = Fingerprint::of(&post(&[("alertname", "A"), ("job", "y")]).labels);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.to_string().len(), 16);
        // Moving the separator changes the hash: {a: "bc"} vs {ab: "c"}.
        assert_ne!(
            Fingerprint::of(&post(&[("a", "bc")]).labels),
            Fingerprint::of(&post(&[("ab", "c")]).labels)
        );
    }

    #[test]
    fn defaults_and_validation() {
        let now = datetime!(2026-11-24 10:00 UTC);
        let a = Alert::from_postable(post(&[("a", "b")]), now, time::Duration::minutes(5)).unwrap();
        assert_eq!(a.starts_at, now);
        assert_eq!(a.ends_at, now + time::Duration::minutes(5));
        assert!(a.timeout);
        assert_eq!(
            Alert::from_postable(post(&[]), now, time::Duration::ZERO),
            Err(AlertError::NoLabels)
        );
        assert!(matches!(
            Alert::from_postable(post(&[("1a", "b")]), now, time::Duration::ZERO),
            Err(AlertError::LabelName(_))
        ));
        let mut p = post(&[("a", "b")]);
        p.starts_at = Some(now);
        p.ends_at = Some(now - time::Duration::SECOND);
        assert_eq!(
            Alert::from_postable(p, now, time::Duration::ZERO),
            Err(AlertError::EndBeforeStart)
        );
    }

    #[test]
    fn merge_keeps_start_and_takes_newer_end() {
        let t0 = datetime!(2026-11-24 10:00 UTC);
        let rt = time::Duration::minutes(5);
        let mut a = Alert::from_postable(post(&[("a", "b")]), t0, rt).unwrap();
        let later =
            Alert::from_postable(post(&[("a", "b")]), t0 + time::Duration::minutes(1), rt).unwrap();
        a.merge(later);
        assert_eq!(a.starts_at, t0);
        assert_eq!(a.ends_at, t0 + time::Duration::minutes(6));
        // A new occurrence after the old one ended replaces it.
        let again =
            Alert::from_postable(post(&[("a", "b")]), t0 + time::Duration::hours(1), rt).unwrap();
        a.merge(again.clone());
        assert_eq!(a, again);
    }
}
