//! The in-memory head: recent samples per series in compressed chunks, plus the postings index.
//!
//! The head has no I/O; [`crate::db`] logs to the WAL before applying here and replays the WAL
//! into it on open.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use crate::chunk::{Chunk, ChunkAppender, Encoding, encode_samples};
use crate::error::Result;
use crate::limits::{LimitHit, SeriesLimits};
use crate::matcher::Matcher;
use crate::model::{Exemplar, Label, Labels, MetricMetadata, Value};
use crate::postings::Postings;
use crate::wal::record::Entry;

/// Why a sample was refused; the kinds Prometheus distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reject {
    /// Older than the newest sample of its series and no out-of-order window allows it.
    OutOfOrder,
    /// Older than the series' newest sample minus the out-of-order window.
    TooOld,
    /// Older than what the head can still take (already cut into a block).
    OutOfBounds,
    /// Same timestamp as a stored sample but a different value.
    Duplicate,
    /// Its series is new and the head is at a series cap.
    SeriesLimit,
}

/// Head tuning.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeadOptions {
    pub(crate) block_range: i64,
    pub(crate) ooo_window: i64,
    pub(crate) chunk_samples: u16,
    pub(crate) max_exemplars: usize,
}

struct ActiveChunk {
    app: ChunkAppender,
    encoding: Encoding,
    min_t: i64,
    max_t: i64,
}

impl ActiveChunk {
    fn seal(&self) -> Chunk {
        Chunk {
            encoding: self.encoding,
            min_t: self.min_t,
            max_t: self.max_t,
            data: Arc::from(self.app.bytes()),
        }
    }
}

pub(crate) struct MemSeries {
    pub(crate) labels: Labels,
    chunks: Vec<Chunk>,
    active: Option<ActiveChunk>,
    /// Out-of-order samples, kept sorted and merged with the chunks when read or cut.
    ooo: BTreeMap<i64, Value>,
    /// Newest in-order timestamp and its value.
    last: Option<(i64, Value)>,
    exemplars: VecDeque<Exemplar>,
}

impl MemSeries {
    fn new(labels: Labels) -> Self {
        Self {
            labels,
            chunks: Vec::new(),
            active: None,
            ooo: BTreeMap::new(),
            last: None,
            exemplars: VecDeque::new(),
        }
    }

    fn min_t(&self) -> Option<i64> {
        let c = self
            .chunks
            .first()
            .map(|c| c.min_t)
            .or(self.active.as_ref().map(|a| a.min_t));
        let o = self.ooo.keys().next().copied();
        match (c, o) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn is_empty(&self) -> bool {
        self.chunks.is_empty() && self.active.is_none() && self.ooo.is_empty()
    }

    /// Tells whether any stored sample may lie in `[mint, maxt]` (chunk ranges overlap).
    fn has_data_in(&self, mint: i64, maxt: i64) -> bool {
        self.chunks
            .iter()
            .any(|c| c.max_t >= mint && c.min_t <= maxt)
            || self
                .active
                .as_ref()
                .is_some_and(|a| a.max_t >= mint && a.min_t <= maxt)
            || self.ooo.range(mint..=maxt).next().is_some()
    }

    /// Finds the stored in-order value at `t`, decoding the one chunk that may hold it.
    fn in_order_value_at(&self, t: i64) -> Option<Value> {
        let sealed = self
            .chunks
            .iter()
            .find(|c| c.min_t <= t && t <= c.max_t)
            .cloned();
        let chunk = sealed.or_else(|| {
            self.active
                .as_ref()
                .filter(|a| a.min_t <= t && t <= a.max_t)
                .map(ActiveChunk::seal)
        })?;
        chunk.iter().ok()?.find(|(st, _)| *st == t).map(|(_, v)| v)
    }

    /// Stores a sample already validated (or replayed); returns whether it was stored.
    fn insert(&mut self, t: i64, v: Value, opts: &HeadOptions) -> bool {
        match &self.last {
            Some((lt, _)) if t < *lt => {
                self.ooo.insert(t, v);
                return true;
            }
            Some((lt, _)) if t == *lt => return false,
            _ => {}
        }
        let enc = Encoding::for_kind(v.kind());
        let boundary = |min_t: i64| (min_t.div_euclid(opts.block_range) + 1) * opts.block_range;
        let cut = match &self.active {
            None => true,
            Some(a) => {
                a.encoding != enc || a.app.count() >= opts.chunk_samples || t >= boundary(a.min_t)
            }
        };
        if cut {
            if let Some(a) = self.active.take() {
                self.chunks.push(a.seal());
            }
            self.active = Some(ActiveChunk {
                app: ChunkAppender::new(enc),
                encoding: enc,
                min_t: t,
                max_t: t,
            });
        }
        if let Some(a) = &mut self.active {
            a.app.append(t, &v);
            a.max_t = t;
        }
        self.last = Some((t, v));
        true
    }

    /// Returns the chunks and loose samples overlapping `[mint, maxt]`.
    pub(crate) fn data_in(&self, mint: i64, maxt: i64) -> (Vec<Chunk>, Vec<(i64, Value)>) {
        let mut chunks: Vec<Chunk> = self
            .chunks
            .iter()
            .filter(|c| c.max_t >= mint && c.min_t <= maxt)
            .cloned()
            .collect();
        if let Some(a) = self
            .active
            .as_ref()
            .filter(|a| a.max_t >= mint && a.min_t <= maxt)
        {
            chunks.push(a.seal());
        }
        let loose = self
            .ooo
            .range(mint..=maxt)
            .map(|(t, v)| (*t, v.clone()))
            .collect();
        (chunks, loose)
    }
}

/// Classifies a sample against its series (`None` for a series the batch creates), given the
/// newest in-order point `last` (which may come from earlier samples of the same batch) and
/// the samples the batch already accepted for this series. `Ok(false)` is an exact duplicate,
/// accepted without being stored again.
fn check(
    series: Option<&MemSeries>,
    t: i64,
    v: &Value,
    last: Option<&(i64, Value)>,
    pending: &BTreeMap<i64, Value>,
    ooo_window: i64,
) -> Result<bool, Reject> {
    let Some((lt, lv)) = last else {
        return Ok(true);
    };
    if t > *lt {
        return Ok(true);
    }
    if t == *lt {
        return if v.same_as(lv) {
            Ok(false)
        } else {
            Err(Reject::Duplicate)
        };
    }
    if ooo_window <= 0 {
        return Err(Reject::OutOfOrder);
    }
    if t < lt.saturating_sub(ooo_window) {
        return Err(Reject::TooOld);
    }
    let existing = pending
        .get(&t)
        .cloned()
        .or_else(|| series.and_then(|s| s.ooo.get(&t).cloned().or_else(|| s.in_order_value_at(t))));
    match existing {
        Some(e) if e.same_as(v) => Ok(false),
        Some(_) => Err(Reject::Duplicate),
        None => Ok(true),
    }
}

/// The series and samples a commit may apply, decided before anything is written.
#[derive(Default)]
pub(crate) struct Plan {
    /// New series: (ref assigned, labels).
    pub(crate) new_series: Vec<(u64, Labels)>,
    /// Accepted samples by series ref, in timestamp order of arrival.
    pub(crate) samples: Vec<(u64, i64, Value)>,
    pub(crate) exemplars: Vec<(u64, Exemplar)>,
    pub(crate) metadata: Vec<(String, MetricMetadata)>,
    pub(crate) rejects: Vec<Reject>,
    pub(crate) exemplars_rejected: usize,
    /// The first series cap a new series ran into.
    pub(crate) limit_hit: Option<LimitHit>,
}

impl Plan {
    /// Builds the WAL entries for what the plan applies.
    pub(crate) fn entries(&self) -> Vec<Entry> {
        let mut floats = Vec::new();
        let mut hists = Vec::new();
        let mut fhists = Vec::new();
        for (r, t, v) in &self.samples {
            match v {
                Value::Float(f) => floats.push((*r, *t, *f)),
                Value::Histogram(h) => hists.push((*r, *t, h.clone())),
                Value::FloatHistogram(h) => fhists.push((*r, *t, h.clone())),
            }
        }
        let mut out = Vec::new();
        if !self.new_series.is_empty() {
            out.push(Entry::Series(self.new_series.clone()));
        }
        if !floats.is_empty() {
            out.push(Entry::Samples(floats));
        }
        if !hists.is_empty() {
            out.push(Entry::Histograms(hists));
        }
        if !fhists.is_empty() {
            out.push(Entry::FloatHistograms(fhists));
        }
        if !self.exemplars.is_empty() {
            out.push(Entry::Exemplars(self.exemplars.clone()));
        }
        if !self.metadata.is_empty() {
            out.push(Entry::Metadata(self.metadata.clone()));
        }
        out
    }
}

/// One series' input to a block: labels, in-order chunks and out-of-order samples.
pub(crate) type BlockInput = (Labels, Vec<Chunk>, Vec<(i64, Value)>);

/// Samples to commit for one series.
pub(crate) struct PendingSeries {
    pub(crate) labels: Labels,
    pub(crate) samples: Vec<(i64, Value)>,
    pub(crate) exemplars: Vec<Exemplar>,
}

pub(crate) struct Head {
    pub(crate) opts: HeadOptions,
    series: HashMap<u64, MemSeries>,
    by_labels: HashMap<Labels, u64>,
    postings: Postings,
    symbols: HashSet<Arc<str>>,
    next_ref: u64,
    /// Bounds over every sample in the head (`min_t > max_t` when empty).
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    /// Samples older than this were cut into blocks and are out of bounds.
    pub(crate) min_valid_t: i64,
    pub(crate) metadata: BTreeMap<String, MetricMetadata>,
    limits: SeriesLimits,
    /// Series counted against each label-set limit, in the order of `limits.per_label_set`.
    per_set: Vec<usize>,
}

impl Head {
    pub(crate) fn new(opts: HeadOptions, min_valid_t: i64) -> Self {
        Self {
            opts,
            series: HashMap::new(),
            by_labels: HashMap::new(),
            postings: Postings::default(),
            symbols: HashSet::new(),
            next_ref: 1,
            min_t: i64::MAX,
            max_t: i64::MIN,
            min_valid_t,
            metadata: BTreeMap::new(),
            limits: SeriesLimits::default(),
            per_set: Vec::new(),
        }
    }

    /// Replaces the series caps; series already over a new cap stay, new ones are refused.
    pub(crate) fn set_limits(&mut self, limits: SeriesLimits) {
        self.limits = limits;
        self.recount();
    }

    /// Counts the head's series against each label-set limit from scratch.
    fn recount(&mut self) {
        let mut per_set = vec![0; self.limits.per_label_set.len()];
        if !per_set.is_empty() {
            for s in self.series.values() {
                for i in self.limits.buckets(&s.labels) {
                    per_set[i] += 1;
                }
            }
        }
        self.per_set = per_set;
    }

    pub(crate) fn num_series(&self) -> usize {
        self.series.len()
    }

    fn intern(&mut self, s: &Arc<str>) -> Arc<str> {
        match self.symbols.get(s) {
            Some(x) => x.clone(),
            None => {
                self.symbols.insert(s.clone());
                s.clone()
            }
        }
    }

    fn create_series(&mut self, r: u64, labels: &Labels) {
        let interned: Vec<Label> = labels
            .iter()
            .map(|l| Label {
                name: self.intern(&l.name),
                value: self.intern(&l.value),
            })
            .collect();
        let labels = Labels::from_sorted(interned);
        for i in self.limits.buckets(&labels) {
            self.per_set[i] += 1;
        }
        self.postings.add(r, &labels);
        self.by_labels.insert(labels.clone(), r);
        self.series.insert(r, MemSeries::new(labels));
        self.next_ref = self.next_ref.max(r + 1);
    }

    /// The lowest timestamp an in-order append may have: Prometheus keeps in-order appends
    /// within half a block range of the head's newest sample so the head can be cut cleanly.
    fn append_floor(&self) -> i64 {
        let half = if self.max_t == i64::MIN {
            i64::MIN
        } else {
            self.max_t - self.opts.block_range / 2
        };
        self.min_valid_t.max(half)
    }

    /// Validates a batch against the head without changing it.
    pub(crate) fn plan(
        &self,
        batch: Vec<PendingSeries>,
        metadata: Vec<(String, MetricMetadata)>,
    ) -> Plan {
        let mut plan = Plan {
            metadata,
            ..Plan::default()
        };
        let mut next_ref = self.next_ref;
        let floor = self.append_floor();
        // Series this plan creates, in all and per label-set limit.
        let mut total = self.series.len();
        let mut per_set = self.per_set.clone();
        for p in batch {
            let existing = self.by_labels.get(&p.labels).copied();
            let buckets = if existing.is_none() {
                self.limits.buckets(&p.labels)
            } else {
                Vec::new()
            };
            if existing.is_none()
                && let Some(hit) = self.limits.exceeded(&buckets, total, &per_set)
            {
                plan.rejects
                    .extend(p.samples.iter().map(|_| Reject::SeriesLimit));
                plan.exemplars_rejected += p.exemplars.len();
                plan.limit_hit.get_or_insert(hit);
                continue;
            }
            let r = existing.unwrap_or_else(|| {
                let r = next_ref;
                next_ref += 1;
                r
            });
            let series = existing.and_then(|r| self.series.get(&r));
            let mut last = series.and_then(|s| s.last.clone());
            let mut pending = BTreeMap::new();
            let mut accepted = 0;
            for (t, v) in p.samples {
                if t < self.min_valid_t {
                    plan.rejects.push(Reject::OutOfBounds);
                    continue;
                }
                match check(series, t, &v, last.as_ref(), &pending, self.opts.ooo_window) {
                    Ok(true) => {
                        let in_order = last.as_ref().is_none_or(|(lt, _)| t > *lt);
                        if in_order && t < floor {
                            plan.rejects.push(Reject::OutOfBounds);
                            continue;
                        }
                        if in_order {
                            last = Some((t, v.clone()));
                        }
                        // Only out-of-order samples can collide with earlier ones of the batch.
                        if self.opts.ooo_window > 0 {
                            pending.insert(t, v.clone());
                        }
                        plan.samples.push((r, t, v));
                        accepted += 1;
                    }
                    // An exact duplicate of a stored sample is accepted without storing it.
                    Ok(false) => {}
                    Err(kind) => plan.rejects.push(kind),
                }
            }
            let mut last_ex = series.and_then(|s| s.exemplars.back().map(|e| e.t));
            let mut ex_accepted = 0;
            for e in p.exemplars {
                let dup = series.is_some_and(|s| s.exemplars.iter().any(|x| *x == e));
                if dup {
                    continue;
                }
                if last_ex.is_some_and(|lt| e.t < lt) {
                    plan.exemplars_rejected += 1;
                    continue;
                }
                last_ex = Some(e.t);
                plan.exemplars.push((r, e));
                ex_accepted += 1;
            }
            if existing.is_none() && (accepted > 0 || ex_accepted > 0) {
                total += 1;
                for i in buckets {
                    per_set[i] += 1;
                }
                plan.new_series.push((r, p.labels));
            } else if existing.is_none() {
                // Nothing stored for this series: give its ref back.
                next_ref -= 1;
            }
        }
        plan
    }

    /// Applies a plan produced by [`Head::plan`] on this head state.
    pub(crate) fn apply(&mut self, plan: &Plan) {
        for (r, l) in &plan.new_series {
            self.create_series(*r, l);
        }
        for (r, t, v) in &plan.samples {
            self.store(*r, *t, v.clone());
        }
        for (r, e) in &plan.exemplars {
            self.store_exemplar(*r, e.clone());
        }
        for (name, m) in &plan.metadata {
            self.metadata.insert(name.clone(), m.clone());
        }
    }

    fn store(&mut self, r: u64, t: i64, v: Value) {
        let opts = self.opts;
        if let Some(s) = self.series.get_mut(&r)
            && s.insert(t, v, &opts)
        {
            self.min_t = self.min_t.min(t);
            self.max_t = self.max_t.max(t);
        }
    }

    fn store_exemplar(&mut self, r: u64, e: Exemplar) {
        let cap = self.opts.max_exemplars;
        if let Some(s) = self.series.get_mut(&r) {
            s.exemplars.push_back(e);
            while s.exemplars.len() > cap {
                s.exemplars.pop_front();
            }
        }
    }

    /// Applies one replayed WAL entry; samples that blocks already hold are skipped.
    pub(crate) fn replay(&mut self, entry: Entry) {
        let floor = self.min_valid_t;
        match entry {
            Entry::Series(v) => {
                for (r, l) in v {
                    if !self.series.contains_key(&r) {
                        self.create_series(r, &l);
                    }
                }
            }
            Entry::Samples(v) => {
                for (r, t, x) in v.into_iter().filter(|s| s.1 >= floor) {
                    self.store(r, t, Value::Float(x));
                }
            }
            Entry::Histograms(v) => {
                for (r, t, h) in v.into_iter().filter(|s| s.1 >= floor) {
                    self.store(r, t, Value::Histogram(h));
                }
            }
            Entry::FloatHistograms(v) => {
                for (r, t, h) in v.into_iter().filter(|s| s.1 >= floor) {
                    self.store(r, t, Value::FloatHistogram(h));
                }
            }
            Entry::Exemplars(v) => {
                for (r, e) in v {
                    self.store_exemplar(r, e);
                }
            }
            Entry::Metadata(v) => self.metadata.extend(v),
            Entry::Tombstones(v) => {
                for (r, a, b) in v {
                    // Head chunks are built in memory and cannot fail to decode; log rather
                    // than abort replay if that ever changes.
                    if let Err(e) = self.delete_range(r, a, b) {
                        tracing::error!(error = %e, "replaying deletion for series {r} failed");
                    }
                }
            }
        }
    }

    /// Removes the samples of series `r` in `[mint, maxt]`; later appends keep the ordering
    /// rules of the series' newest sample.
    pub(crate) fn delete_range(&mut self, r: u64, mint: i64, maxt: i64) -> Result<()> {
        let Some(s) = self.series.get_mut(&r) else {
            return Ok(());
        };
        let (chunks, _) = s.data_in(i64::MIN, i64::MAX);
        if chunks.iter().any(|c| c.min_t <= maxt && c.max_t >= mint) {
            let mut kept = Vec::new();
            for c in &chunks {
                kept.extend(c.iter()?.filter(|(t, _)| *t < mint || *t > maxt));
            }
            s.chunks = encode_samples(&kept);
            s.active = None;
        }
        s.ooo.retain(|t, _| *t < mint || *t > maxt);
        Ok(())
    }

    /// Drops series left without data after replay (their samples were already in blocks).
    pub(crate) fn drop_empty_series(&mut self) {
        let gone: Vec<u64> = {
            let mut g: Vec<u64> = self
                .series
                .iter()
                .filter(|(_, s)| s.is_empty())
                .map(|(r, _)| *r)
                .collect();
            g.sort_unstable();
            g
        };
        for r in &gone {
            if let Some(s) = self.series.remove(r) {
                self.by_labels.remove(&s.labels);
            }
        }
        self.postings.remove(&gone);
        if !gone.is_empty() {
            self.recount();
            let live: HashSet<Arc<str>> = self
                .series
                .values()
                .flat_map(|s| {
                    s.labels
                        .iter()
                        .flat_map(|l| [l.name.clone(), l.value.clone()])
                })
                .collect();
            self.symbols = live;
        }
    }

    /// Returns ids of series matching `matchers` with data overlapping `[mint, maxt]`.
    pub(crate) fn select_refs(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<u64> {
        self.postings
            .select(matchers)
            .into_iter()
            .filter(|r| {
                self.series
                    .get(r)
                    .is_some_and(|s| s.has_data_in(mint, maxt))
            })
            .collect()
    }

    pub(crate) fn series(&self, r: u64) -> Option<&MemSeries> {
        self.series.get(&r)
    }

    pub(crate) fn postings(&self) -> &Postings {
        &self.postings
    }

    pub(crate) fn exemplars(&self, r: u64, mint: i64, maxt: i64) -> Vec<Exemplar> {
        self.series
            .get(&r)
            .map(|s| {
                s.exemplars
                    .iter()
                    .filter(|e| e.t >= mint && e.t <= maxt)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Returns every series' data in `[mint, maxt)`, the input of a block; out-of-order
    /// samples are merged into the chunks.
    pub(crate) fn block_data(&self, mint: i64, maxt: i64) -> Result<Vec<BlockInput>> {
        let mut out = Vec::new();
        for s in self.series.values() {
            let (chunks, mut loose) = s.data_in(mint, maxt - 1);
            let mut inside = Vec::with_capacity(chunks.len());
            for c in chunks {
                if c.min_t >= mint && c.max_t < maxt {
                    inside.push(c);
                } else {
                    // Chunks are cut at block boundaries, except after a deletion rewrote them.
                    loose.extend(c.iter()?.filter(|(t, _)| *t >= mint && *t < maxt));
                }
            }
            if !inside.is_empty() || !loose.is_empty() {
                out.push((s.labels.clone(), inside, loose));
            }
        }
        Ok(out)
    }

    /// Forgets everything before `t` (now held by a block) and raises the append floor.
    pub(crate) fn truncate(&mut self, t: i64) -> Result<()> {
        self.min_valid_t = self.min_valid_t.max(t);
        let mut min_t = i64::MAX;
        for s in self.series.values_mut() {
            s.chunks.retain(|c| c.max_t >= t);
            if s.chunks.first().is_some_and(|c| c.min_t < t) {
                let mut kept = Vec::new();
                for c in s.chunks.iter().filter(|c| c.min_t < t) {
                    kept.extend(c.iter()?.filter(|(st, _)| *st >= t));
                }
                let mut rest: Vec<Chunk> =
                    s.chunks.iter().filter(|c| c.min_t >= t).cloned().collect();
                s.chunks = encode_samples(&kept);
                s.chunks.append(&mut rest);
            }
            if s.active.as_ref().is_some_and(|a| a.max_t < t) {
                s.active = None;
            }
            s.ooo = s.ooo.split_off(&t);
            if let Some(m) = s.min_t() {
                min_t = min_t.min(m);
            }
        }
        self.min_t = min_t;
        if min_t == i64::MAX {
            self.max_t = i64::MIN;
        }
        self.drop_empty_series();
        Ok(())
    }

    /// Serializes the head's state as WAL records for a checkpoint.
    pub(crate) fn checkpoint_entries(&self) -> Result<Vec<Vec<Entry>>> {
        const PER_RECORD: usize = 10_000;
        let mut out = Vec::new();
        let mut refs: Vec<u64> = self.series.keys().copied().collect();
        refs.sort_unstable();
        for batch in refs.chunks(PER_RECORD) {
            out.push(vec![Entry::Series(
                batch
                    .iter()
                    .filter_map(|r| self.series.get(r).map(|s| (*r, s.labels.clone())))
                    .collect(),
            )]);
        }
        let mut pending = Plan::default();
        for r in refs {
            let Some(s) = self.series.get(&r) else {
                continue;
            };
            let (chunks, loose) = s.data_in(i64::MIN, i64::MAX);
            for c in chunks {
                pending.samples.extend(c.iter()?.map(|(t, v)| (r, t, v)));
            }
            // Out-of-order samples follow the in-order ones so replay routes them the same way.
            pending
                .samples
                .extend(loose.into_iter().map(|(t, v)| (r, t, v)));
            pending
                .exemplars
                .extend(s.exemplars.iter().map(|e| (r, e.clone())));
            if pending.samples.len() >= PER_RECORD {
                out.push(std::mem::take(&mut pending).entries());
            }
        }
        pending.metadata = self
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.push(pending.entries());
        Ok(out)
    }
}
