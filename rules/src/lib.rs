//! Rule groups evaluation (recording and alerting rules) and the per-workspace Alertmanager.
//!
//! The evaluation half is [`RuleEngine`]: the API server feeds it each workspace's rule groups
//! namespaces and alert manager definition ([`RuleEngine::sync_rules`],
//! [`RuleEngine::sync_alertmanager`]) and calls [`RuleEngine::tick`]; every group is evaluated
//! on its aligned interval through [`ampd_backends::MetricsBackend`] (so on any backend),
//! recording rules write series, alerting rules keep pending/firing state (`for`,
//! `keep_firing_for`), write `ALERTS`/`ALERTS_FOR_STATE`, expand Prometheus rule templates and
//! resume from `ALERTS_FOR_STATE` after a restart; firing alerts go to the workspace's
//! [`Alertmanager`]. [`RuleGroupView`] and [`AlertView`] are the `/api/v1/rules` and
//! `/api/v1/alerts` JSON shapes. Differences from Prometheus: a restored alert resumes the
//! pending time it had (no `for_grace_period`), and rules without `for` are restored too, so
//! firing alerts keep their `activeAt` across restarts; native histogram results are an
//! evaluation error.
//!
//! The Alertmanager half is a library the API server hosts once per workspace:
//! - [`validate_definition`] parses and checks an AMP alert manager definition (outer YAML with
//!   `alertmanager_config` and `template_files`) the way `amtool check-config` would, limited to
//!   the receivers AMP and ampd support (`sns_configs`, `webhook_configs`);
//! - [`Alertmanager`] holds alerts, silences, inhibition, aggregation groups and the
//!   notification log of one workspace, driven by an injected [`Clock`] and flushed by
//!   [`Alertmanager::tick`];
//! - the `wire` types are the Alertmanager API v2 JSON shapes, so handlers stay thin.
//!
//! Choices where ampd departs from or narrows Prometheus Alertmanager:
//! - `global` accepts Alertmanager's keys but only `resolve_timeout` has an effect (the others
//!   configure integrations ampd does not offer); unknown keys anywhere are errors;
//! - receivers may hold `sns_configs` and `webhook_configs` only; webhook `http_config` supports
//!   `basic_auth`, `authorization` and `follow_redirects`;
//! - SNS requests are signed with the config's `access_key`/`secret_key`, else with the host's
//!   [`NotifySettings::sns_credentials`]; `profile` and `role_arn` are accepted but not used;
//! - notification templates are a documented subset of Go `text/template`, checked at
//!   validation time;
//! - time intervals use the IANA database bundled into the binary; `location: Local` is refused;
//! - alerts are routed when posted, so none is ever reported `unprocessed`;
//! - state files in the storage directory: `silences.json` and `nflog.json`, replaced atomically.
//!
//! ```
//! use std::sync::Arc;
//! use ampd_rules::{Alertmanager, AlertFilter, NotifySettings, SystemClock, validate_definition};
//!
//! let def = validate_definition(b"alertmanager_config: |\n  route: {receiver: default}\n  receivers: [{name: default}]\n")?;
//! let dir = tempfile::tempdir()?;
//! let am = Alertmanager::new(def, dir.path(), Arc::new(SystemClock), NotifySettings::default())?;
//! let alert = serde_json::from_str(r#"{"labels": {"alertname": "Down"}}"#)?;
//! am.put_alerts(vec![alert])?;
//! assert_eq!(am.alerts(&AlertFilter::default()).len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod alert;
mod alertmanager;
mod clock;
mod config;
mod dispatch;
mod eval;
mod inhibit;
mod matchers;
mod nflog;
mod notify;
mod persist;
mod route;
mod secret;
mod silence;
mod template;
mod timeinterval;
mod wire;

pub use alert::{AlertError, Fingerprint};
pub use alertmanager::{AlertFilter, Alertmanager, AlertmanagerError, ErrorKind, TickReport};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    Authorization, BasicAuth, Config, ConfigError, Definition, Global, GroupBy, HttpClientConfig,
    InhibitRule, PromDuration, Receiver, Route, SigV4Config, SnsConfig, WebhookConfig,
    parse_config, validate_definition,
};
pub use eval::{
    AlertRuleState, AlertView, EngineError, EngineSettings, GroupSpec, RuleEngine, RuleFileError,
    RuleFilter, RuleGroupView, RuleHealth, RuleKind, RuleSpec, RuleType, RuleView, parse_rule_file,
};
pub use matchers::{LabelSet, MatchOp, Matcher, MatcherError};
pub use notify::{AwsCredentials, NotifyError, NotifySettings};
pub use secret::Secret;
pub use silence::SilenceError;
pub use template::TemplateError;
pub use timeinterval::{TimeInterval, TimeIntervalSet};
pub use wire::{
    AlertGroup, AlertState, AlertStatus, AlertmanagerConfigStatus, AlertmanagerStatus,
    GettableAlert, GettableSilence, PostSilenceResponse, PostableAlert, PostableSilence,
    ReceiverName, SilenceState, SilenceStatus, WireMatcher,
};
