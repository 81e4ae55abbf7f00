//! Digest files: the hourly, signed, chained list of delivered log files.
//!
//! The JSON is CloudTrail's digest structure. CloudTrail keeps the signature in S3 object
//! metadata (`x-amz-meta-signature`, `x-amz-meta-signature-algorithm`); a file has no metadata,
//! so the same two values travel in the gzip header comment, which leaves the uncompressed digest
//! bytes (and so their hash) exactly what was signed.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::error::{AuditError, AuditResult};
use crate::keys::{AuditKeyPair, SIGNATURE_ALGORITHM};
use crate::layout::{digest_key, gunzip, gzip, object_path, sha256_hex, write_atomic};
use crate::timefmt::{self, iso_seconds};

/// Hash algorithm named in digests.
pub(crate) const HASH_ALGORITHM: &str = "SHA-256";

/// A digest file's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Digest {
    pub(crate) aws_account_id: String,
    #[serde(with = "iso_seconds")]
    pub(crate) digest_start_time: OffsetDateTime,
    #[serde(with = "iso_seconds")]
    pub(crate) digest_end_time: OffsetDateTime,
    pub(crate) digest_s3_bucket: String,
    pub(crate) digest_s3_object: String,
    pub(crate) digest_public_key_fingerprint: String,
    pub(crate) digest_signature_algorithm: String,
    #[serde(with = "iso_seconds::option")]
    pub(crate) newest_event_time: Option<OffsetDateTime>,
    #[serde(with = "iso_seconds::option")]
    pub(crate) oldest_event_time: Option<OffsetDateTime>,
    pub(crate) previous_digest_s3_bucket: Option<String>,
    pub(crate) previous_digest_s3_object: Option<String>,
    pub(crate) previous_digest_hash_value: Option<String>,
    pub(crate) previous_digest_hash_algorithm: Option<String>,
    pub(crate) previous_digest_signature: Option<String>,
    pub(crate) log_files: Vec<LogFileEntry>,
}

impl Digest {
    /// Returns the string CloudTrail signs for a digest whose uncompressed bytes hash to
    /// `digest_hash_hex`.
    pub(crate) fn string_to_sign(&self, digest_hash_hex: &str) -> String {
        format!(
            "{}\n{}/{}\n{}\n{}",
            timefmt::iso(self.digest_end_time),
            self.digest_s3_bucket,
            self.digest_s3_object,
            digest_hash_hex,
            self.previous_digest_signature.as_deref().unwrap_or("null"),
        )
    }
}

/// One delivered log file as listed in a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogFileEntry {
    pub(crate) s3_bucket: String,
    pub(crate) s3_object: String,
    /// Hex SHA-256 of the uncompressed log file.
    pub(crate) hash_value: String,
    pub(crate) hash_algorithm: String,
    #[serde(with = "iso_seconds")]
    pub(crate) newest_event_time: OffsetDateTime,
    #[serde(with = "iso_seconds")]
    pub(crate) oldest_event_time: OffsetDateTime,
}

/// The signature values carried in a digest's gzip header comment.
pub(crate) struct SignatureHeader {
    pub(crate) signature_hex: String,
    pub(crate) algorithm: String,
}

impl SignatureHeader {
    fn encode(&self) -> String {
        format!(
            "signature={};signature-algorithm={}",
            self.signature_hex, self.algorithm
        )
    }

    /// Parses a header comment written by [`SignatureHeader::encode`].
    pub(crate) fn parse(comment: &str) -> Option<Self> {
        let mut signature_hex = None;
        let mut algorithm = None;
        for part in comment.split(';') {
            match part.split_once('=')? {
                ("signature", v) => signature_hex = Some(v.to_owned()),
                ("signature-algorithm", v) => algorithm = Some(v.to_owned()),
                _ => return None,
            }
        }
        Some(Self {
            signature_hex: signature_hex?,
            algorithm: algorithm?,
        })
    }
}

/// Link to the last written digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreviousDigest {
    object: String,
    hash_value: String,
    signature: String,
}

/// Persistent state of the open digest period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChainState {
    #[serde(with = "iso_seconds")]
    period_start: OffsetDateTime,
    previous: Option<PreviousDigest>,
    files: Vec<LogFileEntry>,
}

/// Names the digests of one trail.
#[derive(Debug, Clone)]
pub(crate) struct DigestNaming {
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) trail: String,
    pub(crate) bucket: String,
}

/// The digest chain of a trail: the open period, its delivered files and the last digest.
#[derive(Debug)]
pub(crate) struct DigestChain {
    naming: DigestNaming,
    root: PathBuf,
    state_path: PathBuf,
    interval: Duration,
    state: ChainState,
}

impl DigestChain {
    /// Loads the chain state, or starts a chain at the current period.
    pub(crate) fn open(
        naming: DigestNaming,
        root: PathBuf,
        state_path: PathBuf,
        interval: Duration,
        now: OffsetDateTime,
    ) -> AuditResult<Self> {
        let state = if state_path
            .try_exists()
            .map_err(AuditError::io(&state_path))?
        {
            let bytes = fs::read(&state_path).map_err(AuditError::io(&state_path))?;
            serde_json::from_slice(&bytes).map_err(|e| AuditError::Corrupt {
                path: state_path.clone(),
                reason: e.to_string(),
            })?
        } else {
            ChainState {
                period_start: floor(now, interval),
                previous: None,
                files: Vec::new(),
            }
        };
        let chain = Self {
            naming,
            root,
            state_path,
            interval,
            state,
        };
        chain.persist()?;
        Ok(chain)
    }

    /// Returns the bucket name written in log file entries.
    pub(crate) fn bucket(&self) -> &str {
        &self.naming.bucket
    }

    /// Returns whether the open period already lists `key`.
    pub(crate) fn lists(&self, key: &str) -> bool {
        self.state.files.iter().any(|f| f.s3_object == key)
    }

    /// Adds a delivered log file to the open period.
    pub(crate) fn add_file(&mut self, entry: LogFileEntry) -> AuditResult<()> {
        self.state.files.push(entry);
        self.persist()
    }

    /// Closes the open period if it has ended by `now`, writing its digest; returns its key.
    ///
    /// A restart after downtime writes one digest spanning the gap, so the chain stays unbroken.
    pub(crate) fn close_periods(
        &mut self,
        now: OffsetDateTime,
        keys: &AuditKeyPair,
    ) -> AuditResult<Option<String>> {
        let end = floor(now, self.interval);
        if end <= self.state.period_start {
            return Ok(None);
        }
        let n = &self.naming;
        let key = digest_key(&n.account, &n.region, &n.trail, &n.region, end);
        let path = object_path(&self.root, &key)
            .ok_or_else(|| AuditError::Config(format!("invalid digest key {key}")))?;
        // A crash between writing the digest and saving the state leaves the digest on disk:
        // adopt it rather than sign a second, conflicting one.
        let previous = if path.try_exists().map_err(AuditError::io(&path))? {
            read_link(&path, &key)?
        } else {
            self.write_digest(end, key.clone(), &path, keys)?
        };
        self.state = ChainState {
            period_start: end,
            previous: Some(previous),
            files: Vec::new(),
        };
        self.persist()?;
        Ok(Some(key))
    }

    fn write_digest(
        &self,
        end: OffsetDateTime,
        key: String,
        path: &Path,
        keys: &AuditKeyPair,
    ) -> AuditResult<PreviousDigest> {
        let files = &self.state.files;
        let previous = self.state.previous.as_ref();
        let digest = Digest {
            aws_account_id: self.naming.account.clone(),
            digest_start_time: self.state.period_start,
            digest_end_time: end,
            digest_s3_bucket: self.naming.bucket.clone(),
            digest_s3_object: key.clone(),
            digest_public_key_fingerprint: keys.public_key().fingerprint().to_owned(),
            digest_signature_algorithm: SIGNATURE_ALGORITHM.to_owned(),
            newest_event_time: files.iter().map(|f| f.newest_event_time).max(),
            oldest_event_time: files.iter().map(|f| f.oldest_event_time).min(),
            previous_digest_s3_bucket: previous.map(|_| self.naming.bucket.clone()),
            previous_digest_s3_object: previous.map(|p| p.object.clone()),
            previous_digest_hash_value: previous.map(|p| p.hash_value.clone()),
            previous_digest_hash_algorithm: previous.map(|_| HASH_ALGORITHM.to_owned()),
            previous_digest_signature: previous.map(|p| p.signature.clone()),
            log_files: files.clone(),
        };
        let json = serde_json::to_vec(&digest)?;
        let hash_value = sha256_hex(&json);
        let signature_hex = hex::encode(keys.sign(digest.string_to_sign(&hash_value).as_bytes())?);
        let header = SignatureHeader {
            signature_hex: signature_hex.clone(),
            algorithm: SIGNATURE_ALGORITHM.into(),
        };
        write_atomic(path, &gzip(&json, Some(&header.encode()))?)?;
        tracing::info!(key = %key, files = files.len(), "wrote audit digest {key}");
        Ok(PreviousDigest {
            object: key,
            hash_value,
            signature: signature_hex,
        })
    }

    fn persist(&self) -> AuditResult<()> {
        write_atomic(&self.state_path, &serde_json::to_vec_pretty(&self.state)?)
    }
}

/// Reads the chain link (hash and signature) of a digest already on disk.
fn read_link(path: &Path, key: &str) -> AuditResult<PreviousDigest> {
    let corrupt = |reason: String| AuditError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let raw = fs::read(path).map_err(AuditError::io(path))?;
    let unzipped = gunzip(&raw).map_err(corrupt)?;
    let header = unzipped
        .comment
        .as_deref()
        .and_then(SignatureHeader::parse)
        .ok_or_else(|| corrupt("no signature in the gzip header".into()))?;
    Ok(PreviousDigest {
        object: key.to_owned(),
        hash_value: sha256_hex(&unzipped.bytes),
        signature: header.signature_hex,
    })
}

/// Rounds `t` down to a multiple of `interval` since the Unix epoch.
pub(crate) fn floor(t: OffsetDateTime, interval: Duration) -> OffsetDateTime {
    let step = interval.whole_seconds().max(1);
    let secs = t.unix_timestamp();
    let floored = secs - secs.rem_euclid(step);
    OffsetDateTime::from_unix_timestamp(floored).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn string_to_sign_matches_cloudtrail() {
        let d = Digest {
            aws_account_id: "123456789012".into(),
            digest_start_time: datetime!(2025-01-02 02:00 UTC),
            digest_end_time: datetime!(2025-01-02 03:00 UTC),
            digest_s3_bucket: "bucket".into(),
            digest_s3_object: "AWSLogs/d.json.gz".into(),
            digest_public_key_fingerprint: "ff".into(),
            digest_signature_algorithm: SIGNATURE_ALGORITHM.into(),
            newest_event_time: None,
            oldest_event_time: None,
            previous_digest_s3_bucket: None,
            previous_digest_s3_object: None,
            previous_digest_hash_value: None,
            previous_digest_hash_algorithm: None,
            previous_digest_signature: None,
            log_files: Vec::new(),
        };
        assert_eq!(
            d.string_to_sign("abc"),
            "2025-01-02T03:00:00Z\nbucket/AWSLogs/d.json.gz\nabc\nnull"
        );
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["digestS3Bucket"], "bucket");
        assert_eq!(v["previousDigestSignature"], serde_json::Value::Null);
        assert_eq!(v["newestEventTime"], serde_json::Value::Null);
    }

    #[test]
    fn signature_header_round_trips() {
        let h = SignatureHeader {
            signature_hex: "00ff".into(),
            algorithm: "SHA256withECDSA".into(),
        };
        let parsed = SignatureHeader::parse(&h.encode()).unwrap();
        assert_eq!(
            (parsed.signature_hex.as_str(), parsed.algorithm.as_str()),
            ("00ff", "SHA256withECDSA")
        );
        assert!(SignatureHeader::parse("garbage").is_none());
    }

    #[test]
    fn floor_aligns_to_the_interval() {
        let hour = Duration::hours(1);
        assert_eq!(
            floor(datetime!(2025-01-02 03:59:59 UTC), hour),
            datetime!(2025-01-02 03:00 UTC)
        );
        assert_eq!(
            floor(datetime!(2025-01-02 03:00 UTC), hour),
            datetime!(2025-01-02 03:00 UTC)
        );
    }
}
