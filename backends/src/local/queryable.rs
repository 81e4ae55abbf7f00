//! The PromQL engine's read contract over one tenant's tsdb.

use std::collections::BTreeSet;
use std::sync::Arc;

use ampd_promql::{
    CounterResetHint, Matcher, Point, PointValue, Queryable, SampleIter, SelectedSeries,
    StorageError,
};
use ampd_tsdb::Db;

use super::convert;

/// Reads one tenant's tsdb; `None` is a tenant without data, which reads as empty.
pub struct TsdbQueryable {
    db: Option<Arc<Db>>,
}

impl TsdbQueryable {
    /// Wraps the tenant's database, if it exists.
    pub fn new(db: Option<Arc<Db>>) -> Self {
        Self { db }
    }
}

impl TsdbQueryable {
    /// The label sets of matching series with samples in the range. Without matchers the tsdb
    /// answers label queries from whole-head or whole-block postings; the engine needs the
    /// exact per-series answer, so every series is matched instead.
    fn series_in(
        &self,
        mint: i64,
        maxt: i64,
        ms: &[Matcher],
    ) -> Result<Vec<ampd_tsdb::Labels>, StorageError> {
        let Some(db) = &self.db else {
            return Ok(Vec::new());
        };
        let mut ms = matchers(ms)?;
        if ms.is_empty() {
            ms.push(
                ampd_tsdb::Matcher::new(ampd_tsdb::MatchType::RegexMatch, "__name__", ".*")
                    .map_err(backend)?,
            );
        }
        db.series(&ms, mint, maxt).map_err(backend)
    }
}

fn backend(e: ampd_tsdb::Error) -> StorageError {
    StorageError::Backend(Box::new(e))
}

fn matchers(ms: &[Matcher]) -> Result<Vec<ampd_tsdb::Matcher>, StorageError> {
    ms.iter()
        .map(|m| convert::matcher(m).map_err(backend))
        .collect()
}

/// Sets the counter-reset hint of `p` the way tsdb chunk encodings report it: a counter
/// histogram right after another counter histogram is a reset or not; the first of a run
/// keeps the hint it was written with.
fn with_chunk_hint(prev: Option<&Point>, mut p: Point) -> Point {
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

/// Streams a tsdb series' samples as engine points, lazily.
fn points(samples: ampd_tsdb::SampleIter) -> SampleIter {
    // The previous point as stored (before its hint was rewritten), as reset detection needs.
    let mut prev: Option<Point> = None;
    Box::new(samples.map(move |s| {
        let (t, v) = s.map_err(backend)?;
        let stored = Point {
            t,
            value: convert::point_value(&v),
        };
        let out = with_chunk_hint(prev.as_ref(), stored.clone());
        prev = Some(stored);
        Ok(out)
    }))
}

impl Queryable for TsdbQueryable {
    fn select(
        &self,
        mint: i64,
        maxt: i64,
        ms: &[Matcher],
    ) -> Result<Vec<SelectedSeries>, StorageError> {
        let Some(db) = &self.db else {
            return Ok(Vec::new());
        };
        let set = db.select(&matchers(ms)?, mint, maxt).map_err(backend)?;
        // tsdb returns series sorted by labels, as the contract asks.
        Ok(set
            .series
            .iter()
            .map(|s| SelectedSeries {
                labels: convert::promql_labels(s.labels()),
                samples: points(s.samples()),
            })
            .collect())
    }

    fn label_names(
        &self,
        mint: i64,
        maxt: i64,
        ms: &[Matcher],
    ) -> Result<Vec<String>, StorageError> {
        let names: BTreeSet<String> = self
            .series_in(mint, maxt, ms)?
            .iter()
            .flat_map(|l| l.iter().map(|x| x.name.to_string()).collect::<Vec<_>>())
            .collect();
        Ok(names.into_iter().collect())
    }

    fn label_values(
        &self,
        name: &str,
        mint: i64,
        maxt: i64,
        ms: &[Matcher],
    ) -> Result<Vec<String>, StorageError> {
        let values: BTreeSet<String> = self
            .series_in(mint, maxt, ms)?
            .iter()
            .filter_map(|l| l.get(name).map(str::to_owned))
            .collect();
        Ok(values.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ampd_promql::check_queryable;
    use ampd_tsdb::{Engine, IdentitySealer, Options};

    use super::*;

    #[test]
    fn passes_the_engine_conformance_check() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::new(dir.path(), Options::default(), Arc::new(IdentitySealer)).unwrap();
        let db = engine.tenant("ws-check").unwrap();
        check_queryable(|data| {
            let mut app = db.appender();
            for (labels, pts) in data {
                let ls = ampd_tsdb::Labels::from_pairs(
                    labels.iter().map(|l| (l.name.as_str(), l.value.as_str())),
                );
                for p in pts {
                    match &p.value {
                        PointValue::Float(f) => app.append(&ls, p.t, *f).unwrap(),
                        PointValue::Histogram(h) => {
                            app.append_float_histogram(&ls, p.t, to_tsdb(h)).unwrap()
                        }
                    }
                }
            }
            app.commit().unwrap();
            TsdbQueryable::new(Some(db.clone()))
        })
        .unwrap();
    }

    fn to_tsdb(h: &ampd_promql::FloatHistogram) -> ampd_tsdb::FloatHistogram {
        let spans = |s: &[ampd_promql::BucketSpan]| {
            s.iter()
                .map(|s| ampd_tsdb::Span {
                    offset: s.offset,
                    length: s.length,
                })
                .collect()
        };
        ampd_tsdb::FloatHistogram {
            counter_reset_hint: ampd_tsdb::CounterResetHint::Unknown,
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            zero_count: h.zero_count,
            count: h.count,
            sum: h.sum,
            positive_spans: spans(&h.positive_spans),
            positive_counts: h.positive_buckets.clone(),
            negative_spans: spans(&h.negative_spans),
            negative_counts: h.negative_buckets.clone(),
            custom_values: h.custom_values.clone(),
        }
    }

    #[test]
    fn consecutive_histograms_get_reset_hints() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::new(dir.path(), Options::default(), Arc::new(IdentitySealer)).unwrap();
        let db = engine.tenant("ws-hints").unwrap();
        let ls = ampd_tsdb::Labels::from_pairs([("__name__", "h")]);
        let h = |count: f64| ampd_tsdb::FloatHistogram {
            count,
            sum: count,
            zero_count: count,
            ..ampd_tsdb::FloatHistogram::default()
        };
        let mut app = db.appender();
        for (t, c) in [(1_000, 5.0), (2_000, 7.0), (3_000, 2.0)] {
            app.append_float_histogram(&ls, t, h(c)).unwrap();
        }
        app.commit().unwrap();
        let q = TsdbQueryable::new(Some(db));
        let name = Matcher::new(ampd_promql::MatchOp::Equal, "__name__", "h").unwrap();
        let series = q.select(0, 10_000, &[name]).unwrap().remove(0);
        let hints: Vec<CounterResetHint> = series
            .samples
            .map(|p| match p.unwrap().value {
                PointValue::Histogram(h) => h.counter_reset_hint,
                PointValue::Float(_) => panic!("histogram expected"),
            })
            .collect();
        assert_eq!(
            hints,
            vec![
                CounterResetHint::Unknown,
                CounterResetHint::NotCounterReset,
                CounterResetHint::CounterReset
            ]
        );
    }
}
