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
    /// Error and drop counters: +1 with the given probability per scrape.
    RareCounter(f64),
    /// Filesystem free space: moves by a few pages with the given probability.
    SlowGauge(f64),
    /// Scrape durations: a fresh random float every time (the worst case for XOR).
    Duration,
    /// Small integer gauges such as running processes.
    SmallInt,
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
    for dev in ["eth0", "lo"] {
        for name in [
            "receive_errs",
            "receive_drop",
            "transmit_errs",
            "transmit_drop",
        ] {
            let n = format!("node_network_{name}_total");
            series.push((l(&n, &[("device", dev)]), Kind::RareCounter(0.01), 0.0));
        }
    }
    for disk in ["sda", "sdb"] {
        for (name, rate) in [
            ("reads_completed", 5.0),
            ("writes_completed", 20.0),
            ("io_now", 0.0),
        ] {
            let n = format!("node_disk_{name}_total");
            let kind = if rate > 0.0 {
                Kind::ByteCounter(rate)
            } else {
                Kind::SmallInt
            };
            series.push((l(&n, &[("device", disk)]), kind, 0.0));
        }
    }
    for mp in ["/", "/boot", "/var", "/home"] {
        series.push((
            l("node_filesystem_avail_bytes", &[("mountpoint", mp)]),
            Kind::SlowGauge(0.1),
            5e10,
        ));
        series.push((
            l("node_filesystem_size_bytes", &[("mountpoint", mp)]),
            Kind::Constant,
            1e11,
        ));
        series.push((
            l("node_filesystem_files", &[("mountpoint", mp)]),
            Kind::Constant,
            6e6,
        ));
        series.push((
            l("node_filesystem_readonly", &[("mountpoint", mp)]),
            Kind::Constant,
            0.0,
        ));
    }
    for c in ["cpu", "diskstats", "filesystem", "meminfo", "netdev"] {
        series.push((
            l(
                "node_scrape_collector_duration_seconds",
                &[("collector", c)],
            ),
            Kind::Duration,
            0.0,
        ));
        series.push((
            l("node_scrape_collector_success", &[("collector", c)]),
            Kind::Constant,
            1.0,
        ));
    }
    series.push((l("node_procs_running", &[]), Kind::SmallInt, 2.0));
    series.push((
        l("node_context_switches_total", &[]),
        Kind::ByteCounter(3000.0),
        1e8,
    ));
    series.push((l("node_memory_MemTotal_bytes", &[]), Kind::Constant, 8e9));
    series.push((l("node_boot_time_seconds", &[]), Kind::Constant, 1.7e9));
    series.push((
        l("node_uname_info", &[("release", "6.1.0")]),
        Kind::Constant,
        1.0,
    ));
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
                Kind::RareCounter(p) => *v + if rng.unit() < *p { 1.0 } else { 0.0 },
                Kind::SlowGauge(p) => {
                    *v + if rng.unit() < *p {
                        4096.0 * (rng.next() % 64) as f64
                    } else {
                        0.0
                    }
                }
                Kind::Duration => 0.001 + 0.05 * rng.unit(),
                Kind::SmallInt => (rng.next() % 6) as f64,
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
/// `jitter`: share of scrapes whose timestamp is off the interval by 1-4 ms. Prometheus
/// (since 2.43) snaps timestamps within 2 ms of the interval, so most real scrapes are exact.
fn bytes_per_sample(compression: BlockCompression, jitter: f64) -> (u64, u64) {
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
            let off = if rng.unit() < jitter {
                1 + (rng.next() % 4) as i64
            } else {
                0
            };
            let t = i * SCRAPE_MS + off;
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
    for jitter in [0.1, 1.0] {
        for c in [BlockCompression::None, BlockCompression::Lz4] {
            let (bytes, samples) = bytes_per_sample(c, jitter);
            println!(
                "node_exporter-like block, jittered scrapes {:.0}%, compression {c:?}: \
                 {bytes} bytes / {samples} samples = {:.3} bytes/sample",
                jitter * 100.0,
                bytes as f64 / samples as f64
            );
        }
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
