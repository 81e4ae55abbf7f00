//! Load tool: pushes realistic node_exporter-like series over remote write and reports throughput
//! and latency.
//!
//! A run is described by a [`Config`] and carried out by [`run`], which returns a [`Report`]
//! (samples/s, latency percentiles, errors by status, bytes sent). The `ampd-bench` binary wraps
//! this in a CLI. It speaks plain remote write, so it works against ampd, Prometheus
//! (`--web.enable-remote-write-receiver`, path `/api/v1/write`) and VictoriaMetrics (path
//! `/api/v1/write`) alike, optionally signing with SigV4 for AMP-style endpoints.

mod config;
mod report;
mod run;
mod sign;
mod workload;

pub use config::{Config, Secret, SigV4, Timestamps};
pub use report::{Latency, Report};
pub use run::{RunError, run};
pub use sign::{SignError, sign_request};
pub use workload::{SERIES_PER_HOST, Workload, families};
