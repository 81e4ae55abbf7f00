//! Where keys and aliases are kept: the [`KeyRepository`] contract and its local implementations.

mod file;
mod memory;
#[cfg(any(test, feature = "testsuite"))]
pub mod testsuite;

use std::fmt;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::record::{AliasRecord, KeyRecord};

pub use file::FileKeyRepository;
pub use memory::MemoryKeyRepository;

/// A failure of the key repository.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// A conditional write lost a race: the record changed, or already exists, or is gone.
    #[error("conflicting write to {0}")]
    Conflict(String),
    /// The storage underneath failed.
    #[error("key repository {context}: {source}")]
    Storage {
        /// What was being done.
        context: String,
        /// The underlying failure.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl RepositoryError {
    /// Wraps a storage failure with what was being done.
    pub fn storage(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Storage {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// Which page of a listing to return.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Return items strictly after this sort key (a key id or alias name); `None` starts over.
    pub after: Option<String>,
    /// At most this many items.
    pub limit: usize,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in ascending sort-key order.
    pub items: Vec<T>,
    /// Whether more items follow the last one.
    pub truncated: bool,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` items fetched in order: the extra one only tells
    /// that the listing goes on.
    pub fn from_overfetched(mut items: Vec<T>, limit: usize) -> Self {
        let truncated = items.len() > limit;
        items.truncate(limit);
        Self { items, truncated }
    }

    /// Returns the marker of the next page, the sort key of the last item, when truncated.
    pub(crate) fn next_marker(&self, sort_key: impl FnOnce(&T) -> String) -> Option<String> {
        self.items.last().filter(|_| self.truncated).map(sort_key)
    }
}

/// Storage of key records and aliases, implemented by the metadata store backends.
///
/// Writes of keys are conditional on the revision so that several ampd nodes sharing one
/// database never lose an update; every implementation must pass the conformance suite
/// (`key_repository_conformance!`, feature `testsuite`).
#[async_trait]
pub trait KeyRepository: fmt::Debug + Send + Sync + 'static {
    /// Returns the key with this id, in any account.
    async fn get_key(&self, key_id: &str) -> Result<Option<KeyRecord>, RepositoryError>;

    /// Inserts `record` if `expected_revision` is `None` (conflict if the id exists), otherwise
    /// replaces the stored record only if its revision equals `expected_revision`.
    async fn put_key(
        &self,
        record: &KeyRecord,
        expected_revision: Option<u64>,
    ) -> Result<(), RepositoryError>;

    /// Removes a key and every alias pointing to it, only if the stored revision equals
    /// `expected_revision` (so a concurrent CancelKeyDeletion wins); a missing key is not an error.
    async fn delete_key(&self, key_id: &str, expected_revision: u64)
    -> Result<(), RepositoryError>;

    /// Lists an account's keys ordered by key id.
    async fn list_keys(
        &self,
        account_id: &str,
        page: PageRequest,
    ) -> Result<Page<KeyRecord>, RepositoryError>;

    /// Returns ids of keys whose [`KeyRecord::next_due`] is at or before `now`, at most `limit`.
    async fn due_keys(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<String>, RepositoryError>;

    /// Returns an alias of an account.
    async fn get_alias(
        &self,
        account_id: &str,
        alias_name: &str,
    ) -> Result<Option<AliasRecord>, RepositoryError>;

    /// Inserts an alias; conflict if the account already has one with that name.
    async fn create_alias(&self, alias: &AliasRecord) -> Result<(), RepositoryError>;

    /// Replaces an existing alias; conflict if it does not exist.
    async fn update_alias(&self, alias: &AliasRecord) -> Result<(), RepositoryError>;

    /// Removes an alias; returns whether it existed.
    async fn delete_alias(
        &self,
        account_id: &str,
        alias_name: &str,
    ) -> Result<bool, RepositoryError>;

    /// Lists an account's aliases ordered by name, optionally only those pointing to one key.
    async fn list_aliases(
        &self,
        account_id: &str,
        target_key_id: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AliasRecord>, RepositoryError>;
}
