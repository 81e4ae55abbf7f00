//! Writes a block directory atomically: everything goes to `<id>.tmp`, is fsynced, then renamed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use super::{
    BlockCompression, BlockMeta, BlockStats, CHUNKS_FILE, CHUNKS_MAGIC, INDEX_FILE, INDEX_MAGIC,
    META_FILE, section_aad,
};
use crate::chunk::Chunk;
use crate::enc::Encoder;
use crate::error::{Error, Result};
use crate::model::Labels;
use crate::seal::Sealer;

pub(super) fn frame(sealer: &dyn Sealer, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
    let payload = sealer.seal(aad, plain).map_err(|source| Error::Sealing {
        what: "block section",
        source,
    })?;
    let len = (payload.len() as u32).to_le_bytes();
    let crc = crc32c::crc32c_append(crc32c::crc32c(&len), &payload);
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&len);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Serializes one series' chunks into a section plaintext.
pub(crate) fn chunk_section(chunks: &[Chunk], compression: BlockCompression) -> Vec<u8> {
    let mut e = Encoder::new();
    e.uvarint(chunks.len() as u64);
    for c in chunks {
        e.u8(c.encoding as u8);
        e.bytes(&c.data);
    }
    match compression {
        BlockCompression::None => {
            let mut out = Vec::with_capacity(1 + e.buf.len());
            out.push(0);
            out.extend_from_slice(&e.buf);
            out
        }
        BlockCompression::Lz4 => {
            let mut out = vec![1];
            out.extend_from_slice(&lz4_flex::compress_prepend_size(&e.buf));
            out
        }
    }
}

pub(super) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let f = File::create(path).map_err(Error::io("create", path))?;
    let mut w = BufWriter::new(f);
    w.write_all(bytes).map_err(Error::io("write", path))?;
    let f = w
        .into_inner()
        .map_err(|e| Error::io("write", path)(e.into_error()))?;
    f.sync_all().map_err(Error::io("fsync", path))
}

/// What a new block is made of.
pub(crate) struct BlockSpec {
    pub(crate) min_time: i64,
    pub(crate) max_time: i64,
    pub(crate) level: u32,
    pub(crate) parents: Vec<String>,
    pub(crate) compression: BlockCompression,
}

/// Writes `series` (sorted by labels, chunks sorted and disjoint) as a new block under `dir`.
pub(crate) fn write_block(
    dir: &Path,
    sealer: &dyn Sealer,
    spec: BlockSpec,
    series: &[(Labels, Vec<Chunk>)],
) -> Result<BlockMeta> {
    let id = format!(
        "{:016x}-{}",
        spec.min_time as u64,
        uuid::Uuid::new_v4().simple()
    );
    let tmp = dir.join(format!("{id}.tmp"));
    fs::create_dir_all(&tmp).map_err(Error::io("create dir", &tmp))?;
    let mut stats = BlockStats {
        num_series: series.len() as u64,
        ..BlockStats::default()
    };

    // Chunks file, remembering each series' section.
    let mut chunks_buf = CHUNKS_MAGIC.to_vec();
    let mut sections = Vec::with_capacity(series.len());
    for (_, chunks) in series {
        let off = chunks_buf.len() as u64;
        let plain = chunk_section(chunks, spec.compression);
        let f = frame(sealer, &section_aad(CHUNKS_FILE, &id, off), &plain)?;
        sections.push((off, f.len() as u64));
        chunks_buf.extend_from_slice(&f);
        stats.num_chunks += chunks.len() as u64;
        stats.num_samples += chunks.iter().map(|c| c.num_samples() as u64).sum::<u64>();
    }
    stats.chunks_bytes = chunks_buf.len() as u64;
    write_file(&tmp.join(CHUNKS_FILE), &chunks_buf)?;

    // Symbol table.
    let symbols: BTreeSet<Arc<str>> = series
        .iter()
        .flat_map(|(l, _)| l.iter().flat_map(|x| [x.name.clone(), x.value.clone()]))
        .collect();
    let sym_ref: BTreeMap<Arc<str>, u64> = symbols
        .iter()
        .enumerate()
        .map(|(i, s)| (s.clone(), i as u64))
        .collect();
    let r = |s: &Arc<str>| sym_ref.get(s).copied().unwrap_or(0);
    let mut sym_e = Encoder::new();
    sym_e.uvarint(symbols.len() as u64);
    symbols.iter().for_each(|s| sym_e.str(s));

    // Series and postings.
    let mut ser_e = Encoder::new();
    ser_e.uvarint(series.len() as u64);
    let mut postings: BTreeMap<(u64, u64), Vec<u64>> = BTreeMap::new();
    for (i, ((labels, chunks), (off, len))) in series.iter().zip(&sections).enumerate() {
        ser_e.uvarint(labels.len() as u64);
        for l in labels.iter() {
            ser_e.uvarint(r(&l.name));
            ser_e.uvarint(r(&l.value));
            postings
                .entry((r(&l.name), r(&l.value)))
                .or_default()
                .push(i as u64);
        }
        ser_e.uvarint(*off);
        ser_e.uvarint(*len);
        ser_e.uvarint(chunks.len() as u64);
        for c in chunks {
            ser_e.varint(c.min_t);
            ser_e.uvarint(c.max_t.wrapping_sub(c.min_t) as u64);
        }
    }
    let mut post_e = Encoder::new();
    let mut by_name: BTreeMap<u64, Vec<(u64, &Vec<u64>)>> = BTreeMap::new();
    for ((n, v), ids) in &postings {
        by_name.entry(*n).or_default().push((*v, ids));
    }
    post_e.uvarint(by_name.len() as u64);
    for (n, values) in &by_name {
        post_e.uvarint(*n);
        post_e.uvarint(values.len() as u64);
        for (v, ids) in values {
            post_e.uvarint(*v);
            post_e.uvarint(ids.len() as u64);
            let mut prev = 0;
            for id in ids.iter() {
                post_e.uvarint(id - prev);
                prev = *id;
            }
        }
    }

    let mut index = INDEX_MAGIC.to_vec();
    let mut footer = Encoder::new();
    for body in [&sym_e.buf, &ser_e.buf, &post_e.buf] {
        let off = index.len() as u64;
        let f = frame(sealer, &section_aad(INDEX_FILE, &id, off), body)?;
        footer.u64_le(off);
        footer.u64_le(f.len() as u64);
        index.extend_from_slice(&f);
    }
    let crc = crc32c::crc32c(&footer.buf);
    index.extend_from_slice(&footer.buf);
    index.extend_from_slice(&crc.to_le_bytes());
    write_file(&tmp.join(INDEX_FILE), &index)?;
    super::write_tombstones(&tmp, sealer, &id, &Default::default())?;

    let meta = BlockMeta {
        id: id.clone(),
        min_time: spec.min_time,
        max_time: spec.max_time,
        stats,
        level: spec.level,
        parents: spec.parents,
        compression: spec.compression,
        version: 1,
    };
    let json = serde_json::to_vec_pretty(&meta)
        .map_err(|e| Error::corrupt("block meta", e.to_string()))?;
    write_file(&tmp.join(META_FILE), &json)?;
    File::open(&tmp)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("fsync dir", &tmp))?;
    let done = dir.join(&id);
    fs::rename(&tmp, &done).map_err(Error::io("rename", &done))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("fsync dir", dir))?;
    Ok(meta)
}
