//! Query limits of the data plane and the per-workspace cap on concurrent reads.
//!
//! Each workspace may run [`QuerySettings::max_concurrent`] reads (queries, series and label
//! lookups) at once; more wait up to [`QuerySettings::queue_timeout`] for a slot and then fail
//! with `unavailable` (503), so one busy workspace cannot take every blocking thread.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ampd_backends::{QueryLimits, TenantId};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::envelope::{ApiError, ErrorType};

/// Limits applied to every query of every workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuerySettings {
    /// Longest a query may run; a `timeout` parameter may only shorten it.
    pub timeout: Duration,
    /// Most samples a query may hold in memory at once.
    pub max_samples: usize,
    /// Most series a query may read, summed over its selectors.
    pub max_series: usize,
    /// Reads a workspace may run at once.
    pub max_concurrent: usize,
    /// How long a read waits for a slot before failing.
    pub queue_timeout: Duration,
}

impl Default for QuerySettings {
    /// Prometheus' defaults (`--query.timeout=2m`, `--query.max-samples=50000000`,
    /// `--query.max-concurrency=20`), a series cap of one million and a 5 s queue.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(120),
            max_samples: 50_000_000,
            max_series: 1_000_000,
            max_concurrent: 20,
            queue_timeout: Duration::from_secs(5),
        }
    }
}

impl QuerySettings {
    /// The backend limits of a query.
    pub(super) fn limits(&self) -> QueryLimits {
        QueryLimits {
            max_samples: Some(self.max_samples),
            max_series: Some(self.max_series),
            max_samples_processed: None,
        }
    }

    /// The timeout of a query that asked for `requested`: the shorter of the two.
    pub(super) fn timeout(&self, requested: Option<Duration>) -> Duration {
        requested.map_or(self.timeout, |r| r.min(self.timeout))
    }
}

/// Per-workspace semaphores; a workspace's entry is created at its first read.
#[derive(Debug, Default)]
pub(super) struct QueryGate {
    settings: QuerySettings,
    slots: Mutex<HashMap<TenantId, Arc<Semaphore>>>,
}

/// A held slot and how long the read queued for it.
pub(super) struct Slot {
    _permit: OwnedSemaphorePermit,
    /// Time spent waiting for the slot.
    pub queued: Duration,
}

impl QueryGate {
    /// Creates a gate with these settings.
    pub fn new(settings: QuerySettings) -> Self {
        Self {
            settings,
            slots: Mutex::default(),
        }
    }

    /// Returns the settings.
    pub fn settings(&self) -> &QuerySettings {
        &self.settings
    }

    /// Waits for a read slot of `tenant`, at most the queue timeout.
    pub async fn enter(&self, tenant: &TenantId) -> Result<Slot, ApiError> {
        let semaphore = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots
                .entry(tenant.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.settings.max_concurrent)))
                .clone()
        };
        let started = Instant::now();
        match tokio::time::timeout(self.settings.queue_timeout, semaphore.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Slot {
                _permit: permit,
                queued: started.elapsed(),
            }),
            // The semaphore is never closed; a closed one reads as full.
            Ok(Err(_)) | Err(_) => Err(ApiError {
                kind: ErrorType::Unavailable,
                message: format!(
                    "too many concurrent queries for workspace {tenant} (limit: {}); try again \
                     later",
                    self.settings.max_concurrent
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn excess_reads_queue_then_fail() {
        let gate = QueryGate::new(QuerySettings {
            max_concurrent: 1,
            queue_timeout: Duration::from_millis(20),
            ..QuerySettings::default()
        });
        let a = TenantId::new("ws-a");
        let held = gate.enter(&a).await.unwrap();
        let e = gate.enter(&a).await.err().unwrap();
        assert_eq!(e.kind, ErrorType::Unavailable);
        assert!(e.message.contains("limit: 1"), "{}", e.message);
        // Other workspaces have their own slots.
        assert!(gate.enter(&TenantId::new("ws-b")).await.is_ok());
        drop(held);
        assert!(gate.enter(&a).await.is_ok());
    }

    #[test]
    fn timeout_parameter_only_shortens() {
        let s = QuerySettings::default();
        assert_eq!(s.timeout(None), Duration::from_secs(120));
        assert_eq!(
            s.timeout(Some(Duration::from_secs(1))),
            Duration::from_secs(1)
        );
        assert_eq!(
            s.timeout(Some(Duration::from_secs(600))),
            Duration::from_secs(120)
        );
    }
}
