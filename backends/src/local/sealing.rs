//! Tenant sealing with workspace data keys: the tsdb's [`SealerProvider`] over plaintext data
//! keys that the key management layer installs and revokes.
//!
//! The plaintext key of a tenant lives in one slot shared by every sealer handed out for it,
//! so revoking it (the KMS key was disabled, scheduled for deletion or deleted) takes effect
//! at once for the open database too: each seal or open fails with
//! [`SealError::KeyUnavailable`] until a key is installed again.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

use ampd_kms::DataKey;
use ampd_tsdb::{SealError, Sealer, SealerProvider};

type Slot = Arc<RwLock<Option<DataKey>>>;

/// Plaintext data keys of the tenants whose KMS key is usable, by tenant id.
#[derive(Default)]
pub struct TenantKeys {
    slots: Mutex<HashMap<String, Slot>>,
}

impl fmt::Debug for TenantKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let installed = self.installed();
        f.debug_struct("TenantKeys")
            .field("installed", &installed)
            .finish()
    }
}

impl TenantKeys {
    /// Returns an empty set: every tenant is sealed-off until its key is installed.
    pub fn new() -> Self {
        Self::default()
    }

    fn slot(&self, tenant: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(tenant.to_owned()).or_default().clone()
    }

    /// Installs the tenant's unwrapped data key; sealing and opening work from now on.
    pub fn install(&self, tenant: &str, key: DataKey) {
        let slot = self.slot(tenant);
        *slot.write().unwrap_or_else(|e| e.into_inner()) = Some(key);
    }

    /// Drops (and wipes) the tenant's plaintext key; returns whether one was installed.
    pub fn revoke(&self, tenant: &str) -> bool {
        let slot = self.slot(tenant);
        let taken = slot.write().unwrap_or_else(|e| e.into_inner()).take();
        taken.is_some()
    }

    /// Returns whether the tenant's key is installed.
    pub fn is_installed(&self, tenant: &str) -> bool {
        let slot = self.slot(tenant);
        slot.read().unwrap_or_else(|e| e.into_inner()).is_some()
    }

    /// Returns the tenants whose key is installed.
    pub fn installed(&self) -> Vec<String> {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<String> = slots
            .iter()
            .filter(|(_, s)| s.read().unwrap_or_else(|e| e.into_inner()).is_some())
            .map(|(t, _)| t.clone())
            .collect();
        out.sort();
        out
    }
}

impl SealerProvider for TenantKeys {
    fn sealer_for(&self, tenant: &str) -> Result<Arc<dyn Sealer>, SealError> {
        let slot = self.slot(tenant);
        let sealer = KeySealer {
            tenant: tenant.to_owned(),
            slot,
        };
        // Refuse to open a database whose key is not there rather than fail on its first read.
        sealer.with_key(|_| Ok(()))?;
        Ok(Arc::new(sealer))
    }
}

/// Seals one tenant's files with whatever key its slot holds now.
struct KeySealer {
    tenant: String,
    slot: Slot,
}

impl fmt::Debug for KeySealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySealer")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl KeySealer {
    fn with_key<T>(
        &self,
        f: impl FnOnce(&DataKey) -> Result<T, SealError>,
    ) -> Result<T, SealError> {
        let guard = self.slot.read().unwrap_or_else(|e| e.into_inner());
        let key = guard.as_ref().ok_or_else(|| {
            SealError::KeyUnavailable(format!(
                "the data key of {} is not available: its KMS key is not usable",
                self.tenant
            ))
        })?;
        f(key)
    }
}

fn seal_error(e: ampd_kms::SealError) -> SealError {
    match e {
        ampd_kms::SealError::Integrity => SealError::Integrity,
        ampd_kms::SealError::Random => SealError::Failed(e.to_string()),
    }
}

impl Sealer for KeySealer {
    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        self.with_key(|key| key.seal(aad, plaintext).map_err(seal_error))
    }

    fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        self.with_key(|key| key.open(aad, sealed).map_err(seal_error))
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use ampd_kms::{
        EncryptionContext, KmsConfig, KmsService, MemoryKeyRepository, RootKey, SystemClock,
        WORKSPACE_CONTEXT_KEY,
    };
    use ampd_promql::{PointValue, Value};
    use ampd_remote_write::WriteBatch;

    use super::*;
    use crate::local::{LocalBackend, LocalOptions};
    use crate::metrics::{InstantQuery, MetricsBackend, MetricsError, QueryLimits, TenantId};
    use crate::metrics_testsuite::series;

    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;
    const NAME: &str = "kmsneedle_requests_total";
    const SECRET_LABEL: &str = "needle-label-value-7f3a";
    const VALUE: f64 = 98_765.432_1;

    async fn data_key() -> DataKey {
        let kms = KmsService::new(
            KmsConfig::default(),
            RootKey::generate().unwrap(),
            Arc::new(MemoryKeyRepository::new()),
            Arc::new(SystemClock),
        );
        let key = kms.default_workspace_key("111122223333").await.unwrap();
        let context = EncryptionContext::from([(
            WORKSPACE_CONTEXT_KEY.to_owned(),
            "arn:aws:aps:us-east-1:111122223333:workspace/ws-1".to_owned(),
        )]);
        let (key, _) = kms
            .create_data_key("111122223333", &key.arn, &context)
            .await
            .unwrap();
        key
    }

    fn open(dir: &Path, keys: &Arc<TenantKeys>) -> LocalBackend {
        LocalBackend::new(dir, LocalOptions::default(), keys.clone()).unwrap()
    }

    /// Four hours of one sample a minute for instances `a` and `b`, every value `VALUE`.
    fn batch(from_min: i64, to_min: i64) -> WriteBatch {
        let samples: Vec<(i64, f64)> = (from_min..to_min).map(|i| (i * MIN, VALUE)).collect();
        WriteBatch {
            series: ["a", "b"]
                .iter()
                .map(|inst| {
                    series(
                        &[
                            ("__name__", NAME),
                            ("instance", inst),
                            ("secret", SECRET_LABEL),
                        ],
                        &samples,
                    )
                })
                .collect(),
            metadata: vec![],
        }
    }

    async fn values(b: &LocalBackend, t: &TenantId, selector: &str, at: i64) -> Vec<f64> {
        try_values(b, t, selector, at).await.unwrap()
    }

    async fn try_values(
        b: &LocalBackend,
        t: &TenantId,
        selector: &str,
        at: i64,
    ) -> Result<Vec<f64>, MetricsError> {
        let q = InstantQuery {
            expr: selector.to_owned(),
            time_ms: at,
            timeout: None,
            limits: QueryLimits::default(),
        };
        let Value::Vector(v) = b.query(t, q).await?.value else {
            panic!("vector expected")
        };
        Ok(v.iter()
            .map(|s| match s.value {
                PointValue::Float(f) => f,
                PointValue::Histogram(_) => panic!("float expected"),
            })
            .collect())
    }

    fn files(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(files(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// Every file below `dir` is free of the metric name, the label value and the sample
    /// value in either byte order.
    fn assert_nothing_in_clear(dir: &Path) -> usize {
        let needles: [&[u8]; 4] = [
            NAME.as_bytes(),
            SECRET_LABEL.as_bytes(),
            &VALUE.to_le_bytes(),
            &VALUE.to_be_bytes(),
        ];
        let all = files(dir);
        for path in &all {
            let bytes = std::fs::read(path).unwrap();
            for needle in needles {
                assert!(
                    !contains(&bytes, needle),
                    "{} leaks {needle:?}",
                    path.display()
                );
            }
        }
        all.len()
    }

    #[tokio::test]
    async fn nothing_is_stored_in_clear_after_ingest_compaction_and_restart() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Arc::new(TenantKeys::new());
        let t = TenantId::new("ws-1");
        keys.install("ws-1", data_key().await);
        let b = open(dir.path(), &keys);
        b.write(&t, batch(0, 240)).await.unwrap();
        b.write(&t, batch(240, 480)).await.unwrap();
        b.maintain(12 * HOUR).await.unwrap();
        b.write(&t, batch(480, 500)).await.unwrap();
        let m = ampd_tsdb::Matcher::new(ampd_tsdb::MatchType::Equal, "instance", "a").unwrap();
        let db = b.tsdb.tenant("ws-1").unwrap();
        assert!(db.delete_series(&[m], 0, MIN).unwrap() > 0);
        drop(db);
        drop(b);

        let b = open(dir.path(), &keys);
        let selector = format!("{NAME}{{instance=\"b\"}}");
        assert_eq!(values(&b, &t, &selector, 100 * MIN).await, vec![VALUE]);
        assert_eq!(values(&b, &t, &selector, 490 * MIN).await, vec![VALUE]);
        let all = files(dir.path());
        assert!(
            all.iter().any(|p| p.ends_with("index")),
            "no block: {all:?}"
        );
        assert!(all.iter().any(|p| p.ends_with("tombstones")), "{all:?}");
        let compacted = all.iter().filter(|p| p.ends_with("meta.json")).any(|p| {
            let meta: serde_json::Value =
                serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
            meta["level"].as_u64().unwrap_or(0) > 1
        });
        assert!(compacted, "no compacted block: {all:?}");
        assert!(assert_nothing_in_clear(dir.path()) > 5);

        // The same load stored unsealed shows every needle: the search can find them.
        let plain = tempfile::tempdir().unwrap();
        let unsealed = LocalBackend::new(
            plain.path(),
            LocalOptions::default(),
            Arc::new(ampd_tsdb::IdentitySealer),
        )
        .unwrap();
        unsealed.write(&t, batch(0, 240)).await.unwrap();
        unsealed.maintain(12 * HOUR).await.unwrap();
        let stored: Vec<u8> = files(plain.path())
            .iter()
            .flat_map(|p| std::fs::read(p).unwrap())
            .collect();
        assert!(contains(&stored, NAME.as_bytes()));
        assert!(contains(&stored, SECRET_LABEL.as_bytes()));
        assert!(contains(&stored, &VALUE.to_le_bytes()) || contains(&stored, &VALUE.to_be_bytes()));

        // Without the key nothing opens: no fallback to reading plaintext.
        keys.revoke("ws-1");
        b.close_tenant(&t).await.unwrap();
        let err = try_values(&b, &t, &selector, 490 * MIN).await.unwrap_err();
        assert!(
            matches!(err, MetricsError::TenantUnavailable { .. }),
            "{err:?}"
        );
        // Settings wait for the key instead of failing.
        let settings = crate::metrics::TenantSettings {
            retention: std::time::Duration::from_secs(86_400 * 30),
            out_of_order_window: std::time::Duration::from_secs(60),
            max_active_series: None,
            label_set_limits: Vec::new(),
        };
        b.set_limits(&t, settings).await.unwrap();
    }

    /// Walks the frames of a block chunks file: `(offset, length)` of each.
    fn chunk_frames(bytes: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut off = 5;
        while off + 8 <= bytes.len() {
            let len = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap()) as usize;
            out.push((off, 8 + len));
            off += 8 + len;
        }
        out
    }

    /// Flips a byte inside a frame's payload; with `fix_crc` the frame checksum is recomputed,
    /// as a deliberate tamperer would, so only the seal can notice.
    fn flip(bytes: &mut [u8], frame_off: usize, frame_len: usize, fix_crc: bool) {
        bytes[frame_off + frame_len / 2 + 4] ^= 0x20;
        if fix_crc {
            let len = &bytes[frame_off..frame_off + 4];
            let crc = crc32c::crc32c_append(
                crc32c::crc32c(len),
                &bytes[frame_off + 8..frame_off + frame_len],
            );
            bytes[frame_off + 4..frame_off + 8].copy_from_slice(&crc.to_le_bytes());
        }
    }

    #[tokio::test]
    async fn a_flipped_byte_in_a_block_fails_that_series_and_keeps_the_rest() {
        for fix_crc in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let keys = Arc::new(TenantKeys::new());
            let t = TenantId::new("ws-1");
            keys.install("ws-1", data_key().await);
            let b = open(dir.path(), &keys);
            // Within one 2h block range, so the block holds every sample.
            b.write(&t, batch(0, 110)).await.unwrap();
            // The first pass sees the write; the second finds the head idle and cuts it.
            b.maintain(12 * HOUR).await.unwrap();
            b.maintain(12 * HOUR).await.unwrap();
            drop(b);
            let chunks = files(dir.path())
                .into_iter()
                .find(|p| p.ends_with("chunks"))
                .unwrap();
            let mut bytes = std::fs::read(&chunks).unwrap();
            let frames = chunk_frames(&bytes);
            assert_eq!(frames.len(), 2, "one section per series");
            // Series sort by labels, so instance "b" owns the last section.
            let (off, len) = frames[1];
            flip(&mut bytes, off, len, fix_crc);
            std::fs::write(&chunks, &bytes).unwrap();

            let b = open(dir.path(), &keys);
            let a = format!("{NAME}{{instance=\"a\"}}");
            assert_eq!(values(&b, &t, &a, 100 * MIN).await, vec![VALUE]);
            let damaged = format!("{NAME}{{instance=\"b\"}}");
            let err = try_values(&b, &t, &damaged, 100 * MIN).await.unwrap_err();
            assert!(matches!(err, MetricsError::Internal(_)), "{err:?}");
            // Random damage fails the frame checksum; deliberate tampering fails the seal.
            let expected = if fix_crc { "Integrity" } else { "checksum" };
            assert!(format!("{err:?}").contains(expected), "{err:?}");
        }
    }

    #[tokio::test]
    async fn a_flipped_byte_in_the_wal_is_detected_never_replayed() {
        for fix_crc in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let keys = Arc::new(TenantKeys::new());
            let t = TenantId::new("ws-1");
            keys.install("ws-1", data_key().await);
            let b = open(dir.path(), &keys);
            b.write(&t, batch(0, 10)).await.unwrap();
            b.write(&t, batch(10, 20)).await.unwrap();
            drop(b);
            let mut segments: Vec<PathBuf> = files(&dir.path().join("ws-1/wal"));
            segments.sort();
            let segment = segments.pop().unwrap();
            let mut bytes = std::fs::read(&segment).unwrap();
            // WAL frames have the same header as block sections; the second is the later write.
            let mut frames = Vec::new();
            let mut off = 0;
            while off + 8 <= bytes.len() {
                let len = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap()) as usize;
                frames.push((off, 8 + len));
                off += 8 + len;
            }
            let (off, len) = *frames.last().unwrap();
            flip(&mut bytes, off, len, fix_crc);
            std::fs::write(&segment, &bytes).unwrap();

            let b = open(dir.path(), &keys);
            let selector = format!("{NAME}{{instance=\"a\"}}");
            if fix_crc {
                // A record that passes its checksum but not its seal is tampering: the tenant
                // refuses to open rather than cut or replay it.
                let err = try_values(&b, &t, &selector, 5 * MIN).await.unwrap_err();
                assert!(format!("{err:?}").contains("Integrity"), "{err:?}");
            } else {
                // Random damage is cut off as a torn tail: the earlier write reads back exactly,
                // the damaged one is gone, never altered.
                assert_eq!(values(&b, &t, &selector, 5 * MIN).await, vec![VALUE]);
                assert!(values(&b, &t, &selector, 15 * MIN).await.is_empty());
                let db = b.tsdb.tenant("ws-1").unwrap();
                assert!(db.wal_repair().is_some());
            }
        }
    }
}
