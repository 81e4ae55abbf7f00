//! [`MetadataStore`] on an embedded SQLite database (sqlx, WAL mode).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

use crate::error::{ResourceType, StoreError, StoreResult};
use crate::model::{
    AlertManagerDefinition, AnomalyDetector, AnomalyDetectorSpec, ClientToken,
    LoggingConfiguration, LoggingKind, NO_POLICY, NewAnomalyDetector, NewRuleGroupsNamespace,
    NewScraper, NewWorkspace, Page, PageRequest, ResourcePolicy, ResourceRef, RuleGroupsNamespace,
    Scraper, ScraperFilter, ScraperLoggingConfiguration, ScraperSpec, Status, Tags, Timestamp,
    Workspace, WorkspaceConfiguration, WorkspaceConfigurationUpdate,
};
use crate::store::MetadataStore;

mod data_keys;
mod iam;
mod oidc;

type Tx = Transaction<'static, Sqlite>;

/// How long idempotency records are kept.
const TOKEN_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// Metadata store on one SQLite file; safe to share between tasks (it wraps a pool).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, enables WAL and applies migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }

    /// Starts a write transaction; `IMMEDIATE` takes the write lock up front so concurrent
    /// writers queue on the busy timeout instead of failing when a read upgrades to a write.
    async fn begin(&self) -> StoreResult<Tx> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Like `begin`, for the IAM tables.
    async fn begin_iam(&self) -> Result<Tx, crate::iam::IamStoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

enum Claim {
    Fresh,
    Replay(String),
}

/// Records `token` for `scope`, or reports the outcome of the earlier request that used it.
async fn claim(
    tx: &mut Tx,
    scope: &str,
    token: Option<&ClientToken>,
    resource_type: ResourceType,
    resource_id: &str,
    now: Timestamp,
) -> StoreResult<Claim> {
    let Some(token) = token else {
        return Ok(Claim::Fresh);
    };
    let inserted = sqlx::query(
        "INSERT INTO client_tokens (scope, token, fingerprint, resource_id, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (scope, token) DO NOTHING",
    )
    .bind(scope)
    .bind(&token.token)
    .bind(&token.fingerprint)
    .bind(resource_id)
    .bind(now.0)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let row = sqlx::query(
        "SELECT fingerprint, resource_id FROM client_tokens WHERE scope = ?1 AND token = ?2",
    )
    .bind(scope)
    .bind(&token.token)
    .fetch_one(&mut **tx)
    .await?;
    let fingerprint: String = row.try_get("fingerprint")?;
    if fingerprint != token.fingerprint {
        return Err(StoreError::conflict(
            resource_type,
            resource_id,
            format!(
                "clientToken {} was already used with different parameters",
                token.token
            ),
        ));
    }
    Ok(Claim::Replay(row.try_get("resource_id")?))
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Internal(format!("unreadable {what} in metadata store: {value:?}").into())
}

fn status_col(row: &SqliteRow, col: &str) -> StoreResult<Status> {
    let s: String = row.try_get(col)?;
    Status::parse(&s).ok_or_else(|| corrupt("status", &s))
}

fn tags_col(row: &SqliteRow) -> StoreResult<Tags> {
    let s: String = row.try_get("tags")?;
    Ok(serde_json::from_str(&s)?)
}

fn json_col(row: &SqliteRow, col: &str) -> StoreResult<serde_json::Value> {
    let s: String = row.try_get(col)?;
    Ok(serde_json::from_str(&s)?)
}

fn ts(row: &SqliteRow, col: &str) -> StoreResult<Timestamp> {
    Ok(Timestamp(row.try_get(col)?))
}

fn workspace_from_row(row: &SqliteRow) -> StoreResult<Workspace> {
    let config: String = row.try_get("config")?;
    let mut configuration: WorkspaceConfiguration = serde_json::from_str(&config)?;
    configuration.status = status_col(row, "config_status")?;
    Ok(Workspace {
        id: row.try_get("id")?,
        alias: row.try_get("alias")?,
        kms_key_arn: row.try_get("kms_key_arn")?,
        status: status_col(row, "status")?,
        tags: tags_col(row)?,
        created_at: ts(row, "created_at")?,
        configuration,
    })
}

fn rgn_from_row(row: &SqliteRow) -> StoreResult<RuleGroupsNamespace> {
    Ok(RuleGroupsNamespace {
        workspace_id: row.try_get("workspace_id")?,
        name: row.try_get("name")?,
        data: row.try_get("data")?,
        status: status_col(row, "status")?,
        tags: tags_col(row)?,
        created_at: ts(row, "created_at")?,
        modified_at: ts(row, "modified_at")?,
    })
}

fn amd_from_row(row: &SqliteRow) -> StoreResult<AlertManagerDefinition> {
    Ok(AlertManagerDefinition {
        workspace_id: row.try_get("workspace_id")?,
        data: row.try_get("data")?,
        status: status_col(row, "status")?,
        created_at: ts(row, "created_at")?,
        modified_at: ts(row, "modified_at")?,
    })
}

fn logging_from_row(row: &SqliteRow, kind: LoggingKind) -> StoreResult<LoggingConfiguration> {
    Ok(LoggingConfiguration {
        workspace_id: row.try_get("workspace_id")?,
        kind,
        document: json_col(row, "document")?,
        status: status_col(row, "status")?,
        created_at: ts(row, "created_at")?,
        modified_at: ts(row, "modified_at")?,
    })
}

fn policy_from_row(row: &SqliteRow) -> StoreResult<ResourcePolicy> {
    Ok(ResourcePolicy {
        workspace_id: row.try_get("workspace_id")?,
        document: row.try_get("document")?,
        revision_id: row.try_get("revision_id")?,
        status: status_col(row, "status")?,
    })
}

fn scraper_from_row(row: &SqliteRow) -> StoreResult<Scraper> {
    Ok(Scraper {
        id: row.try_get("id")?,
        spec: ScraperSpec {
            alias: row.try_get("alias")?,
            source_arn: row.try_get("source_arn")?,
            destination_arn: row.try_get("destination_arn")?,
            role_arn: row.try_get("role_arn")?,
            document: json_col(row, "spec")?,
        },
        tags: tags_col(row)?,
        status: status_col(row, "status")?,
        status_reason: row.try_get("status_reason")?,
        created_at: ts(row, "created_at")?,
        modified_at: ts(row, "modified_at")?,
    })
}

fn ad_from_row(row: &SqliteRow) -> StoreResult<AnomalyDetector> {
    Ok(AnomalyDetector {
        workspace_id: row.try_get("workspace_id")?,
        id: row.try_get("id")?,
        spec: AnomalyDetectorSpec {
            alias: row.try_get("alias")?,
            document: json_col(row, "spec")?,
        },
        tags: tags_col(row)?,
        status: status_col(row, "status")?,
        created_at: ts(row, "created_at")?,
        modified_at: ts(row, "modified_at")?,
    })
}

/// Position after an item ordered by (created_at, id).
fn time_cursor(created_at: Timestamp, id: &str) -> String {
    format!("{}:{id}", created_at.0)
}

fn parse_time_cursor(after: Option<&str>) -> StoreResult<(i64, String)> {
    match after {
        None => Ok((i64::MIN, String::new())),
        Some(c) => {
            let (t, id) = c
                .split_once(':')
                .ok_or_else(|| corrupt("page position", c))?;
            let t = i64::from_str(t).map_err(|_| corrupt("page position", c))?;
            Ok((t, id.to_owned()))
        }
    }
}

/// Cuts `limit + 1` fetched items into a page and the position after its last item.
fn paginate<T>(mut items: Vec<T>, limit: u32, cursor: impl Fn(&T) -> String) -> Page<T> {
    let limit = limit.max(1) as usize;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(cursor)
    } else {
        None
    };
    Page { items, next }
}

async fn fetch_workspace(tx: &mut Tx, id: &str) -> StoreResult<Workspace> {
    let row = sqlx::query("SELECT * FROM workspaces WHERE id = ?1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found(ResourceType::Workspace, id))?;
    workspace_from_row(&row)
}

/// Fails unless the workspace exists and can take changes to what it owns.
async fn writable_workspace(tx: &mut Tx, id: &str) -> StoreResult<Workspace> {
    let ws = fetch_workspace(tx, id).await?;
    match ws.status {
        Status::Active | Status::Updating => Ok(ws),
        other => Err(StoreError::conflict(
            ResourceType::Workspace,
            id,
            format!("Workspace {id} is {} and cannot be changed", other.as_str()),
        )),
    }
}

fn must_be_settled(
    status: Status,
    resource_type: ResourceType,
    resource_id: &str,
) -> StoreResult<()> {
    if status.is_transitional() {
        return Err(StoreError::conflict(
            resource_type,
            resource_id,
            format!(
                "{resource_type} {resource_id} is {} and cannot be changed now",
                status.as_str()
            ),
        ));
    }
    Ok(())
}

async fn fetch_rgn(tx: &mut Tx, ws: &str, name: &str) -> StoreResult<RuleGroupsNamespace> {
    let row =
        sqlx::query("SELECT * FROM rule_groups_namespaces WHERE workspace_id = ?1 AND name = ?2")
            .bind(ws)
            .bind(name)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::not_found(ResourceType::RuleGroupsNamespace, name))?;
    rgn_from_row(&row)
}

async fn fetch_amd(tx: &mut Tx, ws: &str) -> StoreResult<AlertManagerDefinition> {
    let row = sqlx::query("SELECT * FROM alert_manager_definitions WHERE workspace_id = ?1")
        .bind(ws)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found(ResourceType::AlertManagerDefinition, ws))?;
    amd_from_row(&row)
}

async fn fetch_logging(
    tx: &mut Tx,
    ws: &str,
    kind: LoggingKind,
) -> StoreResult<LoggingConfiguration> {
    let row =
        sqlx::query("SELECT * FROM logging_configurations WHERE workspace_id = ?1 AND kind = ?2")
            .bind(ws)
            .bind(kind.as_str())
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::not_found(kind.resource_type(), ws))?;
    logging_from_row(&row, kind)
}

async fn fetch_policy(tx: &mut Tx, ws: &str) -> StoreResult<Option<ResourcePolicy>> {
    let row = sqlx::query("SELECT * FROM resource_policies WHERE workspace_id = ?1")
        .bind(ws)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(policy_from_row).transpose()
}

async fn fetch_scraper(tx: &mut Tx, id: &str) -> StoreResult<Scraper> {
    let row = sqlx::query("SELECT * FROM scrapers WHERE id = ?1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found(ResourceType::Scraper, id))?;
    scraper_from_row(&row)
}

async fn fetch_scraper_logging(tx: &mut Tx, id: &str) -> StoreResult<ScraperLoggingConfiguration> {
    let row = sqlx::query("SELECT * FROM scraper_logging_configurations WHERE scraper_id = ?1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found(ResourceType::ScraperLoggingConfiguration, id))?;
    Ok(ScraperLoggingConfiguration {
        scraper_id: row.try_get("scraper_id")?,
        document: json_col(&row, "document")?,
        status: status_col(&row, "status")?,
        modified_at: ts(&row, "modified_at")?,
    })
}

async fn fetch_ad(tx: &mut Tx, ws: &str, id: &str) -> StoreResult<Option<AnomalyDetector>> {
    let row = sqlx::query("SELECT * FROM anomaly_detectors WHERE workspace_id = ?1 AND id = ?2")
        .bind(ws)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(ad_from_row).transpose()
}

fn new_revision() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn check_revision(
    current: Option<&ResourcePolicy>,
    expected: Option<&str>,
    ws: &str,
) -> StoreResult<()> {
    let ok = match (expected, current) {
        (None, _) => true,
        (Some(NO_POLICY), None) => true,
        (Some(_), None) => false,
        (Some(e), Some(p)) => e == p.revision_id,
    };
    if ok {
        Ok(())
    } else {
        Err(StoreError::conflict(
            ResourceType::ResourcePolicy,
            ws,
            format!(
                "revisionId {} does not match the current revision of the resource policy",
                expected.unwrap_or_default()
            ),
        ))
    }
}

/// Statements that complete CREATING/UPDATING transitions; `?1` = now, `?2` = cutoff.
const ACTIVATE: &[&str] = &[
    "UPDATE workspaces SET status = 'ACTIVE', status_at = ?1 \
     WHERE status IN ('CREATING', 'UPDATING') AND status_at <= ?2",
    "UPDATE workspaces SET config_status = 'ACTIVE', config_status_at = ?1 \
     WHERE config_status = 'UPDATING' AND config_status_at <= ?2",
    "UPDATE rule_groups_namespaces SET status = 'ACTIVE', status_at = ?1 \
     WHERE status IN ('CREATING', 'UPDATING') AND status_at <= ?2",
    "UPDATE alert_manager_definitions SET status = 'ACTIVE', status_at = ?1 \
     WHERE status IN ('CREATING', 'UPDATING') AND status_at <= ?2",
    "UPDATE logging_configurations SET status = 'ACTIVE', status_at = ?1 \
     WHERE status IN ('CREATING', 'UPDATING') AND status_at <= ?2",
    "UPDATE resource_policies SET status = 'ACTIVE', status_at = ?1 \
     WHERE status IN ('CREATING', 'UPDATING') AND status_at <= ?2",
    "UPDATE scrapers SET status = 'ACTIVE', status_at = ?1 \
     WHERE status IN ('CREATING', 'UPDATING') AND status_at <= ?2",
    "UPDATE scraper_logging_configurations SET status = 'ACTIVE', status_at = ?1 \
     WHERE status IN ('CREATING', 'UPDATING') AND status_at <= ?2",
    "UPDATE anomaly_detectors SET status = 'ACTIVE', status_at = ?1 \
     WHERE status IN ('CREATING', 'UPDATING') AND status_at <= ?2",
];

/// Statements that finish deletions; `?1` = cutoff. Children go with their workspace through
/// `ON DELETE CASCADE`.
const REMOVE: &[&str] = &[
    "DELETE FROM workspaces WHERE status = 'DELETING' AND status_at <= ?1",
    "DELETE FROM rule_groups_namespaces WHERE status = 'DELETING' AND status_at <= ?1",
    "DELETE FROM alert_manager_definitions WHERE status = 'DELETING' AND status_at <= ?1",
    "DELETE FROM logging_configurations WHERE status = 'DELETING' AND status_at <= ?1",
    "DELETE FROM resource_policies WHERE status = 'DELETING' AND status_at <= ?1",
    "DELETE FROM scrapers WHERE status = 'DELETING' AND status_at <= ?1",
    "DELETE FROM scraper_logging_configurations WHERE status = 'DELETING' AND status_at <= ?1",
    "DELETE FROM anomaly_detectors WHERE status = 'DELETING' AND status_at <= ?1",
];

#[async_trait]
impl MetadataStore for SqliteStore {
    async fn create_workspace(
        &self,
        new: NewWorkspace,
        token: Option<&ClientToken>,
        max_workspaces: u32,
    ) -> StoreResult<Workspace> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        if let Claim::Replay(id) = claim(
            &mut tx,
            "CreateWorkspace",
            token,
            ResourceType::Workspace,
            &new.id,
            now,
        )
        .await?
        {
            let ws = fetch_workspace(&mut tx, &id).await?;
            tx.commit().await?;
            return Ok(ws);
        }
        let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM workspaces")
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if count >= i64::from(max_workspaces) {
            return Err(StoreError::QuotaExceeded {
                message: format!(
                    "Workspace quota of {max_workspaces} per account and region reached"
                ),
                resource_type: ResourceType::Workspace,
                resource_id: new.id,
            });
        }
        let config = serde_json::to_string(&WorkspaceConfiguration::default())?;
        sqlx::query(
            "INSERT INTO workspaces (id, alias, kms_key_arn, status, status_at, tags, created_at, \
             config, config_status, config_status_at) \
             VALUES (?1, ?2, ?3, 'CREATING', ?4, ?5, ?4, ?6, 'ACTIVE', ?4)",
        )
        .bind(&new.id)
        .bind(&new.alias)
        .bind(&new.kms_key_arn)
        .bind(now.0)
        .bind(serde_json::to_string(&new.tags)?)
        .bind(config)
        .execute(&mut *tx)
        .await?;
        let ws = fetch_workspace(&mut tx, &new.id).await?;
        tx.commit().await?;
        Ok(ws)
    }

    async fn workspace(&self, id: &str) -> StoreResult<Workspace> {
        let mut tx = self.pool.begin().await?;
        fetch_workspace(&mut tx, id).await
    }

    async fn list_workspaces(
        &self,
        alias_prefix: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<Page<Workspace>> {
        let (t, id) = parse_time_cursor(page.after.as_deref())?;
        let rows = sqlx::query(
            "SELECT * FROM workspaces \
             WHERE (?1 IS NULL OR substr(alias, 1, length(?1)) = ?1) \
               AND (created_at > ?2 OR (created_at = ?2 AND id > ?3)) \
             ORDER BY created_at, id LIMIT ?4",
        )
        .bind(alias_prefix)
        .bind(t)
        .bind(id)
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .iter()
            .map(workspace_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paginate(items, page.limit, |w| {
            time_cursor(w.created_at, &w.id)
        }))
    }

    async fn update_workspace_alias(
        &self,
        id: &str,
        alias: Option<String>,
        token: Option<&ClientToken>,
    ) -> StoreResult<()> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("UpdateWorkspaceAlias/{id}");
        if let Claim::Replay(_) =
            claim(&mut tx, &scope, token, ResourceType::Workspace, id, now).await?
        {
            tx.commit().await?;
            return Ok(());
        }
        let ws = fetch_workspace(&mut tx, id).await?;
        must_be_settled(ws.status, ResourceType::Workspace, id)?;
        if ws.status != Status::Active {
            return Err(StoreError::conflict(
                ResourceType::Workspace,
                id,
                format!("Workspace {id} is {}", ws.status.as_str()),
            ));
        }
        sqlx::query(
            "UPDATE workspaces SET alias = ?2, status = 'UPDATING', status_at = ?3 WHERE id = ?1",
        )
        .bind(id)
        .bind(alias)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_workspace(&self, id: &str, token: Option<&ClientToken>) -> StoreResult<()> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("DeleteWorkspace/{id}");
        if let Claim::Replay(_) =
            claim(&mut tx, &scope, token, ResourceType::Workspace, id, now).await?
        {
            tx.commit().await?;
            return Ok(());
        }
        let ws = fetch_workspace(&mut tx, id).await?;
        if matches!(ws.status, Status::Creating | Status::Deleting) {
            return Err(StoreError::conflict(
                ResourceType::Workspace,
                id,
                format!(
                    "Workspace {id} is {} and cannot be deleted now",
                    ws.status.as_str()
                ),
            ));
        }
        sqlx::query("UPDATE workspaces SET status = 'DELETING', status_at = ?2 WHERE id = ?1")
            .bind(id)
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        // Crypto-shredding: the data key goes with the request, not when the row is removed.
        sqlx::query("DELETE FROM workspace_data_keys WHERE workspace_id = ?1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_workspace_configuration(
        &self,
        id: &str,
        update: WorkspaceConfigurationUpdate,
        token: Option<&ClientToken>,
    ) -> StoreResult<WorkspaceConfiguration> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("UpdateWorkspaceConfiguration/{id}");
        let replay = matches!(
            claim(
                &mut tx,
                &scope,
                token,
                ResourceType::WorkspaceConfiguration,
                id,
                now
            )
            .await?,
            Claim::Replay(_)
        );
        let ws = if replay {
            fetch_workspace(&mut tx, id).await?
        } else {
            writable_workspace(&mut tx, id).await?
        };
        if replay {
            tx.commit().await?;
            return Ok(ws.configuration);
        }
        must_be_settled(
            ws.configuration.status,
            ResourceType::WorkspaceConfiguration,
            id,
        )?;
        let mut config = ws.configuration;
        if let Some(v) = update.retention_period_in_days {
            config.retention_period_in_days = v;
        }
        if let Some(v) = update.out_of_order_time_window_in_seconds {
            config.out_of_order_time_window_in_seconds = Some(v);
        }
        if let Some(v) = update.rule_query_offset_in_seconds {
            config.rule_query_offset_in_seconds = Some(v);
        }
        if let Some(v) = update.limits_per_label_set {
            config.limits_per_label_set = v;
        }
        config.status = Status::Updating;
        sqlx::query(
            "UPDATE workspaces SET config = ?2, config_status = 'UPDATING', config_status_at = ?3 \
             WHERE id = ?1",
        )
        .bind(id)
        .bind(serde_json::to_string(&config)?)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(config)
    }

    async fn tags(&self, resource: &ResourceRef) -> StoreResult<Tags> {
        let mut tx = self.pool.begin().await?;
        read_tags(&mut tx, resource).await
    }

    async fn tag_resource(
        &self,
        resource: &ResourceRef,
        tags: Tags,
        max_tags: usize,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let mut current = read_tags(&mut tx, resource).await?;
        current.extend(tags);
        if current.len() > max_tags {
            return Err(StoreError::LimitExceeded {
                message: format!(
                    "{} {} would have {} tags; at most {max_tags} are allowed",
                    resource.resource_type(),
                    resource.display_id(),
                    current.len()
                ),
            });
        }
        write_tags(&mut tx, resource, &current).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn untag_resource(&self, resource: &ResourceRef, keys: &[String]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let mut current = read_tags(&mut tx, resource).await?;
        for k in keys {
            current.remove(k);
        }
        write_tags(&mut tx, resource, &current).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_rule_groups_namespace(
        &self,
        new: NewRuleGroupsNamespace,
        token: Option<&ClientToken>,
    ) -> StoreResult<RuleGroupsNamespace> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("CreateRuleGroupsNamespace/{}", new.workspace_id);
        let ty = ResourceType::RuleGroupsNamespace;
        if let Claim::Replay(name) = claim(&mut tx, &scope, token, ty, &new.name, now).await? {
            let rgn = fetch_rgn(&mut tx, &new.workspace_id, &name).await?;
            tx.commit().await?;
            return Ok(rgn);
        }
        writable_workspace(&mut tx, &new.workspace_id).await?;
        match fetch_rgn(&mut tx, &new.workspace_id, &new.name).await {
            Ok(_) => {
                return Err(StoreError::conflict(
                    ty,
                    &new.name,
                    format!("Rule groups namespace {} already exists", new.name),
                ));
            }
            Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        sqlx::query(
            "INSERT INTO rule_groups_namespaces \
             (workspace_id, name, data, status, status_at, tags, created_at, modified_at) \
             VALUES (?1, ?2, ?3, 'CREATING', ?4, ?5, ?4, ?4)",
        )
        .bind(&new.workspace_id)
        .bind(&new.name)
        .bind(&new.data)
        .bind(now.0)
        .bind(serde_json::to_string(&new.tags)?)
        .execute(&mut *tx)
        .await?;
        let rgn = fetch_rgn(&mut tx, &new.workspace_id, &new.name).await?;
        tx.commit().await?;
        Ok(rgn)
    }

    async fn put_rule_groups_namespace(
        &self,
        workspace_id: &str,
        name: &str,
        data: Vec<u8>,
        token: Option<&ClientToken>,
    ) -> StoreResult<RuleGroupsNamespace> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("PutRuleGroupsNamespace/{workspace_id}/{name}");
        let ty = ResourceType::RuleGroupsNamespace;
        if let Claim::Replay(_) = claim(&mut tx, &scope, token, ty, name, now).await? {
            let rgn = fetch_rgn(&mut tx, workspace_id, name).await?;
            tx.commit().await?;
            return Ok(rgn);
        }
        writable_workspace(&mut tx, workspace_id).await?;
        let current = fetch_rgn(&mut tx, workspace_id, name).await?;
        must_be_settled(current.status, ty, name)?;
        sqlx::query(
            "UPDATE rule_groups_namespaces SET data = ?3, status = 'UPDATING', status_at = ?4, \
             modified_at = ?4 WHERE workspace_id = ?1 AND name = ?2",
        )
        .bind(workspace_id)
        .bind(name)
        .bind(&data)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        let rgn = fetch_rgn(&mut tx, workspace_id, name).await?;
        tx.commit().await?;
        Ok(rgn)
    }

    async fn rule_groups_namespace(
        &self,
        workspace_id: &str,
        name: &str,
    ) -> StoreResult<RuleGroupsNamespace> {
        let mut tx = self.pool.begin().await?;
        fetch_workspace(&mut tx, workspace_id).await?;
        fetch_rgn(&mut tx, workspace_id, name).await
    }

    async fn list_rule_groups_namespaces(
        &self,
        workspace_id: &str,
        name_prefix: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<Page<RuleGroupsNamespace>> {
        let mut tx = self.pool.begin().await?;
        fetch_workspace(&mut tx, workspace_id).await?;
        let rows = sqlx::query(
            "SELECT * FROM rule_groups_namespaces \
             WHERE workspace_id = ?1 AND (?2 IS NULL OR substr(name, 1, length(?2)) = ?2) \
               AND name > ?3 ORDER BY name LIMIT ?4",
        )
        .bind(workspace_id)
        .bind(name_prefix)
        .bind(page.after.clone().unwrap_or_default())
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&mut *tx)
        .await?;
        let items = rows
            .iter()
            .map(rgn_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paginate(items, page.limit, |r| r.name.clone()))
    }

    async fn delete_rule_groups_namespace(
        &self,
        workspace_id: &str,
        name: &str,
        token: Option<&ClientToken>,
    ) -> StoreResult<()> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("DeleteRuleGroupsNamespace/{workspace_id}/{name}");
        let ty = ResourceType::RuleGroupsNamespace;
        if let Claim::Replay(_) = claim(&mut tx, &scope, token, ty, name, now).await? {
            tx.commit().await?;
            return Ok(());
        }
        fetch_workspace(&mut tx, workspace_id).await?;
        let current = fetch_rgn(&mut tx, workspace_id, name).await?;
        must_be_settled(current.status, ty, name)?;
        sqlx::query(
            "UPDATE rule_groups_namespaces SET status = 'DELETING', status_at = ?3 \
             WHERE workspace_id = ?1 AND name = ?2",
        )
        .bind(workspace_id)
        .bind(name)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_alert_manager_definition(
        &self,
        workspace_id: &str,
        data: Vec<u8>,
        token: Option<&ClientToken>,
    ) -> StoreResult<AlertManagerDefinition> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("CreateAlertManagerDefinition/{workspace_id}");
        let ty = ResourceType::AlertManagerDefinition;
        if let Claim::Replay(_) = claim(&mut tx, &scope, token, ty, workspace_id, now).await? {
            let amd = fetch_amd(&mut tx, workspace_id).await?;
            tx.commit().await?;
            return Ok(amd);
        }
        writable_workspace(&mut tx, workspace_id).await?;
        if fetch_amd(&mut tx, workspace_id).await.is_ok() {
            return Err(StoreError::conflict(
                ty,
                workspace_id,
                format!("Workspace {workspace_id} already has an alert manager definition"),
            ));
        }
        sqlx::query(
            "INSERT INTO alert_manager_definitions \
             (workspace_id, data, status, status_at, created_at, modified_at) \
             VALUES (?1, ?2, 'CREATING', ?3, ?3, ?3)",
        )
        .bind(workspace_id)
        .bind(&data)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        let amd = fetch_amd(&mut tx, workspace_id).await?;
        tx.commit().await?;
        Ok(amd)
    }

    async fn put_alert_manager_definition(
        &self,
        workspace_id: &str,
        data: Vec<u8>,
        token: Option<&ClientToken>,
    ) -> StoreResult<AlertManagerDefinition> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("PutAlertManagerDefinition/{workspace_id}");
        let ty = ResourceType::AlertManagerDefinition;
        if let Claim::Replay(_) = claim(&mut tx, &scope, token, ty, workspace_id, now).await? {
            let amd = fetch_amd(&mut tx, workspace_id).await?;
            tx.commit().await?;
            return Ok(amd);
        }
        writable_workspace(&mut tx, workspace_id).await?;
        let current = fetch_amd(&mut tx, workspace_id).await?;
        must_be_settled(current.status, ty, workspace_id)?;
        sqlx::query(
            "UPDATE alert_manager_definitions SET data = ?2, status = 'UPDATING', status_at = ?3, \
             modified_at = ?3 WHERE workspace_id = ?1",
        )
        .bind(workspace_id)
        .bind(&data)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        let amd = fetch_amd(&mut tx, workspace_id).await?;
        tx.commit().await?;
        Ok(amd)
    }

    async fn alert_manager_definition(
        &self,
        workspace_id: &str,
    ) -> StoreResult<AlertManagerDefinition> {
        let mut tx = self.pool.begin().await?;
        fetch_workspace(&mut tx, workspace_id).await?;
        fetch_amd(&mut tx, workspace_id).await
    }

    async fn delete_alert_manager_definition(
        &self,
        workspace_id: &str,
        token: Option<&ClientToken>,
    ) -> StoreResult<()> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("DeleteAlertManagerDefinition/{workspace_id}");
        let ty = ResourceType::AlertManagerDefinition;
        if let Claim::Replay(_) = claim(&mut tx, &scope, token, ty, workspace_id, now).await? {
            tx.commit().await?;
            return Ok(());
        }
        fetch_workspace(&mut tx, workspace_id).await?;
        let current = fetch_amd(&mut tx, workspace_id).await?;
        must_be_settled(current.status, ty, workspace_id)?;
        sqlx::query(
            "UPDATE alert_manager_definitions SET status = 'DELETING', status_at = ?2 \
             WHERE workspace_id = ?1",
        )
        .bind(workspace_id)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_logging_configuration(
        &self,
        workspace_id: &str,
        kind: LoggingKind,
        document: serde_json::Value,
        token: Option<&ClientToken>,
    ) -> StoreResult<LoggingConfiguration> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!(
            "CreateLoggingConfiguration/{}/{workspace_id}",
            kind.as_str()
        );
        let ty = kind.resource_type();
        if let Claim::Replay(_) = claim(&mut tx, &scope, token, ty, workspace_id, now).await? {
            let c = fetch_logging(&mut tx, workspace_id, kind).await?;
            tx.commit().await?;
            return Ok(c);
        }
        writable_workspace(&mut tx, workspace_id).await?;
        if fetch_logging(&mut tx, workspace_id, kind).await.is_ok() {
            return Err(StoreError::conflict(
                ty,
                workspace_id,
                format!(
                    "Workspace {workspace_id} already has a {}",
                    ty.display_name()
                ),
            ));
        }
        sqlx::query(
            "INSERT INTO logging_configurations \
             (workspace_id, kind, document, status, status_at, created_at, modified_at) \
             VALUES (?1, ?2, ?3, 'CREATING', ?4, ?4, ?4)",
        )
        .bind(workspace_id)
        .bind(kind.as_str())
        .bind(serde_json::to_string(&document)?)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        let c = fetch_logging(&mut tx, workspace_id, kind).await?;
        tx.commit().await?;
        Ok(c)
    }

    async fn update_logging_configuration(
        &self,
        workspace_id: &str,
        kind: LoggingKind,
        document: serde_json::Value,
        token: Option<&ClientToken>,
    ) -> StoreResult<LoggingConfiguration> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!(
            "UpdateLoggingConfiguration/{}/{workspace_id}",
            kind.as_str()
        );
        let ty = kind.resource_type();
        if let Claim::Replay(_) = claim(&mut tx, &scope, token, ty, workspace_id, now).await? {
            let c = fetch_logging(&mut tx, workspace_id, kind).await?;
            tx.commit().await?;
            return Ok(c);
        }
        writable_workspace(&mut tx, workspace_id).await?;
        let current = fetch_logging(&mut tx, workspace_id, kind).await?;
        must_be_settled(current.status, ty, workspace_id)?;
        sqlx::query(
            "UPDATE logging_configurations SET document = ?3, status = 'UPDATING', \
             status_at = ?4, modified_at = ?4 WHERE workspace_id = ?1 AND kind = ?2",
        )
        .bind(workspace_id)
        .bind(kind.as_str())
        .bind(serde_json::to_string(&document)?)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        let c = fetch_logging(&mut tx, workspace_id, kind).await?;
        tx.commit().await?;
        Ok(c)
    }

    async fn logging_configuration(
        &self,
        workspace_id: &str,
        kind: LoggingKind,
    ) -> StoreResult<LoggingConfiguration> {
        let mut tx = self.pool.begin().await?;
        fetch_workspace(&mut tx, workspace_id).await?;
        fetch_logging(&mut tx, workspace_id, kind).await
    }

    async fn delete_logging_configuration(
        &self,
        workspace_id: &str,
        kind: LoggingKind,
        token: Option<&ClientToken>,
    ) -> StoreResult<()> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!(
            "DeleteLoggingConfiguration/{}/{workspace_id}",
            kind.as_str()
        );
        let ty = kind.resource_type();
        if let Claim::Replay(_) = claim(&mut tx, &scope, token, ty, workspace_id, now).await? {
            tx.commit().await?;
            return Ok(());
        }
        fetch_workspace(&mut tx, workspace_id).await?;
        let current = fetch_logging(&mut tx, workspace_id, kind).await?;
        must_be_settled(current.status, ty, workspace_id)?;
        sqlx::query(
            "UPDATE logging_configurations SET status = 'DELETING', status_at = ?3 \
             WHERE workspace_id = ?1 AND kind = ?2",
        )
        .bind(workspace_id)
        .bind(kind.as_str())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn put_resource_policy(
        &self,
        workspace_id: &str,
        document: String,
        expected_revision: Option<&str>,
        token: Option<&ClientToken>,
    ) -> StoreResult<ResourcePolicy> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("PutResourcePolicy/{workspace_id}");
        let ty = ResourceType::ResourcePolicy;
        if let Claim::Replay(_) = claim(&mut tx, &scope, token, ty, workspace_id, now).await? {
            let p = fetch_policy(&mut tx, workspace_id)
                .await?
                .ok_or_else(|| StoreError::not_found(ty, workspace_id))?;
            tx.commit().await?;
            return Ok(p);
        }
        writable_workspace(&mut tx, workspace_id).await?;
        let current = fetch_policy(&mut tx, workspace_id).await?;
        check_revision(current.as_ref(), expected_revision, workspace_id)?;
        let revision = new_revision();
        match current {
            Some(p) => {
                must_be_settled(p.status, ty, workspace_id)?;
                sqlx::query(
                    "UPDATE resource_policies SET document = ?2, revision_id = ?3, \
                     status = 'UPDATING', status_at = ?4 WHERE workspace_id = ?1",
                )
                .bind(workspace_id)
                .bind(&document)
                .bind(&revision)
                .bind(now.0)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query(
                    "INSERT INTO resource_policies \
                     (workspace_id, document, revision_id, status, status_at) \
                     VALUES (?1, ?2, ?3, 'CREATING', ?4)",
                )
                .bind(workspace_id)
                .bind(&document)
                .bind(&revision)
                .bind(now.0)
                .execute(&mut *tx)
                .await?;
            }
        }
        let p = fetch_policy(&mut tx, workspace_id)
            .await?
            .ok_or_else(|| StoreError::not_found(ty, workspace_id))?;
        tx.commit().await?;
        Ok(p)
    }

    async fn resource_policy(&self, workspace_id: &str) -> StoreResult<ResourcePolicy> {
        let mut tx = self.pool.begin().await?;
        fetch_workspace(&mut tx, workspace_id).await?;
        fetch_policy(&mut tx, workspace_id)
            .await?
            .ok_or_else(|| StoreError::not_found(ResourceType::ResourcePolicy, workspace_id))
    }

    async fn delete_resource_policy(
        &self,
        workspace_id: &str,
        expected_revision: Option<&str>,
        token: Option<&ClientToken>,
    ) -> StoreResult<()> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("DeleteResourcePolicy/{workspace_id}");
        let ty = ResourceType::ResourcePolicy;
        if let Claim::Replay(_) = claim(&mut tx, &scope, token, ty, workspace_id, now).await? {
            tx.commit().await?;
            return Ok(());
        }
        fetch_workspace(&mut tx, workspace_id).await?;
        let current = fetch_policy(&mut tx, workspace_id)
            .await?
            .ok_or_else(|| StoreError::not_found(ty, workspace_id))?;
        check_revision(Some(&current), expected_revision, workspace_id)?;
        must_be_settled(current.status, ty, workspace_id)?;
        sqlx::query(
            "UPDATE resource_policies SET status = 'DELETING', status_at = ?2 \
             WHERE workspace_id = ?1",
        )
        .bind(workspace_id)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_scraper(
        &self,
        new: NewScraper,
        token: Option<&ClientToken>,
    ) -> StoreResult<Scraper> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let ty = ResourceType::Scraper;
        if let Claim::Replay(id) = claim(&mut tx, "CreateScraper", token, ty, &new.id, now).await? {
            let s = fetch_scraper(&mut tx, &id).await?;
            tx.commit().await?;
            return Ok(s);
        }
        sqlx::query(
            "INSERT INTO scrapers (id, alias, spec, source_arn, destination_arn, role_arn, tags, \
             status, status_at, status_reason, created_at, modified_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'CREATING', ?8, NULL, ?8, ?8)",
        )
        .bind(&new.id)
        .bind(&new.spec.alias)
        .bind(serde_json::to_string(&new.spec.document)?)
        .bind(&new.spec.source_arn)
        .bind(&new.spec.destination_arn)
        .bind(&new.spec.role_arn)
        .bind(serde_json::to_string(&new.tags)?)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        let s = fetch_scraper(&mut tx, &new.id).await?;
        tx.commit().await?;
        Ok(s)
    }

    async fn scraper(&self, id: &str) -> StoreResult<Scraper> {
        let mut tx = self.pool.begin().await?;
        fetch_scraper(&mut tx, id).await
    }

    async fn list_scrapers(
        &self,
        filter: &ScraperFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Scraper>> {
        let (t, id) = parse_time_cursor(page.after.as_deref())?;
        let rows = sqlx::query(
            "SELECT * FROM scrapers WHERE created_at > ?1 OR (created_at = ?1 AND id > ?2) \
             ORDER BY created_at, id",
        )
        .bind(t)
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        // Filters combine OR/AND over four keys; scrapers are few per account, so matching in
        // memory keeps the SQL static and portable.
        let mut items = Vec::new();
        for row in &rows {
            let s = scraper_from_row(row)?;
            if filter.matches(&s) {
                items.push(s);
                if items.len() > page.limit as usize {
                    break;
                }
            }
        }
        Ok(paginate(items, page.limit, |s| {
            time_cursor(s.created_at, &s.id)
        }))
    }

    async fn update_scraper(
        &self,
        id: &str,
        spec: ScraperSpec,
        token: Option<&ClientToken>,
    ) -> StoreResult<Scraper> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("UpdateScraper/{id}");
        let ty = ResourceType::Scraper;
        if let Claim::Replay(_) = claim(&mut tx, &scope, token, ty, id, now).await? {
            let s = fetch_scraper(&mut tx, id).await?;
            tx.commit().await?;
            return Ok(s);
        }
        let current = fetch_scraper(&mut tx, id).await?;
        must_be_settled(current.status, ty, id)?;
        sqlx::query(
            "UPDATE scrapers SET alias = ?2, spec = ?3, source_arn = ?4, destination_arn = ?5, \
             role_arn = ?6, status = 'UPDATING', status_at = ?7, modified_at = ?7 WHERE id = ?1",
        )
        .bind(id)
        .bind(&spec.alias)
        .bind(serde_json::to_string(&spec.document)?)
        .bind(&spec.source_arn)
        .bind(&spec.destination_arn)
        .bind(&spec.role_arn)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        let s = fetch_scraper(&mut tx, id).await?;
        tx.commit().await?;
        Ok(s)
    }

    async fn delete_scraper(&self, id: &str, token: Option<&ClientToken>) -> StoreResult<Scraper> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("DeleteScraper/{id}");
        let ty = ResourceType::Scraper;
        let replay = matches!(
            claim(&mut tx, &scope, token, ty, id, now).await?,
            Claim::Replay(_)
        );
        let current = fetch_scraper(&mut tx, id).await?;
        if replay {
            tx.commit().await?;
            return Ok(current);
        }
        if matches!(current.status, Status::Creating | Status::Deleting) {
            return Err(StoreError::conflict(
                ty,
                id,
                format!(
                    "Scraper {id} is {} and cannot be deleted now",
                    current.status.as_str()
                ),
            ));
        }
        sqlx::query("UPDATE scrapers SET status = 'DELETING', status_at = ?2 WHERE id = ?1")
            .bind(id)
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        let s = fetch_scraper(&mut tx, id).await?;
        tx.commit().await?;
        Ok(s)
    }

    async fn put_scraper_logging_configuration(
        &self,
        scraper_id: &str,
        document: serde_json::Value,
    ) -> StoreResult<ScraperLoggingConfiguration> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scraper = fetch_scraper(&mut tx, scraper_id).await?;
        if scraper.status == Status::Deleting {
            return Err(StoreError::conflict(
                ResourceType::Scraper,
                scraper_id,
                format!("Scraper {scraper_id} is DELETING"),
            ));
        }
        let status = match fetch_scraper_logging(&mut tx, scraper_id).await {
            Ok(c) => {
                must_be_settled(
                    c.status,
                    ResourceType::ScraperLoggingConfiguration,
                    scraper_id,
                )?;
                "UPDATING"
            }
            Err(StoreError::NotFound { .. }) => "CREATING",
            Err(e) => return Err(e),
        };
        sqlx::query(
            "INSERT INTO scraper_logging_configurations \
             (scraper_id, document, status, status_at, modified_at) VALUES (?1, ?2, ?3, ?4, ?4) \
             ON CONFLICT (scraper_id) DO UPDATE SET document = excluded.document, \
             status = excluded.status, status_at = excluded.status_at, \
             modified_at = excluded.modified_at",
        )
        .bind(scraper_id)
        .bind(serde_json::to_string(&document)?)
        .bind(status)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        let c = fetch_scraper_logging(&mut tx, scraper_id).await?;
        tx.commit().await?;
        Ok(c)
    }

    async fn scraper_logging_configuration(
        &self,
        scraper_id: &str,
    ) -> StoreResult<ScraperLoggingConfiguration> {
        let mut tx = self.pool.begin().await?;
        fetch_scraper(&mut tx, scraper_id).await?;
        fetch_scraper_logging(&mut tx, scraper_id).await
    }

    async fn delete_scraper_logging_configuration(
        &self,
        scraper_id: &str,
        token: Option<&ClientToken>,
    ) -> StoreResult<()> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("DeleteScraperLoggingConfiguration/{scraper_id}");
        let ty = ResourceType::ScraperLoggingConfiguration;
        if let Claim::Replay(_) = claim(&mut tx, &scope, token, ty, scraper_id, now).await? {
            tx.commit().await?;
            return Ok(());
        }
        fetch_scraper(&mut tx, scraper_id).await?;
        let current = fetch_scraper_logging(&mut tx, scraper_id).await?;
        must_be_settled(current.status, ty, scraper_id)?;
        sqlx::query(
            "UPDATE scraper_logging_configurations SET status = 'DELETING', status_at = ?2 \
             WHERE scraper_id = ?1",
        )
        .bind(scraper_id)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_anomaly_detector(
        &self,
        new: NewAnomalyDetector,
        token: Option<&ClientToken>,
    ) -> StoreResult<AnomalyDetector> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("CreateAnomalyDetector/{}", new.workspace_id);
        let ty = ResourceType::AnomalyDetector;
        if let Claim::Replay(id) = claim(&mut tx, &scope, token, ty, &new.id, now).await? {
            let ad = fetch_ad(&mut tx, &new.workspace_id, &id)
                .await?
                .ok_or_else(|| StoreError::not_found(ty, id))?;
            tx.commit().await?;
            return Ok(ad);
        }
        writable_workspace(&mut tx, &new.workspace_id).await?;
        insert_ad(&mut tx, &new, now).await?;
        let ad = fetch_ad(&mut tx, &new.workspace_id, &new.id)
            .await?
            .ok_or_else(|| StoreError::not_found(ty, &new.id))?;
        tx.commit().await?;
        Ok(ad)
    }

    async fn put_anomaly_detector(
        &self,
        workspace_id: &str,
        id: &str,
        document: serde_json::Value,
        token: Option<&ClientToken>,
    ) -> StoreResult<AnomalyDetector> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("PutAnomalyDetector/{workspace_id}/{id}");
        let ty = ResourceType::AnomalyDetector;
        let replay = matches!(
            claim(&mut tx, &scope, token, ty, id, now).await?,
            Claim::Replay(_)
        );
        if !replay {
            writable_workspace(&mut tx, workspace_id).await?;
            match fetch_ad(&mut tx, workspace_id, id).await? {
                Some(current) => {
                    must_be_settled(current.status, ty, id)?;
                    sqlx::query(
                        "UPDATE anomaly_detectors SET spec = ?3, status = 'UPDATING', \
                         status_at = ?4, modified_at = ?4 WHERE workspace_id = ?1 AND id = ?2",
                    )
                    .bind(workspace_id)
                    .bind(id)
                    .bind(serde_json::to_string(&document)?)
                    .bind(now.0)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    let new = NewAnomalyDetector {
                        workspace_id: workspace_id.to_owned(),
                        id: id.to_owned(),
                        spec: AnomalyDetectorSpec {
                            alias: id.to_owned(),
                            document,
                        },
                        tags: Tags::new(),
                    };
                    insert_ad(&mut tx, &new, now).await?;
                }
            }
        }
        let ad = fetch_ad(&mut tx, workspace_id, id)
            .await?
            .ok_or_else(|| StoreError::not_found(ty, id))?;
        tx.commit().await?;
        Ok(ad)
    }

    async fn anomaly_detector(&self, workspace_id: &str, id: &str) -> StoreResult<AnomalyDetector> {
        let mut tx = self.pool.begin().await?;
        fetch_workspace(&mut tx, workspace_id).await?;
        fetch_ad(&mut tx, workspace_id, id)
            .await?
            .ok_or_else(|| StoreError::not_found(ResourceType::AnomalyDetector, id))
    }

    async fn list_anomaly_detectors(
        &self,
        workspace_id: &str,
        alias_prefix: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<Page<AnomalyDetector>> {
        let mut tx = self.pool.begin().await?;
        fetch_workspace(&mut tx, workspace_id).await?;
        let (t, id) = parse_time_cursor(page.after.as_deref())?;
        let rows = sqlx::query(
            "SELECT * FROM anomaly_detectors \
             WHERE workspace_id = ?1 AND (?2 IS NULL OR substr(alias, 1, length(?2)) = ?2) \
               AND (created_at > ?3 OR (created_at = ?3 AND id > ?4)) \
             ORDER BY created_at, id LIMIT ?5",
        )
        .bind(workspace_id)
        .bind(alias_prefix)
        .bind(t)
        .bind(id)
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&mut *tx)
        .await?;
        let items = rows
            .iter()
            .map(ad_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paginate(items, page.limit, |a| {
            time_cursor(a.created_at, &a.id)
        }))
    }

    async fn delete_anomaly_detector(
        &self,
        workspace_id: &str,
        id: &str,
        token: Option<&ClientToken>,
    ) -> StoreResult<()> {
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let scope = format!("DeleteAnomalyDetector/{workspace_id}/{id}");
        let ty = ResourceType::AnomalyDetector;
        if let Claim::Replay(_) = claim(&mut tx, &scope, token, ty, id, now).await? {
            tx.commit().await?;
            return Ok(());
        }
        fetch_workspace(&mut tx, workspace_id).await?;
        let current = fetch_ad(&mut tx, workspace_id, id)
            .await?
            .ok_or_else(|| StoreError::not_found(ty, id))?;
        if matches!(current.status, Status::Creating | Status::Deleting) {
            return Err(StoreError::conflict(
                ty,
                id,
                format!("Anomaly detector {id} is {}", current.status.as_str()),
            ));
        }
        sqlx::query(
            "UPDATE anomaly_detectors SET status = 'DELETING', status_at = ?3 \
             WHERE workspace_id = ?1 AND id = ?2",
        )
        .bind(workspace_id)
        .bind(id)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn settle(&self, min_age: Duration) -> StoreResult<u64> {
        let now = Timestamp::now();
        let cutoff = now.minus(min_age);
        let mut tx = self.begin().await?;
        let mut changed = 0;
        for &sql in ACTIVATE {
            changed += sqlx::query(sql)
                .bind(now.0)
                .bind(cutoff.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        for &sql in REMOVE {
            changed += sqlx::query(sql)
                .bind(cutoff.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        changed += sqlx::query("DELETE FROM client_tokens WHERE created_at <= ?1")
            .bind(now.minus(TOKEN_RETENTION).0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        if changed > 0 {
            tracing::debug!(changed, "settled lifecycle transitions");
        }
        Ok(changed)
    }
}

async fn insert_ad(tx: &mut Tx, new: &NewAnomalyDetector, now: Timestamp) -> StoreResult<()> {
    if fetch_ad(tx, &new.workspace_id, &new.id).await?.is_some() {
        return Err(StoreError::conflict(
            ResourceType::AnomalyDetector,
            &new.id,
            format!("Anomaly detector {} already exists", new.id),
        ));
    }
    sqlx::query(
        "INSERT INTO anomaly_detectors \
         (workspace_id, id, alias, spec, tags, status, status_at, created_at, modified_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, 'CREATING', ?6, ?6, ?6)",
    )
    .bind(&new.workspace_id)
    .bind(&new.id)
    .bind(&new.spec.alias)
    .bind(serde_json::to_string(&new.spec.document)?)
    .bind(serde_json::to_string(&new.tags)?)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn read_tags(tx: &mut Tx, resource: &ResourceRef) -> StoreResult<Tags> {
    let row = match resource {
        ResourceRef::Workspace(id) => {
            sqlx::query("SELECT tags FROM workspaces WHERE id = ?1")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
        }
        ResourceRef::RuleGroupsNamespace { workspace_id, name } => {
            sqlx::query(
                "SELECT tags FROM rule_groups_namespaces WHERE workspace_id = ?1 AND name = ?2",
            )
            .bind(workspace_id)
            .bind(name)
            .fetch_optional(&mut **tx)
            .await?
        }
        ResourceRef::Scraper(id) => {
            sqlx::query("SELECT tags FROM scrapers WHERE id = ?1")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
        }
        ResourceRef::AnomalyDetector { workspace_id, id } => {
            sqlx::query("SELECT tags FROM anomaly_detectors WHERE workspace_id = ?1 AND id = ?2")
                .bind(workspace_id)
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
        }
    };
    let row =
        row.ok_or_else(|| StoreError::not_found(resource.resource_type(), resource.display_id()))?;
    tags_col(&row)
}

async fn write_tags(tx: &mut Tx, resource: &ResourceRef, tags: &Tags) -> StoreResult<()> {
    let json = serde_json::to_string(tags)?;
    let q = match resource {
        ResourceRef::Workspace(id) => sqlx::query("UPDATE workspaces SET tags = ?2 WHERE id = ?1")
            .bind(id)
            .bind(json),
        ResourceRef::RuleGroupsNamespace { workspace_id, name } => sqlx::query(
            "UPDATE rule_groups_namespaces SET tags = ?3 WHERE workspace_id = ?1 AND name = ?2",
        )
        .bind(workspace_id)
        .bind(name)
        .bind(json),
        ResourceRef::Scraper(id) => sqlx::query("UPDATE scrapers SET tags = ?2 WHERE id = ?1")
            .bind(id)
            .bind(json),
        ResourceRef::AnomalyDetector { workspace_id, id } => sqlx::query(
            "UPDATE anomaly_detectors SET tags = ?3 WHERE workspace_id = ?1 AND id = ?2",
        )
        .bind(workspace_id)
        .bind(id)
        .bind(json),
    };
    q.execute(&mut **tx).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::testsuite::Harness;

    async fn make() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("metadata.db"))
            .await
            .unwrap();
        Harness {
            store: Arc::new(store),
            keep: Box::new(dir),
        }
    }

    crate::metadata_store_conformance!(make);

    #[tokio::test]
    async fn state_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metadata.db");
        {
            let store = SqliteStore::open(&path).await.unwrap();
            let new = NewWorkspace {
                id: "ws-1".into(),
                alias: Some("kept".into()),
                kms_key_arn: None,
                tags: Tags::new(),
            };
            store.create_workspace(new, None, 10).await.unwrap();
            store.pool.close().await;
        }
        let store = SqliteStore::open(&path).await.unwrap();
        let ws = store.workspace("ws-1").await.unwrap();
        assert_eq!(
            (ws.alias.as_deref(), ws.status),
            (Some("kept"), Status::Creating)
        );
        let mode: String = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&store.pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn time_cursor_round_trips() {
        let c = time_cursor(Timestamp(1_700_000_000_123), "ws-a:b");
        assert_eq!(
            parse_time_cursor(Some(&c)).unwrap(),
            (1_700_000_000_123, "ws-a:b".into())
        );
        assert!(parse_time_cursor(Some("garbage")).is_err());
    }
}
