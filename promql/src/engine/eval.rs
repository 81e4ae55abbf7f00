//! The evaluator: walks the tree and evaluates each node over every step of the query.

use std::collections::HashMap;

use super::{EngineError, EngineOptions, Limits, QueryResult, QueryStats};
use crate::ast::{AtModifier, DurationExpr, Expr, Span, SubqueryExpr, UnaryOp, VectorSelector};
use crate::storage::{Matcher, Queryable};
use crate::value::annotations::{Annotation, Annotations, PositionRange};
use crate::value::histogram::{CounterResetHint, FloatHistogram, HistogramError};
use crate::value::labels::Labels;
use crate::value::{
    FPoint, HPoint, Matrix, PointValue, Sample, Scalar, Series, StringValue, Value, Vector,
    is_stale_nan,
};

/// The evaluation times of a node: `start`, `start + interval`, … up to `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Steps {
    /// First evaluation time (ms).
    pub start: i64,
    /// Last evaluation time (ms), inclusive.
    pub end: i64,
    /// Distance between evaluation times (ms).
    pub interval: i64,
}

impl Steps {
    /// One evaluation at `t`.
    pub fn instant(t: i64) -> Self {
        Self {
            start: t,
            end: t,
            interval: 1,
        }
    }

    /// Number of evaluation times.
    pub fn len(&self) -> usize {
        ((self.end - self.start) / self.interval + 1) as usize
    }

    /// The `i`-th evaluation time.
    pub fn ts(&self, i: usize) -> i64 {
        self.start + i as i64 * self.interval
    }
}

/// A node's value at every step.
#[derive(Debug, Clone)]
pub(crate) enum Stepped {
    /// One number per step.
    Scalar(Vec<f64>),
    /// One vector per step.
    Vector(Vec<Vector>),
    /// A string literal (the same at every step).
    String(String),
}

/// One series of a range-vector argument, with every sample any step's window needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct RangeSeries {
    pub labels: Labels,
    pub floats: Vec<FPoint>,
    pub histograms: Vec<HPoint>,
    pub drop_name: bool,
}

/// A range-vector argument: its series and, per step, the end of its window.
#[derive(Debug, Clone)]
pub(crate) struct RangeInput {
    pub series: Vec<RangeSeries>,
    /// Per step: the (inclusive) end of the window, after `@` and `offset`.
    pub refs: Vec<i64>,
    /// Window length in ms; windows are `(ref - range, ref]`.
    pub range_ms: i64,
    /// How far an `anchored` or `smoothed` window reaches before its start and after its end
    /// to find the samples its bounds are taken or interpolated from.
    pub before_ms: i64,
    /// See `before_ms`.
    pub after_ms: i64,
    /// `Some(smoothed)` for an `anchored` (`false`) or `smoothed` (`true`) selector.
    pub extend: Option<bool>,
}

impl RangeInput {
    /// Returns the samples of `s` within the window of step `i`.
    pub fn window<'a>(&self, s: &'a RangeSeries, i: usize) -> (&'a [FPoint], &'a [HPoint]) {
        let end = self.refs[i].saturating_add(self.after_ms);
        let start = self.refs[i]
            .saturating_sub(self.range_ms)
            .saturating_sub(self.before_ms);
        let f0 = s.floats.partition_point(|p| p.t <= start);
        let f1 = s.floats.partition_point(|p| p.t <= end);
        let h0 = s.histograms.partition_point(|p| p.t <= start);
        let h1 = s.histograms.partition_point(|p| p.t <= end);
        (&s.floats[f0..f1], &s.histograms[h0..h1])
    }
}

/// How many samples a selector reads from one series between limit and deadline checks.
const LOAD_CHECK_EVERY: usize = 4096;

/// Evaluation state shared by all nodes of one query.
pub(crate) struct Ctx<'a> {
    storage: &'a dyn Queryable,
    pub opts: &'a EngineOptions,
    limits: &'a Limits,
    /// Start and end of the whole query, for `@ start()` / `@ end()`.
    query_start: i64,
    query_end: i64,
    /// The query step in seconds, for `step()` in durations.
    query_step_secs: f64,
    pub annotations: Annotations,
    pub stats: QueryStats,
    held: usize,
    /// Series read from storage so far, against the series limit.
    series_read: usize,
    /// The query's own evaluation times, to which per-step sample counts are attributed.
    top: Steps,
    /// Whether this is a range query (where `sort` has no effect).
    pub is_range: bool,
}

/// Converts a node span to an annotation position.
pub(crate) fn pos(span: Span) -> PositionRange {
    PositionRange {
        start: span.start,
        end: span.end,
    }
}

/// Builds a failed-evaluation error.
pub(crate) fn exec_err(msg: impl Into<String>) -> EngineError {
    EngineError::Execution(msg.into())
}

/// Removes `__name__` and the other metadata labels when a sample's name is to be dropped.
pub(crate) fn drop_metadata(labels: &Labels) -> Labels {
    labels.without(&["__name__", "__type__", "__unit__"])
}

/// Evaluates `expr` at `steps`, which are all of the query's steps or a slice of them; `query`
/// gives the whole query's bounds (for `@ start()`, `@ end()` and duration functions).
pub(crate) fn run(
    storage: &dyn Queryable,
    opts: &EngineOptions,
    limits: &Limits,
    expr: &Expr,
    steps: Steps,
    query: Steps,
    is_range: bool,
) -> Result<QueryResult, EngineError> {
    let mut cx = Ctx {
        storage,
        opts,
        limits,
        query_start: query.start,
        query_end: query.end,
        query_step_secs: if is_range {
            steps.interval as f64 / 1000.0
        } else {
            0.0
        },
        annotations: Annotations::new(),
        stats: QueryStats {
            samples_per_step: vec![0; steps.len().min(limits.max_samples.saturating_add(1))],
            ..QueryStats::default()
        },
        held: 0,
        series_read: 0,
        top: steps,
        is_range,
    };
    // Every step holds at least one value, so a query with more steps than the sample limit
    // is refused before anything is allocated for them.
    if steps.len() > limits.max_samples {
        return Err(EngineError::TooManySamples);
    }
    let value = match expr.value_type() {
        crate::ast::ValueType::RangeVector => {
            let input = cx.range_input(expr, steps)?;
            let mut out = Matrix::new();
            for s in &input.series {
                let (f, h) = input.window(s, 0);
                if f.is_empty() && h.is_empty() {
                    continue;
                }
                let extended;
                let f = match input.extend {
                    Some(smoothed) => {
                        if !h.is_empty() {
                            let m = if smoothed { "smoothed" } else { "anchored" };
                            return Err(exec_err(format!(
                                "{m} modifier is not supported with histograms"
                            )));
                        }
                        let end = input.refs[0];
                        extended = extend_floats(f, end - input.range_ms, end, smoothed);
                        if extended.is_empty() {
                            continue;
                        }
                        extended.as_slice()
                    }
                    None => f,
                };
                out.push(Series {
                    labels: if s.drop_name {
                        drop_metadata(&s.labels)
                    } else {
                        s.labels.clone()
                    },
                    floats: f.to_vec(),
                    histograms: h.to_vec(),
                    drop_name: false,
                });
            }
            out.sort_by(|a, b| a.labels.cmp(&b.labels));
            Value::Matrix(out)
        }
        _ => {
            let stepped = cx.eval(expr, steps)?;
            if is_range {
                cx.assemble_matrix(stepped, steps)?
            } else {
                match stepped {
                    Stepped::Scalar(v) => Value::Scalar(Scalar {
                        t: steps.start,
                        v: v.first().copied().unwrap_or(f64::NAN),
                    }),
                    Stepped::String(s) => Value::String(StringValue {
                        t: steps.start,
                        v: s,
                    }),
                    Stepped::Vector(mut v) => {
                        let mut vec = v.pop().unwrap_or_default();
                        for s in &mut vec {
                            if s.drop_name {
                                s.labels = drop_metadata(&s.labels);
                                s.drop_name = false;
                            }
                            s.t = steps.start;
                        }
                        check_unique(&vec)?;
                        Value::Vector(vec)
                    }
                }
            }
        }
    };
    Ok(QueryResult {
        value,
        annotations: cx.annotations,
        stats: cx.stats,
    })
}

/// Fails when two samples of a vector have the same labels.
pub(crate) fn check_unique(vec: &[Sample]) -> Result<(), EngineError> {
    if vec.len() < 2 {
        return Ok(());
    }
    let mut seen = std::collections::HashSet::with_capacity(vec.len());
    for s in vec {
        if !seen.insert(&s.labels) {
            return Err(exec_err(
                "vector cannot contain metrics with the same labelset",
            ));
        }
    }
    Ok(())
}

impl Ctx<'_> {
    /// Checks the deadline and the cancel flag.
    pub fn check(&self) -> Result<(), EngineError> {
        self.limits.check()
    }

    /// Adds an annotation.
    pub fn annotate(&mut self, a: Annotation) {
        self.annotations.add(a);
    }

    fn hold(&mut self, n: usize) -> Result<(), EngineError> {
        self.held += n;
        self.stats.peak_samples = self.stats.peak_samples.max(self.held as u64);
        if self.held > self.limits.max_samples {
            return Err(EngineError::TooManySamples);
        }
        Ok(())
    }

    /// Counts `n` samples processed at step `i` of `steps`. Nodes evaluated at the query's own
    /// steps count at that step; subquery steps count at the first query step at or after
    /// their time (clamped to the query's range).
    fn count_at(&mut self, steps: Steps, i: usize, n: u64) -> Result<(), EngineError> {
        self.stats.samples_processed += n;
        if self.stats.samples_processed > self.limits.max_samples_processed {
            return Err(EngineError::TooManySamplesProcessed {
                limit: self.limits.max_samples_processed,
            });
        }
        let top = self.top;
        let idx = if steps == top {
            i
        } else {
            let t = steps.ts(i);
            let k = (t - top.start + top.interval - 1).div_euclid(top.interval);
            usize::try_from(k.max(0)).unwrap_or(0)
        };
        if let Some(slot) = self.stats.samples_per_step.get_mut(idx) {
            *slot += n;
        } else if let Some(last) = self.stats.samples_per_step.last_mut() {
            *last += n;
        }
        Ok(())
    }

    fn assemble_matrix(&mut self, stepped: Stepped, steps: Steps) -> Result<Value, EngineError> {
        match stepped {
            Stepped::Scalar(v) => Ok(Value::Matrix(vec![Series {
                labels: Labels::empty(),
                floats: v
                    .iter()
                    .enumerate()
                    .map(|(i, f)| FPoint {
                        t: steps.ts(i),
                        f: *f,
                    })
                    .collect(),
                histograms: Vec::new(),
                drop_name: false,
            }])),
            Stepped::String(_) => Err(EngineError::BadQuery(
                "invalid expression type \"string\" for range query, must be Scalar or instant Vector"
                    .into(),
            )),
            Stepped::Vector(vectors) => {
                let mut by_labels: HashMap<Labels, usize> = HashMap::new();
                let mut out: Vec<Series> = Vec::new();
                for (i, vec) in vectors.into_iter().enumerate() {
                    self.check()?;
                    self.hold(vec.len())?;
                    let t = steps.ts(i);
                    for s in vec {
                        let labels = if s.drop_name {
                            drop_metadata(&s.labels)
                        } else {
                            s.labels
                        };
                        let idx = match by_labels.get(&labels) {
                            Some(&idx) => idx,
                            None => {
                                out.push(Series {
                                    labels: labels.clone(),
                                    ..Default::default()
                                });
                                by_labels.insert(labels, out.len() - 1);
                                out.len() - 1
                            }
                        };
                        let series = &mut out[idx];
                        // A second sample of the same series at this step means two inputs
                        // ended up with the same labels.
                        let last = series
                            .floats
                            .last()
                            .map(|p| p.t)
                            .max(series.histograms.last().map(|p| p.t));
                        if last == Some(t) {
                            return Err(exec_err(
                                "vector cannot contain metrics with the same labelset",
                            ));
                        }
                        match s.value {
                            PointValue::Float(f) => series.floats.push(FPoint { t, f }),
                            PointValue::Histogram(h) => series.histograms.push(HPoint { t, h }),
                        }
                    }
                }
                out.sort_by(|a, b| a.labels.cmp(&b.labels));
                Ok(Value::Matrix(out))
            }
        }
    }

    /// Returns `start()`, `end()`, `range()` or `step()` in seconds.
    pub fn query_param(&self, name: &str) -> f64 {
        match name {
            "start" => self.query_start as f64 / 1000.0,
            "end" => self.query_end as f64 / 1000.0,
            "range" => (self.query_end - self.query_start) as f64 / 1000.0,
            _ => self.query_step_secs,
        }
    }

    /// Resolves a duration expression to ms.
    pub fn duration_ms(&self, d: &DurationExpr) -> i64 {
        let range_secs = (self.query_end - self.query_start) as f64 / 1000.0;
        (d.evaluate(self.query_step_secs, range_secs) * 1000.0).round() as i64
    }

    /// Returns the time a selector with these modifiers reads at, for evaluation time `t`.
    fn ref_time(&self, at: Option<AtModifier>, offset_ms: i64, t: i64) -> i64 {
        let base = match at {
            Some(AtModifier::Timestamp(ms)) => ms,
            Some(AtModifier::Start) => self.query_start,
            Some(AtModifier::End) => self.query_end,
            None => t,
        };
        base.saturating_sub(offset_ms)
    }

    /// Evaluates an expression of scalar, string or instant-vector type at every step.
    pub fn eval(&mut self, expr: &Expr, steps: Steps) -> Result<Stepped, EngineError> {
        let mut out = crate::ast::with_stack(|| self.eval_inner(expr, steps))?;
        if !self.opts.delayed_name_removal
            && let Stepped::Vector(vectors) = &mut out
        {
            // Without delayed removal the name goes as soon as a node drops it.
            for s in vectors.iter_mut().flatten().filter(|s| s.drop_name) {
                s.labels = drop_metadata(&s.labels);
                s.drop_name = false;
            }
        }
        Ok(out)
    }

    fn eval_inner(&mut self, expr: &Expr, steps: Steps) -> Result<Stepped, EngineError> {
        self.check()?;
        match expr {
            Expr::Number(n) => Ok(Stepped::Scalar(vec![n.value; steps.len()])),
            Expr::String(s) => Ok(Stepped::String(s.value.clone())),
            Expr::Paren(p) => self.eval(&p.expr, steps),
            Expr::Unary(u) => {
                let inner = self.eval(&u.expr, steps)?;
                if u.op == UnaryOp::Pos {
                    return Ok(inner);
                }
                Ok(match inner {
                    Stepped::Scalar(v) => Stepped::Scalar(v.into_iter().map(|f| -f).collect()),
                    Stepped::Vector(vs) => Stepped::Vector(
                        vs.into_iter()
                            .map(|vec| {
                                vec.into_iter()
                                    .map(|mut s| {
                                        s.value = match s.value {
                                            PointValue::Float(f) => PointValue::Float(-f),
                                            PointValue::Histogram(h) => {
                                                let mut h = h.mul(-1.0);
                                                h.counter_reset_hint = CounterResetHint::Gauge;
                                                PointValue::Histogram(h)
                                            }
                                        };
                                        s.drop_name = true;
                                        s
                                    })
                                    .collect()
                            })
                            .collect(),
                    ),
                    other => other,
                })
            }
            Expr::VectorSelector(vs) => self.eval_vector_selector(vs, steps),
            Expr::MatrixSelector(_) | Expr::Subquery(_) => Err(exec_err(format!(
                "unexpected range vector {expr} outside a function call"
            ))),
            Expr::Aggregate(a) => super::aggregate::eval(self, a, steps),
            Expr::Binary(b) => super::binary::eval(self, b, steps),
            Expr::Call(c) => crate::functions::call(self, c, steps),
        }
    }

    /// Evaluates an expression that must be a scalar, one value per step.
    pub fn eval_scalar(&mut self, expr: &Expr, steps: Steps) -> Result<Vec<f64>, EngineError> {
        match self.eval(expr, steps)? {
            Stepped::Scalar(v) => Ok(v),
            _ => Err(exec_err(format!("expected a scalar, got {expr}"))),
        }
    }

    /// Evaluates an expression that must be an instant vector, one vector per step.
    pub fn eval_vector(&mut self, expr: &Expr, steps: Steps) -> Result<Vec<Vector>, EngineError> {
        match self.eval(expr, steps)? {
            Stepped::Vector(v) => Ok(v),
            _ => Err(exec_err(format!("expected an instant vector, got {expr}"))),
        }
    }

    fn matchers(vs: &VectorSelector) -> Result<Vec<Matcher>, EngineError> {
        vs.matchers
            .iter()
            .map(|m| Matcher::new(m.op, m.name.clone(), m.value.clone()).map_err(Into::into))
            .collect()
    }

    /// Reads the series of `vs` with samples in `[mint, maxt]`.
    fn select(
        &mut self,
        vs: &VectorSelector,
        mint: i64,
        maxt: i64,
        keep_stale: bool,
    ) -> Result<Vec<RangeSeries>, EngineError> {
        let matchers = Self::matchers(vs)?;
        let selected = self.storage.select(mint, maxt, &matchers)?;
        self.series_read += selected.len();
        if self.series_read > self.limits.max_series {
            return Err(EngineError::TooManySeries {
                limit: self.limits.max_series,
            });
        }
        let mut out = Vec::with_capacity(selected.len());
        for s in selected {
            self.check()?;
            let mut rs = RangeSeries {
                labels: s.labels,
                ..Default::default()
            };
            for (k, p) in s.samples.enumerate() {
                // A long series is checked while it loads, so the sample limit bounds memory
                // and a deadline or cancel interrupts the read.
                if k % LOAD_CHECK_EVERY == LOAD_CHECK_EVERY - 1 {
                    self.check()?;
                    if self.held + k > self.limits.max_samples {
                        return Err(EngineError::TooManySamples);
                    }
                }
                let p = p?;
                match p.value {
                    PointValue::Float(f) => {
                        if keep_stale || !is_stale_nan(f) {
                            rs.floats.push(FPoint { t: p.t, f });
                        }
                    }
                    PointValue::Histogram(h) => rs.histograms.push(HPoint { t: p.t, h }),
                }
            }
            let n = rs.floats.len() + rs.histograms.len();
            self.stats.samples_loaded += n as u64;
            self.stats.series_touched += 1;
            self.hold(n)?;
            out.push(rs);
        }
        Ok(out)
    }

    fn eval_vector_selector(
        &mut self,
        vs: &VectorSelector,
        steps: Steps,
    ) -> Result<Stepped, EngineError> {
        let offset = vs.offset.as_ref().map_or(0, |o| self.duration_ms(o));
        let refs: Vec<i64> = (0..steps.len())
            .map(|i| self.ref_time(vs.at, offset, steps.ts(i)))
            .collect();
        let (Some(&lo), Some(&hi)) = (refs.iter().min(), refs.iter().max()) else {
            return Ok(Stepped::Vector(Vec::new()));
        };
        let lookback = self.opts.lookback_delta_ms;
        if vs.smoothed {
            return self.eval_smoothed_selector(vs, &refs, steps);
        }
        let series = self.select(vs, lo.saturating_sub(lookback) + 1, hi, true)?;
        let mut out: Vec<Vector> = vec![Vec::new(); steps.len()];
        for s in &series {
            self.check()?;
            for (i, &r) in refs.iter().enumerate() {
                let fi = s.floats.partition_point(|p| p.t <= r);
                let hi_ = s.histograms.partition_point(|p| p.t <= r);
                let f = fi.checked_sub(1).map(|k| &s.floats[k]);
                let h = hi_.checked_sub(1).map(|k| &s.histograms[k]);
                let (t, value) = match (f, h) {
                    (Some(f), Some(h)) if h.t > f.t => (h.t, PointValue::Histogram(h.h.clone())),
                    (Some(f), _) => (f.t, PointValue::Float(f.f)),
                    (None, Some(h)) => (h.t, PointValue::Histogram(h.h.clone())),
                    (None, None) => continue,
                };
                if t <= r - lookback || value.is_stale() {
                    continue;
                }
                self.count_at(steps, i, 1)?;
                out[i].push(Sample {
                    labels: s.labels.clone(),
                    t,
                    value,
                    drop_name: false,
                });
            }
        }
        Ok(Stepped::Vector(out))
    }

    /// A `smoothed` vector selector: the value at each step is interpolated between the
    /// samples around it (within the lookback delta on both sides), or the last one before it.
    fn eval_smoothed_selector(
        &mut self,
        vs: &VectorSelector,
        refs: &[i64],
        steps: Steps,
    ) -> Result<Stepped, EngineError> {
        let lb = self.opts.lookback_delta_ms;
        let lo = refs.iter().min().copied().unwrap_or(steps.start);
        let hi = refs.iter().max().copied().unwrap_or(steps.end);
        let series = self.select(vs, lo.saturating_sub(lb) + 1, hi.saturating_add(lb), false)?;
        let p = pos(vs.span);
        let mut out: Vec<Vector> = vec![Vec::new(); steps.len()];
        for s in &series {
            self.check()?;
            let metric = s.labels.metric_name().unwrap_or_default().to_owned();
            for (i, &r) in refs.iter().enumerate() {
                let f0 = s.floats.partition_point(|x| x.t <= r - lb);
                let f1 = s.floats.partition_point(|x| x.t <= r + lb);
                let h0 = s.histograms.partition_point(|x| x.t <= r - lb);
                let h1 = s.histograms.partition_point(|x| x.t <= r + lb);
                let (floats, hists) = (&s.floats[f0..f1], &s.histograms[h0..h1]);
                if !floats.is_empty() && !hists.is_empty() {
                    self.annotate(Annotation::mixed_floats_histograms(&metric, p));
                    continue;
                }
                let value = if hists.is_empty() {
                    let k = floats.partition_point(|x| x.t < r);
                    match (floats.get(k), k.checked_sub(1).map(|j| floats[j])) {
                        (Some(x), _) if x.t == r => Some(PointValue::Float(x.f)),
                        (Some(next), Some(prev)) => Some(PointValue::Float(
                            prev.f
                                + (next.f - prev.f) * (r - prev.t) as f64
                                    / (next.t - prev.t) as f64,
                        )),
                        (None, Some(prev)) => Some(PointValue::Float(prev.f)),
                        _ => None,
                    }
                } else {
                    let k = hists.partition_point(|x| x.t < r);
                    match (hists.get(k), k.checked_sub(1).map(|j| &hists[j])) {
                        (Some(x), _) if x.t == r => Some(PointValue::Histogram(x.h.clone())),
                        (Some(next), Some(prev))
                            if prev.h.uses_custom_buckets() != next.h.uses_custom_buckets() =>
                        {
                            self.annotate(Annotation::mixed_exponential_custom_histograms(
                                &metric, p,
                            ));
                            None
                        }
                        (Some(next), Some(prev)) => {
                            let is_counter = prev.h.counter_reset_hint != CounterResetHint::Gauge
                                || next.h.counter_reset_hint != CounterResetHint::Gauge;
                            match interpolate_histograms(
                                prev,
                                next,
                                r,
                                is_counter,
                                &mut self.annotations,
                                p,
                            ) {
                                Ok(h) => Some(PointValue::Histogram(h)),
                                Err(_) => {
                                    self.annotate(Annotation::mixed_exponential_custom_histograms(
                                        &metric, p,
                                    ));
                                    None
                                }
                            }
                        }
                        (None, Some(prev)) => {
                            let mut h = prev.h.clone();
                            h.counter_reset_hint = CounterResetHint::Unknown;
                            Some(PointValue::Histogram(h))
                        }
                        _ => None,
                    }
                };
                if let Some(value) = value {
                    self.count_at(steps, i, 1)?;
                    out[i].push(Sample {
                        labels: s.labels.clone(),
                        t: steps.ts(i),
                        value,
                        drop_name: false,
                    });
                }
            }
        }
        Ok(Stepped::Vector(out))
    }

    /// Evaluates a range-vector expression (matrix selector or subquery) for every step.
    pub fn range_input(&mut self, expr: &Expr, steps: Steps) -> Result<RangeInput, EngineError> {
        match expr {
            Expr::Paren(p) => self.range_input(&p.expr, steps),
            Expr::MatrixSelector(m) => {
                let vs = &m.selector;
                let offset = vs.offset.as_ref().map_or(0, |o| self.duration_ms(o));
                let range_ms = self.duration_ms(&m.range);
                let refs: Vec<i64> = (0..steps.len())
                    .map(|i| self.ref_time(vs.at, offset, steps.ts(i)))
                    .collect();
                let lo = refs.iter().min().copied().unwrap_or(steps.start);
                let hi = refs.iter().max().copied().unwrap_or(steps.end);
                let lookback = self.opts.lookback_delta_ms;
                let before_ms = if vs.anchored || vs.smoothed {
                    lookback
                } else {
                    0
                };
                let after_ms = if vs.smoothed { lookback } else { 0 };
                let mint = lo.saturating_sub(range_ms).saturating_sub(before_ms);
                let series = self.select(vs, mint + 1, hi.saturating_add(after_ms), false)?;
                let input = RangeInput {
                    series,
                    refs,
                    range_ms,
                    before_ms,
                    after_ms,
                    extend: (vs.anchored || vs.smoothed).then_some(vs.smoothed),
                };
                for s in &input.series {
                    for i in 0..steps.len() {
                        let (f, h) = input.window(s, i);
                        self.count_at(steps, i, (f.len() + h.len()) as u64)?;
                    }
                }
                Ok(input)
            }
            Expr::Subquery(sq) => self.eval_subquery(sq, steps),
            other => Err(exec_err(format!("expected a range vector, got {other}"))),
        }
    }

    fn eval_subquery(
        &mut self,
        sq: &SubqueryExpr,
        steps: Steps,
    ) -> Result<RangeInput, EngineError> {
        let offset = sq.offset.as_ref().map_or(0, |o| self.duration_ms(o));
        let range_ms = self.duration_ms(&sq.range);
        let step_ms = match &sq.step {
            Some(s) => self.duration_ms(s),
            None => self.opts.default_subquery_step_ms,
        }
        .max(1);
        let refs: Vec<i64> = (0..steps.len())
            .map(|i| self.ref_time(sq.at, offset, steps.ts(i)))
            .collect();
        let lo = refs.iter().min().copied().unwrap_or(steps.start);
        let hi = refs.iter().max().copied().unwrap_or(steps.end);
        // The first step-aligned time after the window start; Go's division truncates
        // towards zero, which shifts alignment for negative times the same way.
        let first = lo.saturating_sub(range_ms);
        let mut start = step_ms * (first / step_ms);
        if start <= first {
            start += step_ms;
        }
        let mut series: Vec<RangeSeries> = Vec::new();
        if start <= hi {
            let inner = Steps {
                start,
                end: hi,
                interval: step_ms,
            };
            if inner.len() > self.limits.max_samples {
                return Err(EngineError::TooManySamples);
            }
            let vectors = self.eval_vector(&sq.expr, inner)?;
            let mut index: HashMap<(Labels, bool), usize> = HashMap::new();
            for (i, vec) in vectors.into_iter().enumerate() {
                let t = inner.ts(i);
                for s in vec {
                    let key = (s.labels, s.drop_name);
                    let idx = match index.get(&key) {
                        Some(&idx) => idx,
                        None => {
                            series.push(RangeSeries {
                                labels: key.0.clone(),
                                drop_name: key.1,
                                ..Default::default()
                            });
                            index.insert(key, series.len() - 1);
                            series.len() - 1
                        }
                    };
                    match s.value {
                        PointValue::Float(f) => series[idx].floats.push(FPoint { t, f }),
                        PointValue::Histogram(mut h) => {
                            // A subquery may skip or repeat samples, so stored reset hints
                            // no longer describe neighbours; resets are detected afresh.
                            if matches!(
                                h.counter_reset_hint,
                                CounterResetHint::CounterReset | CounterResetHint::NotCounterReset
                            ) {
                                h.counter_reset_hint = CounterResetHint::Unknown;
                            }
                            series[idx].histograms.push(HPoint { t, h });
                        }
                    }
                }
            }
            series.sort_by(|a, b| a.labels.cmp(&b.labels));
        }
        Ok(RangeInput {
            series,
            refs,
            range_ms,
            before_ms: 0,
            after_ms: 0,
            extend: None,
        })
    }
}

/// Quotes bytes like Go's `%q`: printable ASCII as is, everything else escaped.
pub(crate) fn go_quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// The samples of an `anchored` or `smoothed` range `(mint, maxt]` with points added at both
/// bounds: the last sample at or before `mint` (or, smoothed, the value interpolated at `mint`)
/// and the last sample (or, smoothed, the value interpolated at `maxt`).
pub(crate) fn extend_floats(f: &[FPoint], mint: i64, maxt: i64, smoothed: bool) -> Vec<FPoint> {
    let Some(mut last) = f.len().checked_sub(1) else {
        return Vec::new();
    };
    let mut first = f[..last].partition_point(|p| p.t <= mint).saturating_sub(1);
    if smoothed {
        last = f[..last].partition_point(|p| p.t < maxt);
    }
    if f[last].t <= mint {
        return Vec::new();
    }
    let left = pick_left(f, first, mint, smoothed, false);
    let right = pick_right(f, last, maxt, smoothed, false);
    if f[first].t <= mint {
        first += 1;
    }
    let mut out = vec![FPoint { t: mint, f: left }];
    let end = if f[last].t >= maxt { last } else { last + 1 };
    if first < end {
        out.extend_from_slice(&f[first..end]);
    }
    out.push(FPoint { t: maxt, f: right });
    out
}

/// Linear interpolation at `t` between two samples; a counter that dropped is taken to have
/// restarted from zero.
pub(crate) fn interpolate(p1: FPoint, p2: FPoint, t: i64, is_counter: bool) -> f64 {
    let y1 = if is_counter && p2.f < p1.f { 0.0 } else { p1.f };
    y1 + (p2.f - y1) * (t - p1.t) as f64 / (p2.t - p1.t) as f64
}

/// The value at the start of an extended range.
pub(crate) fn pick_left(
    f: &[FPoint],
    first: usize,
    start: i64,
    smoothed: bool,
    counter: bool,
) -> f64 {
    if smoothed && f[first].t < start && first + 1 < f.len() {
        return interpolate(f[first], f[first + 1], start, counter);
    }
    f[first].f
}

/// The value at the end of an extended range.
pub(crate) fn pick_right(
    f: &[FPoint],
    last: usize,
    end: i64,
    smoothed: bool,
    counter: bool,
) -> f64 {
    if smoothed && last > 0 && f[last].t > end {
        return interpolate(f[last - 1], f[last], end, counter);
    }
    f[last].f
}

/// Linear interpolation at `t` between two histogram samples; a counter that was reset is
/// taken to have restarted from zero. Reconciled custom bounds are noted in `annos`.
pub(crate) fn interpolate_histograms(
    p1: &HPoint,
    p2: &HPoint,
    t: i64,
    is_counter: bool,
    annos: &mut Annotations,
    pos: PositionRange,
) -> Result<FloatHistogram, HistogramError> {
    if t == p1.t {
        return Ok(p1.h.clone());
    }
    if t == p2.t {
        return Ok(p2.h.clone());
    }
    let fraction = (t - p1.t) as f64 / (p2.t - p1.t) as f64;
    if is_counter && p2.h.detect_reset(&p1.h) {
        return Ok(p2.h.mul(fraction));
    }
    let diff = p2.h.sub(&p1.h)?;
    if diff.custom_buckets_reconciled {
        annos.add(Annotation::mismatched_custom_buckets("subtraction", pos));
    }
    let sum = diff.histogram.mul(fraction).add(&p1.h)?;
    if sum.custom_buckets_reconciled {
        annos.add(Annotation::mismatched_custom_buckets("addition", pos));
    }
    Ok(sum.histogram)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(i64, f64)]) -> Vec<FPoint> {
        v.iter().map(|&(t, f)| FPoint { t, f }).collect()
    }

    #[test]
    fn anchored_range_takes_the_sample_before_the_start() {
        let f = pts(&[(0, 1.0), (30, 2.0), (60, 4.0)]);
        let out = extend_floats(&f, 10, 60, false);
        assert_eq!(out, pts(&[(10, 1.0), (30, 2.0), (60, 4.0)]));
    }

    #[test]
    fn smoothed_range_interpolates_both_bounds() {
        let f = pts(&[(0, 0.0), (20, 2.0), (40, 4.0)]);
        let out = extend_floats(&f, 10, 30, true);
        assert_eq!(out, pts(&[(10, 1.0), (20, 2.0), (30, 3.0)]));
        // A counter that dropped restarts from zero.
        let reset = interpolate(FPoint { t: 0, f: 10.0 }, FPoint { t: 10, f: 2.0 }, 5, true);
        assert_eq!(reset, 1.0);
    }

    #[test]
    fn steps_count_and_times() {
        let s = Steps {
            start: 0,
            end: 120_000,
            interval: 60_000,
        };
        assert_eq!(s.len(), 3);
        assert_eq!(s.ts(2), 120_000);
        assert_eq!(Steps::instant(5).len(), 1);
        assert_eq!(go_quote_bytes(b"a\xc5z\""), "\"a\\xc5z\\\"\"");
    }
}
