//! [`IamStore`] on the SQLite metadata database.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use crate::iam::{
    AccessKeyRecord, AccessKeyStatus, Entity, EntityKind, IamGroup, IamResult, IamRole, IamStore,
    IamStoreError, IamUser, MAX_ACCESS_KEYS_PER_USER, MAX_ATTACHED_POLICIES, MAX_GROUPS_PER_USER,
    MAX_POLICY_VERSIONS, MAX_TAGS_PER_ENTITY, ManagedPolicyRecord, PolicyEntity, PolicyOwner,
    PolicyVersion, RoleUpdate,
};
use crate::model::{Tags, Timestamp};

fn no_user(name: &str) -> IamStoreError {
    IamStoreError::NoSuchEntity(format!("The user with name {name} cannot be found."))
}

fn user_from_row(row: &SqliteRow) -> IamResult<IamUser> {
    let tags: String = row.try_get("tags")?;
    Ok(IamUser {
        name: row.try_get("name")?,
        user_id: row.try_get("user_id")?,
        path: row.try_get("path")?,
        arn: row.try_get("arn")?,
        tags: serde_json::from_str(&tags)?,
        permissions_boundary: row.try_get("permissions_boundary")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

fn no_role(name: &str) -> IamStoreError {
    IamStoreError::NoSuchEntity(format!("The role with name {name} cannot be found."))
}

fn role_from_row(row: &SqliteRow) -> IamResult<IamRole> {
    let tags: String = row.try_get("tags")?;
    let max: i64 = row.try_get("max_session_duration")?;
    Ok(IamRole {
        name: row.try_get("name")?,
        role_id: row.try_get("role_id")?,
        path: row.try_get("path")?,
        arn: row.try_get("arn")?,
        assume_role_policy: row.try_get("assume_role_policy")?,
        description: row.try_get("description")?,
        max_session_duration: u32::try_from(max).map_err(|_| {
            IamStoreError::Internal(format!("unreadable max session duration {max}").into())
        })?,
        tags: serde_json::from_str(&tags)?,
        permissions_boundary: row.try_get("permissions_boundary")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

/// The SQL statements that differ only in the table of a user or role.
struct EntitySql {
    tags: &'static str,
    set_tags: &'static str,
    set_boundary: &'static str,
}

fn entity_sql(entity: Entity<'_>) -> EntitySql {
    match entity {
        Entity::User(_) => EntitySql {
            tags: "SELECT name, tags FROM iam_users WHERE name = ?1",
            set_tags: "UPDATE iam_users SET tags = ?1 WHERE name = ?2",
            set_boundary: "UPDATE iam_users SET permissions_boundary = ?1 WHERE name = ?2",
        },
        Entity::Role(_) => EntitySql {
            tags: "SELECT name, tags FROM iam_roles WHERE name = ?1",
            set_tags: "UPDATE iam_roles SET tags = ?1 WHERE name = ?2",
            set_boundary: "UPDATE iam_roles SET permissions_boundary = ?1 WHERE name = ?2",
        },
    }
}

/// Reads the stored name and tags of a user or role inside `tx`.
async fn entity_tags(tx: &mut super::Tx, entity: Entity<'_>) -> IamResult<(String, Tags)> {
    let name = match entity {
        Entity::User(n) | Entity::Role(n) => n,
    };
    let row = sqlx::query(entity_sql(entity).tags)
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| match entity {
            Entity::User(n) => no_user(n),
            Entity::Role(n) => no_role(n),
        })?;
    let tags: String = row.try_get("tags")?;
    Ok((row.try_get("name")?, serde_json::from_str(&tags)?))
}

async fn store_tags(
    tx: &mut super::Tx,
    entity: Entity<'_>,
    name: &str,
    tags: &Tags,
) -> IamResult<()> {
    sqlx::query(entity_sql(entity).set_tags)
        .bind(serde_json::to_string(tags)?)
        .bind(name)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn key_from_row(row: &SqliteRow) -> IamResult<AccessKeyRecord> {
    let status: String = row.try_get("status")?;
    Ok(AccessKeyRecord {
        access_key_id: row.try_get("access_key_id")?,
        user_name: row.try_get("user_name")?,
        sealed_secret: row.try_get("sealed_secret")?,
        status: AccessKeyStatus::parse(&status).ok_or_else(|| {
            IamStoreError::Internal(format!("unreadable access key status {status:?}").into())
        })?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

/// Selects a policy with the document of its default version.
macro_rules! policy_select {
    () => {
        "SELECT p.*, v.document FROM iam_policies p JOIN iam_policy_versions v \
         ON v.policy_arn = p.arn AND v.version = p.default_version"
    };
}

fn policy_from_row(row: &SqliteRow) -> IamResult<ManagedPolicyRecord> {
    let default: i64 = row.try_get("default_version")?;
    Ok(ManagedPolicyRecord {
        arn: row.try_get("arn")?,
        name: row.try_get("name")?,
        policy_id: row.try_get("policy_id")?,
        path: row.try_get("path")?,
        description: row.try_get("description")?,
        default_version_id: format!("v{default}"),
        document: row.try_get("document")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

/// Parses a wire version id (`v3`).
fn version_number(version_id: &str) -> Option<i64> {
    version_id
        .strip_prefix('v')
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))?
        .parse()
        .ok()
}

async fn set_default(tx: &mut super::Tx, arn: &str, version: i64, now: Timestamp) -> IamResult<()> {
    sqlx::query("UPDATE iam_policies SET default_version = ?1, updated_at = ?2 WHERE arn = ?3")
        .bind(version)
        .bind(now.0)
        .bind(arn)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Returns the stored spelling of a user name, or `NoSuchEntity`.
async fn user_name<'e, E>(exec: E, name: &str) -> IamResult<String>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    owner_name(exec, PolicyOwner::User(name)).await
}

/// Returns the stored spelling of a user's or group's name, or `NoSuchEntity`.
async fn owner_name<'e, E>(exec: E, owner: PolicyOwner<'_>) -> IamResult<String>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    match owner {
        PolicyOwner::User(name) => sqlx::query_scalar("SELECT name FROM iam_users WHERE name = ?1")
            .bind(name)
            .fetch_optional(exec)
            .await?
            .ok_or_else(|| no_user(name)),
        PolicyOwner::Group(name) => {
            sqlx::query_scalar("SELECT name FROM iam_groups WHERE name = ?1")
                .bind(name)
                .fetch_optional(exec)
                .await?
                .ok_or_else(|| no_group(name))
        }
        PolicyOwner::Role(name) => sqlx::query_scalar("SELECT name FROM iam_roles WHERE name = ?1")
            .bind(name)
            .fetch_optional(exec)
            .await?
            .ok_or_else(|| no_role(name)),
    }
}

async fn count(tx: &mut super::Tx, sql: &'static str, arg: &str) -> IamResult<i64> {
    Ok(sqlx::query_scalar(sql)
        .bind(arg)
        .fetch_one(&mut **tx)
        .await?)
}

#[async_trait]
impl IamStore for SqliteStore {
    async fn create_user(&self, user: IamUser) -> IamResult<IamUser> {
        let inserted = sqlx::query(
            "INSERT INTO iam_users \
             (name, user_id, path, arn, tags, permissions_boundary, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&user.name)
        .bind(&user.user_id)
        .bind(&user.path)
        .bind(&user.arn)
        .bind(serde_json::to_string(&user.tags)?)
        .bind(&user.permissions_boundary)
        .bind(user.created_at.0)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(IamStoreError::AlreadyExists(format!(
                "User with name {} already exists.",
                user.name
            )));
        }
        Ok(user)
    }

    async fn user(&self, name: &str) -> IamResult<IamUser> {
        let row = sqlx::query("SELECT * FROM iam_users WHERE name = ?1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| no_user(name))?;
        user_from_row(&row)
    }

    async fn list_users(&self, path_prefix: &str) -> IamResult<Vec<IamUser>> {
        let rows = sqlx::query(
            "SELECT * FROM iam_users WHERE substr(path, 1, length(?1)) = ?1 ORDER BY name",
        )
        .bind(path_prefix)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn delete_user(&self, name: &str) -> IamResult<()> {
        let mut tx = self.begin_iam().await?;
        let name = user_name(&mut *tx, name).await?;
        for (sql, what) in [
            (
                "SELECT COUNT(*) FROM iam_access_keys WHERE user_name = ?1",
                "access keys",
            ),
            (
                "SELECT COUNT(*) FROM iam_inline_policies \
                 WHERE owner_kind = 'user' AND owner_name = ?1",
                "policies",
            ),
            (
                "SELECT COUNT(*) FROM iam_attachments WHERE owner_kind = 'user' AND owner_name = ?1",
                "attached policies",
            ),
            (
                "SELECT COUNT(*) FROM iam_group_members WHERE user_name = ?1",
                "the user from groups",
            ),
        ] {
            if count(&mut tx, sql, &name).await? > 0 {
                return Err(IamStoreError::DeleteConflict(format!(
                    "Cannot delete entity, must remove {what} first."
                )));
            }
        }
        sqlx::query("DELETE FROM iam_users WHERE name = ?1")
            .bind(&name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_access_key(&self, key: AccessKeyRecord) -> IamResult<()> {
        let mut tx = self.begin_iam().await?;
        let name = user_name(&mut *tx, &key.user_name).await?;
        let existing = count(
            &mut tx,
            "SELECT COUNT(*) FROM iam_access_keys WHERE user_name = ?1",
            &name,
        )
        .await?;
        if usize::try_from(existing).unwrap_or(usize::MAX) >= MAX_ACCESS_KEYS_PER_USER {
            return Err(IamStoreError::LimitExceeded(format!(
                "Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS_PER_USER}"
            )));
        }
        sqlx::query(
            "INSERT INTO iam_access_keys \
             (access_key_id, user_name, sealed_secret, status, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(&key.access_key_id)
        .bind(&name)
        .bind(&key.sealed_secret)
        .bind(key.status.as_str())
        .bind(key.created_at.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn access_key(
        &self,
        access_key_id: &str,
    ) -> IamResult<Option<(AccessKeyRecord, IamUser)>> {
        let Some(row) = sqlx::query("SELECT * FROM iam_access_keys WHERE access_key_id = ?1")
            .bind(access_key_id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let key = key_from_row(&row)?;
        let user = self.user(&key.user_name).await?;
        Ok(Some((key, user)))
    }

    async fn list_access_keys(&self, user_name: &str) -> IamResult<Vec<AccessKeyRecord>> {
        let name = self::user_name(&self.pool, user_name).await?;
        let rows = sqlx::query(
            "SELECT * FROM iam_access_keys WHERE user_name = ?1 ORDER BY created_at, access_key_id",
        )
        .bind(&name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    async fn update_access_key(
        &self,
        user_name: &str,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> IamResult<()> {
        let name = self::user_name(&self.pool, user_name).await?;
        let changed = sqlx::query(
            "UPDATE iam_access_keys SET status = ?1 WHERE user_name = ?2 AND access_key_id = ?3",
        )
        .bind(status.as_str())
        .bind(&name)
        .bind(access_key_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(no_key(access_key_id));
        }
        Ok(())
    }

    async fn delete_access_key(&self, user_name: &str, access_key_id: &str) -> IamResult<()> {
        let name = self::user_name(&self.pool, user_name).await?;
        let deleted =
            sqlx::query("DELETE FROM iam_access_keys WHERE user_name = ?1 AND access_key_id = ?2")
                .bind(&name)
                .bind(access_key_id)
                .execute(&self.pool)
                .await?
                .rows_affected();
        if deleted == 0 {
            return Err(no_key(access_key_id));
        }
        Ok(())
    }

    async fn create_group(&self, group: IamGroup) -> IamResult<IamGroup> {
        let inserted = sqlx::query(
            "INSERT INTO iam_groups (name, group_id, path, arn, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&group.name)
        .bind(&group.group_id)
        .bind(&group.path)
        .bind(&group.arn)
        .bind(group.created_at.0)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(IamStoreError::AlreadyExists(format!(
                "Group with name {} already exists.",
                group.name
            )));
        }
        Ok(group)
    }

    async fn group(&self, name: &str) -> IamResult<IamGroup> {
        let row = sqlx::query("SELECT * FROM iam_groups WHERE name = ?1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| no_group(name))?;
        group_from_row(&row)
    }

    async fn list_groups(&self, path_prefix: &str) -> IamResult<Vec<IamGroup>> {
        let rows = sqlx::query(
            "SELECT * FROM iam_groups WHERE substr(path, 1, length(?1)) = ?1 ORDER BY name",
        )
        .bind(path_prefix)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(group_from_row).collect()
    }

    async fn delete_group(&self, name: &str) -> IamResult<()> {
        let mut tx = self.begin_iam().await?;
        let name = owner_name(&mut *tx, PolicyOwner::Group(name)).await?;
        for (sql, what) in [
            (
                "SELECT COUNT(*) FROM iam_group_members WHERE group_name = ?1",
                "users from group",
            ),
            (
                "SELECT COUNT(*) FROM iam_inline_policies \
                 WHERE owner_kind = 'group' AND owner_name = ?1",
                "policies",
            ),
            (
                "SELECT COUNT(*) FROM iam_attachments \
                 WHERE owner_kind = 'group' AND owner_name = ?1",
                "attached policies",
            ),
        ] {
            if count(&mut tx, sql, &name).await? > 0 {
                return Err(IamStoreError::DeleteConflict(format!(
                    "Cannot delete entity, must remove {what} first."
                )));
            }
        }
        sqlx::query("DELETE FROM iam_groups WHERE name = ?1")
            .bind(&name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn add_user_to_group(&self, group: &str, user: &str) -> IamResult<()> {
        let mut tx = self.begin_iam().await?;
        let group = owner_name(&mut *tx, PolicyOwner::Group(group)).await?;
        let user = owner_name(&mut *tx, PolicyOwner::User(user)).await?;
        let member: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM iam_group_members WHERE group_name = ?1 AND user_name = ?2",
        )
        .bind(&group)
        .bind(&user)
        .fetch_optional(&mut *tx)
        .await?;
        if member.is_some() {
            return Ok(());
        }
        let groups = count(
            &mut tx,
            "SELECT COUNT(*) FROM iam_group_members WHERE user_name = ?1",
            &user,
        )
        .await?;
        if usize::try_from(groups).unwrap_or(usize::MAX) >= MAX_GROUPS_PER_USER {
            return Err(IamStoreError::LimitExceeded(format!(
                "Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}"
            )));
        }
        sqlx::query("INSERT INTO iam_group_members (group_name, user_name) VALUES (?1, ?2)")
            .bind(&group)
            .bind(&user)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remove_user_from_group(&self, group: &str, user: &str) -> IamResult<()> {
        let group = owner_name(&self.pool, PolicyOwner::Group(group)).await?;
        let user = owner_name(&self.pool, PolicyOwner::User(user)).await?;
        let deleted =
            sqlx::query("DELETE FROM iam_group_members WHERE group_name = ?1 AND user_name = ?2")
                .bind(&group)
                .bind(&user)
                .execute(&self.pool)
                .await?
                .rows_affected();
        if deleted == 0 {
            return Err(IamStoreError::NoSuchEntity(format!(
                "User {user} is not in group {group}."
            )));
        }
        Ok(())
    }

    async fn group_members(&self, group: &str) -> IamResult<Vec<IamUser>> {
        let group = owner_name(&self.pool, PolicyOwner::Group(group)).await?;
        let rows = sqlx::query(
            "SELECT u.* FROM iam_users u JOIN iam_group_members m ON m.user_name = u.name \
             WHERE m.group_name = ?1 ORDER BY u.name",
        )
        .bind(&group)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn groups_for_user(&self, user: &str) -> IamResult<Vec<IamGroup>> {
        let user = owner_name(&self.pool, PolicyOwner::User(user)).await?;
        let rows = sqlx::query(
            "SELECT g.* FROM iam_groups g JOIN iam_group_members m ON m.group_name = g.name \
             WHERE m.user_name = ?1 ORDER BY g.name",
        )
        .bind(&user)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(group_from_row).collect()
    }

    async fn create_role(&self, role: IamRole) -> IamResult<IamRole> {
        let inserted = sqlx::query(
            "INSERT INTO iam_roles (name, role_id, path, arn, assume_role_policy, description, \
             max_session_duration, tags, permissions_boundary, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&role.name)
        .bind(&role.role_id)
        .bind(&role.path)
        .bind(&role.arn)
        .bind(&role.assume_role_policy)
        .bind(&role.description)
        .bind(i64::from(role.max_session_duration))
        .bind(serde_json::to_string(&role.tags)?)
        .bind(&role.permissions_boundary)
        .bind(role.created_at.0)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(IamStoreError::AlreadyExists(format!(
                "Role with name {} already exists.",
                role.name
            )));
        }
        Ok(role)
    }

    async fn role(&self, name: &str) -> IamResult<IamRole> {
        let row = sqlx::query("SELECT * FROM iam_roles WHERE name = ?1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| no_role(name))?;
        role_from_row(&row)
    }

    async fn list_roles(&self, path_prefix: &str) -> IamResult<Vec<IamRole>> {
        let rows = sqlx::query(
            "SELECT * FROM iam_roles WHERE substr(path, 1, length(?1)) = ?1 ORDER BY name",
        )
        .bind(path_prefix)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(role_from_row).collect()
    }

    async fn update_role(&self, name: &str, update: RoleUpdate) -> IamResult<()> {
        let changed = sqlx::query(
            "UPDATE iam_roles SET description = coalesce(?1, description), \
             max_session_duration = coalesce(?2, max_session_duration) WHERE name = ?3",
        )
        .bind(update.description)
        .bind(update.max_session_duration.map(i64::from))
        .bind(name)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(no_role(name));
        }
        Ok(())
    }

    async fn update_assume_role_policy(&self, name: &str, document: &str) -> IamResult<()> {
        let changed = sqlx::query("UPDATE iam_roles SET assume_role_policy = ?1 WHERE name = ?2")
            .bind(document)
            .bind(name)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(no_role(name));
        }
        Ok(())
    }

    async fn delete_role(&self, name: &str) -> IamResult<()> {
        let mut tx = self.begin_iam().await?;
        let name = owner_name(&mut *tx, PolicyOwner::Role(name)).await?;
        for (sql, what) in [
            (
                "SELECT COUNT(*) FROM iam_inline_policies \
                 WHERE owner_kind = 'role' AND owner_name = ?1",
                "policies",
            ),
            (
                "SELECT COUNT(*) FROM iam_attachments WHERE owner_kind = 'role' AND owner_name = ?1",
                "attached policies",
            ),
        ] {
            if count(&mut tx, sql, &name).await? > 0 {
                return Err(IamStoreError::DeleteConflict(format!(
                    "Cannot delete entity, must remove {what} first."
                )));
            }
        }
        sqlx::query("DELETE FROM iam_roles WHERE name = ?1")
            .bind(&name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn tag_entity(&self, entity: Entity<'_>, tags: &Tags) -> IamResult<()> {
        let mut tx = self.begin_iam().await?;
        let (name, mut current) = entity_tags(&mut tx, entity).await?;
        current.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        if current.len() > MAX_TAGS_PER_ENTITY {
            return Err(IamStoreError::LimitExceeded(format!(
                "The number of tags has reached the maximum limit of {MAX_TAGS_PER_ENTITY}."
            )));
        }
        store_tags(&mut tx, entity, &name, &current).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn untag_entity(&self, entity: Entity<'_>, keys: &[String]) -> IamResult<()> {
        let mut tx = self.begin_iam().await?;
        let (name, mut current) = entity_tags(&mut tx, entity).await?;
        for key in keys {
            current.remove(key);
        }
        store_tags(&mut tx, entity, &name, &current).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_permissions_boundary(
        &self,
        entity: Entity<'_>,
        policy_arn: Option<&str>,
    ) -> IamResult<()> {
        let name = owner_name(&self.pool, entity.into()).await?;
        sqlx::query(entity_sql(entity).set_boundary)
            .bind(policy_arn)
            .bind(&name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn boundary_usage_count(&self, policy_arn: &str) -> IamResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM iam_users WHERE permissions_boundary = ?1) + \
             (SELECT COUNT(*) FROM iam_roles WHERE permissions_boundary = ?1)",
        )
        .bind(policy_arn)
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn policy_entities(&self, policy_arn: &str) -> IamResult<Vec<PolicyEntity>> {
        let rows = sqlx::query(
            "SELECT a.owner_kind AS kind, coalesce(u.name, g.name, r.name) AS name, \
             coalesce(u.user_id, g.group_id, r.role_id) AS id FROM iam_attachments a \
             LEFT JOIN iam_users u ON a.owner_kind = 'user' AND u.name = a.owner_name \
             LEFT JOIN iam_groups g ON a.owner_kind = 'group' AND g.name = a.owner_name \
             LEFT JOIN iam_roles r ON a.owner_kind = 'role' AND r.name = a.owner_name \
             WHERE a.policy_arn = ?1 ORDER BY a.owner_kind, a.owner_name",
        )
        .bind(policy_arn)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let kind: String = row.try_get("kind")?;
            let kind = match kind.as_str() {
                "user" => EntityKind::User,
                "group" => EntityKind::Group,
                "role" => EntityKind::Role,
                other => {
                    return Err(IamStoreError::Internal(
                        format!("unreadable attachment owner kind {other:?}").into(),
                    ));
                }
            };
            out.push(PolicyEntity {
                kind,
                name: row.try_get("name")?,
                id: row.try_get("id")?,
            });
        }
        Ok(out)
    }

    async fn put_inline_policy(
        &self,
        owner: PolicyOwner<'_>,
        name: &str,
        document: &str,
    ) -> IamResult<()> {
        let mut tx = self.begin_iam().await?;
        let owner_name = owner_name(&mut *tx, owner).await?;
        sqlx::query(
            "INSERT INTO iam_inline_policies (owner_kind, owner_name, policy_name, document) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (owner_kind, owner_name, policy_name) \
             DO UPDATE SET document = excluded.document",
        )
        .bind(kind(owner))
        .bind(&owner_name)
        .bind(name)
        .bind(document)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn inline_policy(&self, owner: PolicyOwner<'_>, name: &str) -> IamResult<String> {
        let owner_name = owner_name(&self.pool, owner).await?;
        sqlx::query_scalar(
            "SELECT document FROM iam_inline_policies \
             WHERE owner_kind = ?1 AND owner_name = ?2 AND policy_name = ?3",
        )
        .bind(kind(owner))
        .bind(&owner_name)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| no_inline(owner, name))
    }

    async fn list_inline_policies(
        &self,
        owner: PolicyOwner<'_>,
    ) -> IamResult<Vec<(String, String)>> {
        let owner_name = owner_name(&self.pool, owner).await?;
        let rows = sqlx::query(
            "SELECT policy_name, document FROM iam_inline_policies \
             WHERE owner_kind = ?1 AND owner_name = ?2 ORDER BY policy_name",
        )
        .bind(kind(owner))
        .bind(&owner_name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("policy_name")?, r.try_get("document")?)))
            .collect()
    }

    async fn delete_inline_policy(&self, owner: PolicyOwner<'_>, name: &str) -> IamResult<()> {
        let owner_name = owner_name(&self.pool, owner).await?;
        let deleted = sqlx::query(
            "DELETE FROM iam_inline_policies \
             WHERE owner_kind = ?1 AND owner_name = ?2 AND policy_name = ?3",
        )
        .bind(kind(owner))
        .bind(&owner_name)
        .bind(name)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if deleted == 0 {
            return Err(no_inline(owner, name));
        }
        Ok(())
    }

    async fn create_policy(&self, policy: ManagedPolicyRecord) -> IamResult<ManagedPolicyRecord> {
        let mut tx = self.begin_iam().await?;
        let inserted = sqlx::query(
            "INSERT INTO iam_policies (arn, name, policy_id, path, description, default_version, \
             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6) ON CONFLICT DO NOTHING",
        )
        .bind(&policy.arn)
        .bind(&policy.name)
        .bind(&policy.policy_id)
        .bind(&policy.path)
        .bind(&policy.description)
        .bind(policy.created_at.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(IamStoreError::AlreadyExists(format!(
                "A policy called {} already exists. Duplicate names are not allowed.",
                policy.name
            )));
        }
        sqlx::query(
            "INSERT INTO iam_policy_versions (policy_arn, version, document, created_at) \
             VALUES (?1, 1, ?2, ?3)",
        )
        .bind(&policy.arn)
        .bind(&policy.document)
        .bind(policy.created_at.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ManagedPolicyRecord {
            default_version_id: "v1".into(),
            updated_at: policy.created_at,
            ..policy
        })
    }

    async fn create_policy_version(
        &self,
        arn: &str,
        document: &str,
        set_as_default: bool,
        now: Timestamp,
    ) -> IamResult<PolicyVersion> {
        let mut tx = self.begin_iam().await?;
        let (versions, last): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MAX(version) FROM iam_policy_versions WHERE policy_arn = ?1",
        )
        .bind(arn)
        .fetch_one(&mut *tx)
        .await?;
        let Some(last) = last else {
            return Err(no_policy(arn));
        };
        if usize::try_from(versions).unwrap_or(usize::MAX) >= MAX_POLICY_VERSIONS {
            return Err(IamStoreError::LimitExceeded(format!(
                "A managed policy can have up to {MAX_POLICY_VERSIONS} versions. Before you \
                 create a new version, you must delete an existing version."
            )));
        }
        let version = last + 1;
        sqlx::query(
            "INSERT INTO iam_policy_versions (policy_arn, version, document, created_at) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(arn)
        .bind(version)
        .bind(document)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        if set_as_default {
            set_default(&mut tx, arn, version, now).await?;
        }
        tx.commit().await?;
        Ok(PolicyVersion {
            version_id: format!("v{version}"),
            document: document.to_owned(),
            is_default: set_as_default,
            created_at: now,
        })
    }

    async fn policy_version(&self, arn: &str, version_id: &str) -> IamResult<PolicyVersion> {
        self.list_policy_versions(arn)
            .await?
            .into_iter()
            .find(|v| v.version_id == version_id)
            .ok_or_else(|| no_version(arn, version_id))
    }

    async fn list_policy_versions(&self, arn: &str) -> IamResult<Vec<PolicyVersion>> {
        let rows = sqlx::query(
            "SELECT v.version, v.document, v.created_at, p.default_version \
             FROM iam_policy_versions v JOIN iam_policies p ON p.arn = v.policy_arn \
             WHERE v.policy_arn = ?1 ORDER BY v.version DESC",
        )
        .bind(arn)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Err(no_policy(arn));
        }
        rows.iter()
            .map(|r| {
                let version: i64 = r.try_get("version")?;
                let default: i64 = r.try_get("default_version")?;
                Ok(PolicyVersion {
                    version_id: format!("v{version}"),
                    document: r.try_get("document")?,
                    is_default: version == default,
                    created_at: Timestamp(r.try_get("created_at")?),
                })
            })
            .collect()
    }

    async fn delete_policy_version(&self, arn: &str, version_id: &str) -> IamResult<()> {
        let mut tx = self.begin_iam().await?;
        let version = version_number(version_id).ok_or_else(|| no_version(arn, version_id))?;
        let default: i64 =
            sqlx::query_scalar("SELECT default_version FROM iam_policies WHERE arn = ?1")
                .bind(arn)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| no_policy(arn))?;
        if default == version {
            return Err(IamStoreError::DeleteConflict(
                "Cannot delete the default version of a policy.".into(),
            ));
        }
        let deleted =
            sqlx::query("DELETE FROM iam_policy_versions WHERE policy_arn = ?1 AND version = ?2")
                .bind(arn)
                .bind(version)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if deleted == 0 {
            return Err(no_version(arn, version_id));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn set_default_policy_version(
        &self,
        arn: &str,
        version_id: &str,
        now: Timestamp,
    ) -> IamResult<()> {
        let mut tx = self.begin_iam().await?;
        let version = version_number(version_id).ok_or_else(|| no_version(arn, version_id))?;
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM iam_policy_versions WHERE policy_arn = ?1 AND version = ?2",
        )
        .bind(arn)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            return Err(no_version(arn, version_id));
        }
        set_default(&mut tx, arn, version, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn policy(&self, arn: &str) -> IamResult<ManagedPolicyRecord> {
        let sql = concat!(policy_select!(), " WHERE p.arn = ?1");
        let row = sqlx::query(sql)
            .bind(arn)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| no_policy(arn))?;
        policy_from_row(&row)
    }

    async fn list_policies(&self, path_prefix: &str) -> IamResult<Vec<ManagedPolicyRecord>> {
        let sql = concat!(
            policy_select!(),
            " WHERE substr(p.path, 1, length(?1)) = ?1 ORDER BY p.name"
        );
        let rows = sqlx::query(sql)
            .bind(path_prefix)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(policy_from_row).collect()
    }

    async fn attachment_count(&self, arn: &str) -> IamResult<u64> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM iam_attachments WHERE policy_arn = ?1")
                .bind(arn)
                .fetch_one(&self.pool)
                .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn delete_policy(&self, arn: &str) -> IamResult<()> {
        let mut tx = self.begin_iam().await?;
        if count(
            &mut tx,
            "SELECT COUNT(*) FROM iam_attachments WHERE policy_arn = ?1",
            arn,
        )
        .await?
            > 0
        {
            return Err(IamStoreError::DeleteConflict(
                "Cannot delete a policy attached to entities.".into(),
            ));
        }
        let bounded: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM iam_users WHERE permissions_boundary = ?1) + \
             (SELECT COUNT(*) FROM iam_roles WHERE permissions_boundary = ?1)",
        )
        .bind(arn)
        .fetch_one(&mut *tx)
        .await?;
        if bounded > 0 {
            return Err(IamStoreError::DeleteConflict(
                "Cannot delete a policy used as a permissions boundary.".into(),
            ));
        }
        let versions = count(
            &mut tx,
            "SELECT COUNT(*) FROM iam_policy_versions WHERE policy_arn = ?1",
            arn,
        )
        .await?;
        if versions > 1 {
            return Err(IamStoreError::DeleteConflict(
                "This policy has more than one version. Before you delete a policy, you must \
                 delete the policy's versions. The default version is deleted with the policy."
                    .into(),
            ));
        }
        let deleted = sqlx::query("DELETE FROM iam_policies WHERE arn = ?1")
            .bind(arn)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Err(no_policy(arn));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn attach_policy(&self, owner: PolicyOwner<'_>, policy_arn: &str) -> IamResult<()> {
        let mut tx = self.begin_iam().await?;
        let name = owner_name(&mut *tx, owner).await?;
        let attached: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM iam_attachments \
             WHERE owner_kind = ?1 AND owner_name = ?2 AND policy_arn = ?3",
        )
        .bind(kind(owner))
        .bind(&name)
        .bind(policy_arn)
        .fetch_optional(&mut *tx)
        .await?;
        if attached.is_some() {
            return Ok(());
        }
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM iam_attachments WHERE owner_kind = ?1 AND owner_name = ?2",
        )
        .bind(kind(owner))
        .bind(&name)
        .fetch_one(&mut *tx)
        .await?;
        if usize::try_from(n).unwrap_or(usize::MAX) >= MAX_ATTACHED_POLICIES {
            return Err(IamStoreError::LimitExceeded(format!(
                "Cannot exceed quota for PoliciesPer{}: {MAX_ATTACHED_POLICIES}",
                match owner {
                    PolicyOwner::User(_) => "User",
                    PolicyOwner::Group(_) => "Group",
                    PolicyOwner::Role(_) => "Role",
                }
            )));
        }
        sqlx::query(
            "INSERT INTO iam_attachments (owner_kind, owner_name, policy_arn) VALUES (?1, ?2, ?3)",
        )
        .bind(kind(owner))
        .bind(&name)
        .bind(policy_arn)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn detach_policy(&self, owner: PolicyOwner<'_>, policy_arn: &str) -> IamResult<()> {
        let name = owner_name(&self.pool, owner).await?;
        let deleted = sqlx::query(
            "DELETE FROM iam_attachments \
             WHERE owner_kind = ?1 AND owner_name = ?2 AND policy_arn = ?3",
        )
        .bind(kind(owner))
        .bind(&name)
        .bind(policy_arn)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if deleted == 0 {
            return Err(IamStoreError::NoSuchEntity(format!(
                "Policy {policy_arn} was not found."
            )));
        }
        Ok(())
    }

    async fn attached_policies(&self, owner: PolicyOwner<'_>) -> IamResult<Vec<String>> {
        let name = owner_name(&self.pool, owner).await?;
        Ok(sqlx::query_scalar(
            "SELECT policy_arn FROM iam_attachments WHERE owner_kind = ?1 AND owner_name = ?2 \
             ORDER BY policy_arn",
        )
        .bind(kind(owner))
        .bind(&name)
        .fetch_all(&self.pool)
        .await?)
    }
}

fn no_key(access_key_id: &str) -> IamStoreError {
    IamStoreError::NoSuchEntity(format!(
        "The Access Key with id {access_key_id} cannot be found."
    ))
}

fn no_inline(owner: PolicyOwner<'_>, name: &str) -> IamStoreError {
    IamStoreError::NoSuchEntity(format!(
        "The {} policy with name {name} cannot be found.",
        kind(owner)
    ))
}

fn no_group(name: &str) -> IamStoreError {
    IamStoreError::NoSuchEntity(format!("The group with name {name} cannot be found."))
}

/// Returns the `owner_kind` column value of an owner.
fn kind(owner: PolicyOwner<'_>) -> &'static str {
    match owner {
        PolicyOwner::User(_) => "user",
        PolicyOwner::Group(_) => "group",
        PolicyOwner::Role(_) => "role",
    }
}

fn group_from_row(row: &SqliteRow) -> IamResult<IamGroup> {
    Ok(IamGroup {
        name: row.try_get("name")?,
        group_id: row.try_get("group_id")?,
        path: row.try_get("path")?,
        arn: row.try_get("arn")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

fn no_version(arn: &str, version_id: &str) -> IamStoreError {
    IamStoreError::NoSuchEntity(format!(
        "Policy {arn} version {version_id} does not exist or is not attachable."
    ))
}

fn no_policy(arn: &str) -> IamStoreError {
    IamStoreError::NoSuchEntity(format!("Policy {arn} was not found."))
}

#[cfg(test)]
mod tests {
    use super::SqliteStore;
    use crate::iam_testsuite::IamHarness;

    async fn make() -> IamHarness {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("m.db")).await.unwrap();
        IamHarness {
            store: std::sync::Arc::new(store),
            keep: Box::new(dir),
        }
    }

    crate::iam_store_conformance!(make);
}
