//! Per-workspace ingestion rate limit: a token bucket of samples, as AMP's
//! "ingestion rate" and "ingestion burst size" quotas.
//!
//! A request is let through while the bucket holds any tokens and then takes all of its
//! samples, possibly leaving the bucket in debt: a batch larger than the burst still passes
//! once the bucket is full (instead of never), and the long-run rate stays at the limit
//! because the debt is repaid before the next batch passes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The rate and burst of every workspace's bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IngestionRate {
    /// Samples per second refilled.
    pub samples_per_second: f64,
    /// Most samples the bucket holds.
    pub burst: f64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets of all workspaces.
#[derive(Debug)]
pub struct IngestionLimiter {
    rate: IngestionRate,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// A refused write: the limit, and when the bucket has tokens again.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimited {
    /// The limit, worded for the sender.
    pub message: String,
    /// Time until the bucket is out of debt.
    pub retry_after: Duration,
}

impl IngestionLimiter {
    /// Returns a limiter giving each workspace `rate`.
    pub fn new(rate: IngestionRate) -> Self {
        Self {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `samples` from the workspace's bucket at `now`, or says why not.
    pub fn admit(&self, workspace: &str, samples: u64, now: Instant) -> Result<(), RateLimited> {
        let IngestionRate {
            samples_per_second: rate,
            burst,
        } = self.rate;
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets.entry(workspace.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.at = now;
        if bucket.tokens <= 0.0 {
            let wait = if rate > 0.0 {
                (-bucket.tokens / rate).max(0.001)
            } else {
                1.0
            };
            return Err(RateLimited {
                message: format!(
                    "ingestion rate limit of {rate} samples per second (burst {burst}) exceeded \
                     for workspace {workspace}"
                ),
                retry_after: Duration::from_secs_f64(wait.min(3600.0)),
            });
        }
        bucket.tokens -= samples as f64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills_at_the_rate() {
        let limiter = IngestionLimiter::new(IngestionRate {
            samples_per_second: 100.0,
            burst: 500.0,
        });
        let t0 = Instant::now();
        limiter.admit("ws", 300, t0).unwrap();
        limiter.admit("ws", 300, t0).unwrap(); // the bucket had tokens: now 100 in debt
        let refused = limiter.admit("ws", 1, t0).unwrap_err();
        assert!(
            refused.message.contains("100 samples per second"),
            "{refused:?}"
        );
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        // Other workspaces have their own bucket.
        limiter.admit("other", 500, t0).unwrap();
        // One second repays the debt exactly: still nothing to take.
        assert!(limiter.admit("ws", 1, t0 + Duration::from_secs(1)).is_err());
        limiter
            .admit("ws", 1, t0 + Duration::from_millis(1100))
            .unwrap();
        // A batch larger than the burst passes once the bucket is full.
        limiter
            .admit("ws", 10_000, t0 + Duration::from_secs(100))
            .unwrap();
    }
}
