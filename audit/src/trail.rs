//! The [`Trail`] handle: configuration, opening and recovery, recording, lookups.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::thread::JoinHandle;

use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use tokio::sync::{mpsc, oneshot};

use crate::clock::{Clock, SystemClock};
use crate::digest::{DigestChain, DigestNaming};
use crate::error::{AuditError, AuditResult};
use crate::event::{EventCategory, EventRecord};
use crate::index::{Index, IndexMsg, run_indexer};
use crate::journal::Journal;
use crate::keys::{AuditKeyPair, AuditPublicKey};
use crate::lookup::{
    self, ListPublicKeysRequest, ListPublicKeysResponse, LookupError, LookupEventsRequest,
    LookupEventsResponse,
};
use crate::redact::redact_in_place;
use crate::validate::{ValidationReport, validate};
use crate::writer::{Command, Control, Delivery, Pending, RollPolicy, Writer};

/// Journal file inside the trail folder.
pub const JOURNAL_FILE: &str = "journal.jnl";
/// Folder inside the trail folder that plays the S3 bucket: it holds `AWSLogs/…`.
pub const LOGS_DIR: &str = "logs";
const CHAIN_STATE_FILE: &str = "digest-chain.json";

/// Settings of the audit trail.
///
/// Files under [`TrailConfig::dir`]: `journal.jnl` (events not yet in a log file),
/// `logs/AWSLogs/…` (log and digest files in CloudTrail's key layout), `digest-chain.json` (the
/// open digest period), `audit-signing-key.p8` (mode 0600) and `audit-signing-key.pub.json`,
/// and the rebuildable lookup index `lookup-index-v1.sqlite`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrailConfig {
    /// Folder holding every file of the trail.
    pub dir: PathBuf,
    /// Account the events belong to (12 digits).
    pub account_id: String,
    /// Region of the service, used in keys and as the trail's home region.
    pub region: String,
    /// Trail name, part of digest file names.
    #[serde(default = "default_trail_name")]
    pub trail_name: String,
    /// Bucket name written in digests (`digestS3Bucket`), for copying the folder to S3.
    #[serde(default = "default_bucket")]
    pub bucket: String,
    /// Longest time an event waits in the journal before delivery to a log file.
    #[serde(default = "default_roll_seconds")]
    pub roll_interval_seconds: u64,
    /// Pending record bytes that trigger delivery before the interval ends.
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: usize,
    /// Length of a digest period.
    #[serde(default = "default_digest_seconds")]
    pub digest_interval_seconds: u64,
    /// Whether data-plane events (remote write, queries) are recorded.
    #[serde(default)]
    pub data_events: bool,
}

fn default_trail_name() -> String {
    "ampd".to_owned()
}
fn default_bucket() -> String {
    "ampd-audit".to_owned()
}
fn default_roll_seconds() -> u64 {
    300
}
fn default_max_file_bytes() -> usize {
    4 << 20
}
fn default_digest_seconds() -> u64 {
    3600
}

impl TrailConfig {
    /// Returns a configuration with the defaults: 5-minute log files of at most 4 MiB, hourly
    /// digests, data events off.
    pub fn new(
        dir: impl Into<PathBuf>,
        account_id: impl Into<String>,
        region: impl Into<String>,
    ) -> Self {
        Self {
            dir: dir.into(),
            account_id: account_id.into(),
            region: region.into(),
            trail_name: default_trail_name(),
            bucket: default_bucket(),
            roll_interval_seconds: default_roll_seconds(),
            max_file_bytes: default_max_file_bytes(),
            digest_interval_seconds: default_digest_seconds(),
            data_events: false,
        }
    }

    /// Checks the values that end up in file names and timers.
    pub fn validate(&self) -> AuditResult<()> {
        let bad = |what: String| Err(AuditError::Config(what));
        if self.account_id.len() != 12 || !self.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return bad(format!("account id {:?} is not 12 digits", self.account_id));
        }
        let name_ok = |s: &str, extra: &[u8]| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
        };
        if !name_ok(&self.region, b"-") {
            return bad(format!("region {:?} is not valid", self.region));
        }
        if !name_ok(&self.trail_name, b"-.") || !name_ok(&self.bucket, b"-.") {
            return bad("trail and bucket names take letters, digits, '-' and '.'".into());
        }
        // Digest keys name their period end to the second, so periods of a second upwards
        // get distinct keys; short periods serve tests, CloudTrail's is an hour.
        if self.roll_interval_seconds == 0 || self.digest_interval_seconds == 0 {
            return bad("roll and digest intervals must be positive".into());
        }
        if self.max_file_bytes == 0 {
            return bad("max_file_bytes must be positive".into());
        }
        Ok(())
    }
}

/// Whether [`Trail::record`] wrote the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The event is durable in the journal.
    Logged,
    /// A data event while data events are off: nothing was written.
    Filtered,
}

/// Handle on the audit trail; cheap to clone, shared by every request.
#[derive(Debug, Clone)]
pub struct Trail {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    clock: Arc<dyn Clock>,
    tx: Mutex<Option<std_mpsc::Sender<Command>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    index: Index,
    index_tx: mpsc::UnboundedSender<IndexMsg>,
    data_events: AtomicBool,
    public_key: AuditPublicKey,
    poisoned: Arc<AtomicBool>,
}

impl Trail {
    /// Opens the trail with the system clock; see [`Trail::open_with_clock`].
    pub async fn open(config: TrailConfig) -> AuditResult<Self> {
        Self::open_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Opens (or creates) the trail in `config.dir`: loads or generates the signing key, replays
    /// the journal (cutting a torn tail and finishing interrupted deliveries), starts the writer
    /// thread and the indexing task (which reconciles or rebuilds the lookup index).
    pub async fn open_with_clock(config: TrailConfig, clock: Arc<dyn Clock>) -> AuditResult<Self> {
        config.validate()?;
        let dir = config.dir.clone();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(AuditError::io(&dir))?;
        let index = Index::open(&dir).await?;
        let (index_tx, index_rx) = mpsc::unbounded_channel();
        let (tx, rx) = std_mpsc::channel();
        let poisoned = Arc::new(AtomicBool::new(false));
        let writer = {
            let (config, clock, index_tx) = (config.clone(), clock.clone(), index_tx.clone());
            let poisoned = poisoned.clone();
            tokio::task::spawn_blocking(move || build_writer(&config, clock, index_tx, poisoned))
                .await
                .map_err(|e| AuditError::Background(format!("trail open task failed: {e}")))??
        };
        let public_key = writer.public_key().clone();
        tokio::spawn(run_indexer(index.clone(), dir.join(LOGS_DIR), index_rx));
        let handle = std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(AuditError::io(&dir))?;
        Ok(Self {
            inner: Arc::new(Inner {
                dir,
                clock,
                tx: Mutex::new(Some(tx)),
                writer: Mutex::new(Some(handle)),
                index,
                index_tx,
                data_events: AtomicBool::new(config.data_events),
                public_key,
                poisoned,
            }),
        })
    }

    /// Records `event`, returning once it is durable (journal appended and fsynced, shared with
    /// concurrent callers). Secrets are redacted again here, whatever built the record.
    pub async fn record(&self, mut event: EventRecord) -> AuditResult<Recorded> {
        if event.event_category == EventCategory::Data && !self.data_events_enabled() {
            return Ok(Recorded::Filtered);
        }
        // The free-form members are the only ones that can carry a secret; the typed members
        // have fixed names and are serialized in CloudTrail's order.
        let free_form = [
            &mut event.request_parameters,
            &mut event.response_elements,
            &mut event.additional_event_data,
        ];
        free_form.into_iter().flatten().for_each(redact_in_place);
        let json: Arc<str> = serde_json::to_string(&event)?.into();
        let (reply, done) = oneshot::channel();
        self.send(Command::Append {
            event: Pending {
                time: event.event_time,
                json,
            },
            reply,
        })?;
        done.await.map_err(|_| AuditError::Closed)??;
        Ok(Recorded::Logged)
    }

    /// Returns whether [`Trail::record`] can currently succeed: the trail is open and no write
    /// has failed. Callers check it before acting so that a call that could not be recorded is
    /// not carried out either.
    pub fn is_writable(&self) -> bool {
        let open = self.inner.tx.lock().map(|tx| tx.is_some()).unwrap_or(false);
        open && !self.inner.poisoned.load(Ordering::Relaxed)
    }

    /// Turns recording of data events on or off (the effect of `PutEventSelectors`).
    pub fn set_data_events(&self, enabled: bool) {
        self.inner.data_events.store(enabled, Ordering::Relaxed);
    }

    /// Returns whether data events are recorded.
    pub fn data_events_enabled(&self) -> bool {
        self.inner.data_events.load(Ordering::Relaxed)
    }

    /// Delivers every pending event to a log file now; returns its key, if anything was pending.
    pub async fn roll(&self) -> AuditResult<Option<String>> {
        let (reply, done) = oneshot::channel();
        self.send(Command::Control(Control::Roll(reply)))?;
        done.await.map_err(|_| AuditError::Closed)?
    }

    /// Applies the roll and digest deadlines against the clock now instead of at the writer's
    /// next periodic check.
    pub async fn tick(&self) -> AuditResult<()> {
        let (reply, done) = oneshot::channel();
        self.send(Command::Control(Control::Tick(reply)))?;
        done.await.map_err(|_| AuditError::Closed)?
    }

    /// Waits until every event recorded so far is visible to lookups.
    pub async fn flush_index(&self) -> AuditResult<()> {
        let (reply, done) = oneshot::channel();
        self.inner
            .index_tx
            .send(IndexMsg::Flush(reply))
            .map_err(|_| AuditError::Closed)?;
        done.await.map_err(|_| AuditError::Closed)
    }

    /// Answers `LookupEvents`.
    pub async fn lookup_events(
        &self,
        request: &LookupEventsRequest,
    ) -> Result<LookupEventsResponse, LookupError> {
        lookup::lookup(&self.inner.index, request, self.inner.clock.now()).await
    }

    /// Answers a `CloudTrail_20131101.LookupEvents` awsJson1.1 body with the response body.
    pub async fn lookup_events_json(&self, body: &[u8]) -> Result<Vec<u8>, LookupError> {
        // awsJson clients may send an empty body for a request without members.
        let body = if body.iter().all(u8::is_ascii_whitespace) {
            b"{}".as_slice()
        } else {
            body
        };
        let request: LookupEventsRequest =
            serde_json::from_slice(body).map_err(|e| LookupError::Serialization(e.to_string()))?;
        let response = self.lookup_events(&request).await?;
        serde_json::to_vec(&response).map_err(|e| LookupError::Internal(e.into()))
    }

    /// Answers `ListPublicKeys` with the trail's digest signing keys.
    pub fn list_public_keys(
        &self,
        request: &ListPublicKeysRequest,
    ) -> Result<ListPublicKeysResponse, LookupError> {
        lookup::list_public_keys(&self.public_keys(), request, self.inner.clock.now())
    }

    /// Returns the public keys that verify this trail's digests.
    pub fn public_keys(&self) -> Vec<AuditPublicKey> {
        vec![self.inner.public_key.clone()]
    }

    /// Returns the folder that plays the S3 bucket (it holds `AWSLogs/…`).
    pub fn logs_root(&self) -> PathBuf {
        self.inner.dir.join(LOGS_DIR)
    }

    /// Validates this trail's files between `start` and `end` with its own public keys.
    pub async fn validate(
        &self,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> AuditResult<ValidationReport> {
        let (root, keys) = (self.logs_root(), self.public_keys());
        tokio::task::spawn_blocking(move || validate(&root, &keys, start, end))
            .await
            .map_err(|e| AuditError::Background(format!("validation task failed: {e}")))?
    }

    /// Stops the writer after it has written everything queued. Pending events stay in the
    /// journal and are delivered after the next open. Other clones of the handle get
    /// [`AuditError::Closed`] from then on.
    pub async fn close(&self) -> AuditResult<()> {
        let sender = self.inner.tx.lock().map_err(|_| AuditError::Closed)?.take();
        drop(sender);
        let handle = self
            .inner
            .writer
            .lock()
            .map_err(|_| AuditError::Closed)?
            .take();
        if let Some(handle) = handle {
            tokio::task::spawn_blocking(move || handle.join())
                .await
                .map_err(|e| AuditError::Background(format!("writer join failed: {e}")))?
                .map_err(|_| AuditError::Background("audit writer thread panicked".into()))?;
        }
        Ok(())
    }

    fn send(&self, cmd: Command) -> AuditResult<()> {
        let guard = self.inner.tx.lock().map_err(|_| AuditError::Closed)?;
        guard
            .as_ref()
            .ok_or(AuditError::Closed)?
            .send(cmd)
            .map_err(|_| AuditError::Closed)
    }
}

/// Does the blocking part of opening: key, chain state, journal replay.
fn build_writer(
    config: &TrailConfig,
    clock: Arc<dyn Clock>,
    index_tx: mpsc::UnboundedSender<IndexMsg>,
    poisoned: Arc<AtomicBool>,
) -> AuditResult<Writer> {
    let dir: &Path = &config.dir;
    // The journal first: its lock keeps a second process away from every other file.
    let journal = Journal::open(&dir.join(JOURNAL_FILE))?;
    let now = clock.now();
    let keys = AuditKeyPair::load_or_generate(dir, now)?;
    let root = dir.join(LOGS_DIR);
    let chain = DigestChain::open(
        DigestNaming {
            account: config.account_id.clone(),
            region: config.region.clone(),
            trail: config.trail_name.clone(),
            bucket: config.bucket.clone(),
        },
        root.clone(),
        dir.join(CHAIN_STATE_FILE),
        seconds(config.digest_interval_seconds),
        now,
    )?;
    let delivery = Delivery {
        root,
        account: config.account_id.clone(),
        region: config.region.clone(),
        policy: RollPolicy {
            interval: seconds(config.roll_interval_seconds),
            max_bytes: config.max_file_bytes,
        },
    };
    Writer::recover(delivery, clock, journal, chain, keys, index_tx, poisoned)
}

fn seconds(s: u64) -> Duration {
    Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses_with_defaults_and_is_checked() {
        let c: TrailConfig = serde_json::from_str(
            r#"{"dir":"/tmp/x","account_id":"123456789012","region":"us-east-1"}"#,
        )
        .unwrap();
        assert_eq!(
            (
                c.roll_interval_seconds,
                c.digest_interval_seconds,
                c.data_events
            ),
            (300, 3600, false)
        );
        c.validate().unwrap();
        let mut bad = c.clone();
        bad.account_id = "12345".into();
        assert!(bad.validate().is_err());
        let mut bad = c;
        bad.region = "../etc".into();
        assert!(bad.validate().is_err());
    }
}
