//! An in-memory [`Queryable`] for tests and the test-script runner.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::{Matcher, Queryable, SelectedSeries, StorageError};
use crate::value::histogram::CounterResetHint;
use crate::value::labels::Labels;
use crate::value::{Point, PointValue};

/// Series kept in memory, each a time-ordered list of samples.
///
/// Histogram samples come back with the counter-reset hints a TSDB's chunk encoding reports:
/// a counter histogram right after another counter histogram is marked as a reset or as no
/// reset; the first one of a run keeps the hint it was written with.
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    series: BTreeMap<Labels, Arc<Vec<Point>>>,
}

impl MemoryStorage {
    /// Returns an empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a sample; a sample at an existing timestamp replaces the old one.
    pub fn append(&mut self, labels: Labels, t: i64, value: PointValue) {
        let points = Arc::make_mut(self.series.entry(labels).or_default());
        match points.binary_search_by_key(&t, |p| p.t) {
            Ok(i) => points[i].value = value,
            Err(i) => points.insert(i, Point { t, value }),
        }
    }

    /// Drops every series.
    pub fn clear(&mut self) {
        self.series.clear();
    }

    /// Returns the number of series.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// Returns the total number of samples.
    pub fn sample_count(&self) -> usize {
        self.series.values().map(|p| p.len()).sum()
    }

    fn matching<'a>(
        &'a self,
        mint: i64,
        maxt: i64,
        matchers: &'a [Matcher],
    ) -> impl Iterator<Item = (&'a Labels, &'a Arc<Vec<Point>>, usize, usize)> + 'a {
        self.series.iter().filter_map(move |(labels, points)| {
            if !matchers.iter().all(|m| m.matches_labels(labels)) {
                return None;
            }
            let from = points.partition_point(|p| p.t < mint);
            let to = points.partition_point(|p| p.t <= maxt);
            (from < to).then_some((labels, points, from, to))
        })
    }
}

/// Returns `p` with the counter-reset hint a TSDB would report after `prev`.
fn with_stored_hint(prev: Option<&Point>, p: &Point) -> Point {
    let mut p = p.clone();
    if let (
        Some(Point {
            value: PointValue::Histogram(prev),
            ..
        }),
        PointValue::Histogram(h),
    ) = (prev, &mut p.value)
        && prev.counter_reset_hint != CounterResetHint::Gauge
        && h.counter_reset_hint != CounterResetHint::Gauge
    {
        h.counter_reset_hint = if h.detect_reset(prev) {
            CounterResetHint::CounterReset
        } else {
            CounterResetHint::NotCounterReset
        };
    }
    p
}

impl Queryable for MemoryStorage {
    fn select(
        &self,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<Vec<SelectedSeries>, StorageError> {
        Ok(self
            .matching(mint, maxt, matchers)
            .map(|(labels, points, from, to)| {
                let points = Arc::clone(points);
                SelectedSeries {
                    labels: labels.clone(),
                    samples: Box::new((from..to).map(move |i| {
                        let prev = i.checked_sub(1).and_then(|j| points.get(j));
                        Ok(with_stored_hint(prev, &points[i]))
                    })),
                }
            })
            .collect())
    }

    fn label_names(
        &self,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<Vec<String>, StorageError> {
        let names: BTreeSet<&str> = self
            .matching(mint, maxt, matchers)
            .flat_map(|(labels, ..)| labels.iter().map(|l| l.name.as_str()))
            .collect();
        Ok(names.into_iter().map(str::to_owned).collect())
    }

    fn label_values(
        &self,
        name: &str,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<Vec<String>, StorageError> {
        let values: BTreeSet<&str> = self
            .matching(mint, maxt, matchers)
            .filter_map(|(labels, ..)| labels.get(name))
            .collect();
        Ok(values.into_iter().map(str::to_owned).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MatchOp;

    fn storage() -> MemoryStorage {
        let mut s = MemoryStorage::new();
        let a = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        let b = Labels::from_pairs([("__name__", "up"), ("job", "b")]);
        for t in [30, 10, 20] {
            s.append(a.clone(), t, PointValue::Float(t as f64));
        }
        s.append(a.clone(), 20, PointValue::Float(-1.0));
        s.append(b, 100, PointValue::Float(1.0));
        s
    }

    fn values(series: SelectedSeries) -> Vec<(i64, f64)> {
        series
            .samples
            .map(|p| {
                let p = p.unwrap();
                match p.value {
                    PointValue::Float(f) => (p.t, f),
                    PointValue::Histogram(_) => panic!("float expected"),
                }
            })
            .collect()
    }

    #[test]
    fn selects_sorted_within_inclusive_range() {
        let s = storage();
        let name = Matcher::new(MatchOp::Equal, "__name__", "up").unwrap();
        let got = s.select(10, 100, std::slice::from_ref(&name)).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].labels.get("job"), Some("a"));
        let mut got = got.into_iter();
        assert_eq!(
            values(got.next().unwrap()),
            [(10, 10.0), (20, -1.0), (30, 30.0)]
        );
        // Series without samples in the range are not returned.
        let got = s.select(15, 25, &[name]).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(values(got.into_iter().next().unwrap()), [(20, -1.0)]);
    }

    #[test]
    fn histogram_hints_follow_chunk_semantics() {
        use crate::value::histogram::FloatHistogram;
        let h = |count: f64, hint| {
            PointValue::Histogram(FloatHistogram {
                count,
                counter_reset_hint: hint,
                ..Default::default()
            })
        };
        let mut s = MemoryStorage::new();
        let l = Labels::from_pairs([("__name__", "h")]);
        let u = CounterResetHint::Unknown;
        for (t, v) in [
            (0, h(1.0, u)),
            (1, h(2.0, u)),
            (2, h(1.0, u)),
            (3, h(1.0, CounterResetHint::Gauge)),
            (4, h(5.0, u)),
        ] {
            s.append(l.clone(), t, v);
        }
        let got: Vec<CounterResetHint> = s
            .select(0, 10, &[])
            .unwrap()
            .remove(0)
            .samples
            .map(|p| match p.unwrap().value {
                PointValue::Histogram(h) => h.counter_reset_hint,
                PointValue::Float(_) => panic!("histogram expected"),
            })
            .collect();
        use CounterResetHint::*;
        assert_eq!(
            got,
            [Unknown, NotCounterReset, CounterReset, Gauge, Unknown]
        );
        // The hint depends on the sample before the range, too.
        let first = s
            .select(1, 1, &[])
            .unwrap()
            .remove(0)
            .samples
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(first.value, h(2.0, NotCounterReset));
    }

    #[test]
    fn label_names_and_values() {
        let s = storage();
        let re = Matcher::new(MatchOp::Regex, "job", "a|b").unwrap();
        assert_eq!(
            s.label_names(0, 1000, std::slice::from_ref(&re)).unwrap(),
            ["__name__", "job"]
        );
        assert_eq!(s.label_values("job", 0, 1000, &[re]).unwrap(), ["a", "b"]);
        assert_eq!(s.label_values("job", 0, 50, &[]).unwrap(), ["a"]);
        assert_eq!((s.series_count(), s.sample_count()), (2, 4));
        let mut s = s;
        s.clear();
        assert_eq!(s.series_count(), 0);
    }
}
