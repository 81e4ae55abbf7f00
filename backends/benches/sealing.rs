//! Ingestion and query with sealing off (plaintext) and on (AES-256-GCM with a workspace data
//! key, as `ampd serve` stores tenants), on the same load.
//!
//! Run with `cargo bench -p ampd-backends --bench sealing`. Each group has an `identity` and a
//! `sealed` case; compare their times for the cost of encryption at rest.
//!
//! - `ingest`: one commit of a scrape of 400 series (one sealed WAL record).
//! - `flush`: 2h of those series cut into a block (sealed chunk and index sections).
//! - `query`: every sample of 4h of those series read back from two blocks.

// A benchmark has nobody to report errors to; failing setup aborts the run.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use ampd_backends::TenantKeys;
use ampd_kms::{
    EncryptionContext, KmsConfig, KmsService, MemoryKeyRepository, RootKey, SystemClock,
    WORKSPACE_CONTEXT_KEY,
};
use ampd_tsdb::{
    Db, FsyncPolicy, IdentitySealer, Labels, MatchType, Matcher, Options, SealerProvider,
    WalOptions,
};
use criterion::{BatchSize, Criterion, Throughput};

const TENANT: &str = "ws-bench";
const SCRAPE_MS: i64 = 15_000;
const SERIES: usize = 400;
const HOUR_SCRAPES: i64 = 3600 * 1000 / SCRAPE_MS;

fn options() -> Options {
    Options {
        // Measure the engine and the cipher, not the disk.
        wal: WalOptions {
            fsync: FsyncPolicy::Batch {
                interval: Duration::from_secs(3600),
            },
            ..WalOptions::default()
        },
        ..Options::default()
    }
}

/// The two ways a tenant is stored.
fn providers() -> Vec<(&'static str, Arc<dyn SealerProvider>)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let key = runtime.block_on(async {
        let kms = KmsService::new(
            KmsConfig::default(),
            RootKey::generate().expect("root key"),
            Arc::new(MemoryKeyRepository::new()),
            Arc::new(SystemClock),
        );
        let managed = kms
            .default_workspace_key("111122223333")
            .await
            .expect("managed key");
        let context = EncryptionContext::from([(
            WORKSPACE_CONTEXT_KEY.to_owned(),
            format!("arn:aws:aps:us-east-1:111122223333:workspace/{TENANT}"),
        )]);
        kms.create_data_key("111122223333", &managed.arn, &context)
            .await
            .expect("data key")
            .0
    });
    let sealed = TenantKeys::new();
    sealed.install(TENANT, key);
    vec![
        ("identity", Arc::new(IdentitySealer)),
        ("sealed", Arc::new(sealed)),
    ]
}

fn series() -> Vec<Labels> {
    (0..SERIES)
        .map(|i| {
            let instance = format!("10.0.{}.{}:9100", i / 40, i % 40);
            let cpu = (i % 8).to_string();
            Labels::from_pairs([
                ("__name__", "node_cpu_seconds_total"),
                ("cpu", cpu.as_str()),
                ("instance", instance.as_str()),
                ("job", "node"),
                ("mode", "user"),
            ])
        })
        .collect()
}

fn open(dir: &std::path::Path, provider: &Arc<dyn SealerProvider>) -> Db {
    let sealer = provider.sealer_for(TENANT).expect("sealer");
    Db::open(dir, sealer, options()).expect("open")
}

/// Appends scrapes `from..to` of every series, one commit per scrape.
fn fill(db: &Db, labels: &[Labels], from: i64, to: i64) {
    for i in from..to {
        let mut app = db.appender();
        for (n, l) in labels.iter().enumerate() {
            app.append(l, i * SCRAPE_MS, (i as f64) * 0.25 + n as f64)
                .expect("append");
        }
        app.commit().expect("commit");
    }
}

fn ingest(c: &mut Criterion, providers: &[(&'static str, Arc<dyn SealerProvider>)]) {
    let labels = series();
    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Elements(SERIES as u64));
    for (name, provider) in providers {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = open(dir.path(), provider);
        let mut i = 0;
        g.bench_function(*name, |b| {
            b.iter(|| {
                i += 1;
                fill(&db, &labels, i, i + 1);
            })
        });
    }
    g.finish();
}

fn flush(c: &mut Criterion, providers: &[(&'static str, Arc<dyn SealerProvider>)]) {
    let labels = series();
    let mut g = c.benchmark_group("flush");
    g.sample_size(10);
    g.throughput(Throughput::Elements(
        (SERIES as i64 * 2 * HOUR_SCRAPES) as u64,
    ));
    for (name, provider) in providers {
        g.bench_function(*name, |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let db = open(dir.path(), provider);
                    fill(&db, &labels, 0, 2 * HOUR_SCRAPES);
                    (dir, db)
                },
                |(dir, db)| {
                    // Idle for longer than two block ranges: the whole head is cut.
                    let report = db.maintain(12 * 3600 * 1000).expect("maintain");
                    black_box(report);
                    (dir, db)
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn query(c: &mut Criterion, providers: &[(&'static str, Arc<dyn SealerProvider>)]) {
    let labels = series();
    let total = SERIES as i64 * 4 * HOUR_SCRAPES;
    let mut g = c.benchmark_group("query");
    g.sample_size(20);
    g.throughput(Throughput::Elements(total as u64));
    let all = [Matcher::new(MatchType::Equal, "job", "node").expect("matcher")];
    for (name, provider) in providers {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = open(dir.path(), provider);
        fill(&db, &labels, 0, 4 * HOUR_SCRAPES);
        db.maintain(12 * 3600 * 1000).expect("maintain");
        drop(db);
        // Reopened, so every sample comes from block files through the sealer.
        let db = open(dir.path(), provider);
        g.bench_function(*name, |b| {
            b.iter(|| {
                let set = db.select(&all, 0, 4 * 3600 * 1000).expect("select");
                let mut n = 0i64;
                for s in &set.series {
                    for sample in s.samples() {
                        black_box(sample.expect("sample"));
                        n += 1;
                    }
                }
                assert_eq!(n, total);
            })
        });
    }
    g.finish();
}

fn main() {
    let providers = providers();
    let mut c = Criterion::default().configure_from_args();
    ingest(&mut c, &providers);
    flush(&mut c, &providers);
    query(&mut c, &providers);
    c.final_summary();
}
