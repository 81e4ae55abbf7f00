//! What one load run does, independent of how it was asked for (CLI or tests).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use ampd_remote_write::Protocol;
use zeroize::Zeroizing;

/// A complete description of a load run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Remote write endpoint, e.g. `http://127.0.0.1:9090/api/v1/write`; `https://` for TLS.
    pub url: reqwest::Url,
    /// PEM bundle of the CAs to trust for an `https://` URL instead of the system's roots.
    pub ca_cert: Option<PathBuf>,
    /// Protocol version to send.
    pub protocol: Protocol,
    /// Total number of series across all hosts.
    pub series: usize,
    /// Time between two samples of a series.
    pub scrape_interval: Duration,
    /// Stop after this many scrape rounds.
    pub rounds: Option<u64>,
    /// Stop once this much wall-clock time has passed.
    pub duration: Option<Duration>,
    /// Parallel senders; hosts are split among them so each series has exactly one sender.
    pub concurrency: usize,
    /// Most samples per request.
    pub batch_size: usize,
    /// How sample timestamps are chosen.
    pub timestamps: Timestamps,
    /// Sign requests with SigV4 when set.
    pub sigv4: Option<SigV4>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Seed of the value generator, for reproducible data.
    pub seed: u64,
}

/// How sample timestamps are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timestamps {
    /// The wall clock when a round is generated, as a live scrape. This is the mode to compare
    /// receivers with: they all accept recent samples.
    Now {
        /// Wait a scrape interval between rounds (real-time pacing) instead of sending rounds
        /// back to back.
        paced: bool,
    },
    /// Round `r` is stamped `start + r × scrape interval`, so hours of data go out in seconds.
    /// Prometheus only accepts samples inside its head block's window, so old start times are
    /// refused there (`out of bounds`).
    Backfill {
        /// Timestamp of the first round in milliseconds since the Unix epoch.
        start_ms: i64,
    },
}

/// SigV4 signing parameters.
#[derive(Clone, Debug)]
pub struct SigV4 {
    /// Region of the credential scope.
    pub region: String,
    /// Service of the credential scope (`aps` for AMP).
    pub service: String,
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: Secret,
    /// Session token of temporary credentials.
    pub session_token: Option<Secret>,
}

/// A secret string: redacted in `Debug`, wiped from memory when dropped.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// Returns the secret itself; the only way to read it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(**redacted**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        let secret = Secret::new("wJalrXUtnFEMI".into());
        assert_eq!(format!("{secret:?}"), "Secret(**redacted**)");
        assert_eq!(secret.expose(), "wJalrXUtnFEMI");
    }
}
