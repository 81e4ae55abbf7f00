//! The SQLite index behind `LookupEvents`.
//!
//! The index is a cache of the trail's management events, never the record of truth: it is fed
//! from the writer after each group commit and, on open, reconciled with the log files and the
//! journal, so a missing or damaged index file is simply rebuilt.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::error::{AuditError, AuditResult};
use crate::event::{EventCategory, EventRecord};
use crate::layout::{ObjectKind, gunzip, list_objects, object_path};

/// Schema of the index. Kept inline rather than in `migrations/`: the index is a rebuildable
/// cache, so a schema change only needs a new file name ([`INDEX_FILE`]).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    event_id      TEXT PRIMARY KEY,
    event_time    INTEGER NOT NULL,
    event_name    TEXT NOT NULL,
    event_source  TEXT NOT NULL,
    read_only     TEXT NOT NULL,
    username      TEXT,
    access_key_id TEXT,
    record        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_newest ON events (event_time DESC, event_id DESC);
CREATE TABLE IF NOT EXISTS event_resources (
    event_id      TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    PRIMARY KEY (event_id, resource_type, resource_name)
);
CREATE TABLE IF NOT EXISTS indexed_files (s3_object TEXT PRIMARY KEY);
";

/// File name of the index inside the trail folder.
pub(crate) const INDEX_FILE: &str = "lookup-index-v1.sqlite";

/// Messages from the writer to the indexing task, in commit order.
#[derive(Debug)]
pub(crate) enum IndexMsg {
    /// Records made durable.
    Events(Vec<Arc<str>>),
    /// A log file was delivered; every record in it was sent before.
    Delivered(String),
    /// Answered once everything sent before is indexed.
    Flush(oneshot::Sender<()>),
}

/// Filter on one lookup attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Filter {
    EventId(String),
    EventName(String),
    ReadOnly(String),
    Username(String),
    ResourceType(String),
    ResourceName(String),
    EventSource(String),
    AccessKeyId(String),
}

/// Position after the last event of a page (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub(crate) event_time: i64,
    pub(crate) event_id: String,
}

/// One row of a lookup.
#[derive(Debug, Clone)]
pub(crate) struct IndexedEvent {
    pub(crate) cursor: Cursor,
    pub(crate) username: Option<String>,
    pub(crate) access_key_id: Option<String>,
    pub(crate) read_only: String,
    pub(crate) record: String,
}

/// Handle on the index database.
#[derive(Debug, Clone)]
pub(crate) struct Index {
    pool: SqlitePool,
}

impl Index {
    /// Opens the index in `dir`, recreating it when the file is unusable.
    pub(crate) async fn open(dir: &Path) -> AuditResult<Self> {
        let path = dir.join(INDEX_FILE);
        match Self::connect(&path).await {
            Ok(index) => Ok(index),
            Err(err) => {
                tracing::warn!(error = %err, "rebuilding unusable audit index {}", path.display());
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.as_os_str().to_owned();
                    file.push(suffix);
                    let file = PathBuf::from(file);
                    match tokio::fs::remove_file(&file).await {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            return Err(AuditError::io(&file)(e));
                        }
                        _ => {}
                    }
                }
                Self::connect(&path).await
            }
        }
    }

    async fn connect(path: &Path) -> AuditResult<Self> {
        // WAL with synchronous=NORMAL: commits are not fsynced, which is fine for a cache that
        // open() reconciles with the durable files.
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        Ok(Self { pool })
    }

    /// Indexes the management events among `records`; records already indexed are skipped.
    pub(crate) async fn insert(&self, records: &[Arc<str>]) -> AuditResult<()> {
        let mut tx = self.pool.begin().await?;
        for json in records {
            let record: EventRecord = serde_json::from_str(json)?;
            if record.event_category != EventCategory::Management {
                continue;
            }
            let inserted = sqlx::query(
                "INSERT OR IGNORE INTO events (event_id, event_time, event_name, event_source, \
                 read_only, username, access_key_id, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&record.event_id)
            .bind(record.event_time.unix_timestamp())
            .bind(&record.event_name)
            .bind(&record.event_source)
            .bind(record.read_only.to_string())
            .bind(record.lookup_username())
            .bind(&record.user_identity.access_key_id)
            .bind(json.as_ref())
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                continue;
            }
            for r in &record.resources {
                sqlx::query("INSERT OR IGNORE INTO event_resources VALUES (?, ?, ?)")
                    .bind(&record.event_id)
                    .bind(&r.resource_type)
                    .bind(&r.arn)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Remembers that every record of a delivered log file is indexed.
    async fn mark_file(&self, key: &str) -> AuditResult<()> {
        sqlx::query("INSERT OR IGNORE INTO indexed_files (s3_object) VALUES (?)")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Indexes every log file under `root` the index has not seen (all of them for a new index).
    async fn reconcile(&self, root: &Path) -> AuditResult<()> {
        let known: std::collections::HashSet<String> =
            sqlx::query_scalar("SELECT s3_object FROM indexed_files")
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .collect();
        let objects = {
            let root = root.to_owned();
            tokio::task::spawn_blocking(move || list_objects(&root))
                .await
                .map_err(|e| AuditError::Background(format!("index listing task failed: {e}")))??
        };
        for (key, _) in objects
            .into_iter()
            .filter(|(k, kind)| *kind == ObjectKind::Log && !known.contains(k))
        {
            let Some(path) = object_path(root, &key) else {
                continue;
            };
            let raw = tokio::fs::read(&path)
                .await
                .map_err(AuditError::io(&path))?;
            match gunzip(&raw)
                .map_err(AuditError::InvalidEvent)
                .and_then(parse_records)
            {
                Ok(records) => self.insert(&records).await?,
                Err(err) => {
                    tracing::warn!(key = %key, error = %err, "skipping unreadable log file {key}")
                }
            }
            self.mark_file(&key).await?;
        }
        Ok(())
    }

    /// Returns up to `limit` matching events, newest first, strictly after `after`.
    pub(crate) async fn query(
        &self,
        filter: Option<&Filter>,
        start: i64,
        end: i64,
        after: Option<&Cursor>,
        limit: u32,
    ) -> AuditResult<Vec<IndexedEvent>> {
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT event_id, event_time, username, access_key_id, read_only, record FROM events \
             WHERE event_time >= ",
        );
        q.push_bind(start)
            .push(" AND event_time <= ")
            .push_bind(end);
        if let Some(f) = filter {
            let (column, value) = match f {
                Filter::EventId(v) => ("event_id", v),
                Filter::EventName(v) => ("event_name", v),
                Filter::ReadOnly(v) => ("read_only", v),
                Filter::Username(v) => ("username", v),
                Filter::EventSource(v) => ("event_source", v),
                Filter::AccessKeyId(v) => ("access_key_id", v),
                Filter::ResourceType(v) => ("resource_type", v),
                Filter::ResourceName(v) => ("resource_name", v),
            };
            if matches!(f, Filter::ResourceType(_) | Filter::ResourceName(_)) {
                q.push(" AND event_id IN (SELECT event_id FROM event_resources WHERE ")
                    .push(column)
                    .push(" = ")
                    .push_bind(value.clone())
                    .push(")");
            } else {
                q.push(" AND ")
                    .push(column)
                    .push(" = ")
                    .push_bind(value.clone());
            }
        }
        if let Some(c) = after {
            q.push(" AND (event_time < ")
                .push_bind(c.event_time)
                .push(" OR (event_time = ")
                .push_bind(c.event_time)
                .push(" AND event_id < ")
                .push_bind(c.event_id.clone())
                .push("))");
        }
        q.push(" ORDER BY event_time DESC, event_id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|row| {
                Ok(IndexedEvent {
                    cursor: Cursor {
                        event_time: row.try_get(1)?,
                        event_id: row.try_get(0)?,
                    },
                    username: row.try_get(2)?,
                    access_key_id: row.try_get(3)?,
                    read_only: row.try_get(4)?,
                    record: row.try_get(5)?,
                })
            })
            .collect()
    }
}

fn parse_records(g: crate::layout::Gunzipped) -> AuditResult<Vec<Arc<str>>> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Doc<'a> {
        #[serde(borrow)]
        records: Vec<&'a serde_json::value::RawValue>,
    }
    let doc: Doc<'_> = serde_json::from_slice(&g.bytes)?;
    Ok(doc
        .records
        .into_iter()
        .map(|r| Arc::from(r.get()))
        .collect())
}

/// Runs the indexing task: reconciles with the files under `root`, then applies the writer's
/// messages. Index failures are logged, not fatal: lookups lag until the next open rebuilds.
pub(crate) async fn run_indexer(
    index: Index,
    root: PathBuf,
    mut rx: mpsc::UnboundedReceiver<IndexMsg>,
) {
    if let Err(err) = index.reconcile(&root).await {
        tracing::warn!(error = %err, "audit index reconciliation failed: {err}");
    }
    while let Some(msg) = rx.recv().await {
        let result = match msg {
            IndexMsg::Events(records) => index.insert(&records).await,
            IndexMsg::Delivered(key) => index.mark_file(&key).await,
            IndexMsg::Flush(reply) => {
                let _ = reply.send(());
                Ok(())
            }
        };
        if let Err(err) = result {
            tracing::warn!(error = %err, "audit index update failed: {err}");
        }
    }
}
