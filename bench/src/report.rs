//! Counters kept by each sender and the summary printed at the end of a run.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Longest error body kept for the summary.
const ERROR_BODY_LIMIT: usize = 300;

/// What one sender observed.
#[derive(Debug)]
pub(crate) struct SenderStats {
    pub(crate) requests: u64,
    pub(crate) samples_ok: u64,
    pub(crate) samples_failed: u64,
    pub(crate) samples_unconfirmed: u64,
    pub(crate) bytes_sent: u64,
    pub(crate) rounds: u64,
    pub(crate) errors: BTreeMap<String, u64>,
    pub(crate) first_error: Option<String>,
    /// Request latencies in microseconds.
    pub(crate) latency: Histogram<u64>,
}

impl SenderStats {
    pub(crate) fn new() -> Result<Self, hdrhistogram::CreationError> {
        Ok(Self {
            requests: 0,
            samples_ok: 0,
            samples_failed: 0,
            samples_unconfirmed: 0,
            bytes_sent: 0,
            rounds: 0,
            errors: BTreeMap::new(),
            first_error: None,
            // 1 µs to 10 min at 3 significant digits.
            latency: Histogram::new_with_bounds(1, 600_000_000, 3)?,
        })
    }

    /// Records one request that reached a response or failed in transport.
    pub(crate) fn record(&mut self, outcome: Outcome, samples: u64, bytes: u64, latency: Duration) {
        self.requests += 1;
        self.bytes_sent += bytes;
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency.saturating_record(micros.max(1));
        match outcome {
            Outcome::Accepted => self.samples_ok += samples,
            Outcome::Unconfirmed => {
                self.samples_ok += samples;
                self.samples_unconfirmed += samples;
            }
            Outcome::Status(code, body) => self.fail(code.to_string(), samples, body),
            Outcome::Transport(message) => self.fail("transport".to_owned(), samples, message),
        }
    }

    fn fail(&mut self, key: String, samples: u64, detail: String) {
        self.samples_failed += samples;
        if self.first_error.is_none() {
            let cut = detail
                .char_indices()
                .nth(ERROR_BODY_LIMIT)
                .map_or(detail.len(), |(i, _)| i);
            self.first_error = Some(format!("{key}: {}", detail[..cut].trim_end()));
        }
        *self.errors.entry(key).or_default() += 1;
    }

    pub(crate) fn merge(&mut self, other: Self) -> Result<(), hdrhistogram::AdditionError> {
        self.requests += other.requests;
        self.samples_ok += other.samples_ok;
        self.samples_failed += other.samples_failed;
        self.samples_unconfirmed += other.samples_unconfirmed;
        self.bytes_sent += other.bytes_sent;
        self.rounds = self.rounds.max(other.rounds);
        for (key, count) in other.errors {
            *self.errors.entry(key).or_default() += count;
        }
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.latency.add(&other.latency)
    }
}

/// How one request ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A 2xx answer.
    Accepted,
    /// A 2xx answer to a 2.0 request without `X-Prometheus-Remote-Write-Samples-Written`: the
    /// receiver may have read the body as 1.0 and stored nothing.
    Unconfirmed,
    /// Any other status, with the response body.
    Status(u16, String),
    /// No response (connection refused, timeout, …).
    Transport(String),
}

/// The summary of a run; `--json` prints it as JSON.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Endpoint written to.
    pub url: String,
    /// Protocol version sent (`v1` or `v2`).
    pub protocol: &'static str,
    /// Series in the workload.
    pub series: usize,
    /// Scrape rounds completed (by the furthest sender).
    pub rounds: u64,
    /// Parallel senders.
    pub concurrency: usize,
    /// Most samples per request.
    pub batch_size: usize,
    /// Requests sent.
    pub requests: u64,
    /// Requests that did not get a 2xx answer.
    pub failed_requests: u64,
    /// Samples in requests answered 2xx.
    pub samples_sent: u64,
    /// Samples in requests that failed.
    pub samples_failed: u64,
    /// Samples answered 2xx to a 2.0 request without the written-count headers 2.0 requires
    /// (the receiver likely does not speak 2.0 and stored nothing); included in `samples_sent`.
    pub samples_unconfirmed: u64,
    /// Compressed request bytes sent.
    pub bytes_sent: u64,
    /// Wall-clock time of the run.
    pub elapsed_seconds: f64,
    /// Accepted samples per second of wall-clock time.
    pub samples_per_second: f64,
    /// Request latency percentiles in milliseconds.
    pub latency_ms: Latency,
    /// Failed requests by HTTP status code, or `transport`.
    pub errors: BTreeMap<String, u64>,
    /// The first error seen, with the start of its response body.
    pub first_error: Option<String>,
}

/// Request latency percentiles in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest request.
    pub max: f64,
}

impl Latency {
    pub(crate) fn from_histogram(h: &Histogram<u64>) -> Self {
        let ms = |micros: u64| micros as f64 / 1000.0;
        Self {
            p50: ms(h.value_at_quantile(0.5)),
            p90: ms(h.value_at_quantile(0.9)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "target          {} (remote write {})",
            self.url, self.protocol
        )?;
        writeln!(
            f,
            "workload        {} series, {} rounds, {} senders, {} samples/request",
            self.series, self.rounds, self.concurrency, self.batch_size
        )?;
        writeln!(
            f,
            "requests        {} ({} failed), {} bytes sent",
            self.requests, self.failed_requests, self.bytes_sent
        )?;
        writeln!(
            f,
            "samples         {} accepted, {} failed in {:.3}s = {:.0} samples/s",
            self.samples_sent, self.samples_failed, self.elapsed_seconds, self.samples_per_second
        )?;
        if self.samples_unconfirmed > 0 {
            writeln!(
                f,
                "warning         {} samples answered 2xx without X-Prometheus-Remote-Write-Samples-Written: \
                 the receiver may not support remote write 2.0",
                self.samples_unconfirmed
            )?;
        }
        let l = &self.latency_ms;
        writeln!(
            f,
            "latency (ms)    p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
            l.p50, l.p90, l.p99, l.max
        )?;
        for (key, count) in &self.errors {
            writeln!(f, "errors {key:<8} {count}")?;
        }
        if let Some(first) = &self.first_error {
            writeln!(f, "first error     {first}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_counts_errors_and_latencies() {
        let mut a = SenderStats::new().unwrap();
        a.record(Outcome::Accepted, 10, 100, Duration::from_millis(2));
        a.record(Outcome::Unconfirmed, 3, 0, Duration::from_millis(2));
        a.record(
            Outcome::Status(400, "bad".repeat(200)),
            5,
            50,
            Duration::from_millis(4),
        );
        let mut b = SenderStats::new().unwrap();
        b.record(
            Outcome::Transport("refused".into()),
            7,
            0,
            Duration::from_millis(8),
        );
        b.record(
            Outcome::Status(400, "x".into()),
            1,
            1,
            Duration::from_millis(1),
        );
        a.merge(b).unwrap();
        assert_eq!(a.requests, 5);
        assert_eq!(
            (a.samples_ok, a.samples_failed, a.bytes_sent),
            (13, 13, 151)
        );
        assert_eq!(a.samples_unconfirmed, 3);
        assert_eq!(a.errors.get("400"), Some(&2));
        assert_eq!(a.errors.get("transport"), Some(&1));
        let first = a.first_error.unwrap();
        assert!(first.starts_with("400: bad") && first.len() <= ERROR_BODY_LIMIT + 5);
        let latency = Latency::from_histogram(&a.latency);
        assert!(latency.p50 >= 1.9 && latency.p50 <= 4.1, "{latency:?}");
        assert!(latency.max >= 7.9, "{latency:?}");
    }
}
