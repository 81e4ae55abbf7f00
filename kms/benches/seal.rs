//! Throughput of sealing and opening workspace data with a [`DataKey`].

// A benchmark has nobody to report an error to: setup failures abort it.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use ampd_kms::{
    DataKey, EncryptionContext, KmsConfig, KmsService, MemoryKeyRepository, RootKey, SystemClock,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const ACCOUNT: &str = "111122223333";

fn data_key() -> DataKey {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let kms = KmsService::new(
            KmsConfig::default(),
            RootKey::generate().expect("root key"),
            Arc::new(MemoryKeyRepository::new()),
            Arc::new(SystemClock),
        );
        let key = kms.default_workspace_key(ACCOUNT).await.expect("key");
        let (data_key, _) = kms
            .create_data_key(ACCOUNT, &key.arn, &EncryptionContext::new())
            .await
            .expect("data key");
        data_key
    })
}

fn seal_open(c: &mut Criterion) {
    let key = data_key();
    let mut group = c.benchmark_group("data_key");
    for size in [4 * 1024, 64 * 1024] {
        let payload = vec![0x42u8; size];
        let sealed = key.seal(b"chunk", &payload).expect("seal");
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("seal", size), &payload, |b, p| {
            b.iter(|| key.seal(b"chunk", black_box(p)).expect("seal"))
        });
        group.bench_with_input(BenchmarkId::new("open", size), &sealed, |b, s| {
            b.iter(|| key.open(b"chunk", black_box(s)).expect("open"))
        });
    }
    group.finish();
}

criterion_group!(benches, seal_open);
criterion_main!(benches);
