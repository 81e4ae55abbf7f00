//! Pushes a small load with the `ampd-bench` binary into a real Prometheus and a real
//! VictoriaMetrics (Debian packages `prometheus` and `victoria-metrics`) and reads it back through
//! their query APIs. Each test is skipped, with a message, when its server is not installed.

// The helpers below are part of the tests: failing loudly is their job.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ampd_bench::{SERIES_PER_HOST, Workload};
use serde_json::Value;

const SERIES: usize = 500;
const ROUNDS: u64 = 3;

/// A server process killed when the test ends, whatever the outcome.
struct Server {
    child: Child,
    base: String,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn installed(binary: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(binary))
        .find(|candidate| candidate.try_exists().unwrap_or(false))
}

fn free_port() -> u16 {
    for _ in 0..100 {
        let port = fastrand::u16(20000..60000);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port found");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// Starts a server, retrying on another port if it exits early (another process took the
/// port between the check and the bind), and waits until `ready_path` answers 200.
fn start(
    binary: &PathBuf,
    args: impl Fn(u16, &std::path::Path) -> Vec<String>,
    ready_path: &str,
) -> Server {
    let rt = runtime();
    let http = client();
    for _ in 0..3 {
        let data = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(binary)
            .args(args(port, data.path()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _data: data,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if server.child.try_wait().unwrap().is_some() {
                break;
            }
            let url = format!("{}{ready_path}", server.base);
            let ready =
                rt.block_on(async { http.get(&url).send().await.map(|r| r.status().is_success()) });
            if ready.unwrap_or(false) {
                return server;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = server.child.kill();
    }
    panic!("{} did not become ready", binary.display());
}

/// Runs `ampd-bench --json` against `url` and returns its summary.
fn push(url: &str) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_ampd-bench"))
        .args([
            "--url",
            url,
            "--series",
            &SERIES.to_string(),
            "--rounds",
            &ROUNDS.to_string(),
        ])
        .args([
            "--concurrency",
            "2",
            "--batch-size",
            "200",
            "--scrape-interval",
            "15s",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    println!("{report}");
    assert_eq!(report["failed_requests"], 0, "{report}");
    assert_eq!(report["samples_sent"], SERIES as u64 * ROUNDS, "{report}");
    assert_eq!(report["rounds"], ROUNDS);
    report
}

/// Evaluates an instant query and returns its single value, if any.
fn query_scalar(base: &str, promql: &str) -> Option<f64> {
    let url = reqwest::Url::parse_with_params(&format!("{base}/api/v1/query"), [("query", promql)])
        .ok()?;
    let text =
        runtime().block_on(async { client().get(url).send().await.ok()?.text().await.ok() })?;
    let body: Value = serde_json::from_str(&text).ok()?;
    body["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

/// Polls until both the series count and the sample count of one family are back (bounded).
fn assert_landed(server: &Server, before_query: impl Fn()) {
    let cpu_series = Workload::new(0..SERIES.div_ceil(SERIES_PER_HOST), SERIES, 1)
        .samples()
        .filter(|(labels, _)| labels[0].value == "node_cpu_seconds_total")
        .count();
    let expected = [
        (r#"count({job="node"})"#.to_owned(), SERIES as f64),
        (
            "sum(count_over_time(node_cpu_seconds_total[10m]))".to_owned(),
            (cpu_series as u64 * ROUNDS) as f64,
        ),
    ];
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = Vec::new();
    while Instant::now() < deadline {
        before_query();
        last = expected
            .iter()
            .map(|(q, _)| query_scalar(&server.base, q))
            .collect();
        if expected
            .iter()
            .zip(&last)
            .all(|((_, want), got)| *got == Some(*want))
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("expected {expected:?}, got {last:?}");
}

#[test]
fn pushes_into_prometheus() {
    let Some(binary) = installed("prometheus") else {
        eprintln!("skipping: `prometheus` is not installed (apt-get install prometheus)");
        return;
    };
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), "global:\n  scrape_interval: 1m\n").unwrap();
    let config_path = config.path().display().to_string();
    let server = start(
        &binary,
        |port, data| {
            vec![
                format!("--config.file={config_path}"),
                format!("--storage.tsdb.path={}", data.display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                "--web.enable-remote-write-receiver".to_owned(),
            ]
        },
        "/-/ready",
    );
    push(&format!("{}/api/v1/write", server.base));
    assert_landed(&server, || {});
}

#[test]
fn pushes_into_victoria_metrics() {
    let Some(binary) = installed("victoria-metrics") else {
        eprintln!(
            "skipping: `victoria-metrics` is not installed (apt-get install victoria-metrics)"
        );
        return;
    };
    let server = start(
        &binary,
        |port, data| {
            vec![
                format!("-storageDataPath={}", data.display()),
                format!("-httpListenAddr=127.0.0.1:{port}"),
                // Recent points are hidden from queries for 30s by default.
                "-search.latencyOffset=1s".to_owned(),
            ]
        },
        "/health",
    );
    push(&format!("{}/api/v1/write", server.base));
    let flush = format!("{}/internal/force_flush", server.base);
    assert_landed(&server, || {
        // Makes freshly ingested rows searchable at once instead of within a few seconds.
        let _ = runtime().block_on(async { client().get(&flush).send().await });
    });
}
