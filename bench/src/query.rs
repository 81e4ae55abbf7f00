//! The query benchmark: a fixed dashboard-like query set, run as range queries against
//! several Prometheus-compatible query APIs in turn, reporting each query's median latency
//! per target side by side.
//!
//! The set reads the [`crate::Workload`] series (node_exporter-like `node_*` families and the
//! `http_request_duration_seconds` histogram), so both targets must hold the same data, e.g.
//! written by `ampd-bench --backfill-start …` to each. Targets are queried alternately, one
//! request at a time, so they see the same conditions.

use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use http::header::HOST;
use serde::Serialize;

use crate::config::SigV4;
use crate::run::RunError;
use crate::sign::sign_request;

/// The dashboard-like query set: (name, PromQL).
pub const DASHBOARD_QUERIES: &[(&str, &str)] = &[
    (
        "cpu_busy_by_instance",
        r#"sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))"#,
    ),
    (
        "cpu_by_mode",
        "avg by (mode) (rate(node_cpu_seconds_total[5m]))",
    ),
    ("cpu_total", "sum(rate(node_cpu_seconds_total[5m]))"),
    (
        "latency_p99",
        "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
    ),
    (
        "top_network",
        "topk(10, rate(node_network_receive_bytes_total[5m]))",
    ),
    (
        "network_regex",
        r#"sum by (instance) (rate(node_network_receive_bytes_total{device=~"eth.*"}[5m]))"#,
    ),
    (
        "memory_ratio",
        r#"node_memory_MemAvailable_bytes{instance=~"host-0000.*"} / node_memory_MemTotal_bytes"#,
    ),
    ("load_max_1h", "max_over_time(node_load1[1h])"),
    (
        "filesystem_min",
        "min by (mountpoint) (node_filesystem_avail_bytes)",
    ),
];

/// One query API to benchmark.
#[derive(Clone, Debug)]
pub struct QueryTarget {
    /// Name shown in the report (e.g. `ampd`, `prometheus`).
    pub name: String,
    /// Base of the API: `…/api/v1/` is appended (a workspace's `prometheusEndpoint`, or
    /// `http://HOST:9090/` for Prometheus).
    pub base: reqwest::Url,
    /// Sign requests with SigV4 when set.
    pub sigv4: Option<SigV4>,
}

/// A query benchmark run.
#[derive(Clone, Debug)]
pub struct QueryBenchConfig {
    /// The targets, queried in turn.
    pub targets: Vec<QueryTarget>,
    /// The queries: (name, PromQL).
    pub queries: Vec<(String, String)>,
    /// End of every range query (ms since the epoch).
    pub end_ms: i64,
    /// Length of every range query.
    pub range: Duration,
    /// Resolution step.
    pub step: Duration,
    /// Measured runs of each query on each target (after one unmeasured warm-up run).
    pub iterations: usize,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// One target's figures for one query.
#[derive(Clone, Debug, Serialize)]
pub struct TargetFigures {
    /// Median latency in milliseconds over the successful runs.
    pub median_ms: Option<f64>,
    /// Series in the last successful answer.
    pub series: Option<usize>,
    /// The first error, if any run failed.
    pub error: Option<String>,
}

/// The figures of one query on every target, in target order.
#[derive(Clone, Debug, Serialize)]
pub struct QueryRow {
    /// Query name.
    pub name: String,
    /// The PromQL text.
    pub query: String,
    /// Per target, in [`QueryBenchConfig::targets`] order.
    pub targets: Vec<TargetFigures>,
}

/// The result of a query benchmark; `Display` prints the side-by-side table.
#[derive(Clone, Debug, Serialize)]
pub struct QueryReport {
    /// Target names, in order.
    pub targets: Vec<String>,
    /// Range of every query in seconds.
    pub range_seconds: f64,
    /// Step in seconds.
    pub step_seconds: f64,
    /// Measured runs per query and target.
    pub iterations: usize,
    /// One row per query.
    pub rows: Vec<QueryRow>,
}

/// Median of `values`, which must not be empty.
fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

/// Sends one range query; returns the number of series in a success answer.
async fn query_once(
    client: &reqwest::Client,
    target: &QueryTarget,
    form: &[(&str, String)],
) -> Result<usize, String> {
    let url = target
        .base
        .join("api/v1/query_range")
        .map_err(|e| e.to_string())?;
    let body = serde_urlencoded::to_string(form).map_err(|e| e.to_string())?;
    let mut request = http::Request::post(url.as_str())
        .header(HOST, url.authority())
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body.into_bytes())
        .map_err(|e| e.to_string())?;
    if let Some(sigv4) = &target.sigv4 {
        sign_request(&mut request, sigv4, SystemTime::now()).map_err(|e| e.to_string())?;
    }
    let request = reqwest::Request::try_from(request).map_err(|e| e.to_string())?;
    let response = client.execute(request).await.map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!(
            "{status}: {}",
            text.chars().take(200).collect::<String>()
        ));
    }
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    value["data"]["result"]
        .as_array()
        .map(Vec::len)
        .ok_or_else(|| "answer has no data.result".to_owned())
}

/// Runs every query on every target and returns the medians.
pub async fn run_queries(config: QueryBenchConfig) -> Result<QueryReport, RunError> {
    if config.targets.is_empty() || config.queries.is_empty() || config.iterations == 0 {
        return Err(RunError::Config(
            "need at least one target, one query and one iteration",
        ));
    }
    if config.step.is_zero() {
        return Err(RunError::Config("step must be positive"));
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(config.timeout)
        .user_agent(concat!("ampd-bench/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(RunError::Client)?;
    let secs = |ms: i64| format!("{:.3}", ms as f64 / 1000.0);
    let range_ms = i64::try_from(config.range.as_millis()).unwrap_or(i64::MAX);
    let mut rows = Vec::with_capacity(config.queries.len());
    for (name, query) in &config.queries {
        let form = [
            ("query", query.clone()),
            ("start", secs(config.end_ms.saturating_sub(range_ms))),
            ("end", secs(config.end_ms)),
            ("step", format!("{}", config.step.as_secs_f64())),
        ];
        let mut took: Vec<Vec<f64>> = vec![Vec::new(); config.targets.len()];
        let mut figures: Vec<TargetFigures> = config
            .targets
            .iter()
            .map(|_| TargetFigures {
                median_ms: None,
                series: None,
                error: None,
            })
            .collect();
        // Iteration 0 warms caches and is not measured.
        for iteration in 0..=config.iterations {
            for (i, target) in config.targets.iter().enumerate() {
                let started = Instant::now();
                let outcome = query_once(&client, target, &form).await;
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                match outcome {
                    Ok(n) => {
                        figures[i].series = Some(n);
                        if iteration > 0 {
                            took[i].push(ms);
                        }
                    }
                    Err(e) => {
                        figures[i].error.get_or_insert(e);
                    }
                }
            }
        }
        for (f, t) in figures.iter_mut().zip(&mut took) {
            f.median_ms = median(t);
        }
        rows.push(QueryRow {
            name: name.clone(),
            query: query.clone(),
            targets: figures,
        });
    }
    Ok(QueryReport {
        targets: config.targets.iter().map(|t| t.name.clone()).collect(),
        range_seconds: config.range.as_secs_f64(),
        step_seconds: config.step.as_secs_f64(),
        iterations: config.iterations,
        rows,
    })
}

impl fmt::Display for QueryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "range queries over {}s at {}s steps; median of {} runs (ms), series in answer",
            self.range_seconds, self.step_seconds, self.iterations
        )?;
        write!(f, "{:<22}", "query")?;
        for t in &self.targets {
            write!(f, " {:>14} {:>7}", t, "series")?;
        }
        writeln!(f)?;
        for row in &self.rows {
            write!(f, "{:<22}", row.name)?;
            for t in &row.targets {
                match (t.median_ms, t.series) {
                    (Some(ms), Some(n)) => write!(f, " {ms:>14.1} {n:>7}")?,
                    _ => write!(f, " {:>14} {:>7}", "failed", "-")?,
                }
            }
            let counts: Vec<Option<usize>> = row.targets.iter().map(|t| t.series).collect();
            if counts.windows(2).any(|w| w[0] != w[1]) {
                write!(f, "  (series counts differ)")?;
            }
            writeln!(f)?;
        }
        for row in &self.rows {
            for (name, t) in self.targets.iter().zip(&row.targets) {
                if let Some(e) = &t.error {
                    writeln!(f, "{} on {name}: {e}", row.name)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn every_query_parses_and_reads_the_workload() {
        let names: Vec<String> = crate::families()
            .iter()
            .map(|m| m.metric_family_name.clone())
            .collect();
        for (name, q) in DASHBOARD_QUERIES {
            assert!(ampd_promql::parse(q).is_ok(), "{name}: {q}");
            assert!(
                names.iter().any(|n| q.contains(n.as_str())),
                "{name} reads no workload family"
            );
        }
    }

    #[test]
    fn report_prints_side_by_side() {
        let report = QueryReport {
            targets: vec!["ampd".into(), "prometheus".into()],
            range_seconds: 86_400.0,
            step_seconds: 120.0,
            iterations: 5,
            rows: vec![QueryRow {
                name: "cpu_total".into(),
                query: "sum(rate(node_cpu_seconds_total[5m]))".into(),
                targets: vec![
                    TargetFigures {
                        median_ms: Some(12.0),
                        series: Some(1),
                        error: None,
                    },
                    TargetFigures {
                        median_ms: None,
                        series: None,
                        error: Some("503".into()),
                    },
                ],
            }],
        };
        let text = report.to_string();
        assert!(text.contains("cpu_total"), "{text}");
        assert!(text.contains("12.0"), "{text}");
        assert!(text.contains("failed"), "{text}");
        assert!(text.contains("cpu_total on prometheus: 503"), "{text}");
    }
}
