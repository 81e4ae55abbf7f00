//! Compensated sums and means of native histograms (`sum`, `avg`, `sum_over_time`,
//! `avg_over_time`).
//!
//! Every field (count, sum, zero count, each bucket) is summed with Kahan–Neumaier
//! compensation, so `1 + 1e100 + 1 - 1e100` comes out as 2 in every field, as for floats.

use std::collections::BTreeMap;

use super::{
    FloatHistogram, HistogramError, bucket_bound, collapse, custom_bounds_match, expand,
    rebucket_custom, reduce_pairs,
};
use crate::kernels::kahan_sum_inc;

/// What happened while accumulating, for the engine to annotate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccumulationNotes {
    /// Counter-reset and not-reset hints met (a warning upstream).
    pub counter_reset_collision: bool,
    /// Custom bounds differed and were reduced to the common ones (an info upstream).
    pub custom_buckets_reconciled: bool,
}

/// A histogram's fields on a bucket layout that can still change, for element-wise sums.
#[derive(Debug, Clone, Default, PartialEq)]
struct Fields {
    count: f64,
    sum: f64,
    zero_count: f64,
    positive: BTreeMap<i32, f64>,
    negative: BTreeMap<i32, f64>,
}

impl Fields {
    fn of(h: &FloatHistogram) -> Self {
        Self {
            count: h.count,
            sum: h.sum,
            zero_count: h.zero_count,
            positive: expand(&h.positive_spans, &h.positive_buckets)
                .into_iter()
                .collect(),
            negative: expand(&h.negative_spans, &h.negative_buckets)
                .into_iter()
                .collect(),
        }
    }

    fn reduce(&mut self, from: i32, to: i32) {
        let reduce = |m: &BTreeMap<i32, f64>| -> BTreeMap<i32, f64> {
            let pairs: Vec<(i32, f64)> = m.iter().map(|(i, c)| (*i, *c)).collect();
            reduce_pairs(&pairs, from, to).into_iter().collect()
        };
        self.positive = reduce(&self.positive);
        self.negative = reduce(&self.negative);
    }

    fn rebucket(&mut self, bounds: &[f64], common: &[f64]) {
        let pairs: Vec<(i32, f64)> = self.positive.iter().map(|(i, c)| (*i, *c)).collect();
        self.positive = rebucket_custom(&pairs, bounds, common)
            .into_iter()
            .collect();
    }

    /// Moves buckets that lie within a zero bucket of width `threshold` into the zero count.
    fn widen_zero(&mut self, schema: i32, threshold: f64) {
        for side in [&mut self.positive, &mut self.negative] {
            let inside: Vec<i32> = side
                .keys()
                .copied()
                .filter(|&i| bucket_bound(i - 1, schema, &[]) < threshold)
                .collect();
            for i in inside {
                self.zero_count += side.remove(&i).unwrap_or(0.0);
            }
        }
    }

    /// Applies `f(own, other)` to every field, buckets of either side included.
    fn zip_with(&mut self, other: &Fields, mut f: impl FnMut(f64, f64) -> f64) {
        self.count = f(self.count, other.count);
        self.sum = f(self.sum, other.sum);
        self.zero_count = f(self.zero_count, other.zero_count);
        for (mine, theirs) in [
            (&mut self.positive, &other.positive),
            (&mut self.negative, &other.negative),
        ] {
            for i in theirs.keys() {
                mine.entry(*i).or_insert(0.0);
            }
            for (i, v) in mine.iter_mut() {
                *v = f(*v, theirs.get(i).copied().unwrap_or(0.0));
            }
        }
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut f64> {
        [&mut self.count, &mut self.sum, &mut self.zero_count]
            .into_iter()
            .chain(self.positive.values_mut())
            .chain(self.negative.values_mut())
    }

    fn values(&self) -> impl Iterator<Item = f64> + '_ {
        [self.count, self.sum, self.zero_count]
            .into_iter()
            .chain(self.positive.values().copied())
            .chain(self.negative.values().copied())
    }
}

/// A running compensated sum: value fields plus compensation fields on the same layout.
#[derive(Debug, Clone, PartialEq)]
struct Compensated {
    template: FloatHistogram,
    value: Fields,
    comp: Fields,
}

impl Compensated {
    fn new(h: &FloatHistogram) -> Self {
        Self {
            template: h.clone(),
            value: Fields::of(h),
            comp: Fields::default(),
        }
    }

    /// Brings `self` and `h` onto one layout; returns `h`'s fields on it.
    fn align(
        &mut self,
        h: &FloatHistogram,
        notes: &mut AccumulationNotes,
    ) -> Result<Fields, HistogramError> {
        if self.template.uses_custom_buckets() != h.uses_custom_buckets() {
            return Err(HistogramError::IncompatibleSchema);
        }
        notes.counter_reset_collision |= self.template.adjust_counter_reset(h);
        let mut theirs = Fields::of(h);
        if h.uses_custom_buckets() {
            if !custom_bounds_match(&self.template.custom_values, &h.custom_values) {
                let common: Vec<f64> = self
                    .template
                    .custom_values
                    .iter()
                    .copied()
                    .filter(|v| h.custom_values.contains(v))
                    .collect();
                self.value.rebucket(&self.template.custom_values, &common);
                self.comp.rebucket(&self.template.custom_values, &common);
                theirs.rebucket(&h.custom_values, &common);
                self.template.custom_values = common;
                notes.custom_buckets_reconciled = true;
            }
            return Ok(theirs);
        }
        let schema = self.template.schema.min(h.schema);
        self.value.reduce(self.template.schema, schema);
        self.comp.reduce(self.template.schema, schema);
        theirs.reduce(h.schema, schema);
        self.template.schema = schema;
        // The common zero threshold must not cut a populated bucket on either side.
        let mine = self.materialize();
        let theirs_h = h.reduce_resolution(schema);
        let mut threshold = mine.zero_threshold.max(h.zero_threshold);
        loop {
            let (_, t1) = mine.zero_count_for_larger_threshold(threshold);
            let (_, t2) = theirs_h.zero_count_for_larger_threshold(threshold);
            let next = t1.max(t2);
            if next == threshold {
                break;
            }
            threshold = next;
        }
        for f in [&mut self.value, &mut self.comp, &mut theirs] {
            f.widen_zero(schema, threshold);
        }
        self.template.zero_threshold = threshold;
        Ok(theirs)
    }

    /// Performs `value, comp = kahan(inc * scale_inc, value * scale_acc, comp * scale_acc)`.
    fn step(&mut self, inc: &Fields, scale_acc: f64, scale_inc: f64) {
        // Give all three the same buckets so that their values line up one to one.
        let mut inc = inc.clone();
        self.value.zip_with(&inc, |v, _| v);
        self.comp.zip_with(&self.value, |c, _| c);
        inc.zip_with(&self.value, |i, _| i);
        for ((v, c), i) in self
            .value
            .values_mut()
            .zip(self.comp.values_mut())
            .zip(inc.values())
        {
            (*v, *c) = kahan_sum_inc(i * scale_inc, *v * scale_acc, *c * scale_acc);
        }
    }

    /// Returns value + compensation (or `(value + comp) / divisor`) as a histogram.
    fn finish(&self, divisor: f64) -> FloatHistogram {
        let mut total = self.value.clone();
        total.zip_with(&self.comp, |v, c| v / divisor + c / divisor);
        self.with_fields(&total)
    }

    fn materialize(&self) -> FloatHistogram {
        self.finish(1.0)
    }

    fn with_fields(&self, f: &Fields) -> FloatHistogram {
        let mut h = self.template.clone();
        h.count = f.count;
        h.sum = f.sum;
        h.zero_count = f.zero_count;
        let pos: Vec<(i32, f64)> = f.positive.iter().map(|(i, c)| (*i, *c)).collect();
        let neg: Vec<(i32, f64)> = f.negative.iter().map(|(i, c)| (*i, *c)).collect();
        (h.positive_spans, h.positive_buckets) = collapse(&pos);
        (h.negative_spans, h.negative_buckets) = collapse(&neg);
        h
    }
}

/// Sums histograms with per-field compensation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramSum {
    acc: Option<Compensated>,
    notes: AccumulationNotes,
}

impl HistogramSum {
    /// Adds one histogram; fails when exponential and custom-bucket histograms meet.
    pub fn push(&mut self, h: &FloatHistogram) -> Result<(), HistogramError> {
        let Some(acc) = self.acc.as_mut() else {
            self.acc = Some(Compensated::new(h));
            return Ok(());
        };
        let inc = acc.align(h, &mut self.notes)?;
        acc.step(&inc, 1.0, 1.0);
        Ok(())
    }

    /// Returns the sum, `None` if nothing was added.
    pub fn result(&self) -> Option<FloatHistogram> {
        self.acc.as_ref().map(|a| a.finish(1.0).compact(0))
    }

    /// Returns what happened while summing.
    pub fn notes(&self) -> AccumulationNotes {
        self.notes
    }
}

/// Averages histograms: a compensated sum divided at the end, switching to an incremental mean
/// once the sum would overflow, as the float mean does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramMean {
    acc: Option<Compensated>,
    n: f64,
    incremental: bool,
    notes: AccumulationNotes,
}

impl HistogramMean {
    /// Adds one histogram; fails when exponential and custom-bucket histograms meet.
    pub fn push(&mut self, h: &FloatHistogram) -> Result<(), HistogramError> {
        self.n += 1.0;
        let Some(acc) = self.acc.as_mut() else {
            self.acc = Some(Compensated::new(h));
            return Ok(());
        };
        let inc = acc.align(h, &mut self.notes)?;
        if !self.incremental {
            let mut tried = acc.clone();
            tried.step(&inc, 1.0, 1.0);
            if tried.value.values().all(f64::is_finite)
                || acc.value.values().any(|v| !v.is_finite())
            {
                *acc = tried;
                return Ok(());
            }
            // The sum would overflow: continue with the mean of what came so far.
            self.incremental = true;
            let prev = self.n - 1.0;
            acc.value.zip_with(&Fields::default(), |v, _| v / prev);
            acc.comp.zip_with(&Fields::default(), |c, _| c / prev);
        }
        let q = (self.n - 1.0) / self.n;
        acc.step(&inc, q, 1.0 / self.n);
        Ok(())
    }

    /// Returns the mean, `None` if nothing was added.
    pub fn result(&self) -> Option<FloatHistogram> {
        let divisor = if self.incremental { 1.0 } else { self.n };
        self.acc.as_ref().map(|a| a.finish(divisor).compact(0))
    }

    /// Returns what happened while averaging.
    pub fn notes(&self) -> AccumulationNotes {
        self.notes
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BucketSpan, CounterResetHint};
    use super::*;

    fn simple(count: f64, sum: f64) -> FloatHistogram {
        FloatHistogram {
            count,
            sum,
            ..Default::default()
        }
    }

    #[test]
    fn compensates_like_floats() {
        // Upstream: sum_over_time of these is {{count:10 sum:2}}, the average {{count:2.5 sum:0.5}}.
        let hs = [
            simple(1.0, 1.0),
            simple(2.0, 1e100),
            simple(3.0, 1.0),
            simple(4.0, -1e100),
        ];
        let mut s = HistogramSum::default();
        let mut m = HistogramMean::default();
        for h in &hs {
            s.push(h).unwrap();
            m.push(h).unwrap();
        }
        let sum = s.result().unwrap();
        assert_eq!((sum.count, sum.sum), (10.0, 2.0));
        let mean = m.result().unwrap();
        assert_eq!((mean.count, mean.sum), (2.5, 0.5));
    }

    #[test]
    fn mean_survives_overflowing_counts() {
        // Upstream: avg_over_time gives count 3.9967044783747367e+307, sum 1.1857142857142857.
        let hs = [
            simple(f64::MAX, 5.3),
            simple(1e308, 1e100),
            simple(1e-6, 1.0),
            simple(1e-6, -1e100),
            simple(1e-6, 2.0),
            simple(1e-6, 0.0),
            simple(1e-6, 0.0),
        ];
        let mut m = HistogramMean::default();
        let mut s = HistogramSum::default();
        for h in &hs {
            m.push(h).unwrap();
            s.push(h).unwrap();
        }
        let mean = m.result().unwrap();
        assert!((mean.count - 3.996_704_478_374_736_7e307).abs() / 4e307 < 1e-12);
        assert!(
            (mean.sum - 1.185_714_285_714_285_7).abs() < 1e-9,
            "{}",
            mean.sum
        );
        let sum = s.result().unwrap();
        assert_eq!(sum.count, f64::INFINITY);
        assert!((sum.sum - 8.3).abs() < 1e-12);
    }

    /// The upstream corpus case `sum_over_time`/`avg_over_time` of `histogram_sum_over_time_2`.
    #[test]
    fn matches_upstream_on_wide_ranging_buckets() {
        use crate::test_script::{SequenceValue, histograms_match, parse_values};
        let hist = |text: &str| -> Vec<FloatHistogram> {
            parse_values(text)
                .unwrap()
                .into_iter()
                .map(|v| match v {
                    SequenceValue::Histogram { histogram, .. } => histogram,
                    other => panic!("{other:?}"),
                })
                .collect()
        };
        let input = hist(
            "{{schema:0 count:1e10 sum:5.30921651659898 z_bucket:1.78264e50 z_bucket_w:0.001 buckets:[1.78264E+50 1.78264E+215 1.78264E+219 3363.5121756487] n_buckets:[1178.20696291113 731.697776280323 715.201503759399 1386.11378876781 855.572553278132]}} {{schema:0 count:1e-6 sum:0.961118537914768 z_bucket:0.76342771 z_bucket_w:0.001 buckets:[0.76342771 0.76342771 0.76342771 195.70084087969] n_buckets:[421.30382970055 0 450441.779]}} {{schema:0 count:1e-6 sum:1.62091361305318 z_bucket:1.9592258 z_bucket_w:0.001 buckets:[1.9592258 1.9592258 1.9592258 1135.74692279] n_buckets:[0 4504.41779 588.599358265103 40.3760942760943]}} {{schema:0 count:1e-6 sum:0.865089463758091 z_bucket:7.69805412 z_bucket_w:0.001 buckets:[2.258E+220 2.258E+220 2.3757689E+217 1078.68071312804] n_buckets:[349.905284031261 0 0 0.161173466838949 588.599358]}} {{schema:0 count:1e-6 sum:0.323055185914577 z_bucket:458.90154 z_bucket_w:0.001 buckets:[7.69805412 7.69805412 2.258E+220 3173.28218135701]}} {{schema:0 count:1e-6 sum:0.951811357687154 z_bucket:1.78264e50 z_bucket_w:0.001 buckets:[458.90154 458.90154 7.69805412 2178.35] n_buckets:[2054.92644438789 844.560108898123]}} {{schema:0 count:1e-6 sum:0 z_bucket:5 z_bucket_w:0.001 buckets:[0 0 1.78264E+219 376.770478890989]}} {{schema:0 count:1e-6 sum:0 z_bucket:0 z_bucket_w:0.001 buckets:[0 0 458.90154 250325.5] n_buckets:[0 0.0000000011353 0 608.697257]}}",
        );
        let want_sum = hist(
            "{{schema:0 count:10000000000.000008 sum:10.03120467492675 z_bucket:3.56528e+50 z_bucket_w:0.001 buckets:[2.258e+220 2.2580178264e+220 2.6169037689e+220 261827.54331269444] n_buckets:[4004.342521030831 6080.675675179582 451745.57986202446 2035.3483135107433 1444.171911278132]}}",
        );
        let want_avg = hist(
            "{{schema:0 count:1250000000.000001 sum:1.2539005843658437 z_bucket:4.4566e49 z_bucket_w:0.001 buckets:[2.8225e+219 2.822522283e+219 3.271129711125e+219 32728.442914086805] n_buckets:[500.5428151288539 760.0844593974477 56468.19748275306 254.4185391888429 180.5214889097665]}}",
        );
        let (mut s, mut m) = (HistogramSum::default(), HistogramMean::default());
        for h in &input {
            s.push(h).unwrap();
            m.push(h).unwrap();
        }
        let (sum, avg) = (s.result().unwrap(), m.result().unwrap());
        assert!(histograms_match(&want_sum[0], &sum, false), "{sum:?}");
        assert!(histograms_match(&want_avg[0], &avg, false), "{avg:?}");
    }

    /// The upstream corpus case `avg(histogram_avg_incremental)`, whose direct sum overflows.
    #[test]
    fn matches_upstream_incremental_mean() {
        use crate::test_script::{SequenceValue, histograms_match, parse_values};
        let input: Vec<FloatHistogram> = parse_values("{{schema:0 count:1.7976931348623157e+308 sum:5.30921651659898 z_bucket:1.78264e50 z_bucket_w:0.001 buckets:[1.78264E+50 1.78264E+215 1.78264E+219 3363.5121756487] n_buckets:[1178.20696291113 731.697776280323 715.201503759399 1386.11378876781 855.572553278132]}} {{schema:0 count:1e308 sum:0.961118537914768 z_bucket:0.76342771 z_bucket_w:0.001 buckets:[0.76342771 0.76342771 0.76342771 195.70084087969] n_buckets:[421.30382970055 0 450441.779]}} {{schema:0 count:1e-6 sum:1.62091361305318 z_bucket:1.9592258 z_bucket_w:0.001 buckets:[1.9592258 1.9592258 1.9592258 1135.74692279] n_buckets:[0 4504.41779 588.599358265103 40.3760942760943]}} {{schema:0 count:1e-6 sum:0.865089463758091 z_bucket:7.69805412 z_bucket_w:0.001 buckets:[2.258E+220 2.258E+220 2.3757689E+217 1078.68071312804] n_buckets:[349.905284031261 0 0 0.161173466838949 588.599358]}} {{schema:0 count:1e-6 sum:0.323055185914577 z_bucket:458.90154 z_bucket_w:0.001 buckets:[7.69805412 7.69805412 2.258E+220 3173.28218135701]}} {{schema:0 count:1e-6 sum:0.951811357687154 z_bucket:1.78264e50 z_bucket_w:0.001 buckets:[458.90154 458.90154 7.69805412 2178.35] n_buckets:[2054.92644438789 844.560108898123]}} {{schema:0 count:1e-6 sum:0 z_bucket:5 z_bucket_w:0.001 buckets:[0 0 1.78264E+219 376.770478890989]}} {{schema:0 count:1e-6 sum:0 z_bucket:0 z_bucket_w:0.001 buckets:[0 0 458.90154 250325.5] n_buckets:[0 0.0000000011353 0 608.697257]}}")
            .unwrap()
            .into_iter()
            .map(|v| match v {
                SequenceValue::Histogram { histogram, .. } => histogram,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(input.len(), 8);
        let want = match parse_values("{{schema:0 count:3.497116418577895e+307 sum:1.2539005843658437 z_bucket:4.4566e49 z_bucket_w:0.001 buckets:[2.8225e+219 2.822522283e+219 3.271129711125e+219 32728.442914086805] n_buckets:[500.5428151288539 760.0844593974477 56468.19748275306 254.4185391888429 180.5214889097665]}}").unwrap().remove(0) {
            SequenceValue::Histogram { histogram, .. } => histogram,
            other => panic!("{other:?}"),
        };
        let mut m = HistogramMean::default();
        input.iter().for_each(|h| m.push(h).unwrap());
        let avg = m.result().unwrap();
        assert!(histograms_match(&want, &avg, false), "{avg:?}");
    }

    #[test]
    fn buckets_align_across_schemas_and_thresholds() {
        let a = FloatHistogram {
            schema: 1,
            count: 4.0,
            positive_spans: vec![BucketSpan {
                offset: 1,
                length: 4,
            }],
            positive_buckets: vec![1.0, 1.0, 1.0, 1.0],
            ..Default::default()
        };
        let b = FloatHistogram {
            schema: 0,
            count: 2.0,
            zero_threshold: 1.0,
            zero_count: 1.0,
            positive_spans: vec![BucketSpan {
                offset: 2,
                length: 1,
            }],
            positive_buckets: vec![1.0],
            ..Default::default()
        };
        let mut s = HistogramSum::default();
        s.push(&a).unwrap();
        s.push(&b).unwrap();
        let got = s.result().unwrap();
        // Same as plain addition.
        let plain = a.add(&b).unwrap().histogram.compact(0);
        assert_eq!(got.schema, plain.schema);
        assert_eq!(got.zero_threshold, plain.zero_threshold);
        assert_eq!((got.count, got.zero_count), (plain.count, plain.zero_count));
        assert_eq!(
            expand(&got.positive_spans, &got.positive_buckets),
            expand(&plain.positive_spans, &plain.positive_buckets)
        );
        let custom = FloatHistogram {
            schema: super::super::CUSTOM_BUCKETS_SCHEMA,
            ..Default::default()
        };
        assert_eq!(s.push(&custom), Err(HistogramError::IncompatibleSchema));
    }

    #[test]
    fn hints_and_custom_bounds_are_noted() {
        let mut a = FloatHistogram {
            schema: super::super::CUSTOM_BUCKETS_SCHEMA,
            count: 1.0,
            custom_values: vec![5.0],
            positive_spans: vec![BucketSpan {
                offset: 0,
                length: 1,
            }],
            positive_buckets: vec![1.0],
            counter_reset_hint: CounterResetHint::CounterReset,
            ..Default::default()
        };
        let mut b = a.clone();
        b.custom_values = vec![5.0, 10.0];
        b.counter_reset_hint = CounterResetHint::NotCounterReset;
        let mut s = HistogramSum::default();
        s.push(&a).unwrap();
        s.push(&b).unwrap();
        assert_eq!(
            s.notes(),
            AccumulationNotes {
                counter_reset_collision: true,
                custom_buckets_reconciled: true
            }
        );
        let r = s.result().unwrap();
        assert_eq!(
            (r.custom_values.clone(), r.positive_buckets.clone()),
            (vec![5.0], vec![2.0])
        );
        a.counter_reset_hint = CounterResetHint::Gauge;
        let mut g = HistogramSum::default();
        g.push(&a).unwrap();
        g.push(&b).unwrap();
        assert_eq!(
            g.result().unwrap().counter_reset_hint,
            CounterResetHint::Gauge
        );
    }
}
