//! AMP alert manager definitions: the outer document and the Alertmanager configuration inside.
//!
//! The outer YAML has `alertmanager_config` (a string or a mapping) and an optional
//! `template_files` map. The inner configuration is checked the way `amtool check-config` checks
//! it, restricted to what AMP accepts: receivers may only hold `sns_configs` (AMP) and
//! `webhook_configs` (ampd). `global` accepts Alertmanager's documented keys, but only
//! `resolve_timeout` has an effect: every other global key configures an integration ampd
//! does not offer, so it is accepted and ignored rather than refused.

mod duration;

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_norway::Value;

pub use self::duration::PromDuration;
use crate::matchers::{LabelSet, MatchOp, Matcher, MatcherError};
use crate::secret::Secret;
use crate::timeinterval::{RawTimeInterval, TimeIntervalSet};

/// Why a definition was refused; the message is fit for a `ValidationException`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The document is not YAML of the expected shape (includes unknown keys).
    #[error("invalid YAML: {0}")]
    Yaml(String),
    /// The outer document has no `alertmanager_config`.
    #[error("alertmanager_config is required")]
    MissingConfig,
    /// A receiver uses an integration other than `sns_configs` / `webhook_configs`.
    #[error(
        "receiver {receiver:?}: {kind} is not supported (only sns_configs and webhook_configs)"
    )]
    UnsupportedReceiver {
        /// Receiver name.
        receiver: String,
        /// The refused key, e.g. `slack_configs`.
        kind: String,
    },
    /// A route names a receiver that is not defined.
    #[error("undefined receiver {0:?} used in route")]
    UndefinedReceiver(String),
    /// Two receivers share a name.
    #[error("notification config name {0:?} is not unique")]
    DuplicateReceiver(String),
    /// A route names a time interval that is not defined.
    #[error("undefined time interval {0:?} used in route")]
    UndefinedTimeInterval(String),
    /// Two time intervals share a name.
    #[error("time interval {0:?} is not unique")]
    DuplicateTimeInterval(String),
    /// A matcher does not parse.
    #[error(transparent)]
    Matcher(#[from] MatcherError),
    /// Any other semantic problem, with Alertmanager's wording where it has one.
    #[error("{0}")]
    Invalid(String),
}

fn yaml_err(e: serde_norway::Error) -> ConfigError {
    ConfigError::Yaml(e.to_string())
}

/// A validated alert manager definition.
#[derive(Debug, Clone)]
pub struct Definition {
    /// The Alertmanager configuration.
    pub config: Config,
    /// Template file name → template text, from `template_files`.
    pub template_files: BTreeMap<String, String>,
    /// The Alertmanager configuration as YAML text (the status endpoint's `config.original`).
    pub original: String,
}

/// A validated Alertmanager configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Settings from `global`.
    pub global: Global,
    /// The routing tree, with parent settings inherited.
    pub route: Route,
    /// Inhibition rules.
    pub inhibit_rules: Vec<InhibitRule>,
    /// Receivers, in file order.
    pub receivers: Vec<Receiver>,
    /// Named time intervals (`time_intervals` and legacy `mute_time_intervals`).
    pub time_intervals: Vec<TimeIntervalSet>,
    /// Template file names from `templates`.
    pub templates: Vec<String>,
}

impl Config {
    /// Returns the receiver called `name`.
    pub fn receiver(&self, name: &str) -> Option<&Receiver> {
        self.receivers.iter().find(|r| r.name == name)
    }

    /// Returns the time interval called `name`.
    pub fn time_interval(&self, name: &str) -> Option<&TimeIntervalSet> {
        self.time_intervals.iter().find(|t| t.name == name)
    }
}

/// The `global` settings that have an effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    /// How long after its last update an alert without `endsAt` is considered resolved.
    pub resolve_timeout: PromDuration,
}

/// How a route groups alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    /// `...`: every label, so each alert is its own group.
    All,
    /// These labels (possibly none: one group per route).
    Labels(Vec<String>),
}

impl GroupBy {
    /// Returns the group labels of `labels`.
    pub fn group_labels(&self, labels: &LabelSet) -> LabelSet {
        match self {
            Self::All => labels.clone(),
            Self::Labels(names) => names
                .iter()
                .filter_map(|n| labels.get(n).map(|v| (n.clone(), v.clone())))
                .collect(),
        }
    }
}

/// A node of the routing tree, with inherited settings already applied.
#[derive(Debug, Clone)]
pub struct Route {
    /// Receiver for alerts ending at this route.
    pub receiver: String,
    /// Grouping.
    pub group_by: GroupBy,
    /// Wait before the first notification of a new group.
    pub group_wait: PromDuration,
    /// Wait before notifying about alerts added to a group already notified.
    pub group_interval: PromDuration,
    /// Wait before re-sending a notification that has not changed.
    pub repeat_interval: PromDuration,
    /// Matchers (from `matchers`, `match` and `match_re`); all must match.
    pub matchers: Vec<Matcher>,
    /// Whether matching continues with later siblings after this route matched.
    pub continue_matching: bool,
    /// Intervals during which notifications are muted.
    pub mute_time_intervals: Vec<String>,
    /// Intervals outside of which notifications are muted.
    pub active_time_intervals: Vec<String>,
    /// Child routes.
    pub routes: Vec<Route>,
    /// Key used in group keys: the matchers of this route and its ancestors.
    pub key: String,
    /// Unique identifier: the key plus the position among siblings.
    pub id: String,
}

/// An inhibition rule.
#[derive(Debug, Clone)]
pub struct InhibitRule {
    /// Matchers a firing alert must satisfy to inhibit.
    pub source_matchers: Vec<Matcher>,
    /// Matchers an alert must satisfy to be inhibited.
    pub target_matchers: Vec<Matcher>,
    /// Labels whose values must be equal in source and target.
    pub equal: Vec<String>,
}

/// A receiver and its integrations.
#[derive(Debug, Clone)]
pub struct Receiver {
    /// Unique name.
    pub name: String,
    /// Amazon SNS integrations.
    pub sns_configs: Vec<SnsConfig>,
    /// Webhook integrations.
    pub webhook_configs: Vec<WebhookConfig>,
}

/// One `sns_configs` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnsConfig {
    /// Whether resolved alerts are notified.
    #[serde(default = "default_true")]
    pub send_resolved: bool,
    /// SNS API endpoint; defaults to the endpoint the host configured.
    #[serde(default)]
    pub api_url: Option<String>,
    /// Signing settings.
    #[serde(default)]
    pub sigv4: SigV4Config,
    /// Topic to publish to.
    #[serde(default)]
    pub topic_arn: Option<String>,
    /// Mobile endpoint to publish to.
    #[serde(default)]
    pub target_arn: Option<String>,
    /// Phone number to publish to.
    #[serde(default)]
    pub phone_number: Option<String>,
    /// Subject template; `None` uses the default subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// Message template; `None` uses the default message.
    #[serde(default)]
    pub message: Option<String>,
    /// SNS message attributes.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// The `sigv4` block of an SNS config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigV4Config {
    /// Region; defaults to the region in the topic ARN.
    #[serde(default)]
    pub region: Option<String>,
    /// Access key id.
    #[serde(default)]
    pub access_key: Option<String>,
    /// Secret access key.
    #[serde(default)]
    pub secret_key: Option<Secret>,
    /// Named profile (accepted; ampd signs with explicit or host credentials).
    #[serde(default)]
    pub profile: Option<String>,
    /// Role to assume (accepted; ampd signs with explicit or host credentials).
    #[serde(default)]
    pub role_arn: Option<String>,
}

/// One `webhook_configs` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Whether resolved alerts are notified.
    #[serde(default = "default_true")]
    pub send_resolved: bool,
    /// Where to POST.
    pub url: Option<String>,
    /// At most this many alerts per message (0 = all).
    #[serde(default)]
    pub max_alerts: u64,
    /// HTTP client settings.
    #[serde(default)]
    pub http_config: HttpClientConfig,
}

/// The supported subset of Prometheus' `http_config`: authentication only.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpClientConfig {
    /// HTTP basic authentication.
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    /// `Authorization` header.
    #[serde(default)]
    pub authorization: Option<Authorization>,
    /// Whether redirects are followed (default true).
    #[serde(default = "default_true")]
    pub follow_redirects: bool,
}

/// HTTP basic authentication.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// Password.
    #[serde(default)]
    pub password: Option<Secret>,
}

/// An `Authorization` header with a scheme.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// Scheme (default `Bearer`).
    #[serde(default = "default_bearer", rename = "type")]
    pub kind: String,
    /// Credentials after the scheme.
    #[serde(default)]
    pub credentials: Option<Secret>,
}

fn default_true() -> bool {
    true
}

fn default_bearer() -> String {
    "Bearer".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefinition {
    alertmanager_config: Option<Value>,
    #[serde(default)]
    template_files: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    global: Option<BTreeMap<String, Value>>,
    route: Option<RawRoute>,
    #[serde(default)]
    inhibit_rules: Vec<RawInhibitRule>,
    #[serde(default)]
    receivers: Vec<BTreeMap<String, Value>>,
    #[serde(default)]
    templates: Vec<String>,
    #[serde(default)]
    time_intervals: Vec<RawNamedInterval>,
    #[serde(default)]
    mute_time_intervals: Vec<RawNamedInterval>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNamedInterval {
    name: String,
    #[serde(default)]
    time_intervals: Vec<RawTimeInterval>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    receiver: Option<String>,
    group_by: Option<Vec<String>>,
    group_wait: Option<PromDuration>,
    group_interval: Option<PromDuration>,
    repeat_interval: Option<PromDuration>,
    #[serde(default)]
    matchers: Vec<String>,
    #[serde(default, rename = "match")]
    match_eq: BTreeMap<String, String>,
    #[serde(default)]
    match_re: BTreeMap<String, String>,
    #[serde(default, rename = "continue")]
    continue_matching: bool,
    #[serde(default)]
    mute_time_intervals: Vec<String>,
    #[serde(default)]
    active_time_intervals: Vec<String>,
    #[serde(default)]
    routes: Vec<RawRoute>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInhibitRule {
    #[serde(default)]
    source_matchers: Vec<String>,
    #[serde(default)]
    target_matchers: Vec<String>,
    #[serde(default)]
    source_match: BTreeMap<String, String>,
    #[serde(default)]
    source_match_re: BTreeMap<String, String>,
    #[serde(default)]
    target_match: BTreeMap<String, String>,
    #[serde(default)]
    target_match_re: BTreeMap<String, String>,
    #[serde(default)]
    equal: Vec<String>,
}

/// `global` keys Alertmanager documents; all but `resolve_timeout` are accepted and ignored.
const GLOBAL_KEYS: &[&str] = &[
    "resolve_timeout",
    "http_config",
    "smtp_from",
    "smtp_hello",
    "smtp_smarthost",
    "smtp_auth_username",
    "smtp_auth_password",
    "smtp_auth_password_file",
    "smtp_auth_secret",
    "smtp_auth_identity",
    "smtp_require_tls",
    "smtp_tls_config",
    "slack_api_url",
    "slack_api_url_file",
    "victorops_api_key",
    "victorops_api_key_file",
    "victorops_api_url",
    "pagerduty_url",
    "opsgenie_api_key",
    "opsgenie_api_key_file",
    "opsgenie_api_url",
    "wechat_api_url",
    "wechat_api_secret",
    "wechat_api_corp_id",
    "telegram_api_url",
    "webex_api_url",
    "jira_api_url",
    "rocketchat_api_url",
    "rocketchat_token",
    "rocketchat_token_id",
];

/// Receiver integrations Alertmanager has but AMP and ampd refuse.
const UNSUPPORTED_INTEGRATIONS: &[&str] = &[
    "email_configs",
    "pagerduty_configs",
    "slack_configs",
    "opsgenie_configs",
    "wechat_configs",
    "pushover_configs",
    "victorops_configs",
    "telegram_configs",
    "webex_configs",
    "discord_configs",
    "msteams_configs",
    "msteamsv2_configs",
    "jira_configs",
    "rocketchat_configs",
];

/// Parses and validates an AMP alert manager definition (the `data` of
/// `CreateAlertManagerDefinition` / `PutAlertManagerDefinition`).
pub fn validate_definition(yaml: &[u8]) -> Result<Definition, ConfigError> {
    let raw: RawDefinition = serde_norway::from_slice(yaml).map_err(yaml_err)?;
    let original = match raw.alertmanager_config {
        None | Some(Value::Null) => return Err(ConfigError::MissingConfig),
        Some(Value::String(s)) => s,
        Some(v @ Value::Mapping(_)) => serde_norway::to_string(&v).map_err(yaml_err)?,
        Some(_) => {
            return Err(ConfigError::Invalid(
                "alertmanager_config must be a string or a mapping".to_owned(),
            ));
        }
    };
    let config = parse_config(&original)?;
    for name in &config.templates {
        if !raw.template_files.contains_key(name) && !name.contains('*') {
            return Err(ConfigError::Invalid(format!(
                "template {name:?} is not among template_files"
            )));
        }
    }
    let def = Definition {
        config,
        template_files: raw.template_files,
        original,
    };
    crate::template::Templates::compile(&def).map_err(|e| ConfigError::Invalid(e.to_string()))?;
    Ok(def)
}

/// Parses and validates a bare Alertmanager configuration (the inner document).
pub fn parse_config(yaml: &str) -> Result<Config, ConfigError> {
    let raw: RawConfig = serde_norway::from_str(yaml).map_err(yaml_err)?;
    let global = parse_global(raw.global.unwrap_or_default())?;

    let mut receivers = Vec::with_capacity(raw.receivers.len());
    let mut names = BTreeSet::new();
    for r in raw.receivers {
        let receiver = parse_receiver(r)?;
        if !names.insert(receiver.name.clone()) {
            return Err(ConfigError::DuplicateReceiver(receiver.name));
        }
        receivers.push(receiver);
    }

    let mut time_intervals = Vec::new();
    for ti in raw
        .time_intervals
        .into_iter()
        .chain(raw.mute_time_intervals)
    {
        if time_intervals
            .iter()
            .any(|t: &TimeIntervalSet| t.name == ti.name)
        {
            return Err(ConfigError::DuplicateTimeInterval(ti.name));
        }
        let intervals = ti
            .time_intervals
            .into_iter()
            .map(RawTimeInterval::validate)
            .collect::<Result<_, _>>()
            .map_err(|e| ConfigError::Invalid(format!("time interval {:?}: {e}", ti.name)))?;
        time_intervals.push(TimeIntervalSet {
            name: ti.name,
            intervals,
        });
    }

    let raw_route = raw
        .route
        .ok_or_else(|| ConfigError::Invalid("no routes provided".to_owned()))?;
    if raw_route.receiver.as_deref().unwrap_or("").is_empty() {
        return Err(ConfigError::Invalid(
            "root route must specify a default receiver".to_owned(),
        ));
    }
    if !raw_route.matchers.is_empty()
        || !raw_route.match_eq.is_empty()
        || !raw_route.match_re.is_empty()
    {
        return Err(ConfigError::Invalid(
            "root route must not have any matchers".to_owned(),
        ));
    }
    if raw_route.continue_matching {
        return Err(ConfigError::Invalid(
            "cannot have continue in root route".to_owned(),
        ));
    }
    if !raw_route.mute_time_intervals.is_empty() {
        return Err(ConfigError::Invalid(
            "root route must not have any mute time intervals".to_owned(),
        ));
    }
    if !raw_route.active_time_intervals.is_empty() {
        return Err(ConfigError::Invalid(
            "root route must not have any active time intervals".to_owned(),
        ));
    }
    let root_defaults = Inherited {
        receiver: String::new(),
        group_by: GroupBy::Labels(Vec::new()),
        group_wait: PromDuration::from_secs(30),
        group_interval: PromDuration::from_secs(300),
        repeat_interval: PromDuration::from_secs(4 * 3600),
    };
    let route = build_route(raw_route, &root_defaults, None, 0)?;
    check_route_refs(&route, &names, &time_intervals)?;

    let inhibit_rules = raw
        .inhibit_rules
        .into_iter()
        .map(parse_inhibit_rule)
        .collect::<Result<_, _>>()?;
    Ok(Config {
        global,
        route,
        inhibit_rules,
        receivers,
        time_intervals,
        templates: raw.templates,
    })
}

fn parse_global(map: BTreeMap<String, Value>) -> Result<Global, ConfigError> {
    let mut global = Global {
        resolve_timeout: PromDuration::from_secs(300),
    };
    for (key, value) in map {
        if !GLOBAL_KEYS.contains(&key.as_str()) {
            return Err(ConfigError::Yaml(format!("global: unknown field `{key}`")));
        }
        if key == "resolve_timeout" {
            global.resolve_timeout = serde_norway::from_value(value)
                .map_err(|e| ConfigError::Invalid(format!("global.resolve_timeout: {e}")))?;
        }
    }
    Ok(global)
}

fn parse_receiver(mut map: BTreeMap<String, Value>) -> Result<Receiver, ConfigError> {
    let name = match map.remove("name") {
        Some(Value::String(n)) if !n.is_empty() => n,
        _ => return Err(ConfigError::Invalid("missing name in receiver".to_owned())),
    };
    let mut receiver = Receiver {
        name,
        sns_configs: Vec::new(),
        webhook_configs: Vec::new(),
    };
    for (key, value) in map {
        let in_receiver = |e: serde_norway::Error| {
            ConfigError::Yaml(format!("receiver {:?}: {key}: {e}", receiver.name))
        };
        match key.as_str() {
            "sns_configs" => {
                receiver.sns_configs = serde_norway::from_value(value).map_err(in_receiver)?
            }
            "webhook_configs" => {
                receiver.webhook_configs = serde_norway::from_value(value).map_err(in_receiver)?
            }
            k if UNSUPPORTED_INTEGRATIONS.contains(&k) => {
                return Err(ConfigError::UnsupportedReceiver {
                    receiver: receiver.name,
                    kind: key,
                });
            }
            _ => {
                return Err(ConfigError::Yaml(format!(
                    "receiver {:?}: unknown field `{key}`",
                    receiver.name
                )));
            }
        }
    }
    for sns in &receiver.sns_configs {
        let targets = [&sns.topic_arn, &sns.target_arn, &sns.phone_number]
            .iter()
            .filter(|t| t.is_some())
            .count();
        if targets != 1 {
            return Err(ConfigError::Invalid(format!(
                "receiver {:?}: must provide exactly one of target_arn, topic_arn or phone_number for SNS config",
                receiver.name
            )));
        }
        if sns.sigv4.access_key.is_some() != sns.sigv4.secret_key.is_some() {
            return Err(ConfigError::Invalid(format!(
                "receiver {:?}: sigv4 access_key and secret_key must be given together",
                receiver.name
            )));
        }
        if let Some(url) = &sns.api_url {
            check_http_url(&receiver.name, "api_url", url)?;
        }
    }
    for hook in &receiver.webhook_configs {
        let url = hook.url.as_deref().ok_or_else(|| {
            ConfigError::Invalid(format!(
                "receiver {:?}: missing URL in webhook config",
                receiver.name
            ))
        })?;
        check_http_url(&receiver.name, "url", url)?;
        if hook.http_config.basic_auth.is_some() && hook.http_config.authorization.is_some() {
            return Err(ConfigError::Invalid(format!(
                "receiver {:?}: at most one of basic_auth and authorization must be configured",
                receiver.name
            )));
        }
    }
    Ok(receiver)
}

fn check_http_url(receiver: &str, field: &str, url: &str) -> Result<(), ConfigError> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(ConfigError::Invalid(format!(
            "receiver {receiver:?}: {field}: unsupported or invalid URL {url:?}"
        ))),
    }
}

struct Inherited {
    receiver: String,
    group_by: GroupBy,
    group_wait: PromDuration,
    group_interval: PromDuration,
    repeat_interval: PromDuration,
}

fn legacy_matchers(
    eq: BTreeMap<String, String>,
    re: BTreeMap<String, String>,
) -> Result<Vec<Matcher>, ConfigError> {
    let mut out = Vec::new();
    for (name, value) in eq {
        check_label_name(&name)?;
        out.push(Matcher::new(name, MatchOp::Equal, value)?);
    }
    for (name, value) in re {
        check_label_name(&name)?;
        out.push(Matcher::new(name, MatchOp::Regex, value)?);
    }
    Ok(out)
}

fn check_label_name(name: &str) -> Result<(), ConfigError> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Invalid(format!("invalid label name {name:?}")))
    }
}

fn parse_matchers(list: &[String]) -> Result<Vec<Matcher>, ConfigError> {
    let mut out = Vec::new();
    for m in list {
        out.extend(Matcher::parse_list(m)?);
    }
    Ok(out)
}

fn build_route(
    raw: RawRoute,
    parent: &Inherited,
    parent_key: Option<&str>,
    index: usize,
) -> Result<Route, ConfigError> {
    let mut matchers = parse_matchers(&raw.matchers)?;
    matchers.extend(legacy_matchers(raw.match_eq, raw.match_re)?);
    let group_by = match raw.group_by {
        None => parent.group_by.clone(),
        Some(labels) => {
            if labels.iter().any(|l| l == "...") {
                if labels.len() > 1 {
                    return Err(ConfigError::Invalid(
                        "cannot have wildcard group_by (`...`) and other labels at the same time"
                            .to_owned(),
                    ));
                }
                GroupBy::All
            } else {
                let mut seen = BTreeSet::new();
                for l in &labels {
                    check_label_name(l)?;
                    if !seen.insert(l) {
                        return Err(ConfigError::Invalid(format!(
                            "duplicated label {l:?} in group_by"
                        )));
                    }
                }
                GroupBy::Labels(labels)
            }
        }
    };
    let here = Inherited {
        receiver: raw
            .receiver
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| parent.receiver.clone()),
        group_by,
        group_wait: raw.group_wait.unwrap_or(parent.group_wait),
        group_interval: raw.group_interval.unwrap_or(parent.group_interval),
        repeat_interval: raw.repeat_interval.unwrap_or(parent.repeat_interval),
    };
    if here.group_interval.0.is_zero() {
        return Err(ConfigError::Invalid(
            "group_interval cannot be zero".to_owned(),
        ));
    }
    if here.repeat_interval.0.is_zero() {
        return Err(ConfigError::Invalid(
            "repeat_interval cannot be zero".to_owned(),
        ));
    }
    let own: Vec<String> = matchers.iter().map(ToString::to_string).collect();
    let own = format!("{{{}}}", own.join(","));
    let (key, id) = match parent_key {
        None => (own.clone(), own),
        Some(p) => (format!("{p}/{own}"), format!("{p}/{own}/{index}")),
    };
    let routes = raw
        .routes
        .into_iter()
        .enumerate()
        .map(|(i, r)| build_route(r, &here, Some(&key), i))
        .collect::<Result<_, _>>()?;
    Ok(Route {
        receiver: here.receiver,
        group_by: here.group_by,
        group_wait: here.group_wait,
        group_interval: here.group_interval,
        repeat_interval: here.repeat_interval,
        matchers,
        continue_matching: raw.continue_matching,
        mute_time_intervals: raw.mute_time_intervals,
        active_time_intervals: raw.active_time_intervals,
        routes,
        key,
        id,
    })
}

fn check_route_refs(
    route: &Route,
    receivers: &BTreeSet<String>,
    intervals: &[TimeIntervalSet],
) -> Result<(), ConfigError> {
    if !receivers.contains(&route.receiver) {
        return Err(ConfigError::UndefinedReceiver(route.receiver.clone()));
    }
    for name in route
        .mute_time_intervals
        .iter()
        .chain(&route.active_time_intervals)
    {
        if !intervals.iter().any(|t| &t.name == name) {
            return Err(ConfigError::UndefinedTimeInterval(name.clone()));
        }
    }
    route
        .routes
        .iter()
        .try_for_each(|r| check_route_refs(r, receivers, intervals))
}

fn parse_inhibit_rule(raw: RawInhibitRule) -> Result<InhibitRule, ConfigError> {
    let mut source_matchers = parse_matchers(&raw.source_matchers)?;
    source_matchers.extend(legacy_matchers(raw.source_match, raw.source_match_re)?);
    let mut target_matchers = parse_matchers(&raw.target_matchers)?;
    target_matchers.extend(legacy_matchers(raw.target_match, raw.target_match_re)?);
    for l in &raw.equal {
        check_label_name(l)?;
    }
    Ok(InhibitRule {
        source_matchers,
        target_matchers,
        equal: raw.equal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
alertmanager_config: |
  global:
    resolve_timeout: 2m
    smtp_smarthost: 'localhost:25'
  route:
    receiver: default
    group_by: [alertname]
    routes:
      - matchers: ['severity="critical"', 'team=~"db|web"']
        receiver: pager
        group_wait: 10s
        continue: true
        mute_time_intervals: [weekends]
      - match: {team: ops}
        match_re: {env: 'prod|staging'}
        group_by: ['...']
  inhibit_rules:
    - source_matchers: ['severity="critical"']
      target_match: {severity: warning}
      equal: [alertname]
  receivers:
    - name: default
    - name: pager
      sns_configs:
        - topic_arn: arn:aws:sns:us-east-1:123456789012:alerts
          sigv4: {region: us-east-1}
      webhook_configs:
        - url: http://127.0.0.1:9/hook
  time_intervals:
    - name: weekends
      time_intervals:
        - weekdays: ['saturday', 'sunday']
  templates: ['default.tmpl']
template_files:
  default.tmpl: '{{ define "x" }}x{{ end }}'
"#;

    #[test]
    fn parses_a_full_definition_with_inheritance() {
        let def = validate_definition(GOOD.as_bytes()).unwrap();
        let c = &def.config;
        assert_eq!(c.global.resolve_timeout, PromDuration::from_secs(120));
        assert_eq!(c.route.group_wait, PromDuration::from_secs(30));
        let pager = &c.route.routes[0];
        assert_eq!(pager.receiver, "pager");
        assert_eq!(pager.group_wait, PromDuration::from_secs(10));
        assert_eq!(pager.group_interval, PromDuration::from_secs(300));
        assert_eq!(pager.group_by, GroupBy::Labels(vec!["alertname".into()]));
        assert!(pager.continue_matching);
        let ops = &c.route.routes[1];
        assert_eq!(ops.receiver, "default");
        assert_eq!(ops.group_by, GroupBy::All);
        assert_eq!(ops.matchers.len(), 2);
        assert_eq!(
            c.inhibit_rules[0].target_matchers[0].to_string(),
            r#"severity="warning""#
        );
        assert_eq!(c.receiver("pager").unwrap().sns_configs.len(), 1);
        assert!(def.original.contains("resolve_timeout: 2m"));
    }

    #[test]
    fn accepts_a_mapping_as_alertmanager_config() {
        let yaml = "alertmanager_config:\n  route: {receiver: r}\n  receivers: [{name: r}]\n";
        let def = validate_definition(yaml.as_bytes()).unwrap();
        assert_eq!(def.config.route.receiver, "r");
    }

    fn err(inner: &str) -> ConfigError {
        parse_config(inner).unwrap_err()
    }

    #[test]
    fn precise_errors() {
        assert_eq!(
            err("route: {receiver: x}\nreceivers: [{name: y}]"),
            ConfigError::UndefinedReceiver("x".into())
        );
        assert_eq!(
            err("route: {receiver: x}\nreceivers: [{name: x}, {name: x}]"),
            ConfigError::DuplicateReceiver("x".into())
        );
        assert_eq!(
            err(
                "route: {receiver: x, routes: [{mute_time_intervals: [nope]}]}\nreceivers: [{name: x}]"
            ),
            ConfigError::UndefinedTimeInterval("nope".into())
        );
        assert_eq!(
            err("route: {receiver: x}\nreceivers: [{name: x, slack_configs: [{channel: a}]}]"),
            ConfigError::UnsupportedReceiver {
                receiver: "x".into(),
                kind: "slack_configs".into()
            }
        );
        assert!(matches!(
            err("route: {receiver: x, routes: [{matchers: ['a=~\"(\"']}]}\nreceivers: [{name: x}]"),
            ConfigError::Matcher(_)
        ));
        assert!(
            matches!(err("route: {receiver: x, group_wait: 5x}\nreceivers: [{name: x}]"), ConfigError::Yaml(m) if m.contains("duration"))
        );
        assert!(
            matches!(err("route: {receiver: x}\nreceivers: [{name: x}]\nbogus: 1"), ConfigError::Yaml(m) if m.contains("bogus"))
        );
        assert!(
            matches!(err("global: {nope: 1}\nroute: {receiver: x}\nreceivers: [{name: x}]"), ConfigError::Yaml(m) if m.contains("nope"))
        );
        assert!(
            matches!(err("receivers: [{name: x}]"), ConfigError::Invalid(m) if m.contains("no routes"))
        );
        assert!(
            matches!(err("route: {group_by: [a]}\nreceivers: [{name: x}]"), ConfigError::Invalid(m) if m.contains("default receiver"))
        );
        assert!(
            matches!(err("route: {receiver: x, group_by: ['...', a]}\nreceivers: [{name: x}]"), ConfigError::Invalid(m) if m.contains("wildcard"))
        );
        assert!(
            matches!(err("route: {receiver: x, group_interval: 0s}\nreceivers: [{name: x}]"), ConfigError::Invalid(m) if m.contains("group_interval"))
        );
        assert!(
            matches!(err("route: {receiver: x}\nreceivers: [{name: x, webhook_configs: [{}]}]"), ConfigError::Invalid(m) if m.contains("missing URL"))
        );
        assert!(
            matches!(err("route: {receiver: x}\nreceivers: [{name: x, sns_configs: [{subject: s}]}]"), ConfigError::Invalid(m) if m.contains("topic_arn"))
        );
    }

    #[test]
    fn outer_document_errors() {
        assert_eq!(
            validate_definition(b"template_files: {}").unwrap_err(),
            ConfigError::MissingConfig
        );
        assert!(matches!(
            validate_definition(b"alertmanager_config: 'route: {receiver: x}'\nextra: 1"),
            Err(ConfigError::Yaml(_))
        ));
        assert!(matches!(
            validate_definition(b": : :"),
            Err(ConfigError::Yaml(_))
        ));
    }
}
