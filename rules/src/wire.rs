//! Serde types for the Alertmanager API v2 JSON shapes (`api/v2/openapi.yaml` in
//! prometheus/alertmanager), so HTTP handlers only (de)serialize.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::matchers::LabelSet;

/// `postableAlert`: one alert sent by a client (`POST alerts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableAlert {
    /// Identifying labels (required, non-empty).
    pub labels: LabelSet,
    /// Informational annotations.
    #[serde(default)]
    pub annotations: LabelSet,
    /// When the alert started; defaults to the time it was received.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub starts_at: Option<OffsetDateTime>,
    /// When the alert ends; defaults to receipt time plus `resolve_timeout`.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub ends_at: Option<OffsetDateTime>,
    /// Link to the alert's source.
    #[serde(
        default,
        rename = "generatorURL",
        skip_serializing_if = "Option::is_none"
    )]
    pub generator_url: Option<String>,
}

/// `gettableAlert`: an alert as listed by `GET alerts` and inside groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableAlert {
    /// Identifying labels.
    pub labels: LabelSet,
    /// Annotations.
    pub annotations: LabelSet,
    /// Start time.
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// End time (a future time for alerts still firing).
    #[serde(with = "time::serde::rfc3339")]
    pub ends_at: OffsetDateTime,
    /// Last time the alert was received.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Hash of the labels, 16 hex digits.
    pub fingerprint: String,
    /// Receivers the alert routes to.
    pub receivers: Vec<ReceiverName>,
    /// Suppression state.
    pub status: AlertStatus,
    /// Link to the alert's source.
    #[serde(rename = "generatorURL", default)]
    pub generator_url: String,
}

/// `alertStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertStatus {
    /// `unprocessed`, `active` or `suppressed`.
    pub state: AlertState,
    /// Ids of silences muting the alert.
    pub silenced_by: Vec<String>,
    /// Fingerprints of alerts inhibiting the alert.
    pub inhibited_by: Vec<String>,
    /// Names of time intervals muting the alert.
    #[serde(default)]
    pub muted_by: Vec<String>,
}

/// Alert state in the v2 API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Received but not yet routed.
    Unprocessed,
    /// Firing and not suppressed.
    Active,
    /// Silenced, inhibited or muted.
    Suppressed,
}

/// `receiver`: a receiver reference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReceiverName {
    /// Receiver name.
    pub name: String,
}

/// `alertGroup`: one aggregation group (`GET alerts/groups`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertGroup {
    /// Group labels.
    pub labels: LabelSet,
    /// The group's receiver.
    pub receiver: ReceiverName,
    /// Alerts in the group.
    pub alerts: Vec<GettableAlert>,
}

/// `matcher` as used by silences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireMatcher {
    /// Label name.
    pub name: String,
    /// Value or regex.
    pub value: String,
    /// Whether `value` is a regex.
    pub is_regex: bool,
    /// `false` negates the match (`!=`, `!~`).
    #[serde(default = "default_true")]
    pub is_equal: bool,
}

fn default_true() -> bool {
    true
}

/// `postableSilence`: a silence to create, or to update when `id` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableSilence {
    /// Id of the silence to update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Matchers (required).
    pub matchers: Vec<WireMatcher>,
    /// Start time.
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// End time.
    #[serde(with = "time::serde::rfc3339")]
    pub ends_at: OffsetDateTime,
    /// Author.
    pub created_by: String,
    /// Reason.
    pub comment: String,
}

/// `gettableSilence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableSilence {
    /// Silence id.
    pub id: String,
    /// Current state.
    pub status: SilenceStatus,
    /// Last modification.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Matchers.
    pub matchers: Vec<WireMatcher>,
    /// Start time.
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// End time.
    #[serde(with = "time::serde::rfc3339")]
    pub ends_at: OffsetDateTime,
    /// Author.
    pub created_by: String,
    /// Reason.
    pub comment: String,
}

/// `silenceStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilenceStatus {
    /// State at the time of the request.
    pub state: SilenceState,
}

/// Silence state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SilenceState {
    /// Starts in the future.
    Pending,
    /// In effect.
    Active,
    /// Ended.
    Expired,
}

/// Response of `POST silences`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostSilenceResponse {
    /// Id of the created or updated silence.
    #[serde(rename = "silenceID")]
    pub silence_id: String,
}

/// `alertmanagerStatus`; like AMP, only `config.original` carries data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerStatus {
    /// Cluster status (not applicable).
    pub cluster: Option<serde_json::Value>,
    /// Build information (not reported).
    pub version_info: Option<serde_json::Value>,
    /// The configuration in effect.
    pub config: AlertmanagerConfigStatus,
    /// Start time (not reported).
    pub uptime: Option<String>,
}

/// `alertmanagerConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertmanagerConfigStatus {
    /// The configuration as YAML text.
    pub original: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postable_alert_accepts_minimal_json() {
        let a: Vec<PostableAlert> =
            serde_json::from_str(r#"[{"labels":{"alertname":"X"}}]"#).unwrap();
        assert_eq!(a[0].labels["alertname"], "X");
        assert!(a[0].starts_at.is_none());
        let a: PostableAlert = serde_json::from_str(
            r#"{"labels":{"a":"b"},"startsAt":"2026-11-24T10:00:00Z","generatorURL":"http://x"}"#,
        )
        .unwrap();
        assert_eq!(a.generator_url.as_deref(), Some("http://x"));
        assert_eq!(a.starts_at.unwrap().hour(), 10);
    }

    #[test]
    fn silence_matcher_defaults_is_equal() {
        let m: WireMatcher =
            serde_json::from_str(r#"{"name":"a","value":"b","isRegex":false}"#).unwrap();
        assert!(m.is_equal);
        let r = serde_json::to_value(PostSilenceResponse {
            silence_id: "x".into(),
        })
        .unwrap();
        assert_eq!(r, serde_json::json!({"silenceID": "x"}));
    }
}
