//! Alias operations.

use super::keys::{invalid_marker, page_limit};
use super::{KmsService, ensure_not_pending_deletion};
use crate::error::KmsError;
use crate::ids::{self, ALIAS_PREFIX, RESERVED_ALIAS_PREFIX};
use crate::model::{
    AliasListEntry, AliasRequest, DeleteAliasRequest, EmptyResponse, ListAliasesRequest,
    ListAliasesResponse,
};
use crate::record::{AliasRecord, KeyManager, KeyRecord};
use crate::repository::{PageRequest, RepositoryError};

impl KmsService {
    /// CreateAlias: names a customer managed key of the caller; `alias/aws/…` is reserved.
    pub async fn create_alias(
        &self,
        account: &str,
        req: AliasRequest,
    ) -> Result<EmptyResponse, KmsError> {
        ids::validate_alias_name(&req.alias_name)?;
        let target = self.alias_target(account, &req.target_key_id).await?;
        let now = self.now();
        let alias = AliasRecord {
            account_id: account.to_owned(),
            alias_name: req.alias_name,
            target_key_id: target.key_id,
            created_at: now,
            updated_at: now,
        };
        match self.inner.repo.create_alias(&alias).await {
            Ok(()) => Ok(EmptyResponse {}),
            Err(RepositoryError::Conflict(_)) => Err(KmsError::AlreadyExists(format!(
                "An alias with the name {} already exists",
                self.alias_arn(account, &alias.alias_name)
            ))),
            Err(err) => Err(err.into()),
        }
    }

    /// UpdateAlias: points an existing alias at another key of the caller.
    pub async fn update_alias(
        &self,
        account: &str,
        req: AliasRequest,
    ) -> Result<EmptyResponse, KmsError> {
        ids::validate_alias_name(&req.alias_name)?;
        let mut alias = self.existing_alias(account, &req.alias_name).await?;
        let target = self.alias_target(account, &req.target_key_id).await?;
        alias.target_key_id = target.key_id;
        alias.updated_at = self.now();
        match self.inner.repo.update_alias(&alias).await {
            Ok(()) => Ok(EmptyResponse {}),
            Err(RepositoryError::Conflict(_)) => {
                Err(self.alias_not_found(account, &alias.alias_name))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// DeleteAlias: removes the alias; the key is untouched.
    pub async fn delete_alias(
        &self,
        account: &str,
        req: DeleteAliasRequest,
    ) -> Result<EmptyResponse, KmsError> {
        if req.alias_name.starts_with(RESERVED_ALIAS_PREFIX) {
            return Err(KmsError::AccessDenied(format!(
                "{} is an AWS managed alias; it cannot be deleted.",
                req.alias_name
            )));
        }
        if !req.alias_name.starts_with(ALIAS_PREFIX) {
            return Err(self.alias_not_found(account, &req.alias_name));
        }
        if self
            .inner
            .repo
            .delete_alias(account, &req.alias_name)
            .await?
        {
            Ok(EmptyResponse {})
        } else {
            Err(self.alias_not_found(account, &req.alias_name))
        }
    }

    /// ListAliases: the caller's aliases by name, optionally only those of one key.
    pub async fn list_aliases(
        &self,
        account: &str,
        req: ListAliasesRequest,
    ) -> Result<ListAliasesResponse, KmsError> {
        let limit = page_limit(req.limit, 50, 1000)?;
        if req
            .marker
            .as_deref()
            .is_some_and(|m| !m.starts_with(ALIAS_PREFIX))
        {
            return Err(invalid_marker());
        }
        let target = match &req.key_id {
            Some(key_id) => Some(self.own_key(account, key_id).await?.key_id),
            None => None,
        };
        let page = PageRequest {
            after: req.marker,
            limit,
        };
        let page = self
            .inner
            .repo
            .list_aliases(account, target.as_deref(), page)
            .await?;
        let next_marker = page.next_marker(|a| a.alias_name.clone());
        Ok(ListAliasesResponse {
            aliases: page
                .items
                .into_iter()
                .map(|a| AliasListEntry {
                    alias_arn: self.alias_arn(account, &a.alias_name),
                    alias_name: a.alias_name,
                    target_key_id: a.target_key_id,
                    creation_date: a.created_at,
                    last_updated_date: a.updated_at,
                })
                .collect(),
            next_marker,
            truncated: page.truncated,
        })
    }

    /// Finds the key an alias may point to: the caller's own customer managed key, not
    /// pending deletion.
    async fn alias_target(&self, account: &str, key_id: &str) -> Result<KeyRecord, KmsError> {
        let target = self.own_key(account, key_id).await?;
        if target.manager == KeyManager::Aws {
            return Err(KmsError::AccessDenied(format!(
                "{} is an AWS managed key; aliases cannot point to it.",
                target.arn
            )));
        }
        ensure_not_pending_deletion(&target)?;
        Ok(target)
    }

    async fn existing_alias(&self, account: &str, name: &str) -> Result<AliasRecord, KmsError> {
        self.inner
            .repo
            .get_alias(account, name)
            .await?
            .ok_or_else(|| self.alias_not_found(account, name))
    }

    fn alias_not_found(&self, account: &str, name: &str) -> KmsError {
        KmsError::NotFound(format!(
            "Alias {} is not found.",
            self.alias_arn(account, name)
        ))
    }
}
