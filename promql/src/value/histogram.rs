//! Native histograms in their float form, with the arithmetic PromQL applies to them.
//!
//! Buckets are kept as Prometheus keeps them (spans plus absolute counts). Arithmetic works on
//! the expanded `(index, count)` list, which is simpler to get right than merging spans in place
//! and costs little at query time.

mod kahan;
mod stats;

use std::sync::OnceLock;

pub use kahan::{AccumulationNotes, HistogramMean, HistogramSum};
pub use stats::{histogram_fraction, histogram_quantile, histogram_stddev, histogram_stdvar};

/// The schema number of native histograms with custom bucket bounds.
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;
/// The lowest exponential schema.
pub const MIN_EXPONENTIAL_SCHEMA: i32 = -4;
/// The highest exponential schema.
pub const MAX_EXPONENTIAL_SCHEMA: i32 = 8;

/// A run of consecutive buckets; `offset` is the gap to the previous span (or the first index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BucketSpan {
    /// Gap in bucket indices before this span.
    pub offset: i32,
    /// Number of consecutive buckets.
    pub length: u32,
}

/// What the writer of a histogram said about counter resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CounterResetHint {
    /// Nothing is known; readers must detect resets themselves.
    #[default]
    Unknown,
    /// This histogram starts after a counter reset.
    CounterReset,
    /// This histogram is known not to follow a counter reset.
    NotCounterReset,
    /// The histogram is a gauge; counter resets do not apply.
    Gauge,
}

/// Errors of histogram arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistogramError {
    /// Exponential and custom-bucket histograms cannot be combined.
    #[error(
        "cannot apply this operation on histograms with a mix of exponential and custom bucket schemas"
    )]
    IncompatibleSchema,
}

/// A native histogram with float counts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloatHistogram {
    /// Counter-reset hint.
    pub counter_reset_hint: CounterResetHint,
    /// Bucket schema: -4..=8 exponential, or [`CUSTOM_BUCKETS_SCHEMA`].
    pub schema: i32,
    /// Observations with absolute value up to this go to the zero bucket.
    pub zero_threshold: f64,
    /// Count of the zero bucket.
    pub zero_count: f64,
    /// Total number of observations, NaN observations included.
    pub count: f64,
    /// Sum of observations.
    pub sum: f64,
    /// Spans of positive buckets.
    pub positive_spans: Vec<BucketSpan>,
    /// Spans of negative buckets.
    pub negative_spans: Vec<BucketSpan>,
    /// Absolute counts of positive buckets.
    pub positive_buckets: Vec<f64>,
    /// Absolute counts of negative buckets.
    pub negative_buckets: Vec<f64>,
    /// Upper bounds of custom buckets (the `+Inf` bound is implicit).
    pub custom_values: Vec<f64>,
}

/// One bucket with its bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Whether the lower bound belongs to the bucket.
    pub lower_inclusive: bool,
    /// Whether the upper bound belongs to the bucket.
    pub upper_inclusive: bool,
    /// Observation count.
    pub count: f64,
    /// Bucket index (0 for the zero bucket).
    pub index: i32,
}

/// The result of adding or subtracting two histograms.
#[derive(Debug, Clone, PartialEq)]
pub struct Combined {
    /// The resulting histogram.
    pub histogram: FloatHistogram,
    /// One side had a counter reset hint and the other a not-reset hint.
    pub counter_reset_collision: bool,
    /// Custom buckets with different bounds were reduced to the common bounds.
    pub custom_buckets_reconciled: bool,
}

impl FloatHistogram {
    /// Tells whether the histogram uses custom bucket bounds.
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }

    /// Returns the upper bound of positive bucket `index`.
    pub fn bound(&self, index: i32) -> f64 {
        bucket_bound(index, self.schema, &self.custom_values)
    }

    /// Returns the positive buckets in ascending order.
    pub fn positive_bucket_iter(&self) -> impl Iterator<Item = Bucket> + '_ {
        expand(&self.positive_spans, &self.positive_buckets)
            .into_iter()
            .map(|(index, count)| self.make_bucket(index, count, true))
    }

    /// Returns the negative buckets from zero outwards (descending values).
    pub fn negative_bucket_iter(&self) -> impl Iterator<Item = Bucket> + '_ {
        expand(&self.negative_spans, &self.negative_buckets)
            .into_iter()
            .map(|(index, count)| self.make_bucket(index, count, false))
    }

    /// Returns the zero bucket, if the histogram has one worth reporting.
    pub fn zero_bucket(&self) -> Option<Bucket> {
        (!self.uses_custom_buckets() && (self.zero_count != 0.0 || self.zero_threshold != 0.0))
            .then_some(Bucket {
                lower: -self.zero_threshold,
                upper: self.zero_threshold,
                lower_inclusive: true,
                upper_inclusive: true,
                count: self.zero_count,
                index: 0,
            })
    }

    /// Returns every bucket, negative ones first, in ascending order of values.
    pub fn all_buckets(&self) -> Vec<Bucket> {
        let mut out: Vec<Bucket> = self.negative_bucket_iter().collect();
        out.reverse();
        out.extend(self.zero_bucket().filter(|b| b.count > 0.0));
        out.extend(self.positive_bucket_iter());
        out
    }

    fn make_bucket(&self, index: i32, count: f64, positive: bool) -> Bucket {
        let (lower, upper) = if positive {
            (self.bound(index - 1), self.bound(index))
        } else {
            (-self.bound(index), -self.bound(index - 1))
        };
        let (lower_inclusive, upper_inclusive) = if self.uses_custom_buckets() {
            (lower == f64::NEG_INFINITY, true)
        } else {
            (lower < 0.0, upper > 0.0)
        };
        Bucket {
            lower,
            upper,
            lower_inclusive,
            upper_inclusive,
            count,
            index,
        }
    }

    /// Multiplies all counts and the sum by `factor`.
    pub fn mul(&self, factor: f64) -> Self {
        self.map_values(|v| v * factor)
    }

    /// Divides all counts and the sum by `divisor`.
    pub fn div(&self, divisor: f64) -> Self {
        self.map_values(|v| v / divisor)
    }

    fn map_values(&self, f: impl Fn(f64) -> f64) -> Self {
        let mut h = self.clone();
        h.zero_count = f(h.zero_count);
        h.count = f(h.count);
        h.sum = f(h.sum);
        h.positive_buckets.iter_mut().for_each(|b| *b = f(*b));
        h.negative_buckets.iter_mut().for_each(|b| *b = f(*b));
        h
    }

    /// Returns `self + other`.
    pub fn add(&self, other: &Self) -> Result<Combined, HistogramError> {
        self.combine(other, 1.0)
    }

    /// Returns `self - other`.
    pub fn sub(&self, other: &Self) -> Result<Combined, HistogramError> {
        self.combine(other, -1.0)
    }

    fn combine(&self, other: &Self, sign: f64) -> Result<Combined, HistogramError> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(HistogramError::IncompatibleSchema);
        }
        let mut h = self.clone();
        let counter_reset_collision = h.adjust_counter_reset(other);
        h.count += sign * other.count;
        h.sum += sign * other.sum;
        let mut custom_buckets_reconciled = false;
        if h.uses_custom_buckets() {
            let mut mine = expand(&h.positive_spans, &h.positive_buckets);
            let mut theirs = expand(&other.positive_spans, &other.positive_buckets);
            if !custom_bounds_match(&h.custom_values, &other.custom_values) {
                let common: Vec<f64> = h
                    .custom_values
                    .iter()
                    .copied()
                    .filter(|v| other.custom_values.contains(v))
                    .collect();
                mine = rebucket_custom(&mine, &h.custom_values, &common);
                theirs = rebucket_custom(&theirs, &other.custom_values, &common);
                h.custom_values = common;
                custom_buckets_reconciled = true;
            }
            (h.positive_spans, h.positive_buckets) = collapse(&merge(&mine, &theirs, sign));
        } else {
            let other_zero = h.reconcile_zero_buckets(other);
            h.zero_count += sign * other_zero;
            let schema = h.schema.min(other.schema);
            let threshold = h.zero_threshold;
            for positive in [true, false] {
                let (mine, theirs) = if positive {
                    (
                        expand(&h.positive_spans, &h.positive_buckets),
                        expand(&other.positive_spans, &other.positive_buckets),
                    )
                } else {
                    (
                        expand(&h.negative_spans, &h.negative_buckets),
                        expand(&other.negative_spans, &other.negative_buckets),
                    )
                };
                let mine = reduce_pairs(&mine, h.schema, schema);
                let theirs: Vec<(i32, f64)> = reduce_pairs(&theirs, other.schema, schema)
                    .into_iter()
                    .filter(|&(i, _)| bucket_bound(i, schema, &[]) > threshold)
                    .collect();
                let (spans, buckets) = collapse(&merge(&mine, &theirs, sign));
                if positive {
                    (h.positive_spans, h.positive_buckets) = (spans, buckets);
                } else {
                    (h.negative_spans, h.negative_buckets) = (spans, buckets);
                }
            }
            h.schema = schema;
        }
        Ok(Combined {
            histogram: h,
            counter_reset_collision,
            custom_buckets_reconciled,
        })
    }

    /// Merges the hints of two operands; returns true on a reset/not-reset collision.
    fn adjust_counter_reset(&mut self, other: &Self) -> bool {
        use CounterResetHint::*;
        match (self.counter_reset_hint, other.counter_reset_hint) {
            (a, b) if a == b => false,
            (Gauge, _) => false,
            (_, Gauge) => {
                self.counter_reset_hint = Gauge;
                false
            }
            (Unknown, _) => false,
            (_, Unknown) => {
                self.counter_reset_hint = Unknown;
                false
            }
            _ => {
                self.counter_reset_hint = Unknown;
                true
            }
        }
    }

    /// Widens the zero buckets of `self` and `other` to a common threshold that does not cut
    /// through a populated bucket; adjusts `self` and returns the zero count `other` would have.
    fn reconcile_zero_buckets(&mut self, other: &Self) -> f64 {
        let mut other_count = other.zero_count;
        let mut other_threshold = other.zero_threshold;
        while other_threshold != self.zero_threshold {
            if self.zero_threshold > other_threshold {
                (other_count, other_threshold) =
                    other.zero_count_for_larger_threshold(self.zero_threshold);
            }
            if other_threshold > self.zero_threshold {
                (self.zero_count, self.zero_threshold) =
                    self.zero_count_for_larger_threshold(other_threshold);
                self.trim_buckets_in_zero_bucket();
            }
        }
        other_count
    }

    /// Returns the zero count and threshold the histogram would have with a zero threshold of at
    /// least `larger`; the threshold moves up to a bucket bound if it would cut a populated bucket.
    fn zero_count_for_larger_threshold(&self, larger: f64) -> (f64, f64) {
        let mut larger = larger;
        if larger == self.zero_threshold {
            return (self.zero_count, larger);
        }
        'outer: loop {
            let mut count = self.zero_count;
            for b in self.positive_bucket_iter() {
                if b.lower >= larger {
                    break;
                }
                count += b.count;
                if b.upper > larger {
                    if b.count != 0.0 {
                        larger = b.upper;
                    }
                    break;
                }
            }
            for b in self.negative_bucket_iter() {
                if b.upper <= -larger {
                    break;
                }
                count += b.count;
                if b.lower < -larger {
                    if b.count != 0.0 {
                        larger = -b.lower;
                        continue 'outer;
                    }
                    break;
                }
            }
            return (count, larger);
        }
    }

    /// Drops buckets that now lie inside the zero bucket (their counts were already moved).
    fn trim_buckets_in_zero_bucket(&mut self) {
        let t = self.zero_threshold;
        let pos: Vec<(i32, f64)> = expand(&self.positive_spans, &self.positive_buckets)
            .into_iter()
            .filter(|&(i, _)| bucket_bound(i - 1, self.schema, &[]) >= t)
            .collect();
        let neg: Vec<(i32, f64)> = expand(&self.negative_spans, &self.negative_buckets)
            .into_iter()
            .filter(|&(i, _)| bucket_bound(i - 1, self.schema, &[]) >= t)
            .collect();
        (self.positive_spans, self.positive_buckets) = collapse(&pos);
        (self.negative_spans, self.negative_buckets) = collapse(&neg);
    }

    /// Tells whether two histograms hold the same data: the same bucket layout (empty buckets
    /// included, however the spans split it) and bit-identical values. The counter-reset hint
    /// is metadata and does not take part.
    pub fn equals(&self, other: &Self) -> bool {
        let same = |a: f64, b: f64| a.to_bits() == b.to_bits();
        let same_pairs = |a: Vec<(i32, f64)>, b: Vec<(i32, f64)>| {
            a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.0 == y.0 && same(x.1, y.1))
        };
        self.schema == other.schema
            && same(self.count, other.count)
            && same(self.sum, other.sum)
            && (self.uses_custom_buckets()
                || (same(self.zero_threshold, other.zero_threshold)
                    && same(self.zero_count, other.zero_count)))
            && (!self.uses_custom_buckets()
                || custom_bounds_match(&self.custom_values, &other.custom_values))
            && same_pairs(
                expand(&self.positive_spans, &self.positive_buckets),
                expand(&other.positive_spans, &other.positive_buckets),
            )
            && same_pairs(
                expand(&self.negative_spans, &self.negative_buckets),
                expand(&other.negative_spans, &other.negative_buckets),
            )
    }

    /// Removes empty buckets at span edges and runs of more than `max_empty` empty buckets,
    /// and merges spans that are at most `max_empty` buckets apart.
    pub fn compact(&self, max_empty: u32) -> Self {
        let mut h = self.clone();
        (h.positive_spans, h.positive_buckets) =
            compact_pairs(&expand(&h.positive_spans, &h.positive_buckets), max_empty);
        (h.negative_spans, h.negative_buckets) =
            compact_pairs(&expand(&h.negative_spans, &h.negative_buckets), max_empty);
        h
    }

    /// Returns the histogram with its exponential schema lowered to `target` (merging buckets).
    pub fn reduce_resolution(&self, target: i32) -> Self {
        if self.uses_custom_buckets() || target >= self.schema {
            return self.clone();
        }
        let mut h = self.clone();
        (h.positive_spans, h.positive_buckets) = collapse(&reduce_pairs(
            &expand(&h.positive_spans, &h.positive_buckets),
            h.schema,
            target,
        ));
        (h.negative_spans, h.negative_buckets) = collapse(&reduce_pairs(
            &expand(&h.negative_spans, &h.negative_buckets),
            h.schema,
            target,
        ));
        h.schema = target;
        h
    }

    /// Tells whether going from `previous` to `self` involves a counter reset.
    ///
    /// An explicit hint decides; otherwise any decrease in count, zero bucket or any bucket
    /// (compared at the current schema and zero threshold) is a reset, as is a layout change that
    /// a counter cannot go through (higher schema, lower zero threshold, other custom bounds).
    pub fn detect_reset(&self, previous: &Self) -> bool {
        match self.counter_reset_hint {
            CounterResetHint::CounterReset => return true,
            CounterResetHint::NotCounterReset => return false,
            CounterResetHint::Unknown | CounterResetHint::Gauge => {}
        }
        if self.count < previous.count {
            return true;
        }
        if self.uses_custom_buckets() != previous.uses_custom_buckets() {
            return true;
        }
        if self.uses_custom_buckets() {
            if !custom_bounds_match(&self.custom_values, &previous.custom_values) {
                // Different bounds are compared on the bounds both have, as addition does.
                let common: Vec<f64> = self
                    .custom_values
                    .iter()
                    .copied()
                    .filter(|v| previous.custom_values.contains(v))
                    .collect();
                let curr = rebucket_custom(
                    &expand(&self.positive_spans, &self.positive_buckets),
                    &self.custom_values,
                    &common,
                );
                let prev = rebucket_custom(
                    &expand(&previous.positive_spans, &previous.positive_buckets),
                    &previous.custom_values,
                    &common,
                );
                return decreased(&curr, &prev);
            }
        } else {
            if self.schema > previous.schema || self.zero_threshold < previous.zero_threshold {
                return true;
            }
            let (prev_zero, threshold) =
                previous.zero_count_for_larger_threshold(self.zero_threshold);
            if threshold != self.zero_threshold || self.zero_count < prev_zero {
                return true;
            }
        }
        let sides = [
            (
                (&self.positive_spans, &self.positive_buckets),
                (&previous.positive_spans, &previous.positive_buckets),
            ),
            (
                (&self.negative_spans, &self.negative_buckets),
                (&previous.negative_spans, &previous.negative_buckets),
            ),
        ];
        sides.into_iter().any(|((cs, cb), (ps, pb))| {
            let keep = |&(i, _): &(i32, f64)| {
                self.uses_custom_buckets()
                    || bucket_bound(i, self.schema, &[]) > self.zero_threshold
            };
            let curr: Vec<_> = reduce_pairs(&expand(cs, cb), self.schema, self.schema)
                .into_iter()
                .filter(keep)
                .collect();
            let prev: Vec<_> = reduce_pairs(&expand(ps, pb), previous.schema, self.schema)
                .into_iter()
                .filter(keep)
                .collect();
            decreased(&curr, &prev)
        })
    }
}

/// Tells whether any bucket of `prev` holds more than the same bucket of `curr`.
fn decreased(curr: &[(i32, f64)], prev: &[(i32, f64)]) -> bool {
    prev.iter().any(|&(i, pc)| {
        let cc = curr
            .iter()
            .find(|&&(ci, _)| ci == i)
            .map_or(0.0, |&(_, c)| c);
        cc < pc
    })
}

/// Tells whether two custom bound lists are identical.
pub fn custom_bounds_match(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Returns the upper bound of bucket `index` under `schema`.
pub fn bucket_bound(index: i32, schema: i32, custom_values: &[f64]) -> f64 {
    if schema == CUSTOM_BUCKETS_SCHEMA {
        let len = i64::try_from(custom_values.len()).unwrap_or(i64::MAX);
        let idx = i64::from(index);
        return if idx >= len {
            f64::INFINITY
        } else if idx < 0 {
            f64::NEG_INFINITY
        } else {
            custom_values
                .get(index as usize)
                .copied()
                .unwrap_or(f64::INFINITY)
        };
    }
    if schema < 0 {
        let exp = i64::from(index) << -schema;
        // The last finite bucket ends at MaxFloat64 so that ±Inf get their own bucket.
        if exp == 1024 {
            return f64::MAX;
        }
        return ldexp(1.0, exp);
    }
    let frac_idx = (index & ((1 << schema) - 1)) as usize;
    let frac = exponential_fractions(schema)
        .get(frac_idx)
        .copied()
        .unwrap_or(0.5);
    let exp = i64::from(index >> schema) + 1;
    if frac == 0.5 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp)
}

/// Returns `2^(i / 2^schema) / 2` for every `i < 2^schema`: the mantissas of the bounds.
fn exponential_fractions(schema: i32) -> &'static [f64] {
    static TABLES: OnceLock<Vec<Vec<f64>>> = OnceLock::new();
    let tables = TABLES.get_or_init(|| {
        (0..=MAX_EXPONENTIAL_SCHEMA)
            .map(|s| {
                let n = 1u32 << s;
                (0..n)
                    .map(|i| 0.5 * (f64::from(i) / f64::from(n)).exp2())
                    .collect()
            })
            .collect()
    });
    usize::try_from(schema)
        .ok()
        .and_then(|s| tables.get(s))
        .map_or(&[], Vec::as_slice)
}

/// Returns `x * 2^exp` without intermediate overflow or underflow.
fn ldexp(x: f64, exp: i64) -> f64 {
    let mut x = x;
    let mut e = exp.clamp(-2200, 2200) as i32;
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e)
}

/// Expands spans and counts into `(index, count)` pairs in ascending index order.
pub(crate) fn expand(spans: &[BucketSpan], buckets: &[f64]) -> Vec<(i32, f64)> {
    let mut out = Vec::with_capacity(buckets.len());
    let mut idx = 0i32;
    let mut counts = buckets.iter();
    for (n, span) in spans.iter().enumerate() {
        idx = if n == 0 {
            span.offset
        } else {
            idx + span.offset
        };
        for _ in 0..span.length {
            let Some(&c) = counts.next() else {
                return out;
            };
            out.push((idx, c));
            idx += 1;
        }
    }
    out
}

/// Builds spans and counts from ascending `(index, count)` pairs; every pair is kept.
pub(crate) fn collapse(pairs: &[(i32, f64)]) -> (Vec<BucketSpan>, Vec<f64>) {
    let mut spans: Vec<BucketSpan> = Vec::new();
    let mut buckets = Vec::with_capacity(pairs.len());
    let mut next = 0i32;
    for &(i, c) in pairs {
        match spans.last_mut() {
            Some(last) if i == next => last.length += 1,
            Some(_) => spans.push(BucketSpan {
                offset: i - next,
                length: 1,
            }),
            None => spans.push(BucketSpan {
                offset: i,
                length: 1,
            }),
        }
        buckets.push(c);
        next = i + 1;
    }
    (spans, buckets)
}

fn compact_pairs(pairs: &[(i32, f64)], max_empty: u32) -> (Vec<BucketSpan>, Vec<f64>) {
    let gap = i64::from(max_empty);
    let mut out: Vec<(i32, f64)> = Vec::with_capacity(pairs.len());
    for &(i, c) in pairs.iter().filter(|&&(_, c)| c != 0.0) {
        if let Some(&(last, _)) = out.last() {
            let missing = i64::from(i) - i64::from(last) - 1;
            if missing > 0 && missing <= gap {
                out.extend((last + 1..i).map(|j| (j, 0.0)));
            }
        }
        out.push((i, c));
    }
    collapse(&out)
}

/// Maps exponential bucket pairs from schema `from` to the coarser schema `to`, summing merges.
fn reduce_pairs(pairs: &[(i32, f64)], from: i32, to: i32) -> Vec<(i32, f64)> {
    if to >= from {
        return pairs.to_vec();
    }
    let shift = from - to;
    let mut out: Vec<(i32, f64)> = Vec::with_capacity(pairs.len());
    for &(i, c) in pairs {
        let target = ((i - 1) >> shift) + 1;
        match out.last_mut() {
            Some((last, sum)) if *last == target => *sum += c,
            _ => out.push((target, c)),
        }
    }
    out
}

/// Maps custom bucket pairs from `bounds` to the subset `common`.
fn rebucket_custom(pairs: &[(i32, f64)], bounds: &[f64], common: &[f64]) -> Vec<(i32, f64)> {
    let mut out: Vec<(i32, f64)> = Vec::with_capacity(pairs.len());
    for &(i, c) in pairs {
        let upper = bucket_bound(i, CUSTOM_BUCKETS_SCHEMA, bounds);
        let target = common
            .iter()
            .position(|&b| b >= upper)
            .unwrap_or(common.len());
        let target = i32::try_from(target).unwrap_or(i32::MAX);
        match out.last_mut() {
            Some((last, sum)) if *last == target => *sum += c,
            _ => out.push((target, c)),
        }
    }
    out
}

/// Merges two ascending pair lists into `a + sign * b`.
fn merge(a: &[(i32, f64)], b: &[(i32, f64)], sign: f64) -> Vec<(i32, f64)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(&(ia, ca)), Some(&(ib, cb))) if ia == ib => {
                out.push((ia, ca + sign * cb));
                i += 1;
                j += 1;
            }
            (Some(&(ia, ca)), Some(&(ib, _))) if ia < ib => {
                out.push((ia, ca));
                i += 1;
            }
            (Some(&(ia, ca)), None) => {
                out.push((ia, ca));
                i += 1;
            }
            (_, Some(&(ib, cb))) => {
                out.push((ib, sign * cb));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    pub(super) fn h(
        schema: i32,
        count: f64,
        sum: f64,
        offset: i32,
        buckets: &[f64],
    ) -> FloatHistogram {
        FloatHistogram {
            schema,
            count,
            sum,
            positive_spans: vec![BucketSpan {
                offset,
                length: buckets.len() as u32,
            }],
            positive_buckets: buckets.to_vec(),
            ..Default::default()
        }
    }

    fn arb_hist(with_negative: bool) -> impl Strategy<Value = FloatHistogram> {
        let neg_len = if with_negative { 0..5usize } else { 0..1usize };
        (
            0i32..=3,
            -4i32..4,
            prop::collection::vec(0u8..50, 0..8),
            -4i32..4,
            prop::collection::vec(0u8..50, neg_len),
        )
            .prop_map(move |(schema, offset, pos, n_offset, neg)| {
                let pos: Vec<f64> = pos.into_iter().map(f64::from).collect();
                let neg: Vec<f64> = if with_negative {
                    neg.into_iter().map(f64::from).collect()
                } else {
                    vec![]
                };
                let count = pos.iter().chain(&neg).sum();
                let (positive_spans, positive_buckets) = collapse(
                    &pos.iter()
                        .enumerate()
                        .map(|(i, c)| (offset + i as i32, *c))
                        .collect::<Vec<_>>(),
                );
                let (negative_spans, negative_buckets) = collapse(
                    &neg.iter()
                        .enumerate()
                        .map(|(i, c)| (n_offset + i as i32, *c))
                        .collect::<Vec<_>>(),
                );
                FloatHistogram {
                    schema,
                    count,
                    sum: count * 1.5,
                    positive_spans,
                    positive_buckets,
                    negative_spans,
                    negative_buckets,
                    ..Default::default()
                }
            })
    }

    /// Non-empty positive and negative buckets as `(index, count)` pairs.
    type Sides = (Vec<(i32, f64)>, Vec<(i32, f64)>);

    fn nonzero(h: &FloatHistogram) -> Sides {
        let c = h.compact(0);
        (
            expand(&c.positive_spans, &c.positive_buckets),
            expand(&c.negative_spans, &c.negative_buckets),
        )
    }

    proptest! {
        #[test]
        fn add_then_sub_restores(a in arb_hist(true), b in arb_hist(true)) {
            let back = a.add(&b).unwrap().histogram.sub(&b).unwrap().histogram;
            let expected = a.reduce_resolution(a.schema.min(b.schema));
            prop_assert_eq!(back.schema, expected.schema);
            prop_assert_eq!(back.count, expected.count);
            prop_assert_eq!(nonzero(&back), nonzero(&expected));
        }

        #[test]
        fn reduction_keeps_totals(a in arb_hist(true), target in -4i32..=3) {
            let r = a.reduce_resolution(target);
            let total = |h: &FloatHistogram| -> f64 {
                h.positive_buckets.iter().chain(&h.negative_buckets).sum()
            };
            prop_assert_eq!(total(&r), total(&a));
            prop_assert_eq!(r.schema, a.schema.min(target));
            // Every merged bucket lies within the bounds of the bucket it went to.
            for (i, _) in expand(&a.positive_spans, &a.positive_buckets) {
                let j = ((i - 1) >> (a.schema - r.schema)) + 1;
                prop_assert!(bucket_bound(i, a.schema, &[]) <= bucket_bound(j, r.schema, &[]));
                prop_assert!(bucket_bound(i - 1, a.schema, &[]) >= bucket_bound(j - 1, r.schema, &[]));
            }
        }

        #[test]
        fn quantile_is_monotonic_and_inverts_fraction(a in arb_hist(false), q1 in 0.0f64..1.0, q2 in 0.0f64..1.0) {
            prop_assume!(a.count > 0.0);
            let pos = crate::value::annotations::PositionRange::default();
            let (lo, hi) = if q1 <= q2 { (q1, q2) } else { (q2, q1) };
            let vlo = histogram_quantile(lo, &a, "m", pos).0;
            let vhi = histogram_quantile(hi, &a, "m", pos).0;
            prop_assert!(vlo <= vhi, "q {lo} -> {vlo}, q {hi} -> {vhi}");
            let f = histogram_fraction(f64::NEG_INFINITY, vhi, &a, "m", pos).0;
            prop_assert!((f - hi).abs() < 1e-9, "fraction up to quantile({hi}) = {vhi} is {f}");
        }
    }

    #[test]
    fn exponential_bounds() {
        assert_eq!(bucket_bound(0, 0, &[]), 1.0);
        assert_eq!(bucket_bound(1, 0, &[]), 2.0);
        assert_eq!(bucket_bound(-1, 0, &[]), 0.5);
        assert_eq!(bucket_bound(1, 1, &[]), 2f64.sqrt());
        assert_eq!(bucket_bound(2, 1, &[]), 2.0);
        assert_eq!(bucket_bound(1, -1, &[]), 4.0);
        assert_eq!(bucket_bound(1, -4, &[]), 65536.0);
        assert_eq!(bucket_bound(1024, 0, &[]), f64::MAX);
        assert_eq!(bucket_bound(1025, 0, &[]), f64::INFINITY);
        assert_eq!(bucket_bound(64, -4, &[]), f64::MAX);
        assert_eq!(bucket_bound(1024 * 256, 8, &[]), f64::MAX);
        assert_eq!(
            bucket_bound(-1074, 0, &[]),
            2f64.powi(-1000) * 2f64.powi(-74)
        );
        for schema in MIN_EXPONENTIAL_SCHEMA..=MAX_EXPONENTIAL_SCHEMA {
            let mut prev = 0.0;
            for i in -300..300 {
                let b = bucket_bound(i, schema, &[]);
                // Coarse schemas leave the f64 range within a few dozen indices.
                if b == 0.0 || (b == f64::INFINITY && prev == f64::INFINITY) {
                    continue;
                }
                assert!(b > prev, "schema {schema} index {i}");
                prev = b;
            }
        }
        assert_eq!(
            bucket_bound(-1, CUSTOM_BUCKETS_SCHEMA, &[1.0]),
            f64::NEG_INFINITY
        );
        assert_eq!(
            bucket_bound(1, CUSTOM_BUCKETS_SCHEMA, &[1.0]),
            f64::INFINITY
        );
    }

    #[test]
    fn iterates_all_buckets_in_value_order() {
        let mut hist = h(0, 7.0, 1.0, 0, &[1.0, 2.0]);
        hist.negative_spans = vec![BucketSpan {
            offset: 1,
            length: 1,
        }];
        hist.negative_buckets = vec![3.0];
        hist.zero_threshold = 0.001;
        hist.zero_count = 1.0;
        let b = hist.all_buckets();
        let bounds: Vec<_> = b.iter().map(|b| (b.lower, b.upper, b.count)).collect();
        assert_eq!(
            bounds,
            [
                (-2.0, -1.0, 3.0),
                (-0.001, 0.001, 1.0),
                (0.5, 1.0, 1.0),
                (1.0, 2.0, 2.0)
            ]
        );
        assert!(b[0].lower_inclusive && !b[0].upper_inclusive);
        assert!(!b[2].lower_inclusive && b[2].upper_inclusive);
    }

    #[test]
    fn add_same_schema_unions_buckets() {
        let a = h(0, 3.0, 3.0, 0, &[1.0, 2.0]);
        let b = h(0, 4.0, 5.0, 1, &[1.0, 0.0, 3.0]);
        let r = a.add(&b).unwrap().histogram;
        assert_eq!((r.count, r.sum), (7.0, 8.0));
        assert_eq!(
            expand(&r.positive_spans, &r.positive_buckets),
            [(0, 1.0), (1, 3.0), (2, 0.0), (3, 3.0)]
        );
    }

    #[test]
    fn add_reduces_to_lower_schema() {
        // schema 1 buckets 1..=4 cover (1, sqrt2], (sqrt2, 2], (2, 2sqrt2], (2sqrt2, 4].
        let fine = h(1, 4.0, 10.0, 1, &[1.0, 1.0, 1.0, 1.0]);
        let coarse = h(0, 1.0, 1.0, 1, &[1.0]);
        let r = fine.add(&coarse).unwrap().histogram;
        assert_eq!(r.schema, 0);
        assert_eq!(
            expand(&r.positive_spans, &r.positive_buckets),
            [(1, 3.0), (2, 2.0)]
        );
        let same = coarse.add(&fine).unwrap().histogram;
        assert_eq!(same.compact(0), r.compact(0));
    }

    #[test]
    fn zero_threshold_reconciliation_moves_buckets() {
        let mut wide = h(0, 1.0, 0.0, 0, &[]);
        wide.zero_threshold = 1.0;
        wide.zero_count = 1.0;
        wide.positive_spans.clear();
        let narrow = h(0, 3.0, 3.0, 0, &[1.0, 2.0]); // (0.5,1] and (1,2]
        let r = narrow.add(&wide).unwrap().histogram;
        assert_eq!(r.zero_threshold, 1.0);
        assert_eq!(r.zero_count, 2.0);
        assert_eq!(expand(&r.positive_spans, &r.positive_buckets), [(1, 2.0)]);
        let r2 = wide.add(&narrow).unwrap().histogram;
        assert_eq!(r2.zero_count, 2.0);
        assert_eq!(expand(&r2.positive_spans, &r2.positive_buckets), [(1, 2.0)]);
    }

    #[test]
    fn sub_and_scalar_ops() {
        let a = h(0, 5.0, 10.0, 0, &[2.0, 3.0]);
        let b = h(0, 1.0, 2.0, 1, &[1.0]);
        let r = a.sub(&b).unwrap().histogram;
        assert_eq!(r.count, 4.0);
        assert_eq!(r.positive_buckets, [2.0, 2.0]);
        let m = a.mul(2.0);
        assert_eq!(
            (m.count, m.sum, m.positive_buckets.clone()),
            (10.0, 20.0, vec![4.0, 6.0])
        );
        assert_eq!(m.div(2.0), a);
    }

    #[test]
    fn counter_reset_hints_combine() {
        let mut a = h(0, 1.0, 1.0, 0, &[1.0]);
        let mut b = a.clone();
        a.counter_reset_hint = CounterResetHint::CounterReset;
        b.counter_reset_hint = CounterResetHint::NotCounterReset;
        let r = a.add(&b).unwrap();
        assert!(r.counter_reset_collision);
        assert_eq!(r.histogram.counter_reset_hint, CounterResetHint::Unknown);
        b.counter_reset_hint = CounterResetHint::Gauge;
        let r = a.add(&b).unwrap();
        assert!(!r.counter_reset_collision);
        assert_eq!(r.histogram.counter_reset_hint, CounterResetHint::Gauge);
    }

    #[test]
    fn custom_buckets_reconcile_to_common_bounds() {
        let mut a = h(CUSTOM_BUCKETS_SCHEMA, 3.0, 3.0, 0, &[1.0, 1.0, 1.0]);
        a.custom_values = vec![1.0, 2.0];
        let mut b = h(CUSTOM_BUCKETS_SCHEMA, 2.0, 2.0, 0, &[1.0, 1.0]);
        b.custom_values = vec![2.0];
        let r = a.add(&b).unwrap();
        assert!(r.custom_buckets_reconciled);
        assert_eq!(r.histogram.custom_values, [2.0]);
        assert_eq!(r.histogram.positive_buckets, [3.0, 2.0]);
        let exp = h(0, 1.0, 1.0, 0, &[1.0]);
        assert_eq!(a.add(&exp), Err(HistogramError::IncompatibleSchema));
    }

    #[test]
    fn compact_removes_empty_buckets() {
        let hist = FloatHistogram {
            positive_spans: vec![
                BucketSpan {
                    offset: -2,
                    length: 4,
                },
                BucketSpan {
                    offset: 0,
                    length: 0,
                },
                BucketSpan {
                    offset: 2,
                    length: 3,
                },
            ],
            positive_buckets: vec![0.0, 1.0, 0.0, 2.0, 0.0, 0.0, 3.0],
            ..Default::default()
        };
        let c = hist.compact(0);
        assert_eq!(
            expand(&c.positive_spans, &c.positive_buckets),
            [(-1, 1.0), (1, 2.0), (6, 3.0)]
        );
        assert_eq!(c.positive_spans.len(), 3);
        let c1 = hist.compact(1);
        assert_eq!(
            c1.positive_spans,
            [
                BucketSpan {
                    offset: -1,
                    length: 3
                },
                BucketSpan {
                    offset: 4,
                    length: 1
                }
            ]
        );
    }

    #[test]
    fn equality_ignores_hint_and_span_splits() {
        let a = h(0, 3.0, 3.0, 0, &[1.0, 2.0]);
        let mut b = a.clone();
        b.counter_reset_hint = CounterResetHint::NotCounterReset;
        b.positive_spans = vec![
            BucketSpan {
                offset: 0,
                length: 1,
            },
            BucketSpan {
                offset: 0,
                length: 1,
            },
        ];
        assert!(a.equals(&b));
        let with_empty = h(0, 3.0, 3.0, 0, &[1.0, 2.0, 0.0]);
        assert!(!a.equals(&with_empty));
        let mut nan = a.clone();
        nan.sum = f64::NAN;
        assert!(nan.equals(&nan.clone()));
    }

    #[test]
    fn detects_resets() {
        let prev = h(0, 5.0, 5.0, 0, &[2.0, 3.0]);
        let grown = h(0, 6.0, 6.0, 0, &[2.0, 4.0]);
        assert!(!grown.detect_reset(&prev));
        let bucket_drop = h(0, 6.0, 6.0, 0, &[1.0, 5.0]);
        assert!(bucket_drop.detect_reset(&prev));
        let fewer = h(0, 4.0, 6.0, 0, &[2.0, 3.0]);
        assert!(fewer.detect_reset(&prev));
        let finer = h(1, 6.0, 6.0, 0, &[2.0, 4.0]);
        assert!(finer.detect_reset(&prev));
        // A coarser schema is fine as long as the merged buckets grow.
        let coarser = prev
            .reduce_resolution(-1)
            .add(&h(-1, 1.0, 1.0, 1, &[1.0]))
            .unwrap();
        assert!(!coarser.histogram.detect_reset(&prev));
        // Custom bounds that change are compared on the common bounds.
        let mut a = h(CUSTOM_BUCKETS_SCHEMA, 1.0, 1.0, 0, &[1.0]);
        a.custom_values = vec![5.0];
        let mut b = h(CUSTOM_BUCKETS_SCHEMA, 1.0, 1.0, 0, &[1.0]);
        b.custom_values = vec![5.0, 10.0];
        assert!(!b.detect_reset(&a));
        let mut c = h(CUSTOM_BUCKETS_SCHEMA, 1.0, 1.0, 1, &[1.0]);
        c.custom_values = vec![5.0, 10.0];
        assert!(c.detect_reset(&a));
        let mut hinted = grown.clone();
        hinted.counter_reset_hint = CounterResetHint::CounterReset;
        assert!(hinted.detect_reset(&prev));
    }
}
