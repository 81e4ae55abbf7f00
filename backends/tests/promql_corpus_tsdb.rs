//! Runs Prometheus' PromQL acceptance scripts against the engine reading a real tsdb through
//! the local backend's adapter, so storage and adapter are held to the same corpus as the
//! engine over `MemoryStorage` (promql/tests/promqltest.rs).
//!
//! Every eval must pass unless `known-failures-tsdb.txt` lists it, and every listed eval must
//! still fail. `UPDATE_KNOWN_FAILURES=1` rewrites the list from the current results.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ampd_backends::TsdbQueryable;
use ampd_promql::{
    CounterResetHint, Engine, EngineOptions, FloatHistogram, KnownFailures, Labels, ParserOptions,
    PointValue, QueryError, Queryable, RunOptions, ScriptStorage, run_files,
};
use ampd_tsdb::{FsyncPolicy, IdentitySealer, Options, WalOptions};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/promql-testdata");
const BLOCK_RANGE_MS: i64 = 2 * 366 * 24 * 3600 * 1000;
const KNOWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/known-failures-tsdb.txt");

/// A script's series in a fresh tsdb; `clear` moves on to a new, empty tenant.
struct TsdbStorage {
    _dir: tempfile::TempDir,
    engine: ampd_tsdb::Engine,
    tenants: usize,
    db: Arc<ampd_tsdb::Db>,
    queryable: TsdbQueryable,
    pending: Vec<(Labels, i64, PointValue)>,
}

impl TsdbStorage {
    fn new() -> Result<Self, QueryError> {
        let dir = tempfile::tempdir()?;
        let options = Options {
            // Durability does not matter here and fsyncs would dominate the run time.
            wal: WalOptions {
                fsync: FsyncPolicy::Batch {
                    interval: Duration::from_secs(3600),
                },
                ..WalOptions::default()
            },
            // Later load blocks write earlier times than earlier ones; the head takes in-order
            // samples only within half a block range of its newest one, so the range must cover
            // every script's time span (the longest is under a year).
            block_range_ms: BLOCK_RANGE_MS,
            compaction_ranges_ms: vec![BLOCK_RANGE_MS],
            ..Options::default()
        };
        let engine = ampd_tsdb::Engine::new(dir.path(), options, Arc::new(IdentitySealer))?;
        let db = engine.tenant("script-0")?;
        Ok(Self {
            _dir: dir,
            queryable: TsdbQueryable::new(Some(db.clone())),
            engine,
            tenants: 1,
            db,
            pending: Vec::new(),
        })
    }
}

impl ScriptStorage for TsdbStorage {
    fn append(&mut self, labels: Labels, t: i64, value: PointValue) -> Result<(), QueryError> {
        self.pending.push((labels, t, value));
        Ok(())
    }

    fn commit(&mut self) -> Result<(), QueryError> {
        let mut app = self.db.appender();
        for (labels, t, value) in self.pending.drain(..) {
            let ls = ampd_tsdb::Labels::from_pairs(
                labels.iter().map(|l| (l.name.as_str(), l.value.as_str())),
            );
            match value {
                PointValue::Float(f) => app.append(&ls, t, f)?,
                PointValue::Histogram(h) => app.append_float_histogram(&ls, t, to_tsdb(&h))?,
            }
        }
        let outcome = app.commit()?;
        if outcome.rejected() > 0 {
            return Err(format!("the tsdb rejected samples: {outcome:?}").into());
        }
        Ok(())
    }

    fn clear(&mut self) -> Result<(), QueryError> {
        self.db = self.engine.tenant(&format!("script-{}", self.tenants))?;
        self.tenants += 1;
        self.queryable = TsdbQueryable::new(Some(self.db.clone()));
        Ok(())
    }

    fn queryable(&self) -> &dyn Queryable {
        &self.queryable
    }
}

fn to_tsdb(h: &FloatHistogram) -> ampd_tsdb::FloatHistogram {
    let spans = |s: &[ampd_promql::BucketSpan]| {
        s.iter()
            .map(|s| ampd_tsdb::Span {
                offset: s.offset,
                length: s.length,
            })
            .collect()
    };
    ampd_tsdb::FloatHistogram {
        counter_reset_hint: match h.counter_reset_hint {
            CounterResetHint::Unknown => ampd_tsdb::CounterResetHint::Unknown,
            CounterResetHint::CounterReset => ampd_tsdb::CounterResetHint::Reset,
            CounterResetHint::NotCounterReset => ampd_tsdb::CounterResetHint::NotReset,
            CounterResetHint::Gauge => ampd_tsdb::CounterResetHint::Gauge,
        },
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
fn prometheus_test_scripts_over_tsdb() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 20, "corpus not found at {CORPUS}");
    let engine = Engine::new(EngineOptions {
        parser: ParserOptions::all_enabled(),
        delayed_name_removal: true,
        ..EngineOptions::default()
    });
    let options = RunOptions {
        pin_at: Some(engine.pin_at_fn()),
        storage: Some(Arc::new(|| Box::new(TsdbStorage::new().unwrap()))),
        ..RunOptions::default()
    };
    let mut out = Vec::new();
    let (passed, failed) = run_files(&paths, &engine, &options, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    print!("{text}");
    println!("promqltest (tsdb): {passed} passed, {failed} failed");

    let known = KnownFailures::read(Path::new(KNOWN)).unwrap();
    if std::env::var_os("UPDATE_KNOWN_FAILURES").is_some() {
        let header = [
            "Evals of the Prometheus test scripts (shared/promql-testdata) the engine over the tsdb",
            "does not pass yet. One line per eval: <file>:<line> <reason>. The test fails if one passes.",
        ];
        std::fs::write(KNOWN, known.updated(&text, &header)).unwrap();
        return;
    }
    if let Err(e) = known.check(&text, "known-failures-tsdb.txt") {
        panic!("{e}");
    }
}
