//! Conformance suite every [`IamStore`] implementation must pass.
//!
//! Each function takes a fresh, empty store. [`crate::iam_store_conformance`] expands to one
//! `#[tokio::test]` per function for a given factory, so every implementation runs exactly the
//! same assertions.

// This module only exists for tests: failing an assertion is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::iam::{
    AccessKeyRecord, AccessKeyStatus, Entity, EntityKind, IamGroup, IamRole, IamStore,
    IamStoreError, IamUser, MAX_TAGS_PER_ENTITY, ManagedPolicyRecord, PolicyOwner, RoleUpdate,
};
use crate::model::Timestamp;

/// A store under test plus whatever must live as long as it (e.g. a temporary directory).
pub struct IamHarness {
    /// The store.
    pub store: Arc<dyn IamStore>,
    /// Dropped with the harness.
    pub keep: Box<dyn std::any::Any + Send>,
}

/// Expands to one test per conformance check; `$make` is an async fn returning an
/// [`IamHarness`].
#[macro_export]
macro_rules! iam_store_conformance {
    ($make:path) => {
        $crate::iam_store_conformance!(@tests $make;
            users_keys_and_quotas, policies_and_attachments, groups_hold_members_and_policies,
            roles_and_trust_policies, role_policies_block_deletion, tags_on_users_and_roles,
            permissions_boundaries, entities_for_policy);
    };
    (@tests $make:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let h = $make().await;
                $crate::iam_testsuite::$name(h.store.clone()).await;
            }
        )*
    };
}

fn user(name: &str) -> IamUser {
    IamUser {
        name: name.into(),
        user_id: format!("AIDA{}", name.to_uppercase()),
        path: "/".into(),
        arn: format!("arn:aws:iam::123456789012:user/{name}"),
        tags: BTreeMap::new(),
        permissions_boundary: None,
        created_at: Timestamp(1),
    }
}

fn key(id: &str, user: &str) -> AccessKeyRecord {
    AccessKeyRecord {
        access_key_id: id.into(),
        user_name: user.into(),
        sealed_secret: vec![1, 2, 3],
        status: AccessKeyStatus::Active,
        created_at: Timestamp(2),
    }
}

pub async fn users_keys_and_quotas(s: Arc<dyn IamStore>) {
    s.create_user(user("alice")).await.unwrap();
    assert!(matches!(
        s.create_user(user("ALICE")).await,
        Err(IamStoreError::AlreadyExists(_))
    ));
    assert_eq!(s.user("Alice").await.unwrap().name, "alice");
    s.create_access_key(key("AKIA1", "alice")).await.unwrap();
    s.create_access_key(key("AKIA2", "alice")).await.unwrap();
    assert!(matches!(
        s.create_access_key(key("AKIA3", "alice")).await,
        Err(IamStoreError::LimitExceeded(_))
    ));
    let (k, owner) = s.access_key("AKIA1").await.unwrap().unwrap();
    assert_eq!(
        (k.sealed_secret, owner.name),
        (vec![1, 2, 3], "alice".into())
    );
    s.update_access_key("alice", "AKIA1", AccessKeyStatus::Inactive)
        .await
        .unwrap();
    let keys = s.list_access_keys("alice").await.unwrap();
    assert_eq!(keys[0].status, AccessKeyStatus::Inactive);
    assert!(matches!(
        s.delete_user("alice").await,
        Err(IamStoreError::DeleteConflict(_))
    ));
    s.delete_access_key("alice", "AKIA1").await.unwrap();
    s.delete_access_key("alice", "AKIA2").await.unwrap();
    assert!(s.access_key("AKIA1").await.unwrap().is_none());
    s.delete_user("alice").await.unwrap();
    assert!(matches!(
        s.user("alice").await,
        Err(IamStoreError::NoSuchEntity(_))
    ));
}

pub async fn policies_and_attachments(s: Arc<dyn IamStore>) {
    s.create_user(user("bob")).await.unwrap();
    let bob = PolicyOwner::User("bob");
    s.put_inline_policy(bob, "p1", "{}").await.unwrap();
    s.put_inline_policy(bob, "p1", "{\"a\":1}").await.unwrap();
    assert_eq!(s.inline_policy(bob, "p1").await.unwrap(), "{\"a\":1}");
    assert_eq!(s.list_inline_policies(bob).await.unwrap().len(), 1);
    let arn = "arn:aws:iam::123456789012:policy/mine";
    let p = ManagedPolicyRecord {
        arn: arn.into(),
        name: "mine".into(),
        policy_id: "ANPA1".into(),
        path: "/".into(),
        description: None,
        default_version_id: String::new(),
        document: "{}".into(),
        created_at: Timestamp(3),
        updated_at: Timestamp(3),
    };
    let created = s.create_policy(p.clone()).await.unwrap();
    assert_eq!(created.default_version_id, "v1");
    assert_eq!(s.policy(arn).await.unwrap(), created);
    assert!(matches!(
        s.create_policy(p).await,
        Err(IamStoreError::AlreadyExists(_))
    ));
    s.attach_policy(bob, arn).await.unwrap();
    s.attach_policy(bob, arn).await.unwrap();
    assert_eq!(s.attachment_count(arn).await.unwrap(), 1);
    assert!(matches!(
        s.delete_policy(arn).await,
        Err(IamStoreError::DeleteConflict(_))
    ));
    assert_eq!(s.attached_policies(bob).await.unwrap(), [arn]);
    s.detach_policy(bob, arn).await.unwrap();

    for n in 2..=5 {
        let v = s
            .create_policy_version(arn, &format!("{{\"n\":{n}}}"), n == 3, Timestamp(n))
            .await
            .unwrap();
        assert_eq!(v.version_id, format!("v{n}"));
    }
    assert!(matches!(
        s.create_policy_version(arn, "{}", false, Timestamp(9))
            .await,
        Err(IamStoreError::LimitExceeded(_))
    ));
    let p = s.policy(arn).await.unwrap();
    assert_eq!(
        (p.default_version_id.as_str(), p.document.as_str()),
        ("v3", "{\"n\":3}")
    );
    assert!(matches!(
        s.delete_policy_version(arn, "v3").await,
        Err(IamStoreError::DeleteConflict(_))
    ));
    assert!(matches!(
        s.delete_policy(arn).await,
        Err(IamStoreError::DeleteConflict(_))
    ));
    s.set_default_policy_version(arn, "v5", Timestamp(10))
        .await
        .unwrap();
    for v in ["v1", "v2", "v3", "v4"] {
        s.delete_policy_version(arn, v).await.unwrap();
    }
    let versions = s.list_policy_versions(arn).await.unwrap();
    assert_eq!(versions.len(), 1);
    assert!(versions[0].is_default);
    assert!(matches!(
        s.policy_version(arn, "v1").await,
        Err(IamStoreError::NoSuchEntity(_))
    ));
    s.delete_policy(arn).await.unwrap();
    assert_eq!(s.list_policies("/").await.unwrap().len(), 0);
    s.delete_inline_policy(bob, "p1").await.unwrap();
    s.delete_user("bob").await.unwrap();
}

pub async fn groups_hold_members_and_policies(s: Arc<dyn IamStore>) {
    s.create_user(user("carol")).await.unwrap();
    let group = IamGroup {
        name: "ops".into(),
        group_id: "AGPAOPS".into(),
        path: "/".into(),
        arn: "arn:aws:iam::123456789012:group/ops".into(),
        created_at: Timestamp(1),
    };
    s.create_group(group.clone()).await.unwrap();
    assert!(matches!(
        s.create_group(group).await,
        Err(IamStoreError::AlreadyExists(_))
    ));
    s.add_user_to_group("OPS", "carol").await.unwrap();
    s.add_user_to_group("ops", "carol").await.unwrap();
    assert_eq!(s.group_members("ops").await.unwrap()[0].name, "carol");
    assert_eq!(s.groups_for_user("carol").await.unwrap()[0].name, "ops");
    let ops = PolicyOwner::Group("ops");
    s.put_inline_policy(ops, "g", "{}").await.unwrap();
    s.attach_policy(ops, "arn:aws:iam::aws:policy/X")
        .await
        .unwrap();
    assert_eq!(
        s.attachment_count("arn:aws:iam::aws:policy/X")
            .await
            .unwrap(),
        1
    );
    // A user's and a group's policies do not mix.
    assert!(
        s.list_inline_policies(PolicyOwner::User("carol"))
            .await
            .unwrap()
            .is_empty()
    );
    for conflict in [s.delete_group("ops").await, s.delete_user("carol").await] {
        assert!(matches!(conflict, Err(IamStoreError::DeleteConflict(_))));
    }
    s.remove_user_from_group("ops", "carol").await.unwrap();
    s.delete_inline_policy(ops, "g").await.unwrap();
    s.detach_policy(ops, "arn:aws:iam::aws:policy/X")
        .await
        .unwrap();
    s.delete_group("ops").await.unwrap();
    s.delete_user("carol").await.unwrap();
    assert!(matches!(
        s.group("ops").await,
        Err(IamStoreError::NoSuchEntity(_))
    ));
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}}"#;

fn role(name: &str) -> IamRole {
    IamRole {
        name: name.into(),
        role_id: format!("AROA{}", name.to_uppercase()),
        path: "/svc/".into(),
        arn: format!("arn:aws:iam::123456789012:role/svc/{name}"),
        assume_role_policy: TRUST.into(),
        description: Some("writes metrics".into()),
        max_session_duration: 3600,
        tags: BTreeMap::from([("team".to_owned(), "obs".to_owned())]),
        permissions_boundary: None,
        created_at: Timestamp(5),
    }
}

pub async fn roles_and_trust_policies(s: Arc<dyn IamStore>) {
    let created = s.create_role(role("writer")).await.unwrap();
    assert!(matches!(
        s.create_role(role("WRITER")).await,
        Err(IamStoreError::AlreadyExists(_))
    ));
    assert_eq!(s.role("Writer").await.unwrap(), created);
    s.create_role(IamRole {
        path: "/".into(),
        ..role("reader")
    })
    .await
    .unwrap();
    let names = |roles: Vec<IamRole>| roles.into_iter().map(|r| r.name).collect::<Vec<_>>();
    assert_eq!(
        names(s.list_roles("/").await.unwrap()),
        ["reader", "writer"]
    );
    assert_eq!(names(s.list_roles("/svc/").await.unwrap()), ["writer"]);

    s.update_role(
        "writer",
        RoleUpdate {
            description: None,
            max_session_duration: Some(7200),
        },
    )
    .await
    .unwrap();
    let updated = s.role("writer").await.unwrap();
    assert_eq!(updated.max_session_duration, 7200);
    assert_eq!(updated.description.as_deref(), Some("writes metrics"));
    s.update_role(
        "writer",
        RoleUpdate {
            description: Some("new".into()),
            max_session_duration: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        s.role("writer").await.unwrap().description.as_deref(),
        Some("new")
    );
    s.update_assume_role_policy("writer", "{\"new\":1}")
        .await
        .unwrap();
    assert_eq!(
        s.role("writer").await.unwrap().assume_role_policy,
        "{\"new\":1}"
    );
    for missing in [
        s.update_role("nobody", RoleUpdate::default()).await,
        s.update_assume_role_policy("nobody", "{}").await,
        s.delete_role("nobody").await,
    ] {
        assert!(matches!(missing, Err(IamStoreError::NoSuchEntity(_))));
    }
    s.delete_role("WRITER").await.unwrap();
    assert!(matches!(
        s.role("writer").await,
        Err(IamStoreError::NoSuchEntity(_))
    ));
}

pub async fn role_policies_block_deletion(s: Arc<dyn IamStore>) {
    s.create_role(role("ops")).await.unwrap();
    // A user of the same name keeps its own policies apart from the role's.
    s.create_user(user("ops")).await.unwrap();
    let ops = PolicyOwner::Role("ops");
    s.put_inline_policy(ops, "inline", "{}").await.unwrap();
    assert_eq!(s.inline_policy(ops, "inline").await.unwrap(), "{}");
    assert!(
        s.list_inline_policies(PolicyOwner::User("ops"))
            .await
            .unwrap()
            .is_empty()
    );
    let arn = "arn:aws:iam::aws:policy/AmazonPrometheusQueryAccess";
    s.attach_policy(ops, arn).await.unwrap();
    assert_eq!(s.attached_policies(ops).await.unwrap(), [arn]);
    assert!(
        s.attached_policies(PolicyOwner::User("ops"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        s.delete_role("ops").await,
        Err(IamStoreError::DeleteConflict(_))
    ));
    s.delete_inline_policy(ops, "inline").await.unwrap();
    assert!(matches!(
        s.delete_role("ops").await,
        Err(IamStoreError::DeleteConflict(_))
    ));
    s.detach_policy(ops, arn).await.unwrap();
    s.delete_role("ops").await.unwrap();
    assert!(matches!(
        s.put_inline_policy(ops, "inline", "{}").await,
        Err(IamStoreError::NoSuchEntity(_))
    ));
    s.delete_user("ops").await.unwrap();
}

pub async fn tags_on_users_and_roles(s: Arc<dyn IamStore>) {
    s.create_user(user("tina")).await.unwrap();
    s.create_role(role("tagged")).await.unwrap();
    for entity in [Entity::User("tina"), Entity::Role("tagged")] {
        let tags = BTreeMap::from([
            ("team".to_owned(), "platform".to_owned()),
            ("env".to_owned(), "dev".to_owned()),
        ]);
        s.tag_entity(entity, &tags).await.unwrap();
        s.untag_entity(entity, &["env".to_owned(), "absent".to_owned()])
            .await
            .unwrap();
        let stored = match entity {
            Entity::User(n) => s.user(n).await.unwrap().tags,
            Entity::Role(n) => s.role(n).await.unwrap().tags,
        };
        assert_eq!(
            stored,
            BTreeMap::from([("team".to_owned(), "platform".to_owned())])
        );
        let many: BTreeMap<String, String> = (0..MAX_TAGS_PER_ENTITY)
            .map(|i| (format!("k{i}"), String::new()))
            .collect();
        assert!(matches!(
            s.tag_entity(entity, &many).await,
            Err(IamStoreError::LimitExceeded(_))
        ));
    }
    assert!(matches!(
        s.tag_entity(Entity::Role("nobody"), &BTreeMap::new()).await,
        Err(IamStoreError::NoSuchEntity(_))
    ));
}

pub async fn permissions_boundaries(s: Arc<dyn IamStore>) {
    let arn = "arn:aws:iam::123456789012:policy/bound";
    s.create_policy(ManagedPolicyRecord {
        arn: arn.into(),
        name: "bound".into(),
        policy_id: "ANPABOUND".into(),
        path: "/".into(),
        description: None,
        default_version_id: String::new(),
        document: "{}".into(),
        created_at: Timestamp(1),
        updated_at: Timestamp(1),
    })
    .await
    .unwrap();
    s.create_user(IamUser {
        permissions_boundary: Some(arn.into()),
        ..user("bounded")
    })
    .await
    .unwrap();
    s.create_role(role("free")).await.unwrap();
    assert_eq!(
        s.user("bounded")
            .await
            .unwrap()
            .permissions_boundary
            .as_deref(),
        Some(arn)
    );
    s.set_permissions_boundary(Entity::Role("free"), Some(arn))
        .await
        .unwrap();
    assert_eq!(
        s.role("free")
            .await
            .unwrap()
            .permissions_boundary
            .as_deref(),
        Some(arn)
    );
    assert_eq!(s.boundary_usage_count(arn).await.unwrap(), 2);
    assert!(matches!(
        s.delete_policy(arn).await,
        Err(IamStoreError::DeleteConflict(_))
    ));
    for entity in [Entity::User("bounded"), Entity::Role("free")] {
        s.set_permissions_boundary(entity, None).await.unwrap();
    }
    assert!(s.role("free").await.unwrap().permissions_boundary.is_none());
    assert_eq!(s.boundary_usage_count(arn).await.unwrap(), 0);
    s.delete_policy(arn).await.unwrap();
    assert!(matches!(
        s.set_permissions_boundary(Entity::User("nobody"), None)
            .await,
        Err(IamStoreError::NoSuchEntity(_))
    ));
}

pub async fn entities_for_policy(s: Arc<dyn IamStore>) {
    let arn = "arn:aws:iam::aws:policy/AmazonPrometheusFullAccess";
    s.create_user(user("uma")).await.unwrap();
    s.create_role(role("rho")).await.unwrap();
    s.create_group(IamGroup {
        name: "gamma".into(),
        group_id: "AGPAGAMMA".into(),
        path: "/".into(),
        arn: "arn:aws:iam::123456789012:group/gamma".into(),
        created_at: Timestamp(1),
    })
    .await
    .unwrap();
    for owner in [
        PolicyOwner::User("uma"),
        PolicyOwner::Group("gamma"),
        PolicyOwner::Role("rho"),
    ] {
        s.attach_policy(owner, arn).await.unwrap();
    }
    let entities = s.policy_entities(arn).await.unwrap();
    let got: Vec<(EntityKind, &str, &str)> = entities
        .iter()
        .map(|e| (e.kind, e.name.as_str(), e.id.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (EntityKind::Group, "gamma", "AGPAGAMMA"),
            (EntityKind::Role, "rho", "AROARHO"),
            (EntityKind::User, "uma", "AIDAUMA"),
        ]
    );
    assert_eq!(s.attachment_count(arn).await.unwrap(), 3);
    assert!(
        s.policy_entities("arn:aws:iam::aws:policy/X")
            .await
            .unwrap()
            .is_empty()
    );
}
