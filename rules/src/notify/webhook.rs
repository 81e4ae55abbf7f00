//! Webhook integration: POSTs Alertmanager's webhook JSON (version 4).

use serde::Serialize;

use super::{NotificationData, NotifiedAlert, NotifyError, check_status};
use crate::config::WebhookConfig;
use crate::matchers::LabelSet;

/// The webhook body; field names are Alertmanager's.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Payload<'a> {
    receiver: &'a str,
    status: &'a str,
    alerts: &'a [NotifiedAlert],
    group_labels: &'a LabelSet,
    common_labels: &'a LabelSet,
    common_annotations: &'a LabelSet,
    #[serde(rename = "externalURL")]
    external_url: &'a str,
    version: &'static str,
    group_key: &'a str,
    truncated_alerts: usize,
}

/// Builds the payload, keeping at most `max_alerts` alerts (0 keeps all).
pub(crate) fn payload(data: &NotificationData, max_alerts: u64) -> Payload<'_> {
    let max = usize::try_from(max_alerts).unwrap_or(usize::MAX);
    let kept = if max == 0 {
        data.alerts.len()
    } else {
        data.alerts.len().min(max)
    };
    Payload {
        receiver: &data.receiver,
        status: data.status,
        alerts: &data.alerts[..kept],
        group_labels: &data.group_labels,
        common_labels: &data.common_labels,
        common_annotations: &data.common_annotations,
        external_url: &data.external_url,
        version: "4",
        group_key: &data.group_key,
        truncated_alerts: data.alerts.len() - kept,
    }
}

pub(super) async fn send(
    client: &reqwest::Client,
    name: &str,
    config: &WebhookConfig,
    data: &NotificationData,
) -> Result<(), NotifyError> {
    let url = config.url.as_deref().ok_or_else(|| NotifyError::Build {
        integration: name.to_owned(),
        message: "no url".to_owned(),
    })?;
    let body =
        serde_json::to_vec(&payload(data, config.max_alerts)).map_err(|e| NotifyError::Build {
            integration: name.to_owned(),
            message: e.to_string(),
        })?;
    let mut req = client
        .post(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(basic) = &config.http_config.basic_auth {
        req = req.basic_auth(&basic.username, basic.password.as_ref().map(|p| p.expose()));
    }
    if let Some(auth) = &config.http_config.authorization {
        let credentials = auth.credentials.as_ref().map_or("", |c| c.expose());
        req = req.header(
            http::header::AUTHORIZATION,
            format!("{} {credentials}", auth.kind),
        );
    }
    let response = req.send().await.map_err(|source| NotifyError::Transport {
        integration: name.to_owned(),
        source,
    })?;
    check_status(name, response)
}
