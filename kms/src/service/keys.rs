//! Key lifecycle operations: create, describe, list, enable/disable, rotation, deletion, tags
//! and key policies.

use std::collections::HashSet;

use time::Duration;
use uuid::Uuid;

use super::{
    DEFAULT_ROTATION_DAYS, KmsService, SYMMETRIC_DEFAULT, ensure_not_pending_deletion,
    ensure_usable,
};
use crate::error::KmsError;
use crate::ids::{self, AliasUse};
use crate::model::{
    CreateKeyRequest, DescribeKeyRequest, EmptyResponse, EnableKeyRotationRequest,
    GetKeyPolicyRequest, GetKeyPolicyResponse, GetKeyRotationStatusResponse, KeyIdRequest,
    KeyIdResponse, KeyListEntry, KeyMetadataResponse, KeyState, ListKeyRotationsRequest,
    ListKeyRotationsResponse, ListKeysResponse, ListRequest, ListResourceTagsRequest,
    ListResourceTagsResponse, PutKeyPolicyRequest, RotationsListEntry, ScheduleKeyDeletionRequest,
    ScheduleKeyDeletionResponse, Tag, TagResourceRequest, UntagResourceRequest,
};
use crate::record::{KeyManager, KeyRecord, Lifecycle, MaterialOrigin};
use crate::repository::{Page, PageRequest};

const MAX_TAGS: usize = 50;
const MAX_ON_DEMAND_ROTATIONS: u32 = 25;
const DEFAULT_POLICY_NAME: &str = "default";

impl KmsService {
    /// CreateKey: a symmetric encryption key with fresh material, enabled.
    pub async fn create_key(
        &self,
        account: &str,
        req: CreateKeyRequest,
    ) -> Result<KeyMetadataResponse, KmsError> {
        if req.key_spec.is_some() && req.customer_master_key_spec.is_some() {
            return Err(KmsError::Validation(
                "You cannot specify KeySpec and CustomerMasterKeySpec in the same request."
                    .to_owned(),
            ));
        }
        let spec = req.key_spec.or(req.customer_master_key_spec);
        require_value("KeySpec", spec.as_deref(), SYMMETRIC_DEFAULT)?;
        require_value("KeyUsage", req.key_usage.as_deref(), "ENCRYPT_DECRYPT")?;
        require_value("Origin", req.origin.as_deref(), "AWS_KMS")?;
        if req.custom_key_store_id.is_some() || req.xks_key_id.is_some() {
            return Err(KmsError::UnsupportedOperation(
                "Custom key stores are not supported.".to_owned(),
            ));
        }
        if req.multi_region == Some(true) {
            return Err(KmsError::UnsupportedOperation(
                "Multi-Region keys are not supported.".to_owned(),
            ));
        }
        let description = req.description.unwrap_or_default();
        if description.chars().count() > 8192 {
            return Err(KmsError::Validation(
                "1 validation error detected: Value at 'description' failed to satisfy \
                 constraint: Member must have length less than or equal to 8192"
                    .to_owned(),
            ));
        }
        let config = &self.inner.config;
        let policy = match req.policy {
            Some(policy) => {
                validate_policy(&policy)?;
                policy
            }
            None => default_policy(&config.partition, account),
        };
        let tags = req.tags.unwrap_or_default();
        validate_tags(&tags)?;
        if has_duplicate_keys(&tags) {
            return Err(KmsError::Tag("Duplicate tag keys".to_owned()));
        }
        if tags.len() > MAX_TAGS {
            return Err(too_many_tags());
        }

        let now = self.now();
        let key_id = Uuid::new_v4().hyphenated().to_string();
        let arn = self.key_arn(account, &key_id);
        let mut record =
            self.new_record(account, key_id, arn, KeyManager::Customer, policy, now)?;
        record.description = description;
        record.tags = tags;
        self.inner.repo.put_key(&record, None).await?;
        tracing::info!(account, key_id = %record.key_id, "created kms key {}", record.key_id);
        Ok(KeyMetadataResponse {
            key_metadata: Some(self.metadata(&record)),
        })
    }

    /// DescribeKey: metadata by key id, key ARN, alias name or alias ARN.
    pub async fn describe_key(
        &self,
        account: &str,
        req: DescribeKeyRequest,
    ) -> Result<KeyMetadataResponse, KmsError> {
        let record = self.find(account, &req.key_id, AliasUse::Allowed).await?;
        Ok(KeyMetadataResponse {
            key_metadata: Some(self.metadata(&record)),
        })
    }

    /// ListKeys: the account's keys, paginated by key id.
    pub async fn list_keys(
        &self,
        account: &str,
        req: ListRequest,
    ) -> Result<ListKeysResponse, KmsError> {
        let limit = page_limit(req.limit, 100, 1000)?;
        if let Some(marker) = &req.marker
            && ids::parse_uuid(marker).is_none()
        {
            return Err(invalid_marker());
        }
        let page = PageRequest {
            after: req.marker,
            limit,
        };
        let page = self.inner.repo.list_keys(account, page).await?;
        let next_marker = page.next_marker(|k| k.key_id.clone());
        Ok(ListKeysResponse {
            keys: page
                .items
                .into_iter()
                .map(|k| KeyListEntry {
                    key_id: k.key_id,
                    key_arn: k.arn,
                })
                .collect(),
            next_marker,
            truncated: page.truncated,
        })
    }

    /// EnableKey: makes a disabled key usable again; a rotation that fell due while it was
    /// disabled happens now.
    pub async fn enable_key(
        &self,
        account: &str,
        req: KeyIdRequest,
    ) -> Result<EmptyResponse, KmsError> {
        let record = self.manageable(account, &req.key_id).await?;
        self.modify(record, |r, now| {
            ensure_not_pending_deletion(r)?;
            r.lifecycle = Lifecycle::Enabled;
            if super::rotation_due(&r.rotation, now) {
                self.rotate_automatically(r, now)?;
            }
            Ok(())
        })
        .await?;
        Ok(EmptyResponse {})
    }

    /// DisableKey: refuses cryptographic use until EnableKey.
    pub async fn disable_key(
        &self,
        account: &str,
        req: KeyIdRequest,
    ) -> Result<EmptyResponse, KmsError> {
        let record = self.manageable(account, &req.key_id).await?;
        self.modify(record, |r, _| {
            ensure_not_pending_deletion(r)?;
            r.lifecycle = Lifecycle::Disabled;
            Ok(())
        })
        .await?;
        Ok(EmptyResponse {})
    }

    /// EnableKeyRotation: rotates automatically every `RotationPeriodInDays` (90..2560, 365).
    pub async fn enable_key_rotation(
        &self,
        account: &str,
        req: EnableKeyRotationRequest,
    ) -> Result<EmptyResponse, KmsError> {
        let period = req.rotation_period_in_days.unwrap_or(DEFAULT_ROTATION_DAYS);
        if !(90..=2560).contains(&period) {
            return Err(KmsError::Validation(format!(
                "1 validation error detected: Value '{period}' at 'rotationPeriodInDays' failed \
                 to satisfy constraint: Member must have value between 90 and 2560"
            )));
        }
        let record = self.rotatable(account, &req.key_id).await?;
        self.modify(record, |r, now| {
            ensure_usable(r)?;
            // Changing the period keeps the schedule anchored on the last scheduled rotation.
            let anchor = if r.rotation.enabled {
                r.versions
                    .iter()
                    .filter(|v| v.origin != MaterialOrigin::OnDemand)
                    .map(|v| v.created_at)
                    .max()
                    .unwrap_or(now)
            } else {
                now
            };
            r.rotation.enabled = true;
            r.rotation.period_days = period;
            r.rotation.next_rotation = Some(anchor + Duration::days(period.into()));
            Ok(())
        })
        .await?;
        Ok(EmptyResponse {})
    }

    /// DisableKeyRotation: stops automatic rotation; existing material versions stay.
    pub async fn disable_key_rotation(
        &self,
        account: &str,
        req: KeyIdRequest,
    ) -> Result<EmptyResponse, KmsError> {
        let record = self.rotatable(account, &req.key_id).await?;
        self.modify(record, |r, _| {
            ensure_usable(r)?;
            r.rotation.enabled = false;
            r.rotation.next_rotation = None;
            Ok(())
        })
        .await?;
        Ok(EmptyResponse {})
    }

    /// GetKeyRotationStatus: reported as off while the key is pending deletion, like KMS.
    pub async fn get_key_rotation_status(
        &self,
        account: &str,
        req: KeyIdRequest,
    ) -> Result<GetKeyRotationStatusResponse, KmsError> {
        let record = self.own_key(account, &req.key_id).await?;
        let pending = matches!(record.lifecycle, Lifecycle::PendingDeletion { .. });
        let enabled = record.rotation.enabled && !pending;
        Ok(GetKeyRotationStatusResponse {
            key_rotation_enabled: enabled,
            key_id: record.key_id.clone(),
            rotation_period_in_days: enabled.then_some(record.rotation.period_days),
            next_rotation_date: record.rotation.next_rotation.filter(|_| enabled),
            on_demand_rotation_start_date: None,
        })
    }

    /// RotateKeyOnDemand: adds a material version now (at most 25 per key).
    pub async fn rotate_key_on_demand(
        &self,
        account: &str,
        req: KeyIdRequest,
    ) -> Result<KeyIdResponse, KmsError> {
        let record = self.rotatable(account, &req.key_id).await?;
        let (record, ()) = self
            .modify(record, |r, now| {
                ensure_usable(r)?;
                if r.rotation.on_demand_count >= MAX_ON_DEMAND_ROTATIONS {
                    return Err(KmsError::LimitExceeded(format!(
                        "{} has reached the limit of {MAX_ON_DEMAND_ROTATIONS} on-demand rotations.",
                        r.arn
                    )));
                }
                r.rotation.on_demand_count += 1;
                self.add_version(r, MaterialOrigin::OnDemand, now)
            })
            .await?;
        tracing::info!(key_id = %record.key_id, "rotated kms key {} on demand", record.key_id);
        Ok(KeyIdResponse {
            key_id: Some(record.key_id),
        })
    }

    /// ListKeyRotations: the key's material versions, oldest first, paginated.
    pub async fn list_key_rotations(
        &self,
        account: &str,
        req: ListKeyRotationsRequest,
    ) -> Result<ListKeyRotationsResponse, KmsError> {
        let include_first = match req.include_key_material.as_deref() {
            None | Some("ROTATIONS_ONLY") => false,
            Some("ALL_KEY_MATERIAL") => true,
            Some(other) => {
                return Err(KmsError::Validation(format!(
                    "1 validation error detected: Value '{other}' at 'includeKeyMaterial' failed \
                     to satisfy constraint: Member must satisfy enum value set: \
                     [ALL_KEY_MATERIAL, ROTATIONS_ONLY]"
                )));
            }
        };
        let limit = page_limit(req.limit, 100, 1000)?;
        let after = match &req.marker {
            Some(marker) => Some(marker.parse::<u32>().map_err(|_| invalid_marker())?),
            None => None,
        };
        let record = self.own_key(account, &req.key_id).await?;
        let current = record.current().map(|v| v.version);
        let versions = record
            .versions
            .iter()
            .filter(|v| include_first || v.origin != MaterialOrigin::Creation)
            .filter(|v| after.is_none_or(|after| v.version > after))
            .take(limit.saturating_add(1))
            .collect();
        let page = Page::from_overfetched(versions, limit);
        let next_marker = page.next_marker(|v| v.version.to_string());
        let rotations = page
            .items
            .into_iter()
            .map(|v| {
                let rotation_type = match v.origin {
                    MaterialOrigin::Creation => None,
                    MaterialOrigin::Automatic => Some("AUTOMATIC"),
                    MaterialOrigin::OnDemand => Some("ON_DEMAND"),
                };
                RotationsListEntry {
                    key_id: record.key_id.clone(),
                    key_material_id: v.material_id.clone(),
                    key_material_state: if Some(v.version) == current {
                        "CURRENT"
                    } else {
                        "NON_CURRENT"
                    }
                    .to_owned(),
                    rotation_date: rotation_type.map(|_| v.created_at),
                    rotation_type: rotation_type.map(str::to_owned),
                }
            })
            .collect();
        Ok(ListKeyRotationsResponse {
            rotations,
            next_marker,
            truncated: page.truncated,
        })
    }

    /// ScheduleKeyDeletion: the key becomes unusable now and its material is destroyed by
    /// [`KmsService::tick`] after 7..30 days (default 30).
    pub async fn schedule_key_deletion(
        &self,
        account: &str,
        req: ScheduleKeyDeletionRequest,
    ) -> Result<ScheduleKeyDeletionResponse, KmsError> {
        let days = req.pending_window_in_days.unwrap_or(30);
        if !(7..=30).contains(&days) {
            return Err(KmsError::Validation(format!(
                "PendingWindowInDays value {days} is not valid; it must be between 7 and 30."
            )));
        }
        let record = self.manageable(account, &req.key_id).await?;
        let (record, deletion_date) = self
            .modify(record, |r, now| {
                ensure_not_pending_deletion(r)?;
                let deletion_date = now + Duration::days(days.into());
                r.lifecycle = Lifecycle::PendingDeletion {
                    deletion_date,
                    window_days: days,
                };
                Ok(deletion_date)
            })
            .await?;
        tracing::info!(key_id = %record.key_id, %deletion_date,
            "scheduled deletion of kms key {} at {deletion_date}", record.key_id);
        Ok(ScheduleKeyDeletionResponse {
            key_id: record.arn,
            deletion_date,
            key_state: KeyState::PendingDeletion,
            pending_window_in_days: days,
        })
    }

    /// CancelKeyDeletion: the key returns to Disabled and must be enabled again.
    pub async fn cancel_key_deletion(
        &self,
        account: &str,
        req: KeyIdRequest,
    ) -> Result<KeyIdResponse, KmsError> {
        let record = self.manageable(account, &req.key_id).await?;
        let (record, ()) = self
            .modify(record, |r, _| {
                if !matches!(r.lifecycle, Lifecycle::PendingDeletion { .. }) {
                    return Err(KmsError::InvalidState(format!(
                        "{} is not pending deletion.",
                        r.arn
                    )));
                }
                r.lifecycle = Lifecycle::Disabled;
                Ok(())
            })
            .await?;
        Ok(KeyIdResponse {
            key_id: Some(record.arn),
        })
    }

    /// TagResource: adds tags or overwrites the values of existing keys (at most 50 tags).
    pub async fn tag_resource(
        &self,
        account: &str,
        req: TagResourceRequest,
    ) -> Result<EmptyResponse, KmsError> {
        validate_tags(&req.tags)?;
        let record = self.manageable(account, &req.key_id).await?;
        self.modify(record, |r, _| {
            ensure_not_pending_deletion(r)?;
            for tag in &req.tags {
                match r.tags.iter_mut().find(|t| t.tag_key == tag.tag_key) {
                    Some(existing) => existing.tag_value.clone_from(&tag.tag_value),
                    None => r.tags.push(tag.clone()),
                }
            }
            if r.tags.len() > MAX_TAGS {
                return Err(too_many_tags());
            }
            Ok(())
        })
        .await?;
        Ok(EmptyResponse {})
    }

    /// UntagResource: removes tags by key; unknown keys are ignored.
    pub async fn untag_resource(
        &self,
        account: &str,
        req: UntagResourceRequest,
    ) -> Result<EmptyResponse, KmsError> {
        for key in &req.tag_keys {
            validate_tag_key(key)?;
        }
        let record = self.manageable(account, &req.key_id).await?;
        self.modify(record, |r, _| {
            ensure_not_pending_deletion(r)?;
            r.tags.retain(|t| !req.tag_keys.contains(&t.tag_key));
            Ok(())
        })
        .await?;
        Ok(EmptyResponse {})
    }

    /// ListResourceTags: the key's tags in the order they were added, paginated.
    pub async fn list_resource_tags(
        &self,
        account: &str,
        req: ListResourceTagsRequest,
    ) -> Result<ListResourceTagsResponse, KmsError> {
        let limit = page_limit(req.limit, 50, 50)?;
        let start = match &req.marker {
            Some(marker) => marker.parse::<usize>().map_err(|_| invalid_marker())?,
            None => 0,
        };
        let record = self.own_key(account, &req.key_id).await?;
        let tags: Vec<Tag> = record
            .tags
            .iter()
            .skip(start)
            .take(limit)
            .cloned()
            .collect();
        let end = start.saturating_add(tags.len());
        let truncated = end < record.tags.len();
        Ok(ListResourceTagsResponse {
            tags,
            next_marker: truncated.then(|| end.to_string()),
            truncated,
        })
    }

    /// GetKeyPolicy: the key policy named `default`.
    pub async fn get_key_policy(
        &self,
        account: &str,
        req: GetKeyPolicyRequest,
    ) -> Result<GetKeyPolicyResponse, KmsError> {
        check_policy_name(req.policy_name.as_deref())?;
        let record = self.own_key(account, &req.key_id).await?;
        Ok(GetKeyPolicyResponse {
            policy: record.policy,
            policy_name: DEFAULT_POLICY_NAME.to_owned(),
        })
    }

    /// PutKeyPolicy: replaces the key policy; its evaluation is the IAM policy engine's job.
    pub async fn put_key_policy(
        &self,
        account: &str,
        req: PutKeyPolicyRequest,
    ) -> Result<EmptyResponse, KmsError> {
        check_policy_name(req.policy_name.as_deref())?;
        validate_policy(&req.policy)?;
        let record = self.manageable(account, &req.key_id).await?;
        self.modify(record, |r, _| {
            ensure_not_pending_deletion(r)?;
            r.policy.clone_from(&req.policy);
            Ok(())
        })
        .await?;
        Ok(EmptyResponse {})
    }

    /// Finds a customer managed key of the caller for a management operation.
    async fn manageable(&self, account: &str, key_id: &str) -> Result<KeyRecord, KmsError> {
        let record = self.own_key(account, key_id).await?;
        if record.manager == KeyManager::Aws {
            return Err(KmsError::AccessDenied(format!(
                "{} is an AWS managed key; it cannot be changed.",
                record.arn
            )));
        }
        Ok(record)
    }

    /// Finds a customer managed key of the caller for a rotation operation.
    async fn rotatable(&self, account: &str, key_id: &str) -> Result<KeyRecord, KmsError> {
        let record = self.own_key(account, key_id).await?;
        if record.manager == KeyManager::Aws {
            return Err(KmsError::UnsupportedOperation(format!(
                "{} is an AWS managed key; its rotation is managed by the service.",
                record.arn
            )));
        }
        Ok(record)
    }

    /// Finds a key of the caller by key id or key ARN, as management operations do.
    pub(super) async fn own_key(&self, account: &str, key_id: &str) -> Result<KeyRecord, KmsError> {
        self.find(account, key_id, AliasUse::Refused).await
    }
}

fn require_value(member: &str, given: Option<&str>, supported: &str) -> Result<(), KmsError> {
    match given {
        None => Ok(()),
        Some(value) if value == supported => Ok(()),
        Some(value) => Err(KmsError::UnsupportedOperation(format!(
            "{member} {value} is not supported; only {supported} is."
        ))),
    }
}

/// Validates `Limit` against the operation's range, returning the default when absent.
pub(super) fn page_limit(limit: Option<u32>, default: usize, max: u32) -> Result<usize, KmsError> {
    match limit {
        None => Ok(default),
        Some(limit) if (1..=max).contains(&limit) => {
            usize::try_from(limit).map_err(|_| KmsError::Internal("limit overflow".to_owned()))
        }
        Some(limit) => Err(KmsError::Validation(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy \
             constraint: Member must have value between 1 and {max}"
        ))),
    }
}

pub(super) fn invalid_marker() -> KmsError {
    KmsError::InvalidMarker("The marker is not valid for this request.".to_owned())
}

fn too_many_tags() -> KmsError {
    KmsError::LimitExceeded(format!("A key can have at most {MAX_TAGS} tags."))
}

fn has_duplicate_keys(tags: &[Tag]) -> bool {
    let mut seen = HashSet::new();
    !tags.iter().all(|t| seen.insert(t.tag_key.as_str()))
}

fn validate_tag_key(key: &str) -> Result<(), KmsError> {
    let len = key.chars().count();
    if !(1..=128).contains(&len) {
        return Err(KmsError::Tag(format!(
            "Tag key '{key}' must be between 1 and 128 characters."
        )));
    }
    if key.starts_with("aws:") {
        return Err(KmsError::Tag(
            "Tag keys beginning with 'aws:' are reserved.".to_owned(),
        ));
    }
    Ok(())
}

fn validate_tags(tags: &[Tag]) -> Result<(), KmsError> {
    for tag in tags {
        validate_tag_key(&tag.tag_key)?;
        if tag.tag_value.chars().count() > 256 {
            return Err(KmsError::Tag(format!(
                "The value of tag '{}' must be at most 256 characters.",
                tag.tag_key
            )));
        }
    }
    Ok(())
}

fn check_policy_name(name: Option<&str>) -> Result<(), KmsError> {
    match name {
        None | Some(DEFAULT_POLICY_NAME) => Ok(()),
        Some(other) => Err(KmsError::NotFound(format!(
            "Policy '{other}' does not exist; the only key policy is named 'default'."
        ))),
    }
}

/// Checks the policy is a JSON document with statements; evaluating it is left to IAM.
fn validate_policy(policy: &str) -> Result<(), KmsError> {
    if policy.is_empty() || policy.len() > 131_072 {
        return Err(KmsError::Validation(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: \
             Member must have length between 1 and 131072"
                .to_owned(),
        ));
    }
    let document: serde_json::Value = serde_json::from_str(policy).map_err(|_| {
        KmsError::MalformedPolicyDocument("The new key policy is not valid JSON.".to_owned())
    })?;
    match document.get("Statement") {
        Some(serde_json::Value::Array(statements)) if !statements.is_empty() => Ok(()),
        Some(serde_json::Value::Object(_)) => Ok(()),
        _ => Err(KmsError::MalformedPolicyDocument(
            "The new key policy must contain at least one statement.".to_owned(),
        )),
    }
}

/// The default key policy: the account's root principal may do `kms:*`, which delegates
/// access to the account's IAM policies.
fn default_policy(partition: &str, account: &str) -> String {
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:{partition}:iam::{account}:root")},
            "Action": "kms:*",
            "Resource": "*",
        }],
    });
    format!("{policy:#}")
}
