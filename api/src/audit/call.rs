//! Which call a request is: event source, event name, protocol, parameters and resources,
//! derived from the route's [`Operation`], the `X-Amz-Target` header or the form `Action`.

use ampd_audit::{EventCategory, EventSource};
use ampd_iam::aps::ApsAction;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use serde_json::{Map, Value};

use super::identity::signing_service;
use super::outcome::Wire;
use super::params;
use crate::operation::Operation;

/// JSON 1.1 target prefixes, with the `com.amazonaws.…` namespace CloudTrail's clients send.
const KMS_TARGET: &str = "TrentService.";
const CLOUDTRAIL_TARGET: &str = "CloudTrail_20131101.";
const CLOUDTRAIL_NAMESPACE: &str = "com.amazonaws.cloudtrail.v20131101.";

/// How a request is handled by the audit layer, decided from its method and path alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route {
    /// Health and metrics endpoints: not AWS calls.
    Ops,
    /// A data-plane call on a workspace.
    Data {
        /// The workspace.
        workspace_id: String,
        /// Its `aps` action (`RemoteWrite`, `QueryMetrics`, …).
        action: ApsAction,
    },
    /// Any other request: control plane or a service on `POST /`.
    Api,
}

impl Route {
    /// Classifies a request.
    pub(super) fn of(method: &Method, path: &str) -> Self {
        if matches!(path, "/healthz" | "/readyz" | "/metrics") {
            return Self::Ops;
        }
        let data = path
            .strip_prefix("/workspaces/")
            .and_then(|rest| rest.split_once('/'))
            .filter(|(_, sub)| sub.starts_with("api/") || sub.starts_with("alertmanager/api/"))
            .and_then(|(id, sub)| {
                let action = ApsAction::for_data_plane(method, sub)?;
                Some(Self::Data {
                    workspace_id: id.to_owned(),
                    action,
                })
            });
        data.unwrap_or(Self::Api)
    }
}

/// One AWS call as the event records it.
#[derive(Debug, Clone)]
pub(super) struct Call {
    /// `eventSource`.
    pub(super) source: EventSource,
    /// `eventName`.
    pub(super) name: String,
    /// The protocol it was made in.
    pub(super) wire: Wire,
    /// Management or data event.
    pub(super) category: EventCategory,
    /// `readOnly`, when the name alone does not tell.
    pub(super) read_only: Option<bool>,
    /// The control-plane operation, if it is one.
    operation: Option<Operation>,
}

impl Call {
    /// Returns the call a request is, or `None` when it names no AWS operation (an unknown
    /// path, a `POST /` without target or action).
    pub(super) fn identify(
        route: &Route,
        parts: &Parts,
        body: &[u8],
        operation: Option<Operation>,
    ) -> Option<Self> {
        let call = |source, name: &str, wire| Self {
            source,
            name: name.to_owned(),
            wire,
            category: EventCategory::Management,
            read_only: None,
            operation: None,
        };
        match route {
            Route::Ops => None,
            Route::Data { action, .. } => Some(Self {
                category: EventCategory::Data,
                read_only: Some(!matches!(
                    action,
                    ApsAction::RemoteWrite
                        | ApsAction::CreateAlertManagerAlerts
                        | ApsAction::PutAlertManagerSilences
                        | ApsAction::DeleteAlertManagerSilence
                )),
                ..call(
                    EventSource::Aps,
                    action.name(),
                    if *action == ApsAction::RemoteWrite {
                        Wire::RemoteWrite
                    } else {
                        Wire::Prometheus
                    },
                )
            }),
            Route::Api if parts.method == Method::POST && parts.uri.path() == "/" => {
                Self::on_root(parts, body)
            }
            Route::Api => operation.map(|op| Self {
                operation: Some(op),
                ..call(EventSource::Aps, op.name(), Wire::RestJson)
            }),
        }
    }

    /// A call on `POST /`: JSON 1.1 by target, query protocol by form action.
    fn on_root(parts: &Parts, body: &[u8]) -> Option<Self> {
        let call = |source, name: &str, wire, read_only| Self {
            source,
            name: name.chars().take(128).collect(),
            wire,
            category: EventCategory::Management,
            read_only,
            operation: None,
        };
        if let Some(target) = header(&parts.headers, "x-amz-target") {
            let target = target.strip_prefix(CLOUDTRAIL_NAMESPACE).unwrap_or(target);
            if let Some(name) = target.strip_prefix(KMS_TARGET) {
                return Some(call(
                    EventSource::Kms,
                    name,
                    Wire::Json11,
                    Some(kms_reads(name)),
                ));
            }
            let name = target.strip_prefix(CLOUDTRAIL_TARGET)?;
            return Some(call(EventSource::CloudTrail, name, Wire::Json11, None));
        }
        let form = url::form_urlencoded::parse(body);
        let (mut action, mut version) = (None, None);
        for (k, v) in form {
            match k.as_ref() {
                "Action" => action = Some(v.into_owned()),
                "Version" => version = Some(v.into_owned()),
                _ => {}
            }
        }
        let action = action.filter(|a| !a.is_empty())?;
        // Signed requests name their service in the credential scope; unsigned ones (STS web
        // identity) by the API version.
        let sts = match signing_service(parts) {
            Some(service) => service == "sts",
            None => version.as_deref() == Some("2011-06-15"),
        };
        Some(if sts {
            // CloudTrail marks every STS call as read-only.
            call(EventSource::Sts, &action, Wire::Query, Some(true))
        } else {
            call(EventSource::Iam, &action, Wire::Query, None)
        })
    }

    /// Returns the service's own code for an internal failure.
    pub(super) fn internal_error_code(&self) -> &'static str {
        match self.source {
            EventSource::Kms => "KMSInternalException",
            EventSource::Iam => "ServiceFailure",
            _ => "InternalFailure",
        }
    }

    /// Returns `requestParameters` for the call.
    pub(super) fn request_parameters(
        &self,
        route: &Route,
        parts: &Parts,
        body: &[u8],
    ) -> Option<Value> {
        let mut out = Map::new();
        match (self.wire, route) {
            (_, Route::Data { workspace_id, .. }) => {
                out.insert("workspaceId".into(), Value::String(workspace_id.clone()));
                params::add_query(&mut out, parts.uri.query());
                if is_form(&parts.headers) {
                    params::add_query(&mut out, std::str::from_utf8(body).ok());
                }
            }
            (Wire::Query, _) => out = params::form_parameters(body),
            (Wire::Json11, _) => params::add_json_body(&mut out, body, true),
            _ => {
                if let Some(op) = self.operation {
                    for (name, value) in
                        params::path_labels(op.path(), parts.uri.path()).unwrap_or_default()
                    {
                        out.insert(name, Value::String(value));
                    }
                }
                params::add_query(&mut out, parts.uri.query());
                params::add_json_body(&mut out, body, false);
                // Rule files and Alertmanager configurations are large blobs, not parameters.
                if let Some(data) = out.get_mut("data") {
                    *data = Value::String(ampd_audit::REDACTED.to_owned());
                }
            }
        }
        params::finish(out)
    }

    /// Returns the resources the call acted on as `(ARN, type)`.
    pub(super) fn resources(
        &self,
        route: &Route,
        request: &Value,
        response: &Value,
        region: &str,
        account: &str,
    ) -> Vec<(String, &'static str)> {
        let text = |v: &Value, name: &str| v.get(name).and_then(Value::as_str).map(str::to_owned);
        let aps = |kind: &str, id: &str| format!("arn:aws:aps:{region}:{account}:{kind}/{id}");
        let iam = |kind: &str, name: &str| format!("arn:aws:iam::{account}:{kind}/{name}");
        let mut out = Vec::new();
        match (self.source, route) {
            (EventSource::Aps, Route::Data { workspace_id, .. }) => {
                out.push((aps("workspace", workspace_id), "AWS::APS::Workspace"));
            }
            (EventSource::Aps, _) => {
                let either = |name: &str| text(request, name).or_else(|| text(response, name));
                if let Some(arn) = text(request, "resourceArn") {
                    let kind = aps_type(&arn);
                    out.push((arn, kind));
                }
                let workspace = either("workspaceId");
                if let Some(ws) = &workspace {
                    out.push((aps("workspace", ws), "AWS::APS::Workspace"));
                    let namespace =
                        text(request, "name").filter(|_| self.name.contains("RuleGroupsNamespace"));
                    if let Some(name) = namespace {
                        out.push((
                            aps("rulegroupsnamespace", &format!("{ws}/{name}")),
                            "AWS::APS::RuleGroupsNamespace",
                        ));
                    }
                    if let Some(id) = either("anomalyDetectorId") {
                        out.push((
                            aps("anomalydetector", &format!("{ws}/{id}")),
                            "AWS::APS::AnomalyDetector",
                        ));
                    }
                }
                if let Some(id) = either("scraperId") {
                    out.push((aps("scraper", &id), "AWS::APS::Scraper"));
                }
            }
            (EventSource::Iam, _) => {
                if let Some(name) = text(request, "userName") {
                    out.push((iam("user", &name), "AWS::IAM::User"));
                }
                if let Some(name) = text(request, "groupName") {
                    out.push((iam("group", &name), "AWS::IAM::Group"));
                }
                if let Some(name) = text(request, "roleName") {
                    out.push((iam("role", &name), "AWS::IAM::Role"));
                }
                if let Some(arn) = text(request, "policyArn") {
                    out.push((arn, "AWS::IAM::Policy"));
                }
                // CloudTrail names access keys by their id.
                if let Some(id) =
                    text(request, "accessKeyId").or_else(|| text(response, "accessKeyId"))
                {
                    out.push((id, "AWS::IAM::AccessKey"));
                }
            }
            (EventSource::Sts, _) => {
                if let Some(arn) = text(request, "roleArn") {
                    out.push((arn, "AWS::IAM::Role"));
                }
            }
            (EventSource::Kms, _) => {
                let from_response = response
                    .pointer("/KeyMetadata/Arn")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| text(response, "KeyId"))
                    .filter(|k| k.starts_with("arn:"));
                let key = from_response.or_else(|| {
                    text(request, "keyId").map(|id| {
                        if id.starts_with("arn:") {
                            id
                        } else {
                            format!("arn:aws:kms:{region}:{account}:{}", kms_resource(&id))
                        }
                    })
                });
                if let Some(arn) = key {
                    let kind = if arn.contains(":alias/") {
                        "AWS::KMS::Alias"
                    } else {
                        "AWS::KMS::Key"
                    };
                    out.push((arn, kind));
                }
            }
            (EventSource::CloudTrail, _) => {}
        }
        out
    }
}

/// KMS operations CloudTrail records as read-only: descriptions, listings and the
/// cryptographic operations that change no key.
fn kms_reads(name: &str) -> bool {
    [
        "Describe",
        "List",
        "Get",
        "Generate",
        "Decrypt",
        "Encrypt",
        "ReEncrypt",
        "Sign",
        "Verify",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// `alias/x` stays an alias, anything else is a key id.
fn kms_resource(id: &str) -> String {
    if id.starts_with("alias/") {
        id.to_owned()
    } else {
        format!("key/{id}")
    }
}

/// Returns the CloudFormation type of an `aps` ARN.
fn aps_type(arn: &str) -> &'static str {
    let kind = arn
        .splitn(6, ':')
        .nth(5)
        .and_then(|r| r.split('/').next())
        .unwrap_or_default();
    match kind {
        "workspace" => "AWS::APS::Workspace",
        "rulegroupsnamespace" => "AWS::APS::RuleGroupsNamespace",
        "scraper" => "AWS::APS::Scraper",
        "anomalydetector" => "AWS::APS::AnomalyDetector",
        _ => "AWS::APS::Resource",
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether the body is a URL-encoded form.
pub(super) fn is_form(headers: &HeaderMap) -> bool {
    header(headers, "content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parts(method: Method, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = axum::http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn routes_tell_data_plane_from_the_rest() {
        assert_eq!(Route::of(&Method::GET, "/healthz"), Route::Ops);
        assert_eq!(
            Route::of(&Method::POST, "/workspaces/ws-1/api/v1/remote_write"),
            Route::Data {
                workspace_id: "ws-1".into(),
                action: ApsAction::RemoteWrite
            }
        );
        assert_eq!(
            Route::of(&Method::GET, "/workspaces/ws-1/alertmanager/definition"),
            Route::Api
        );
    }

    #[test]
    fn root_calls_are_named_by_target_or_action() {
        let kms = parts(
            Method::POST,
            "/",
            &[("x-amz-target", "TrentService.Decrypt")],
        );
        let call = Call::identify(&Route::Api, &kms, b"{}", None).unwrap();
        assert_eq!(
            (call.source, call.name.as_str()),
            (EventSource::Kms, "Decrypt")
        );
        assert_eq!(call.read_only, Some(true));
        let ct = parts(
            Method::POST,
            "/",
            &[(
                "x-amz-target",
                "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
            )],
        );
        let call = Call::identify(&Route::Api, &ct, b"{}", None).unwrap();
        assert_eq!(
            (call.source, call.name.as_str()),
            (EventSource::CloudTrail, "LookupEvents")
        );
        let unknown = parts(Method::POST, "/", &[("x-amz-target", "Nope_1.X")]);
        assert!(Call::identify(&Route::Api, &unknown, b"{}", None).is_none());
        let iam = parts(Method::POST, "/", &[]);
        let call = Call::identify(
            &Route::Api,
            &iam,
            b"Action=CreateUser&Version=2010-05-08",
            None,
        )
        .unwrap();
        assert_eq!((call.source, call.wire), (EventSource::Iam, Wire::Query));
        let sts = Call::identify(
            &Route::Api,
            &iam,
            b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15",
            None,
        )
        .unwrap();
        assert_eq!(sts.source, EventSource::Sts);
        assert!(Call::identify(&Route::Api, &iam, b"", None).is_none());
    }

    #[test]
    fn control_plane_parameters_and_resources() {
        let p = parts(
            Method::PUT,
            "/workspaces/ws-1/rulegroupsnamespaces/node?x=1",
            &[],
        );
        let call = Call::identify(
            &Route::Api,
            &p,
            b"",
            Some(Operation::PutRuleGroupsNamespace),
        )
        .unwrap();
        let params = call
            .request_parameters(&Route::Api, &p, br#"{"data":"c2VjcmV0","clientToken":"t"}"#)
            .unwrap();
        assert_eq!(
            params,
            json!({"workspaceId": "ws-1", "name": "node", "x": "1",
                   "data": ampd_audit::REDACTED, "clientToken": "t"})
        );
        let resources = call.resources(
            &Route::Api,
            &params,
            &Value::Null,
            "us-east-1",
            "123456789012",
        );
        assert_eq!(
            resources,
            [
                (
                    "arn:aws:aps:us-east-1:123456789012:workspace/ws-1".to_owned(),
                    "AWS::APS::Workspace"
                ),
                (
                    "arn:aws:aps:us-east-1:123456789012:rulegroupsnamespace/ws-1/node".to_owned(),
                    "AWS::APS::RuleGroupsNamespace"
                ),
            ]
        );
    }

    #[test]
    fn kms_keys_resolve_to_arns() {
        let p = parts(
            Method::POST,
            "/",
            &[("x-amz-target", "TrentService.Encrypt")],
        );
        let call = Call::identify(&Route::Api, &p, b"", None).unwrap();
        let request = json!({"keyId": "1234abcd"});
        let resources = call.resources(
            &Route::Api,
            &request,
            &Value::Null,
            "us-east-1",
            "123456789012",
        );
        assert_eq!(
            resources,
            [(
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd".to_owned(),
                "AWS::KMS::Key"
            )]
        );
    }
}
