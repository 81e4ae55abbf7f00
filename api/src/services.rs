//! `POST /`: the services AWS reaches at a service-wide endpoint instead of by path.
//!
//! One endpoint carries them all, as with ampd's single listener: JSON 1.1 services name
//! their operation in `X-Amz-Target` (KMS `TrentService.*`, CloudTrail
//! `…CloudTrail_20131101.*`); query-protocol services (IAM, STS) send a form whose `Action`
//! is only meaningful for the service the request was signed for, so those are told apart
//! by the signing name in the SigV4 credential scope. The one unsigned query call,
//! `AssumeRoleWithWebIdentity` (the web identity token is its credential), goes to STS by its
//! `Action`.
//!
//! KMS (`TrentService.*`) is answered when the router is given a [`KmsService`].

use std::sync::Arc;

use ampd_iam::sigv4::{SigV4Auth, SignableRequest};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use ampd_kms::KmsService;

use crate::auth::{Authenticator, read_body};
use crate::{audit, iam, kms, sts};

/// A service reachable on `POST /`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    /// IAM, query protocol, signing name `iam`.
    Iam,
    /// CloudTrail, JSON 1.1, signing name `cloudtrail`.
    CloudTrail,
    /// STS, query protocol, signing name `sts`.
    Sts,
    /// An unsigned query-protocol form: STS if its action is one STS takes unsigned, else IAM
    /// (which asks for a signature).
    Unsigned,
    /// KMS, JSON 1.1 `TrentService.*`, signing name `kms`.
    Kms,
    /// A JSON 1.1 target prefix no service here answers.
    UnknownTarget,
}

/// Returns which service a `POST /` request is for.
fn service_of(parts: &Parts) -> Service {
    if let Some(target) = parts.headers.get("x-amz-target") {
        let target = target.to_str().unwrap_or_default();
        if audit::is_cloudtrail_target(target) {
            return Service::CloudTrail;
        }
        if target.starts_with(ampd_kms::TARGET_PREFIX) {
            return Service::Kms;
        }
        return Service::UnknownTarget;
    }
    match SigV4Auth::from_request(&SignableRequest::from_parts(parts)) {
        Ok(auth) if auth.scope().service == "sts" => Service::Sts,
        Ok(_) => Service::Iam,
        Err(_) if parts.headers.contains_key(header::AUTHORIZATION) => Service::Iam,
        Err(_) => Service::Unsigned,
    }
}

/// What `POST /` serves.
#[derive(Debug, Clone)]
struct ServicesState {
    authenticator: Arc<Authenticator>,
    kms: Option<KmsService>,
}

/// Builds the router of `POST /`; KMS targets are served when `kms` is given.
pub fn router(authenticator: Arc<Authenticator>, kms: Option<KmsService>) -> Router {
    Router::new()
        .route("/", post(dispatch))
        .with_state(ServicesState { authenticator, kms })
}

async fn dispatch(State(state): State<ServicesState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let auth = &state.authenticator;
    match (service_of(&parts), &state.kms) {
        (Service::Iam, _) => iam::handle(auth, Request::from_parts(parts, body)).await,
        (Service::CloudTrail, _) => audit::cloudtrail(auth, Request::from_parts(parts, body)).await,
        (Service::Sts, _) => sts::handle(auth, Request::from_parts(parts, body)).await,
        (Service::Unsigned, _) => {
            let bytes = match read_body(body).await {
                Ok(b) => b,
                Err(e) => return e.into_response(),
            };
            let unsigned_sts = sts::is_unsigned_sts_action(&bytes);
            let req = Request::from_parts(parts, Body::from(bytes));
            if unsigned_sts {
                sts::handle(auth, req).await
            } else {
                iam::handle(auth, req).await
            }
        }
        (Service::Kms, Some(service)) => {
            kms::handle(auth, service, Request::from_parts(parts, body)).await
        }
        (Service::Kms | Service::UnknownTarget, _) => unknown_target(&parts),
    }
}

/// The JSON 1.1 error for a target no service here serves.
fn unknown_target(parts: &Parts) -> Response {
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let body = serde_json::json!({
        "__type": "UnknownOperationException",
        "message": format!("Unrecognized operation {target}"),
    });
    let mut res = (StatusCode::BAD_REQUEST, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(target: Option<&str>) -> Parts {
        let mut b = axum::http::Request::builder().method("POST").uri("/");
        if let Some(t) = target {
            b = b.header("x-amz-target", t);
        }
        b.body(()).unwrap().into_parts().0
    }

    fn signed_for(service: &str) -> Parts {
        let mut p = parts(None);
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261125/us-east-1/{service}/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=00"
        );
        p.headers
            .insert(header::AUTHORIZATION, HeaderValue::from_str(&auth).unwrap());
        p
    }

    #[test]
    fn query_forms_go_by_signing_name() {
        assert_eq!(service_of(&signed_for("sts")), Service::Sts);
        assert_eq!(service_of(&signed_for("iam")), Service::Iam);
        let mut garbled = parts(None);
        garbled
            .headers
            .insert(header::AUTHORIZATION, HeaderValue::from_static("nonsense"));
        assert_eq!(service_of(&garbled), Service::Iam);
        let presigned = axum::http::Request::post(
            "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261125%2Fus-east-1%2Fsts%2Faws4_request\
             &X-Amz-Date=20261125T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
        )
        .body(())
        .unwrap()
        .into_parts()
        .0;
        assert_eq!(service_of(&presigned), Service::Sts);
        assert!(sts::is_unsigned_sts_action(
            b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
        ));
        assert!(!sts::is_unsigned_sts_action(
            b"Action=AssumeRole&Version=2011-06-15"
        ));
    }

    #[test]
    fn forms_go_to_iam_and_unknown_targets_are_refused() {
        assert_eq!(service_of(&parts(None)), Service::Unsigned);
        assert_eq!(
            service_of(&parts(Some(
                "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
            ))),
            Service::CloudTrail
        );
        assert_eq!(
            service_of(&parts(Some("TrentService.Encrypt"))),
            Service::Kms
        );
        assert_eq!(
            service_of(&parts(Some("Nope_2020.DoThing"))),
            Service::UnknownTarget
        );
        let res = unknown_target(&parts(Some("Nope_2020.DoThing")));
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/x-amz-json-1.1"
        );
    }
}
