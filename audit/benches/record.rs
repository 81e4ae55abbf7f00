//! Throughput of `Trail::record` with group commit, for 1 and 8 concurrent callers.
//!
//! Run with `cargo bench -p ampd-audit --bench record`. Prints events/s; every event is fsynced
//! before its caller continues, so the numbers depend mostly on the disk's fsync latency.

use std::error::Error;
use std::time::Instant;

use ampd_audit::{AuditError, EventRecord, EventSource, Trail, TrailConfig};
use serde_json::json;

const EVENTS_PER_CALLER: usize = 2000;

type BenchResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

fn event() -> Result<EventRecord, AuditError> {
    EventRecord::builder(
        EventSource::Aps,
        "CreateWorkspace",
        time::OffsetDateTime::now_utc(),
    )
    .region("us-east-1")
    .recipient_account_id("123456789012")
    .request_id("bench")
    .source_ip("127.0.0.1")
    .user_agent("bench")
    .request_parameters(json!({"alias": "bench", "clientToken": "c"}))
    .build()
}

async fn run(callers: usize) -> BenchResult<f64> {
    let dir = tempfile::tempdir()?;
    let trail = Trail::open(TrailConfig::new(dir.path(), "123456789012", "us-east-1")).await?;
    let start = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let trail = trail.clone();
            tokio::spawn(async move {
                for _ in 0..EVENTS_PER_CALLER {
                    trail.record(event()?).await?;
                }
                Ok::<_, AuditError>(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let rate = (callers * EVENTS_PER_CALLER) as f64 / start.elapsed().as_secs_f64();
    trail.close().await?;
    Ok(rate)
}

fn main() -> BenchResult<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    for callers in [1, 8] {
        let rate = rt.block_on(run(callers))?;
        println!("record: {callers} concurrent caller(s): {rate:.0} events/s");
    }
    Ok(())
}
