//! Write-ahead log: segmented files of checksummed, sealed records, replayed on open.
//!
//! Record framing: `len: u32 LE | crc32c(len bytes ++ payload): u32 LE | payload`, where the
//! payload is the sealed record plaintext. The associated data bound to each payload names the
//! log kind, the segment number and the record's offset, so a record cannot be moved.
//!
//! On open, a record whose frame is cut short or fails its checksum ends the readable log: the
//! segment is truncated there, later segments are deleted, and a [`WalRepair`] reports it. A
//! record that passes its checksum but fails to open with the sealer is not repaired: that
//! means a wrong key or tampering, and replay fails with [`Error::Sealing`] so that nothing is
//! cut away by mistake.

pub(crate) mod record;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::seal::Sealer;

const HEADER: usize = 8;
/// Frames longer than this are treated as corruption (no single write batch gets near it).
const MAX_RECORD: u32 = 1 << 30;
const CHECKPOINT_PREFIX: &str = "checkpoint.";

/// When the WAL forces written records to stable storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Every append waits for an fsync covering its record before it returns. Concurrent
    /// appenders share fsyncs (group commit): one fsync acknowledges every record written
    /// before it started. Nothing acknowledged is lost on power failure; the cost is one
    /// fsync latency per append (shared under concurrency).
    Always,
    /// Appends return once the record is in the OS page cache; an fsync runs when an append
    /// finds the last one older than `interval`, on segment rotation, on checkpoint and when
    /// [`crate::Db::sync`] is called (the owner should call it on a timer of `interval`).
    /// A process crash loses nothing, but a power failure or kernel crash may lose the
    /// acknowledged writes of up to `interval` (longer if nobody calls `sync`). Much higher
    /// throughput on slow disks.
    Batch {
        /// Maximum age of unsynced data under steady writes.
        interval: Duration,
    },
}

/// WAL settings.
#[derive(Clone, Copy, Debug)]
pub struct WalOptions {
    /// Segment size after which a new segment file is started.
    pub segment_size: u64,
    /// Durability policy.
    pub fsync: FsyncPolicy,
}

impl Default for WalOptions {
    fn default() -> Self {
        Self {
            segment_size: 128 << 20,
            fsync: FsyncPolicy::Always,
        }
    }
}

/// What replay cut away from a damaged log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalRepair {
    /// Segment in which the first bad record was found.
    pub segment: u64,
    /// Byte offset of the first bad record in that segment (the new segment length).
    pub offset: u64,
    /// Whether only an unfinished final record was cut (a torn tail) rather than corruption.
    pub torn_tail: bool,
    /// Bytes removed in that segment plus all later segments.
    pub bytes_dropped: u64,
    /// Number of later segments deleted.
    pub segments_deleted: usize,
}

struct Writer {
    file: File,
    segment: u64,
    size: u64,
    /// Records written so far (monotonic), for group commit.
    seq: u64,
}

struct SyncState {
    synced_seq: u64,
    last_sync: Instant,
}

/// An open write-ahead log.
pub(crate) struct Wal {
    dir: PathBuf,
    sealer: Arc<dyn Sealer>,
    opts: WalOptions,
    writer: Mutex<Writer>,
    sync: Mutex<SyncState>,
}

fn segment_name(n: u64) -> String {
    format!("{n:08}")
}

fn aad(kind: &[u8], segment: u64, offset: u64) -> Vec<u8> {
    let mut a = Vec::with_capacity(kind.len() + 16);
    a.extend_from_slice(kind);
    a.extend_from_slice(&segment.to_be_bytes());
    a.extend_from_slice(&offset.to_be_bytes());
    a
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the writer half-updated in a way the
    // checksums would not catch, so a poisoned lock is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn frame(
    sealer: &dyn Sealer,
    kind: &[u8],
    segment: u64,
    offset: u64,
    plain: &[u8],
) -> Result<Vec<u8>> {
    let payload = sealer
        .seal(&aad(kind, segment, offset), plain)
        .map_err(|source| Error::Sealing {
            what: "wal record",
            source,
        })?;
    let len = payload.len() as u32;
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(&len.to_le_bytes());
    let crc = crc32c::crc32c_append(crc32c::crc32c(&len.to_le_bytes()), &payload);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Outcome of scanning one file's records.
enum Scan {
    Complete,
    Bad { offset: u64, torn: bool },
}

/// Reads the framed records of `data`, calling `f` with each opened plaintext.
fn scan(
    data: &[u8],
    sealer: &dyn Sealer,
    kind: &[u8],
    segment: u64,
    f: &mut dyn FnMut(&[u8]) -> Result<()>,
) -> Result<Scan> {
    let mut off = 0usize;
    while off < data.len() {
        let rest = &data[off..];
        if rest.len() < HEADER {
            return Ok(Scan::Bad {
                offset: off as u64,
                torn: true,
            });
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len > MAX_RECORD {
            return Ok(Scan::Bad {
                offset: off as u64,
                torn: false,
            });
        }
        let end = HEADER + len as usize;
        if rest.len() < end {
            return Ok(Scan::Bad {
                offset: off as u64,
                torn: true,
            });
        }
        let payload = &rest[HEADER..end];
        if crc32c::crc32c_append(crc32c::crc32c(&rest[..4]), payload) != crc {
            return Ok(Scan::Bad {
                offset: off as u64,
                torn: false,
            });
        }
        let plain = sealer
            .open(&aad(kind, segment, off as u64), payload)
            .map_err(|source| Error::Sealing {
                what: "wal record",
                source,
            })?;
        f(&plain)?;
        off += end;
    }
    Ok(Scan::Complete)
}

fn list_segments(dir: &Path) -> Result<(Vec<u64>, Vec<u64>)> {
    let mut segs = Vec::new();
    let mut ckpts = Vec::new();
    for ent in fs::read_dir(dir).map_err(Error::io("read dir", dir))? {
        let ent = ent.map_err(Error::io("read dir", dir))?;
        let name = ent.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(n) = name.strip_prefix(CHECKPOINT_PREFIX) {
            if let Ok(n) = n.parse::<u64>() {
                ckpts.push(n);
            } else if n.ends_with(".tmp") {
                // An unfinished checkpoint from a crash; the segments it covers are still here.
                let p = ent.path();
                fs::remove_dir_all(&p).map_err(Error::io("remove", p))?;
            }
        } else if let Ok(n) = name.parse::<u64>() {
            segs.push(n);
        }
    }
    segs.sort_unstable();
    ckpts.sort_unstable();
    Ok((segs, ckpts))
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("fsync dir", dir))
}

impl Wal {
    /// Opens (or creates) the log in `dir`, replaying the newest checkpoint and then every
    /// segment after it through `f`. Returns the log and what was repaired, if anything.
    pub(crate) fn open(
        dir: &Path,
        sealer: Arc<dyn Sealer>,
        opts: WalOptions,
        f: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<(Self, Option<WalRepair>)> {
        fs::create_dir_all(dir).map_err(Error::io("create dir", dir))?;
        let (segs, ckpts) = list_segments(dir)?;
        let mut first = 0;
        if let Some(&c) = ckpts.last() {
            let path = dir
                .join(format!("{CHECKPOINT_PREFIX}{c:08}"))
                .join(segment_name(0));
            let data = fs::read(&path).map_err(Error::io("read", &path))?;
            if let Scan::Bad { offset, .. } = scan(&data, sealer.as_ref(), b"ckpt", c, f)? {
                // Checkpoints are fsynced before they become visible, so damage is not a torn
                // write; refuse rather than silently lose the head.
                return Err(Error::corrupt(
                    "wal checkpoint",
                    format!("bad record at {offset}"),
                ));
            }
            first = c;
        }
        let mut repair = None;
        let mut live = Vec::new();
        for (i, &s) in segs.iter().enumerate() {
            let path = dir.join(segment_name(s));
            if s < first {
                fs::remove_file(&path).map_err(Error::io("remove", &path))?;
                continue;
            }
            let data = fs::read(&path).map_err(Error::io("read", &path))?;
            live.push(s);
            if let Scan::Bad { offset, torn } = scan(&data, sealer.as_ref(), b"wal", s, f)? {
                let mut dropped = data.len() as u64 - offset;
                let file = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(Error::io("open", &path))?;
                file.set_len(offset).map_err(Error::io("truncate", &path))?;
                file.sync_all().map_err(Error::io("fsync", &path))?;
                let later = &segs[i + 1..];
                for &l in later {
                    let p = dir.join(segment_name(l));
                    dropped += fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                    fs::remove_file(&p).map_err(Error::io("remove", &p))?;
                }
                let r = WalRepair {
                    segment: s,
                    offset,
                    torn_tail: torn && later.is_empty(),
                    bytes_dropped: dropped,
                    segments_deleted: later.len(),
                };
                tracing::warn!(
                    segment = s,
                    offset,
                    torn_tail = r.torn_tail,
                    bytes_dropped = dropped,
                    "wal repaired: cut at last good record in segment {s} offset {offset}"
                );
                repair = Some(r);
                break;
            }
        }
        let segment = live.last().copied().unwrap_or(first);
        let path = dir.join(segment_name(segment));
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(Error::io("open", &path))?;
        let size = file.metadata().map_err(Error::io("stat", &path))?.len();
        sync_dir(dir)?;
        let wal = Wal {
            dir: dir.to_path_buf(),
            sealer,
            opts,
            writer: Mutex::new(Writer {
                file,
                segment,
                size,
                seq: 0,
            }),
            sync: Mutex::new(SyncState {
                synced_seq: 0,
                last_sync: Instant::now(),
            }),
        };
        Ok((wal, repair))
    }

    fn rotate(&self, w: &mut Writer) -> Result<()> {
        let old = self.dir.join(segment_name(w.segment));
        w.file.sync_data().map_err(Error::io("fsync", &old))?;
        let next = w.segment + 1;
        let path = self.dir.join(segment_name(next));
        w.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(Error::io("open", &path))?;
        sync_dir(&self.dir)?;
        w.segment = next;
        w.size = 0;
        Ok(())
    }

    /// Writes one record without waiting for durability; returns its sequence number for
    /// [`Wal::commit`]. Callers hold their own lock so records land in apply order.
    pub(crate) fn write(&self, plain: &[u8]) -> Result<u64> {
        let mut w = lock(&self.writer);
        if w.size > 0 && w.size + (plain.len() + HEADER) as u64 > self.opts.segment_size {
            self.rotate(&mut w)?;
        }
        let buf = frame(self.sealer.as_ref(), b"wal", w.segment, w.size, plain)?;
        if buf.len() - HEADER > MAX_RECORD as usize {
            return Err(Error::BatchTooLarge(plain.len()));
        }
        if let Err(e) = w.file.write_all(&buf) {
            // Cut the partial frame so later records do not land after garbage.
            let _ = w.file.set_len(w.size);
            return Err(Error::io("write", self.dir.join(segment_name(w.segment)))(
                e,
            ));
        }
        w.size += buf.len() as u64;
        w.seq += 1;
        Ok(w.seq)
    }

    /// Makes record `seq` as durable as the fsync policy asks.
    pub(crate) fn commit(&self, seq: u64) -> Result<()> {
        match self.opts.fsync {
            FsyncPolicy::Always => self.sync_to(seq),
            FsyncPolicy::Batch { interval } => {
                let due = lock(&self.sync).last_sync.elapsed() >= interval;
                if due { self.sync_to(seq) } else { Ok(()) }
            }
        }
    }

    /// Writes one record and commits it.
    #[cfg(test)]
    pub(crate) fn log(&self, plain: &[u8]) -> Result<()> {
        let seq = self.write(plain)?;
        self.commit(seq)
    }

    /// Fsyncs everything written so far.
    pub(crate) fn sync(&self) -> Result<()> {
        let seq = lock(&self.writer).seq;
        self.sync_to(seq)
    }

    /// Group commit: whoever holds the sync lock fsyncs everything written so far, so waiters
    /// whose records were covered return without another fsync.
    fn sync_to(&self, seq: u64) -> Result<()> {
        let mut s = lock(&self.sync);
        if s.synced_seq >= seq {
            return Ok(());
        }
        let (file, upto, segment) = {
            let w = lock(&self.writer);
            let f = w.file.try_clone().map_err(Error::io("dup", &self.dir))?;
            (f, w.seq, w.segment)
        };
        // Earlier segments were fsynced when they were rotated away.
        file.sync_data()
            .map_err(Error::io("fsync", self.dir.join(segment_name(segment))))?;
        s.synced_seq = upto;
        s.last_sync = Instant::now();
        Ok(())
    }

    /// Writes a checkpoint holding `records` (the state still needed) and drops every segment
    /// it supersedes. The caller must block appends while this runs.
    pub(crate) fn checkpoint(&self, records: &[Vec<u8>]) -> Result<()> {
        let mut w = lock(&self.writer);
        self.rotate(&mut w)?;
        let n = w.segment;
        let tmp = self.dir.join(format!("{CHECKPOINT_PREFIX}{n:08}.tmp"));
        fs::create_dir_all(&tmp).map_err(Error::io("create dir", &tmp))?;
        let path = tmp.join(segment_name(0));
        let mut buf = Vec::new();
        for r in records {
            let framed = frame(self.sealer.as_ref(), b"ckpt", n, buf.len() as u64, r)?;
            buf.extend_from_slice(&framed);
        }
        let mut file = File::create(&path).map_err(Error::io("create", &path))?;
        file.write_all(&buf).map_err(Error::io("write", &path))?;
        file.sync_all().map_err(Error::io("fsync", &path))?;
        sync_dir(&tmp)?;
        let done = self.dir.join(format!("{CHECKPOINT_PREFIX}{n:08}"));
        fs::rename(&tmp, &done).map_err(Error::io("rename", &done))?;
        sync_dir(&self.dir)?;
        let (segs, ckpts) = list_segments(&self.dir)?;
        for s in segs.into_iter().filter(|&s| s < n) {
            let p = self.dir.join(segment_name(s));
            fs::remove_file(&p).map_err(Error::io("remove", &p))?;
        }
        for c in ckpts.into_iter().filter(|&c| c < n) {
            let p = self.dir.join(format!("{CHECKPOINT_PREFIX}{c:08}"));
            fs::remove_dir_all(&p).map_err(Error::io("remove", &p))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::{IdentitySealer, TestSealer};
    use proptest::prelude::*;

    fn open(
        dir: &Path,
        sealer: Arc<dyn Sealer>,
        seg: u64,
    ) -> (Wal, Vec<Vec<u8>>, Option<WalRepair>) {
        let mut got = Vec::new();
        let opts = WalOptions {
            segment_size: seg,
            fsync: FsyncPolicy::Always,
        };
        let (wal, rep) = Wal::open(dir, sealer, opts, &mut |r| {
            got.push(r.to_vec());
            Ok(())
        })
        .unwrap();
        (wal, got, rep)
    }

    fn seg_files(dir: &Path) -> Vec<PathBuf> {
        let (segs, _) = list_segments(dir).unwrap();
        segs.into_iter()
            .map(|s| dir.join(segment_name(s)))
            .collect()
    }

    #[test]
    fn records_survive_reopen_across_segments_and_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, _, _) = open(dir.path(), Arc::new(IdentitySealer), 64);
        for i in 0..10u8 {
            wal.log(&[i; 20]).unwrap();
        }
        drop(wal);
        let (wal, got, rep) = open(dir.path(), Arc::new(IdentitySealer), 64);
        assert_eq!(rep, None);
        assert_eq!(got, (0..10u8).map(|i| vec![i; 20]).collect::<Vec<_>>());
        assert!(seg_files(dir.path()).len() > 2);
        wal.checkpoint(&[b"state".to_vec()]).unwrap();
        wal.log(b"after").unwrap();
        drop(wal);
        let (_, got, _) = open(dir.path(), Arc::new(IdentitySealer), 64);
        assert_eq!(got, vec![b"state".to_vec(), b"after".to_vec()]);
        assert_eq!(seg_files(dir.path()).len(), 1);
    }

    #[test]
    fn batch_policy_still_replays_after_a_clean_drop() {
        let dir = tempfile::tempdir().unwrap();
        let interval = Duration::from_secs(3600);
        let opts = WalOptions {
            segment_size: 1 << 20,
            fsync: FsyncPolicy::Batch { interval },
        };
        let (wal, _) =
            Wal::open(dir.path(), Arc::new(IdentitySealer), opts, &mut |_| Ok(())).unwrap();
        wal.log(b"one").unwrap();
        wal.log(b"two").unwrap();
        assert!(
            lock(&wal.sync).synced_seq < 2,
            "batch policy must not fsync every record"
        );
        wal.sync().unwrap();
        assert_eq!(lock(&wal.sync).synced_seq, 2);
        drop(wal);
        let (_, got, _) = open(dir.path(), Arc::new(IdentitySealer), 1 << 20);
        assert_eq!(got, vec![b"one".to_vec(), b"two".to_vec()]);
    }

    #[test]
    fn wrong_key_is_a_typed_error_not_a_repair() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, _, _) = open(dir.path(), Arc::new(TestSealer(1)), 1 << 20);
        wal.log(b"secret").unwrap();
        drop(wal);
        let res = Wal::open(
            dir.path(),
            Arc::new(TestSealer(2)),
            WalOptions::default(),
            &mut |_| Ok(()),
        );
        assert!(matches!(res, Err(Error::Sealing { .. })));
        let (_, got, _) = open(dir.path(), Arc::new(TestSealer(1)), 1 << 20);
        assert_eq!(got, vec![b"secret".to_vec()]);
    }

    #[test]
    fn moved_record_fails_aad_check() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, _, _) = open(dir.path(), Arc::new(TestSealer(1)), 1 << 20);
        wal.log(b"aaaa").unwrap();
        wal.log(b"bbbb").unwrap();
        drop(wal);
        let p = &seg_files(dir.path())[0];
        let data = fs::read(p).unwrap();
        let half = data.len() / 2;
        // Swap the two (equal-sized) frames: checksums still pass, the offset binding fails.
        let swapped = [&data[half..], &data[..half]].concat();
        fs::write(p, swapped).unwrap();
        let res = Wal::open(
            dir.path(),
            Arc::new(TestSealer(1)),
            WalOptions::default(),
            &mut |_| Ok(()),
        );
        assert!(matches!(res, Err(Error::Sealing { .. })));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn damage_keeps_exactly_the_good_prefix(
            records in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..30),
            seg in 40u64..400,
            cut in any::<proptest::sample::Index>(),
            flip in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let (wal, _, _) = open(dir.path(), Arc::new(IdentitySealer), seg);
            // Remember where each record ends: (segment index, end offset).
            let mut ends = Vec::new();
            for r in &records {
                wal.log(r).unwrap();
                let w = lock(&wal.writer);
                ends.push((w.segment, w.size));
            }
            drop(wal);
            let files = seg_files(dir.path());
            // Flip a byte anywhere, or truncate the last segment (a torn write); a cut exactly
            // at a record boundary inside an earlier segment would be indistinguishable from a
            // complete segment.
            let candidates = if flip { &files[..] } else { &files[files.len() - 1..] };
            let total: u64 = candidates.iter().map(|f| fs::metadata(f).unwrap().len()).sum();
            prop_assume!(total > 0);
            let mut pos = cut.index(total as usize) as u64;
            let mut target = (0u64, 0u64);
            for f in candidates {
                let len = fs::metadata(f).unwrap().len();
                let n: u64 = f.file_name().unwrap().to_str().unwrap().parse().unwrap();
                if pos < len { target = (n, pos); break; }
                pos -= len;
            }
            let path = dir.path().join(segment_name(target.0));
            let mut data = fs::read(&path).unwrap();
            if flip {
                data[target.1 as usize] ^= 0x5a;
            } else {
                data.truncate(target.1 as usize);
            }
            fs::write(&path, &data).unwrap();
            // Records wholly before the damage survive; nothing from it on does.
            let keep = ends.iter().take_while(|&&(s, end)| s < target.0 || (s == target.0 && end <= target.1)).count();
            let (_, got, rep) = open(dir.path(), Arc::new(IdentitySealer), seg);
            prop_assert_eq!(&got[..], &records[..keep]);
            // A cut exactly at a record boundary of the last segment looks like a complete log.
            let boundary = !flip && (target.1 == 0 || ends.contains(&target));
            prop_assert_eq!(rep.is_some(), !boundary);
        }
    }
}
