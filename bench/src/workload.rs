//! Synthetic node_exporter-like series: counters that only go up, gauges that jitter around a
//! level and one classic histogram per host, with `_bucket{le=…}`, `_sum` and `_count` kept
//! consistent with each other.

use std::time::Duration;

use ampd_remote_write::{Label, MetricKind, MetricMetadata};

/// Upper bounds of the classic histogram's buckets (the last is `+Inf`).
const BUCKETS: [f64; 12] = [
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    f64::INFINITY,
];
const CPU_MODES: [(&str, f64); 4] = [
    ("idle", 0.7),
    ("user", 0.15),
    ("system", 0.08),
    ("iowait", 0.02),
];
const CPUS: usize = 4;
const NET_DEVICES: [&str; 2] = ["eth0", "lo"];
const DISKS: [&str; 2] = ["sda", "sdb"];
const MOUNTS: [(&str, &str); 2] = [("/dev/sda1", "/"), ("/dev/sdb1", "/var")];

/// Series each host contributes to a [`Workload`].
pub const SERIES_PER_HOST: usize = CPUS * CPU_MODES.len()
    + 2 * NET_DEVICES.len()
    + 2 * DISKS.len()
    + 5
    + MOUNTS.len()
    + BUCKETS.len()
    + 2;

/// How a series' value moves from one scrape to the next.
#[derive(Clone, Copy, Debug)]
enum Source {
    /// Grows by about `rate` per second.
    Counter { rate: f64 },
    /// Jitters uniformly within `base ± amplitude`, never below zero.
    Gauge { base: f64, amplitude: f64 },
    /// Never changes.
    Constant,
    /// Cumulative count of the host histogram's bucket `index`.
    Bucket { index: usize },
    /// The host histogram's sum.
    Sum,
    /// The host histogram's count.
    Count,
}

#[derive(Clone, Debug)]
struct SeriesDef {
    labels: Vec<Label>,
    source: Source,
    value: f64,
}

#[derive(Clone, Debug, Default)]
struct HostHistogram {
    cumulative: [f64; BUCKETS.len()],
    sum: f64,
}

/// The series of a set of hosts and their current values.
#[derive(Debug)]
pub struct Workload {
    series: Vec<(usize, SeriesDef)>,
    histograms: Vec<HostHistogram>,
    rng: fastrand::Rng,
}

impl Workload {
    /// Builds the series of the given hosts, keeping only the first `total_series` of the whole
    /// fleet (host `h` owns global series `h * SERIES_PER_HOST ..`).
    pub fn new(hosts: impl IntoIterator<Item = usize>, total_series: usize, seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut series = Vec::new();
        let mut histograms = Vec::new();
        for host in hosts {
            let first = host.saturating_mul(SERIES_PER_HOST);
            let keep = total_series.saturating_sub(first).min(SERIES_PER_HOST);
            if keep == 0 {
                continue;
            }
            let slot = histograms.len();
            histograms.push(HostHistogram::default());
            for mut def in host_series(host, &mut rng).into_iter().take(keep) {
                if let Source::Counter { rate } = def.source {
                    // Counters start as if the host had been up for a while.
                    def.value = (rate * rng.f64() * 1e5).floor();
                }
                series.push((slot, def));
            }
        }
        Self {
            series,
            histograms,
            rng,
        }
    }

    /// Returns the number of series.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Returns true when the workload has no series.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Moves every value forward by one scrape interval.
    pub fn advance(&mut self, interval: Duration) {
        let seconds = interval.as_secs_f64();
        for histogram in &mut self.histograms {
            for _ in 0..self.rng.usize(0..=20) {
                // Exponentially distributed latency around 100 ms.
                let observed = -(1.0 - self.rng.f64()).ln() * 0.1;
                histogram.sum += observed;
                for (bound, count) in BUCKETS.iter().zip(histogram.cumulative.iter_mut()) {
                    if observed <= *bound {
                        *count += 1.0;
                    }
                }
            }
        }
        for (slot, def) in &mut self.series {
            let histogram = &self.histograms[*slot];
            def.value = match def.source {
                Source::Counter { rate } => {
                    def.value + (rate * seconds * (0.5 + self.rng.f64())).round().max(0.0)
                }
                Source::Gauge { base, amplitude } => {
                    (base + amplitude * (2.0 * self.rng.f64() - 1.0)).max(0.0)
                }
                Source::Constant => def.value,
                Source::Bucket { index } => histogram.cumulative[index],
                Source::Sum => histogram.sum,
                Source::Count => histogram.cumulative[BUCKETS.len() - 1],
            };
        }
    }

    /// Returns each series' labels and current value.
    pub fn samples(&self) -> impl Iterator<Item = (&[Label], f64)> {
        self.series
            .iter()
            .map(|(_, def)| (def.labels.as_slice(), def.value))
    }
}

/// Returns the metadata of every family the workload sends.
pub fn families() -> Vec<MetricMetadata> {
    let family = |name: &str, kind, help: &str, unit: &str| MetricMetadata {
        metric_family_name: name.to_owned(),
        kind,
        help: help.to_owned(),
        unit: unit.to_owned(),
    };
    vec![
        family(
            "node_cpu_seconds_total",
            MetricKind::Counter,
            "Seconds the CPUs spent in each mode.",
            "seconds",
        ),
        family(
            "node_network_receive_bytes_total",
            MetricKind::Counter,
            "Network device statistic receive_bytes.",
            "bytes",
        ),
        family(
            "node_network_transmit_bytes_total",
            MetricKind::Counter,
            "Network device statistic transmit_bytes.",
            "bytes",
        ),
        family(
            "node_disk_read_bytes_total",
            MetricKind::Counter,
            "The total number of bytes read successfully.",
            "bytes",
        ),
        family(
            "node_disk_written_bytes_total",
            MetricKind::Counter,
            "The total number of bytes written successfully.",
            "bytes",
        ),
        family(
            "node_memory_MemAvailable_bytes",
            MetricKind::Gauge,
            "Memory information field MemAvailable_bytes.",
            "bytes",
        ),
        family(
            "node_memory_MemTotal_bytes",
            MetricKind::Gauge,
            "Memory information field MemTotal_bytes.",
            "bytes",
        ),
        family("node_load1", MetricKind::Gauge, "1m load average.", ""),
        family("node_load5", MetricKind::Gauge, "5m load average.", ""),
        family("node_load15", MetricKind::Gauge, "15m load average.", ""),
        family(
            "node_filesystem_avail_bytes",
            MetricKind::Gauge,
            "Filesystem space available to non-root users in bytes.",
            "bytes",
        ),
        family(
            "http_request_duration_seconds",
            MetricKind::Histogram,
            "Latency of HTTP requests served by the host.",
            "seconds",
        ),
    ]
}

/// The catalog of one host, [`SERIES_PER_HOST`] series with labels sorted by name.
fn host_series(host: usize, rng: &mut fastrand::Rng) -> Vec<SeriesDef> {
    let instance = format!("host-{host:05}:9100");
    let mut out = Vec::with_capacity(SERIES_PER_HOST);
    let mut push = |name: &str, extra: &[(&str, String)], source: Source, value: f64| {
        let mut labels = vec![
            Label::new("__name__", name),
            Label::new("instance", instance.as_str()),
            Label::new("job", "node"),
        ];
        labels.extend(extra.iter().map(|(n, v)| Label::new(*n, v.as_str())));
        labels.sort();
        out.push(SeriesDef {
            labels,
            source,
            value,
        });
    };
    for cpu in 0..CPUS {
        for (mode, share) in CPU_MODES {
            let extra = [("cpu", cpu.to_string()), ("mode", mode.to_owned())];
            push(
                "node_cpu_seconds_total",
                &extra,
                Source::Counter { rate: share },
                0.0,
            );
        }
    }
    for device in NET_DEVICES {
        let extra = [("device", device.to_owned())];
        let rate = 1e5 + rng.f64() * 1e6;
        push(
            "node_network_receive_bytes_total",
            &extra,
            Source::Counter { rate },
            0.0,
        );
        push(
            "node_network_transmit_bytes_total",
            &extra,
            Source::Counter { rate: rate / 2.0 },
            0.0,
        );
    }
    for device in DISKS {
        let extra = [("device", device.to_owned())];
        let rate = 1e4 + rng.f64() * 1e6;
        push(
            "node_disk_read_bytes_total",
            &extra,
            Source::Counter { rate },
            0.0,
        );
        push(
            "node_disk_written_bytes_total",
            &extra,
            Source::Counter { rate: rate / 3.0 },
            0.0,
        );
    }
    let total_memory = 16.0 * 1024.0 * 1024.0 * 1024.0;
    push(
        "node_memory_MemTotal_bytes",
        &[],
        Source::Constant,
        total_memory,
    );
    let available = Source::Gauge {
        base: total_memory * (0.3 + 0.4 * rng.f64()),
        amplitude: 2e8,
    };
    push("node_memory_MemAvailable_bytes", &[], available, 0.0);
    let load = 0.2 + 2.0 * rng.f64();
    push(
        "node_load1",
        &[],
        Source::Gauge {
            base: load,
            amplitude: load / 2.0,
        },
        0.0,
    );
    push(
        "node_load5",
        &[],
        Source::Gauge {
            base: load,
            amplitude: load / 4.0,
        },
        0.0,
    );
    push(
        "node_load15",
        &[],
        Source::Gauge {
            base: load,
            amplitude: load / 8.0,
        },
        0.0,
    );
    for (device, mountpoint) in MOUNTS {
        let extra = [
            ("device", device.to_owned()),
            ("fstype", "ext4".to_owned()),
            ("mountpoint", mountpoint.to_owned()),
        ];
        let base = 1e10 + rng.f64() * 1e11;
        push(
            "node_filesystem_avail_bytes",
            &extra,
            Source::Gauge {
                base,
                amplitude: 1e7,
            },
            0.0,
        );
    }
    let handler = ("handler", "/api".to_owned());
    for (index, bound) in BUCKETS.iter().enumerate() {
        let le = if bound.is_infinite() {
            "+Inf".to_owned()
        } else {
            bound.to_string()
        };
        let extra = [handler.clone(), ("le", le)];
        push(
            "http_request_duration_seconds_bucket",
            &extra,
            Source::Bucket { index },
            0.0,
        );
    }
    push(
        "http_request_duration_seconds_sum",
        std::slice::from_ref(&handler),
        Source::Sum,
        0.0,
    );
    push(
        "http_request_duration_seconds_count",
        &[handler],
        Source::Count,
        0.0,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(w: &Workload, name: &str) -> Vec<f64> {
        w.samples()
            .filter(|(labels, _)| labels[0].value == name)
            .map(|(_, v)| v)
            .collect()
    }

    #[test]
    fn catalog_size_matches_the_constant() {
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(host_series(0, &mut rng).len(), SERIES_PER_HOST);
    }

    #[test]
    fn series_are_unique_sorted_and_valid() {
        let w = Workload::new(0..3, 3 * SERIES_PER_HOST, 7);
        let mut seen = std::collections::HashSet::new();
        let batch = ampd_remote_write::WriteBatch {
            series: w
                .samples()
                .map(|(labels, value)| ampd_remote_write::Series {
                    labels: labels.to_vec(),
                    samples: vec![ampd_remote_write::Sample {
                        timestamp: 1,
                        value,
                    }],
                    ..Default::default()
                })
                .collect(),
            metadata: vec![],
        };
        ampd_remote_write::validate(&batch, &ampd_remote_write::Limits::default()).unwrap();
        for (labels, _) in w.samples() {
            assert!(seen.insert(labels.to_vec()), "duplicate series {labels:?}");
        }
        assert_eq!(seen.len(), 3 * SERIES_PER_HOST);
    }

    #[test]
    fn total_series_truncates_the_last_host() {
        let w = Workload::new(0..10, SERIES_PER_HOST + 5, 1);
        assert_eq!(w.len(), SERIES_PER_HOST + 5);
        // A sender owning only odd hosts gets host 1's five series.
        assert_eq!(Workload::new([1, 3, 5], SERIES_PER_HOST + 5, 1).len(), 5);
        assert!(Workload::new([2], SERIES_PER_HOST, 1).is_empty());
    }

    #[test]
    fn counters_never_decrease_and_histograms_stay_consistent() {
        let mut w = Workload::new(0..2, 2 * SERIES_PER_HOST, 3);
        let mut previous = values(&w, "node_cpu_seconds_total");
        for _ in 0..20 {
            w.advance(Duration::from_secs(15));
            let now = values(&w, "node_cpu_seconds_total");
            assert!(now.iter().zip(&previous).all(|(n, p)| n >= p));
            previous = now;
            let buckets = values(&w, "http_request_duration_seconds_bucket");
            let counts = values(&w, "http_request_duration_seconds_count");
            for (host, count) in counts.iter().enumerate() {
                let host_buckets = &buckets[host * BUCKETS.len()..(host + 1) * BUCKETS.len()];
                assert!(
                    host_buckets.windows(2).all(|p| p[0] <= p[1]),
                    "cumulative buckets"
                );
                assert_eq!(host_buckets.last(), Some(count), "+Inf bucket equals count");
            }
        }
        assert!(previous.iter().any(|v| *v > 0.0));
    }

    #[test]
    fn gauges_jitter() {
        let mut w = Workload::new([0], SERIES_PER_HOST, 5);
        w.advance(Duration::from_secs(15));
        let first = values(&w, "node_load1");
        let mut changed = false;
        for _ in 0..10 {
            w.advance(Duration::from_secs(15));
            changed |= values(&w, "node_load1") != first;
        }
        assert!(changed);
    }

    #[test]
    fn families_cover_every_series() {
        let names: Vec<String> = families()
            .into_iter()
            .map(|f| f.metric_family_name)
            .collect();
        let w = Workload::new([0], SERIES_PER_HOST, 1);
        for (labels, _) in w.samples() {
            let name = &labels[0].value;
            assert!(
                names.iter().any(|f| name == f
                    || name
                        .strip_prefix(f.as_str())
                        .is_some_and(|s| s.starts_with('_'))),
                "{name}"
            );
        }
    }
}
