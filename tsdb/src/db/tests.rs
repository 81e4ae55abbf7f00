use std::sync::Arc;

use super::*;
use crate::error::SealError;
use crate::matcher::MatchType;
use crate::model::{CounterResetHint, MetricType, Span, is_stale_nan, stale_nan};
use crate::seal::{IdentitySealer, Sealer, TestSealer};

const MIN: i64 = 60_000;

fn opts() -> Options {
    Options {
        out_of_order_window_ms: 0,
        ..Options::default()
    }
}

fn open(dir: &Path, o: Options) -> Db {
    Db::open(dir, Arc::new(IdentitySealer), o).unwrap()
}

fn labels(name: &str, inst: &str) -> Labels {
    Labels::from_pairs([("__name__", name), ("instance", inst), ("job", "node")])
}

fn eq(name: &str, v: &str) -> Matcher {
    Matcher::new(MatchType::Equal, name, v).unwrap()
}

fn dump(db: &Db, ms: &[Matcher], mint: i64, maxt: i64) -> Vec<(Labels, Vec<(i64, Value)>)> {
    db.select(ms, mint, maxt)
        .unwrap()
        .series
        .iter()
        .map(|s| {
            (
                s.labels().clone(),
                s.samples().map(|r| r.unwrap()).collect(),
            )
        })
        .collect()
}

fn histogram(i: u64) -> Histogram {
    Histogram {
        counter_reset_hint: CounterResetHint::NotReset,
        schema: 3,
        zero_threshold: 1e-128,
        zero_count: i,
        count: 3 * i,
        sum: 1.5 * i as f64,
        positive_spans: vec![Span {
            offset: 0,
            length: 2,
        }],
        positive_deltas: vec![i as i64, 0],
        ..Histogram::default()
    }
}

#[test]
fn acknowledged_data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), opts());
    let up = labels("up", "a");
    let h = labels("lat", "a");
    let mut app = db.appender();
    for i in 0..300 {
        app.append(&up, i * 15_000, i as f64).unwrap();
        app.append_histogram(&h, i * 15_000, histogram(i as u64))
            .unwrap();
    }
    app.append(&up, 300 * 15_000, stale_nan()).unwrap();
    app.append_exemplar(
        &up,
        Exemplar {
            labels: Labels::from_pairs([("trace_id", "t1")]),
            value: 2.0,
            t: 10,
        },
    )
    .unwrap();
    app.update_metadata(
        "up",
        MetricMetadata {
            metric_type: MetricType::Gauge,
            help: "Up.".into(),
            unit: String::new(),
        },
    );
    let out = app.commit().unwrap();
    assert_eq!(
        (out.samples, out.histograms, out.exemplars, out.metadata),
        (301, 300, 1, 1)
    );
    let before = dump(&db, &[eq("job", "node")], i64::MIN, i64::MAX);
    drop(db);

    let db = open(dir.path(), opts());
    let after = dump(&db, &[eq("job", "node")], i64::MIN, i64::MAX);
    assert_eq!(format!("{before:?}"), format!("{after:?}"));
    let (_, ups) = &after[1];
    assert_eq!(ups.len(), 301);
    assert!(matches!(ups[300].1, Value::Float(v) if is_stale_nan(v)));
    assert_eq!(after[0].1[7].1, Value::Histogram(Arc::new(histogram(7))));
    assert_eq!(
        db.exemplars(&[eq("__name__", "up")], 0, 100).unwrap()[0]
            .1
            .len(),
        1
    );
    assert_eq!(
        db.metadata(Some("up")).unwrap()["up"].metric_type,
        MetricType::Gauge
    );
}

#[test]
fn rejections_are_classified_like_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), opts());
    let s = labels("x", "a");
    let mut app = db.appender();
    app.append(&s, 10 * MIN, 1.0).unwrap();
    app.commit().unwrap();

    let mut app = db.appender();
    app.append(&s, 9 * MIN, 1.0).unwrap(); // out of order (window 0)
    app.append(&s, 10 * MIN, 2.0).unwrap(); // duplicate timestamp, other value
    app.append(&s, 10 * MIN, 1.0).unwrap(); // exact duplicate: accepted, not stored
    app.append(&s, 11 * MIN, 3.0).unwrap();
    let out = app.commit().unwrap();
    assert_eq!((out.out_of_order, out.duplicate, out.samples), (1, 1, 1));

    db.set_out_of_order_window(2 * MIN);
    let mut app = db.appender();
    app.append(&s, 10 * MIN + 30_000, 4.0).unwrap(); // inside the window
    app.append(&s, 8 * MIN, 5.0).unwrap(); // beyond the window
    app.append(&s, 10 * MIN + 30_000, 6.0).unwrap(); // duplicate of the first in-batch
    let out = app.commit().unwrap();
    assert_eq!((out.samples, out.too_old, out.duplicate), (1, 1, 1));
    let got: Vec<i64> = dump(&db, &[eq("__name__", "x")], 0, i64::MAX)[0]
        .1
        .iter()
        .map(|s| s.0)
        .collect();
    assert_eq!(got, vec![10 * MIN, 10 * MIN + 30_000, 11 * MIN]);

    // all-or-nothing leaves no trace of a batch with one bad sample.
    let mut app = db.appender().all_or_nothing(true);
    app.append(&s, 12 * MIN, 7.0).unwrap();
    app.append(&labels("new", "a"), 12 * MIN, 1.0).unwrap();
    app.append(&s, MIN, 8.0).unwrap();
    let out = app.commit().unwrap();
    assert!(!out.applied);
    assert_eq!(out.too_old, 1);
    assert!(
        db.series(&[eq("__name__", "new")], 0, i64::MAX)
            .unwrap()
            .is_empty()
    );
    assert_eq!(dump(&db, &[eq("__name__", "x")], 0, i64::MAX)[0].1.len(), 3);

    // Samples below a cut block are out of bounds.
    let mut app = db.appender();
    for i in 0..(4 * 60) {
        app.append(&s, 12 * MIN + i * MIN, 1.0).unwrap();
    }
    app.commit().unwrap();
    assert_eq!(db.maintain(0).unwrap().blocks_cut, 1);
    let mut app = db.appender();
    app.append(&labels("fresh", "a"), 30 * MIN, 1.0).unwrap();
    let out = app.commit().unwrap();
    assert_eq!(out.out_of_bounds, 1);
    assert!(db.appender().append(&Labels::default(), 0, 1.0).is_err());
}

#[test]
fn queries_span_head_and_blocks_then_compaction_and_retention() {
    let dir = tempfile::tempdir().unwrap();
    let o = Options {
        out_of_order_window_ms: 10 * MIN,
        wal: crate::WalOptions {
            fsync: crate::FsyncPolicy::Batch {
                interval: std::time::Duration::from_secs(3600),
            },
            ..crate::WalOptions::default()
        },
        ..Options::default()
    };
    let db = open(dir.path(), o.clone());
    let step = 30_000;
    let end = 20 * 60 * MIN; // 20 hours
    let mut t = 0;
    while t < end {
        let mut app = db.appender();
        for inst in ["a", "b", "c"] {
            app.append(&labels("cpu", inst), t, (t / step) as f64)
                .unwrap();
        }
        app.append(&labels("mem", "a"), t, 1.0).unwrap();
        app.commit().unwrap();
        t += step;
    }
    // One out-of-order sample into the open head range.
    let mut app = db.appender();
    app.append(&labels("cpu", "a"), end - 5 * MIN + 1, -1.0)
        .unwrap();
    assert_eq!(app.commit().unwrap().samples, 1);

    let r = db.maintain(0).unwrap();
    assert!(r.blocks_cut >= 8, "{r:?}");
    assert!(r.compactions >= 2, "{r:?}");
    let stats = db.stats();
    assert!(stats.blocks.iter().any(|b| b.level >= 2));
    assert!(
        stats
            .blocks
            .windows(2)
            .all(|w| w[0].max_time <= w[1].min_time)
    );

    let ms = [
        eq("__name__", "cpu"),
        Matcher::new(MatchType::RegexMatch, "instance", "a|b").unwrap(),
    ];
    let all = dump(&db, &ms, 0, end);
    assert_eq!(all.len(), 2);
    let a = &all[0].1;
    assert_eq!(a.len() as i64, end / step + 1);
    assert!(a.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(
        a.iter()
            .filter(|(t, _)| t % step == 0)
            .all(|(t, v)| *v == Value::Float((t / step) as f64))
    );

    // A narrow range touches only the chunks it overlaps.
    let set = db
        .select(&ms, 3 * 60 * MIN, 3 * 60 * MIN + 10 * MIN)
        .unwrap();
    let n: usize = set.series.iter().map(|s| s.samples().count()).sum();
    assert_eq!(n, 2 * 21);
    assert_eq!(set.stats.samples(), 42);
    assert!(set.stats.chunks() <= 4, "{}", set.stats.chunks());

    assert_eq!(
        db.label_names(&[], 0, end).unwrap(),
        vec!["__name__", "instance", "job"]
    );
    assert_eq!(
        db.label_values("instance", &[eq("__name__", "mem")], 0, end)
            .unwrap(),
        vec!["a"]
    );
    assert_eq!(
        db.label_values("__name__", &[], 0, end).unwrap(),
        vec!["cpu", "mem"]
    );

    // Everything survives a reopen (blocks + checkpoint + WAL tail), without duplicates.
    drop(db);
    let db = open(dir.path(), o);
    assert_eq!(dump(&db, &ms, 0, end), all);

    // Retention drops whole blocks only: the 0-18h block goes once its end is out of reach.
    db.set_retention(2 * 60 * MIN + 1);
    assert_eq!(db.maintain(end).unwrap().blocks_deleted, 0);
    db.set_retention(2 * 60 * MIN);
    assert_eq!(db.maintain(end).unwrap().blocks_deleted, 1);
    assert!(db.stats().blocks.is_empty());
    let left = dump(&db, &ms, 0, end);
    assert_eq!(left[0].1[0].0, 18 * 60 * MIN);
}

#[test]
fn wrong_key_fails_to_open_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Arc::new(TestSealer(7)), opts()).unwrap();
    let mut app = db.appender();
    for i in 0..(4 * 60) {
        app.append(&labels("up", "a"), i * MIN, 1.0).unwrap();
    }
    app.commit().unwrap();
    db.maintain(0).unwrap();
    drop(db);
    let err = Db::open(dir.path(), Arc::new(TestSealer(8)), opts()).unwrap_err();
    assert!(matches!(err, Error::Sealing { .. }), "{err}");
    assert!(Db::open(dir.path(), Arc::new(TestSealer(7)), opts()).is_ok());
}

/// A sealer whose key can be revoked, as the key management layer does when a key is disabled.
#[derive(Debug)]
struct Revocable(std::sync::atomic::AtomicBool);

impl Sealer for Revocable {
    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        if self.0.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(SealError::KeyUnavailable("key disabled".into()));
        }
        TestSealer(5).seal(aad, plaintext)
    }

    fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        TestSealer(5).open(aad, sealed)
    }
}

#[test]
fn a_revoked_key_refuses_commits_and_cuts_without_losing_data() {
    let dir = tempfile::tempdir().unwrap();
    let sealer = Arc::new(Revocable(std::sync::atomic::AtomicBool::new(false)));
    let db = Db::open(dir.path(), sealer.clone(), opts()).unwrap();
    let mut app = db.appender();
    for i in 0..(4 * 60) {
        app.append(&labels("up", "a"), i * MIN, 1.0).unwrap();
    }
    app.commit().unwrap();
    sealer.0.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut app = db.appender();
    app.append(&labels("up", "b"), 4 * 60 * MIN, 2.0).unwrap();
    let err = app.commit().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Sealing {
                source: SealError::KeyUnavailable(_),
                ..
            }
        ),
        "{err}"
    );
    assert!(db.maintain(0).is_err());
    assert!(dump(&db, &[eq("instance", "b")], 0, 5 * 60 * MIN).is_empty());
    sealer.0.store(false, std::sync::atomic::Ordering::SeqCst);
    db.maintain(0).unwrap();
    drop(db);
    let db = Db::open(dir.path(), sealer, opts()).unwrap();
    let got = dump(&db, &[eq("instance", "a")], 0, 4 * 60 * MIN);
    assert_eq!(got[0].1.len(), 4 * 60);
}

#[test]
fn deleted_ranges_stay_deleted_across_reopen_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), opts());
    let hour = 60 * MIN;
    let mut app = db.appender();
    for i in 0..(6 * 60) {
        app.append(&labels("up", "a"), i * MIN, 1.0).unwrap();
        app.append(&labels("up", "b"), i * MIN, 2.0).unwrap();
    }
    app.commit().unwrap();
    assert_eq!(db.maintain(0).unwrap().blocks_cut, 2);
    let ms = [eq("instance", "a")];
    assert_eq!(db.delete_series(&ms, hour, 5 * hour).unwrap(), 1);
    let check = |db: &Db| {
        let got = dump(db, &[eq("__name__", "up")], 0, 6 * hour);
        let a: Vec<i64> = got[0].1.iter().map(|s| s.0).collect();
        assert_eq!(a.len(), 60 + 59);
        assert!(a.iter().all(|t| *t < hour || *t > 5 * hour));
        assert_eq!(got[1].1.len(), 360);
    };
    check(&db);
    // A series deleted over its whole range disappears from listings.
    let c = [eq("instance", "c")];
    let mut app = db.appender();
    app.append(&labels("up", "c"), 5 * hour, 1.0).unwrap();
    app.commit().unwrap();
    assert_eq!(db.delete_series(&c, 0, 6 * hour).unwrap(), 1);
    assert!(db.series(&c, 0, 6 * hour).unwrap().is_empty());
    assert!(db.select(&c, 0, 6 * hour).unwrap().series.is_empty());
    drop(db);
    let db = open(dir.path(), opts());
    check(&db);
    assert!(db.series(&c, 0, 6 * hour).unwrap().is_empty());
    let blocks = read(&db.blocks).clone();
    db.compact(&blocks).unwrap();
    let blocks = read(&db.blocks).clone();
    assert_eq!(blocks.len(), 1);
    assert!(blocks[0].tombstones(0).is_empty());
    check(&db);
}

#[test]
fn concurrent_appenders_and_readers_see_consistent_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(open(dir.path(), opts()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || {
                let l = labels("up", &w.to_string());
                for i in 0..100 {
                    let mut app = db.appender();
                    app.append(&l, i * 1000, i as f64).unwrap();
                    assert_eq!(app.commit().unwrap().samples, 1);
                    // Readers never see a series out of order or with gaps.
                    let got = dump(&db, &[eq("instance", &w.to_string())], 0, i64::MAX);
                    assert_eq!(got[0].1.len() as i64, i + 1);
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    drop(Arc::try_unwrap(db).unwrap());
    let db = open(dir.path(), opts());
    assert_eq!(
        db.series(&[eq("__name__", "up")], 0, i64::MAX)
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn histograms_and_stale_markers_round_trip_through_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), opts());
    let h = labels("lat", "a");
    let f = labels("rate", "a");
    let mut app = db.appender();
    for i in 0..(4 * 60) {
        let t = i * MIN;
        if i % 2 == 0 {
            app.append_histogram(&h, t, histogram(i as u64)).unwrap();
        } else {
            let fh = FloatHistogram {
                count: i as f64,
                sum: 0.5,
                ..FloatHistogram::default()
            };
            app.append_float_histogram(&h, t, fh).unwrap();
        }
        app.append(&f, t, if i == 100 { stale_nan() } else { i as f64 })
            .unwrap();
    }
    app.commit().unwrap();
    let before = dump(&db, &[eq("instance", "a")], 0, i64::MAX);
    assert_eq!(db.maintain(0).unwrap().blocks_cut, 1);
    assert_eq!(db.stats().blocks[0].stats.num_samples, 2 * 120);
    let after = dump(&db, &[eq("instance", "a")], 0, i64::MAX);
    assert_eq!(format!("{before:?}"), format!("{after:?}"));
    assert!(matches!(after[1].1[100].1, Value::Float(v) if is_stale_nan(v)));
}

#[test]
fn idle_heads_are_cut_so_retention_applies() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), opts());
    let hour = 60 * MIN;
    let mut app = db.appender();
    for i in 0..60 {
        app.append(&labels("up", "a"), i * MIN, 1.0).unwrap();
    }
    app.commit().unwrap();
    // The newest sample is 59 min; idle means more than two block ranges (4h) behind now.
    assert_eq!(db.maintain(4 * hour).unwrap().blocks_cut, 0);
    assert_eq!(db.maintain(5 * hour).unwrap().blocks_cut, 1);
    assert_eq!(db.stats().head_series, 0);
    db.set_retention(2 * hour);
    assert_eq!(db.maintain(5 * hour).unwrap().blocks_deleted, 1);
    assert!(
        db.select(&[eq("__name__", "up")], 0, i64::MAX)
            .unwrap()
            .series
            .is_empty()
    );
}

#[test]
fn series_caps_refuse_new_series_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), opts());
    let team = |name: &str, t: &str| Labels::from_pairs([("__name__", name), ("team", t)]);
    db.set_series_limits(SeriesLimits {
        max_series: Some(3),
        per_label_set: vec![crate::LabelSetLimit {
            labels: Labels::from_pairs([("team", "a")]),
            max_series: 1,
        }],
    });
    let mut app = db.appender();
    app.append(&team("x", "a"), MIN, 1.0).unwrap();
    app.append(&team("y", "a"), MIN, 1.0).unwrap(); // second of team a: over its cap
    app.append(&team("x", "b"), MIN, 1.0).unwrap();
    app.append(&team("y", "b"), MIN, 1.0).unwrap();
    let out = app.commit().unwrap();
    assert_eq!((out.samples, out.series_limited), (3, 1), "{out:?}");
    assert_eq!(
        out.limit_hit.unwrap().to_string(),
        r#"active series limit of 1 exceeded for label set {team="a"}"#
    );

    let mut app = db.appender();
    app.append(&team("z", "b"), 2 * MIN, 1.0).unwrap(); // fourth series: over the total
    app.append(&team("x", "a"), 2 * MIN, 2.0).unwrap(); // known series always pass
    let out = app.commit().unwrap();
    assert_eq!((out.samples, out.series_limited), (1, 1), "{out:?}");
    assert_eq!(out.limit_hit, Some(LimitHit::Series(3)));

    db.set_series_limits(SeriesLimits::default());
    let mut app = db.appender();
    app.append(&team("z", "b"), 3 * MIN, 1.0).unwrap();
    let out = app.commit().unwrap();
    assert_eq!((out.samples, out.series_limited), (1, 0), "{out:?}");
}

#[test]
fn backfill_hours_behind_now_is_not_cut_as_idle() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), opts());
    let hour = 60 * MIN;
    let now = 48 * hour;
    // A sender writes a day of history in time order while maintenance runs at "now".
    for i in 0..(24 * 60) {
        let mut app = db.appender();
        app.append(&labels("up", "a"), i * MIN, 1.0).unwrap();
        let out = app.commit().unwrap();
        assert_eq!((out.samples, out.rejected()), (1, 0), "minute {i}: {out:?}");
        if i % 30 == 0 {
            db.maintain(now).unwrap();
        }
    }
    let stored = dump(&db, &[eq("__name__", "up")], 0, i64::MAX);
    assert_eq!(stored[0].1.len(), 24 * 60);
    // Once the sender stops, the head is idle and cut entirely.
    db.maintain(now).unwrap();
    db.maintain(now).unwrap();
    assert_eq!(db.stats().head_series, 0);
}
