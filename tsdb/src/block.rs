//! Immutable, time-partitioned blocks on disk: a chunks file, an index and `meta.json`.
//!
//! Both files are sequences of framed sections, `len: u32 LE | crc32c: u32 LE | payload`,
//! where every payload is sealed with the tenant's [`Sealer`] and bound to the block id, the
//! file and the offset. `meta.json` holds only the time range, counts and lineage.
//!
//! - `chunks`: one section per series holding all its chunks (optionally LZ4 compressed before
//!   sealing); the index points at sections, so a query opens only the series it needs.
//! - `tombstones`: one section listing deleted time ranges per series; rewritten atomically
//!   when series are deleted, applied by queries and dropped for good by compaction.
//! - `index`: sections for the symbol table, the series (labels as symbol refs, chunk section
//!   ref, per-chunk time ranges) and the postings, then a fixed footer with section offsets.

mod writer;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

pub(crate) use self::writer::{BlockSpec, write_block};
use crate::chunk::{Chunk, Encoding};
use crate::enc::{Decoder, Encoder};
use crate::error::{Error, Result};
use crate::model::{Label, Labels, Value};
use crate::postings::Postings;
use crate::seal::Sealer;

pub(crate) const CHUNKS_FILE: &str = "chunks";
pub(crate) const INDEX_FILE: &str = "index";
pub(crate) const META_FILE: &str = "meta.json";
pub(crate) const TOMBSTONES_FILE: &str = "tombstones";
const TOMBSTONES_MAGIC: &[u8; 5] = b"AMPT\x01";
const CHUNKS_MAGIC: &[u8; 5] = b"AMPC\x01";
const INDEX_MAGIC: &[u8; 5] = b"AMPI\x01";
const FRAME_HEADER: usize = 8;
const FOOTER_LEN: usize = 6 * 8 + 4;

/// Whether chunk sections are compressed before sealing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockCompression {
    /// Chunks are stored as encoded.
    #[default]
    None,
    /// An LZ4 pass over each series' chunks.
    Lz4,
}

/// Sample, chunk and series counts of a block.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockStats {
    /// Series in the block.
    pub num_series: u64,
    /// Chunks in the block.
    pub num_chunks: u64,
    /// Samples in the block.
    pub num_samples: u64,
    /// Bytes of the chunks file.
    pub chunks_bytes: u64,
}

/// The `meta.json` of a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockMeta {
    /// Unique block id (its directory name).
    pub id: String,
    /// Inclusive lower time bound (ms).
    pub min_time: i64,
    /// Exclusive upper time bound (ms).
    pub max_time: i64,
    /// Counts.
    pub stats: BlockStats,
    /// Compaction level: 1 for blocks cut from the head.
    pub level: u32,
    /// Ids of the blocks merged into this one; they are deleted once this block exists.
    pub parents: Vec<String>,
    /// Chunk section compression.
    pub compression: BlockCompression,
    /// Format version.
    pub version: u32,
}

pub(crate) fn section_aad(file: &str, id: &str, offset: u64) -> Vec<u8> {
    let mut a = format!("ampd/{file}/{id}/").into_bytes();
    a.extend_from_slice(&offset.to_be_bytes());
    a
}

/// Checks a frame's checksum and opens its payload.
fn open_frame(
    frame: &[u8],
    sealer: &dyn Sealer,
    aad: &[u8],
    what: &'static str,
) -> Result<Vec<u8>> {
    if frame.len() < FRAME_HEADER {
        return Err(Error::corrupt(what, "section shorter than its header"));
    }
    let len = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
    let crc = u32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let payload = frame
        .get(FRAME_HEADER..FRAME_HEADER + len)
        .ok_or_else(|| Error::corrupt(what, "section length exceeds file"))?;
    if crc32c::crc32c_append(crc32c::crc32c(&frame[..4]), payload) != crc {
        return Err(Error::corrupt(what, "section checksum mismatch"));
    }
    sealer
        .open(aad, payload)
        .map_err(|source| Error::Sealing { what, source })
}

/// A series entry of a block index.
#[derive(Debug)]
pub(crate) struct BlockSeries {
    pub(crate) labels: Labels,
    section: (u64, u32),
    /// (min_t, max_t) per chunk, in section order.
    chunks: Vec<(i64, i64)>,
}

/// An open block: index in memory, chunks read on demand.
#[derive(Debug)]
pub(crate) struct Block {
    pub(crate) meta: BlockMeta,
    pub(crate) dir: PathBuf,
    sealer: Arc<dyn Sealer>,
    chunks: File,
    pub(crate) series: Vec<BlockSeries>,
    pub(crate) postings: Postings,
    /// Deleted ranges (inclusive) by series id.
    tombstones: RwLock<BTreeMap<u64, Vec<(i64, i64)>>>,
}

type Tombstones = BTreeMap<u64, Vec<(i64, i64)>>;

fn read_tombstones(dir: &Path, sealer: &dyn Sealer, id: &str) -> Result<Tombstones> {
    let p = dir.join(TOMBSTONES_FILE);
    let raw = fs::read(&p).map_err(Error::io("read", &p))?;
    let frame = raw
        .strip_prefix(TOMBSTONES_MAGIC.as_slice())
        .ok_or_else(|| Error::corrupt("block tombstones", "bad header"))?;
    let aad = section_aad(TOMBSTONES_FILE, id, TOMBSTONES_MAGIC.len() as u64);
    let plain = open_frame(frame, sealer, &aad, "block tombstones")?;
    let mut d = Decoder::new(&plain, "block tombstones");
    let n = d.len()?;
    let mut out = Tombstones::new();
    for _ in 0..n {
        let idx = d.uvarint()?;
        let a = d.varint()?;
        let b = d.varint()?;
        out.entry(idx).or_default().push((a, b));
    }
    Ok(out)
}

/// Writes the tombstones file of block `id` in `dir` via a temporary file and a rename.
pub(crate) fn write_tombstones(
    dir: &Path,
    sealer: &dyn Sealer,
    id: &str,
    t: &Tombstones,
) -> Result<()> {
    let mut e = Encoder::new();
    e.uvarint(t.values().map(|v| v.len() as u64).sum());
    for (idx, ranges) in t {
        for (a, b) in ranges {
            e.uvarint(*idx);
            e.varint(*a);
            e.varint(*b);
        }
    }
    let aad = section_aad(TOMBSTONES_FILE, id, TOMBSTONES_MAGIC.len() as u64);
    let mut buf = TOMBSTONES_MAGIC.to_vec();
    buf.extend_from_slice(&writer::frame(sealer, &aad, &e.buf)?);
    let tmp = dir.join(format!("{TOMBSTONES_FILE}.tmp"));
    writer::write_file(&tmp, &buf)?;
    let dst = dir.join(TOMBSTONES_FILE);
    fs::rename(&tmp, &dst).map_err(Error::io("rename", &dst))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("fsync dir", dir))
}

fn read_meta(dir: &Path) -> Result<BlockMeta> {
    let p = dir.join(META_FILE);
    let raw = fs::read(&p).map_err(Error::io("read", &p))?;
    serde_json::from_slice(&raw).map_err(|e| Error::corrupt("block meta", e.to_string()))
}

impl Block {
    pub(crate) fn open(dir: &Path, sealer: Arc<dyn Sealer>) -> Result<Self> {
        let meta = read_meta(dir)?;
        let ipath = dir.join(INDEX_FILE);
        let index = fs::read(&ipath).map_err(Error::io("read", &ipath))?;
        if index.len() < INDEX_MAGIC.len() + FOOTER_LEN || !index.starts_with(INDEX_MAGIC) {
            return Err(Error::corrupt("block index", "bad header"));
        }
        let footer = &index[index.len() - FOOTER_LEN..];
        let crc = u32::from_le_bytes([footer[48], footer[49], footer[50], footer[51]]);
        if crc32c::crc32c(&footer[..48]) != crc {
            return Err(Error::corrupt("block index", "footer checksum mismatch"));
        }
        let mut fd = Decoder::new(&footer[..48], "block index");
        let mut sections = Vec::new();
        for _ in 0..3 {
            let off = fd.u64_le()? as usize;
            let len = fd.u64_le()? as usize;
            let frame = index
                .get(off..off.saturating_add(len))
                .ok_or_else(|| Error::corrupt("block index", "section out of range"))?;
            let aad = section_aad(INDEX_FILE, &meta.id, off as u64);
            sections.push(open_frame(frame, sealer.as_ref(), &aad, "block index")?);
        }
        let symbols = decode_symbols(&sections[0])?;
        let series = decode_series(&sections[1], &symbols)?;
        let postings = decode_postings(&sections[2], &symbols, series.len())?;
        let cpath = dir.join(CHUNKS_FILE);
        let chunks = File::open(&cpath).map_err(Error::io("open", &cpath))?;
        let mut magic = [0u8; 5];
        chunks
            .read_exact_at(&mut magic, 0)
            .map_err(Error::io("read", &cpath))?;
        if &magic != CHUNKS_MAGIC {
            return Err(Error::corrupt("block chunks", "bad header"));
        }
        let tombstones = RwLock::new(read_tombstones(dir, sealer.as_ref(), &meta.id)?);
        Ok(Self {
            meta,
            dir: dir.to_path_buf(),
            sealer,
            chunks,
            series,
            postings,
            tombstones,
        })
    }

    /// Returns the start of the first chunk of series `idx` overlapping `[mint, maxt]`.
    /// Chunks wholly inside one deleted range are skipped.
    pub(crate) fn first_overlap(&self, idx: u64, mint: i64, maxt: i64) -> Option<i64> {
        let dead = self.tombstones(idx);
        self.series
            .get(idx as usize)?
            .chunks
            .iter()
            .filter(|(a, b)| !dead.iter().any(|(x, y)| x <= a && b <= y))
            .find(|(a, b)| *a <= maxt && *b >= mint)
            .map(|(a, _)| *a)
    }

    /// Reads, opens and decodes the chunks of series `idx` overlapping `[mint, maxt]`.
    pub(crate) fn chunks(&self, idx: u64, mint: i64, maxt: i64) -> Result<Vec<Chunk>> {
        let s = self
            .series
            .get(idx as usize)
            .ok_or_else(|| Error::corrupt("block index", "series id out of range"))?;
        let (off, len) = s.section;
        let mut frame = vec![0u8; len as usize];
        self.chunks
            .read_exact_at(&mut frame, off)
            .map_err(Error::io("read", self.dir.join(CHUNKS_FILE)))?;
        let aad = section_aad(CHUNKS_FILE, &self.meta.id, off);
        let plain = open_frame(&frame, self.sealer.as_ref(), &aad, "block chunks")?;
        let (&flag, body) = plain
            .split_first()
            .ok_or_else(|| Error::corrupt("block chunks", "empty section"))?;
        let body = match flag {
            0 => body.to_vec(),
            1 => lz4_flex::decompress_size_prepended(body)
                .map_err(|e| Error::corrupt("block chunks", e.to_string()))?,
            f => {
                return Err(Error::corrupt(
                    "block chunks",
                    format!("unknown compression {f}"),
                ));
            }
        };
        let mut d = Decoder::new(&body, "block chunks");
        let n = d.len()?;
        if n != s.chunks.len() {
            return Err(Error::corrupt(
                "block chunks",
                "chunk count differs from index",
            ));
        }
        let mut out = Vec::new();
        for &(min_t, max_t) in &s.chunks {
            let encoding = Encoding::from_u8(d.u8()?)?;
            let data = d.bytes()?;
            if min_t <= maxt && max_t >= mint {
                out.push(Chunk {
                    encoding,
                    min_t,
                    max_t,
                    data: Arc::from(data),
                });
            }
        }
        Ok(out)
    }

    /// Returns the deleted ranges of series `idx`.
    pub(crate) fn tombstones(&self, idx: u64) -> Vec<(i64, i64)> {
        let t = self.tombstones.read().unwrap_or_else(|e| e.into_inner());
        t.get(&idx).cloned().unwrap_or_default()
    }

    /// Records deleted ranges durably; they apply to queries from then on.
    pub(crate) fn add_tombstones(&self, adds: &[(u64, i64, i64)]) -> Result<()> {
        let mut t = self.tombstones.write().unwrap_or_else(|e| e.into_inner());
        let mut next = t.clone();
        for (idx, a, b) in adds {
            next.entry(*idx).or_default().push((*a, *b));
        }
        write_tombstones(&self.dir, self.sealer.as_ref(), &self.meta.id, &next)?;
        *t = next;
        Ok(())
    }

    /// Reads the samples of series `idx` in `[mint, maxt]` without deleted ones; also returns
    /// the number of chunks decoded.
    pub(crate) fn samples(
        &self,
        idx: u64,
        mint: i64,
        maxt: i64,
    ) -> Result<(Vec<(i64, Value)>, usize)> {
        let chunks = self.chunks(idx, mint, maxt)?;
        let dead = self.tombstones(idx);
        let mut out = Vec::new();
        for c in &chunks {
            out.extend(c.iter()?.filter(|(t, _)| {
                *t >= mint && *t <= maxt && !dead.iter().any(|(a, b)| a <= t && t <= b)
            }));
        }
        Ok((out, chunks.len()))
    }

    /// Removes the block's directory.
    pub(crate) fn delete(&self) -> Result<()> {
        fs::remove_dir_all(&self.dir).map_err(Error::io("remove", &self.dir))
    }
}

fn decode_symbols(buf: &[u8]) -> Result<Vec<Arc<str>>> {
    let mut d = Decoder::new(buf, "block symbols");
    let n = d.len()?;
    (0..n).map(|_| Ok(Arc::from(d.str()?))).collect()
}

fn sym(symbols: &[Arc<str>], i: u64) -> Result<Arc<str>> {
    symbols
        .get(i as usize)
        .cloned()
        .ok_or_else(|| Error::corrupt("block index", "symbol ref out of range"))
}

fn decode_series(buf: &[u8], symbols: &[Arc<str>]) -> Result<Vec<BlockSeries>> {
    let mut d = Decoder::new(buf, "block series");
    let n = d.len()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let nl = d.len()?;
        let mut labels = Vec::with_capacity(nl);
        for _ in 0..nl {
            labels.push(Label {
                name: sym(symbols, d.uvarint()?)?,
                value: sym(symbols, d.uvarint()?)?,
            });
        }
        let off = d.uvarint()?;
        let len = u32::try_from(d.uvarint()?)
            .map_err(|_| Error::corrupt("block series", "section too long"))?;
        let nc = d.len()?;
        let mut chunks = Vec::with_capacity(nc);
        for _ in 0..nc {
            let min_t = d.varint()?;
            let max_t = min_t.wrapping_add(d.uvarint()? as i64);
            chunks.push((min_t, max_t));
        }
        out.push(BlockSeries {
            labels: Labels::from_sorted(labels),
            section: (off, len),
            chunks,
        });
    }
    Ok(out)
}

fn decode_postings(buf: &[u8], symbols: &[Arc<str>], num_series: usize) -> Result<Postings> {
    let mut d = Decoder::new(buf, "block postings");
    let mut p = Postings::default();
    p.set_all((0..num_series as u64).collect());
    let names = d.len()?;
    for _ in 0..names {
        let name = sym(symbols, d.uvarint()?)?;
        let values = d.len()?;
        for _ in 0..values {
            let value = sym(symbols, d.uvarint()?)?;
            let n = d.len()?;
            let mut ids = Vec::with_capacity(n);
            let mut prev = 0u64;
            for _ in 0..n {
                prev = prev.wrapping_add(d.uvarint()?);
                if prev >= num_series as u64 {
                    return Err(Error::corrupt("block postings", "series id out of range"));
                }
                ids.push(prev);
            }
            p.insert_list(name.clone(), value, ids);
        }
    }
    Ok(p)
}

/// Lists block directories under `dir`, removing unfinished ones and blocks that a
/// compacted block already replaces.
pub(crate) fn open_all(dir: &Path, sealer: &Arc<dyn Sealer>) -> Result<Vec<Arc<Block>>> {
    fs::create_dir_all(dir).map_err(Error::io("create dir", dir))?;
    let mut blocks = Vec::new();
    for ent in fs::read_dir(dir).map_err(Error::io("read dir", dir))? {
        let ent = ent.map_err(Error::io("read dir", dir))?;
        let path = ent.path();
        let name = ent.file_name();
        if name.to_string_lossy().ends_with(".tmp") {
            fs::remove_dir_all(&path).map_err(Error::io("remove", &path))?;
            continue;
        }
        blocks.push(Arc::new(Block::open(&path, sealer.clone())?));
    }
    let replaced: std::collections::HashSet<String> = blocks
        .iter()
        .flat_map(|b| b.meta.parents.iter().cloned())
        .collect();
    let mut live = Vec::new();
    for b in blocks {
        if replaced.contains(&b.meta.id) {
            b.delete()?;
        } else {
            live.push(b);
        }
    }
    live.sort_by_key(|b| (b.meta.min_time, b.meta.max_time));
    Ok(live)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::encode_samples;
    use crate::matcher::{MatchType, Matcher};
    use crate::model::Value;
    use crate::seal::TestSealer;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn arb_series() -> impl Strategy<Value = BTreeMap<Labels, Vec<(i64, u64)>>> {
        proptest::collection::btree_map(
            ("[a-c]", "[x-z]{0,2}").prop_map(|(j, i)| Labels::from_pairs([("job", j), ("i", i)])),
            proptest::collection::btree_map(0i64..100_000, any::<u64>(), 1..300)
                .prop_map(|m| m.into_iter().collect::<Vec<_>>()),
            0..12,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn blocks_round_trip(series in arb_series(), lz4 in any::<bool>()) {
            let dir = tempfile::tempdir().unwrap();
            let sealer: Arc<dyn Sealer> = Arc::new(TestSealer(3));
            let input: Vec<(Labels, Vec<Chunk>)> = series
                .iter()
                .map(|(l, s)| {
                    let vals: Vec<(i64, Value)> =
                        s.iter().map(|(t, v)| (*t, Value::Float(f64::from_bits(*v)))).collect();
                    (l.clone(), encode_samples(&vals))
                })
                .collect();
            let compression = if lz4 { BlockCompression::Lz4 } else { BlockCompression::None };
            let spec = BlockSpec { min_time: 0, max_time: 100_000, level: 1, parents: vec![], compression };
            let meta = write_block(dir.path(), sealer.as_ref(), spec, &input).unwrap();
            let b = Block::open(&dir.path().join(&meta.id), sealer).unwrap();
            prop_assert_eq!(b.series.len(), series.len());
            prop_assert_eq!(meta.stats.num_samples, series.values().map(|s| s.len() as u64).sum::<u64>());
            for (idx, (labels, samples)) in series.iter().enumerate() {
                prop_assert_eq!(&b.series[idx].labels, labels);
                let got: Vec<(i64, u64)> = b
                    .chunks(idx as u64, i64::MIN, i64::MAX)
                    .unwrap()
                    .iter()
                    .flat_map(|c| c.iter().unwrap())
                    .map(|(t, v)| match v { Value::Float(f) => (t, f.to_bits()), _ => (t, 0) })
                    .collect();
                prop_assert_eq!(&got, samples);
            }
            let m = Matcher::new(MatchType::Equal, "job", "a").unwrap();
            let want: Vec<u64> = series.keys().enumerate()
                .filter(|(_, l)| l.get("job") == Some("a")).map(|(i, _)| i as u64).collect();
            prop_assert_eq!(b.postings.select(&[m]), want);
        }
    }

    #[test]
    fn damaged_sections_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let sealer: Arc<dyn Sealer> = Arc::new(TestSealer(3));
        let chunks = encode_samples(&[(1, Value::Float(1.0)), (2, Value::Float(2.0))]);
        let spec = BlockSpec {
            min_time: 0,
            max_time: 10,
            level: 1,
            parents: vec![],
            compression: BlockCompression::None,
        };
        let meta = write_block(
            dir.path(),
            sealer.as_ref(),
            spec,
            &[(Labels::from_pairs([("a", "b")]), chunks)],
        )
        .unwrap();
        let bdir = dir.path().join(&meta.id);
        let path = bdir.join(CHUNKS_FILE);
        let mut data = fs::read(&path).unwrap();
        let last = data.len() - 1;
        data[last] ^= 1;
        fs::write(&path, &data).unwrap();
        let b = Block::open(&bdir, sealer).unwrap();
        assert!(matches!(b.chunks(0, 0, 10), Err(Error::Corrupt { .. })));
        assert!(matches!(
            Block::open(&bdir, Arc::new(TestSealer(4))),
            Err(Error::Sealing { .. })
        ));
    }
}
