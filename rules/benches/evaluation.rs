//! Evaluation lag: how long one round of 1,000 rules takes when every group is due at once.
//!
//! Run with `cargo bench -p ampd-rules --bench evaluation`; `AMPD_BENCH_SERIES` (default
//! 10000, the figure is 100000) and `AMPD_BENCH_RULES` (default 1000) size the
//! workload. The rules are split into groups of 10 (half recording, half alerting, each alert
//! firing once per job), each rule reading every series of one of 20 metric families over a 5m
//! range on the embedded local backend; one
//! measured iteration is the wall time from the round's start until the last group finished,
//! i.e. the worst-case lag of a group behind its schedule.

// A benchmark has nobody to report errors to; failing setup aborts the run.
#![allow(clippy::expect_used)]

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ampd_backends::{LocalBackend, LocalOptions, MetricsBackend, TenantId};
use ampd_remote_write::{Label, Sample, Series, WriteBatch};
use ampd_rules::{EngineSettings, ManualClock, RuleEngine};
use criterion::Criterion;
use time::OffsetDateTime;

const WS: &str = "ws-bench";
/// 2024-01-01T00:00:00Z.
const T0: i64 = 1_704_067_200_000;
const FAMILIES: usize = 20;
const MINUTES: i64 = 40;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn at(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).expect("time")
}

fn rule_file(rules: usize) -> Vec<u8> {
    let mut out = String::from("groups:\n");
    for g in 0..rules.div_ceil(10) {
        let _ = writeln!(out, "  - name: g{g}\n    interval: 1m\n    rules:");
        for r in 0..10.min(rules - g * 10) {
            let family = (g * 10 + r) % FAMILIES;
            if r % 2 == 0 {
                let _ = writeln!(
                    out,
                    "      - record: bench:m{family}:rate5m_{g}_{r}\n        expr: sum by (job) (rate(m{family}_total[5m]))"
                );
            } else {
                let _ = writeln!(
                    out,
                    "      - alert: High{g}_{r}\n        expr: max by (job) (rate(m{family}_total[5m])) > 1.15\n        annotations: {{summary: \"{{{{ $labels.job }}}} at {{{{ $value | humanize }}}}\"}}"
                );
            }
        }
    }
    out.into_bytes()
}

async fn load(metrics: &dyn MetricsBackend, series: usize) {
    let tenant = TenantId::new(WS);
    for chunk in (0..series).collect::<Vec<_>>().chunks(1000) {
        let batch = WriteBatch {
            series: chunk
                .iter()
                .map(|&i| Series {
                    labels: vec![
                        Label::new("__name__", format!("m{}_total", i % FAMILIES)),
                        Label::new("instance", format!("host-{}", i / FAMILIES)),
                        Label::new("job", format!("job-{}", i % 7)),
                    ],
                    samples: (0..=MINUTES)
                        .map(|m| Sample {
                            timestamp: T0 + m * 60_000,
                            #[allow(clippy::cast_precision_loss)]
                            value: (m * 60) as f64 * (1.0 + (i % 3) as f64 * 0.1),
                        })
                        .collect(),
                    ..Series::default()
                })
                .collect(),
            metadata: Vec::new(),
        };
        metrics.write(&tenant, batch).await.expect("write");
    }
}

fn bench(c: &mut Criterion) {
    let series = env("AMPD_BENCH_SERIES", 10_000);
    let rules = env("AMPD_BENCH_RULES", 1000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let metrics: Arc<dyn MetricsBackend> = Arc::new(
        LocalBackend::new(
            &dir.path().join("tsdb"),
            LocalOptions::default(),
            Arc::new(ampd_tsdb::IdentitySealer),
        )
        .expect("backend"),
    );
    rt.block_on(load(&*metrics, series));
    let file = rule_file(rules);
    let mut group = c.benchmark_group("evaluation");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function(format!("{rules} rules over {series} series"), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    // A fresh engine per round, so every group is due at the same instant.
                    let clock = Arc::new(ManualClock::new(at(T0)));
                    let engine = Arc::new(RuleEngine::new(
                        metrics.clone(),
                        clock.clone(),
                        EngineSettings {
                            alertmanager_dir: dir.path().join("am"),
                            ..EngineSettings::default()
                        },
                    ));
                    assert!(
                        engine
                            .sync_rules(WS, &[("bench".into(), file.clone())])
                            .is_empty()
                    );
                    drop(engine.tick());
                    clock.set(at(T0 + (MINUTES - 5) * 60_000));
                    let started = Instant::now();
                    for h in engine.tick() {
                        h.await.expect("evaluation task");
                    }
                    total += started.elapsed();
                }
                total
            })
        });
    });
    group.finish();
}

criterion::criterion_group!(benches, bench);
criterion::criterion_main!(benches);
