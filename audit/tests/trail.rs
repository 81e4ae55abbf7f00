//! End-to-end tests of the audit trail on real files: durability, redaction, validation, lookup.

// The helpers below are test code too; clippy only exempts `#[test]` functions themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use ampd_audit::{
    Clock, EventCategory, EventRecord, EventSource, IdentityType, JOURNAL_FILE, LookupAttribute,
    LookupError, LookupEventsRequest, Problem, REDACTED, Recorded, SessionAttributes,
    SessionContext, SessionIssuer, Trail, TrailConfig, UserIdentity, ValidationReport,
};
use flate2::bufread::GzDecoder;
use flate2::{Compression, GzBuilder};
use serde_json::{Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const T0: OffsetDateTime = datetime!(2025-01-02 03:00:30 UTC);

#[derive(Debug)]
struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    fn new(t: OffsetDateTime) -> Arc<Self> {
        Arc::new(Self(Mutex::new(t)))
    }

    fn advance(&self, d: Duration) {
        *self.0.lock().unwrap() += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

async fn open(dir: &Path, clock: &Arc<ManualClock>) -> Trail {
    Trail::open_with_clock(TrailConfig::new(dir, ACCOUNT, REGION), clock.clone())
        .await
        .unwrap()
}

fn user(name: &str, key: &str) -> UserIdentity {
    UserIdentity {
        principal_id: Some(format!("AIDA{}", name.to_uppercase())),
        arn: Some(format!("arn:aws:iam::{ACCOUNT}:user/{name}")),
        account_id: Some(ACCOUNT.into()),
        access_key_id: Some(key.into()),
        user_name: Some(name.into()),
        ..UserIdentity::new(IdentityType::IamUser)
    }
}

fn event(source: EventSource, name: &str, at: OffsetDateTime) -> ampd_audit::EventBuilder {
    EventRecord::builder(source, name, at)
        .user_identity(user("alice", "AKIAALICE"))
        .region(REGION)
        .recipient_account_id(ACCOUNT)
        .request_id(format!("req-{name}"))
        .source_ip("203.0.113.7")
        .user_agent("aws-cli/2.22")
}

fn workspace_event(name: &str, ws: &str, at: OffsetDateTime) -> EventRecord {
    event(EventSource::Aps, name, at)
        .request_parameters(json!({"workspaceId": ws}))
        .resource(
            format!("arn:aws:aps:{REGION}:{ACCOUNT}:workspace/{ws}"),
            ACCOUNT,
            "AWS::APS::Workspace",
        )
        .build()
        .unwrap()
}

/// Every file under `dir`, with gzip files also decompressed.
fn all_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let raw = fs::read(&path).unwrap();
            if path.to_string_lossy().ends_with(".gz") {
                let mut plain = Vec::new();
                GzDecoder::new(raw.as_slice())
                    .read_to_end(&mut plain)
                    .unwrap();
                out.push((path.clone(), plain));
            }
            out.push((path, raw));
        }
    }
    out
}

fn log_files(trail: &Trail) -> Vec<String> {
    keys_under(&trail.logs_root(), "/CloudTrail/")
}

fn digest_files(trail: &Trail) -> Vec<String> {
    keys_under(&trail.logs_root(), "/CloudTrail-Digest/")
}

fn keys_under(root: &Path, marker: &str) -> Vec<String> {
    if !root.is_dir() {
        return Vec::new();
    }
    let mut keys: Vec<String> = all_bytes(root)
        .into_iter()
        .map(|(p, _)| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
        .filter(|k| k.contains(marker) && k.ends_with(".json.gz") && !k.contains("/."))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn read_gz(path: &Path) -> (Vec<u8>, Option<Vec<u8>>) {
    let raw = fs::read(path).unwrap();
    let mut decoder = GzDecoder::new(raw.as_slice());
    let mut plain = Vec::new();
    decoder.read_to_end(&mut plain).unwrap();
    let comment = decoder
        .header()
        .and_then(|h| h.comment())
        .map(<[u8]>::to_vec);
    (plain, comment)
}

fn write_gz(path: &Path, plain: &[u8], comment: Option<Vec<u8>>) {
    let mut builder = GzBuilder::new();
    if let Some(c) = comment {
        builder = builder.comment(c);
    }
    let mut enc = builder.write(Vec::new(), Compression::default());
    enc.write_all(plain).unwrap();
    fs::write(path, enc.finish().unwrap()).unwrap();
}

fn records_in(trail: &Trail) -> Vec<Value> {
    log_files(trail)
        .iter()
        .flat_map(|k| {
            let (plain, _) = read_gz(&trail.logs_root().join(k));
            let doc: Value = serde_json::from_slice(&plain).unwrap();
            doc["Records"].as_array().unwrap().clone()
        })
        .collect()
}

// ---------------------------------------------------------------- redaction

#[tokio::test(flavor = "multi_thread")]
async fn secrets_never_reach_any_file_of_the_trail() {
    const SECRET_KEY: &str = "wJalrXUtnFEMIK7MDENGbPxRfiCYzSECRETKEY";
    const SESSION_TOKEN: &str = "FwoGZXIvYXdzEBYaDSESSIONTOKENxyz";
    const DATA_KEY: &str = "cGxhaW50ZXh0LWRhdGEta2V5LWJ5dGVz";
    const PASSWORD: &str = "hunter2-Correct-Horse";
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let trail = open(dir.path(), &clock).await;

    let create_key = event(EventSource::Iam, "CreateAccessKey", T0)
        .request_parameters(json!({"userName": "bob"}))
        .response_elements(
            json!({"accessKey": {"userName": "bob", "accessKeyId": "AKIABOB",
            "status": "Active", "secretAccessKey": SECRET_KEY}}),
        )
        .build()
        .unwrap();
    let mut session = UserIdentity::new(IdentityType::AssumedRole);
    session.arn = Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/writer/s1"));
    session.session_context = Some(SessionContext {
        session_issuer: Some(SessionIssuer {
            issuer_type: "Role".into(),
            principal_id: Some("AROAWRITER".into()),
            arn: Some(format!("arn:aws:iam::{ACCOUNT}:role/writer")),
            account_id: Some(ACCOUNT.into()),
            user_name: Some("writer".into()),
        }),
        web_id_federation_data: None,
        attributes: Some(SessionAttributes::new(T0, false)),
        source_identity: None,
    });
    let assume = event(EventSource::Sts, "AssumeRole", T0)
        .user_identity(session)
        .request_parameters(
            json!({"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/writer"),
            "roleSessionName": "s1"}),
        )
        .response_elements(json!({"credentials": {"accessKeyId": "ASIAS1",
            "secretAccessKey": SECRET_KEY, "sessionToken": SESSION_TOKEN,
            "expiration": "2025-01-02T04:00:30Z"}}))
        .build()
        .unwrap();
    let data_key = event(EventSource::Kms, "GenerateDataKey", T0)
        .request_parameters(json!({"keyId": "alias/ampd", "keySpec": "AES_256"}))
        .response_elements(json!({"KeyId": "k", "Plaintext": DATA_KEY, "CiphertextBlob": "AQID"}))
        .build()
        .unwrap();
    // A record whose secrets were put in after building: record() must still redact them.
    let mut late = event(EventSource::Iam, "CreateLoginProfile", T0)
        .build()
        .unwrap();
    late.request_parameters = Some(json!({"userName": "bob", "password": PASSWORD,
        "nested": [{"sessionToken": SESSION_TOKEN}]}));
    late.response_elements = Some(json!({"loginProfile": {"userName": "bob"}}));

    for e in [create_key, assume, data_key] {
        assert_eq!(trail.record(e).await.unwrap(), Recorded::Logged);
    }
    trail.roll().await.unwrap().unwrap();
    clock.advance(Duration::hours(1));
    trail.tick().await.unwrap();
    // This one stays in the journal, so the journal is searched with a record in it.
    trail.record(late).await.unwrap();
    trail.flush_index().await.unwrap();
    trail.close().await.unwrap();

    let records = records_in(&trail);
    assert_eq!(records.len(), 3, "the delivered secret-bearing events");
    assert_eq!(digest_files(&trail).len(), 1);
    let journal = fs::read(dir.path().join(JOURNAL_FILE)).unwrap();
    let journal = String::from_utf8_lossy(&journal);
    assert!(journal.contains("CreateLoginProfile") && journal.contains(REDACTED));
    let key_event = records
        .iter()
        .find(|r| r["eventName"] == "CreateAccessKey")
        .unwrap();
    assert_eq!(
        key_event["responseElements"]["accessKey"]["secretAccessKey"],
        REDACTED
    );
    assert_eq!(
        key_event["responseElements"]["accessKey"]["accessKeyId"],
        "AKIABOB"
    );
    let assume = records
        .iter()
        .find(|r| r["eventName"] == "AssumeRole")
        .unwrap();
    assert_eq!(
        assume["responseElements"]["credentials"]["sessionToken"],
        REDACTED
    );
    assert_eq!(
        assume["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"],
        "false"
    );

    let files = all_bytes(dir.path());
    assert!(files.iter().any(|(p, _)| p.ends_with(JOURNAL_FILE)));
    assert!(
        files
            .iter()
            .any(|(p, _)| p.to_string_lossy().contains("sqlite"))
    );
    for (path, bytes) in files {
        for secret in [SECRET_KEY, SESSION_TOKEN, DATA_KEY, PASSWORD] {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "{secret} found in {}", path.display());
        }
    }
}

// ---------------------------------------------------------------- durability

#[tokio::test(flavor = "multi_thread")]
async fn journal_replay_cuts_a_torn_tail_and_keeps_every_event() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let trail = open(dir.path(), &clock).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let e = workspace_event("CreateWorkspace", &format!("ws-{i}"), T0);
        ids.push(e.event_id.clone());
        trail.record(e).await.unwrap();
    }
    trail.close().await.unwrap();
    assert!(
        log_files(&trail).is_empty(),
        "nothing is delivered before the roll interval"
    );

    let journal = dir.path().join(JOURNAL_FILE);
    let good_len = fs::metadata(&journal).unwrap().len();
    // A frame header announcing 200 bytes followed by only a few: a write cut by a crash.
    let mut f = fs::OpenOptions::new().append(true).open(&journal).unwrap();
    f.write_all(&200u32.to_le_bytes()).unwrap();
    f.write_all(&[0xde, 0xad, 0xbe, 0xef, 1, b'{', b'"'])
        .unwrap();
    drop(f);

    let trail = open(dir.path(), &clock).await;
    assert_eq!(
        fs::metadata(&journal).unwrap().len(),
        good_len,
        "torn tail cut"
    );
    let e = workspace_event("DeleteWorkspace", "ws-0", T0);
    ids.push(e.event_id.clone());
    trail.record(e).await.unwrap();
    clock.advance(Duration::minutes(5));
    trail.tick().await.unwrap();
    assert_eq!(
        fs::metadata(&journal).unwrap().len(),
        0,
        "delivered events leave the journal"
    );
    let delivered: Vec<String> = records_in(&trail)
        .iter()
        .map(|r| r["eventID"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(delivered, ids);
    trail.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_delivery_is_finished_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let trail = open(dir.path(), &clock).await;
    for i in 0..2 {
        trail
            .record(workspace_event("CreateWorkspace", &format!("ws-{i}"), T0))
            .await
            .unwrap();
    }
    trail.close().await.unwrap();
    // The writer had announced the delivery (journal frame) and crashed before the file existed.
    let key = format!(
        "AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2025/01/02/{ACCOUNT}_CloudTrail_{REGION}_20250102T0300Z_CrashedDelivery0.json.gz"
    );
    let frame = |kind: u8, body: &[u8]| {
        let mut payload = vec![kind];
        payload.extend_from_slice(body);
        let mut frame = (payload.len() as u32).to_le_bytes().to_vec();
        frame.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        frame.extend_from_slice(&payload);
        frame
    };
    // Followed by one more event, which no delivery covers yet.
    let after = workspace_event("DeleteWorkspace", "ws-0", T0);
    let mut tail = frame(2, key.as_bytes());
    tail.extend(frame(1, &serde_json::to_vec(&after).unwrap()));
    let journal = dir.path().join(JOURNAL_FILE);
    fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .unwrap()
        .write_all(&tail)
        .unwrap();

    let trail = open(dir.path(), &clock).await;
    let files = log_files(&trail);
    assert_eq!(files.len(), 2);
    assert!(files.contains(&key));
    let (crashed, _) = read_gz(&trail.logs_root().join(&key));
    let crashed: Value = serde_json::from_slice(&crashed).unwrap();
    assert_eq!(crashed["Records"].as_array().unwrap().len(), 2);
    let records = records_in(&trail);
    assert_eq!(records.len(), 3, "every event delivered once");
    assert!(
        records
            .iter()
            .any(|r| r["eventID"] == after.event_id.as_str())
    );
    assert_eq!(fs::metadata(&journal).unwrap().len(), 0);
    assert_eq!(trail.roll().await.unwrap(), None, "nothing left pending");
    clock.advance(Duration::hours(1));
    trail.tick().await.unwrap();
    let report = trail
        .validate(T0 - Duration::days(1), T0 + Duration::days(1))
        .await
        .unwrap();
    assert!(report.is_valid(), "{report}");
    assert_eq!((report.log_files_checked, report.log_files_valid), (2, 2));
    trail.close().await.unwrap();
}

const CHILD_DIR_ENV: &str = "AMPD_AUDIT_KILL_TEST_DIR";

/// Child half of `kill_9_loses_no_acknowledged_event`: records until killed, printing each
/// event id once `record` has returned.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "run by kill_9_loses_no_acknowledged_event in a child process"]
async fn child_records_until_killed() {
    let dir = PathBuf::from(std::env::var(CHILD_DIR_ENV).unwrap());
    let trail = Trail::open(TrailConfig::new(dir, ACCOUNT, REGION))
        .await
        .unwrap();
    let mut out = std::io::stdout();
    for i in 0.. {
        let e = workspace_event(
            "CreateWorkspace",
            &format!("ws-{i}"),
            OffsetDateTime::now_utc(),
        );
        let id = e.event_id.clone();
        trail.record(e).await.unwrap();
        writeln!(out, "acked {id}").unwrap();
        out.flush().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_records_until_killed",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_DIR_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while acked.len() < 200 {
        let line = lines.next().expect("child stopped early").unwrap();
        if let Some(id) = line.strip_prefix("acked ") {
            acked.push(id.to_owned());
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let trail = Trail::open(TrailConfig::new(dir.path(), ACCOUNT, REGION))
        .await
        .unwrap();
    trail.roll().await.unwrap();
    let delivered: std::collections::HashSet<String> = records_in(&trail)
        .iter()
        .map(|r| r["eventID"].as_str().unwrap().to_owned())
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|id| !delivered.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost: {lost:?}",
        lost.len()
    );
    trail.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trail_folder_has_one_writer_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let trail = open(dir.path(), &clock).await;
    let second =
        Trail::open_with_clock(TrailConfig::new(dir.path(), ACCOUNT, REGION), clock.clone()).await;
    assert!(
        matches!(second, Err(ampd_audit::AuditError::Locked(_))),
        "{second:?}"
    );
    assert!(trail.is_writable());
    trail.close().await.unwrap();
    assert!(!trail.is_writable());
    assert!(matches!(
        trail
            .record(workspace_event("CreateWorkspace", "ws-1", T0))
            .await,
        Err(ampd_audit::AuditError::Closed)
    ));
    open(dir.path(), &clock).await.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_delivery_stops_the_trail_until_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let trail = open(dir.path(), &clock).await;
    trail
        .record(workspace_event("CreateWorkspace", "ws-1", T0))
        .await
        .unwrap();
    // The bucket folder turns into a file: no log file can be written.
    let logs = trail.logs_root();
    if logs.try_exists().unwrap() {
        fs::remove_dir_all(&logs).unwrap();
    }
    fs::write(&logs, b"in the way").unwrap();
    assert!(trail.roll().await.is_err());
    assert!(!trail.is_writable());
    assert!(matches!(
        trail
            .record(workspace_event("DeleteWorkspace", "ws-1", T0))
            .await,
        Err(ampd_audit::AuditError::Poisoned)
    ));
    trail.close().await.unwrap();
    // Reopened with the folder back, the journal delivers the event it kept.
    fs::remove_file(&logs).unwrap();
    let reopened = open(dir.path(), &clock).await;
    assert!(reopened.is_writable());
    let names: Vec<Value> = records_in(&reopened)
        .into_iter()
        .map(|r| r["eventName"].clone())
        .collect();
    assert_eq!(names, [json!("CreateWorkspace")]);
    reopened.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_signing_key_is_created_private_and_must_stay_so() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let trail = open(dir.path(), &clock).await;
    let key_file = dir.path().join("audit-signing-key.p8");
    let mode = fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let fingerprint = trail.public_keys()[0].fingerprint().to_owned();
    trail.close().await.unwrap();

    let reopened = open(dir.path(), &clock).await;
    assert_eq!(
        reopened.public_keys()[0].fingerprint(),
        fingerprint,
        "key reused, not regenerated"
    );
    reopened.close().await.unwrap();

    fs::set_permissions(&key_file, fs::Permissions::from_mode(0o644)).unwrap();
    let refused =
        Trail::open_with_clock(TrailConfig::new(dir.path(), ACCOUNT, REGION), clock.clone()).await;
    assert!(
        matches!(refused, Err(ampd_audit::AuditError::Key(_))),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn data_events_are_recorded_only_when_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let trail = open(dir.path(), &clock).await;
    let write = || {
        event(EventSource::Aps, "RemoteWrite", T0)
            .category(EventCategory::Data)
            .build()
            .unwrap()
    };
    assert_eq!(trail.record(write()).await.unwrap(), Recorded::Filtered);
    trail.set_data_events(true);
    assert_eq!(trail.record(write()).await.unwrap(), Recorded::Logged);
    trail
        .record(workspace_event("CreateWorkspace", "ws-1", T0))
        .await
        .unwrap();
    trail.roll().await.unwrap();
    let records = records_in(&trail);
    let names: Vec<&str> = records
        .iter()
        .map(|r| r["eventName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["RemoteWrite", "CreateWorkspace"]);
    assert_eq!(records[0]["managementEvent"], false);
    assert_eq!(records[0]["eventCategory"], "Data");
    // LookupEvents returns management events only.
    trail.flush_index().await.unwrap();
    let page = trail
        .lookup_events(&LookupEventsRequest::default())
        .await
        .unwrap();
    assert_eq!(page.events.len(), 1);
    assert_eq!(page.events[0].event_name, "CreateWorkspace");
    trail.close().await.unwrap();
}

// ---------------------------------------------------------------- validation

/// A trail spanning four digest periods, two log files in each but the last.
async fn history() -> (tempfile::TempDir, Trail, Arc<ManualClock>) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let trail = open(dir.path(), &clock).await;
    for hour in 0..4 {
        for file in 0..2 {
            let at = clock.now();
            trail
                .record(workspace_event(
                    "CreateWorkspace",
                    &format!("ws-{hour}-{file}"),
                    at,
                ))
                .await
                .unwrap();
            trail
                .record(workspace_event(
                    "DescribeWorkspace",
                    &format!("ws-{hour}-{file}"),
                    at,
                ))
                .await
                .unwrap();
            clock.advance(Duration::minutes(5));
            trail.tick().await.unwrap();
        }
        clock.advance(Duration::minutes(50));
        trail.tick().await.unwrap();
    }
    (dir, trail, clock)
}

async fn check(trail: &Trail) -> ValidationReport {
    trail
        .validate(T0 - Duration::days(1), T0 + Duration::days(1))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untouched_trail_validates_clean() {
    let (_dir, trail, _clock) = history().await;
    assert_eq!(digest_files(&trail).len(), 4);
    assert_eq!(log_files(&trail).len(), 8);
    let report = check(&trail).await;
    assert!(report.is_valid(), "{report}");
    assert_eq!((report.digests_checked, report.digests_valid), (4, 4));
    assert_eq!((report.log_files_checked, report.log_files_valid), (8, 8));
    assert!(report.not_yet_digested.is_empty());
    let (first_log, _) = read_gz(&trail.logs_root().join(&log_files(&trail)[0]));
    let text = String::from_utf8(first_log).unwrap();
    assert!(
        text.starts_with(r#"{"Records":[{"eventVersion":"1.11","userIdentity":{"type":"IAMUser""#),
        "{text}"
    );
    // Only the digest whose period ends in the range, and its two log files, are checked.
    let second_end = T0 + Duration::hours(2) - Duration::seconds(30);
    let narrow = trail.validate(second_end, second_end).await.unwrap();
    assert!(narrow.is_valid(), "{narrow}");
    assert_eq!((narrow.digests_checked, narrow.log_files_checked), (1, 2));
    // The first digest starts the chain; every later one names its predecessor.
    let digests = digest_files(&trail);
    let first: Value =
        serde_json::from_slice(&read_gz(&trail.logs_root().join(&digests[0])).0).unwrap();
    assert_eq!(first["previousDigestSignature"], Value::Null);
    assert_eq!(first["digestSignatureAlgorithm"], "SHA256withECDSA");
    assert_eq!(first["logFiles"].as_array().unwrap().len(), 2);
    let second: Value =
        serde_json::from_slice(&read_gz(&trail.logs_root().join(&digests[1])).0).unwrap();
    assert_eq!(second["previousDigestS3Object"], digests[0].as_str());
    assert_eq!(second["digestStartTime"], first["digestEndTime"]);
    trail.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn validation_detects_a_byte_edited_in_a_log_file() {
    let (_dir, trail, _clock) = history().await;
    let key = log_files(&trail)[3].clone();
    let path = trail.logs_root().join(&key);
    let (mut plain, _) = read_gz(&path);
    let at = plain.windows(6).position(|w| w == b"ws-1-1").unwrap();
    plain[at + 5] = b'9';
    write_gz(&path, &plain, None);
    let report = check(&trail).await;
    assert_eq!(report.problems, vec![Problem::ModifiedLogFile { key }]);
    assert_eq!((report.log_files_checked, report.log_files_valid), (8, 7));
    trail.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn validation_detects_a_deleted_log_file() {
    let (_dir, trail, _clock) = history().await;
    let key = log_files(&trail)[0].clone();
    fs::remove_file(trail.logs_root().join(&key)).unwrap();
    let report = check(&trail).await;
    assert_eq!(report.problems, vec![Problem::DeletedLogFile { key }]);
    trail.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn validation_detects_a_deleted_digest() {
    let (_dir, trail, _clock) = history().await;
    let digests = digest_files(&trail);
    fs::remove_file(trail.logs_root().join(&digests[1])).unwrap();
    let report = check(&trail).await;
    assert!(
        report.problems.contains(&Problem::DeletedDigest {
            key: digests[1].clone()
        }),
        "{report}"
    );
    // Its log files are now listed by no digest.
    let orphans = report
        .problems
        .iter()
        .filter(|p| matches!(p, Problem::InsertedLogFile { .. }));
    assert_eq!(orphans.count(), 2);
    assert_eq!(report.digests_checked, 3);
    trail.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn validation_detects_a_spliced_in_log_file() {
    let (_dir, trail, _clock) = history().await;
    let real = log_files(&trail)[2].clone();
    // A copy with a fresh name inside an already digested hour.
    let forged = real.replace(&real[real.len() - 24..real.len() - 8], "ForgedForgedForg");
    fs::copy(
        trail.logs_root().join(&real),
        trail.logs_root().join(&forged),
    )
    .unwrap();
    let report = check(&trail).await;
    assert_eq!(
        report.problems,
        vec![Problem::InsertedLogFile { key: forged }]
    );
    trail.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn validation_detects_a_modified_digest() {
    let (_dir, trail, _clock) = history().await;
    let digests = digest_files(&trail);
    let path = trail.logs_root().join(&digests[2]);
    let (plain, comment) = read_gz(&path);
    let mut digest: Value = serde_json::from_slice(&plain).unwrap();
    // Cover up a forged log file: point the digest at a new hash.
    digest["logFiles"][0]["hashValue"] = json!("0".repeat(64));
    write_gz(&path, &serde_json::to_vec(&digest).unwrap(), comment);
    let report = check(&trail).await;
    let modified: Vec<&Problem> = report
        .problems
        .iter()
        .filter(|p| matches!(p, Problem::ModifiedDigest { .. }))
        .collect();
    assert!(!modified.is_empty(), "{report}");
    assert!(
        modified
            .iter()
            .all(|p| matches!(p, Problem::ModifiedDigest { key, .. } if *key == digests[2]))
    );
    assert!(report.problems.iter().any(
        |p| matches!(p, Problem::ModifiedDigest { reason, .. } if reason.contains("signature"))
    ));
    assert_eq!(report.digests_valid, 3);
    trail.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn validation_needs_the_trails_public_key() {
    let (dir, trail, _clock) = history().await;
    let report = ampd_audit::validate(
        &trail.logs_root(),
        &[],
        T0 - Duration::days(1),
        T0 + Duration::days(1),
    )
    .unwrap();
    assert!(!report.is_valid());
    assert!(report.problems.iter().all(|p| matches!(
        p,
        Problem::UnknownPublicKey { .. } | Problem::InsertedLogFile { .. }
    )));
    // Offline, with the public key read from the trail folder, the trail is valid.
    let offline_keys = ampd_audit::trail_public_keys(dir.path()).unwrap();
    let report = ampd_audit::validate(
        &trail.logs_root(),
        &offline_keys,
        T0 - Duration::days(1),
        T0 + Duration::days(1),
    )
    .unwrap();
    assert!(report.is_valid(), "{report}");
    let keys = trail.public_keys();
    assert_eq!(keys, offline_keys);
    assert!(keys[0].pem().starts_with("-----BEGIN PUBLIC KEY-----"));
    let listed = trail.list_public_keys(&Default::default()).unwrap();
    assert_eq!(listed.public_key_list[0].fingerprint, keys[0].fingerprint());
    trail.close().await.unwrap();
}

// ---------------------------------------------------------------- lookup

async fn lookup_fixture() -> (tempfile::TempDir, Trail, Vec<EventRecord>) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let trail = open(dir.path(), &clock).await;
    let mut recorded = Vec::new();
    for i in 0..7i64 {
        let at = T0 + Duration::seconds(i * 10);
        let e = if i % 2 == 0 {
            workspace_event("CreateWorkspace", &format!("ws-{i}"), at)
        } else {
            event(EventSource::Iam, "GetUser", at)
                .user_identity(user("bob", "AKIABOB"))
                .build()
                .unwrap()
        };
        trail.record(e.clone()).await.unwrap();
        recorded.push(e);
    }
    clock.advance(Duration::minutes(2));
    trail.flush_index().await.unwrap();
    (dir, trail, recorded)
}

fn attr(key: &str, value: &str) -> LookupEventsRequest {
    LookupEventsRequest {
        lookup_attributes: Some(vec![LookupAttribute {
            attribute_key: key.into(),
            attribute_value: value.into(),
        }]),
        ..Default::default()
    }
}

async fn ids(trail: &Trail, req: LookupEventsRequest) -> Vec<String> {
    trail
        .lookup_events(&req)
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|e| e.event_id)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn lookup_filters_by_each_attribute_newest_first() {
    let (_dir, trail, recorded) = lookup_fixture().await;
    let newest_first: Vec<String> = recorded.iter().rev().map(|e| e.event_id.clone()).collect();
    let pick = |keep: &dyn Fn(&EventRecord) -> bool| -> Vec<String> {
        recorded
            .iter()
            .rev()
            .filter(|e| keep(e))
            .map(|e| e.event_id.clone())
            .collect()
    };
    assert_eq!(
        ids(&trail, LookupEventsRequest::default()).await,
        newest_first
    );
    let creates = pick(&|e| e.event_name == "CreateWorkspace");
    assert_eq!(creates.len(), 4);
    assert_eq!(
        ids(&trail, attr("EventName", "CreateWorkspace")).await,
        creates
    );
    assert_eq!(ids(&trail, attr("ReadOnly", "false")).await, creates);
    assert_eq!(ids(&trail, attr("Username", "alice")).await, creates);
    assert_eq!(ids(&trail, attr("AccessKeyId", "AKIAALICE")).await, creates);
    assert_eq!(
        ids(&trail, attr("EventSource", "aps.amazonaws.com")).await,
        creates
    );
    assert_eq!(
        ids(&trail, attr("ResourceType", "AWS::APS::Workspace")).await,
        creates
    );
    let gets = pick(&|e| e.event_name == "GetUser");
    assert_eq!(ids(&trail, attr("ReadOnly", "true")).await, gets);
    assert_eq!(ids(&trail, attr("Username", "bob")).await, gets);
    let ws2 = format!("arn:aws:aps:{REGION}:{ACCOUNT}:workspace/ws-2");
    assert_eq!(
        ids(&trail, attr("ResourceName", &ws2)).await,
        vec![recorded[2].event_id.clone()]
    );
    assert_eq!(
        ids(&trail, attr("EventId", &recorded[5].event_id)).await,
        vec![recorded[5].event_id.clone()]
    );
    assert!(
        ids(&trail, attr("EventName", "DeleteWorkspace"))
            .await
            .is_empty()
    );

    let in_range = LookupEventsRequest {
        start_time: Some((T0 + Duration::seconds(20)).unix_timestamp() as f64),
        end_time: Some((T0 + Duration::seconds(40)).unix_timestamp() as f64),
        ..Default::default()
    };
    assert_eq!(ids(&trail, in_range).await, newest_first[2..5].to_vec());

    let full = trail
        .lookup_events(&attr("EventId", &recorded[2].event_id))
        .await
        .unwrap();
    let e = &full.events[0];
    assert_eq!(e.event_time, (T0 + Duration::seconds(20)).unix_timestamp());
    assert_eq!(e.read_only, "false");
    assert_eq!(e.resources[0].resource_name, ws2);
    let record: EventRecord = serde_json::from_str(&e.cloud_trail_event).unwrap();
    assert_eq!(record, recorded[2]);
    trail.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn lookup_pages_with_an_opaque_token() {
    let (_dir, trail, recorded) = lookup_fixture().await;
    let mut seen = Vec::new();
    let mut req = LookupEventsRequest {
        max_results: Some(3),
        ..Default::default()
    };
    let mut pages = 0;
    loop {
        let page = trail.lookup_events(&req).await.unwrap();
        assert!(page.events.len() <= 3);
        seen.extend(page.events.into_iter().map(|e| e.event_id));
        pages += 1;
        match page.next_token {
            Some(token) => req.next_token = Some(token),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        recorded
            .iter()
            .rev()
            .map(|e| e.event_id.clone())
            .collect::<Vec<_>>()
    );

    // A token only works with the parameters it was issued for.
    let first = trail
        .lookup_events(&LookupEventsRequest {
            max_results: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut other = attr("Username", "bob");
    other.next_token = first.next_token;
    let err = trail.lookup_events(&other).await.unwrap_err();
    assert_eq!(err.aws_code(), "InvalidNextTokenException");
    trail.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn lookup_rejects_invalid_requests_with_cloudtrail_codes() {
    let (_dir, trail, _) = lookup_fixture().await;
    let code = |err: LookupError| (err.aws_code(), err.http_status());
    for n in [0, 51] {
        let req = LookupEventsRequest {
            max_results: Some(n),
            ..Default::default()
        };
        assert_eq!(
            code(trail.lookup_events(&req).await.unwrap_err()),
            ("InvalidMaxResultsException", 400)
        );
    }
    let backwards = LookupEventsRequest {
        start_time: Some(200.0),
        end_time: Some(100.0),
        ..Default::default()
    };
    assert_eq!(
        code(trail.lookup_events(&backwards).await.unwrap_err()).0,
        "InvalidTimeRangeException"
    );
    let mut two = attr("Username", "bob");
    two.lookup_attributes
        .as_mut()
        .unwrap()
        .push(LookupAttribute {
            attribute_key: "EventName".into(),
            attribute_value: "GetUser".into(),
        });
    assert_eq!(
        code(trail.lookup_events(&two).await.unwrap_err()).0,
        "InvalidLookupAttributesException"
    );
    let category = LookupEventsRequest {
        event_category: Some("data".into()),
        ..Default::default()
    };
    assert_eq!(
        code(trail.lookup_events(&category).await.unwrap_err()).0,
        "InvalidEventCategoryException"
    );
    let err = trail
        .lookup_events_json(b"{\"MaxResults\":\"many\"}")
        .await
        .unwrap_err();
    assert_eq!(err.aws_code(), "SerializationException");

    let body = trail
        .lookup_events_json(br#"{"LookupAttributes":[{"AttributeKey":"Username","AttributeValue":"bob"}],"MaxResults":2}"#)
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["Events"].as_array().unwrap().len(), 2);
    assert_eq!(v["Events"][0]["Username"], "bob");
    assert!(v["Events"][0]["EventTime"].is_i64());
    assert!(v["Events"][0]["CloudTrailEvent"].is_string());
    assert!(v["NextToken"].is_string());
    trail.close().await.unwrap();
}

/// Closes a trail with events in log files and in the journal, damages its index (deleted or
/// overwritten with garbage), reopens it and expects every event back in lookups.
async fn index_is_rebuilt_after(damage: fn(&Path)) {
    let (dir, trail, recorded) = lookup_fixture().await;
    trail.roll().await.unwrap().unwrap();
    let late = workspace_event("DeleteWorkspace", "ws-0", T0 + Duration::seconds(90));
    trail.record(late.clone()).await.unwrap();
    trail.close().await.unwrap();
    for entry in fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("lookup-index") {
            damage(&path);
        }
    }
    let clock = ManualClock::new(T0 + Duration::minutes(3));
    let trail = open(dir.path(), &clock).await;
    trail.flush_index().await.unwrap();
    let mut expected: Vec<String> = recorded.iter().map(|e| e.event_id.clone()).collect();
    expected.push(late.event_id);
    expected.reverse();
    assert_eq!(ids(&trail, LookupEventsRequest::default()).await, expected);
    trail.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_index_is_rebuilt_from_log_files_and_journal() {
    index_is_rebuilt_after(|path| fs::remove_file(path).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_index_is_rebuilt_from_log_files_and_journal() {
    index_is_rebuilt_after(|path| {
        if path.to_string_lossy().ends_with(".sqlite") {
            fs::write(path, b"this is not a database file, not even a little bit").unwrap();
        } else {
            fs::remove_file(path).unwrap();
        }
    })
    .await;
}
