//! Throughput of a typical dashboard query over many series held in memory.

use std::hint::black_box;

use ampd_promql::{Engine, EngineOptions, Labels, MemoryStorage, PointValue};
use criterion::{Criterion, criterion_group, criterion_main};

const SERIES: usize = 10_000;
const JOBS: usize = 10;
const INTERVAL_MS: i64 = 15_000;
const HOUR_MS: i64 = 3_600_000;

fn storage() -> MemoryStorage {
    let mut s = MemoryStorage::new();
    for i in 0..SERIES {
        let labels = Labels::from_pairs([
            ("__name__", "http_requests_total".to_owned()),
            ("job", format!("job-{}", i % JOBS)),
            ("instance", format!("host-{i}")),
        ]);
        let mut value = 0.0;
        let mut t = 0;
        while t <= HOUR_MS {
            value += (i % 7) as f64 + 1.0;
            s.append(labels.clone(), t, PointValue::Float(value));
            t += INTERVAL_MS;
        }
    }
    s
}

// A query that fails must abort the benchmark rather than time an error path.
#[allow(clippy::unwrap_used)]
fn bench(c: &mut Criterion) {
    let storage = storage();
    let engine = Engine::new(EngineOptions::default());
    let query = "sum by (job) (rate(http_requests_total[5m]))";
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    group.bench_function("instant sum by job of rate, 10k series", |b| {
        b.iter(|| black_box(engine.instant(&storage, query, HOUR_MS).unwrap()))
    });
    group.bench_function("range 1h step 60s sum by job of rate, 10k series", |b| {
        b.iter(|| black_box(engine.range(&storage, query, 0, HOUR_MS, 60_000).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
