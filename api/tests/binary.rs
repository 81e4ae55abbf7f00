//! The `ampd` binary under abuse: killed with SIGKILL while it ingests, fed malformed
//! remote-write bodies, and pushed past its ingestion limits. Every sample acknowledged
//! before a kill must be readable after the restart, a request is either stored whole or not
//! at all, and limits answer 429 naming the limit.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ampd_iam::SecretKey;
use ampd_iam::sigv4::{SigningCredentials, sign_request};
use ampd_remote_write::{Label, Protocol, Sample, Series, WriteBatch, encode};
use serde_json::Value;

const KEY_ID: &str = "AKIACRASHTEST0000001";
const SECRET: &str = "crash-test-secret";
/// Series written by every request; a half-stored request shows as unequal counts.
const SERIES_PER_REQUEST: usize = 20;

struct Response {
    status: u16,
    body: String,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {} {}", self.status, self.body))
    }
}

/// One running `ampd serve` on a data folder.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(data_dir: &Path) -> Self {
        Self::start_with(data_dir, &[])
    }

    fn start_with(data_dir: &Path, args: &[&str]) -> Self {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_ampd"))
            .args(["serve", "--listen", &addr.to_string(), "--data-dir"])
            .arg(data_dir)
            .args(["--transition-delay-ms", "0"])
            .args(args)
            .env("AMPD_ROOT_ACCESS_KEY_ID", KEY_ID)
            .env("AMPD_ROOT_SECRET_ACCESS_KEY", SECRET)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self { child, addr };
        for _ in 0..200 {
            if request(addr, "GET", "/healthz", "", &[]).is_ok_and(|r| r.status == 200) {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("ampd did not become healthy on {addr}");
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends one SigV4-signed HTTP/1.1 request and reads the whole answer.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<Response> {
    let (mut parts, ()) = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .header("content-type", content_type)
        .body(())
        .unwrap()
        .into_parts();
    if path.starts_with("/workspaces/") && path.ends_with("/remote_write") {
        parts
            .headers
            .insert("content-encoding", "snappy".parse().unwrap());
    }
    let creds = SigningCredentials {
        access_key_id: KEY_ID.into(),
        secret: SecretKey::new(SECRET),
        session_token: None,
    };
    sign_request(
        &mut parts,
        body,
        &creds,
        "us-east-1",
        "aps",
        SystemTime::now(),
    )
    .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for (name, value) in &parts.headers {
        head.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(head.as_bytes())?;
    // A server refusing an oversized body may answer and close before reading all of it.
    let sent = stream.write_all(body);
    let mut raw = Vec::new();
    let read = stream.read_to_end(&mut raw);
    if raw.is_empty() {
        sent?;
        read?;
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no HTTP status in {text:?}")))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok(Response { status, body })
}

fn create_workspace(addr: SocketAddr) -> String {
    let res = request(
        addr,
        "POST",
        "/workspaces",
        "application/json",
        br#"{"alias":"crash"}"#,
    )
    .unwrap();
    assert_eq!(res.status, 202, "{}", res.body);
    let id = res.json()["workspaceId"].as_str().unwrap().to_owned();
    for _ in 0..200 {
        let res = request(addr, "GET", &format!("/workspaces/{id}"), "", &[]).unwrap();
        if res.json()["workspace"]["status"]["statusCode"] == "ACTIVE" {
            return id;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("workspace {id} did not become active");
}

/// Request `k` of a round: one sample per series at `base + k` seconds, valued `k`.
fn round_batch(metric: &str, base_ms: i64, k: i64) -> Vec<u8> {
    let series = (0..SERIES_PER_REQUEST)
        .map(|s| Series {
            labels: vec![
                Label::new("__name__", metric),
                Label::new("series", s.to_string()),
            ],
            samples: vec![Sample {
                timestamp: base_ms + k * 1000,
                value: k as f64,
            }],
            ..Series::default()
        })
        .collect();
    encode(
        &WriteBatch {
            series,
            metadata: vec![],
        },
        Protocol::V1,
    )
    .unwrap()
}

fn write_path(ws: &str) -> String {
    format!("/workspaces/{ws}/api/v1/remote_write")
}

/// Runs an instant query and returns `series label → value`.
fn query(addr: SocketAddr, ws: &str, promql: &str, at_ms: i64) -> Vec<(String, f64)> {
    let form = serde_urlencoded::to_string([
        ("query", promql.to_owned()),
        ("time", format!("{}", at_ms as f64 / 1000.0)),
    ])
    .unwrap();
    let res = request(
        addr,
        "POST",
        &format!("/workspaces/{ws}/api/v1/query"),
        "application/x-www-form-urlencoded",
        form.as_bytes(),
    )
    .unwrap();
    assert_eq!(res.status, 200, "{}", res.body);
    let json = res.json();
    json["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let label = r["metric"]["series"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let value = r["value"][1].as_str().unwrap().parse().unwrap();
            (label, value)
        })
        .collect()
}

/// A pseudo-random delay in `[lo, hi)` ms; the clock's nanoseconds are random enough to vary
/// where the kill lands between rounds and runs.
fn random_delay(lo: u64, hi: u64) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    Duration::from_millis(lo + u64::from(nanos) % (hi - lo))
}

#[test]
fn acknowledged_samples_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let ws = create_workspace(server.addr);
    let now_ms = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    for round in 0..3 {
        let metric = format!("crash_round_{round}");
        // Each round writes its own second-spaced samples ending before now.
        let base_ms = now_ms - 3_600_000 + round * 1_000_000;
        let acked = Arc::new(AtomicI64::new(-1));
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (acked, stop, addr, ws, metric) = (
                acked.clone(),
                stop.clone(),
                server.addr,
                ws.clone(),
                metric.clone(),
            );
            std::thread::spawn(move || {
                for k in 0..900 {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let body = round_batch(&metric, base_ms, k);
                    match request(
                        addr,
                        "POST",
                        &write_path(&ws),
                        "application/x-protobuf",
                        &body,
                    ) {
                        Ok(r) if r.status == 200 => acked.store(k, Ordering::SeqCst),
                        Ok(r) => panic!("write {k} answered {}: {}", r.status, r.body),
                        Err(_) => return,
                    }
                }
            })
        };
        std::thread::sleep(random_delay(300, 1500));
        server.kill();
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        let acked = acked.load(Ordering::SeqCst);
        assert!(
            acked >= 0,
            "round {round}: nothing was acknowledged before the kill"
        );

        server = Server::start(dir.path());
        let at = base_ms + 900 * 1000;
        let counts = query(
            server.addr,
            &ws,
            &format!("count_over_time({metric}[20m])"),
            at,
        );
        assert_eq!(
            counts.len(),
            SERIES_PER_REQUEST,
            "round {round}: {counts:?}"
        );
        let stored = counts[0].1;
        for (series, n) in &counts {
            // Acknowledged requests are all there; the one in flight at the kill is either
            // stored whole or not at all.
            assert_eq!(
                *n, stored,
                "round {round}: series {series} differs: {counts:?}"
            );
        }
        let acked_count = (acked + 1) as f64;
        assert!(
            stored == acked_count || stored == acked_count + 1.0,
            "round {round}: {acked_count} acknowledged, {stored} stored"
        );
        let sums = query(
            server.addr,
            &ws,
            &format!("sum_over_time({metric}[20m])"),
            at,
        );
        let n = stored as i64;
        assert!(
            sums.iter().all(|(_, s)| *s == (n * (n - 1) / 2) as f64),
            "round {round}: values differ from what was written: {sums:?}"
        );
    }
}

#[test]
fn malformed_bodies_are_refused_and_stored_data_stays() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let ws = create_workspace(server.addr);
    let base_ms = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
        - 600_000;
    let good = round_batch("kept", base_ms, 0);
    let res = request(
        server.addr,
        "POST",
        &write_path(&ws),
        "application/x-protobuf",
        &good,
    )
    .unwrap();
    assert_eq!(res.status, 200, "{}", res.body);

    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let truncated = good[..good.len() / 2].to_vec();
    // Field 1 (timeseries) as a varint instead of a length-delimited message.
    let wrong_type = snap::raw::Encoder::new()
        .compress_vec(&[0x08, 0x96, 0x01])
        .unwrap();
    let oversized = vec![0u8; 100 * 1024 * 1024];
    for (name, body, status) in [
        ("random bytes", random, 400),
        ("truncated snappy", truncated, 400),
        ("wrong field type", wrong_type, 400),
        ("100 MB body", oversized, 413),
    ] {
        let res = request(
            server.addr,
            "POST",
            &write_path(&ws),
            "application/x-protobuf",
            &body,
        );
        match res {
            Ok(res) => {
                assert_eq!(res.status, status, "{name}: {}", res.body);
                assert!(!res.body.trim().is_empty(), "{name}: the answer says why");
            }
            // Refusing a body this large may reset the connection before the answer is read.
            Err(e) => assert_eq!(name, "100 MB body", "{name}: {e}"),
        }
    }
    let health = request(server.addr, "GET", "/healthz", "", &[]).unwrap();
    assert_eq!(health.status, 200);
    let kept = query(server.addr, &ws, "kept", base_ms + 1000);
    assert_eq!(kept.len(), SERIES_PER_REQUEST, "{kept:?}");
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn batch_of(series: &[(&str, &str)], t: i64) -> Vec<u8> {
    let series = series
        .iter()
        .map(|(name, team)| Series {
            labels: vec![Label::new("__name__", *name), Label::new("team", *team)],
            samples: vec![Sample {
                timestamp: t,
                value: 1.0,
            }],
            ..Series::default()
        })
        .collect();
    encode(
        &WriteBatch {
            series,
            metadata: vec![],
        },
        Protocol::V1,
    )
    .unwrap()
}

#[test]
fn series_limits_answer_429_naming_the_limit() {
    const MAX_SERIES: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), &["--max-active-series", "1000"]);
    let ws = create_workspace(server.addr);
    let config = br#"{"limitsPerLabelSet":[{"labelSet":{"team":"a"},"limits":{"maxSeries":1}}]}"#;
    let res = request(
        server.addr,
        "PATCH",
        &format!("/workspaces/{ws}/configuration"),
        "application/json",
        config,
    )
    .unwrap();
    assert_eq!(res.status, 202, "{}", res.body);
    let t = now_ms() - 60_000;
    let write = |names: &[String], team: &str| {
        let series: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), team)).collect();
        let body = batch_of(&series, t);
        request(
            server.addr,
            "POST",
            &write_path(&ws),
            "application/x-protobuf",
            &body,
        )
        .unwrap()
    };
    // New team-a series are taken until the tenant follows the new configuration.
    let mut res = write(&["a0".to_owned()], "a");
    for i in 1..400 {
        if res.status != 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
        res = write(&[format!("a{i}")], "a");
    }
    assert_eq!(res.status, 429, "{}", res.body);
    assert!(
        res.body
            .contains(r#"limit of 1 exceeded for label set {team="a"}"#),
        "{}",
        res.body
    );
    let team_a = query(server.addr, &ws, "count({team=\"a\"})", t)[0].1 as usize;
    // Filling the workspace to its cap plus one: only the one series past it is refused.
    let names: Vec<String> = (0..=MAX_SERIES - team_a).map(|i| format!("b{i}")).collect();
    let res = write(&names, "b");
    assert_eq!(res.status, 429, "{}", res.body);
    assert!(
        res.body
            .contains("1 samples rejected: per-workspace active series limit of 1000 exceeded"),
        "{}",
        res.body
    );
    let stored = query(server.addr, &ws, "count({team!=\"\"})", t);
    assert_eq!(stored, vec![(String::new(), MAX_SERIES as f64)]);
}

#[test]
fn ingestion_rate_limit_refuses_whole_writes_with_429() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        dir.path(),
        &["--ingestion-rate", "1", "--ingestion-burst", "3"],
    );
    let ws = create_workspace(server.addr);
    let t = now_ms() - 60_000;
    let write = |body: Vec<u8>| {
        request(
            server.addr,
            "POST",
            &write_path(&ws),
            "application/x-protobuf",
            &body,
        )
        .unwrap()
    };
    // The full bucket lets a batch through, leaving it in debt: the next is refused whole.
    let res = write(batch_of(
        &[("x", "a"), ("y", "a"), ("z", "a"), ("w", "a")],
        t,
    ));
    assert_eq!(res.status, 200, "{}", res.body);
    let res = write(batch_of(&[("v", "a")], t));
    assert_eq!(res.status, 429, "{}", res.body);
    assert!(
        res.body
            .contains("ingestion rate limit of 1 samples per second (burst 3) exceeded"),
        "{}",
        res.body
    );
    let stored = query(server.addr, &ws, "count({team!=\"\"})", t);
    assert_eq!(
        stored,
        vec![(String::new(), 4.0)],
        "the refused write stored nothing"
    );
}
