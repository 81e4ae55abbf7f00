//! The STS operations.

use std::time::{Duration, SystemTime};

use ampd_backends::{IamRole, IamStoreError};
use ampd_iam::policy::{
    AttachedPolicy, AuthzRequest, Decision, Policy, PolicyKind, PolicySet, RequestContext,
    evaluate_trust, evaluate_web_identity_trust,
};
use ampd_iam::sts::oidc::{self, OidcProvider, provider_key};
use ampd_iam::sts::{
    DurationBounds, RoleSessionName, SessionClaims, SessionIdentity, SessionTags,
    TemporaryCredentials, session_duration, validate_source_identity,
};
use ampd_iam::{AccessKeyKind, PrincipalKind};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Sts;
use super::wire::{StsError, VERSION, respond};
use crate::auth::{Authenticator, Caller, read_body};
use crate::iam::Identities;
use crate::iam::query::{Form, Xml};
use crate::trace::RequestId;

/// Largest inline session policy, counted without whitespace (STS's packed limit).
const MAX_SESSION_POLICY: usize = 2048;
/// Managed session policies one call may pass.
const MAX_POLICY_ARNS: usize = 10;

/// Returns whether a form is one STS accepts without a signature
/// (`AssumeRoleWithWebIdentity`: the token is the credential).
pub fn is_unsigned_sts_action(form_body: &[u8]) -> bool {
    Form::parse(form_body).get("Action") == Some("AssumeRoleWithWebIdentity")
}

/// Serves one STS request (a form-encoded `Action` on `POST /`).
pub async fn handle(auth: &Authenticator, req: Request) -> Response {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    match serve(auth, req).await {
        Ok((action, result)) => respond(action, result, &request_id),
        Err(e) => e.into_response_with(&request_id),
    }
}

async fn serve(auth: &Authenticator, req: Request) -> Result<(&'static str, Xml), StsError> {
    let (parts, body) = req.into_parts();
    let bytes = read_body(body)
        .await
        .map_err(|e| StsError::validation(e.to_string()))?;
    let form = Form::parse(&bytes);
    let ids = auth.identities();
    let sts = ids
        .sts()
        .ok_or_else(|| StsError::internal(anyhow::anyhow!("STS is not configured")))?;
    // The web identity token is the credential: SDKs send this call unsigned.
    if form.get("Action") == Some("AssumeRoleWithWebIdentity") {
        check_version(&form)?;
        let result = assume_role_with_web_identity(ids, sts, &form, SystemTime::now()).await?;
        return Ok(("AssumeRoleWithWebIdentity", result));
    }
    let caller = auth.authenticate(&parts, &bytes, "sts").await?;
    let action = form
        .get("Action")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| StsError::validation("Action is required"))?;
    check_version(&form)?;
    let now = SystemTime::now();
    match action {
        "GetCallerIdentity" => Ok(("GetCallerIdentity", caller_identity(&caller, ids))),
        "GetSessionToken" => Ok(("GetSessionToken", session_token(sts, &caller, &form, now)?)),
        "AssumeRole" => Ok((
            "AssumeRole",
            assume_role(auth, sts, &parts, &caller, &form, now).await?,
        )),
        other => Err(StsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            format!("Could not find operation {other} for version {VERSION}"),
        )),
    }
}

fn check_version(form: &Form) -> Result<(), StsError> {
    if form.get("Version") == Some(VERSION) {
        Ok(())
    } else {
        Err(StsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
            format!("Version must be {VERSION}"),
        ))
    }
}

/// `GetCallerIdentity`: needs no permission, as on AWS.
fn caller_identity(caller: &Caller, ids: &Identities) -> Xml {
    let mut x = Xml::new();
    x.leaf("UserId", &caller.principal.user_id)
        .leaf("Account", ids.account_id())
        .leaf("Arn", &caller.principal.arn);
    x
}

/// `GetSessionToken`: temporary credentials acting as the calling user (or root), from
/// long-term credentials only. Needs no permission, as on AWS.
fn session_token(
    sts: &Sts,
    caller: &Caller,
    form: &Form,
    now: SystemTime,
) -> Result<Xml, StsError> {
    if AccessKeyKind::of(&caller.access_key_id) == Some(AccessKeyKind::Temporary) {
        return Err(StsError::access_denied(
            "Cannot call GetSessionToken with session credentials",
        ));
    }
    let (identity, root) = match (&caller.principal.kind, &caller.principal.user_name) {
        (PrincipalKind::Root, _) => (SessionIdentity::Root, true),
        (PrincipalKind::User, Some(name)) => (SessionIdentity::User { name: name.clone() }, false),
        _ => {
            return Err(StsError::access_denied(
                "Cannot call GetSessionToken with session credentials",
            ));
        }
    };
    let duration = session_duration(
        form.get("DurationSeconds"),
        DurationBounds::session_token(root),
    )?;
    let creds = issue(sts, SessionClaims::new(identity, now, duration))?;
    let mut x = Xml::new();
    credentials_xml(&mut x, &creds);
    Ok(x)
}

fn issue(sts: &Sts, claims: SessionClaims) -> Result<TemporaryCredentials, StsError> {
    sts.sealer()
        .issue(claims)
        .map_err(|e| StsError::internal(anyhow::Error::new(e)))
}

fn iso8601(t: SystemTime) -> String {
    OffsetDateTime::from(t)
        .replace_nanosecond(0)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn credentials_xml(x: &mut Xml, creds: &TemporaryCredentials) {
    x.node("Credentials", |c| {
        c.leaf("AccessKeyId", &creds.access_key_id)
            .leaf("SecretAccessKey", creds.secret.expose())
            .leaf("SessionToken", creds.token.expose())
            .leaf("Expiration", &iso8601(creds.expiration));
    });
}

/// Returns the role an ARN of this account names.
async fn role_of(ids: &Identities, arn: &str) -> Result<Option<IamRole>, StsError> {
    let prefix = format!("arn:aws:iam::{}:role/", ids.account_id());
    let Some(path_and_name) = arn.strip_prefix(&prefix) else {
        return Ok(None);
    };
    let name = path_and_name.rsplit('/').next().unwrap_or_default();
    match ids.role(name).await {
        Ok(role) if role.arn == arn => Ok(Some(role)),
        Ok(_) | Err(IamStoreError::NoSuchEntity(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The parameters AssumeRole and AssumeRoleWithWebIdentity share.
struct SessionRequest {
    role_arn: String,
    session_name: RoleSessionName,
    policy: Option<String>,
    policy_arns: Vec<String>,
    policy_size: usize,
}

impl SessionRequest {
    async fn parse(ids: &Identities, form: &Form) -> Result<Self, StsError> {
        let role_arn = form.required("RoleArn").map_err(validation)?.to_owned();
        let session_name =
            RoleSessionName::parse(form.required("RoleSessionName").map_err(validation)?)?;
        let policy = form.get("Policy").map(str::to_owned);
        let mut policy_size = 0;
        if let Some(doc) = &policy {
            Policy::parse_identity(doc)?;
            policy_size = doc.chars().filter(|c| !c.is_whitespace()).count();
        }
        let mut policy_arns = Vec::new();
        for n in 1.. {
            let Some(arn) = form.get(&format!("PolicyArns.member.{n}.arn")) else {
                break;
            };
            if ids.managed_document(arn).await?.is_none() {
                return Err(StsError::validation(format!(
                    "Policy {arn} does not exist or is not attachable."
                )));
            }
            policy_size += arn.len();
            policy_arns.push(arn.to_owned());
        }
        if policy_arns.len() > MAX_POLICY_ARNS {
            return Err(StsError::validation(format!(
                "1 validation error detected: Value at 'policyArns' failed to satisfy \
                 constraint: Member must have length less than or equal to {MAX_POLICY_ARNS}"
            )));
        }
        if policy_size > MAX_SESSION_POLICY {
            return Err(StsError::new(
                StatusCode::BAD_REQUEST,
                "PackedPolicyTooLarge",
                format!(
                    "Packed size of consumed session policies exceeds the limit ({}%).",
                    policy_size * 100 / MAX_SESSION_POLICY
                ),
            ));
        }
        Ok(Self {
            role_arn,
            session_name,
            policy,
            policy_arns,
            policy_size,
        })
    }

    /// Claims of a session of `role` per this request.
    fn claims(&self, role: &IamRole, now: SystemTime, duration: Duration) -> SessionClaims {
        let mut claims = SessionClaims::new(
            SessionIdentity::AssumedRole {
                role_arn: role.arn.clone(),
                role_id: role.role_id.clone(),
                role_name: role.name.clone(),
                session_name: self.session_name.as_str().to_owned(),
            },
            now,
            duration,
        );
        claims.policy.clone_from(&self.policy);
        claims.policy_arns.clone_from(&self.policy_arns);
        claims
    }

    /// Writes the result elements shared by both calls.
    fn write(
        &self,
        x: &mut Xml,
        claims: &SessionClaims,
        creds: &TemporaryCredentials,
        ids: &Identities,
    ) {
        credentials_xml(x, creds);
        if let Some(p) = claims.assumed_role_principal(ids.account_id()) {
            x.node("AssumedRoleUser", |u| {
                u.leaf("AssumedRoleId", &p.user_id).leaf("Arn", &p.arn);
            });
        }
        x.leaf(
            "PackedPolicySize",
            &(self.policy_size * 100 / MAX_SESSION_POLICY).to_string(),
        );
        if let Some(s) = &claims.source_identity {
            x.leaf("SourceIdentity", s);
        }
    }
}

fn validation(e: crate::iam::query::IamError) -> StsError {
    StsError::validation(e.message)
}

fn trust_policy(role: &IamRole) -> Result<AttachedPolicy, StsError> {
    let policy = Policy::parse_trust(&role.assume_role_policy).map_err(|e| {
        StsError::internal(anyhow::anyhow!(
            "trust policy of {} unreadable: {e}",
            role.arn
        ))
    })?;
    Ok(AttachedPolicy::new(
        "trust policy",
        PolicyKind::Resource,
        std::sync::Arc::new(policy),
    ))
}

/// `AssumeRole`: the trust policy must allow the caller (and its own policies too, when the
/// trust names the account), and `sts:TagSession` / `sts:SetSourceIdentity` when tags or a
/// source identity are passed.
async fn assume_role(
    auth: &Authenticator,
    sts: &Sts,
    parts: &Parts,
    caller: &Caller,
    form: &Form,
    now: SystemTime,
) -> Result<Xml, StsError> {
    let ids = auth.identities();
    let principal = &caller.principal;
    if principal.is_root() {
        return Err(StsError::access_denied(
            "Roles may not be assumed by root accounts.",
        ));
    }
    let request = SessionRequest::parse(ids, form).await?;
    let tags = SessionTags::parse(form.tags())?;
    let external_id = form.get("ExternalId");
    if let Some(id) = external_id {
        let ok = (2..=1224).contains(&id.len())
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c));
        if !ok {
            return Err(StsError::validation(format!(
                "1 validation error detected: Value '{id}' at 'externalId' failed to satisfy \
                 constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*"
            )));
        }
    }
    let source_identity = form.get("SourceIdentity");
    if let Some(s) = source_identity {
        validate_source_identity(s)?;
    }
    let denied = |action: &str, decision: Option<Decision>| {
        let message = decision
            .and_then(|d| d.access_denied_message(&principal.arn, action, &request.role_arn))
            .unwrap_or_else(|| {
                format!(
                    "User: {} is not authorized to perform: {action} on resource: {}",
                    principal.arn, request.role_arn
                )
            });
        StsError::access_denied(message)
    };
    let Some(role) = role_of(ids, &request.role_arn).await? else {
        return Err(denied("sts:AssumeRole", None));
    };
    let mut ctx = auth.base_context(parts, principal);
    ctx.insert("sts:RoleSessionName", request.session_name.as_str());
    if let Some(id) = external_id {
        ctx.insert("sts:ExternalId", id);
    }
    if let Some(s) = source_identity {
        ctx.insert("sts:SourceIdentity", s);
    }
    if !tags.is_empty() {
        ctx.set_request_tags(tags.as_map());
    }
    let identity = ids
        .identity_policies(principal)
        .await
        .map_err(|e| StsError::internal(anyhow::Error::new(e)))?;
    let boundary = ids
        .permissions_boundary(principal)
        .await
        .map_err(|e| StsError::internal(anyhow::Error::new(e)))?;
    let trust = trust_policy(&role)?;
    let policies = PolicySet {
        identity: &identity,
        permissions_boundary: boundary.as_ref(),
        session: caller.session_policies.as_deref(),
        resource: Some(&trust),
    };
    let mut actions = vec!["sts:AssumeRole"];
    if !tags.is_empty() {
        actions.push("sts:TagSession");
    }
    if source_identity.is_some() {
        actions.push("sts:SetSourceIdentity");
    }
    for action in actions {
        let request = AuthzRequest {
            principal,
            action,
            resource: &role.arn,
            context: &ctx,
        };
        let decision = evaluate_trust(&request, &policies);
        if !decision.is_allowed() {
            return Err(denied(action, Some(decision)));
        }
    }
    let chained = matches!(principal.kind, PrincipalKind::AssumedRole { .. });
    let duration = session_duration(
        form.get("DurationSeconds"),
        DurationBounds::assume_role(u64::from(role.max_session_duration), chained),
    )?;
    let mut claims = request.claims(&role, now, duration);
    claims.tags = tags.into_map();
    claims.source_identity = source_identity.map(str::to_owned);
    let creds = issue(sts, claims.clone())?;
    let mut x = Xml::new();
    request.write(&mut x, &claims, &creds, ids);
    Ok(x)
}

/// `AssumeRoleWithWebIdentity`: the OIDC token must be valid for a registered provider, and
/// the role's trust policy must allow that provider with the token's claims.
async fn assume_role_with_web_identity(
    ids: &Identities,
    sts: &Sts,
    form: &Form,
    now: SystemTime,
) -> Result<Xml, StsError> {
    let request = SessionRequest::parse(ids, form).await?;
    let token = form.required("WebIdentityToken").map_err(validation)?;
    let issuer = oidc::unverified_issuer(token)?;
    let registered = sts
        .providers()
        .list_oidc_providers()
        .await?
        .into_iter()
        .find(|p| provider_key(&p.url) == provider_key(&issuer))
        .ok_or_else(|| {
            StsError::invalid_identity_token(format!(
                "No OpenIDConnect provider found in your account for {issuer}"
            ))
        })?;
    let provider = OidcProvider {
        arn: registered.arn,
        url: registered.url,
        client_ids: registered.client_ids,
    };
    let jwks = sts
        .jwks()
        .jwks(&provider.url)
        .await
        .map_err(StsError::idp_communication)?;
    let identity = oidc::validate(token, &provider, &jwks, now)?;
    let not_authorized =
        || StsError::access_denied("Not authorized to perform sts:AssumeRoleWithWebIdentity");
    let role = role_of(ids, &request.role_arn)
        .await?
        .ok_or_else(not_authorized)?;
    let mut ctx = RequestContext::new();
    ctx.set_time(now);
    ctx.insert("sts:RoleSessionName", request.session_name.as_str());
    identity.add_trust_context(&provider, &mut ctx);
    let decision = evaluate_web_identity_trust(
        &trust_policy(&role)?,
        &provider.arn,
        "sts:AssumeRoleWithWebIdentity",
        &role.arn,
        &ctx,
    );
    if !decision.is_allowed() {
        return Err(not_authorized());
    }
    let duration = session_duration(
        form.get("DurationSeconds"),
        DurationBounds::assume_role(u64::from(role.max_session_duration), false),
    )?;
    let claims = request.claims(&role, now, duration);
    let creds = issue(sts, claims.clone())?;
    let mut x = Xml::new();
    x.leaf("SubjectFromWebIdentityToken", &identity.subject);
    request.write(&mut x, &claims, &creds, ids);
    x.leaf("Provider", provider_key(&provider.url))
        .leaf("Audience", &identity.audience);
    Ok(x)
}
