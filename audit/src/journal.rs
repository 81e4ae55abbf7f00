//! Append-only journal that makes an event durable before it reaches a log file.
//!
//! Frame: `u32 LE length | u32 LE CRC-32 | payload`, where the payload's first byte is the entry
//! kind. Appends are sequential, so a crash can only leave a torn frame at the very end; replay
//! stops at the first frame that is short or fails its checksum and cuts the file there.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{AuditError, AuditResult};
use crate::layout::sync_dir;

const HEADER_LEN: usize = 8;
const KIND_EVENT: u8 = 1;
const KIND_ROLLING: u8 = 2;

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    /// An event record, as the JSON bytes that go into the log file.
    Event(Vec<u8>),
    /// The events since the previous `Rolling` entry are being delivered to this log file key;
    /// written and synced before the file, so replay can finish or recognise the delivery.
    Rolling(String),
}

impl Entry {
    /// Appends the framed entry to `buf`.
    pub(crate) fn encode_into(&self, buf: &mut Vec<u8>) {
        match self {
            Self::Event(json) => encode_event(json, buf),
            Self::Rolling(key) => encode_frame(KIND_ROLLING, key.as_bytes(), buf),
        }
    }

    fn decode(payload: &[u8]) -> Option<Self> {
        let (&kind, body) = payload.split_first()?;
        match kind {
            KIND_EVENT => Some(Self::Event(body.to_vec())),
            KIND_ROLLING => String::from_utf8(body.to_vec()).ok().map(Self::Rolling),
            _ => None,
        }
    }
}

/// Appends the frame of an event entry holding `json` to `buf`.
pub(crate) fn encode_event(json: &[u8], buf: &mut Vec<u8>) {
    encode_frame(KIND_EVENT, json, buf);
}

fn encode_frame(kind: u8, body: &[u8], buf: &mut Vec<u8>) {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&[kind]);
    hasher.update(body);
    // Records are capped far below 4 GiB by the API layer's body limits.
    let len = u32::try_from(body.len() + 1).unwrap_or(u32::MAX);
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&hasher.finalize().to_le_bytes());
    buf.push(kind);
    buf.extend_from_slice(body);
}

/// The open journal file.
#[derive(Debug)]
pub(crate) struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Opens (or creates) the journal, returns its valid entries and cuts any torn tail.
    pub(crate) fn open(path: &Path) -> AuditResult<(Self, Vec<Entry>)> {
        let created = !path.try_exists().map_err(AuditError::io(path))?;
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(AuditError::io(path))?;
        // One writer per trail: a second process appending to the same journal would interleave
        // frames. The lock goes away with the process, also on kill -9.
        file.try_lock()
            .map_err(|_| AuditError::Locked(path.to_owned()))?;
        if created && let Some(parent) = path.parent() {
            sync_dir(parent)?;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(AuditError::io(path))?;
        let (entries, valid_len) = decode_all(&bytes);
        if valid_len < bytes.len() {
            tracing::warn!(
                path = %path.display(),
                cut = bytes.len() - valid_len,
                "cutting torn tail of audit journal {}",
                path.display()
            );
            file.set_len(valid_len as u64)
                .map_err(AuditError::io(path))?;
            file.sync_all().map_err(AuditError::io(path))?;
        }
        Ok((
            Self {
                file,
                path: path.to_owned(),
            },
            entries,
        ))
    }

    /// Appends already framed bytes and syncs them to disk.
    pub(crate) fn append(&mut self, framed: &[u8]) -> AuditResult<()> {
        self.file
            .write_all(framed)
            .map_err(AuditError::io(&self.path))?;
        self.file.sync_data().map_err(AuditError::io(&self.path))
    }

    /// Empties the journal once its events are all delivered.
    pub(crate) fn reset(&mut self) -> AuditResult<()> {
        self.file.set_len(0).map_err(AuditError::io(&self.path))?;
        self.file.sync_all().map_err(AuditError::io(&self.path))
    }
}

/// Decodes frames up to the first invalid one; returns the entries and the valid length.
fn decode_all(bytes: &[u8]) -> (Vec<Entry>, usize) {
    let mut entries = Vec::new();
    let mut pos = 0;
    while let Some(header) = bytes.get(pos..pos + HEADER_LEN) {
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let start = pos + HEADER_LEN;
        let Some(payload) = bytes.get(start..start + len) else {
            break;
        };
        if crc32fast::hash(payload) != crc {
            break;
        }
        let Some(entry) = Entry::decode(payload) else {
            break;
        };
        entries.push(entry);
        pos = start + len;
    }
    (entries, pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(entries: &[Entry]) -> Vec<u8> {
        let mut buf = Vec::new();
        entries.iter().for_each(|e| e.encode_into(&mut buf));
        buf
    }

    #[test]
    fn decodes_what_it_encodes() {
        let entries = vec![
            Entry::Event(b"{\"a\":1}".to_vec()),
            Entry::Rolling("AWSLogs/x.json.gz".into()),
            Entry::Event(Vec::new()),
        ];
        let bytes = frames(&entries);
        assert_eq!(decode_all(&bytes), (entries, bytes.len()));
    }

    #[test]
    fn stops_at_a_torn_or_corrupt_frame() {
        let good = frames(&[Entry::Event(b"one".to_vec())]);
        let mut torn = good.clone();
        torn.extend_from_slice(&frames(&[Entry::Event(b"two".to_vec())])[..9]);
        assert_eq!(decode_all(&torn).1, good.len());
        let mut flipped = good.clone();
        flipped.extend_from_slice(&frames(&[Entry::Event(b"two".to_vec())]));
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let (entries, len) = decode_all(&flipped);
        assert_eq!((entries.len(), len), (1, good.len()));
    }
}
