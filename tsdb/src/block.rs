//! Immutable, time-partitioned blocks on disk: a chunks file, an index and `meta.json`.
//!
//! Both files are sequences of framed sections, `len: u32 LE | crc32c: u32 LE | payload`,
//! where every payload is sealed with the tenant's [`Sealer`] and bound to the block id, the
//! file and the offset. `meta.json` holds only the time range, counts and lineage.
//!
//! - `chunks`: one section per series holding all its chunks (optionally LZ4 compressed before
//!   sealing); the index points at sections, so a query opens only the series it needs.
//! - `index`: sections for the symbol table, the series (labels as symbol refs, chunk section
//!   ref, per-chunk time ranges) and the postings, then a fixed footer with section offsets.

mod writer;

use std::fs::{self, File};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub(crate) use self::writer::{BlockSpec, write_block};
use crate::chunk::{Chunk, Encoding};
use crate::enc::Decoder;
use crate::error::{Error, Result};
use crate::model::{Label, Labels};
use crate::postings::Postings;
use crate::seal::Sealer;

pub(crate) const CHUNKS_FILE: &str = "chunks";
pub(crate) const INDEX_FILE: &str = "index";
pub(crate) const META_FILE: &str = "meta.json";
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
        Ok(Self {
            meta,
            dir: dir.to_path_buf(),
            sealer,
            chunks,
            series,
            postings,
        })
    }

    /// Returns the start of the first chunk of series `idx` overlapping `[mint, maxt]`.
    pub(crate) fn first_overlap(&self, idx: u64, mint: i64, maxt: i64) -> Option<i64> {
        self.series
            .get(idx as usize)?
            .chunks
            .iter()
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
