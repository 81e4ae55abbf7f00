//! [`OidcProviderStore`] on SQLite (table `iam_oidc_providers`).

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use crate::iam::{IamResult, IamStoreError};
use crate::model::Timestamp;
use crate::oidc::{MAX_OIDC_PROVIDERS, OidcProviderRecord, OidcProviderStore};

fn provider_from_row(row: &SqliteRow) -> IamResult<OidcProviderRecord> {
    let client_ids: String = row.try_get("client_ids")?;
    let thumbprints: String = row.try_get("thumbprints")?;
    let tags: String = row.try_get("tags")?;
    Ok(OidcProviderRecord {
        arn: row.try_get("arn")?,
        url: row.try_get("url")?,
        client_ids: serde_json::from_str(&client_ids)?,
        thumbprints: serde_json::from_str(&thumbprints)?,
        tags: serde_json::from_str(&tags)?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

fn no_provider(arn: &str) -> IamStoreError {
    IamStoreError::NoSuchEntity(format!("OpenIDConnect Provider not found for arn {arn}"))
}

#[async_trait]
impl OidcProviderStore for SqliteStore {
    async fn create_oidc_provider(&self, p: OidcProviderRecord) -> IamResult<()> {
        let mut tx = self.begin_iam().await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM iam_oidc_providers")
            .fetch_one(&mut *tx)
            .await?;
        if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_OIDC_PROVIDERS {
            return Err(IamStoreError::LimitExceeded(format!(
                "Cannot exceed quota for OpenIdConnectProvidersPerAccount: {MAX_OIDC_PROVIDERS}"
            )));
        }
        let inserted = sqlx::query(
            "INSERT INTO iam_oidc_providers (arn, url, client_ids, thumbprints, tags, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        )
        .bind(&p.arn)
        .bind(&p.url)
        .bind(serde_json::to_string(&p.client_ids)?)
        .bind(serde_json::to_string(&p.thumbprints)?)
        .bind(serde_json::to_string(&p.tags)?)
        .bind(p.created_at.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(IamStoreError::AlreadyExists(format!(
                "Provider with url {} already exists.",
                p.url
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn oidc_provider(&self, arn: &str) -> IamResult<OidcProviderRecord> {
        let row = sqlx::query("SELECT * FROM iam_oidc_providers WHERE arn = ?1")
            .bind(arn)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| no_provider(arn))?;
        provider_from_row(&row)
    }

    async fn list_oidc_providers(&self) -> IamResult<Vec<OidcProviderRecord>> {
        let rows = sqlx::query("SELECT * FROM iam_oidc_providers ORDER BY arn")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(provider_from_row).collect()
    }

    async fn delete_oidc_provider(&self, arn: &str) -> IamResult<()> {
        let deleted = sqlx::query("DELETE FROM iam_oidc_providers WHERE arn = ?1")
            .bind(arn)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Err(no_provider(arn));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(url: &str) -> OidcProviderRecord {
        let host = url.trim_start_matches("https://");
        OidcProviderRecord {
            arn: format!("arn:aws:iam::123456789012:oidc-provider/{host}"),
            url: url.to_owned(),
            client_ids: vec!["sts.amazonaws.com".into()],
            thumbprints: vec!["9e99a48a9960b14926bb7f3b02e22da2b0ab7280".into()],
            tags: [("team".to_owned(), "obs".to_owned())].into(),
            created_at: Timestamp(1),
        }
    }

    #[tokio::test]
    async fn providers_are_created_listed_and_deleted_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("m.db")).await.unwrap();
        let a = provider("https://oidc.a.test/id/1");
        store.create_oidc_provider(a.clone()).await.unwrap();
        assert!(matches!(
            store.create_oidc_provider(a.clone()).await,
            Err(IamStoreError::AlreadyExists(_))
        ));
        store
            .create_oidc_provider(provider("https://oidc.b.test"))
            .await
            .unwrap();
        assert_eq!(store.oidc_provider(&a.arn).await.unwrap(), a);
        let all = store.list_oidc_providers().await.unwrap();
        assert_eq!(all.len(), 2);
        store.delete_oidc_provider(&a.arn).await.unwrap();
        assert!(matches!(
            store.oidc_provider(&a.arn).await,
            Err(IamStoreError::NoSuchEntity(_))
        ));
        assert!(matches!(
            store.delete_oidc_provider(&a.arn).await,
            Err(IamStoreError::NoSuchEntity(_))
        ));
    }
}
