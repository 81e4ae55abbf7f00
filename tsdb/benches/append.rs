//! Append throughput and bytes per sample on synthetic node_exporter-like data.
//!
//! Run with `cargo bench -p ampd-tsdb --bench append`. Before the timed part it prints the
//! block size per sample with and without the LZ4 pass over chunk sections.

// A benchmark has nobody to report errors to; failing setup aborts the run.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use ampd_tsdb::{BlockCompression, Db, FsyncPolicy, IdentitySealer, Labels, Options, WalOptions};
use criterion::{Criterion, Throughput};

const SCRAPE_MS: i64 = 15_000;

/// A small deterministic generator so runs are comparable.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

enum Kind {
    /// CPU seconds: grows ~rate per second, two decimals.
    CpuCounter(f64),
    /// Byte counters: integer increments with bursts.
    ByteCounter(f64),
    /// Memory-style gauge: large integer jittering around a level.
    BytesGauge(f64),
    /// Load-style gauge: two decimals, random walk.
    SmallGauge,
    /// Mostly constant (e.g. filesystem size, up).
    Constant,
}

struct Node {
    series: Vec<(Labels, Kind, f64)>,
}

fn node(instance: usize) -> Node {
    let inst = format!("10.0.{}.{}:9100", instance / 250, instance % 250);
    let l = |name: &str, extra: &[(&str, &str)]| {
        let mut pairs = vec![
            ("__name__", name),
            ("instance", inst.as_str()),
            ("job", "node"),
        ];
        pairs.extend_from_slice(extra);
        Labels::from_pairs(pairs)
    };
    let mut series = Vec::new();
    for cpu in ["0", "1", "2", "3"] {
        for (mode, rate) in [
            ("user", 0.3),
            ("system", 0.1),
            ("idle", 0.55),
            ("iowait", 0.02),
        ] {
            series.push((
                l("node_cpu_seconds_total", &[("cpu", cpu), ("mode", mode)]),
                Kind::CpuCounter(rate),
                1000.0,
            ));
        }
    }
    for dev in ["eth0", "lo"] {
        series.push((
            l("node_network_receive_bytes_total", &[("device", dev)]),
            Kind::ByteCounter(20_000.0),
            1e9,
        ));
        series.push((
            l("node_network_transmit_bytes_total", &[("device", dev)]),
            Kind::ByteCounter(8_000.0),
            5e8,
        ));
    }
    series.push((
        l("node_memory_MemAvailable_bytes", &[]),
        Kind::BytesGauge(4e9),
        4e9,
    ));
    series.push((
        l("node_memory_Cached_bytes", &[]),
        Kind::BytesGauge(1e9),
        1e9,
    ));
    series.push((l("node_load1", &[]), Kind::SmallGauge, 0.5));
    series.push((l("node_load5", &[]), Kind::SmallGauge, 0.4));
    series.push((
        l("node_filesystem_size_bytes", &[("mountpoint", "/")]),
        Kind::Constant,
        1e11,
    ));
    series.push((l("up", &[]), Kind::Constant, 1.0));
    Node { series }
}

impl Node {
    fn step(&mut self, rng: &mut XorShift) {
        for (_, kind, v) in &mut self.series {
            *v = match kind {
                Kind::CpuCounter(rate) => {
                    ((*v + 15.0 * *rate * (0.8 + 0.4 * rng.unit())) * 100.0).round() / 100.0
                }
                Kind::ByteCounter(rate) => *v + (15.0 * *rate * rng.unit() * 2.0).round(),
                Kind::BytesGauge(level) => {
                    (*level * (0.95 + 0.1 * rng.unit()) / 4096.0).round() * 4096.0
                }
                Kind::SmallGauge => ((*v + (rng.unit() - 0.5) * 0.1).abs() * 100.0).round() / 100.0,
                Kind::Constant => *v,
            };
        }
    }
}

fn bench_opts(compression: BlockCompression) -> Options {
    Options {
        // Measure the engine, not the disk: fsync only on checkpoints and rotation.
        wal: WalOptions {
            fsync: FsyncPolicy::Batch {
                interval: Duration::from_secs(3600),
            },
            ..WalOptions::default()
        },
        compression,
        ..Options::default()
    }
}

/// Writes 4h of 20 nodes, cuts blocks and returns (bytes of chunks files, samples in blocks).
fn bytes_per_sample(compression: BlockCompression) -> (u64, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(
        dir.path(),
        Arc::new(IdentitySealer),
        bench_opts(compression),
    )
    .expect("open");
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut nodes: Vec<Node> = (0..20).map(node).collect();
    for i in 0..(4 * 3600 * 1000 / SCRAPE_MS) {
        let mut app = db.appender();
        for n in &mut nodes {
            n.step(&mut rng);
            // Real scrapes drift by a few milliseconds.
            let t = i * SCRAPE_MS + (rng.next() % 5) as i64;
            for (l, _, v) in &n.series {
                app.append(l, t, *v).expect("append");
            }
        }
        app.commit().expect("commit");
    }
    db.maintain(0).expect("maintain");
    let stats = db.stats();
    let bytes = stats.blocks.iter().map(|b| b.stats.chunks_bytes).sum();
    let samples = stats.blocks.iter().map(|b| b.stats.num_samples).sum();
    (bytes, samples)
}

fn report_sizes() {
    for c in [BlockCompression::None, BlockCompression::Lz4] {
        let (bytes, samples) = bytes_per_sample(c);
        println!(
            "node_exporter-like block, compression {c:?}: {bytes} bytes / {samples} samples = {:.3} bytes/sample",
            bytes as f64 / samples as f64
        );
    }
}

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(
        dir.path(),
        Arc::new(IdentitySealer),
        bench_opts(BlockCompression::None),
    )
    .expect("open");
    let mut rng = XorShift(7);
    let mut nodes: Vec<Node> = (0..40).map(node).collect();
    let per_scrape: usize = nodes.iter().map(|n| n.series.len()).sum();
    let mut t = 0;
    let mut g = c.benchmark_group("append");
    g.throughput(Throughput::Elements(per_scrape as u64));
    g.bench_function("scrape_of_40_nodes", |b| {
        b.iter(|| {
            t += SCRAPE_MS;
            let mut app = db.appender();
            for n in &mut nodes {
                n.step(&mut rng);
                for (l, _, v) in &n.series {
                    app.append(l, t, *v).expect("append");
                }
            }
            black_box(app.commit().expect("commit"));
        })
    });
    g.finish();
}

fn main() {
    report_sizes();
    let mut c = Criterion::default().configure_from_args();
    append(&mut c);
    c.final_summary();
}
