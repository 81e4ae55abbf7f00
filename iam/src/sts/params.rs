//! Validation of STS request parameters, with the messages STS answers `ValidationError` with.

use std::collections::BTreeMap;
use std::time::Duration;

/// Session tags one session may carry (STS's quota).
pub const MAX_SESSION_TAGS: usize = 50;

/// A parameter broke one of STS's constraints; the message is STS's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParamError(pub String);

fn constraint(value: &str, field: &str, rule: &str) -> ParamError {
    ParamError(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy \
         constraint: Member {rule}"
    ))
}

/// Whether `s` matches STS's name pattern `[\w+=,.@-]*`.
fn is_session_name_chars(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// A valid `RoleSessionName` (2 to 64 characters of `[\w+=,.@-]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSessionName(String);

impl RoleSessionName {
    /// Validates `name`.
    pub fn parse(name: &str) -> Result<Self, ParamError> {
        validate_name(name, "roleSessionName")?;
        Ok(Self(name.to_owned()))
    }

    /// Returns the name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a `SourceIdentity`: like a session name, and not starting with `aws:`.
pub fn validate_source_identity(value: &str) -> Result<(), ParamError> {
    validate_name(value, "sourceIdentity")?;
    if value.to_ascii_lowercase().starts_with("aws:") {
        return Err(ParamError(
            "SourceIdentity cannot start with the prefix 'aws:'".to_owned(),
        ));
    }
    Ok(())
}

fn validate_name(name: &str, field: &str) -> Result<(), ParamError> {
    let len = name.chars().count();
    if len < 2 {
        return Err(constraint(
            name,
            field,
            "must have length greater than or equal to 2",
        ));
    }
    if len > 64 {
        return Err(constraint(
            name,
            field,
            "must have length less than or equal to 64",
        ));
    }
    if !is_session_name_chars(name) {
        return Err(constraint(
            name,
            field,
            "must satisfy regular expression pattern: [\\w+=,.@-]*",
        ));
    }
    Ok(())
}

/// The range `DurationSeconds` may take and its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationBounds {
    /// Smallest accepted value (STS: 900 seconds).
    pub min: u64,
    /// Largest accepted value.
    pub max: u64,
    /// Value when the parameter is absent.
    pub default: u64,
    /// Message when `max` is exceeded but the value is within the API's own limit; `None`
    /// means the API limit itself is `max`.
    pub exceeded: Option<&'static str>,
    /// The API's own upper limit of the field.
    pub api_max: u64,
}

impl DurationBounds {
    /// `AssumeRole*`: 900 s up to the role's `MaxSessionDuration` (1 hour when chaining).
    pub fn assume_role(max_session_duration: u64, chained: bool) -> Self {
        if chained {
            Self {
                min: 900,
                max: max_session_duration.min(3600),
                default: 3600.min(max_session_duration),
                exceeded: Some(
                    "The requested DurationSeconds exceeds the 1 hour session limit for roles \
                     assumed by role chaining.",
                ),
                api_max: 43_200,
            }
        } else {
            Self {
                min: 900,
                max: max_session_duration,
                default: 3600.min(max_session_duration),
                exceeded: Some(
                    "The requested DurationSeconds exceeds the MaxSessionDuration set for this \
                     role.",
                ),
                api_max: 43_200,
            }
        }
    }

    /// `GetSessionToken`: 900 s to 36 hours for IAM users (default 12 hours), at most 1 hour
    /// for the root user.
    pub fn session_token(root: bool) -> Self {
        if root {
            Self {
                min: 900,
                max: 3600,
                default: 3600,
                exceeded: None,
                api_max: 3600,
            }
        } else {
            Self {
                min: 900,
                max: 129_600,
                default: 43_200,
                exceeded: None,
                api_max: 129_600,
            }
        }
    }
}

/// Parses and bounds-checks a `DurationSeconds` parameter.
pub fn session_duration(
    value: Option<&str>,
    bounds: DurationBounds,
) -> Result<Duration, ParamError> {
    let Some(text) = value else {
        return Ok(Duration::from_secs(bounds.default));
    };
    let secs: u64 = text.trim().parse().map_err(|_| {
        ParamError(format!(
            "1 validation error detected: Value '{text}' at 'durationSeconds' failed to satisfy \
             constraint: Member must be a number"
        ))
    })?;
    if secs < bounds.min {
        return Err(constraint(
            text,
            "durationSeconds",
            &format!("must have value greater than or equal to {}", bounds.min),
        ));
    }
    if secs > bounds.api_max || (secs > bounds.max && bounds.exceeded.is_none()) {
        return Err(constraint(
            text,
            "durationSeconds",
            &format!(
                "must have value less than or equal to {}",
                bounds.api_max.min(bounds.max)
            ),
        ));
    }
    if secs > bounds.max {
        return Err(ParamError(bounds.exceeded.unwrap_or_default().to_owned()));
    }
    Ok(Duration::from_secs(secs))
}

/// Validated session tags (`Tags.member.N`), keys unique regardless of case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionTags(BTreeMap<String, String>);

impl SessionTags {
    /// Validates `tags` (at most [`MAX_SESSION_TAGS`], keys 1–128 and values 0–256 characters
    /// of letters, digits, spaces and `_.:/=+-@`).
    pub fn parse(tags: Vec<(String, String)>) -> Result<Self, ParamError> {
        if tags.len() > MAX_SESSION_TAGS {
            return Err(ParamError(format!(
                "1 validation error detected: Value at 'tags' failed to satisfy constraint: \
                 Member must have length less than or equal to {MAX_SESSION_TAGS}"
            )));
        }
        let allowed = |c: char| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c);
        let mut out = BTreeMap::new();
        let mut seen = std::collections::HashSet::new();
        for (key, value) in tags {
            let klen = key.chars().count();
            if klen == 0 || klen > 128 || !key.chars().all(allowed) {
                return Err(constraint(
                    &key,
                    "tags.member.key",
                    "must have length between 1 and 128 and satisfy regular expression \
                     pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
                ));
            }
            if value.chars().count() > 256 || !value.chars().all(allowed) {
                return Err(constraint(
                    &value,
                    "tags.member.value",
                    "must have length less than or equal to 256 and satisfy regular \
                     expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*",
                ));
            }
            if !seen.insert(key.to_lowercase()) {
                return Err(ParamError(format!(
                    "Duplicate tag keys found. Please note that Tag keys are case \
                     insensitive. Duplicate key: {key}"
                )));
            }
            out.insert(key, value);
        }
        Ok(Self(out))
    }

    /// Returns whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Returns the tags.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// Returns the tags, consuming them.
    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_follow_the_pattern_and_length() {
        for ok in ["ab", "pod-1", "a.b@c=d,e+f_g", &"x".repeat(64)] {
            assert!(RoleSessionName::parse(ok).is_ok(), "{ok}");
        }
        let e = RoleSessionName::parse("a").unwrap_err();
        assert!(e.0.contains("greater than or equal to 2"), "{e}");
        let e = RoleSessionName::parse(&"x".repeat(65)).unwrap_err();
        assert!(e.0.contains("less than or equal to 64"), "{e}");
        let e = RoleSessionName::parse("has space").unwrap_err();
        assert!(e.0.contains("at 'roleSessionName'"), "{e}");
        assert!(RoleSessionName::parse("é-name").is_err());
        assert!(validate_source_identity("alice@example.com").is_ok());
        assert!(validate_source_identity("aws:me").is_err());
    }

    #[test]
    fn durations_are_bounded_per_api() {
        let role = DurationBounds::assume_role(7200, false);
        assert_eq!(session_duration(None, role).unwrap().as_secs(), 3600);
        assert_eq!(
            session_duration(Some("7200"), role).unwrap().as_secs(),
            7200
        );
        let e = session_duration(Some("899"), role).unwrap_err();
        assert!(e.0.contains("greater than or equal to 900"), "{e}");
        let e = session_duration(Some("7201"), role).unwrap_err();
        assert!(e.0.contains("MaxSessionDuration"), "{e}");
        let e = session_duration(Some("50000"), role).unwrap_err();
        assert!(e.0.contains("less than or equal to 7200"), "{e}");
        assert!(session_duration(Some("abc"), role).is_err());
        let chained = DurationBounds::assume_role(43_200, true);
        let e = session_duration(Some("3601"), chained).unwrap_err();
        assert!(e.0.contains("role chaining"), "{e}");
        let short = DurationBounds::assume_role(900, false);
        assert_eq!(session_duration(None, short).unwrap().as_secs(), 900);
        let user = DurationBounds::session_token(false);
        assert_eq!(session_duration(None, user).unwrap().as_secs(), 43_200);
        assert!(session_duration(Some("129600"), user).is_ok());
        assert!(session_duration(Some("129601"), user).is_err());
        let root = DurationBounds::session_token(true);
        assert_eq!(session_duration(None, root).unwrap().as_secs(), 3600);
        let e = session_duration(Some("3601"), root).unwrap_err();
        assert!(e.0.contains("less than or equal to 3600"), "{e}");
    }

    #[test]
    fn session_tags_are_checked() {
        let t = SessionTags::parse(vec![("team".into(), "obs".into())]).unwrap();
        assert_eq!(t.as_map().get("team").map(String::as_str), Some("obs"));
        assert!(SessionTags::parse(vec![("".into(), "v".into())]).is_err());
        assert!(SessionTags::parse(vec![("k".into(), "bad\u{0}".into())]).is_err());
        let dup = SessionTags::parse(vec![
            ("Team".into(), "a".into()),
            ("team".into(), "b".into()),
        ]);
        assert!(dup.unwrap_err().0.contains("Duplicate tag keys"));
        let many = (0..51).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert!(SessionTags::parse(many).is_err());
    }
}
