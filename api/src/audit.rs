//! The audit layer: one CloudTrail event per AWS-style call, durable before the response.
//!
//! [`record`] wraps the whole app, inside the request-id layer. For every request that names an
//! AWS operation (a control-plane route's [`crate::Operation`], a JSON 1.1 `X-Amz-Target`, a
//! query-protocol `Action`) it builds the event from what passed on the wire — parameters from
//! the path, query and body, the outcome from the response in its protocol's error shape, the
//! caller that authentication verified — and returns the response only once
//! [`ampd_audit::Trail::record`] has made the event durable. If the trail cannot, the client
//! gets a server error in the call's protocol instead of an unrecorded success.
//!
//! Services need no audit code of their own: any handler that authenticates through
//! [`crate::Authenticator::authenticate`] names its caller to this layer, and a new service on
//! `POST /` is recognized by its target prefix or query `Action` (see `call.rs`). Data-plane
//! calls are recorded as data events only when the trail has them enabled; their bodies are
//! never read here.
//!
//! Hooks for code that knows more than the wire shows, none of them required: a handler may put
//! an [`ampd_audit::UserIdentity`] (e.g. a web-identity caller of an unsigned STS call) or a
//! [`Caller`] into its response extensions to name the caller, and a TLS front may put
//! [`ampd_audit::TlsDetails`] into the request extensions for `tlsDetails`.
//!
//! The same module serves `LookupEvents`/`ListPublicKeys` (`cloudtrail.rs`) and the offline
//! `ampd audit` commands (`offline.rs`).

mod call;
mod cloudtrail;
mod identity;
mod offline;
mod outcome;
mod params;

use std::net::SocketAddr;

use ampd_audit::{EventRecord, TlsDetails, Trail, UserIdentity};
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use time::OffsetDateTime;

use crate::auth::Caller;
use crate::error::AwsError;
use crate::extract::MAX_BODY_BYTES;
use crate::operation::Operation;
use crate::trace::RequestId;
use call::{Call, Route};
use outcome::Wire;

pub(crate) use cloudtrail::{handle as cloudtrail, is_target as is_cloudtrail_target};
pub(crate) use identity::note_caller;
pub(crate) use offline::trail_config;
pub use offline::{AUDIT_DIR, parse_time, public_key_pem, validate_folder};

use identity::CallerSlot;

/// Largest form body of a data-plane query that is read for its parameters.
const MAX_DATA_FORM_BYTES: u64 = 64 * 1024;

/// What the audit layer needs: the trail, and the region and account events are recorded in.
#[derive(Debug, Clone)]
pub struct Auditor {
    trail: Trail,
    region: String,
    account_id: String,
}

impl Auditor {
    /// Records into `trail` the calls made to `region` of `account_id`.
    pub fn new(trail: Trail, region: impl Into<String>, account_id: impl Into<String>) -> Self {
        Self {
            trail,
            region: region.into(),
            account_id: account_id.into(),
        }
    }

    /// Returns the trail.
    pub fn trail(&self) -> &Trail {
        &self.trail
    }
}

/// Middleware: records the call a request makes and answers only once its event is durable.
pub async fn record(State(auditor): State<Auditor>, req: Request, next: Next) -> Response {
    let event_time = OffsetDateTime::now_utc();
    let route = Route::of(req.method(), req.uri().path());
    let data = matches!(route, Route::Data { .. });
    if route == Route::Ops || (data && !auditor.trail.data_events_enabled()) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let body = match read_request_body(&parts, body, data).await {
        Ok(b) => b,
        Err(res) => return res,
    };
    let slot = CallerSlot::default();
    parts.extensions.insert(slot.clone());
    parts.extensions.insert(auditor.clone());
    let request_parts = {
        let mut p = Request::new(Body::empty()).into_parts().0;
        p.method = parts.method.clone();
        p.uri = parts.uri.clone();
        p.headers = parts.headers.clone();
        p
    };
    let (body_for_event, inner_body) = match body {
        ReadBody::Buffered(bytes) => (bytes.clone(), Body::from(bytes)),
        ReadBody::Streaming(b) => (Bytes::new(), b),
    };
    let source_ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip().to_string())
        .unwrap_or_default();
    // A TLS front puts the connection's parameters into the request extensions.
    let tls = parts.extensions.get::<TlsDetails>().cloned();
    let request_id = parts
        .extensions
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    // A call that cannot be recorded is refused before it runs, not only answered with an
    // error after it took effect.
    if !auditor.trail.is_writable() {
        tracing::error!(
            request_id = %request_id,
            "the audit trail is not writable; refusing the call"
        );
        let wire = Call::identify(&route, &request_parts, &body_for_event, None)
            .map_or((Wire::RestJson, "InternalFailure"), |c| {
                (c.wire, c.internal_error_code())
            });
        return outcome::unrecorded(wire.0, wire.1, &request_id);
    }
    let res = next.run(Request::from_parts(parts, inner_body)).await;
    let operation = res.extensions().get::<Operation>().copied();
    let Some(call) = Call::identify(&route, &request_parts, &body_for_event, operation) else {
        return res;
    };
    let (res_parts, res_body) = res.into_parts();
    // Data-plane success bodies (query results) can be large and are not recorded.
    let buffer = !data || !res_parts.status.is_success();
    let (res_bytes, res_body) = if buffer {
        match axum::body::to_bytes(res_body, usize::MAX).await {
            Ok(b) => (b.clone(), Body::from(b)),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the response of {}", call.name);
                return outcome::unrecorded(call.wire, call.internal_error_code(), &request_id);
            }
        }
    } else {
        (Bytes::new(), res_body)
    };
    let facts = Facts {
        route: &route,
        request: &request_parts,
        request_body: &body_for_event,
        response: &res_parts,
        response_body: &res_bytes,
        caller: slot.get(),
        event_time,
        source_ip,
        request_id: &request_id,
        tls,
    };
    let recorded = match build_event(&auditor, &call, &facts) {
        Ok(event) => auditor.trail.record(event).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match recorded {
        Ok(()) => Response::from_parts(res_parts, res_body),
        Err(e) => {
            tracing::error!(
                error = %e, request_id = %request_id,
                "cannot record {} in the audit trail: {e}", call.name
            );
            outcome::unrecorded(call.wire, call.internal_error_code(), &request_id)
        }
    }
}

/// A request body as the layer passes it on.
enum ReadBody {
    /// Read whole, for the event and the handler.
    Buffered(Bytes),
    /// Passed through unread (data-plane payloads).
    Streaming(Body),
}

/// Reads the body the event needs; data-plane bodies stay unread except small query forms.
async fn read_request_body(parts: &Parts, body: Body, data: bool) -> Result<ReadBody, Response> {
    if data {
        let small_form = call::is_form(&parts.headers)
            && parts
                .headers
                .get("content-length")
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                .is_some_and(|n| n <= MAX_DATA_FORM_BYTES);
        if !small_form {
            return Ok(ReadBody::Streaming(body));
        }
    }
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map(ReadBody::Buffered)
        .map_err(|_| {
            AwsError::cannot_parse(format!(
                "request body is unreadable or larger than {MAX_BODY_BYTES} bytes"
            ))
            .into_response()
        })
}

/// Everything known about one call once it has been answered.
struct Facts<'a> {
    route: &'a Route,
    request: &'a Parts,
    request_body: &'a [u8],
    response: &'a axum::http::response::Parts,
    response_body: &'a [u8],
    caller: Option<Caller>,
    event_time: OffsetDateTime,
    source_ip: String,
    request_id: &'a str,
    tls: Option<TlsDetails>,
}

fn build_event(
    auditor: &Auditor,
    call: &Call,
    f: &Facts<'_>,
) -> Result<EventRecord, ampd_audit::AuditError> {
    let failure = outcome::failure(
        call.wire,
        f.response.status,
        &f.response.headers,
        f.response_body,
    );
    let identity = f
        .response
        .extensions
        .get::<UserIdentity>()
        .cloned()
        .or_else(|| {
            f.response
                .extensions
                .get::<Caller>()
                .map(identity::of_caller)
        })
        .or_else(|| f.caller.as_ref().map(identity::of_caller))
        .unwrap_or_else(|| identity::unverified(f.request));
    let request_parameters = call.request_parameters(f.route, f.request, f.request_body);
    let response_json = match call.wire {
        Wire::RestJson | Wire::Json11 if failure.is_none() => {
            outcome::response_elements(f.response_body)
        }
        _ => None,
    };
    // Query-protocol responses are XML and not recorded, but name the access key an IAM call
    // created.
    let response_ids = match (call.wire, &failure) {
        (Wire::Query, None) => {
            outcome::xml_leaf(&String::from_utf8_lossy(f.response_body), "AccessKeyId")
                .map(|id| serde_json::json!({ "accessKeyId": id }))
        }
        _ => None,
    };
    let resources = call.resources(
        f.route,
        request_parameters.as_ref().unwrap_or(&Value::Null),
        response_json
            .as_ref()
            .or(response_ids.as_ref())
            .unwrap_or(&Value::Null),
        &auditor.region,
        &auditor.account_id,
    );
    let user_agent = f
        .request
        .headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut builder = EventRecord::builder(call.source, call.name.clone(), f.event_time)
        .user_identity(identity)
        .region(auditor.region.clone())
        .recipient_account_id(auditor.account_id.clone())
        .request_id(f.request_id)
        .source_ip(f.source_ip.clone())
        .user_agent(user_agent)
        .category(call.category);
    if let Some(tls) = f.tls.clone() {
        builder = builder.tls_details(tls);
    }
    if let Some(ro) = call.read_only {
        builder = builder.read_only(ro);
    }
    if let Some(p) = request_parameters {
        builder = builder.request_parameters(p);
    }
    if let Some(r) = response_json {
        builder = builder.response_elements(r);
    }
    if let Some(fail) = failure {
        builder = builder.error(fail.code, fail.message);
    }
    for (arn, kind) in resources {
        let account = arn
            .split(':')
            .nth(4)
            .filter(|a| !a.is_empty())
            .unwrap_or(&auditor.account_id)
            .to_owned();
        builder = builder.resource(arn, account, kind);
    }
    builder.build()
}
