//! Load tool: pushes realistic node_exporter-like series over remote write and reports throughput
//! and latency.
//!
//! A run is described by a [`Config`] and carried out by [`run`], which returns a [`Report`]
//! (samples/s, latency percentiles, errors by status, bytes sent). The `ampd-bench` binary wraps
//! this in a CLI. It speaks plain remote write, so it works against ampd, Prometheus
//! (`--web.enable-remote-write-receiver`, path `/api/v1/write`) and VictoriaMetrics (path
//! `/api/v1/write`) alike, optionally signing with SigV4 for AMP-style endpoints.
//!
//! ```text
//! ampd-bench --url http://127.0.0.1:9090/api/v1/write --series 10000 --rounds 10 --json
//! ampd-bench --url http://127.0.0.1:9096/workspaces/ws-…/api/v1/remote_write \
//!     --sigv4-region us-east-1 --protocol v2 --duration 1m --paced --scrape-interval 15s
//! ampd-bench --url https://127.0.0.1:9096/workspaces/ws-…/api/v1/remote_write \
//!     --ca-cert ampd-data/tls/ca.pem --sigv4-region us-east-1 --duration 1m
//! ```
//!
//! `ampd-bench-query` ([`run_queries`]) times a fixed dashboard-like set of range queries
//! ([`DASHBOARD_QUERIES`]) against several query APIs holding the same data and prints the
//! median latencies side by side; `bench/query-bench.sh` sets up ampd and Prometheus for it.
//!
//! Each host contributes [`SERIES_PER_HOST`] series; hosts are split among the senders so every
//! series has one sender and its samples arrive in order. Timestamps are the wall clock by
//! default ([`Timestamps::Now`]), the mode to compare receivers with, because Prometheus refuses
//! samples older than its head block; [`Timestamps::Backfill`] pushes hours of history quickly to
//! receivers that accept it. A 2xx answer to a 2.0 request without
//! `X-Prometheus-Remote-Write-Samples-Written` is reported as unconfirmed: receivers that only
//! know 1.0 (Prometheus 2.x, for one) read such a body as an empty 1.0 request and store nothing.

mod config;
mod query;
mod report;
mod run;
mod sign;
mod workload;

pub use config::{Config, Secret, SigV4, Timestamps};
pub use query::{
    DASHBOARD_QUERIES, QueryBenchConfig, QueryReport, QueryRow, QueryTarget, TargetFigures,
    run_queries,
};
pub use report::{Latency, Report};
pub use run::{RunError, run};
pub use sign::{SignError, sign_request};
pub use workload::{SERIES_PER_HOST, Workload, families};
