//! Configuration of `ampd serve`.
//!
//! Sources, lowest precedence first: built-in defaults, the TOML file given by
//! `--config`/`AMPD_CONFIG`, environment variables (`AMPD_*`), command-line flags. The merged
//! [`Config`] is validated before the server starts.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ampd_iam::SecretKey;
use clap::{Args, Parser, Subcommand};
use serde::{Deserialize, Serialize};

use crate::data::QuerySettings;
use crate::iam::RootAccessKey;
use crate::tls::TlsSettings;

/// Command line of the `ampd` binary.
#[derive(Debug, Parser)]
#[command(
    name = "ampd",
    version,
    about = "Self-hosted service speaking the Amazon Managed Service for Prometheus API"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands of `ampd`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the server (control plane, health endpoints) until SIGTERM or SIGINT.
    Serve(Box<ServeArgs>),
    /// Inspects the audit trail in a data folder (works while the server runs).
    Audit(AuditArgs),
}

/// Arguments of `ampd audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// What to do with the trail.
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// Subcommands of `ampd audit`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Checks log and digest files like `aws cloudtrail validate-logs`: reports every modified,
    /// deleted or inserted file; exits with status 1 when any is found.
    Validate(ValidateArgs),
    /// Prints the PEM public key that verifies the trail's digest signatures.
    PublicKey(AuditDirArgs),
}

/// The data folder an `ampd audit` command reads.
#[derive(Debug, Clone, Args)]
pub struct AuditDirArgs {
    /// Data folder of the server [default: ./ampd-data].
    #[arg(
        long,
        env = "AMPD_DATA_DIR",
        value_name = "DIR",
        default_value = "./ampd-data"
    )]
    pub data_dir: PathBuf,
}

/// Arguments of `ampd audit validate`.
#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// The data folder.
    #[command(flatten)]
    pub dir: AuditDirArgs,
    /// Start of the range to validate (RFC 3339, e.g. 2025-01-02T03:00:00Z, or epoch seconds).
    #[arg(long, value_name = "TIME")]
    pub start_time: String,
    /// End of the range [default: now].
    #[arg(long, value_name = "TIME")]
    pub end_time: Option<String>,
    /// PEM public key to trust instead of the one stored in the data folder (as printed by
    /// `ampd audit public-key` earlier and kept elsewhere).
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
    /// Also lists log files not yet covered by a digest.
    #[arg(long)]
    pub verbose: bool,
}

/// Options of `ampd serve`; each overrides the config file and has an `AMPD_*` variable.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// TOML configuration file (see config/ampd.example.toml).
    #[arg(long, env = "AMPD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:9096].
    #[arg(long, env = "AMPD_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Folder for the metadata database and keys [default: ./ampd-data].
    #[arg(long, env = "AMPD_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// AWS region this endpoint serves; clients must sign for it [default: us-east-1].
    #[arg(long, env = "AMPD_REGION")]
    pub region: Option<String>,
    /// 12-digit account id used in ARNs [default: 000000000000].
    #[arg(long, env = "AMPD_ACCOUNT_ID", value_name = "ID")]
    pub account_id: Option<String>,
    /// URL clients reach this server at, used in prometheusEndpoint [default: "http://", or
    /// "https://" with TLS, and the bound address].
    #[arg(long, env = "AMPD_EXTERNAL_URL", value_name = "URL")]
    pub external_url: Option<String>,
    /// Delay before CREATING/UPDATING resources become ACTIVE and DELETING ones disappear, in
    /// milliseconds [default: 500].
    #[arg(long, env = "AMPD_TRANSITION_DELAY_MS", value_name = "MS")]
    pub transition_delay_ms: Option<u64>,
    /// Workspaces allowed in the account [default: 25].
    #[arg(long, env = "AMPD_MAX_WORKSPACES", value_name = "N")]
    pub max_workspaces: Option<u32>,
    /// Samples per second each workspace may ingest [default: 170000].
    #[arg(long, env = "AMPD_INGESTION_RATE", value_name = "SAMPLES")]
    pub ingestion_rate: Option<u64>,
    /// Samples a workspace may send at once above its rate [default: 850000].
    #[arg(long, env = "AMPD_INGESTION_BURST", value_name = "SAMPLES")]
    pub ingestion_burst: Option<u64>,
    /// Active series each workspace may hold [default: 10000000].
    #[arg(long, env = "AMPD_MAX_ACTIVE_SERIES", value_name = "N")]
    pub max_active_series: Option<u64>,
    /// Access key id of the account root user; with --root-secret-access-key [default: one
    /// generated on first start and kept in root-credentials.json in the data folder].
    #[arg(long, env = "AMPD_ROOT_ACCESS_KEY_ID", value_name = "ID")]
    pub root_access_key_id: Option<String>,
    /// Secret access key of the account root user; with --root-access-key-id.
    #[arg(long, env = "AMPD_ROOT_SECRET_ACCESS_KEY", value_name = "SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub root_secret_access_key: Option<SecretKey>,
    /// PEM certificate (chain) to serve HTTPS with; with --tls-key.
    #[arg(long, env = "AMPD_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "AMPD_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// PEM bundle of CAs that client certificates must chain to (mutual TLS).
    #[arg(long, env = "AMPD_TLS_CLIENT_CA", value_name = "FILE")]
    pub tls_client_ca: Option<PathBuf>,
    /// Serve HTTPS with a certificate generated into the data folder's tls/ folder, signed by a
    /// local CA (tls/ca.pem there) for clients to trust.
    #[arg(long, env = "AMPD_TLS_SELF_SIGNED")]
    pub tls_self_signed: bool,
    /// Refuse to start unless TLS is configured.
    #[arg(long, env = "AMPD_REQUIRE_TLS")]
    pub require_tls: bool,
    /// How often certificate files are checked for changes, in milliseconds; 0: on SIGHUP only
    /// [default: 2000].
    #[arg(long, env = "AMPD_TLS_RELOAD_INTERVAL_MS", value_name = "MS")]
    pub tls_reload_interval_ms: Option<u64>,
    /// Records data-plane calls (RemoteWrite, QueryMetrics, …) as audit data events
    /// [default: false].
    #[arg(long, env = "AMPD_AUDIT_DATA_EVENTS", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub audit_data_events: Option<bool>,
    /// Longest time, in seconds, an audit event waits before delivery to a log file
    /// [default: 300].
    #[arg(long, env = "AMPD_AUDIT_ROLL_INTERVAL_SECONDS", value_name = "SECONDS")]
    pub audit_roll_interval_seconds: Option<u64>,
    /// Length, in seconds, of an audit digest period [default: 3600].
    #[arg(
        long,
        env = "AMPD_AUDIT_DIGEST_INTERVAL_SECONDS",
        value_name = "SECONDS"
    )]
    pub audit_digest_interval_seconds: Option<u64>,
    /// Where the JWKS of an OIDC issuer comes from, as ISSUER=PATH_OR_URL (repeatable; comma
    /// separated in the environment) [default: the issuer's
    /// /.well-known/openid-configuration].
    #[arg(
        long = "oidc-jwks",
        env = "AMPD_OIDC_JWKS",
        value_name = "ISSUER=SOURCE",
        value_delimiter = ','
    )]
    pub oidc_jwks: Vec<String>,
    /// Longest a PromQL query may run, in milliseconds [default: 120000].
    #[arg(long, env = "AMPD_QUERY_TIMEOUT_MS", value_name = "MS")]
    pub query_timeout_ms: Option<u64>,
    /// Most samples a query may hold in memory [default: 50000000].
    #[arg(long, env = "AMPD_QUERY_MAX_SAMPLES", value_name = "N")]
    pub query_max_samples: Option<u64>,
    /// Most series a query may read [default: 1000000].
    #[arg(long, env = "AMPD_QUERY_MAX_SERIES", value_name = "N")]
    pub query_max_series: Option<u64>,
    /// Queries and series reads a workspace may run at once [default: 20].
    #[arg(long, env = "AMPD_QUERY_MAX_CONCURRENCY", value_name = "N")]
    pub query_max_concurrency: Option<u32>,
    /// How long an excess query waits for a slot before failing, in milliseconds
    /// [default: 5000].
    #[arg(long, env = "AMPD_QUERY_QUEUE_TIMEOUT_MS", value_name = "MS")]
    pub query_queue_timeout_ms: Option<u64>,
}

fn parse_secret(value: &str) -> Result<SecretKey, std::convert::Infallible> {
    Ok(SecretKey::new(value))
}

/// Settings of the server; every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (`host:port`); port 0 picks a free port.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Folder holding `metadata.db` and `pagination.key`; created if missing.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// AWS region this endpoint serves (ARNs and the SigV4 credential scope).
    #[serde(default = "default_region")]
    pub region: String,
    /// 12-digit account id used in every ARN.
    #[serde(default = "default_account_id")]
    pub account_id: String,
    /// Externally reachable base URL; `prometheusEndpoint` is `{external_url}/workspaces/{id}/`.
    /// Unset: `http://` (`https://` with TLS) followed by the bound address.
    #[serde(default)]
    pub external_url: Option<String>,
    /// Milliseconds before a transitional status (CREATING, UPDATING, DELETING) completes.
    #[serde(default = "default_transition_delay_ms")]
    pub transition_delay_ms: u64,
    /// Workspaces allowed in the account (AMP's default quota is 25 per region).
    #[serde(default = "default_max_workspaces")]
    pub max_workspaces: u32,
    /// Samples per second each workspace may ingest (AMP's ingestion rate quota).
    #[serde(default = "default_ingestion_rate")]
    pub ingestion_rate: u64,
    /// Samples a workspace may send at once above its rate (AMP's ingestion burst size).
    #[serde(default = "default_ingestion_burst")]
    pub ingestion_burst: u64,
    /// Active series each workspace may hold (AMP's active series quota).
    #[serde(default = "default_max_active_series")]
    pub max_active_series: u64,
    /// The root user's access key, from flags or environment only (never from the file).
    /// Unset: generated on first start into `root-credentials.json` in the data folder.
    #[serde(skip)]
    pub root_access_key: Option<RootAccessKey>,
    /// HTTPS on the listener (`[tls]` table); off unless a certificate or `self_signed` is set.
    #[serde(default)]
    pub tls: TlsSettings,
    /// Whether data-plane calls are recorded as audit data events (management events always are).
    #[serde(default)]
    pub audit_data_events: bool,
    /// Seconds an audit event waits at most before delivery to a log file (files also roll at
    /// 4 MiB).
    #[serde(default = "default_audit_roll_interval_seconds")]
    pub audit_roll_interval_seconds: u64,
    /// Seconds per audit digest period (CloudTrail's is an hour).
    #[serde(default = "default_audit_digest_interval_seconds")]
    pub audit_digest_interval_seconds: u64,
    /// JWKS source per OIDC issuer URL: a file path or an http(s) URL. Issuers not listed are
    /// discovered through `<issuer>/.well-known/openid-configuration`.
    #[serde(default)]
    pub oidc_jwks: BTreeMap<String, String>,
    /// Limits of PromQL queries (the `[query]` table).
    #[serde(default)]
    pub query: QueryConfig,
}

fn default_audit_roll_interval_seconds() -> u64 {
    300
}

fn default_audit_digest_interval_seconds() -> u64 {
    3600
}

/// Limits of PromQL queries; the defaults are Prometheus' where it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryConfig {
    /// Longest a query may run, in milliseconds; a `timeout` parameter may only shorten it.
    #[serde(default = "default_query_timeout_ms")]
    pub timeout_ms: u64,
    /// Most samples a query may hold in memory at once (Prometheus `--query.max-samples`).
    #[serde(default = "default_query_max_samples")]
    pub max_samples: u64,
    /// Most series a query may read, summed over its selectors.
    #[serde(default = "default_query_max_series")]
    pub max_series: u64,
    /// Queries and series reads a workspace may run at once.
    #[serde(default = "default_query_max_concurrency")]
    pub max_concurrency: u32,
    /// How long an excess query waits for a slot before failing, in milliseconds.
    #[serde(default = "default_query_queue_timeout_ms")]
    pub queue_timeout_ms: u64,
}

fn duration_ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn default_query_timeout_ms() -> u64 {
    duration_ms(QuerySettings::default().timeout)
}

fn default_query_max_samples() -> u64 {
    QuerySettings::default().max_samples as u64
}

fn default_query_max_series() -> u64 {
    QuerySettings::default().max_series as u64
}

fn default_query_max_concurrency() -> u32 {
    u32::try_from(QuerySettings::default().max_concurrent).unwrap_or(u32::MAX)
}

fn default_query_queue_timeout_ms() -> u64 {
    duration_ms(QuerySettings::default().queue_timeout)
}

impl Default for QueryConfig {
    fn default() -> Self {
        Self {
            timeout_ms: default_query_timeout_ms(),
            max_samples: default_query_max_samples(),
            max_series: default_query_max_series(),
            max_concurrency: default_query_max_concurrency(),
            queue_timeout_ms: default_query_queue_timeout_ms(),
        }
    }
}

impl QueryConfig {
    /// The data plane's query settings.
    pub fn settings(&self) -> QuerySettings {
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        QuerySettings {
            timeout: std::time::Duration::from_millis(self.timeout_ms),
            max_samples: size(self.max_samples),
            max_series: size(self.max_series),
            max_concurrent: self.max_concurrency as usize,
            queue_timeout: std::time::Duration::from_millis(self.queue_timeout_ms),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9096))
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("./ampd-data")
}

fn default_region() -> String {
    "us-east-1".into()
}

fn default_account_id() -> String {
    "000000000000".into()
}

fn default_transition_delay_ms() -> u64 {
    500
}

fn default_max_workspaces() -> u32 {
    25
}

fn default_ingestion_rate() -> u64 {
    170_000
}

fn default_ingestion_burst() -> u64 {
    850_000
}

fn default_max_active_series() -> u64 {
    10_000_000
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            data_dir: default_data_dir(),
            region: default_region(),
            account_id: default_account_id(),
            external_url: None,
            transition_delay_ms: default_transition_delay_ms(),
            max_workspaces: default_max_workspaces(),
            ingestion_rate: default_ingestion_rate(),
            ingestion_burst: default_ingestion_burst(),
            max_active_series: default_max_active_series(),
            root_access_key: None,
            tls: TlsSettings::default(),
            audit_data_events: false,
            audit_roll_interval_seconds: default_audit_roll_interval_seconds(),
            audit_digest_interval_seconds: default_audit_digest_interval_seconds(),
            oidc_jwks: BTreeMap::new(),
            query: QueryConfig::default(),
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The config file is not valid TOML for [`Config`].
    #[error("invalid config file {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A setting has an unusable value.
    #[error("invalid setting {field}: {message}")]
    Invalid {
        /// The setting.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl Config {
    /// Parses a TOML document; absent settings take their defaults.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(e),
        })
    }

    /// Merges defaults, the config file, then the environment and flags (already merged by
    /// clap, flags winning), and validates the result.
    pub fn load(args: &ServeArgs) -> Result<Self, ConfigError> {
        let mut config = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                Self::from_toml(&text, path)?
            }
            None => Self::default(),
        };
        if let Some(v) = args.listen {
            config.listen = v;
        }
        if let Some(v) = &args.data_dir {
            config.data_dir.clone_from(v);
        }
        if let Some(v) = &args.region {
            config.region.clone_from(v);
        }
        if let Some(v) = &args.account_id {
            config.account_id.clone_from(v);
        }
        if let Some(v) = &args.external_url {
            config.external_url = Some(v.clone());
        }
        if let Some(v) = args.transition_delay_ms {
            config.transition_delay_ms = v;
        }
        if let Some(v) = args.max_workspaces {
            config.max_workspaces = v;
        }
        if let Some(v) = args.ingestion_rate {
            config.ingestion_rate = v;
        }
        if let Some(v) = args.ingestion_burst {
            config.ingestion_burst = v;
        }
        if let Some(v) = args.max_active_series {
            config.max_active_series = v;
        }
        merge_tls(&mut config.tls, args);
        if let Some(v) = args.audit_data_events {
            config.audit_data_events = v;
        }
        if let Some(v) = args.audit_roll_interval_seconds {
            config.audit_roll_interval_seconds = v;
        }
        if let Some(v) = args.audit_digest_interval_seconds {
            config.audit_digest_interval_seconds = v;
        }
        for entry in &args.oidc_jwks {
            let Some((issuer, source)) = entry.split_once('=') else {
                return Err(ConfigError::Invalid {
                    field: "oidc_jwks",
                    message: format!("{entry:?} is not ISSUER=PATH_OR_URL"),
                });
            };
            config
                .oidc_jwks
                .insert(issuer.trim().to_owned(), source.trim().to_owned());
        }
        if let Some(v) = args.query_timeout_ms {
            config.query.timeout_ms = v;
        }
        if let Some(v) = args.query_max_samples {
            config.query.max_samples = v;
        }
        if let Some(v) = args.query_max_series {
            config.query.max_series = v;
        }
        if let Some(v) = args.query_max_concurrency {
            config.query.max_concurrency = v;
        }
        if let Some(v) = args.query_queue_timeout_ms {
            config.query.queue_timeout_ms = v;
        }
        config.root_access_key = match (&args.root_access_key_id, &args.root_secret_access_key) {
            (Some(id), Some(secret)) if !id.is_empty() && !secret.expose().is_empty() => {
                Some(RootAccessKey {
                    access_key_id: id.clone(),
                    secret: secret.clone(),
                })
            }
            (None, None) => None,
            _ => {
                return Err(ConfigError::Invalid {
                    field: "root_access_key_id",
                    message: "give both the root access key id and its secret, or neither".into(),
                });
            }
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks every setting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, message: &str| {
            Err(ConfigError::Invalid {
                field,
                message: message.into(),
            })
        };
        if self.account_id.len() != 12 || !self.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return invalid("account_id", "must be exactly 12 digits");
        }
        let region_ok = {
            let parts: Vec<&str> = self.region.split('-').collect();
            parts.len() >= 3
                && parts.iter().all(|p| {
                    !p.is_empty()
                        && p.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                })
                && parts
                    .last()
                    .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
        };
        if !region_ok {
            return invalid("region", "must look like an AWS region, e.g. us-east-1");
        }
        if let Some(u) = &self.external_url {
            match url::Url::parse(u) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
                _ => return invalid("external_url", "must be an absolute http(s) URL"),
            }
        }
        if self.transition_delay_ms > 60_000 {
            return invalid("transition_delay_ms", "must be at most 60000");
        }
        if self.ingestion_rate == 0 {
            return invalid("ingestion_rate", "must be at least 1");
        }
        if self.ingestion_burst == 0 {
            return invalid("ingestion_burst", "must be at least 1");
        }
        if self.max_active_series == 0 {
            return invalid("max_active_series", "must be at least 1");
        }
        if self.max_workspaces == 0 {
            return invalid("max_workspaces", "must be at least 1");
        }
        for (issuer, source) in &self.oidc_jwks {
            if !issuer.starts_with("https://") && !issuer.starts_with("http://") {
                return invalid("oidc_jwks", "issuers must be http(s) URLs");
            }
            if source.is_empty() {
                return invalid("oidc_jwks", "each issuer needs a file path or URL");
            }
        }
        if self.data_dir.as_os_str().is_empty() {
            return invalid("data_dir", "must not be empty");
        }
        let q = &self.query;
        if q.timeout_ms == 0 || q.max_samples == 0 || q.max_series == 0 || q.max_concurrency == 0 {
            return invalid(
                "query",
                "timeout_ms, max_samples, max_series and max_concurrency must be at least 1",
            );
        }
        if !(1..=86_400).contains(&self.audit_roll_interval_seconds) {
            return invalid("audit_roll_interval_seconds", "must be 1..=86400");
        }
        if !(1..=86_400).contains(&self.audit_digest_interval_seconds) {
            return invalid("audit_digest_interval_seconds", "must be 1..=86400");
        }
        self.tls.validate()
    }
}

/// Applies the TLS flags; switches given on the command line turn a setting on, never off.
fn merge_tls(tls: &mut TlsSettings, args: &ServeArgs) {
    if let Some(v) = &args.tls_cert {
        tls.cert = Some(v.clone());
    }
    if let Some(v) = &args.tls_key {
        tls.key = Some(v.clone());
    }
    if let Some(v) = &args.tls_client_ca {
        tls.client_ca = Some(v.clone());
    }
    tls.self_signed |= args.tls_self_signed;
    tls.require |= args.require_tls;
    if let Some(v) = args.tls_reload_interval_ms {
        tls.reload_interval_ms = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/ampd.example.toml");

    #[test]
    fn example_config_parses_and_validates() {
        let text = std::fs::read_to_string(EXAMPLE).unwrap();
        let config = Config::from_toml(&text, Path::new(EXAMPLE)).unwrap();
        config.validate().unwrap();
        assert_eq!(
            config,
            Config {
                external_url: config.external_url.clone(),
                ..Config::default()
            }
        );
    }

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ampd.toml");
        std::fs::write(
            &file,
            "region = \"eu-west-1\"\naccount_id = \"123456789012\"\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(file),
            account_id: Some("210987654321".into()),
            ..ServeArgs::default()
        };
        let c = Config::load(&args).unwrap();
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.account_id, "210987654321");
        assert_eq!(c.listen, default_listen());
    }

    #[test]
    fn command_line_flags_reach_the_config() {
        // clap resolves flag > env; check that the parsed result is what `load` applies.
        let cli = Cli::try_parse_from(["ampd", "serve", "--region", "ap-south-1"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(Config::load(&args).unwrap().region, "ap-south-1");
    }

    #[test]
    fn query_limits_come_from_file_and_flags() {
        let c = Config::from_toml("[query]\nmax_series = 7\n", Path::new("t.toml")).unwrap();
        assert_eq!(c.query.max_series, 7);
        assert_eq!(c.query.max_samples, 50_000_000);
        let cli = Cli::try_parse_from(["ampd", "serve", "--query-max-concurrency", "3"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        let s = Config::load(&args).unwrap().query.settings();
        assert_eq!(s.max_concurrent, 3);
        assert_eq!(s.timeout, std::time::Duration::from_secs(120));
    }

    #[test]
    fn root_access_key_needs_both_halves() {
        let cli = Cli::try_parse_from([
            "ampd",
            "serve",
            "--root-access-key-id",
            "AKIAROOT",
            "--root-secret-access-key",
            "s3cret",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        let key = Config::load(&args).unwrap().root_access_key.unwrap();
        assert_eq!(key.access_key_id, "AKIAROOT");
        assert_eq!(key.secret.expose(), "s3cret");
        assert!(!format!("{args:?}").contains("s3cret"));
        let cli =
            Cli::try_parse_from(["ampd", "serve", "--root-access-key-id", "AKIAROOT"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        assert!(Config::load(&args).is_err());
    }

    #[test]
    fn tls_settings_come_from_the_file_and_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ampd.toml");
        std::fs::write(
            &file,
            "[tls]\ncert = \"/etc/ampd/cert.pem\"\nkey = \"/etc/ampd/key.pem\"\n",
        )
        .unwrap();
        let cli = Cli::try_parse_from([
            "ampd",
            "serve",
            "--config",
            file.to_str().unwrap(),
            "--tls-client-ca",
            "/etc/ampd/clients.pem",
            "--require-tls",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        let tls = Config::load(&args).unwrap().tls;
        assert_eq!(tls.cert.as_deref(), Some(Path::new("/etc/ampd/cert.pem")));
        assert_eq!(tls.key.as_deref(), Some(Path::new("/etc/ampd/key.pem")));
        assert_eq!(
            tls.client_ca.as_deref(),
            Some(Path::new("/etc/ampd/clients.pem"))
        );
        assert!(tls.require && tls.enabled());
        let cli = Cli::try_parse_from(["ampd", "serve", "--require-tls"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        let e = Config::load(&args).unwrap_err().to_string();
        assert!(
            e.starts_with("invalid setting tls.require: TLS is required"),
            "{e}"
        );
    }

    #[test]
    fn audit_settings_come_from_flags_env_or_file() {
        let cli = Cli::try_parse_from([
            "ampd",
            "serve",
            "--audit-data-events",
            "--audit-roll-interval-seconds",
            "2",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        let c = Config::load(&args).unwrap();
        assert!(c.audit_data_events);
        assert_eq!(
            (
                c.audit_roll_interval_seconds,
                c.audit_digest_interval_seconds
            ),
            (2, 3600)
        );
        let c = Config::from_toml("audit_data_events = true", Path::new("t.toml")).unwrap();
        assert!(c.audit_data_events);
        let cli = Cli::try_parse_from([
            "ampd",
            "audit",
            "validate",
            "--data-dir",
            "/d",
            "--start-time",
            "0",
        ])
        .unwrap();
        let Command::Audit(AuditArgs {
            command: AuditCommand::Validate(v),
        }) = cli.command
        else {
            panic!("not audit validate")
        };
        assert_eq!(
            (v.dir.data_dir.to_str(), v.start_time.as_str()),
            (Some("/d"), "0")
        );
    }

    #[test]
    fn oidc_jwks_sources_come_from_file_and_flags() {
        let c = Config::from_toml(
            "[oidc_jwks]\n\"https://issuer.test\" = \"/etc/ampd/jwks.json\"\n",
            Path::new("t.toml"),
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.oidc_jwks["https://issuer.test"], "/etc/ampd/jwks.json");
        let cli = Cli::try_parse_from([
            "ampd",
            "serve",
            "--oidc-jwks",
            "https://a.test=/tmp/a.json",
            "--oidc-jwks",
            "https://b.test/id/1=https://keys.b.test/jwks",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        let c = Config::load(&args).unwrap();
        assert_eq!(c.oidc_jwks["https://a.test"], "/tmp/a.json");
        assert_eq!(
            c.oidc_jwks["https://b.test/id/1"],
            "https://keys.b.test/jwks"
        );
        let cli = Cli::try_parse_from(["ampd", "serve", "--oidc-jwks", "no-equals"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        assert!(Config::load(&args).is_err());
        let bad = Config::from_toml("[oidc_jwks]\n\"issuer\" = \"x\"\n", Path::new("t.toml"));
        assert!(bad.unwrap().validate().is_err());
    }

    #[test]
    fn invalid_settings_are_refused() {
        for toml in [
            "account_id = \"123\"",
            "region = \"mars\"",
            "external_url = \"ftp://x\"",
            "max_workspaces = 0",
            "ingestion_rate = 0",
            "max_active_series = 0",
            "transition_delay_ms = 600000",
            "audit_roll_interval_seconds = 0",
            "[query]\nmax_concurrency = 0",
        ] {
            let c = Config::from_toml(toml, Path::new("t.toml")).unwrap();
            assert!(c.validate().is_err(), "{toml}");
        }
        assert!(Config::from_toml("unknown = 1", Path::new("t.toml")).is_err());
    }
}
