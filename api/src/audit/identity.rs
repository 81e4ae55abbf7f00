//! `userIdentity`: the verified [`Caller`] as CloudTrail describes it.

use std::sync::{Arc, Mutex, PoisonError};

use ampd_audit::{IdentityType, SessionContext, SessionIssuer, UserIdentity};
use ampd_iam::PrincipalKind;
use ampd_iam::sigv4::{SigV4Auth, SignableRequest};
use axum::http::request::Parts;

use crate::auth::Caller;

/// Where authentication leaves the caller of a request for the audit layer.
///
/// The layer puts an empty slot into the request extensions; [`note_caller`] fills it when a
/// signature checks out, whichever handler asked (control plane, IAM, STS, KMS, data plane), so
/// a denied or failed call still names who made it.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallerSlot(Arc<Mutex<Option<Caller>>>);

impl CallerSlot {
    fn set(&self, caller: &Caller) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(caller.clone());
    }

    /// Returns the caller noted for the request, if any.
    pub(super) fn get(&self) -> Option<Caller> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Notes `caller` as the verified caller of the request `parts` belong to.
pub(crate) fn note_caller(parts: &Parts, caller: &Caller) {
    if let Some(slot) = parts.extensions.get::<CallerSlot>() {
        slot.set(caller);
    }
}

/// Returns the identity of a verified caller.
pub(super) fn of_caller(caller: &Caller) -> UserIdentity {
    let p = &caller.principal;
    let identity_type = match p.kind {
        PrincipalKind::Root => IdentityType::Root,
        PrincipalKind::User => IdentityType::IamUser,
        PrincipalKind::AssumedRole { .. } => IdentityType::AssumedRole,
    };
    let session_context = match &p.kind {
        PrincipalKind::AssumedRole { role_arn, .. } => Some(SessionContext {
            session_issuer: Some(SessionIssuer {
                issuer_type: "Role".to_owned(),
                principal_id: p.user_id.split(':').next().map(str::to_owned),
                arn: Some(role_arn.clone()),
                account_id: Some(p.account_id.clone()),
                user_name: role_arn.rsplit('/').next().map(str::to_owned),
            }),
            web_id_federation_data: None,
            attributes: None,
            source_identity: None,
        }),
        _ => None,
    };
    UserIdentity {
        principal_id: Some(p.user_id.clone()),
        arn: Some(p.arn.clone()),
        account_id: Some(p.account_id.clone()),
        access_key_id: Some(caller.access_key_id.clone()),
        user_name: p.user_name.clone(),
        session_context,
        ..UserIdentity::new(identity_type)
    }
}

/// Returns the identity of a caller whose signature was not verified: `Unknown`, with the
/// access key it claimed, if any.
pub(super) fn unverified(parts: &Parts) -> UserIdentity {
    let claimed = SigV4Auth::from_request(&SignableRequest::from_parts(parts))
        .ok()
        .map(|auth| auth.access_key_id().to_owned())
        .filter(|id| !id.is_empty());
    UserIdentity {
        access_key_id: claimed,
        ..UserIdentity::new(IdentityType::Unknown)
    }
}

/// Returns the signing name of the request's credential scope (`iam`, `sts`, …), if signed.
pub(super) fn signing_service(parts: &Parts) -> Option<String> {
    SigV4Auth::from_request(&SignableRequest::from_parts(parts))
        .ok()
        .map(|auth| auth.scope().service.to_owned())
}

#[cfg(test)]
mod tests {
    use ampd_iam::Principal;

    use super::*;

    fn caller(kind: PrincipalKind, user_name: Option<&str>, arn: &str, id: &str) -> Caller {
        Caller {
            principal: Principal {
                account_id: "123456789012".into(),
                arn: arn.into(),
                user_id: id.into(),
                user_name: user_name.map(Into::into),
                kind,
                tags: Default::default(),
            },
            access_key_id: "AKIAEXAMPLE".into(),
            presigned: false,
            session_policies: None,
        }
    }

    #[test]
    fn users_roots_and_sessions_map_to_cloudtrail_types() {
        let user = of_caller(&caller(
            PrincipalKind::User,
            Some("alice"),
            "arn:aws:iam::123456789012:user/alice",
            "AIDAALICE",
        ));
        assert_eq!(user.identity_type, IdentityType::IamUser);
        assert_eq!(user.user_name.as_deref(), Some("alice"));
        assert_eq!(user.access_key_id.as_deref(), Some("AKIAEXAMPLE"));
        let root = of_caller(&caller(
            PrincipalKind::Root,
            None,
            "arn:aws:iam::123456789012:root",
            "123456789012",
        ));
        assert_eq!(root.identity_type, IdentityType::Root);
        let session = of_caller(&caller(
            PrincipalKind::AssumedRole {
                role_arn: "arn:aws:iam::123456789012:role/writer".into(),
                session_name: "prom".into(),
            },
            None,
            "arn:aws:sts::123456789012:assumed-role/writer/prom",
            "AROAWRITER:prom",
        ));
        let issuer = session.session_context.unwrap().session_issuer.unwrap();
        assert_eq!(issuer.principal_id.as_deref(), Some("AROAWRITER"));
        assert_eq!(issuer.user_name.as_deref(), Some("writer"));
    }

    #[test]
    fn unverified_callers_keep_the_claimed_key() {
        let (parts, ()) = axum::http::Request::post("/")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAWHO/20250102/us-east-1/sts/aws4_request, \
                 SignedHeaders=host, Signature=00",
            )
            .body(())
            .unwrap()
            .into_parts();
        let id = unverified(&parts);
        assert_eq!(id.identity_type, IdentityType::Unknown);
        assert_eq!(id.access_key_id.as_deref(), Some("AKIAWHO"));
        assert_eq!(signing_service(&parts).as_deref(), Some("sts"));
    }
}
