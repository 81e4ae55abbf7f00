//! What `ampd audit` does on a data folder without a running server: validation of the trail's
//! files and export of its public key.

use std::path::Path;

use ampd_audit::{LOGS_DIR, TrailConfig, ValidationReport, trail_public_keys, validate};
use anyhow::Context;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::Config;

/// Folder of the audit trail inside the data folder.
pub const AUDIT_DIR: &str = "audit";

/// Returns the trail settings of a server configuration.
pub(crate) fn trail_config(config: &Config) -> TrailConfig {
    TrailConfig {
        roll_interval_seconds: config.audit_roll_interval_seconds,
        digest_interval_seconds: config.audit_digest_interval_seconds,
        data_events: config.audit_data_events,
        ..TrailConfig::new(
            config.data_dir.join(AUDIT_DIR),
            &config.account_id,
            &config.region,
        )
    }
}

/// Parses a time the way the AWS CLI accepts one: RFC 3339 (`2025-01-02T03:04:05Z`) or Unix
/// epoch seconds.
pub fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    if let Ok(secs) = text.parse::<i64>() {
        return OffsetDateTime::from_unix_timestamp(secs).map_err(|e| e.to_string());
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| format!("{text:?} is neither RFC 3339 nor epoch seconds: {e}"))
}

/// Validates the trail in `data_dir` between `start` and `end` against the public keys stored
/// with it, or `trusted` (PEM) when given.
pub fn validate_folder(
    data_dir: &Path,
    start: OffsetDateTime,
    end: OffsetDateTime,
    trusted: Option<&str>,
) -> anyhow::Result<ValidationReport> {
    let dir = data_dir.join(AUDIT_DIR);
    let keys = match trusted {
        Some(pem) => vec![
            ampd_audit::AuditPublicKey::from_pem(pem)
                .context("the trusted public key is not a P-256 PEM public key")?,
        ],
        None => trail_public_keys(&dir)
            .with_context(|| format!("no audit trail in {}", dir.display()))?,
    };
    validate(&dir.join(LOGS_DIR), &keys, start, end)
        .with_context(|| format!("cannot validate the audit trail in {}", dir.display()))
}

/// Returns the PEM public key that verifies the digests of the trail in `data_dir`, with its
/// fingerprint as a comment line.
pub fn public_key_pem(data_dir: &Path) -> anyhow::Result<String> {
    let dir = data_dir.join(AUDIT_DIR);
    let keys =
        trail_public_keys(&dir).with_context(|| format!("no audit trail in {}", dir.display()))?;
    Ok(keys
        .iter()
        .map(|k| format!("# fingerprint {}\n{}", k.fingerprint(), k.pem()))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use ampd_audit::{Clock, EventRecord, EventSource, Problem, Trail};
    use time::Duration;

    use super::*;

    #[derive(Debug)]
    struct StepClock(Mutex<OffsetDateTime>);

    impl Clock for StepClock {
        fn now(&self) -> OffsetDateTime {
            *self.0.lock().unwrap()
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_folder_validates_with_its_own_key_or_a_trusted_one() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = OffsetDateTime::from_unix_timestamp(1_735_787_045).unwrap();
        let clock = Arc::new(StepClock(Mutex::new(t0)));
        let config = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        let trail = Trail::open_with_clock(trail_config(&config), clock.clone())
            .await
            .unwrap();
        let event = EventRecord::builder(EventSource::Aps, "CreateWorkspace", t0)
            .region("us-east-1")
            .recipient_account_id("000000000000")
            .request_id("r-1")
            .build()
            .unwrap();
        trail.record(event).await.unwrap();
        trail.roll().await.unwrap();
        *clock.0.lock().unwrap() += Duration::hours(2);
        trail.tick().await.unwrap();
        trail.close().await.unwrap();
        let (start, end) = (t0 - Duration::hours(1), t0 + Duration::hours(3));
        let report = validate_folder(dir.path(), start, end, None).unwrap();
        assert!(report.is_valid(), "{report}");
        assert_eq!((report.digests_checked, report.log_files_checked), (1, 1));

        let own = public_key_pem(dir.path()).unwrap();
        assert!(
            validate_folder(dir.path(), start, end, Some(&own))
                .unwrap()
                .is_valid()
        );
        let other = tempfile::tempdir().unwrap();
        Trail::open(TrailConfig::new(other.path(), "000000000000", "us-east-1"))
            .await
            .unwrap()
            .close()
            .await
            .unwrap();
        let stranger = trail_public_keys(other.path()).unwrap()[0].pem();
        let report = validate_folder(dir.path(), start, end, Some(&stranger)).unwrap();
        assert!(
            matches!(report.problems[..], [Problem::UnknownPublicKey { .. }]),
            "{report}"
        );
        assert!(validate_folder(other.path(), start, end, None).is_err());
    }

    #[test]
    fn times_parse_like_the_cli() {
        assert_eq!(parse_time("0").unwrap(), OffsetDateTime::UNIX_EPOCH);
        assert_eq!(
            parse_time("2025-01-02T03:04:05Z").unwrap().unix_timestamp(),
            1_735_787_045
        );
        assert!(parse_time("yesterday").is_err());
    }
}
