//! One tenant's database: WAL + head + blocks, with appends, queries and maintenance.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::block::{self, Block, BlockCompression, BlockSpec};
use crate::chunk::{CHUNK_SAMPLES, Chunk, encode_samples, merge_chunks};
use crate::error::{Error, Result};
use crate::head::{Head, HeadOptions, PendingSeries, Reject};
use crate::limits::{LimitHit, SeriesLimits};
use crate::matcher::Matcher;
use crate::model::{Exemplar, FloatHistogram, Histogram, Labels, MetricMetadata, Span, Value};
use crate::query::{QueryStats, Series, SeriesSet, Source};
use crate::seal::Sealer;
use crate::wal::record::Entry;
use crate::wal::{Wal, WalOptions, WalRepair, record};

const HOUR_MS: i64 = 3_600_000;

/// Settings of a database.
#[derive(Clone, Debug)]
pub struct Options {
    /// WAL segment size and fsync policy.
    pub wal: WalOptions,
    /// Time span of blocks cut from the head (ms); Prometheus uses 2h.
    pub block_range_ms: i64,
    /// How far behind a series' newest sample a sample may be and still be accepted (ms);
    /// 0 rejects every out-of-order sample. AMP's `outOfOrderTimeWindowInSeconds`.
    pub out_of_order_window_ms: i64,
    /// Blocks whose newest sample is older than this (relative to `now` in
    /// [`Db::maintain`]) are deleted (ms). AMP's `retentionPeriodInDays`.
    pub retention_ms: i64,
    /// Exemplars kept per series.
    pub max_exemplars_per_series: usize,
    /// Compression of chunk sections in blocks.
    pub compression: BlockCompression,
    /// Block ranges of the compaction levels, smallest first; the first must equal
    /// `block_range_ms` and each must be a multiple of the previous.
    pub compaction_ranges_ms: Vec<i64>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            wal: WalOptions::default(),
            block_range_ms: 2 * HOUR_MS,
            out_of_order_window_ms: 60_000,
            retention_ms: 150 * 24 * HOUR_MS,
            max_exemplars_per_series: 10,
            compression: BlockCompression::None,
            compaction_ranges_ms: vec![2 * HOUR_MS, 6 * HOUR_MS, 18 * HOUR_MS, 54 * HOUR_MS],
        }
    }
}

/// Per-kind counts of a commit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Whether anything was written (false when `all_or_nothing` refused the batch).
    pub applied: bool,
    /// Float samples stored.
    pub samples: u64,
    /// Histogram samples (integer or float) stored.
    pub histograms: u64,
    /// Exemplars stored.
    pub exemplars: u64,
    /// Metadata entries stored.
    pub metadata: u64,
    /// Samples older than their series' newest sample with no out-of-order window.
    pub out_of_order: u64,
    /// Samples older than the out-of-order window allows.
    pub too_old: u64,
    /// Samples older than the head accepts (already in blocks, or too far behind the head).
    pub out_of_bounds: u64,
    /// Samples with a stored timestamp but another value.
    pub duplicate: u64,
    /// Samples of new series refused because the head is at a series cap.
    pub series_limited: u64,
    /// The first series cap a new series ran into.
    pub limit_hit: Option<LimitHit>,
    /// Exemplars older than the series' newest exemplar.
    pub exemplars_rejected: u64,
}

impl AppendOutcome {
    /// Returns the number of rejected samples of all kinds.
    pub fn rejected(&self) -> u64 {
        self.out_of_order + self.too_old + self.out_of_bounds + self.duplicate + self.series_limited
    }
}

/// What [`Db::maintain`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// Blocks cut from the head.
    pub blocks_cut: usize,
    /// Compactions run (each merges several blocks into one).
    pub compactions: usize,
    /// Blocks deleted by retention.
    pub blocks_deleted: usize,
}

/// Size figures of a database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DbStats {
    /// Series in the head.
    pub head_series: usize,
    /// Oldest and newest sample in the head, if any.
    pub head_range: Option<(i64, i64)>,
    /// Metadata of every block, oldest first.
    pub blocks: Vec<block::BlockMeta>,
}

/// One tenant's time-series database.
///
/// All methods block on file I/O; async callers should run them on a blocking pool.
pub struct Db {
    dir: PathBuf,
    sealer: Arc<dyn Sealer>,
    wal: Wal,
    head: RwLock<Head>,
    blocks: RwLock<Vec<Arc<Block>>>,
    retention_ms: AtomicI64,
    compression: BlockCompression,
    ranges: Vec<i64>,
    maintenance: Mutex<()>,
    /// Whether a commit stored anything since the last maintenance pass.
    appended: AtomicBool,
    closed: AtomicBool,
    repair: Option<WalRepair>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    // Every mutation of the head is validated before it starts, so state behind a poisoned
    // lock is still consistent.
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

fn check_spans(spans: &[Span], buckets: usize, what: &str) -> Result<()> {
    let n: u64 = spans.iter().map(|s| u64::from(s.length)).sum();
    if n != buckets as u64 {
        return Err(Error::InvalidSeries(format!(
            "histogram {what} spans cover {n} buckets but {buckets} are given"
        )));
    }
    Ok(())
}

impl Db {
    /// Opens the database in `dir`, replaying its WAL; what a damaged WAL lost is reported by
    /// [`Db::wal_repair`].
    pub fn open(dir: &Path, sealer: Arc<dyn Sealer>, opts: Options) -> Result<Self> {
        let mut ranges = opts.compaction_ranges_ms.clone();
        if ranges.first() != Some(&opts.block_range_ms) {
            ranges.insert(0, opts.block_range_ms);
        }
        if opts.block_range_ms <= 0 || ranges.windows(2).any(|w| w[1] % w[0] != 0 || w[1] <= w[0]) {
            return Err(Error::InvalidOptions(
                "compaction ranges must be increasing multiples of the block range".into(),
            ));
        }
        let blocks = block::open_all(&dir.join("blocks"), &sealer)?;
        let min_valid_t = blocks
            .iter()
            .map(|b| b.meta.max_time)
            .max()
            .unwrap_or(i64::MIN);
        let mut head = Head::new(
            HeadOptions {
                block_range: opts.block_range_ms,
                ooo_window: opts.out_of_order_window_ms,
                chunk_samples: CHUNK_SAMPLES,
                max_exemplars: opts.max_exemplars_per_series,
            },
            min_valid_t,
        );
        let (wal, repair) = Wal::open(&dir.join("wal"), sealer.clone(), opts.wal, &mut |rec| {
            for e in record::decode(rec)? {
                head.replay(e);
            }
            Ok(())
        })?;
        head.drop_empty_series();
        Ok(Self {
            dir: dir.to_path_buf(),
            sealer,
            wal,
            head: RwLock::new(head),
            blocks: RwLock::new(blocks),
            retention_ms: AtomicI64::new(opts.retention_ms),
            compression: opts.compression,
            ranges,
            maintenance: Mutex::new(()),
            appended: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            repair,
        })
    }

    /// Returns what replay cut from a damaged WAL when the database was opened.
    pub fn wal_repair(&self) -> Option<&WalRepair> {
        self.repair.as_ref()
    }

    /// Starts a batch of appends.
    pub fn appender(&self) -> Appender<'_> {
        Appender {
            db: self,
            index: HashMap::new(),
            pending: Vec::new(),
            metadata: Vec::new(),
            all_or_nothing: false,
        }
    }

    /// Sets the retention period (ms); applied by the next [`Db::maintain`].
    pub fn set_retention(&self, ms: i64) {
        self.retention_ms.store(ms, Ordering::Relaxed);
    }

    /// Sets the caps on the series the head may hold, for later appends.
    pub fn set_series_limits(&self, limits: SeriesLimits) {
        write(&self.head).set_limits(limits);
    }

    /// Sets the out-of-order window (ms) for later appends.
    pub fn set_out_of_order_window(&self, ms: i64) {
        write(&self.head).opts.ooo_window = ms.max(0);
    }

    /// Fsyncs the WAL (call it on a timer under [`crate::FsyncPolicy::Batch`]).
    pub fn sync(&self) -> Result<()> {
        self.wal.sync()
    }

    /// Returns size figures.
    pub fn stats(&self) -> DbStats {
        let head = read(&self.head);
        DbStats {
            head_series: head.num_series(),
            head_range: (head.min_t <= head.max_t).then_some((head.min_t, head.max_t)),
            blocks: read(&self.blocks).iter().map(|b| b.meta.clone()).collect(),
        }
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    /// Blocks every later call; used before the tenant's files are removed.
    pub(crate) fn close(&self) {
        // Same lock order as `maintain`: maintenance, then head.
        let _m = self.maintenance.lock().unwrap_or_else(|e| e.into_inner());
        let _head = write(&self.head);
        self.closed.store(true, Ordering::Release);
    }

    /// Selects the series matching all `matchers` with samples in `[mint, maxt]` (inclusive),
    /// reading only the chunks that overlap the range.
    pub fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<SeriesSet> {
        self.check_open()?;
        let stats = Arc::new(QueryStats::default());
        let mut by_labels: BTreeMap<Labels, Vec<Source>> = BTreeMap::new();
        {
            let head = read(&self.head);
            for r in head.select_refs(matchers, mint, maxt) {
                let Some(s) = head.series(r) else { continue };
                let (chunks, loose) = s.data_in(mint, maxt);
                let srcs = by_labels.entry(s.labels.clone()).or_default();
                srcs.extend(chunks.into_iter().map(Source::Chunk));
                if !loose.is_empty() {
                    srcs.push(Source::Samples(Arc::new(loose)));
                }
            }
        }
        let blocks: Vec<Arc<Block>> = read(&self.blocks).clone();
        // Newer blocks first, so they win ties over older overlapping ones.
        for b in blocks
            .iter()
            .rev()
            .filter(|b| b.meta.min_time <= maxt && b.meta.max_time > mint)
        {
            for idx in b.postings.select(matchers) {
                if let Some(min_t) = b.first_overlap(idx, mint, maxt) {
                    let labels = b.series[idx as usize].labels.clone();
                    by_labels.entry(labels).or_default().push(Source::Block {
                        block: b.clone(),
                        idx,
                        min_t,
                    });
                }
            }
        }
        stats.add_series(by_labels.len() as u64);
        let series = by_labels
            .into_iter()
            .map(|(l, srcs)| Series::new(l, srcs, mint, maxt, stats.clone()))
            .collect();
        Ok(SeriesSet { series, stats })
    }

    /// Returns the label sets of series matching `matchers` with samples in `[mint, maxt]`.
    pub fn series(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<Labels>> {
        self.check_open()?;
        let mut out = BTreeSet::new();
        {
            let head = read(&self.head);
            for r in head.select_refs(matchers, mint, maxt) {
                if let Some(s) = head.series(r) {
                    out.insert(s.labels.clone());
                }
            }
        }
        for b in self.blocks_in(mint, maxt) {
            for idx in b.postings.select(matchers) {
                if b.first_overlap(idx, mint, maxt).is_some() {
                    out.insert(b.series[idx as usize].labels.clone());
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    fn blocks_in(&self, mint: i64, maxt: i64) -> Vec<Arc<Block>> {
        read(&self.blocks)
            .iter()
            .filter(|b| b.meta.min_time <= maxt && b.meta.max_time > mint)
            .cloned()
            .collect()
    }

    /// Returns the sorted label names of series matching `matchers` (all series when empty)
    /// in `[mint, maxt]`.
    pub fn label_names(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<String>> {
        self.check_open()?;
        if !matchers.is_empty() {
            let names: BTreeSet<String> = self
                .series(matchers, mint, maxt)?
                .iter()
                .flat_map(|l| l.iter().map(|x| x.name.to_string()).collect::<Vec<_>>())
                .collect();
            return Ok(names.into_iter().collect());
        }
        let mut names: BTreeSet<String> = BTreeSet::new();
        {
            let head = read(&self.head);
            if head.min_t <= maxt && head.max_t >= mint {
                names.extend(head.postings().names().map(|n| n.to_string()));
            }
        }
        for b in self.blocks_in(mint, maxt) {
            names.extend(b.postings.names().map(|n| n.to_string()));
        }
        Ok(names.into_iter().collect())
    }

    /// Returns the sorted values of label `name` among series matching `matchers` (all series
    /// when empty) in `[mint, maxt]`.
    pub fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>> {
        self.check_open()?;
        if !matchers.is_empty() {
            let values: BTreeSet<String> = self
                .series(matchers, mint, maxt)?
                .iter()
                .filter_map(|l| l.get(name).map(str::to_owned))
                .collect();
            return Ok(values.into_iter().collect());
        }
        let mut values: BTreeSet<String> = BTreeSet::new();
        {
            let head = read(&self.head);
            if head.min_t <= maxt && head.max_t >= mint {
                values.extend(head.postings().values(name).map(|(v, _)| v.to_string()));
            }
        }
        for b in self.blocks_in(mint, maxt) {
            values.extend(b.postings.values(name).map(|(v, _)| v.to_string()));
        }
        Ok(values.into_iter().collect())
    }

    /// Returns the exemplars in `[mint, maxt]` of head series matching `matchers`.
    pub fn exemplars(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<(Labels, Vec<Exemplar>)>> {
        self.check_open()?;
        let head = read(&self.head);
        let mut out: Vec<(Labels, Vec<Exemplar>)> = head
            .postings()
            .select(matchers)
            .into_iter()
            .filter_map(|r| {
                let ex = head.exemplars(r, mint, maxt);
                let s = head.series(r)?;
                (!ex.is_empty()).then(|| (s.labels.clone(), ex))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Returns metric metadata by metric family name, for one family or all.
    pub fn metadata(&self, metric: Option<&str>) -> Result<BTreeMap<String, MetricMetadata>> {
        self.check_open()?;
        let head = read(&self.head);
        Ok(head
            .metadata
            .iter()
            .filter(|(k, _)| metric.is_none_or(|m| m == k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    /// Deletes the samples in `[mint, maxt]` of series matching `matchers`, in the head (logged
    /// to the WAL) and in blocks (as tombstones, purged by the next compaction). Returns the
    /// number of series touched.
    pub fn delete_series(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<usize> {
        self.check_open()?;
        let _guard = self.maintenance.lock().unwrap_or_else(|e| e.into_inner());
        self.check_open()?;
        let mut touched = BTreeSet::new();
        for b in self.blocks_in(mint, maxt) {
            let adds: Vec<(u64, i64, i64)> = b
                .postings
                .select(matchers)
                .into_iter()
                .filter(|idx| b.first_overlap(*idx, mint, maxt).is_some())
                .map(|idx| (idx, mint, maxt))
                .collect();
            if !adds.is_empty() {
                touched.extend(
                    adds.iter()
                        .map(|(idx, _, _)| b.series[*idx as usize].labels.clone()),
                );
                b.add_tombstones(&adds)?;
            }
        }
        let mut head = write(&self.head);
        let refs = head.select_refs(matchers, mint, maxt);
        if !refs.is_empty() {
            let entry = Entry::Tombstones(refs.iter().map(|r| (*r, mint, maxt)).collect());
            let seq = self.wal.write(&record::encode(&[entry]))?;
            for r in &refs {
                head.delete_range(*r, mint, maxt)?;
                if let Some(s) = head.series(*r) {
                    touched.insert(s.labels.clone());
                }
            }
            drop(head);
            self.wal.commit(seq)?;
        }
        Ok(touched.len())
    }

    /// Cuts blocks from the head when it spans more than 1.5 block ranges (or entirely when it
    /// is idle: nothing appended since the last pass and nothing newer than two block ranges
    /// before `now_ms`), truncating the WAL
    /// to a checkpoint; compacts adjacent blocks into larger ones; deletes blocks whose newest
    /// sample is older than the retention period before `now_ms`.
    pub fn maintain(&self, now_ms: i64) -> Result<MaintenanceReport> {
        self.check_open()?;
        let _guard = self.maintenance.lock().unwrap_or_else(|e| e.into_inner());
        self.check_open()?;
        let mut report = MaintenanceReport::default();
        let range = self.ranges[0];
        // A head is idle when nothing was appended since the last pass and its newest sample
        // is two ranges behind now: it is cut entirely, so retention and WAL truncation also
        // reach tenants that stopped writing. A tenant still being written is never idle, even
        // when its samples are hours old (a backfill): cutting it whole would raise the append
        // floor past the window it is filling and refuse its next samples as out of bounds.
        let active = self.appended.swap(false, Ordering::Relaxed);
        loop {
            let window = {
                let head = read(&self.head);
                let idle = !active && now_ms.saturating_sub(head.max_t) > 2 * range;
                if head.min_t > head.max_t || (head.max_t - head.min_t <= range / 2 * 3 && !idle) {
                    None
                } else {
                    let start = head.min_t.div_euclid(range) * range;
                    Some((start, start + range))
                }
            };
            let Some((mint, maxt)) = window else { break };
            if self.cut_block(mint, maxt)? {
                report.blocks_cut += 1;
            }
        }
        while self.compact_once()? {
            report.compactions += 1;
        }
        let cutoff = now_ms.saturating_sub(self.retention_ms.load(Ordering::Relaxed));
        let expired: Vec<Arc<Block>> = {
            let mut blocks = write(&self.blocks);
            let (old, keep): (Vec<_>, Vec<_>) =
                blocks.drain(..).partition(|b| b.meta.max_time <= cutoff);
            *blocks = keep;
            old
        };
        for b in &expired {
            b.delete()?;
            tracing::info!(block = %b.meta.id, "deleted block {} past retention", b.meta.id);
        }
        report.blocks_deleted = expired.len();
        Ok(report)
    }

    /// Cuts `[mint, maxt)` from the head into a block; returns whether a block was written.
    fn cut_block(&self, mint: i64, maxt: i64) -> Result<bool> {
        // Raise the append floor first so nothing new lands in the range being cut.
        {
            let mut head = write(&self.head);
            head.min_valid_t = head.min_valid_t.max(maxt);
        }
        let data = read(&self.head).block_data(mint, maxt)?;
        let mut series = Vec::with_capacity(data.len());
        for (labels, chunks, loose) in data {
            let chunks = merge_chunks(vec![chunks], loose)?;
            if !chunks.is_empty() {
                series.push((labels, chunks));
            }
        }
        series.sort_by(|a, b| a.0.cmp(&b.0));
        let written = !series.is_empty();
        if written {
            self.add_block(
                BlockSpec {
                    min_time: mint,
                    max_time: maxt,
                    level: 1,
                    parents: vec![],
                    compression: self.compression,
                },
                &series,
                &[],
            )?;
        }
        let mut head = write(&self.head);
        head.truncate(maxt)?;
        let records: Vec<Vec<u8>> = head
            .checkpoint_entries()?
            .iter()
            .map(|e| record::encode(e))
            .collect();
        self.wal.checkpoint(&records)?;
        Ok(written)
    }

    fn add_block(
        &self,
        spec: BlockSpec,
        series: &[(Labels, Vec<Chunk>)],
        replaces: &[Arc<Block>],
    ) -> Result<()> {
        let dir = self.dir.join("blocks");
        let meta = block::write_block(&dir, self.sealer.as_ref(), spec, series)?;
        let b = Arc::new(Block::open(&dir.join(&meta.id), self.sealer.clone())?);
        {
            let mut blocks = write(&self.blocks);
            blocks.retain(|x| !replaces.iter().any(|r| r.meta.id == x.meta.id));
            blocks.push(b);
            blocks.sort_by_key(|b| (b.meta.min_time, b.meta.max_time));
        }
        for r in replaces {
            r.delete()?;
        }
        Ok(())
    }

    /// Merges one group of blocks that lie in the same window of a larger compaction range,
    /// once the head has moved past that window.
    fn compact_once(&self) -> Result<bool> {
        let floor = read(&self.head).min_valid_t;
        let blocks = read(&self.blocks).clone();
        for &range in &self.ranges[1..] {
            let mut groups: BTreeMap<i64, Vec<Arc<Block>>> = BTreeMap::new();
            for b in &blocks {
                let start = b.meta.min_time.div_euclid(range) * range;
                if b.meta.max_time <= start + range && b.meta.max_time - b.meta.min_time < range {
                    groups.entry(start).or_default().push(b.clone());
                }
            }
            for (start, group) in groups {
                if group.len() < 2 || start + range > floor {
                    continue;
                }
                self.compact(&group)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn compact(&self, group: &[Arc<Block>]) -> Result<()> {
        let mut merged: BTreeMap<Labels, Vec<Vec<Chunk>>> = BTreeMap::new();
        // Newest first so it wins ties, as in queries.
        for b in group.iter().rev() {
            for (idx, s) in b.series.iter().enumerate() {
                let idx = idx as u64;
                let chunks = if b.tombstones(idx).is_empty() {
                    b.chunks(idx, i64::MIN, i64::MAX)?
                } else {
                    // Deleted samples are dropped for good here.
                    encode_samples(&b.samples(idx, i64::MIN, i64::MAX)?.0)
                };
                merged.entry(s.labels.clone()).or_default().push(chunks);
            }
        }
        let mut series = Vec::with_capacity(merged.len());
        for (labels, lists) in merged {
            let chunks = merge_chunks(lists, Vec::new())?;
            if !chunks.is_empty() {
                series.push((labels, chunks));
            }
        }
        let spec = BlockSpec {
            min_time: group.iter().map(|b| b.meta.min_time).min().unwrap_or(0),
            max_time: group.iter().map(|b| b.meta.max_time).max().unwrap_or(0),
            level: group.iter().map(|b| b.meta.level).max().unwrap_or(1) + 1,
            parents: group.iter().map(|b| b.meta.id.clone()).collect(),
            compression: self.compression,
        };
        tracing::info!(
            blocks = group.len(),
            min_time = spec.min_time,
            max_time = spec.max_time,
            "compacting {} blocks",
            group.len()
        );
        self.add_block(spec, &series, group)
    }
}

/// A batch of appends; nothing is visible or logged until [`Appender::commit`].
pub struct Appender<'a> {
    db: &'a Db,
    index: HashMap<Labels, usize>,
    pending: Vec<PendingSeries>,
    metadata: Vec<(String, MetricMetadata)>,
    all_or_nothing: bool,
}

impl Appender<'_> {
    /// Makes the commit store nothing when any sample is rejected (default: store the valid
    /// samples and report the rejected ones, as Prometheus-compatible receivers do).
    pub fn all_or_nothing(mut self, yes: bool) -> Self {
        self.all_or_nothing = yes;
        self
    }

    fn entry(&mut self, labels: &Labels) -> Result<&mut PendingSeries> {
        if labels.is_empty() {
            return Err(Error::InvalidSeries("empty label set".into()));
        }
        let i = match self.index.get(labels) {
            Some(&i) => i,
            None => {
                self.pending.push(PendingSeries {
                    labels: labels.clone(),
                    samples: Vec::new(),
                    exemplars: Vec::new(),
                });
                self.index.insert(labels.clone(), self.pending.len() - 1);
                self.pending.len() - 1
            }
        };
        Ok(&mut self.pending[i])
    }

    /// Adds a float sample (staleness markers included).
    pub fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<()> {
        self.entry(labels)?.samples.push((t, Value::Float(v)));
        Ok(())
    }

    /// Adds an integer native histogram sample.
    pub fn append_histogram(&mut self, labels: &Labels, t: i64, h: Histogram) -> Result<()> {
        check_spans(&h.positive_spans, h.positive_deltas.len(), "positive")?;
        check_spans(&h.negative_spans, h.negative_deltas.len(), "negative")?;
        self.entry(labels)?
            .samples
            .push((t, Value::Histogram(Arc::new(h))));
        Ok(())
    }

    /// Adds a float native histogram sample.
    pub fn append_float_histogram(
        &mut self,
        labels: &Labels,
        t: i64,
        h: FloatHistogram,
    ) -> Result<()> {
        check_spans(&h.positive_spans, h.positive_counts.len(), "positive")?;
        check_spans(&h.negative_spans, h.negative_counts.len(), "negative")?;
        self.entry(labels)?
            .samples
            .push((t, Value::FloatHistogram(Arc::new(h))));
        Ok(())
    }

    /// Adds an exemplar to a series.
    pub fn append_exemplar(&mut self, labels: &Labels, e: Exemplar) -> Result<()> {
        self.entry(labels)?.exemplars.push(e);
        Ok(())
    }

    /// Records metadata for a metric family.
    pub fn update_metadata(&mut self, metric: &str, m: MetricMetadata) {
        self.metadata.push((metric.to_owned(), m));
    }

    /// Validates the whole batch, then logs the accepted part to the WAL and applies it to the
    /// head. A WAL failure applies nothing.
    pub fn commit(self) -> Result<AppendOutcome> {
        let db = self.db;
        let mut head = write(&db.head);
        db.check_open()?;
        let plan = head.plan(self.pending, self.metadata);
        let mut out = AppendOutcome::default();
        for r in &plan.rejects {
            match r {
                Reject::OutOfOrder => out.out_of_order += 1,
                Reject::TooOld => out.too_old += 1,
                Reject::OutOfBounds => out.out_of_bounds += 1,
                Reject::Duplicate => out.duplicate += 1,
                Reject::SeriesLimit => out.series_limited += 1,
            }
        }
        out.limit_hit = plan.limit_hit.clone();
        out.exemplars_rejected = plan.exemplars_rejected as u64;
        if self.all_or_nothing && (out.rejected() > 0 || out.exemplars_rejected > 0) {
            return Ok(out);
        }
        let entries = plan.entries();
        if entries.is_empty() {
            out.applied = true;
            return Ok(out);
        }
        let seq = db.wal.write(&record::encode(&entries))?;
        head.apply(&plan);
        drop(head);
        db.appended.store(true, Ordering::Relaxed);
        out.applied = true;
        for (_, _, v) in &plan.samples {
            if matches!(v, Value::Float(_)) {
                out.samples += 1;
            } else {
                out.histograms += 1;
            }
        }
        out.exemplars = plan.exemplars.len() as u64;
        out.metadata = plan.metadata.len() as u64;
        db.wal.commit(seq)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
