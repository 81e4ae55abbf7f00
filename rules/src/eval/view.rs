//! The `/api/v1/rules` and `/api/v1/alerts` JSON shapes of Prometheus, built from group state.

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::file::RuleKind;
use super::group::{AlertRuleState, Group, RuleAlert, RuleHealth};
use crate::matchers::LabelSet;

/// Which rules `/api/v1/rules` lists (`type`, `rule_name[]`, `rule_group[]`, `file[]`).
#[derive(Debug, Clone, Default)]
pub struct RuleFilter {
    /// Only alerting or only recording rules.
    pub kind: Option<RuleType>,
    /// Rule names to keep (all when empty).
    pub rule_names: Vec<String>,
    /// Group names to keep (all when empty).
    pub group_names: Vec<String>,
    /// Files (namespace names) to keep (all when empty).
    pub files: Vec<String>,
    /// Leave out the alerts of alerting rules (`exclude_alerts=true`).
    pub exclude_alerts: bool,
}

/// A rule type, as the `type` parameter names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleType {
    /// `alert`.
    Alerting,
    /// `record`.
    Recording,
}

impl RuleType {
    /// Parses the `type` parameter (`alert` or `record`).
    pub fn from_param(s: &str) -> Option<Self> {
        match s {
            "alert" => Some(Self::Alerting),
            "record" => Some(Self::Recording),
            _ => None,
        }
    }
}

/// One group of `/api/v1/rules`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleGroupView {
    /// Group name.
    pub name: String,
    /// The rule groups namespace it comes from.
    pub file: String,
    /// Its rules.
    pub rules: Vec<RuleView>,
    /// Interval in seconds.
    pub interval: f64,
    /// Series/alert limit (0: none).
    pub limit: u64,
    /// Duration of the last evaluation in seconds.
    pub evaluation_time: f64,
    /// Start of the last evaluation (RFC 3339).
    pub last_evaluation: String,
}

/// One rule of `/api/v1/rules`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleView {
    /// Alert state of the rule (the highest of its alerts), alerting rules only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    /// Rule name.
    pub name: String,
    /// The expression.
    pub query: String,
    /// `for` in seconds, alerting rules only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// `keep_firing_for` in seconds, alerting rules only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_firing_for: Option<f64>,
    /// Rule labels.
    pub labels: LabelSet,
    /// Annotation templates, alerting rules only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<LabelSet>,
    /// Pending and firing alerts, alerting rules only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<Vec<AlertView>>,
    /// `ok`, `err` or `unknown`.
    pub health: &'static str,
    /// The last evaluation's error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Duration of the last evaluation in seconds.
    pub evaluation_time: f64,
    /// Start of the last evaluation (RFC 3339).
    pub last_evaluation: String,
    /// `alerting` or `recording`.
    #[serde(rename = "type")]
    pub kind: RuleType,
}

/// One alert of `/api/v1/alerts` and of an alerting rule.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertView {
    /// Labels.
    pub labels: LabelSet,
    /// Expanded annotations.
    pub annotations: LabelSet,
    /// `pending` or `firing`.
    pub state: &'static str,
    /// When the alert became active (RFC 3339).
    pub active_at: String,
    /// Since when it is kept firing after its condition cleared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_firing_since: Option<String>,
    /// The expression's value, formatted as Go's `%e`.
    pub value: String,
}

/// Formats ms since the epoch as RFC 3339 with up to nanoseconds; `None` is Go's zero time.
fn rfc3339(ms: Option<i64>) -> String {
    ms.and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_owned())
}

#[allow(clippy::cast_precision_loss)]
fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn alert_view(a: &RuleAlert) -> AlertView {
    AlertView {
        labels: a.labels.clone(),
        annotations: a.annotations.clone(),
        state: a.state.as_str(),
        active_at: rfc3339(Some(a.active_at_ms)),
        keep_firing_since: a.keep_firing_since_ms.map(|ms| rfc3339(Some(ms))),
        value: crate::template::expand::go_float(a.value, 'e', None),
    }
}

/// Builds the view of a group, or `None` when the filter leaves none of its rules.
pub(crate) fn group_view(g: &Group, filter: &RuleFilter) -> Option<RuleGroupView> {
    let keep = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == v);
    if !keep(&filter.group_names, &g.spec.name) || !keep(&filter.files, &g.namespace) {
        return None;
    }
    let st = g.lock();
    let rules: Vec<RuleView> =
        st.rules
            .iter()
            .filter(|r| keep(&filter.rule_names, r.spec.name()))
            .filter_map(|r| {
                let common = |kind| RuleView {
                    state: None,
                    name: r.spec.name().to_owned(),
                    query: r.spec.expr.clone(),
                    duration: None,
                    keep_firing_for: None,
                    labels: r.spec.labels.clone(),
                    annotations: None,
                    alerts: None,
                    health: r.health.as_str(),
                    last_error: r.last_error.clone().filter(|_| r.health == RuleHealth::Err),
                    evaluation_time: r.eval_seconds,
                    last_evaluation: rfc3339(r.last_eval_ms),
                    kind,
                };
                match &r.spec.kind {
                    RuleKind::Recording { .. } => (filter.kind != Some(RuleType::Alerting))
                        .then(|| common(RuleType::Recording)),
                    RuleKind::Alerting {
                        for_ms,
                        keep_firing_for_ms,
                        annotations,
                        ..
                    } => (filter.kind != Some(RuleType::Recording)).then(|| {
                        let state = r
                            .active
                            .values()
                            .map(|a| a.state)
                            .max()
                            .unwrap_or(AlertRuleState::Inactive);
                        let alerts: Vec<AlertView> = r
                            .active
                            .values()
                            .filter(|a| a.state != AlertRuleState::Inactive)
                            .map(alert_view)
                            .collect();
                        RuleView {
                            state: Some(state.as_str()),
                            duration: Some(seconds(*for_ms)),
                            keep_firing_for: Some(seconds(*keep_firing_for_ms)),
                            annotations: Some(annotations.clone()),
                            alerts: (!filter.exclude_alerts).then_some(alerts),
                            ..common(RuleType::Alerting)
                        }
                    }),
                }
            })
            .collect();
    let filtered = filter.kind.is_some() || !filter.rule_names.is_empty();
    if filtered && rules.is_empty() {
        return None;
    }
    Some(RuleGroupView {
        name: g.spec.name.clone(),
        file: g.namespace.clone(),
        rules,
        interval: seconds(g.spec.interval_ms),
        limit: g.spec.limit,
        evaluation_time: st.eval_seconds,
        last_evaluation: rfc3339(st.last_eval_ms),
    })
}
