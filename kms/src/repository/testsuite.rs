//! The conformance suite every [`KeyRepository`] implementation must pass.
//!
//! Backends invoke [`crate::key_repository_conformance!`] with a future that yields a guard
//! (kept alive for the test, e.g. a temporary directory) and a fresh, empty repository.

// These are test assertions: failing loudly is their purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use time::OffsetDateTime;
use time::macros::datetime;

use super::{KeyRepository, PageRequest, RepositoryError};
use crate::record::{
    AliasRecord, KeyManager, KeyRecord, Lifecycle, MaterialOrigin, MaterialVersion, Rotation,
};

const ACCOUNT: &str = "111122223333";
const OTHER_ACCOUNT: &str = "444455556666";
const T0: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

/// Runs every conformance check as its own `#[tokio::test]`.
#[macro_export]
macro_rules! key_repository_conformance {
    ($make:expr) => {
        #[tokio::test]
        async fn conformance_put_get_and_revisions() {
            let (_guard, repo) = $make.await;
            $crate::testsuite::put_get_and_revisions(&repo).await;
        }
        #[tokio::test]
        async fn conformance_list_keys_pages_per_account() {
            let (_guard, repo) = $make.await;
            $crate::testsuite::list_keys_pages_per_account(&repo).await;
        }
        #[tokio::test]
        async fn conformance_due_keys() {
            let (_guard, repo) = $make.await;
            $crate::testsuite::due_keys(&repo).await;
        }
        #[tokio::test]
        async fn conformance_aliases() {
            let (_guard, repo) = $make.await;
            $crate::testsuite::aliases(&repo).await;
        }
        #[tokio::test]
        async fn conformance_delete_key_removes_its_aliases() {
            let (_guard, repo) = $make.await;
            $crate::testsuite::delete_key_removes_its_aliases(&repo).await;
        }
    };
}

/// Builds an enabled key record with one material version (test data only; not real material).
pub fn sample_key(account_id: &str, key_id: &str) -> KeyRecord {
    KeyRecord {
        key_id: key_id.to_owned(),
        account_id: account_id.to_owned(),
        arn: crate::ids::key_arn("aws", "us-east-1", account_id, key_id),
        revision: 1,
        created_at: T0,
        description: "sample".to_owned(),
        manager: KeyManager::Customer,
        lifecycle: Lifecycle::Enabled,
        policy: "{}".to_owned(),
        tags: Vec::new(),
        rotation: Rotation {
            enabled: false,
            period_days: 365,
            next_rotation: None,
            on_demand_count: 0,
        },
        versions: vec![MaterialVersion {
            version: 1,
            material_id: "0".repeat(64),
            created_at: T0,
            origin: MaterialOrigin::Creation,
            wrapped: vec![1, 2, 3],
        }],
    }
}

/// Builds an alias record.
pub fn sample_alias(account_id: &str, alias_name: &str, target_key_id: &str) -> AliasRecord {
    AliasRecord {
        account_id: account_id.to_owned(),
        alias_name: alias_name.to_owned(),
        target_key_id: target_key_id.to_owned(),
        created_at: T0,
        updated_at: T0,
    }
}

fn id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn page(after: Option<&str>, limit: usize) -> PageRequest {
    PageRequest {
        after: after.map(str::to_owned),
        limit,
    }
}

/// Inserts are exclusive and updates are conditional on the revision.
pub async fn put_get_and_revisions(repo: &dyn KeyRepository) {
    let mut key = sample_key(ACCOUNT, &id(1));
    assert_eq!(repo.get_key(&id(1)).await.unwrap(), None);
    repo.put_key(&key, None).await.unwrap();
    assert_eq!(repo.get_key(&id(1)).await.unwrap(), Some(key.clone()));
    assert!(matches!(
        repo.put_key(&key, None).await,
        Err(RepositoryError::Conflict(_))
    ));
    key.revision = 2;
    key.description = "changed".to_owned();
    repo.put_key(&key, Some(1)).await.unwrap();
    assert_eq!(repo.get_key(&id(1)).await.unwrap(), Some(key.clone()));
    key.revision = 3;
    assert!(matches!(
        repo.put_key(&key, Some(1)).await,
        Err(RepositoryError::Conflict(_))
    ));
    assert!(matches!(
        repo.put_key(&sample_key(ACCOUNT, &id(2)), Some(1)).await,
        Err(RepositoryError::Conflict(_))
    ));
}

/// Listing is per account, ordered by key id, and pages without gaps or repeats.
pub async fn list_keys_pages_per_account(repo: &dyn KeyRepository) {
    for n in [3, 1, 5, 2, 4] {
        repo.put_key(&sample_key(ACCOUNT, &id(n)), None)
            .await
            .unwrap();
    }
    repo.put_key(&sample_key(OTHER_ACCOUNT, &id(6)), None)
        .await
        .unwrap();
    let first = repo.list_keys(ACCOUNT, page(None, 2)).await.unwrap();
    let ids: Vec<&str> = first.items.iter().map(KeyRecord::key_id).collect();
    assert_eq!(ids, [id(1), id(2)]);
    assert!(first.truncated);
    let rest = repo
        .list_keys(ACCOUNT, page(Some(&id(2)), 10))
        .await
        .unwrap();
    let ids: Vec<&str> = rest.items.iter().map(KeyRecord::key_id).collect();
    assert_eq!(ids, [id(3), id(4), id(5)]);
    assert!(!rest.truncated);
    let exact = repo.list_keys(ACCOUNT, page(None, 5)).await.unwrap();
    assert_eq!(exact.items.len(), 5);
    assert!(!exact.truncated);
    let other = repo.list_keys(OTHER_ACCOUNT, page(None, 10)).await.unwrap();
    assert_eq!(other.items.len(), 1);
}

/// Due keys are those pending deletion or rotation at or before the given time.
pub async fn due_keys(repo: &dyn KeyRepository) {
    let mut rotating = sample_key(ACCOUNT, &id(1));
    rotating.rotation.enabled = true;
    rotating.rotation.next_rotation = Some(T0 + time::Duration::days(10));
    let mut deleting = sample_key(ACCOUNT, &id(2));
    deleting.lifecycle = Lifecycle::PendingDeletion {
        deletion_date: T0 + time::Duration::days(7),
        window_days: 7,
    };
    let mut disabled = rotating.clone();
    disabled.key_id = id(3);
    disabled.lifecycle = Lifecycle::Disabled;
    for key in [&rotating, &deleting, &disabled] {
        repo.put_key(key, None).await.unwrap();
    }
    repo.put_key(&sample_key(ACCOUNT, &id(4)), None)
        .await
        .unwrap();
    assert!(repo.due_keys(T0, 10).await.unwrap().is_empty());
    let at_day_7 = repo
        .due_keys(T0 + time::Duration::days(7), 10)
        .await
        .unwrap();
    assert_eq!(at_day_7, [id(2)]);
    let mut later = repo
        .due_keys(T0 + time::Duration::days(30), 10)
        .await
        .unwrap();
    later.sort();
    assert_eq!(later, [id(1), id(2)]);
    assert_eq!(
        repo.due_keys(T0 + time::Duration::days(30), 1)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Aliases are unique per account, updatable, deletable and listable by target.
pub async fn aliases(repo: &dyn KeyRepository) {
    let a = sample_alias(ACCOUNT, "alias/a", &id(1));
    let b = sample_alias(ACCOUNT, "alias/b", &id(2));
    let c = sample_alias(ACCOUNT, "alias/c", &id(1));
    for alias in [&c, &a, &b] {
        repo.create_alias(alias).await.unwrap();
    }
    repo.create_alias(&sample_alias(OTHER_ACCOUNT, "alias/a", &id(9)))
        .await
        .unwrap();
    assert!(matches!(
        repo.create_alias(&a).await,
        Err(RepositoryError::Conflict(_))
    ));
    assert_eq!(
        repo.get_alias(ACCOUNT, "alias/a").await.unwrap(),
        Some(a.clone())
    );
    let first = repo
        .list_aliases(ACCOUNT, None, page(None, 2))
        .await
        .unwrap();
    let names: Vec<&str> = first.items.iter().map(|x| x.alias_name.as_str()).collect();
    assert_eq!(names, ["alias/a", "alias/b"]);
    assert!(first.truncated);
    let rest = repo
        .list_aliases(ACCOUNT, None, page(Some("alias/b"), 2))
        .await
        .unwrap();
    let names: Vec<&str> = rest.items.iter().map(|x| x.alias_name.as_str()).collect();
    assert_eq!(names, ["alias/c"]);
    assert!(!rest.truncated);
    let of_key = repo
        .list_aliases(ACCOUNT, Some(&id(1)), page(None, 10))
        .await
        .unwrap();
    let names: Vec<&str> = of_key.items.iter().map(|x| x.alias_name.as_str()).collect();
    assert_eq!(names, ["alias/a", "alias/c"]);

    let mut moved = b.clone();
    moved.target_key_id = id(3);
    repo.update_alias(&moved).await.unwrap();
    assert_eq!(
        repo.get_alias(ACCOUNT, "alias/b").await.unwrap(),
        Some(moved)
    );
    assert!(matches!(
        repo.update_alias(&sample_alias(ACCOUNT, "alias/none", &id(1)))
            .await,
        Err(RepositoryError::Conflict(_))
    ));
    assert!(repo.delete_alias(ACCOUNT, "alias/a").await.unwrap());
    assert!(!repo.delete_alias(ACCOUNT, "alias/a").await.unwrap());
    assert_eq!(repo.get_alias(ACCOUNT, "alias/a").await.unwrap(), None);
    assert!(
        repo.get_alias(OTHER_ACCOUNT, "alias/a")
            .await
            .unwrap()
            .is_some()
    );
}

/// Deleting a key is conditional on its revision and removes it and the aliases pointing to
/// it, and nothing else.
pub async fn delete_key_removes_its_aliases(repo: &dyn KeyRepository) {
    repo.put_key(&sample_key(ACCOUNT, &id(1)), None)
        .await
        .unwrap();
    repo.put_key(&sample_key(ACCOUNT, &id(2)), None)
        .await
        .unwrap();
    repo.create_alias(&sample_alias(ACCOUNT, "alias/one", &id(1)))
        .await
        .unwrap();
    repo.create_alias(&sample_alias(ACCOUNT, "alias/two", &id(2)))
        .await
        .unwrap();
    assert!(matches!(
        repo.delete_key(&id(1), 2).await,
        Err(RepositoryError::Conflict(_))
    ));
    assert!(repo.get_key(&id(1)).await.unwrap().is_some());
    repo.delete_key(&id(1), 1).await.unwrap();
    assert_eq!(repo.get_key(&id(1)).await.unwrap(), None);
    assert_eq!(repo.get_alias(ACCOUNT, "alias/one").await.unwrap(), None);
    assert!(repo.get_key(&id(2)).await.unwrap().is_some());
    assert!(
        repo.get_alias(ACCOUNT, "alias/two")
            .await
            .unwrap()
            .is_some()
    );
    repo.delete_key(&id(1), 1).await.unwrap();
}
