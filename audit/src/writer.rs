//! The writer thread: group commit into the journal, rolling into log files, digests.
//!
//! One thread owns every file of the trail. Callers queue their event and wait; the thread takes
//! everything queued, appends it with one write and one fsync, then answers all of them, so
//! concurrent callers share an fsync. Rolling and digests run on the same thread between batches,
//! which keeps the journal, log files and chain state consistent without locks.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration as StdDuration;

use ring::rand::SystemRandom;
use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use tokio::sync::{mpsc, oneshot};

use crate::clock::Clock;
use crate::digest::{DigestChain, HASH_ALGORITHM, LogFileEntry};
use crate::error::{AuditError, AuditResult};
use crate::index::IndexMsg;
use crate::journal::{Entry, Journal, encode_event};
use crate::keys::{AuditKeyPair, AuditPublicKey};
use crate::layout::{gunzip, gzip, log_key, object_path, random_suffix, sha256_hex, write_atomic};
use crate::timefmt::iso_seconds;

/// Largest number of events written with one fsync.
const MAX_BATCH: usize = 4096;

/// How often the thread checks the roll and digest deadlines when idle.
const IDLE_TICK: StdDuration = StdDuration::from_secs(1);

/// An event waiting in the journal for its log file.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) time: OffsetDateTime,
    pub(crate) json: Arc<str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventTimeOnly {
    #[serde(with = "iso_seconds")]
    event_time: OffsetDateTime,
}

impl Pending {
    fn from_journal(json: Vec<u8>) -> AuditResult<Self> {
        let json = String::from_utf8(json)
            .map_err(|e| AuditError::InvalidEvent(format!("journal entry is not UTF-8: {e}")))?;
        let time = serde_json::from_str::<EventTimeOnly>(&json)?.event_time;
        Ok(Self {
            time,
            json: json.into(),
        })
    }
}

/// Requests to the writer thread.
pub(crate) enum Command {
    /// Make an event durable.
    Append {
        event: Pending,
        reply: oneshot::Sender<AuditResult<()>>,
    },
    /// Run a delivery step now.
    Control(Control),
}

/// Delivery steps a caller can ask for instead of waiting for the deadlines.
pub(crate) enum Control {
    /// Deliver pending events to a log file now; answers with its key.
    Roll(oneshot::Sender<AuditResult<Option<String>>>),
    /// Apply the roll and digest deadlines against the clock now.
    Tick(oneshot::Sender<AuditResult<()>>),
}

/// Limits that trigger delivery of a log file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RollPolicy {
    pub(crate) interval: Duration,
    pub(crate) max_bytes: usize,
}

/// Where log files go and when.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    /// The bucket folder.
    pub(crate) root: PathBuf,
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) policy: RollPolicy,
}

/// State owned by the writer thread.
pub(crate) struct Writer {
    delivery: Delivery,
    clock: Arc<dyn Clock>,
    journal: Journal,
    chain: DigestChain,
    keys: AuditKeyPair,
    index: mpsc::UnboundedSender<IndexMsg>,
    rng: SystemRandom,
    pending: Vec<Pending>,
    pending_bytes: usize,
    first_pending_at: Option<OffsetDateTime>,
    /// Set once a write failed: shared with the [`crate::Trail`] handle, which refuses calls
    /// before they run instead of after.
    poisoned: Arc<AtomicBool>,
}

impl Writer {
    /// Builds the writer and recovers the journal's entries: deliveries interrupted by a crash
    /// are finished, the remaining events become pending.
    pub(crate) fn recover(
        delivery: Delivery,
        clock: Arc<dyn Clock>,
        (journal, entries): (Journal, Vec<Entry>),
        chain: DigestChain,
        keys: AuditKeyPair,
        index: mpsc::UnboundedSender<IndexMsg>,
        poisoned: Arc<AtomicBool>,
    ) -> AuditResult<Self> {
        let mut writer = Self {
            delivery,
            clock,
            journal,
            chain,
            keys,
            index,
            rng: SystemRandom::new(),
            pending: Vec::new(),
            pending_bytes: 0,
            first_pending_at: None,
            poisoned,
        };
        let mut rolled_any = false;
        let mut batch = Vec::new();
        for entry in entries {
            match entry {
                Entry::Event(json) => batch.push(Pending::from_journal(json)?),
                Entry::Rolling(key) => {
                    writer.finish_delivery(&key, &batch)?;
                    writer.send_index(IndexMsg::Events(batch.drain(..).map(|p| p.json).collect()));
                    writer.send_index(IndexMsg::Delivered(key));
                    rolled_any = true;
                }
            }
        }
        writer.send_index(IndexMsg::Events(
            batch.iter().map(|p| p.json.clone()).collect(),
        ));
        let now = writer.clock.now();
        for p in batch {
            writer.push_pending(p, now);
        }
        // Events after the last Rolling frame are delivered now as well, so the journal can be
        // emptied without a moment in which an undelivered event exists nowhere on disk.
        if rolled_any && writer.roll()?.is_none() {
            writer.journal.reset()?;
        }
        Ok(writer)
    }

    /// Returns the public half of the signing key.
    pub(crate) fn public_key(&self) -> &AuditPublicKey {
        self.keys.public_key()
    }

    /// Runs until every sender is gone.
    pub(crate) fn run(mut self, rx: Receiver<Command>) {
        loop {
            let first = match rx.recv_timeout(IDLE_TICK) {
                Ok(cmd) => Some(cmd),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut commands: Vec<Command> = first.into_iter().collect();
            while commands.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(cmd) => commands.push(cmd),
                    Err(_) => break,
                }
            }
            self.process(commands);
        }
        tracing::debug!("audit writer stopped");
    }

    fn process(&mut self, commands: Vec<Command>) {
        let mut appends = Vec::new();
        let mut controls = Vec::new();
        for cmd in commands {
            match cmd {
                Command::Append { event, reply } => appends.push((event, reply)),
                Command::Control(control) => controls.push(control),
            }
        }
        if !appends.is_empty() {
            let result = self.append(appends.iter().map(|(e, _)| e));
            match result {
                Ok(()) => {
                    let now = self.clock.now();
                    // Queued for the index before any caller is answered, so a lookup flushed
                    // after `record` returns sees the event.
                    self.send_index(IndexMsg::Events(
                        appends.iter().map(|(e, _)| e.json.clone()).collect(),
                    ));
                    for (event, reply) in appends {
                        self.push_pending(event, now);
                        // A caller that gave up waiting still has its event recorded.
                        let _ = reply.send(Ok(()));
                    }
                }
                Err(err) => {
                    tracing::error!(error = %err, "audit journal append failed: {err}");
                    for (_, reply) in appends {
                        let _ = reply.send(Err(AuditError::Poisoned));
                    }
                }
            }
        }
        let maintained = if self.is_poisoned() {
            Ok(())
        } else {
            self.maintain()
        };
        for control in controls {
            match control {
                Control::Roll(reply) => {
                    let _ = reply.send(self.roll_now());
                }
                Control::Tick(reply) => {
                    let _ = reply.send(self.maintain());
                }
            }
        }
        if let Err(err) = maintained {
            tracing::error!(error = %err, "audit delivery failed: {err}");
        }
    }

    fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Relaxed)
    }

    fn poison(&self) {
        self.poisoned.store(true, Ordering::Relaxed);
    }

    fn checked(&self) -> AuditResult<()> {
        if self.is_poisoned() {
            Err(AuditError::Poisoned)
        } else {
            Ok(())
        }
    }

    fn append<'a>(&mut self, events: impl Iterator<Item = &'a Pending>) -> AuditResult<()> {
        self.checked()?;
        let mut framed = Vec::new();
        for e in events {
            encode_event(e.json.as_bytes(), &mut framed);
        }
        self.journal.append(&framed).inspect_err(|_| self.poison())
    }

    fn push_pending(&mut self, event: Pending, now: OffsetDateTime) {
        self.first_pending_at.get_or_insert(now);
        self.pending_bytes += event.json.len();
        self.pending.push(event);
    }

    fn send_index(&self, msg: IndexMsg) {
        // The index is rebuilt from the files on the next open if its task is gone.
        let _ = self.index.send(msg);
    }

    /// Closes ended digest periods, then delivers pending events that are due.
    fn maintain(&mut self) -> AuditResult<()> {
        self.checked()?;
        let now = self.clock.now();
        // Digest first: files delivered before the period ended belong to it, files delivered
        // from now on to the next one.
        let result = self.chain.close_periods(now, &self.keys).and_then(|_| {
            let due_by_time = self
                .first_pending_at
                .is_some_and(|t| now - t >= self.delivery.policy.interval);
            if due_by_time || self.pending_bytes >= self.delivery.policy.max_bytes {
                self.roll()?;
            }
            Ok(())
        });
        // A delivery failing half-way leaves the journal as the source of truth; replay on the
        // next open finishes it, so stop writing until then.
        result.inspect_err(|_| self.poison())
    }

    fn roll_now(&mut self) -> AuditResult<Option<String>> {
        self.checked()?;
        self.roll().inspect_err(|_| self.poison())
    }

    /// Delivers every pending event into one new log file.
    fn roll(&mut self) -> AuditResult<Option<String>> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        let now = self.clock.now();
        let key = log_key(
            &self.delivery.account,
            &self.delivery.region,
            now,
            &random_suffix(&self.rng)?,
        );
        let mut framed = Vec::new();
        Entry::Rolling(key.clone()).encode_into(&mut framed);
        self.journal.append(&framed)?;
        let pending = std::mem::take(&mut self.pending);
        self.finish_delivery(&key, &pending)?;
        self.journal.reset()?;
        self.send_index(IndexMsg::Delivered(key.clone()));
        tracing::debug!(key = %key, events = pending.len(), "delivered audit log file {key}");
        self.pending_bytes = 0;
        self.first_pending_at = None;
        Ok(Some(key))
    }

    /// Makes sure the log file `key` holds `events` and is listed in the open digest period.
    /// On replay the file may already exist: its own content is then what gets listed.
    fn finish_delivery(&mut self, key: &str, events: &[Pending]) -> AuditResult<()> {
        if self.chain.lists(key) {
            return Ok(());
        }
        let path = object_path(&self.delivery.root, key)
            .ok_or_else(|| AuditError::Config(format!("invalid log file key {key}")))?;
        let (body, times) = if path.try_exists().map_err(AuditError::io(&path))? {
            let raw = std::fs::read(&path).map_err(AuditError::io(&path))?;
            let body = gunzip(&raw)
                .map_err(|reason| AuditError::Corrupt {
                    path: path.clone(),
                    reason,
                })?
                .bytes;
            let times = record_times(&body)?;
            (body, times)
        } else {
            let body = records_document(events);
            write_atomic(&path, &gzip(&body, None)?)?;
            (body, events.iter().map(|e| e.time).collect())
        };
        let (Some(oldest), Some(newest)) = (times.iter().min(), times.iter().max()) else {
            return Ok(());
        };
        self.chain.add_file(LogFileEntry {
            s3_bucket: self.chain.bucket().to_owned(),
            s3_object: key.to_owned(),
            hash_value: sha256_hex(&body),
            hash_algorithm: HASH_ALGORITHM.to_owned(),
            newest_event_time: *newest,
            oldest_event_time: *oldest,
        })
    }
}

/// Builds `{"Records":[…]}` from already serialized records.
fn records_document(events: &[Pending]) -> Vec<u8> {
    let size = events.iter().map(|e| e.json.len() + 1).sum::<usize>() + 16;
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(b"{\"Records\":[");
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(e.json.as_bytes());
    }
    body.extend_from_slice(b"]}");
    body
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecordTimes {
    records: Vec<EventTimeOnly>,
}

fn record_times(body: &[u8]) -> AuditResult<Vec<OffsetDateTime>> {
    let doc: RecordTimes = serde_json::from_slice(body)?;
    Ok(doc.records.into_iter().map(|r| r.event_time).collect())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn records_document_is_the_cloudtrail_envelope() {
        let e = |json: &str| Pending {
            time: datetime!(2025-01-02 03:04:05 UTC),
            json: json.into(),
        };
        let body = records_document(&[
            e(r#"{"eventTime":"2025-01-02T03:04:05Z"}"#),
            e(r#"{"eventTime":"2025-01-02T03:04:06Z"}"#),
        ]);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["Records"].as_array().unwrap().len(), 2);
        let times = record_times(&body).unwrap();
        assert_eq!(times[1], datetime!(2025-01-02 03:04:06 UTC));
        assert_eq!(records_document(&[]), b"{\"Records\":[]}");
    }
}
