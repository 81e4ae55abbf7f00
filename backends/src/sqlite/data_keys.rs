//! [`DataKeyStore`] on the SQLite metadata database.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use crate::data_keys::{DataKeyStore, WrappedDataKey};
use crate::error::StoreResult;
use crate::model::Timestamp;

fn from_row(row: &SqliteRow) -> StoreResult<WrappedDataKey> {
    Ok(WrappedDataKey {
        workspace_id: row.try_get("workspace_id")?,
        kms_key_arn: row.try_get("kms_key_arn")?,
        wrapped: row.try_get("wrapped")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

#[async_trait]
impl DataKeyStore for SqliteStore {
    async fn put_data_key_if_absent(&self, key: WrappedDataKey) -> StoreResult<WrappedDataKey> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO workspace_data_keys (workspace_id, kms_key_arn, wrapped, created_at) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (workspace_id) DO NOTHING",
        )
        .bind(&key.workspace_id)
        .bind(&key.kms_key_arn)
        .bind(&key.wrapped)
        .bind(key.created_at.0)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query("SELECT * FROM workspace_data_keys WHERE workspace_id = ?1")
            .bind(&key.workspace_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        from_row(&row)
    }

    async fn data_key(&self, workspace_id: &str) -> StoreResult<Option<WrappedDataKey>> {
        sqlx::query("SELECT * FROM workspace_data_keys WHERE workspace_id = ?1")
            .bind(workspace_id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(from_row)
            .transpose()
    }

    async fn delete_data_key(&self, workspace_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM workspace_data_keys WHERE workspace_id = ?1")
            .bind(workspace_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn data_keys(&self) -> StoreResult<Vec<WrappedDataKey>> {
        sqlx::query("SELECT * FROM workspace_data_keys ORDER BY created_at, workspace_id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(from_row)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NewWorkspace;
    use crate::store::MetadataStore;

    fn key(ws: &str, arn: &str, byte: u8) -> WrappedDataKey {
        WrappedDataKey {
            workspace_id: ws.to_owned(),
            kms_key_arn: arn.to_owned(),
            wrapped: vec![byte; 8],
            created_at: Timestamp(1),
        }
    }

    #[tokio::test]
    async fn first_key_wins_and_workspace_deletion_destroys_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("m.db")).await.unwrap();
        let ws = store
            .create_workspace(
                NewWorkspace {
                    id: "ws-1".into(),
                    alias: None,
                    kms_key_arn: None,
                    tags: Default::default(),
                },
                None,
                10,
            )
            .await
            .unwrap();
        assert!(store.data_key(&ws.id).await.unwrap().is_none());
        let first = store
            .put_data_key_if_absent(key(&ws.id, "arn:k1", 1))
            .await
            .unwrap();
        let again = store
            .put_data_key_if_absent(key(&ws.id, "arn:k2", 2))
            .await
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(again.wrapped, vec![1; 8]);
        assert_eq!(store.data_keys().await.unwrap().len(), 1);
        assert!(
            store
                .put_data_key_if_absent(key("ws-none", "arn:k1", 1))
                .await
                .is_err(),
            "a data key needs its workspace"
        );

        store.settle(std::time::Duration::ZERO).await.unwrap();
        store.delete_workspace(&ws.id, None).await.unwrap();
        assert!(store.data_key(&ws.id).await.unwrap().is_none());
        assert!(!store.delete_data_key(&ws.id).await.unwrap());
    }
}
