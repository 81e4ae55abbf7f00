//! Sending notifications: the data handed to receivers, retries, and the integrations.

mod sns;
mod webhook;

use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use crate::alert::{Alert, Fingerprint};
use crate::config::{Receiver, SnsConfig, WebhookConfig};
use crate::matchers::LabelSet;
use crate::secret::Secret;

/// Outbound HTTP settings of an Alertmanager, supplied by the host.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// Per-request timeout.
    pub timeout: Duration,
    /// Attempts per notification, the first included.
    pub max_attempts: u32,
    /// Wait after the first failed attempt; doubled after each further failure.
    pub initial_backoff: Duration,
    /// Upper bound of the wait between attempts.
    pub max_backoff: Duration,
    /// `externalURL` in notifications (the workspace's Alertmanager URL).
    pub external_url: String,
    /// SNS endpoint used when an `sns_configs` entry has no `api_url`; `None` means the AWS
    /// regional endpoint `https://sns.<region>.amazonaws.com/`.
    pub sns_endpoint: Option<String>,
    /// Region used when neither the config nor the topic ARN names one.
    pub sns_default_region: String,
    /// Credentials for SNS configs that carry no `access_key`/`secret_key`.
    pub sns_credentials: Option<AwsCredentials>,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            external_url: String::new(),
            sns_endpoint: None,
            sns_default_region: "us-east-1".to_owned(),
            sns_credentials: None,
        }
    }
}

/// AWS credentials for signing SNS requests.
#[derive(Debug, Clone)]
pub struct AwsCredentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: Secret,
    /// Session token of temporary credentials.
    pub session_token: Option<Secret>,
}

/// Why a notification was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The request could not be sent or got no answer (the URL, which may hold secrets, is
    /// left out).
    #[error("request to {integration} failed: {source}")]
    Transport {
        /// Integration name.
        integration: String,
        /// Cause.
        #[source]
        source: reqwest::Error,
    },
    /// The receiver answered with an error status.
    #[error("{integration} answered HTTP {status}")]
    Status {
        /// Integration name.
        integration: String,
        /// HTTP status.
        status: u16,
    },
    /// The request could not be built (bad URL, signing failure, template failure).
    #[error("{integration}: {message}")]
    Build {
        /// Integration name.
        integration: String,
        /// What went wrong.
        message: String,
    },
}

impl NotifyError {
    fn retryable(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            Self::Build { .. } => false,
        }
    }
}

/// One alert as notified (the template data model's `Alert`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifiedAlert {
    /// `firing` or `resolved`.
    pub status: &'static str,
    /// Labels.
    pub labels: LabelSet,
    /// Annotations.
    pub annotations: LabelSet,
    /// Start time.
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// End time; the zero time (year 1) while firing, as Alertmanager sends it.
    #[serde(with = "time::serde::rfc3339")]
    pub ends_at: OffsetDateTime,
    /// Link to the source.
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    /// Fingerprint, 16 hex digits.
    pub fingerprint: String,
}

/// The data of one notification (the template data model's top level).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationData {
    /// Receiver name.
    pub receiver: String,
    /// `firing` if any alert fires, else `resolved`.
    pub status: &'static str,
    /// The alerts, firing first.
    pub alerts: Vec<NotifiedAlert>,
    /// The group's labels.
    pub group_labels: LabelSet,
    /// Labels every alert shares.
    pub common_labels: LabelSet,
    /// Annotations every alert shares.
    pub common_annotations: LabelSet,
    /// External URL of the Alertmanager.
    pub external_url: String,
    /// Group key (`<route key>:<group labels>`).
    pub group_key: String,
}

/// The zero time Alertmanager uses for "no end yet".
const ZERO_TIME: OffsetDateTime = time::macros::datetime!(0001-01-01 00:00 UTC);

impl NotificationData {
    /// Builds the data for `alerts` at `now`.
    pub(crate) fn new(
        receiver: &str,
        group_key: String,
        group_labels: LabelSet,
        alerts: &[&Alert],
        now: OffsetDateTime,
        external_url: &str,
    ) -> Self {
        let mut notified: Vec<NotifiedAlert> = alerts
            .iter()
            .map(|a| {
                let resolved = a.resolved_at(now);
                NotifiedAlert {
                    status: if resolved { "resolved" } else { "firing" },
                    labels: a.labels.clone(),
                    annotations: a.annotations.clone(),
                    starts_at: a.starts_at,
                    // A firing alert must not look as if it resolved when the time comes.
                    ends_at: if resolved { a.ends_at } else { ZERO_TIME },
                    generator_url: a.generator_url.clone(),
                    fingerprint: a.fingerprint.to_string(),
                }
            })
            .collect();
        notified.sort_by(|a, b| {
            (a.status != "firing", &a.labels).cmp(&(b.status != "firing", &b.labels))
        });
        let common = |get: fn(&NotifiedAlert) -> &LabelSet| -> LabelSet {
            let mut iter = notified.iter();
            let Some(first) = iter.next() else {
                return LabelSet::new();
            };
            let mut common = get(first).clone();
            for a in iter {
                common.retain(|k, v| get(a).get(k) == Some(v));
            }
            common
        };
        let common_labels = common(|a| &a.labels);
        let common_annotations = common(|a| &a.annotations);
        let status = if notified.iter().any(|a| a.status == "firing") {
            "firing"
        } else {
            "resolved"
        };
        Self {
            receiver: receiver.to_owned(),
            status,
            alerts: notified,
            group_labels,
            common_labels,
            common_annotations,
            external_url: external_url.to_owned(),
            group_key,
        }
    }

    /// Returns the alerts with status `status`.
    pub fn alerts_with(&self, status: &str) -> impl Iterator<Item = &NotifiedAlert> {
        self.alerts.iter().filter(move |a| a.status == status)
    }
}

/// One integration of a receiver (`webhook_configs[0]`, `sns_configs[1]`, …).
#[derive(Debug, Clone)]
pub(crate) enum Integration {
    Webhook(WebhookConfig),
    Sns(Box<SnsConfig>),
}

impl Integration {
    /// Returns the integrations of `receiver` with their names (`webhook[0]`, `sns[0]`).
    pub(crate) fn of(receiver: &Receiver) -> Vec<(String, Self)> {
        let hooks = receiver
            .webhook_configs
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("webhook[{i}]"), Self::Webhook(c.clone())));
        let sns = receiver
            .sns_configs
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("sns[{i}]"), Self::Sns(Box::new(c.clone()))));
        hooks.chain(sns).collect()
    }

    /// Returns whether resolved alerts are sent.
    pub(crate) fn send_resolved(&self) -> bool {
        match self {
            Self::Webhook(c) => c.send_resolved,
            Self::Sns(c) => c.send_resolved,
        }
    }
}

/// Sends notifications over HTTP with retries.
#[derive(Debug, Clone)]
pub(crate) struct Notifier {
    follow: reqwest::Client,
    no_follow: reqwest::Client,
    settings: NotifySettings,
}

impl Notifier {
    /// Builds the HTTP clients.
    pub(crate) fn new(settings: NotifySettings) -> Result<Self, reqwest::Error> {
        // reqwest needs a process-wide rustls provider; use ring (already in the workspace)
        // unless the host installed one. A lost race means another thread installed one: fine.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let build = |redirect| {
            reqwest::Client::builder()
                .timeout(settings.timeout)
                .redirect(redirect)
                .build()
        };
        Ok(Self {
            follow: build(reqwest::redirect::Policy::limited(10))?,
            no_follow: build(reqwest::redirect::Policy::none())?,
            settings,
        })
    }

    /// Returns the host settings.
    pub(crate) fn settings(&self) -> &NotifySettings {
        &self.settings
    }

    /// Delivers `data` through `integration`, retrying transient failures with exponential
    /// backoff; `data` must already exclude resolved alerts the integration does not want.
    pub(crate) async fn send(
        &self,
        name: &str,
        integration: &Integration,
        data: &NotificationData,
        templates: &crate::template::Templates,
        now: OffsetDateTime,
    ) -> Result<(), NotifyError> {
        let mut backoff = self.settings.initial_backoff;
        let mut attempt = 1;
        loop {
            let result = match integration {
                Integration::Webhook(c) => {
                    let client = if c.http_config.follow_redirects {
                        &self.follow
                    } else {
                        &self.no_follow
                    };
                    webhook::send(client, name, c, data).await
                }
                Integration::Sns(c) => {
                    sns::send(&self.follow, &self.settings, name, c, data, templates, now).await
                }
            };
            match result {
                Err(e) if e.retryable() && attempt < self.settings.max_attempts => {
                    tracing::warn!(integration = name, attempt, error = %e, "notification failed, retrying {name}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.settings.max_backoff);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// Checks an HTTP answer, turning error statuses into [`NotifyError::Status`].
fn check_status(integration: &str, response: reqwest::Response) -> Result<(), NotifyError> {
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(NotifyError::Status {
            integration: integration.to_owned(),
            status: status.as_u16(),
        })
    }
}

/// Returns the fingerprints of firing and resolved alerts in `data`.
pub(crate) fn fingerprint_sets(
    alerts: &[&Alert],
    now: OffsetDateTime,
) -> (
    std::collections::BTreeSet<Fingerprint>,
    std::collections::BTreeSet<Fingerprint>,
) {
    let (resolved, firing): (Vec<&&Alert>, Vec<&&Alert>) =
        alerts.iter().partition(|a| a.resolved_at(now));
    (
        firing.iter().map(|a| a.fingerprint).collect(),
        resolved.iter().map(|a| a.fingerprint).collect(),
    )
}
