//! Configuration of `ampd serve`.
//!
//! Sources, lowest precedence first: built-in defaults, the TOML file given by
//! `--config`/`AMPD_CONFIG`, environment variables (`AMPD_*`), command-line flags. The merged
//! [`Config`] is validated before the server starts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ampd_iam::SecretKey;
use clap::{Args, Parser, Subcommand};
use serde::{Deserialize, Serialize};

use crate::data::QuerySettings;
use crate::iam::RootAccessKey;

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
    Serve(ServeArgs),
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
    /// URL clients reach this server at, used in prometheusEndpoint [default: "http://" and
    /// the bound address].
    #[arg(long, env = "AMPD_EXTERNAL_URL", value_name = "URL")]
    pub external_url: Option<String>,
    /// Delay before CREATING/UPDATING resources become ACTIVE and DELETING ones disappear, in
    /// milliseconds [default: 500].
    #[arg(long, env = "AMPD_TRANSITION_DELAY_MS", value_name = "MS")]
    pub transition_delay_ms: Option<u64>,
    /// Workspaces allowed in the account [default: 25].
    #[arg(long, env = "AMPD_MAX_WORKSPACES", value_name = "N")]
    pub max_workspaces: Option<u32>,
    /// Access key id of the account root user; with --root-secret-access-key [default: one
    /// generated on first start and kept in <data-dir>/root-credentials.json].
    #[arg(long, env = "AMPD_ROOT_ACCESS_KEY_ID", value_name = "ID")]
    pub root_access_key_id: Option<String>,
    /// Secret access key of the account root user; with --root-access-key-id.
    #[arg(long, env = "AMPD_ROOT_SECRET_ACCESS_KEY", value_name = "SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub root_secret_access_key: Option<SecretKey>,
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
    /// Unset: `http://` followed by the bound address.
    #[serde(default)]
    pub external_url: Option<String>,
    /// Milliseconds before a transitional status (CREATING, UPDATING, DELETING) completes.
    #[serde(default = "default_transition_delay_ms")]
    pub transition_delay_ms: u64,
    /// Workspaces allowed in the account (AMP's default quota is 25 per region).
    #[serde(default = "default_max_workspaces")]
    pub max_workspaces: u32,
    /// The root user's access key, from flags or environment only (never from the file).
    /// Unset: generated on first start into `root-credentials.json` in the data folder.
    #[serde(skip)]
    pub root_access_key: Option<RootAccessKey>,
    /// Limits of PromQL queries (the `[query]` table).
    #[serde(default)]
    pub query: QueryConfig,
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
            root_access_key: None,
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
        if self.max_workspaces == 0 {
            return invalid("max_workspaces", "must be at least 1");
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
        Ok(())
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
        let Command::Serve(args) = cli.command;
        assert_eq!(Config::load(&args).unwrap().region, "ap-south-1");
    }

    #[test]
    fn query_limits_come_from_file_and_flags() {
        let c = Config::from_toml("[query]\nmax_series = 7\n", Path::new("t.toml")).unwrap();
        assert_eq!(c.query.max_series, 7);
        assert_eq!(c.query.max_samples, 50_000_000);
        let cli = Cli::try_parse_from(["ampd", "serve", "--query-max-concurrency", "3"]).unwrap();
        let Command::Serve(args) = cli.command;
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
        let Command::Serve(args) = cli.command;
        let key = Config::load(&args).unwrap().root_access_key.unwrap();
        assert_eq!(key.access_key_id, "AKIAROOT");
        assert_eq!(key.secret.expose(), "s3cret");
        assert!(!format!("{args:?}").contains("s3cret"));
        let cli =
            Cli::try_parse_from(["ampd", "serve", "--root-access-key-id", "AKIAROOT"]).unwrap();
        let Command::Serve(args) = cli.command;
        assert!(Config::load(&args).is_err());
    }

    #[test]
    fn invalid_settings_are_refused() {
        for toml in [
            "account_id = \"123\"",
            "region = \"mars\"",
            "external_url = \"ftp://x\"",
            "max_workspaces = 0",
            "transition_delay_ms = 600000",
            "[query]\nmax_concurrency = 0",
        ] {
            let c = Config::from_toml(toml, Path::new("t.toml")).unwrap();
            assert!(c.validate().is_err(), "{toml}");
        }
        assert!(Config::from_toml("unknown = 1", Path::new("t.toml")).is_err());
    }
}
