//! `ampd-bench`: pushes node_exporter-like series to a remote write endpoint and reports
//! throughput and latency.

use std::process::ExitCode;
use std::time::Duration;

use ampd_bench::{Config, Secret, SigV4, Timestamps, run};
use ampd_remote_write::Protocol;
use anyhow::{Context as _, bail};
use clap::{Parser, ValueEnum};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Push realistic remote write load to an endpoint and report samples/s and latency.
///
/// Timestamps are "now" by default, as a live scrape: that is the mode for comparing receivers,
/// since Prometheus refuses samples older than its head block. `--backfill-start` stamps rounds
/// from a fixed time instead, one scrape interval apart, to push hours of data in seconds.
#[derive(Debug, Parser)]
#[command(name = "ampd-bench", version)]
struct Cli {
    /// Remote write URL (Prometheus and VictoriaMetrics: http://HOST:PORT/api/v1/write); an
    /// https:// URL sends the same load over TLS.
    #[arg(long)]
    url: reqwest::Url,
    /// PEM bundle of the CAs that sign the server's certificate (e.g. tls/ca.pem in the data
    /// folder of ampd --tls-self-signed); only these are trusted. Default: the system's roots.
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<std::path::PathBuf>,
    /// Remote write protocol version.
    #[arg(long, value_enum, default_value_t = ProtocolArg::V1)]
    protocol: ProtocolArg,
    /// Total series; hosts of node_exporter-like series are added until this many exist.
    #[arg(long, default_value_t = 1000)]
    series: usize,
    /// Time between two samples of a series (e.g. 15s, 500ms).
    #[arg(long, default_value = "15s", value_parser = humantime::parse_duration)]
    scrape_interval: Duration,
    /// Scrape rounds to send (default 10 when --duration is not given either).
    #[arg(long)]
    rounds: Option<u64>,
    /// Stop after this much wall-clock time (e.g. 30s, 5m).
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// Parallel senders.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Most samples per request (Prometheus sends up to 2000).
    #[arg(long, default_value_t = 2000)]
    batch_size: usize,
    /// In "now" mode, wait one scrape interval between rounds like a real scraper.
    #[arg(long, conflicts_with = "backfill_start")]
    paced: bool,
    /// Stamp round r at START + r × interval (RFC 3339, e.g. 2026-01-01T00:00:00Z).
    #[arg(long)]
    backfill_start: Option<String>,
    /// Sign requests with SigV4 for this region.
    #[arg(long)]
    sigv4_region: Option<String>,
    /// Service name in the SigV4 credential scope.
    #[arg(long, default_value = "aps")]
    sigv4_service: String,
    /// Access key id for SigV4.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    access_key: Option<String>,
    /// Secret access key for SigV4.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    /// Session token for temporary SigV4 credentials.
    #[arg(long, env = "AWS_SESSION_TOKEN", hide_env_values = true)]
    session_token: Option<String>,
    /// Per-request timeout.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Seed of the value generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ProtocolArg {
    /// Remote write 1.0 (prometheus.WriteRequest).
    V1,
    /// Remote write 2.0 (io.prometheus.write.v2.Request).
    V2,
}

impl Cli {
    fn into_config(self) -> anyhow::Result<Config> {
        let timestamps = match &self.backfill_start {
            None => Timestamps::Now { paced: self.paced },
            Some(start) => {
                let start = OffsetDateTime::parse(start, &Rfc3339)
                    .with_context(|| format!("--backfill-start {start:?} is not RFC 3339"))?;
                let start_ms = i64::try_from(start.unix_timestamp_nanos() / 1_000_000)
                    .context("--backfill-start out of range")?;
                Timestamps::Backfill { start_ms }
            }
        };
        let sigv4 = match self.sigv4_region {
            None => None,
            Some(region) => {
                let (Some(access_key), Some(secret_key)) = (self.access_key, self.secret_key)
                else {
                    bail!(
                        "--sigv4-region needs --access-key and --secret-key \
                         (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
                    );
                };
                Some(SigV4 {
                    region,
                    service: self.sigv4_service,
                    access_key,
                    secret_key: Secret::new(secret_key),
                    session_token: self.session_token.map(Secret::new),
                })
            }
        };
        let rounds = match (self.rounds, self.duration) {
            (None, None) => Some(10),
            (rounds, _) => rounds,
        };
        Ok(Config {
            url: self.url,
            ca_cert: self.ca_cert,
            protocol: match self.protocol {
                ProtocolArg::V1 => Protocol::V1,
                ProtocolArg::V2 => Protocol::V2,
            },
            series: self.series,
            scrape_interval: self.scrape_interval,
            rounds,
            duration: self.duration,
            concurrency: self.concurrency,
            batch_size: self.batch_size,
            timestamps,
            sigv4,
            timeout: self.timeout,
            seed: self.seed,
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let outcome = async {
        let report = run(cli.into_config()?).await?;
        let text = if json {
            serde_json::to_string_pretty(&report)?
        } else {
            report.to_string()
        };
        anyhow::Ok(text)
    };
    match outcome.await {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ampd-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
