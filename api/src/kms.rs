//! The KMS API on `POST /` (`X-Amz-Target: TrentService.*`, JSON 1.1, signing name `kms`) and
//! the workspace data keys it protects ([`WorkspaceKeys`]).
//!
//! Every request is authenticated through the shared [`Authenticator`] and authorized as
//! `kms:<Operation>` on the key ARN it addresses (`*` for CreateKey, ListKeys and ListAliases;
//! the alias ARN too for alias operations; `kms:ReEncryptFrom`/`kms:ReEncryptTo` for
//! ReEncrypt). Key policies apply as in KMS: the default key policy delegates to IAM (the
//! account root is always allowed and users get access through their identity policies); a
//! key policy without that delegation must allow the caller itself. Errors come back as JSON
//! 1.1 errors (`__type`, `message`).

mod sealed_store;
mod workspace_keys;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

use ampd_iam::Principal;
use ampd_iam::policy::{
    AttachedPolicy, AuthzRequest, Policy, PolicyKind, PolicySet, evaluate, wildcard_match,
};
use ampd_iam::sigv4::{Protocol, SigV4Error};
use ampd_kms::{
    Clock, FileKeyRepository, GetKeyPolicyRequest, KmsConfig, KmsError, KmsService, Operation,
    RootKey, SystemClock,
};
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::auth::{Authenticator, AuthzError, Check, read_body};

pub use sealed_store::SealedDefinitions;
pub use workspace_keys::{KeyAccessError, WorkspaceKeys};

/// Folder of the KMS key repository in the data folder.
pub const KMS_DIR: &str = "kms";

/// Opens the KMS service over `<data_dir>/kms`, with key material sealed by `root`.
pub async fn open_service(
    data_dir: &Path,
    region: &str,
    root: RootKey,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<KmsService> {
    let dir = data_dir.join(KMS_DIR);
    let repo = FileKeyRepository::open(&dir).await.map_err(|e| {
        anyhow::anyhow!("cannot open the kms key repository {}: {e}", dir.display())
    })?;
    let config = KmsConfig {
        region: region.to_owned(),
        ..KmsConfig::default()
    };
    Ok(KmsService::new(config, root, Arc::new(repo), clock))
}

/// Opens the KMS service on the system clock.
pub async fn open_system_service(
    data_dir: &Path,
    region: &str,
    root: RootKey,
) -> anyhow::Result<KmsService> {
    open_service(data_dir, region, root, Arc::new(SystemClock)).await
}

/// Why a KMS request was not answered by the service itself.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KmsApiError {
    #[error(transparent)]
    Kms(#[from] KmsError),
    #[error(transparent)]
    Signature(SigV4Error),
    #[error(transparent)]
    Authz(#[from] AuthzError),
}

impl KmsApiError {
    fn wire(&self) -> (StatusCode, &'static str, String) {
        match self {
            Self::Kms(e) => (
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
                e.aws_code(),
                e.public_message(),
            ),
            Self::Signature(e) => (
                e.http_status_for(Protocol::Json),
                e.aws_code_for(Protocol::Json),
                e.message_for(Protocol::Json),
            ),
            Self::Authz(AuthzError::Denied(message)) => (
                StatusCode::BAD_REQUEST,
                "AccessDeniedException",
                message.clone(),
            ),
            Self::Authz(AuthzError::Internal(_)) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "KMSInternalException",
                "An internal error occurred.".to_owned(),
            ),
        }
    }
}

impl IntoResponse for KmsApiError {
    fn into_response(self) -> Response {
        if let Self::Authz(AuthzError::Internal(e)) = &self {
            tracing::error!(error = %e, "kms authorization failed: {e}");
        }
        let (status, code, message) = self.wire();
        let body = serde_json::json!({"__type": code, "message": message});
        let mut res = json_response(status, body.to_string().into_bytes());
        res.headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(code));
        res
    }
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    res
}

/// Serves one `TrentService.*` request.
pub async fn handle(auth: &Authenticator, kms: &KmsService, req: Request) -> Response {
    match serve(auth, kms, req).await {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(e) => e.into_response(),
    }
}

async fn serve(
    auth: &Authenticator,
    kms: &KmsService,
    req: Request,
) -> Result<Vec<u8>, KmsApiError> {
    let (parts, body) = req.into_parts();
    let bytes = read_body(body)
        .await
        .map_err(|e| KmsError::Serialization(e.to_string()))?;
    let caller = auth
        .authenticate(&parts, &bytes, "kms")
        .await
        .map_err(KmsApiError::Signature)?;
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let op = Operation::parse_target(target)?;
    let account = auth.identities().account_id().to_owned();
    if !caller.principal.is_root() {
        let checks = checks(auth, kms, &parts, &caller.principal, op, &account, &bytes).await?;
        authorize(auth, kms, &account, &caller.principal, &checks).await?;
    }
    Ok(kms.handle(&account, op, &bytes).await?)
}

/// The IAM checks of one request: its action on every key or alias ARN it touches.
async fn checks(
    auth: &Authenticator,
    kms: &KmsService,
    parts: &Parts,
    principal: &ampd_iam::Principal,
    op: Operation,
    account: &str,
    body: &[u8],
) -> Result<Vec<Check>, KmsApiError> {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let field = |name: &str| json.get(name).and_then(Value::as_str);
    let key = |id: &str| {
        let id = id.to_owned();
        async move { kms.resolve_key_arn(account, &id).await }
    };
    let context = auth.base_context(parts, principal);
    let check = |action: &'static str, resource: String| Check {
        action,
        resource,
        context: context.clone(),
    };
    let alias_arn = |name: &str| {
        let c = kms.config();
        format!("arn:{}:kms:{}:{account}:{name}", c.partition, c.region)
    };
    let mut out = Vec::new();
    use Operation as Op;
    match op {
        Op::CreateKey | Op::ListKeys | Op::ListAliases => {
            out.push(check(op.iam_action(), "*".to_owned()));
        }
        Op::CreateAlias | Op::UpdateAlias | Op::DeleteAlias => {
            let alias = field("AliasName").unwrap_or_default();
            out.push(check(op.iam_action(), alias_arn(alias)));
            let target = match field("TargetKeyId") {
                Some(id) => key(id).await?,
                None => key(alias).await?,
            };
            out.push(check(op.iam_action(), target));
        }
        Op::Decrypt => {
            let arn = match field("KeyId") {
                Some(id) => key(id).await?,
                None => blob_key(kms, field("CiphertextBlob")).await?,
            };
            out.push(check(op.iam_action(), arn));
        }
        Op::ReEncrypt => {
            let from = match field("SourceKeyId") {
                Some(id) => key(id).await?,
                None => blob_key(kms, field("CiphertextBlob")).await?,
            };
            out.push(check("kms:ReEncryptFrom", from));
            let to = key(field("DestinationKeyId").unwrap_or_default()).await?;
            out.push(check("kms:ReEncryptTo", to));
        }
        _ => {
            let id = field("KeyId").unwrap_or_default();
            out.push(check(op.iam_action(), key(id).await?));
        }
    }
    Ok(out)
}

/// Evaluates each check against the caller's identity policies and the key policy, as KMS
/// does: an explicit deny anywhere wins; the key policy may allow the caller directly; identity
/// policies count only where the key policy delegates the action to the account (the default
/// key policy delegates everything).
pub(crate) async fn authorize(
    auth: &Authenticator,
    kms: &KmsService,
    account: &str,
    principal: &Principal,
    checks: &[Check],
) -> Result<(), KmsApiError> {
    let identity = auth
        .identities()
        .identity_policies(principal)
        .await
        .map_err(|e| AuthzError::Internal(anyhow::Error::new(e)))?;
    for check in checks {
        let key_policy = if check.resource.contains(":key/") {
            let request = GetKeyPolicyRequest {
                key_id: check.resource.clone(),
                policy_name: None,
            };
            Some(kms.get_key_policy(account, request).await?.policy)
        } else {
            None
        };
        let delegated = key_policy
            .as_deref()
            .is_none_or(|doc| delegates_to_account(doc, kms, account, check.action));
        let resource = match key_policy {
            Some(doc) => {
                let parsed = Policy::parse_resource(&doc)
                    .map_err(|e| KmsError::Internal(format!("stored key policy: {e}")))?;
                Some(AttachedPolicy::new(
                    "key policy",
                    PolicyKind::Resource,
                    Arc::new(parsed),
                ))
            }
            None => None,
        };
        let set = PolicySet {
            identity: if delegated { &identity } else { &[] },
            resource: resource.as_ref(),
            ..PolicySet::default()
        };
        let request = AuthzRequest {
            principal,
            action: check.action,
            resource: &check.resource,
            context: &check.context,
        };
        if let Some(message) = evaluate(&request, &set).access_denied_message(
            &principal.arn,
            check.action,
            &check.resource,
        ) {
            return Err(AuthzError::Denied(message).into());
        }
    }
    Ok(())
}

/// Whether a key policy allows `action` to the account itself (`arn:…:iam::<account>:root` or
/// the bare account id), which hands the decision to the account's IAM policies.
fn delegates_to_account(doc: &str, kms: &KmsService, account: &str, action: &str) -> bool {
    let Ok(policy) = serde_json::from_str::<Value>(doc) else {
        return false;
    };
    let root = format!("arn:{}:iam::{account}:root", kms.config().partition);
    let strings = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let statements = match policy.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    };
    let action = action.to_ascii_lowercase();
    statements.iter().any(|st| {
        st.get("Effect").and_then(Value::as_str) == Some("Allow")
            && st.get("Condition").is_none()
            && strings(st.get("Principal").and_then(|p| p.get("AWS")))
                .iter()
                .any(|p| *p == root || p == account)
            && strings(st.get("Action"))
                .iter()
                .any(|a| wildcard_match(&a.to_ascii_lowercase(), &action))
    })
}

async fn blob_key(kms: &KmsService, blob: Option<&str>) -> Result<String, KmsError> {
    let bytes = STANDARD
        .decode(blob.unwrap_or_default())
        .map_err(|e| KmsError::Serialization(format!("CiphertextBlob is not base64: {e}")))?;
    kms.ciphertext_key_arn(&bytes).await
}
