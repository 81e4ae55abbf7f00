//! The behaviour every [`Queryable`] must show, as one check that each implementation runs
//! (the in-memory storage here, the tsdb adapter in the backends crate).

use super::{MatchOp, Matcher, Queryable};
use crate::value::histogram::{BucketSpan, FloatHistogram};
use crate::value::labels::Labels;
use crate::value::{Point, PointValue, stale_nan};

/// A series to load before checking: labels and samples in time order.
pub type SeriesData = (Labels, Vec<Point>);

/// Returns the data set the check loads.
fn data() -> Vec<SeriesData> {
    let ls = |pairs: &[(&str, &str)]| Labels::from_pairs(pairs.iter().copied());
    let f = |t: i64, v: f64| Point {
        t,
        value: PointValue::Float(v),
    };
    let h = FloatHistogram {
        count: 3.0,
        sum: 4.5,
        zero_threshold: 0.001,
        zero_count: 1.0,
        positive_spans: vec![BucketSpan {
            offset: 1,
            length: 2,
        }],
        positive_buckets: vec![1.0, 1.0],
        ..Default::default()
    };
    vec![
        (
            ls(&[("__name__", "up"), ("job", "api"), ("env", "prod")]),
            vec![f(0, 1.0), f(10_000, 0.0)],
        ),
        (
            ls(&[("__name__", "up"), ("job", "web")]),
            vec![f(5_000, 1.0), f(20_000, stale_nan())],
        ),
        (
            ls(&[("__name__", "up"), ("job", "api-canary")]),
            vec![f(30_000, 1.0)],
        ),
        (
            ls(&[("__name__", "latency"), ("job", "api")]),
            vec![Point {
                t: 10_000,
                value: PointValue::Histogram(h),
            }],
        ),
    ]
}

fn matcher(op: MatchOp, name: &str, value: &str) -> Result<Matcher, String> {
    Matcher::new(op, name, value).map_err(|e| e.to_string())
}

/// Selects and returns `(labels, points)` of every series.
fn select(
    q: &dyn Queryable,
    mint: i64,
    maxt: i64,
    matchers: &[Matcher],
) -> Result<Vec<SeriesData>, String> {
    let mut out = Vec::new();
    for s in q.select(mint, maxt, matchers).map_err(|e| e.to_string())? {
        let points = s
            .samples
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        out.push((s.labels, points));
    }
    Ok(out)
}

fn jobs(series: &[SeriesData]) -> Vec<String> {
    series
        .iter()
        .map(|(l, _)| l.get("job").unwrap_or("").to_owned())
        .collect()
}

fn expect<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

/// Loads a fixed data set through `make` and checks selection, matchers, time bounds, sample
/// fidelity and label queries; returns the first deviation.
pub fn check_queryable<Q: Queryable>(make: impl FnOnce(&[SeriesData]) -> Q) -> Result<(), String> {
    let data = data();
    let q = make(&data);
    let all = i64::MAX;
    let up = matcher(MatchOp::Equal, "__name__", "up")?;

    let got = select(&q, i64::MIN, all, std::slice::from_ref(&up))?;
    expect(
        "series sorted by labels",
        jobs(&got),
        vec!["api".into(), "api-canary".into(), "web".into()],
    )?;

    let re = matcher(MatchOp::Regex, "job", "api")?;
    let got = select(&q, i64::MIN, all, &[up.clone(), re])?;
    expect(
        "regex matchers are anchored",
        jobs(&got),
        vec!["api".to_owned()],
    )?;
    let not_re = matcher(MatchOp::NotRegex, "job", "api.*")?;
    let got = select(&q, i64::MIN, all, &[up.clone(), not_re])?;
    expect("negative regex", jobs(&got), vec!["web".to_owned()])?;
    let ne = matcher(MatchOp::NotEqual, "job", "web")?;
    let got = select(&q, i64::MIN, all, &[up.clone(), ne])?;
    expect(
        "not-equal",
        jobs(&got),
        vec!["api".into(), "api-canary".into()],
    )?;
    let absent = matcher(MatchOp::Equal, "env", "")?;
    let got = select(&q, i64::MIN, all, &[up.clone(), absent])?;
    expect(
        "empty value matches absent label",
        jobs(&got),
        vec!["api-canary".into(), "web".into()],
    )?;
    let present = matcher(MatchOp::NotEqual, "env", "")?;
    let got = select(&q, i64::MIN, all, &[present])?;
    expect(
        "not-empty requires the label",
        jobs(&got),
        vec!["api".to_owned()],
    )?;

    // Both bounds are inclusive; series without samples in the range are left out.
    let got = select(&q, 10_000, 20_000, std::slice::from_ref(&up))?;
    expect(
        "series within [10s, 20s]",
        jobs(&got),
        vec!["api".into(), "web".into()],
    )?;
    let times: Vec<Vec<i64>> = got
        .iter()
        .map(|(_, p)| p.iter().map(|p| p.t).collect())
        .collect();
    expect(
        "sample times within [10s, 20s]",
        times,
        vec![vec![10_000], vec![20_000]],
    )?;
    let stale = got
        .get(1)
        .and_then(|(_, p)| p.first())
        .is_some_and(|p| p.value.is_stale());
    expect("staleness marker kept bit for bit", stale, true)?;

    let lat = matcher(MatchOp::Equal, "__name__", "latency")?;
    let got = select(&q, 0, all, &[lat])?;
    let want = data
        .iter()
        .find(|(l, _)| l.metric_name() == Some("latency"))
        .map(|(_, p)| p);
    let same = match (
        got.first().map(|(_, p)| p.as_slice()),
        want.map(Vec::as_slice),
    ) {
        (
            Some(
                [
                    Point {
                        value: PointValue::Histogram(a),
                        ..
                    },
                ],
            ),
            Some(
                [
                    Point {
                        value: PointValue::Histogram(b),
                        ..
                    },
                ],
            ),
        ) => a.equals(b),
        _ => false,
    };
    expect("histogram round trip", same, true)?;

    let names = q
        .label_names(i64::MIN, all, &[])
        .map_err(|e| e.to_string())?;
    expect(
        "label names",
        names,
        vec!["__name__".into(), "env".into(), "job".into()],
    )?;
    let values = q
        .label_values("job", i64::MIN, all, std::slice::from_ref(&up))
        .map_err(|e| e.to_string())?;
    expect(
        "label values",
        values,
        vec!["api".into(), "api-canary".into(), "web".into()],
    )?;
    let values = q
        .label_values("job", 25_000, all, &[])
        .map_err(|e| e.to_string())?;
    expect(
        "label values within a time range",
        values,
        vec!["api-canary".to_owned()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStorage;

    #[test]
    fn memory_storage_conforms() {
        let r = check_queryable(|data| {
            let mut s = MemoryStorage::new();
            for (labels, points) in data {
                for p in points {
                    s.append(labels.clone(), p.t, p.value.clone());
                }
            }
            s
        });
        assert_eq!(r, Ok(()));
    }

    #[test]
    fn a_broken_storage_is_caught() {
        // Dropping the last sample of every series violates the inclusive upper bound.
        let r = check_queryable(|data| {
            let mut s = MemoryStorage::new();
            for (labels, points) in data {
                for p in &points[..points.len().saturating_sub(1).max(1)] {
                    s.append(labels.clone(), p.t, p.value.clone());
                }
            }
            s
        });
        assert!(r.is_err());
    }
}
