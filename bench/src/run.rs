//! The load loop: one task per sender, each owning a disjoint set of hosts so that the samples of
//! a series always leave in timestamp order (the way Prometheus shards its queue by series).

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ampd_remote_write::{Protocol, Sample, Series, WriteBatch, encode};
use http::header::{CONTENT_ENCODING, CONTENT_TYPE, HOST, USER_AGENT};

use crate::config::{Config, Timestamps};
use crate::report::{Latency, Outcome, Report, SenderStats};
use crate::sign::{SignError, sign_request};
use crate::workload::{SERIES_PER_HOST, Workload, families};

/// Header a 2.0 receiver must answer with, giving the samples it stored.
const SAMPLES_WRITTEN: &str = "x-prometheus-remote-write-samples-written";

/// Why a run could not be carried out (failed requests are counted, not errors).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The configuration cannot produce a bounded run.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// The CA bundle to trust could not be read or parsed.
    #[error("CA bundle {path}: {detail}")]
    Ca {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Client(#[source] reqwest::Error),
    /// A request could not be built.
    #[error("building a request: {0}")]
    Request(String),
    /// A request could not be signed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// A body could not be compressed.
    #[error(transparent)]
    Encode(#[from] ampd_remote_write::EncodeError),
    /// The latency histogram could not be built or merged.
    #[error("latency histogram: {0}")]
    Histogram(String),
    /// A sender task stopped abnormally.
    #[error("sender task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Runs the load described by `config` and returns its summary.
pub async fn run(config: Config) -> Result<Report, RunError> {
    check(&config)?;
    // reqwest is built without a bundled crypto provider; rustls needs one chosen per process.
    // An error only means one is already installed, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .timeout(config.timeout)
        .user_agent(concat!("ampd-bench/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &config.ca_cert {
        let ca = |detail: String| RunError::Ca {
            path: path.display().to_string(),
            detail,
        };
        let pem = std::fs::read(path).map_err(|e| ca(e.to_string()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ca(e.to_string()))?;
        if certs.is_empty() {
            return Err(ca("no PEM certificate in it".into()));
        }
        builder = builder.tls_certs_only(certs);
    }
    let client = builder.build().map_err(RunError::Client)?;
    let hosts = config.series.div_ceil(SERIES_PER_HOST);
    let senders = config.concurrency.min(hosts).max(1);
    let config = Arc::new(config);
    let started = Instant::now();
    let deadline = config.duration.map(|d| started + d);
    let tasks: Vec<_> = (0..senders)
        .map(|index| {
            let (config, client) = (Arc::clone(&config), client.clone());
            tokio::spawn(send_loop(index, senders, config, client, started, deadline))
        })
        .collect();
    let mut total = SenderStats::new().map_err(|e| RunError::Histogram(e.to_string()))?;
    for task in tasks {
        total
            .merge(task.await??)
            .map_err(|e| RunError::Histogram(e.to_string()))?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(Report {
        url: config.url.to_string(),
        protocol: match config.protocol {
            Protocol::V1 => "v1",
            Protocol::V2 => "v2",
        },
        series: config.series,
        rounds: total.rounds,
        concurrency: senders,
        batch_size: config.batch_size,
        requests: total.requests,
        failed_requests: total.errors.values().sum(),
        samples_sent: total.samples_ok,
        samples_failed: total.samples_failed,
        samples_unconfirmed: total.samples_unconfirmed,
        bytes_sent: total.bytes_sent,
        elapsed_seconds: elapsed,
        samples_per_second: if elapsed > 0.0 {
            total.samples_ok as f64 / elapsed
        } else {
            0.0
        },
        latency_ms: Latency::from_histogram(&total.latency),
        errors: total.errors,
        first_error: total.first_error,
    })
}

fn check(config: &Config) -> Result<(), RunError> {
    if config.rounds.is_none() && config.duration.is_none() {
        return Err(RunError::Config(
            "give --rounds or --duration so that the run ends",
        ));
    }
    if config.series == 0 || config.concurrency == 0 || config.batch_size == 0 {
        return Err(RunError::Config(
            "--series, --concurrency and --batch-size must be positive",
        ));
    }
    if config.scrape_interval.as_millis() == 0 {
        return Err(RunError::Config("--scrape-interval must be at least 1ms"));
    }
    Ok(())
}

async fn send_loop(
    index: usize,
    senders: usize,
    config: Arc<Config>,
    client: reqwest::Client,
    started: Instant,
    deadline: Option<Instant>,
) -> Result<SenderStats, RunError> {
    let mut stats = SenderStats::new().map_err(|e| RunError::Histogram(e.to_string()))?;
    let hosts = (index..config.series.div_ceil(SERIES_PER_HOST)).step_by(senders);
    let mut workload = Workload::new(hosts, config.series, config.seed.wrapping_add(index as u64));
    // 2.0 carries metadata on every series; 1.0 senders ship it in separate requests.
    let metadata = match config.protocol {
        Protocol::V1 => Vec::new(),
        Protocol::V2 => families(),
    };
    let interval_ms = i64::try_from(config.scrape_interval.as_millis()).unwrap_or(i64::MAX);
    let past = |deadline: Option<Instant>| deadline.is_some_and(|d| Instant::now() >= d);
    let mut last_timestamp = i64::MIN;
    let mut round: u64 = 0;
    'rounds: while config.rounds.is_none_or(|r| round < r) && !past(deadline) {
        let timestamp = match config.timestamps {
            Timestamps::Now { paced } => {
                if paced && round > 0 {
                    let offset = config
                        .scrape_interval
                        .saturating_mul(u32::try_from(round).unwrap_or(u32::MAX));
                    let due = started + offset;
                    if deadline.is_some_and(|d| due >= d) {
                        break;
                    }
                    tokio::time::sleep_until(due.into()).await;
                }
                // Strictly increasing per series even when rounds follow each other within 1 ms.
                now_ms().max(last_timestamp.saturating_add(1))
            }
            Timestamps::Backfill { start_ms } => {
                let offset = i64::try_from(round)
                    .unwrap_or(i64::MAX)
                    .saturating_mul(interval_ms);
                start_ms.saturating_add(offset)
            }
        };
        last_timestamp = timestamp;
        workload.advance(config.scrape_interval);
        let mut batch = WriteBatch::default();
        for (labels, value) in workload.samples() {
            batch.series.push(Series {
                labels: labels.to_vec(),
                samples: vec![Sample { timestamp, value }],
                ..Series::default()
            });
            if batch.series.len() == config.batch_size {
                if past(deadline) {
                    break 'rounds;
                }
                send(&client, &config, &mut batch, &metadata, &mut stats).await?;
            }
        }
        if !batch.series.is_empty() {
            send(&client, &config, &mut batch, &metadata, &mut stats).await?;
        }
        stats.rounds += 1;
        round += 1;
    }
    Ok(stats)
}

/// Sends and empties `batch`, recording the outcome.
async fn send(
    client: &reqwest::Client,
    config: &Config,
    batch: &mut WriteBatch,
    families: &[ampd_remote_write::MetricMetadata],
    stats: &mut SenderStats,
) -> Result<(), RunError> {
    let series = std::mem::take(&mut batch.series);
    let samples = series.len() as u64;
    let metadata = families
        .iter()
        .filter(|f| {
            series.iter().any(|s| {
                s.metric_name()
                    .is_some_and(|n| belongs(n, &f.metric_family_name))
            })
        })
        .cloned()
        .collect();
    let body = encode(&WriteBatch { series, metadata }, config.protocol)?;
    let bytes = body.len() as u64;
    let mut request = http::Request::post(config.url.as_str())
        .header(CONTENT_TYPE, config.protocol.content_type())
        .header(CONTENT_ENCODING, "snappy")
        .header(
            "x-prometheus-remote-write-version",
            config.protocol.version_header(),
        )
        .header(
            USER_AGENT,
            concat!("ampd-bench/", env!("CARGO_PKG_VERSION")),
        )
        .body(body)
        .map_err(|e| RunError::Request(e.to_string()))?;
    if let Some(sigv4) = &config.sigv4 {
        // The signature covers Host, so it must be on the request before signing.
        let host = match config.url.port() {
            Some(port) => format!("{}:{port}", config.url.host_str().unwrap_or_default()),
            None => config.url.host_str().unwrap_or_default().to_owned(),
        };
        let value =
            http::HeaderValue::from_str(&host).map_err(|e| RunError::Request(e.to_string()))?;
        request.headers_mut().insert(HOST, value);
        sign_request(&mut request, sigv4, SystemTime::now())?;
    }
    let request =
        reqwest::Request::try_from(request).map_err(|e| RunError::Request(e.to_string()))?;
    let start = Instant::now();
    let outcome = match client.execute(request).await {
        Ok(response) => {
            let status = response.status();
            let confirmed =
                config.protocol == Protocol::V1 || response.headers().contains_key(SAMPLES_WRITTEN);
            match response.text().await {
                Ok(_) if status.is_success() && confirmed => Outcome::Accepted,
                Ok(_) if status.is_success() => Outcome::Unconfirmed,
                Ok(body) => Outcome::Status(status.as_u16(), body),
                Err(e) => Outcome::Transport(e.to_string()),
            }
        }
        Err(e) => Outcome::Transport(e.to_string()),
    };
    stats.record(outcome, samples, bytes, start.elapsed());
    Ok(())
}

/// Tells whether a series name belongs to a family (`foo` covers `foo_bucket`, `foo_sum`, …).
fn belongs(series_name: &str, family: &str) -> bool {
    series_name == family
        || series_name
            .strip_prefix(family)
            .is_some_and(|rest| matches!(rest, "_bucket" | "_sum" | "_count"))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_series_belong_to_their_family() {
        assert!(belongs(
            "http_request_duration_seconds_bucket",
            "http_request_duration_seconds"
        ));
        assert!(belongs("node_load1", "node_load1"));
        assert!(!belongs("node_load15", "node_load1"));
    }
}
