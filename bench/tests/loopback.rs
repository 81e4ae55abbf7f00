//! Runs the load loop against an in-process receiver on a loopback port that decodes every
//! request with `ampd-remote-write`, so what the tool sends and what it reports can be checked.

// The helpers below are part of the tests: failing loudly is their job.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ampd_bench::{Config, Report, Secret, SigV4, Timestamps, run};
use ampd_remote_write::{DecodedRequest, Limits, Protocol, decode};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One request as the receiver saw it.
struct Received {
    headers: HashMap<String, String>,
    decoded: DecodedRequest,
}

/// How the receiver answers.
#[derive(Clone, Copy)]
struct Answer {
    status: u16,
    written_header: bool,
}

/// Binds a random loopback port in 20000..60000.
async fn bind() -> TcpListener {
    for _ in 0..100 {
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", fastrand::u16(20000..60000))).await {
            return listener;
        }
    }
    panic!("no free loopback port found");
}

async fn receiver(answer: Answer) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = bind().await;
    let url = format!("http://{}/api/v1/write", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                // One request per loop turn; the client keeps connections alive.
                loop {
                    let mut headers = HashMap::new();
                    let mut line = String::new();
                    if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        line.clear();
                        stream.read_line(&mut line).await.unwrap();
                        let Some((name, value)) = line.trim_end().split_once(':') else {
                            break;
                        };
                        headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
                    }
                    let length: usize = headers["content-length"].parse().unwrap();
                    let mut body = vec![0; length];
                    stream.read_exact(&mut body).await.unwrap();
                    let decoded = decode(
                        headers.get("content-type").map(String::as_str),
                        headers.get("content-encoding").map(String::as_str),
                        &body,
                        &Limits::default(),
                    )
                    .unwrap();
                    let samples = decoded.batch.sample_count();
                    store.lock().unwrap().push(Received { headers, decoded });
                    let text = if answer.status < 300 {
                        ""
                    } else {
                        "out of bounds"
                    };
                    let extra = if answer.written_header {
                        format!("X-Prometheus-Remote-Write-Samples-Written: {samples}\r\n")
                    } else {
                        String::new()
                    };
                    let response = format!(
                        "HTTP/1.1 {} X\r\n{extra}Content-Length: {}\r\n\r\n{text}",
                        answer.status,
                        text.len()
                    );
                    stream
                        .get_mut()
                        .write_all(response.as_bytes())
                        .await
                        .unwrap();
                }
            });
        }
    });
    (url, seen)
}

fn config(url: &str) -> Config {
    Config {
        url: url.parse().unwrap(),
        ca_cert: None,
        protocol: Protocol::V1,
        series: 100,
        scrape_interval: Duration::from_secs(15),
        rounds: Some(2),
        duration: None,
        concurrency: 3,
        batch_size: 30,
        timestamps: Timestamps::Now { paced: false },
        sigv4: None,
        timeout: Duration::from_secs(5),
        seed: 1,
    }
}

/// Timestamps of every sample of every series, in arrival order.
fn timelines(seen: &[Received]) -> HashMap<String, Vec<i64>> {
    let mut out: HashMap<String, Vec<i64>> = HashMap::new();
    for received in seen {
        for series in &received.decoded.batch.series {
            let key = format!("{:?}", series.labels);
            out.entry(key)
                .or_default()
                .extend(series.samples.iter().map(|s| s.timestamp));
        }
    }
    out
}

async fn run_against(answer: Answer, tweak: impl FnOnce(&mut Config)) -> (Report, Vec<Received>) {
    let (url, seen) = receiver(answer).await;
    let mut config = config(&url);
    tweak(&mut config);
    let report = run(config).await.unwrap();
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    (report, seen)
}

const OK: Answer = Answer {
    status: 204,
    written_header: false,
};

#[tokio::test]
async fn v1_load_arrives_complete_and_in_order() {
    let (report, seen) = run_against(OK, |_| {}).await;
    assert_eq!(report.samples_sent, 200);
    assert_eq!(report.requests, seen.len() as u64);
    assert!(report.errors.is_empty());
    let body_bytes: u64 = seen
        .iter()
        .map(|r| r.headers["content-length"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(report.bytes_sent, body_bytes);
    assert!(seen.iter().all(|r| r.decoded.batch.sample_count() <= 30));
    assert!(seen.iter().all(|r| r.decoded.protocol == Protocol::V1));
    assert!(
        seen.iter()
            .all(|r| r.headers["x-prometheus-remote-write-version"] == "0.1.0")
    );
    assert!(
        seen.iter()
            .all(|r| r.headers["content-encoding"] == "snappy")
    );
    let lines = timelines(&seen);
    assert_eq!(lines.len(), 100);
    assert!(
        lines.values().all(|ts| ts.len() == 2 && ts[0] < ts[1]),
        "two increasing samples per series"
    );
}

#[tokio::test]
async fn v2_load_carries_metadata_and_checks_written_counts() {
    let answer = Answer {
        status: 204,
        written_header: true,
    };
    let (report, seen) = run_against(answer, |c| c.protocol = Protocol::V2).await;
    assert_eq!((report.samples_sent, report.samples_unconfirmed), (200, 0));
    assert!(seen.iter().all(|r| r.decoded.protocol == Protocol::V2));
    assert!(seen.iter().all(|r| !r.decoded.batch.metadata.is_empty()));

    let (report, _) = run_against(OK, |c| c.protocol = Protocol::V2).await;
    assert_eq!(report.samples_unconfirmed, 200);
}

#[tokio::test]
async fn rejected_requests_are_counted_by_status() {
    let answer = Answer {
        status: 400,
        written_header: false,
    };
    let (report, seen) = run_against(answer, |_| {}).await;
    assert_eq!(report.samples_sent, 0);
    assert_eq!(report.samples_failed, 200);
    assert_eq!(report.errors.get("400").copied(), Some(seen.len() as u64));
    assert_eq!(report.failed_requests, seen.len() as u64);
    assert_eq!(report.first_error.as_deref(), Some("400: out of bounds"));
}

#[tokio::test]
async fn backfill_stamps_rounds_one_interval_apart() {
    let start_ms = 1_700_000_000_000;
    let (_, seen) = run_against(OK, |c| {
        c.timestamps = Timestamps::Backfill { start_ms };
        c.rounds = Some(3);
    })
    .await;
    for ts in timelines(&seen).values() {
        assert_eq!(ts, &[start_ms, start_ms + 15_000, start_ms + 30_000]);
    }
}

#[tokio::test]
async fn signs_requests_for_aps() {
    let (report, seen) = run_against(OK, |c| {
        c.sigv4 = Some(SigV4 {
            region: "eu-west-1".into(),
            service: "aps".into(),
            access_key: "AKIDEXAMPLE".into(),
            secret_key: Secret::new("secret".into()),
            session_token: None,
        });
    })
    .await;
    assert!(report.errors.is_empty());
    for received in &seen {
        let auth = &received.headers["authorization"];
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{auth}"
        );
        assert!(auth.contains("/eu-west-1/aps/aws4_request"), "{auth}");
        assert!(received.headers.contains_key("x-amz-date"));
    }
}

#[tokio::test]
async fn a_duration_bound_run_stops_by_itself() {
    let (report, seen) = run_against(OK, |c| {
        c.rounds = None;
        c.duration = Some(Duration::from_millis(300));
        c.scrape_interval = Duration::from_millis(100);
        c.timestamps = Timestamps::Now { paced: true };
    })
    .await;
    assert!(report.rounds >= 1);
    assert!(
        timelines(&seen)
            .values()
            .all(|ts| ts.windows(2).all(|p| p[0] < p[1]))
    );
}

#[tokio::test]
async fn unreachable_receivers_are_transport_errors() {
    // Bind then drop, so nothing listens on the port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let report = run(config(&format!("http://127.0.0.1:{port}/api/v1/write")))
        .await
        .unwrap();
    assert_eq!(report.samples_sent, 0);
    assert_eq!(
        report.errors.get("transport").copied(),
        Some(report.requests)
    );
}

#[tokio::test]
async fn unbounded_configurations_are_refused() {
    let mut unbounded = config("http://127.0.0.1:1/api/v1/write");
    unbounded.rounds = None;
    assert!(run(unbounded).await.is_err());
    let mut empty = config("http://127.0.0.1:1/api/v1/write");
    empty.batch_size = 0;
    assert!(run(empty).await.is_err());
}

#[tokio::test]
async fn an_unusable_ca_bundle_stops_the_run_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    for path in [missing, empty] {
        let mut config = config("https://127.0.0.1:1/api/v1/write");
        config.ca_cert = Some(path.clone());
        let e = run(config).await.unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("CA bundle {}: ", path.display())),
            "{e}"
        );
    }
}
