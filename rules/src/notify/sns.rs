//! Amazon SNS integration: `Publish` over the SNS query API, signed with SigV4.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use time::OffsetDateTime;

use super::{NotificationData, NotifyError, NotifySettings, check_status};
use crate::config::SnsConfig;
use crate::template::Templates;

/// SNS refuses messages above 256 KiB.
const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// SNS subjects are limited to 100 characters.
const MAX_SUBJECT_CHARS: usize = 100;

/// Builds the form fields of the `Publish` call.
pub(crate) fn publish_form(
    config: &SnsConfig,
    subject: &str,
    message: &str,
) -> Vec<(String, String)> {
    let mut form = vec![
        ("Action".to_owned(), "Publish".to_owned()),
        ("Version".to_owned(), "2010-03-31".to_owned()),
    ];
    if let Some(t) = &config.topic_arn {
        form.push(("TopicArn".to_owned(), t.clone()));
    }
    if let Some(t) = &config.target_arn {
        form.push(("TargetArn".to_owned(), t.clone()));
    }
    if let Some(p) = &config.phone_number {
        form.push(("PhoneNumber".to_owned(), p.clone()));
    }
    let message = truncate_bytes(message, MAX_MESSAGE_BYTES);
    form.push(("Message".to_owned(), message.to_owned()));
    // SMS messages have no subject.
    if config.phone_number.is_none() && !subject.is_empty() {
        let subject: String = subject
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_SUBJECT_CHARS)
            .collect();
        form.push(("Subject".to_owned(), subject));
    }
    for (i, (name, value)) in config.attributes.iter().enumerate() {
        let n = i + 1;
        form.push((format!("MessageAttributes.entry.{n}.Name"), name.clone()));
        form.push((
            format!("MessageAttributes.entry.{n}.Value.DataType"),
            "String".to_owned(),
        ));
        form.push((
            format!("MessageAttributes.entry.{n}.Value.StringValue"),
            value.clone(),
        ));
    }
    form
}

fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Returns the region: the config's, else the one in the target ARN, else the host default.
fn region<'a>(config: &'a SnsConfig, settings: &'a NotifySettings) -> &'a str {
    let from_arn = config
        .topic_arn
        .as_deref()
        .or(config.target_arn.as_deref())
        .and_then(|arn| arn.split(':').nth(3))
        .filter(|r| !r.is_empty());
    config
        .sigv4
        .region
        .as_deref()
        .or(from_arn)
        .unwrap_or(&settings.sns_default_region)
}

pub(super) async fn send(
    client: &reqwest::Client,
    settings: &NotifySettings,
    name: &str,
    config: &SnsConfig,
    data: &NotificationData,
    templates: &Templates,
    now: OffsetDateTime,
) -> Result<(), NotifyError> {
    let build_err = |message: String| NotifyError::Build {
        integration: name.to_owned(),
        message,
    };
    let subject = templates
        .render_sns_subject(config.subject.as_deref(), data)
        .map_err(|e| build_err(e.to_string()))?;
    let message = templates
        .render_sns_message(config.message.as_deref(), data)
        .map_err(|e| build_err(e.to_string()))?;
    let region = region(config, settings);
    let url = match (&config.api_url, &settings.sns_endpoint) {
        (Some(u), _) | (None, Some(u)) => u.clone(),
        (None, None) => format!("https://sns.{region}.amazonaws.com/"),
    };
    let body = serde_urlencoded::to_string(publish_form(config, &subject, &message))
        .map_err(|e| build_err(e.to_string()))?;
    let credentials = match (&config.sigv4.access_key, &config.sigv4.secret_key) {
        (Some(ak), Some(sk)) => Credentials::new(ak, sk.expose(), None, None, "ampd-sns-config"),
        _ => {
            let host = settings.sns_credentials.as_ref().ok_or_else(|| {
                build_err("no AWS credentials to sign the SNS request".to_owned())
            })?;
            Credentials::new(
                &host.access_key_id,
                host.secret_access_key.expose(),
                host.session_token.as_ref().map(|t| t.expose().to_owned()),
                None,
                "ampd-host",
            )
        }
    };
    let mut request = http::Request::builder()
        .method("POST")
        .uri(&url)
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(body.into_bytes())
        .map_err(|e| build_err(format!("bad SNS endpoint {url:?}: {e}")))?;
    let host = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .ok_or_else(|| build_err(format!("SNS endpoint {url:?} has no host")))?;
    request.headers_mut().insert(
        http::header::HOST,
        http::HeaderValue::from_str(&host).map_err(|e| build_err(e.to_string()))?,
    );
    sign_request(&mut request, &credentials, region, now).map_err(build_err)?;
    let request = reqwest::Request::try_from(request.map(reqwest::Body::from))
        .map_err(|e| build_err(e.to_string()))?;
    let response = client
        .execute(request)
        .await
        .map_err(|source| NotifyError::Transport {
            integration: name.to_owned(),
            source,
        })?;
    check_status(name, response)
}

/// Adds the SigV4 headers (`Authorization`, `X-Amz-Date`, session token) for service `sns`.
pub(crate) fn sign_request(
    request: &mut http::Request<Vec<u8>>,
    credentials: &Credentials,
    region: &str,
    now: OffsetDateTime,
) -> Result<(), String> {
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sns")
        .time(SystemTime::from(now))
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let headers = request
        .headers()
        .iter()
        .map(|(k, v)| v.to_str().map(|v| (k.as_str(), v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let uri = request.uri().to_string();
    let signable = SignableRequest::new(
        request.method().as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Bytes(request.body()),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}
