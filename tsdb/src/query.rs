//! Query results: series whose samples are read lazily from head chunks and block sections.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::block::Block;
use crate::chunk::Chunk;
use crate::error::Result;
use crate::model::{Labels, Value};

/// Work done by a query, for metering; updated as iterators advance.
#[derive(Debug, Default)]
pub struct QueryStats {
    series: AtomicU64,
    chunks: AtomicU64,
    samples: AtomicU64,
}

impl QueryStats {
    /// Series returned.
    pub fn series(&self) -> u64 {
        self.series.load(Ordering::Relaxed)
    }

    /// Chunks decoded.
    pub fn chunks(&self) -> u64 {
        self.chunks.load(Ordering::Relaxed)
    }

    /// Samples returned by iterators.
    pub fn samples(&self) -> u64 {
        self.samples.load(Ordering::Relaxed)
    }

    pub(crate) fn add_series(&self, n: u64) {
        self.series.fetch_add(n, Ordering::Relaxed);
    }
}

/// Where a series' samples come from.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    /// A chunk already in memory (head).
    Chunk(Chunk),
    /// Samples not in chunks (head out-of-order samples), sorted.
    Samples(Arc<Vec<(i64, Value)>>),
    /// The chunks of series `idx` in a block, opened when first needed.
    Block {
        block: Arc<Block>,
        idx: u64,
        min_t: i64,
    },
}

impl Source {
    fn min_t(&self) -> i64 {
        match self {
            Source::Chunk(c) => c.min_t,
            Source::Samples(s) => s.first().map(|x| x.0).unwrap_or(i64::MAX),
            Source::Block { min_t, .. } => *min_t,
        }
    }
}

/// One series of a query result.
#[derive(Debug)]
pub struct Series {
    labels: Labels,
    sources: Vec<Source>,
    mint: i64,
    maxt: i64,
    stats: Arc<QueryStats>,
}

impl Series {
    pub(crate) fn new(
        labels: Labels,
        sources: Vec<Source>,
        mint: i64,
        maxt: i64,
        stats: Arc<QueryStats>,
    ) -> Self {
        Self {
            labels,
            sources,
            mint,
            maxt,
            stats,
        }
    }

    /// Returns the series labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// Iterates the samples in `[mint, maxt]` in time order; on equal timestamps from
    /// overlapping sources the head wins, then newer blocks.
    pub fn samples(&self) -> SampleIter {
        let mut it = SampleIter {
            cursors: Vec::new(),
            heap: BinaryHeap::new(),
            mint: self.mint,
            maxt: self.maxt,
            last_t: None,
            stats: self.stats.clone(),
            done: false,
        };
        for (i, s) in self.sources.iter().enumerate() {
            it.heap.push(Reverse((s.min_t(), i)));
            it.cursors.push(Cursor::Pending(s.clone()));
        }
        it
    }
}

enum Cursor {
    Pending(Source),
    Loaded(std::iter::Peekable<std::vec::IntoIter<(i64, Value)>>),
    Done,
}

/// Merging iterator over a series' sources; blocks are read and opened lazily.
pub struct SampleIter {
    cursors: Vec<Cursor>,
    /// (next timestamp or lower bound, source index); the index breaks ties by priority.
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    mint: i64,
    maxt: i64,
    last_t: Option<i64>,
    stats: Arc<QueryStats>,
    done: bool,
}

impl SampleIter {
    fn load(&self, src: Source) -> Result<Vec<(i64, Value)>> {
        let (samples, chunks) = match src {
            Source::Samples(s) => return Ok(s.as_ref().clone()),
            Source::Chunk(c) => {
                let s = c
                    .iter()?
                    .filter(|(t, _)| *t >= self.mint && *t <= self.maxt)
                    .collect();
                (s, 1)
            }
            Source::Block { block, idx, .. } => block.samples(idx, self.mint, self.maxt)?,
        };
        self.stats
            .chunks
            .fetch_add(chunks as u64, Ordering::Relaxed);
        Ok(samples)
    }
}

impl Iterator for SampleIter {
    type Item = Result<(i64, Value)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        while let Some(Reverse((key, i))) = self.heap.pop() {
            if key > self.maxt {
                self.done = true;
                return None;
            }
            let cur = std::mem::replace(&mut self.cursors[i], Cursor::Done);
            let mut it = match cur {
                Cursor::Pending(src) => match self.load(src) {
                    Ok(v) => v.into_iter().peekable(),
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                },
                Cursor::Loaded(it) => it,
                Cursor::Done => continue,
            };
            // A freshly loaded source re-enters the heap at its true first timestamp.
            let Some((t, _)) = it.peek() else { continue };
            let t = *t;
            if t != key {
                self.heap.push(Reverse((t, i)));
                self.cursors[i] = Cursor::Loaded(it);
                continue;
            }
            let Some((t, v)) = it.next() else { continue };
            if let Some((nt, _)) = it.peek() {
                self.heap.push(Reverse((*nt, i)));
            }
            self.cursors[i] = Cursor::Loaded(it);
            if self.last_t == Some(t) {
                continue;
            }
            self.last_t = Some(t);
            self.stats.samples.fetch_add(1, Ordering::Relaxed);
            return Some(Ok((t, v)));
        }
        self.done = true;
        None
    }
}

/// The result of a select: series sorted by labels, plus the query's stats.
#[derive(Debug)]
pub struct SeriesSet {
    /// Matching series, sorted by labels.
    pub series: Vec<Series>,
    /// Work counters, shared with the series' iterators.
    pub stats: Arc<QueryStats>,
}
