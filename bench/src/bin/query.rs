//! `ampd-bench-query`: times a fixed dashboard-like set of range queries against ampd and
//! Prometheus (or any Prometheus-compatible query API) holding the same data, and prints the
//! median latency of each query per target side by side.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ampd_bench::{DASHBOARD_QUERIES, QueryBenchConfig, QueryTarget, Secret, SigV4, run_queries};
use anyhow::{Context as _, bail};
use clap::Parser;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Time the dashboard query set on each target and print medians side by side.
///
/// Targets are `NAME=URL` with URL the base the API hangs off: a workspace's
/// prometheusEndpoint (`http://127.0.0.1:9096/workspaces/ws-…/`) or `http://127.0.0.1:9090/`.
/// Targets named in `--sign` get SigV4-signed requests.
#[derive(Debug, Parser)]
#[command(name = "ampd-bench-query", version)]
struct Cli {
    /// A target as NAME=URL; give several.
    #[arg(long = "target", required = true, value_parser = parse_target)]
    targets: Vec<(String, reqwest::Url)>,
    /// Names of the targets to sign with SigV4.
    #[arg(long = "sign")]
    signed: Vec<String>,
    /// End of the range queries (RFC 3339) [default: now].
    #[arg(long)]
    end: Option<String>,
    /// Length of the range queries (e.g. 24h).
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    range: Duration,
    /// Resolution step (e.g. 2m).
    #[arg(long, default_value = "2m", value_parser = humantime::parse_duration)]
    step: Duration,
    /// Measured runs of each query on each target.
    #[arg(long, default_value_t = 10)]
    iterations: usize,
    /// Per-request timeout.
    #[arg(long, default_value = "2m", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Region of the SigV4 scope.
    #[arg(long, default_value = "us-east-1")]
    sigv4_region: String,
    /// Access key id for SigV4.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    access_key: Option<String>,
    /// Secret access key for SigV4.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_target(value: &str) -> Result<(String, reqwest::Url), String> {
    let (name, url) = value
        .split_once('=')
        .ok_or_else(|| format!("{value:?} is not NAME=URL"))?;
    let mut url = reqwest::Url::parse(url).map_err(|e| format!("{url:?}: {e}"))?;
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    Ok((name.to_owned(), url))
}

impl Cli {
    fn into_config(self) -> anyhow::Result<QueryBenchConfig> {
        let end_ms = match &self.end {
            Some(end) => {
                let t = OffsetDateTime::parse(end, &Rfc3339)
                    .with_context(|| format!("--end {end:?} is not RFC 3339"))?;
                i64::try_from(t.unix_timestamp_nanos() / 1_000_000).context("--end out of range")?
            }
            None => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH)?;
                i64::try_from(now.as_millis())?
            }
        };
        let mut targets = Vec::new();
        for (name, base) in self.targets {
            let sigv4 = if self.signed.contains(&name) {
                let (Some(access_key), Some(secret_key)) = (&self.access_key, &self.secret_key)
                else {
                    bail!("--sign needs --access-key and --secret-key (or AWS_* variables)");
                };
                Some(SigV4 {
                    region: self.sigv4_region.clone(),
                    service: "aps".into(),
                    access_key: access_key.clone(),
                    secret_key: Secret::new(secret_key.clone()),
                    session_token: None,
                })
            } else {
                None
            };
            targets.push(QueryTarget { name, base, sigv4 });
        }
        Ok(QueryBenchConfig {
            targets,
            queries: DASHBOARD_QUERIES
                .iter()
                .map(|(n, q)| ((*n).to_owned(), (*q).to_owned()))
                .collect(),
            end_ms,
            range: self.range,
            step: self.step,
            iterations: self.iterations,
            timeout: self.timeout,
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let outcome = async {
        let report = run_queries(cli.into_config()?).await?;
        anyhow::Ok(if json {
            serde_json::to_string_pretty(&report)?
        } else {
            report.to_string()
        })
    };
    match outcome.await {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ampd-bench-query: {e:#}");
            ExitCode::FAILURE
        }
    }
}
