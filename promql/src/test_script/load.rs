//! Loads `load` blocks into a [`ScriptStorage`], converting classic histograms for
//! `load_with_nhcb`.

use std::collections::BTreeMap;

use super::notation::SequenceValue;
use super::parse::LoadCommand;
use super::{QueryError, ScriptStorage};
use crate::storage::MemoryStorage;
use crate::value::histogram::{BucketSpan, CUSTOM_BUCKETS_SCHEMA, FloatHistogram};
use crate::value::labels::{BUCKET_LABEL, Labels, METRIC_NAME};
use crate::value::{PointValue, is_stale_nan};

/// Appends every sample of `cmd` to `storage` and commits them.
pub fn load(cmd: &LoadCommand, storage: &mut dyn ScriptStorage) -> Result<(), QueryError> {
    for (labels, t, value) in samples(cmd) {
        storage.append(labels, t, value)?;
    }
    storage.commit()
}

/// [`load`] into a [`MemoryStorage`], which accepts every sample.
pub fn load_memory(cmd: &LoadCommand, storage: &mut MemoryStorage) {
    for (labels, t, value) in samples(cmd) {
        storage.append(labels, t, value);
    }
}

/// The samples of `cmd`, series by series in time order, then the converted histograms.
fn samples(cmd: &LoadCommand) -> Vec<(Labels, i64, PointValue)> {
    // A series defined twice in one block keeps only its last definition.
    let mut defs: BTreeMap<&Labels, &[SequenceValue]> = BTreeMap::new();
    for s in &cmd.series {
        defs.insert(&s.labels, &s.values);
    }
    let mut out = Vec::new();
    for (labels, values) in &defs {
        for (i, v) in values.iter().enumerate() {
            let t = cmd.interval * i as i64;
            match v {
                SequenceValue::Omitted => {}
                SequenceValue::Float(f) => out.push(((*labels).clone(), t, PointValue::Float(*f))),
                SequenceValue::Histogram { histogram, .. } => out.push((
                    (*labels).clone(),
                    t,
                    PointValue::Histogram(histogram.clone()),
                )),
            }
        }
    }
    if cmd.with_nhcb {
        for (labels, t, h) in classic_to_nhcb(&defs, cmd.interval) {
            out.push((labels, t, PointValue::Histogram(h)));
        }
    }
    out
}

/// The parts of one classic histogram: `le` buckets, `_count` and `_sum` series.
#[derive(Default)]
struct Classic<'a> {
    buckets: Vec<(f64, &'a [SequenceValue])>,
    count: Option<&'a [SequenceValue]>,
    sum: Option<&'a [SequenceValue]>,
}

/// Converts the classic histograms among `defs` into native histograms with custom buckets,
/// one per slot at which every bucket has a float value.
fn classic_to_nhcb(
    defs: &BTreeMap<&Labels, &[SequenceValue]>,
    interval: i64,
) -> Vec<(Labels, i64, FloatHistogram)> {
    let mut groups: BTreeMap<Labels, Classic<'_>> = BTreeMap::new();
    for (labels, values) in defs {
        let Some(name) = labels.metric_name() else {
            continue;
        };
        let (base, part) = if let Some(b) = name.strip_suffix("_bucket") {
            (b, "bucket")
        } else if let Some(b) = name.strip_suffix("_count") {
            (b, "count")
        } else if let Some(b) = name.strip_suffix("_sum") {
            (b, "sum")
        } else {
            continue;
        };
        let mut key = labels.without(&[BUCKET_LABEL]);
        key.set(METRIC_NAME, base);
        let group = groups.entry(key).or_default();
        match part {
            "bucket" => {
                let le = labels.get(BUCKET_LABEL).and_then(|v| v.parse::<f64>().ok());
                if let Some(le) = le {
                    group.buckets.push((le, values));
                }
            }
            "count" => group.count = Some(values),
            _ => group.sum = Some(values),
        }
    }
    let mut out = Vec::new();
    for (labels, mut group) in groups {
        if group.buckets.is_empty() {
            continue;
        }
        group.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        let custom_values: Vec<f64> = group
            .buckets
            .iter()
            .map(|b| b.0)
            .filter(|le| le.is_finite())
            .collect();
        let slots = group.buckets.iter().map(|b| b.1.len()).max().unwrap_or(0);
        let float_at = |vals: &[SequenceValue], i: usize| match vals.get(i) {
            Some(SequenceValue::Float(f)) if !is_stale_nan(*f) => Some(*f),
            _ => None,
        };
        'slots: for i in 0..slots {
            let mut cumulative = Vec::with_capacity(group.buckets.len());
            for (_, vals) in &group.buckets {
                let Some(v) = float_at(vals, i) else {
                    continue 'slots;
                };
                cumulative.push(v);
            }
            let mut buckets: Vec<f64> = cumulative
                .iter()
                .enumerate()
                .map(|(j, c)| if j == 0 { *c } else { c - cumulative[j - 1] })
                .collect();
            let last_cumulative = cumulative.last().copied().unwrap_or(0.0);
            let count = group
                .count
                .and_then(|c| float_at(c, i))
                .unwrap_or(last_cumulative);
            if group.buckets.last().is_some_and(|b| b.0.is_finite()) {
                // Without a +Inf bucket, whatever `_count` has beyond the last bound goes there.
                buckets.push(count - last_cumulative);
            }
            let h = FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count,
                sum: group.sum.and_then(|s| float_at(s, i)).unwrap_or(0.0),
                positive_spans: vec![BucketSpan {
                    offset: 0,
                    length: buckets.len() as u32,
                }],
                positive_buckets: buckets,
                custom_values: custom_values.clone(),
                ..Default::default()
            };
            out.push((labels.clone(), interval * i as i64, h.compact(0)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{MatchOp, Matcher, Queryable};
    use crate::test_script::parse::{Command, parse_script};

    #[test]
    fn nhcb_conversion() {
        let script = r#"
load_with_nhcb 1m
    h_bucket{le="1", job="a"} 1 2
    h_bucket{le="5", job="a"} 3 _
    h_bucket{le="+Inf", job="a"} 4 4
    h_count{job="a"} 4 4
    h_sum{job="a"} 10 10
"#;
        let cmds = parse_script(script).unwrap();
        let Command::Load(cmd) = &cmds[0] else {
            panic!()
        };
        let mut s = MemoryStorage::new();
        load(cmd, &mut s).unwrap();
        let m = Matcher::new(MatchOp::Equal, "__name__", "h").unwrap();
        let got = s.select(0, i64::MAX, &[m]).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].labels,
            Labels::from_pairs([("__name__", "h"), ("job", "a")])
        );
        let points: Vec<_> = got
            .into_iter()
            .next()
            .unwrap()
            .samples
            .map(Result::unwrap)
            .collect();
        // The second slot lacks the le=5 bucket and yields no histogram.
        assert_eq!(points.len(), 1);
        let PointValue::Histogram(h) = &points[0].value else {
            panic!()
        };
        assert_eq!(h.custom_values, [1.0, 5.0]);
        assert_eq!(h.positive_buckets, [1.0, 2.0, 1.0]);
        assert_eq!((h.count, h.sum), (4.0, 10.0));
        // Floats stay: 3 bucket series + count + sum.
        assert_eq!(s.series_count(), 6);
    }
}
