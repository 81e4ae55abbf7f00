//! An in-memory [`KeyRepository`], also the cache behind the file-backed one.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use time::OffsetDateTime;
use tokio::sync::Mutex;

use super::{KeyRepository, Page, PageRequest, RepositoryError};
use crate::record::{AliasRecord, KeyRecord};

/// Keys and aliases held in process memory; lost on exit.
#[derive(Default)]
pub struct MemoryKeyRepository {
    state: Mutex<State>,
}

// The records (policies, wrapped material) have no place in debug output.
impl fmt::Debug for MemoryKeyRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryKeyRepository")
            .finish_non_exhaustive()
    }
}

impl MemoryKeyRepository {
    /// Creates an empty repository.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The maps both local repositories work on.
#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) keys: BTreeMap<String, KeyRecord>,
    /// Keyed by (account id, alias name).
    pub(super) aliases: BTreeMap<(String, String), AliasRecord>,
}

impl State {
    pub(super) fn check_put_key(
        &self,
        record: &KeyRecord,
        expected_revision: Option<u64>,
    ) -> Result<(), RepositoryError> {
        let stored = self.keys.get(&record.key_id).map(|k| k.revision);
        if stored != expected_revision {
            return Err(RepositoryError::Conflict(format!("key {}", record.key_id)));
        }
        Ok(())
    }

    /// Returns the aliases that deleting `key_id` removes with it.
    pub(super) fn aliases_of(&self, key_id: &str) -> Vec<(String, String)> {
        self.aliases
            .iter()
            .filter(|(_, alias)| alias.target_key_id == key_id)
            .map(|(id, _)| id.clone())
            .collect()
    }

    pub(super) fn check_delete_key(
        &self,
        key_id: &str,
        expected_revision: u64,
    ) -> Result<(), RepositoryError> {
        match self.keys.get(key_id) {
            Some(key) if key.revision != expected_revision => {
                Err(RepositoryError::Conflict(format!("key {key_id}")))
            }
            _ => Ok(()),
        }
    }

    pub(super) fn delete_key(&mut self, key_id: &str) {
        for id in self.aliases_of(key_id) {
            self.aliases.remove(&id);
        }
        self.keys.remove(key_id);
    }

    pub(super) fn list_keys(&self, account_id: &str, page: PageRequest) -> Page<KeyRecord> {
        let after = page.after.unwrap_or_default();
        let items: Vec<KeyRecord> = self
            .keys
            .range::<str, _>((
                std::ops::Bound::Excluded(after.as_str()),
                std::ops::Bound::Unbounded,
            ))
            .map(|(_, key)| key)
            .filter(|key| key.account_id == account_id)
            .take(page.limit.saturating_add(1))
            .cloned()
            .collect();
        Page::from_overfetched(items, page.limit)
    }

    pub(super) fn due_keys(&self, now: OffsetDateTime, limit: usize) -> Vec<String> {
        self.keys
            .values()
            .filter(|key| key.next_due().is_some_and(|due| due <= now))
            .take(limit)
            .map(|key| key.key_id.clone())
            .collect()
    }

    pub(super) fn check_create_alias(&self, alias: &AliasRecord) -> Result<(), RepositoryError> {
        if self.aliases.contains_key(&alias_id(alias)) {
            return Err(RepositoryError::Conflict(alias.alias_name.clone()));
        }
        Ok(())
    }

    pub(super) fn check_update_alias(&self, alias: &AliasRecord) -> Result<(), RepositoryError> {
        if !self.aliases.contains_key(&alias_id(alias)) {
            return Err(RepositoryError::Conflict(alias.alias_name.clone()));
        }
        Ok(())
    }

    pub(super) fn list_aliases(
        &self,
        account_id: &str,
        target_key_id: Option<&str>,
        page: PageRequest,
    ) -> Page<AliasRecord> {
        use std::ops::Bound;
        let start = match page.after {
            Some(after) => Bound::Excluded((account_id.to_owned(), after)),
            None => Bound::Included((account_id.to_owned(), String::new())),
        };
        let items: Vec<AliasRecord> = self
            .aliases
            .range((start, Bound::Unbounded))
            .take_while(|((account, _), _)| account == account_id)
            .map(|(_, alias)| alias)
            .filter(|alias| target_key_id.is_none_or(|id| alias.target_key_id == id))
            .take(page.limit.saturating_add(1))
            .cloned()
            .collect();
        Page::from_overfetched(items, page.limit)
    }
}

pub(super) fn alias_id(alias: &AliasRecord) -> (String, String) {
    (alias.account_id.clone(), alias.alias_name.clone())
}

#[async_trait]
impl KeyRepository for MemoryKeyRepository {
    async fn get_key(&self, key_id: &str) -> Result<Option<KeyRecord>, RepositoryError> {
        Ok(self.state.lock().await.keys.get(key_id).cloned())
    }

    async fn put_key(
        &self,
        record: &KeyRecord,
        expected_revision: Option<u64>,
    ) -> Result<(), RepositoryError> {
        let mut state = self.state.lock().await;
        state.check_put_key(record, expected_revision)?;
        state.keys.insert(record.key_id.clone(), record.clone());
        Ok(())
    }

    async fn delete_key(
        &self,
        key_id: &str,
        expected_revision: u64,
    ) -> Result<(), RepositoryError> {
        let mut state = self.state.lock().await;
        state.check_delete_key(key_id, expected_revision)?;
        state.delete_key(key_id);
        Ok(())
    }

    async fn list_keys(
        &self,
        account_id: &str,
        page: PageRequest,
    ) -> Result<Page<KeyRecord>, RepositoryError> {
        Ok(self.state.lock().await.list_keys(account_id, page))
    }

    async fn due_keys(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<String>, RepositoryError> {
        Ok(self.state.lock().await.due_keys(now, limit))
    }

    async fn get_alias(
        &self,
        account_id: &str,
        alias_name: &str,
    ) -> Result<Option<AliasRecord>, RepositoryError> {
        let id = (account_id.to_owned(), alias_name.to_owned());
        Ok(self.state.lock().await.aliases.get(&id).cloned())
    }

    async fn create_alias(&self, alias: &AliasRecord) -> Result<(), RepositoryError> {
        let mut state = self.state.lock().await;
        state.check_create_alias(alias)?;
        state.aliases.insert(alias_id(alias), alias.clone());
        Ok(())
    }

    async fn update_alias(&self, alias: &AliasRecord) -> Result<(), RepositoryError> {
        let mut state = self.state.lock().await;
        state.check_update_alias(alias)?;
        state.aliases.insert(alias_id(alias), alias.clone());
        Ok(())
    }

    async fn delete_alias(
        &self,
        account_id: &str,
        alias_name: &str,
    ) -> Result<bool, RepositoryError> {
        let id = (account_id.to_owned(), alias_name.to_owned());
        Ok(self.state.lock().await.aliases.remove(&id).is_some())
    }

    async fn list_aliases(
        &self,
        account_id: &str,
        target_key_id: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AliasRecord>, RepositoryError> {
        Ok(self
            .state
            .lock()
            .await
            .list_aliases(account_id, target_key_id, page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::key_repository_conformance!(async { ((), MemoryKeyRepository::new()) });
}
