//! Workspace data keys: created with the workspace, wrapped by its KMS key, unwrapped into the
//! tsdb's [`TenantKeys`] only while that key is usable.
//!
//! The plaintext key of a workspace is cached in memory, so the KMS key's state is checked
//! again on every data-plane request ([`WorkspaceKeys::unlock`]) and by the background loop
//! ([`WorkspaceKeys::run`]) for everything else (compaction, restarts): a disabled or
//! pending-deletion key drops the plaintext and closes the tenant at once; re-enabling it
//! unwraps the data key again. When a key's deletion window ends, the loop destroys the
//! wrapped data keys under it and the data they sealed.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ampd_backends::{
    DataKeyStore, LocalBackend, MetricsBackend, Status, TenantId, TenantKeys, Timestamp, Workspace,
    WrappedDataKey,
};
use ampd_iam::Principal;
use ampd_iam::policy::RequestContext;
use ampd_kms::{EncryptionContext, KeyState, KmsError, KmsService, WORKSPACE_CONTEXT_KEY};
use ampd_tsdb::{SealError, SealerProvider};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::auth::{Authenticator, Check};
use crate::error::AwsError;

/// A workspace cannot read or write data because of its KMS key.
#[derive(Debug, thiserror::Error)]
pub enum KeyAccessError {
    /// The key is disabled, pending deletion or deleted.
    #[error("{message}")]
    KeyUnusable {
        /// The wire error code (`KMSDisabledException`, …).
        code: &'static str,
        /// What happened and what to do.
        message: String,
    },
    /// A failure inside ampd (metadata store, key repository).
    #[error("internal failure")]
    Internal(#[source] anyhow::Error),
}

impl IntoResponse for KeyAccessError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            Self::KeyUnusable { code, message } => {
                (StatusCode::BAD_REQUEST, *code, message.clone())
            }
            Self::Internal(e) => {
                tracing::error!(error = %e, "workspace key access failed: {e:#}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServerException",
                    "An internal error occurred; retry the request.".to_owned(),
                )
            }
        };
        let body = serde_json::json!({ "message": message });
        let mut res = (status, axum::Json(body)).into_response();
        res.headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(code));
        res
    }
}

/// Workspace data keys of one account: creation, unwrapping, revocation and shredding.
#[derive(Debug)]
pub struct WorkspaceKeys {
    kms: KmsService,
    store: Arc<dyn DataKeyStore>,
    tenants: Arc<TenantKeys>,
    metrics: Arc<LocalBackend>,
    account: String,
}

impl WorkspaceKeys {
    /// Joins the KMS service, the data key store, the tsdb's key slots and the backend whose
    /// tenants they seal.
    pub fn new(
        kms: KmsService,
        store: Arc<dyn DataKeyStore>,
        tenants: Arc<TenantKeys>,
        metrics: Arc<LocalBackend>,
        account: impl Into<String>,
    ) -> Self {
        Self {
            kms,
            store,
            tenants,
            metrics,
            account: account.into(),
        }
    }

    /// Returns the KMS service.
    pub fn kms(&self) -> &KmsService {
        &self.kms
    }

    fn workspace_arn(&self, id: &str) -> String {
        let c = self.kms.config();
        format!(
            "arn:{}:aps:{}:{}:workspace/{id}",
            c.partition, c.region, self.account
        )
    }

    fn context(&self, id: &str) -> EncryptionContext {
        EncryptionContext::from([(WORKSPACE_CONTEXT_KEY.to_owned(), self.workspace_arn(id))])
    }

    /// Checks a `kmsKeyArn` given to CreateWorkspace: a symmetric encryption key of this
    /// account and region that exists and is enabled; otherwise a `ValidationException`.
    pub async fn validate_customer_key(&self, arn: &str) -> Result<(), AwsError> {
        let c = self.kms.config();
        let prefix = format!("arn:{}:kms:{}:{}:key/", c.partition, c.region, self.account);
        if !arn.starts_with(&prefix) {
            return Err(AwsError::field(
                "kmsKeyArn",
                format!(
                    "KMS key {arn} must be in the workspace's account {} and region {}",
                    self.account, c.region
                ),
            ));
        }
        let request = ampd_kms::DescribeKeyRequest {
            key_id: arn.to_owned(),
            grant_tokens: None,
        };
        let meta = match self.kms.describe_key(&self.account, request).await {
            Ok(r) => r.key_metadata,
            Err(KmsError::NotFound(_)) => None,
            Err(KmsError::Internal(e)) => {
                return Err(AwsError::Internal(anyhow::anyhow!("describe {arn}: {e}")));
            }
            Err(e) => return Err(AwsError::field("kmsKeyArn", e.public_message())),
        };
        let meta = meta
            .ok_or_else(|| AwsError::field("kmsKeyArn", format!("KMS key {arn} does not exist")))?;
        let problem = if meta.key_state != KeyState::Enabled {
            Some(format!(
                "KMS key {arn} is {:?}, not Enabled",
                meta.key_state
            ))
        } else if meta.key_usage != "ENCRYPT_DECRYPT" || meta.key_spec != "SYMMETRIC_DEFAULT" {
            Some(format!(
                "KMS key {arn} must be a symmetric encryption key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT)"
            ))
        } else if meta.key_manager != "CUSTOMER" {
            Some(format!("KMS key {arn} must be a customer managed key"))
        } else {
            None
        };
        match problem {
            Some(message) => Err(AwsError::field("kmsKeyArn", message)),
            None => Ok(()),
        }
    }

    /// Checks that the caller may use `arn` for a workspace: as with AMP, the caller itself
    /// needs `kms:DescribeKey` and `kms:GenerateDataKey` on the key, by its IAM policies and
    /// the key policy (the root user always may).
    pub async fn authorize_customer_key(
        &self,
        auth: &Authenticator,
        principal: &Principal,
        arn: &str,
    ) -> Result<(), AwsError> {
        if principal.is_root() {
            return Ok(());
        }
        let context = RequestContext::for_principal(principal, SystemTime::now());
        let checks = ["kms:DescribeKey", "kms:GenerateDataKey"].map(|action| Check {
            action,
            resource: arn.to_owned(),
            context: context.clone(),
        });
        match super::authorize(auth, &self.kms, &self.account, principal, &checks).await {
            Ok(()) => Ok(()),
            Err(super::KmsApiError::Authz(e)) => Err(e.into()),
            // The key does not resolve: validation reports it.
            Err(super::KmsApiError::Kms(KmsError::Internal(e))) => Err(AwsError::Internal(
                anyhow::anyhow!("authorize key {arn}: {e}"),
            )),
            Err(_) => Ok(()),
        }
    }

    /// Creates the workspace's data key under `kms_key_arn` (or the account's AWS managed
    /// key) unless it has one, and installs it for the tsdb.
    pub async fn create_data_key(
        &self,
        workspace_id: &str,
        kms_key_arn: Option<&str>,
    ) -> Result<(), KeyAccessError> {
        let key_arn = match kms_key_arn {
            Some(arn) => arn.to_owned(),
            None => {
                self.kms
                    .default_workspace_key(&self.account)
                    .await
                    .map_err(|e| self.kms_error(workspace_id, "", e))?
                    .arn
            }
        };
        let (plaintext, wrapped) = self
            .kms
            .create_data_key(&self.account, &key_arn, &self.context(workspace_id))
            .await
            .map_err(|e| self.kms_error(workspace_id, &key_arn, e))?;
        let stored = self
            .store
            .put_data_key_if_absent(WrappedDataKey {
                workspace_id: workspace_id.to_owned(),
                kms_key_arn: key_arn.clone(),
                wrapped: wrapped.clone(),
                created_at: Timestamp::now(),
            })
            .await
            .map_err(|e| KeyAccessError::Internal(e.into()))?;
        if stored.wrapped == wrapped {
            self.tenants.install(workspace_id, plaintext);
            tracing::info!(workspace_id, kms_key_arn = %key_arn,
                "created the data key of workspace {workspace_id} under {key_arn}");
        }
        Ok(())
    }

    /// Makes the workspace's data readable and writable for one request: checks its KMS key
    /// now and unwraps the data key if it is not in memory. A live workspace without a data
    /// key (its creation was interrupted) gets one; a deleted one never gets a new one.
    pub async fn unlock(&self, ws: &Workspace) -> Result<(), KeyAccessError> {
        let workspace_id = ws.id.as_str();
        let stored = self
            .store
            .data_key(workspace_id)
            .await
            .map_err(|e| KeyAccessError::Internal(e.into()))?;
        let Some(stored) = stored else {
            if ws.status == Status::Deleting {
                return Err(KeyAccessError::KeyUnusable {
                    code: "KMSNotFoundException",
                    message: format!(
                        "Workspace {workspace_id} is being deleted; its data key was destroyed"
                    ),
                });
            }
            return self
                .create_data_key(workspace_id, ws.kms_key_arn.as_deref())
                .await;
        };
        if let Err(e) = self.kms.check_usable(&stored.kms_key_arn).await {
            self.revoke(workspace_id).await;
            return Err(self.kms_error(workspace_id, &stored.kms_key_arn, e));
        }
        if !self.tenants.is_installed(workspace_id) {
            self.install(&stored).await?;
        }
        Ok(())
    }

    /// Seals workspace data kept outside the tsdb (rule groups, alertmanager definitions)
    /// with the workspace's data key, checking its KMS key first like [`Self::unlock`].
    pub async fn seal(
        &self,
        ws: &Workspace,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, KeyAccessError> {
        self.unlock(ws).await?;
        self.tenants
            .sealer_for(&ws.id)
            .and_then(|s| s.seal(aad, plaintext))
            .map_err(|e| self.seal_error(&ws.id, e))
    }

    /// Opens what [`Self::seal`] sealed with the same `aad`; never returns tampered data.
    pub async fn open(
        &self,
        ws: &Workspace,
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Vec<u8>, KeyAccessError> {
        self.unlock(ws).await?;
        self.tenants
            .sealer_for(&ws.id)
            .and_then(|s| s.open(aad, sealed))
            .map_err(|e| self.seal_error(&ws.id, e))
    }

    fn seal_error(&self, workspace_id: &str, e: SealError) -> KeyAccessError {
        match e {
            // Revoked between the check and the use: the key just became unusable.
            SealError::KeyUnavailable(reason) => KeyAccessError::KeyUnusable {
                code: "KMSInvalidStateException",
                message: format!("Workspace {workspace_id} cannot read or write data: {reason}"),
            },
            other => KeyAccessError::Internal(anyhow::anyhow!(
                "sealed data of workspace {workspace_id}: {other}"
            )),
        }
    }

    async fn install(&self, stored: &WrappedDataKey) -> Result<(), KeyAccessError> {
        let id = &stored.workspace_id;
        let key = self
            .kms
            .unwrap_data_key(&stored.wrapped, &self.context(id))
            .await
            .map_err(|e| self.kms_error(id, &stored.kms_key_arn, e))?;
        self.tenants.install(id, key);
        tracing::info!(workspace_id = %id, "unwrapped the data key of workspace {id}");
        Ok(())
    }

    /// Drops the workspace's plaintext key and closes its tenant, so nothing decrypted stays
    /// in memory.
    pub async fn revoke(&self, workspace_id: &str) {
        if self.tenants.revoke(workspace_id) {
            tracing::info!(
                workspace_id,
                "revoked the data key of workspace {workspace_id}"
            );
        }
        if let Err(e) = self
            .metrics
            .close_tenant(&TenantId::new(workspace_id))
            .await
        {
            tracing::warn!(workspace_id, error = %e, "cannot close tenant {workspace_id}: {e}");
        }
    }

    /// Crypto-shreds a workspace: its wrapped data key is destroyed, the plaintext dropped and
    /// its files deleted; nothing it sealed can be read again.
    pub async fn shred(&self, workspace_id: &str) -> Result<(), KeyAccessError> {
        self.store
            .delete_data_key(workspace_id)
            .await
            .map_err(|e| KeyAccessError::Internal(e.into()))?;
        self.tenants.revoke(workspace_id);
        self.metrics
            .delete_tenant(&TenantId::new(workspace_id))
            .await
            .map_err(|e| KeyAccessError::Internal(anyhow::Error::new(e)))?;
        tracing::info!(
            workspace_id,
            "destroyed the data key and data of workspace {workspace_id}"
        );
        Ok(())
    }

    /// Applies what is due in KMS (rotations, deletions), then brings every workspace in line
    /// with its key: unwraps keys that are usable, revokes those that are not, and shreds the
    /// workspaces whose key KMS just deleted.
    ///
    /// Only a deletion KMS reports destroys data: a key that is merely missing (a repository
    /// restored without it, a changed region) revokes access and logs, so restoring the key
    /// repository brings the data back.
    pub async fn refresh(&self) -> Result<(), KeyAccessError> {
        let summary = self
            .kms
            .tick()
            .await
            .map_err(|e| KeyAccessError::Internal(anyhow::Error::new(e)))?;
        let stored = self
            .store
            .data_keys()
            .await
            .map_err(|e| KeyAccessError::Internal(e.into()))?;
        for key in stored {
            let id = key.workspace_id.as_str();
            if summary.deleted_arns.contains(&key.kms_key_arn) {
                self.shred(id).await?;
                continue;
            }
            match self.kms.check_usable(&key.kms_key_arn).await {
                Ok(()) if !self.tenants.is_installed(id) => {
                    if let Err(e) = self.install(&key).await {
                        tracing::warn!(workspace_id = id, error = %e,
                            "cannot unwrap the data key of {id}: {e}");
                    }
                }
                Ok(()) => {}
                Err(KmsError::Internal(e)) => {
                    return Err(KeyAccessError::Internal(anyhow::anyhow!(
                        "check key of {id}: {e}"
                    )));
                }
                Err(e) if self.tenants.is_installed(id) => {
                    if let KmsError::NotFound(_) = e {
                        tracing::error!(workspace_id = id, kms_key_arn = %key.kms_key_arn,
                            "the kms key {} of workspace {id} is missing", key.kms_key_arn);
                    }
                    self.revoke(id).await;
                }
                Err(_) => {}
            }
        }
        Ok(())
    }

    /// Runs [`WorkspaceKeys::refresh`] every `interval`, forever.
    pub async fn run(self: Arc<Self>, interval: Duration) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.refresh().await {
                tracing::warn!(error = %e, "cannot refresh workspace keys: {e:#}");
            }
        }
    }

    fn kms_error(&self, workspace_id: &str, key_arn: &str, e: KmsError) -> KeyAccessError {
        let code = match &e {
            KmsError::Disabled(_) => "KMSDisabledException",
            KmsError::InvalidState(_) => "KMSInvalidStateException",
            KmsError::NotFound(_) | KmsError::InvalidCiphertext(_) => "KMSNotFoundException",
            KmsError::Internal(detail) => {
                return KeyAccessError::Internal(anyhow::anyhow!("{detail}"));
            }
            _ => "KMSInvalidStateException",
        };
        let key = if key_arn.is_empty() {
            "the workspace key"
        } else {
            key_arn
        };
        KeyAccessError::KeyUnusable {
            code,
            message: format!(
                "Workspace {workspace_id} cannot read or write data: KMS key {key}: {}",
                e.public_message()
            ),
        }
    }
}
