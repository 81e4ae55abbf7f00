//! Offline integrity validation of a trail folder, modeled on `aws cloudtrail validate-logs`.
//!
//! Beyond what the CLI reports, log files that no valid digest lists are reported as inserted,
//! except those written after the newest digest, which no digest could list yet.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::path::Path;

use time::{Duration, OffsetDateTime};

use crate::digest::{Digest, SignatureHeader};
use crate::error::AuditResult;
use crate::keys::{AuditPublicKey, SIGNATURE_ALGORITHM};
use crate::layout::{
    ObjectKind, ct_eq, digest_key_time, gunzip, list_objects, log_key_time, object_path, sha256_hex,
};

/// Precision of the write time in a log file key.
const MINUTE: Duration = Duration::minutes(1);

/// One integrity problem found by [`validate`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Problem {
    /// A listed log file whose SHA-256 differs from the digest's.
    ModifiedLogFile {
        /// Key of the log file.
        key: String,
    },
    /// A log file listed in a digest but missing.
    DeletedLogFile {
        /// Key of the log file.
        key: String,
    },
    /// A log file no valid digest lists although a later digest exists.
    InsertedLogFile {
        /// Key of the log file.
        key: String,
    },
    /// A digest that cannot be read, whose signature fails, or whose hash or signature differs
    /// from what the next digest recorded.
    ModifiedDigest {
        /// Key of the digest.
        key: String,
        /// What failed.
        reason: String,
    },
    /// A digest named as previous by another digest but missing.
    DeletedDigest {
        /// Key of the missing digest.
        key: String,
    },
    /// A digest found somewhere other than where it says it was written.
    MovedDigest {
        /// Where it was found.
        key: String,
        /// Where it claims to be.
        claimed: String,
    },
    /// A digest signed by a key that is not among the trusted public keys.
    UnknownPublicKey {
        /// Key of the digest.
        key: String,
        /// Fingerprint it names.
        fingerprint: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ModifiedLogFile { key } => {
                write!(f, "Log file {key} INVALID: hash value doesn't match")
            }
            Self::DeletedLogFile { key } => write!(f, "Log file {key} INVALID: not found"),
            Self::InsertedLogFile { key } => {
                write!(f, "Log file {key} INVALID: not listed in any digest")
            }
            Self::ModifiedDigest { key, reason } => {
                write!(f, "Digest file {key} INVALID: {reason}")
            }
            Self::DeletedDigest { key } => write!(f, "Digest file {key} INVALID: not found"),
            Self::MovedDigest { key, claimed } => {
                write!(
                    f,
                    "Digest file {key} INVALID: has been moved from its original location {claimed}"
                )
            }
            Self::UnknownPublicKey { key, fingerprint } => {
                write!(
                    f,
                    "Digest file {key} INVALID: public key not found for fingerprint {fingerprint}"
                )
            }
        }
    }
}

/// Outcome of [`validate`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationReport {
    /// Digests in the range that were checked.
    pub digests_checked: usize,
    /// Of those, how many are valid.
    pub digests_valid: usize,
    /// Log files listed by the checked digests.
    pub log_files_checked: usize,
    /// Of those, how many are valid.
    pub log_files_valid: usize,
    /// Every problem found.
    pub problems: Vec<Problem>,
    /// Log files written after the newest digest: not yet covered, so neither valid nor invalid.
    pub not_yet_digested: Vec<String>,
}

impl ValidationReport {
    /// Returns true when nothing was found wrong.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.problems {
            writeln!(f, "{p}")?;
        }
        writeln!(
            f,
            "{}/{} digest files valid",
            self.digests_valid, self.digests_checked
        )?;
        writeln!(
            f,
            "{}/{} log files valid",
            self.log_files_valid, self.log_files_checked
        )?;
        if !self.not_yet_digested.is_empty() {
            writeln!(
                f,
                "{} log files not yet covered by a digest",
                self.not_yet_digested.len()
            )?;
        }
        Ok(())
    }
}

/// A digest read from disk.
struct Found {
    digest: Option<Digest>,
    hash: String,
    signature: Option<String>,
    valid: bool,
    /// Whether its period ends within the validated range.
    in_range: bool,
}

/// Validates the trail whose bucket folder is `root`: digests whose period ends in
/// `[start, end]`, the log files they list, their links to the previous digests, and log files
/// written in the range.
pub fn validate(
    root: &Path,
    public_keys: &[AuditPublicKey],
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> AuditResult<ValidationReport> {
    let in_range = |t: Option<OffsetDateTime>| t.is_some_and(|t| start <= t && t <= end);
    let objects = list_objects(root)?;
    let mut report = ValidationReport::default();
    let mut problems = BTreeSet::new();
    // Every digest is read, also outside the range: links and listings cross its edges.
    let mut found = BTreeMap::new();
    for (key, _) in objects.iter().filter(|(_, k)| *k == ObjectKind::Digest) {
        let (mut entry, problem) = read_digest(root, key, public_keys);
        entry.in_range = in_range(digest_key_time(key));
        if entry.in_range {
            problems.extend(problem);
        }
        found.insert(key.clone(), entry);
    }
    let mut listed = BTreeSet::new();
    let mut newest_end = None;
    for (key, entry) in &found {
        let (Some(d), true) = (&entry.digest, entry.valid) else {
            continue;
        };
        listed.extend(d.log_files.iter().map(|f| f.s3_object.clone()));
        newest_end = newest_end.max(Some(d.digest_end_time));
        let Some(prev_key) = d
            .previous_digest_s3_object
            .as_ref()
            .filter(|_| entry.in_range)
        else {
            continue;
        };
        match found.get(prev_key) {
            None => {
                problems.insert(Problem::DeletedDigest {
                    key: prev_key.clone(),
                });
            }
            Some(prev) => {
                let hash_ok = d
                    .previous_digest_hash_value
                    .as_deref()
                    .is_some_and(|h| ct_eq(h, &prev.hash));
                let sig_ok = match (&d.previous_digest_signature, &prev.signature) {
                    (Some(recorded), Some(actual)) => ct_eq(recorded, actual),
                    _ => false,
                };
                if !(hash_ok && sig_ok) {
                    problems.insert(Problem::ModifiedDigest {
                        key: prev_key.clone(),
                        reason: format!("hash value doesn't match the one recorded in {key}"),
                    });
                }
            }
        }
    }
    for (key, entry) in found.iter().filter(|(_, e)| e.in_range) {
        report.digests_checked += 1;
        if !problems.iter().any(|p| problem_key(p) == key) {
            report.digests_valid += 1;
        }
        let (Some(d), true) = (&entry.digest, entry.valid) else {
            continue;
        };
        for file in &d.log_files {
            report.log_files_checked += 1;
            match check_log_file(root, &file.s3_object, &file.hash_value) {
                None => report.log_files_valid += 1,
                Some(p) => {
                    problems.insert(p);
                }
            }
        }
    }
    for (key, _) in objects.iter().filter(|(_, k)| *k == ObjectKind::Log) {
        let written = log_key_time(key);
        if !in_range(written) || listed.contains(key) {
            continue;
        }
        // A key names the minute its file was written in, so a file named in minute `w` may
        // have been written up to a minute later, after a digest that ended within that minute.
        let digested_since = |w: OffsetDateTime| newest_end.is_some_and(|e| w + MINUTE <= e);
        if written.is_some_and(digested_since) {
            problems.insert(Problem::InsertedLogFile { key: key.clone() });
        } else {
            report.not_yet_digested.push(key.clone());
        }
    }
    report.problems = problems.into_iter().collect();
    Ok(report)
}

fn problem_key(p: &Problem) -> &str {
    match p {
        Problem::ModifiedLogFile { key }
        | Problem::DeletedLogFile { key }
        | Problem::InsertedLogFile { key }
        | Problem::ModifiedDigest { key, .. }
        | Problem::DeletedDigest { key }
        | Problem::MovedDigest { key, .. }
        | Problem::UnknownPublicKey { key, .. } => key,
    }
}

/// Reads one digest and checks its location, key and signature.
fn read_digest(root: &Path, key: &str, public_keys: &[AuditPublicKey]) -> (Found, Option<Problem>) {
    let modified = |reason: String| Problem::ModifiedDigest {
        key: key.to_owned(),
        reason,
    };
    let unreadable = |reason: String| {
        let found = Found {
            digest: None,
            hash: String::new(),
            signature: None,
            valid: false,
            in_range: false,
        };
        (found, Some(modified(reason)))
    };
    let Some(path) = object_path(root, key) else {
        return unreadable("invalid key".into());
    };
    let raw = match fs::read(&path) {
        Ok(raw) => raw,
        Err(e) => return unreadable(format!("cannot be read: {e}")),
    };
    let unzipped = match gunzip(&raw) {
        Ok(u) => u,
        Err(e) => return unreadable(e),
    };
    let hash = sha256_hex(&unzipped.bytes);
    let header = unzipped.comment.as_deref().and_then(SignatureHeader::parse);
    let signature = header.as_ref().map(|h| h.signature_hex.clone());
    let mut found = Found {
        digest: None,
        hash,
        signature,
        valid: false,
        in_range: false,
    };
    let digest: Digest = match serde_json::from_slice(&unzipped.bytes) {
        Ok(d) => d,
        Err(e) => return (found, Some(modified(format!("not a digest: {e}")))),
    };
    let problem = if digest.digest_s3_object != key {
        Some(Problem::MovedDigest {
            key: key.to_owned(),
            claimed: digest.digest_s3_object.clone(),
        })
    } else if let Some(pk) = public_keys
        .iter()
        .find(|k| k.fingerprint() == digest.digest_public_key_fingerprint)
    {
        let verified = header.as_ref().is_some_and(|h| {
            h.algorithm == SIGNATURE_ALGORITHM
                && digest.digest_signature_algorithm == SIGNATURE_ALGORITHM
                && hex::decode(&h.signature_hex)
                    .is_ok_and(|sig| pk.verify(digest.string_to_sign(&found.hash).as_bytes(), &sig))
        });
        (!verified).then(|| modified("signature verification failed".into()))
    } else {
        Some(Problem::UnknownPublicKey {
            key: key.to_owned(),
            fingerprint: digest.digest_public_key_fingerprint.clone(),
        })
    };
    found.valid = problem.is_none();
    found.digest = Some(digest);
    (found, problem)
}

/// Checks one listed log file against its recorded hash.
fn check_log_file(root: &Path, key: &str, expected: &str) -> Option<Problem> {
    let Some(path) = object_path(root, key) else {
        return Some(Problem::DeletedLogFile {
            key: key.to_owned(),
        });
    };
    let raw = match fs::read(&path) {
        Ok(raw) => raw,
        Err(_) => {
            return Some(Problem::DeletedLogFile {
                key: key.to_owned(),
            });
        }
    };
    let matches = gunzip(&raw).is_ok_and(|u| ct_eq(&sha256_hex(&u.bytes), expected));
    (!matches).then(|| Problem::ModifiedLogFile {
        key: key.to_owned(),
    })
}
