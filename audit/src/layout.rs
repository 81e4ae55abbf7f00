//! Where files go (CloudTrail's object key layout under the trail's bucket folder) and how they
//! are written: gzip, atomically, synced.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use flate2::bufread::GzDecoder;
use flate2::{Compression, GzBuilder};
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};
use time::OffsetDateTime;

use crate::error::{AuditError, AuditResult};
use crate::timefmt;

/// Suffix of log and digest objects.
const OBJECT_SUFFIX: &str = ".json.gz";

/// Returns the key of a log file written at `written` (CloudTrail's
/// `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<time>_<unique>.json.gz`).
pub(crate) fn log_key(
    account: &str,
    region: &str,
    written: OffsetDateTime,
    unique: &str,
) -> String {
    format!(
        "AWSLogs/{account}/CloudTrail/{region}/{date}/{account}_CloudTrail_{region}_{time}_{unique}{OBJECT_SUFFIX}",
        date = timefmt::key_date(written),
        time = timefmt::key_minutes(written),
    )
}

/// Returns the key of the digest whose period ends at `end`.
pub(crate) fn digest_key(
    account: &str,
    region: &str,
    trail: &str,
    home_region: &str,
    end: OffsetDateTime,
) -> String {
    format!(
        "AWSLogs/{account}/CloudTrail-Digest/{region}/{date}/{account}_CloudTrail-Digest_{region}_{trail}_{home_region}_{time}{OBJECT_SUFFIX}",
        date = timefmt::key_date(end),
        time = timefmt::key_seconds(end),
    )
}

/// Kinds of object found under the bucket folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ObjectKind {
    /// A log file.
    Log,
    /// A digest file.
    Digest,
}

/// Classifies a key by its `AWSLogs/<account>/<kind>/` prefix and suffix.
pub(crate) fn classify(key: &str) -> Option<ObjectKind> {
    let mut parts = key.split('/');
    if parts.next() != Some("AWSLogs") || !key.ends_with(OBJECT_SUFFIX) {
        return None;
    }
    let _account = parts.next()?;
    match parts.next()? {
        "CloudTrail" => Some(ObjectKind::Log),
        "CloudTrail-Digest" => Some(ObjectKind::Digest),
        _ => None,
    }
}

/// Returns the write time encoded in a log file key (minute precision).
pub(crate) fn log_key_time(key: &str) -> Option<OffsetDateTime> {
    let name = key.rsplit('/').next()?.strip_suffix(OBJECT_SUFFIX)?;
    let mut parts = name.rsplitn(3, '_');
    let _unique = parts.next()?;
    timefmt::parse_key_minutes(parts.next()?)
}

/// Returns the period end encoded in a digest file key.
pub(crate) fn digest_key_time(key: &str) -> Option<OffsetDateTime> {
    let name = key.rsplit('/').next()?.strip_suffix(OBJECT_SUFFIX)?;
    timefmt::parse_key_seconds(name.rsplit('_').next()?)
}

/// Lists the keys of every log and digest object under `root`, sorted.
pub(crate) fn list_objects(root: &Path) -> AuditResult<Vec<(String, ObjectKind)>> {
    let mut out = Vec::new();
    let base = root.join("AWSLogs");
    if base.try_exists().map_err(AuditError::io(&base))? {
        walk(root, &base, &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, ObjectKind)>) -> AuditResult<()> {
    for entry in fs::read_dir(dir).map_err(AuditError::io(dir))? {
        let entry = entry.map_err(AuditError::io(dir))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(AuditError::io(&path))?;
        if file_type.is_dir() {
            walk(root, &path, out)?;
        } else if file_type.is_file()
            && let Some(key) = key_of(root, &path)
            && let Some(kind) = classify(&key)
        {
            out.push((key, kind));
        }
    }
    Ok(())
}

fn key_of(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

/// Returns the path of `key` under `root`, refusing keys that would leave it.
pub(crate) fn object_path(root: &Path, key: &str) -> Option<PathBuf> {
    let safe = key
        .split('/')
        .all(|p| !p.is_empty() && p != "." && p != "..");
    safe.then(|| root.join(key))
}

/// Writes `bytes` to `path` so that readers see either nothing or the whole file, and the file
/// survives a crash once this returns: temporary file, fsync, rename, fsync of the folders.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> AuditResult<()> {
    let dir = path
        .parent()
        .ok_or_else(|| AuditError::Config(format!("{} has no parent folder", path.display())))?;
    let mut missing = Vec::new();
    let mut probe = Some(dir);
    while let Some(d) = probe {
        if d.try_exists().map_err(AuditError::io(d))? {
            break;
        }
        missing.push(d);
        probe = d.parent();
    }
    fs::create_dir_all(dir).map_err(AuditError::io(dir))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("object");
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(AuditError::io(&tmp))?;
    file.write_all(bytes).map_err(AuditError::io(&tmp))?;
    file.sync_all().map_err(AuditError::io(&tmp))?;
    drop(file);
    fs::rename(&tmp, path).map_err(AuditError::io(path))?;
    sync_dir(dir)?;
    // New folders must be reachable after a crash too: sync each one's parent.
    for d in missing {
        if let Some(parent) = d.parent() {
            sync_dir(parent)?;
        }
    }
    Ok(())
}

/// Syncs a folder so that entries created or renamed in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> AuditResult<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(AuditError::io(dir))
}

/// Gzips `bytes`, carrying `comment` in the gzip header.
pub(crate) fn gzip(bytes: &[u8], comment: Option<&str>) -> AuditResult<Vec<u8>> {
    let mut builder = GzBuilder::new();
    if let Some(c) = comment {
        builder = builder.comment(c.as_bytes());
    }
    let mut encoder = builder.write(Vec::new(), Compression::default());
    encoder
        .write_all(bytes)
        .map_err(AuditError::io("<gzip buffer>"))?;
    encoder.finish().map_err(AuditError::io("<gzip buffer>"))
}

/// A gunzipped object and its header comment.
pub(crate) struct Gunzipped {
    /// The uncompressed bytes.
    pub(crate) bytes: Vec<u8>,
    /// The gzip header comment, if any.
    pub(crate) comment: Option<String>,
}

/// Gunzips exactly one gzip member; trailing bytes after it are an error, as in `validate-logs`.
pub(crate) fn gunzip(compressed: &[u8]) -> Result<Gunzipped, String> {
    let mut decoder = GzDecoder::new(compressed);
    let mut bytes = Vec::new();
    decoder
        .read_to_end(&mut bytes)
        .map_err(|e| format!("not a valid gzip file: {e}"))?;
    let comment = decoder
        .header()
        .and_then(|h| h.comment())
        .map(|c| String::from_utf8_lossy(c).into_owned());
    if !decoder.into_inner().is_empty() {
        return Err("trailing data after the gzip stream".to_owned());
    }
    Ok(Gunzipped { bytes, comment })
}

/// Returns the lowercase hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(digest(&SHA256, bytes))
}

/// Compares two hex hashes or signatures without an early exit on the first differing byte.
pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Returns CloudTrail's 16-character random alphanumeric object suffix.
pub(crate) fn random_suffix(rng: &SystemRandom) -> AuditResult<String> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut raw = [0u8; 16];
    rng.fill(&mut raw)
        .map_err(|_| AuditError::Key("system random source failed".into()))?;
    Ok(raw
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn keys_follow_cloudtrail_layout() {
        let t = datetime!(2025-01-02 03:04:59 UTC);
        let key = log_key("123456789012", "us-east-1", t, "AbCdEfGhIjKlMnOp");
        assert_eq!(
            key,
            "AWSLogs/123456789012/CloudTrail/us-east-1/2025/01/02/\
             123456789012_CloudTrail_us-east-1_20250102T0304Z_AbCdEfGhIjKlMnOp.json.gz"
        );
        assert_eq!(classify(&key), Some(ObjectKind::Log));
        assert_eq!(log_key_time(&key), Some(datetime!(2025-01-02 03:04 UTC)));
        let dkey = digest_key("123456789012", "us-east-1", "ampd", "us-east-1", t);
        assert_eq!(
            dkey,
            "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2025/01/02/\
             123456789012_CloudTrail-Digest_us-east-1_ampd_us-east-1_20250102T030459Z.json.gz"
        );
        assert_eq!(classify(&dkey), Some(ObjectKind::Digest));
        assert_eq!(
            digest_key_time(&dkey),
            Some(datetime!(2025-01-02 03:04:59 UTC))
        );
        assert_eq!(classify("AWSLogs/1/Other/x.json.gz"), None);
        assert_eq!(classify("journal.jnl"), None);
    }

    #[test]
    fn gzip_round_trips_and_rejects_trailing_data() {
        let z = gzip(b"{\"Records\":[]}", Some("signature=ab")).unwrap();
        let g = gunzip(&z).unwrap();
        assert_eq!(g.bytes, b"{\"Records\":[]}");
        assert_eq!(g.comment.as_deref(), Some("signature=ab"));
        let mut trailing = z.clone();
        trailing.push(0);
        assert!(gunzip(&trailing).is_err());
    }

    #[test]
    fn object_paths_stay_under_the_root() {
        assert!(object_path(Path::new("/r"), "AWSLogs/../../etc/passwd").is_none());
        assert_eq!(
            object_path(Path::new("/r"), "AWSLogs/a"),
            Some(PathBuf::from("/r/AWSLogs/a"))
        );
    }

    #[test]
    fn random_suffix_is_16_alphanumerics() {
        let s = random_suffix(&SystemRandom::new()).unwrap();
        assert_eq!(s.len(), 16);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
