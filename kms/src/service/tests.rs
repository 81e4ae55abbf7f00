//! Behaviour of the service end to end over the in-memory and file repositories.

use std::sync::Arc;

use base64::Engine as _;
use time::Duration;
use time::macros::datetime;

use super::*;
use crate::clock::TestClock;
use crate::model::*;
use crate::repository::{FileKeyRepository, MemoryKeyRepository};

const ACCOUNT: &str = "111122223333";
const OTHER: &str = "444455556666";

struct Fixture {
    kms: KmsService,
    clock: Arc<TestClock>,
}

fn fixture() -> Fixture {
    let clock = Arc::new(TestClock::new(datetime!(2026-03-01 12:00 UTC)));
    let kms = KmsService::new(
        KmsConfig::default(),
        RootKey::generate().unwrap(),
        Arc::new(MemoryKeyRepository::new()),
        clock.clone(),
    );
    Fixture { kms, clock }
}

fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn key_id(key_id: &str) -> KeyIdRequest {
    KeyIdRequest {
        key_id: key_id.to_owned(),
    }
}

impl Fixture {
    async fn create(&self) -> KeyMetadata {
        self.kms
            .create_key(ACCOUNT, CreateKeyRequest::default())
            .await
            .unwrap()
            .key_metadata
            .unwrap()
    }

    async fn encrypt(&self, key: &str, plaintext: &[u8], context: &EncryptionContext) -> Vec<u8> {
        self.kms
            .encrypt(
                ACCOUNT,
                EncryptRequest {
                    key_id: key.to_owned(),
                    plaintext: plaintext.to_vec(),
                    encryption_context: Some(context.clone()),
                    grant_tokens: None,
                    encryption_algorithm: None,
                    dry_run: None,
                },
            )
            .await
            .unwrap()
            .ciphertext_blob
    }

    async fn decrypt(
        &self,
        blob: &[u8],
        context: &EncryptionContext,
    ) -> Result<DecryptResponse, KmsError> {
        self.kms
            .decrypt(ACCOUNT, decrypt_request(blob, context, None))
            .await
    }

    async fn describe(&self, key: &str) -> Result<KeyMetadata, KmsError> {
        let req = DescribeKeyRequest {
            key_id: key.to_owned(),
            grant_tokens: None,
        };
        Ok(self
            .kms
            .describe_key(ACCOUNT, req)
            .await?
            .key_metadata
            .unwrap())
    }

    async fn alias(&self, name: &str, target: &str) -> Result<EmptyResponse, KmsError> {
        let req = AliasRequest {
            alias_name: name.to_owned(),
            target_key_id: target.to_owned(),
        };
        self.kms.create_alias(ACCOUNT, req).await
    }

    async fn schedule(&self, key: &str, days: Option<u32>) -> Result<(), KmsError> {
        let req = ScheduleKeyDeletionRequest {
            key_id: key.to_owned(),
            pending_window_in_days: days,
        };
        self.kms.schedule_key_deletion(ACCOUNT, req).await.map(drop)
    }
}

fn decrypt_request(blob: &[u8], context: &EncryptionContext, key: Option<&str>) -> DecryptRequest {
    DecryptRequest {
        ciphertext_blob: blob.to_vec(),
        encryption_context: Some(context.clone()),
        grant_tokens: None,
        key_id: key.map(str::to_owned),
        encryption_algorithm: None,
        recipient: None,
        dry_run: None,
    }
}

fn generate_request(key: &str) -> GenerateDataKeyRequest {
    GenerateDataKeyRequest {
        key_id: key.to_owned(),
        encryption_context: None,
        number_of_bytes: None,
        key_spec: Some("AES_256".to_owned()),
        grant_tokens: None,
        recipient: None,
        dry_run: None,
    }
}

fn code<T: fmt::Debug>(result: Result<T, KmsError>) -> &'static str {
    result.unwrap_err().aws_code()
}

#[tokio::test]
async fn encrypt_decrypt_round_trip_through_every_key_id_form() {
    let f = fixture();
    let key = f.create().await;
    assert_eq!(key.key_state, KeyState::Enabled);
    assert_eq!(key.key_manager, "CUSTOMER");
    assert_eq!(
        key.arn,
        format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{}", key.key_id)
    );
    f.alias("alias/app", &key.key_id).await.unwrap();
    let alias_arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/app");
    let context = ctx(&[("tenant", "a"), ("purpose", "test")]);
    for form in [key.key_id.as_str(), &key.arn, "alias/app", &alias_arn] {
        let blob = f.encrypt(form, b"attack at dawn", &context).await;
        let out = f.decrypt(&blob, &context).await.unwrap();
        assert_eq!(out.plaintext, b"attack at dawn");
        assert_eq!(out.key_id, key.arn);
        assert_eq!(out.encryption_algorithm, "SYMMETRIC_DEFAULT");
        assert_eq!(Some(out.key_material_id), key.current_key_material_id);
    }
    let order_free = ctx(&[("purpose", "test"), ("tenant", "a")]);
    let blob = f.encrypt("alias/app", b"x", &context).await;
    assert!(f.decrypt(&blob, &order_free).await.is_ok());
}

#[tokio::test]
async fn wrong_context_fails_with_invalid_ciphertext() {
    let f = fixture();
    let key = f.create().await;
    let context = ctx(&[("aws:aps:arn", "ws-1")]);
    let blob = f.encrypt(&key.key_id, b"secret", &context).await;
    for wrong in [
        ctx(&[]),
        ctx(&[("aws:aps:arn", "ws-2")]),
        ctx(&[("aws:aps:arn", "WS-1")]),
        ctx(&[("aws:aps:arn", "ws-1"), ("extra", "1")]),
    ] {
        assert_eq!(
            code(f.decrypt(&blob, &wrong).await),
            "InvalidCiphertextException"
        );
    }
}

#[tokio::test]
async fn every_tampered_byte_is_rejected() {
    let f = fixture();
    let key = f.create().await;
    let context = ctx(&[("k", "v")]);
    let blob = f.encrypt(&key.key_id, b"the plaintext", &context).await;
    for i in 0..blob.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = blob.clone();
            bad[i] ^= bit;
            let result = f.decrypt(&bad, &context).await;
            assert_eq!(
                code(result),
                "InvalidCiphertextException",
                "byte {i} bit {bit:#x}"
            );
        }
    }
    for len in [0, 1, blob.len() - 1] {
        assert!(
            f.decrypt(&blob[..len], &context).await.is_err(),
            "truncated to {len}"
        );
    }
    let mut longer = blob.clone();
    longer.push(0);
    assert!(f.decrypt(&longer, &context).await.is_err());
}

#[tokio::test]
async fn disabled_key_refuses_and_recovers() {
    let f = fixture();
    let key = f.create().await;
    let context = ctx(&[("aws:aps:arn", "ws-1")]);
    let (_, wrapped) = f
        .kms
        .create_data_key(ACCOUNT, &key.key_id, &context)
        .await
        .unwrap();
    let blob = f.encrypt(&key.key_id, b"data", &context).await;

    f.kms
        .disable_key(ACCOUNT, key_id(&key.key_id))
        .await
        .unwrap();
    assert_eq!(
        f.describe(&key.key_id).await.unwrap().key_state,
        KeyState::Disabled
    );
    assert_eq!(code(f.decrypt(&blob, &context).await), "DisabledException");
    assert_eq!(
        code(f.kms.check_usable(&key.arn).await),
        "DisabledException"
    );
    assert_eq!(
        code(f.kms.unwrap_data_key(&wrapped, &context).await),
        "DisabledException"
    );
    assert_eq!(
        code(
            f.kms
                .generate_data_key(ACCOUNT, generate_request(&key.key_id))
                .await
        ),
        "DisabledException"
    );
    assert_eq!(
        code(f.kms.create_data_key(ACCOUNT, &key.key_id, &context).await),
        "DisabledException"
    );

    f.kms
        .enable_key(ACCOUNT, key_id(&key.key_id))
        .await
        .unwrap();
    assert!(f.decrypt(&blob, &context).await.is_ok());
    f.kms.check_usable(&key.arn).await.unwrap();
    f.kms.unwrap_data_key(&wrapped, &context).await.unwrap();
}

#[tokio::test]
async fn pending_deletion_refuses_and_cancel_returns_to_disabled() {
    let f = fixture();
    let key = f.create().await;
    let context = ctx(&[]);
    let (data_key, wrapped) = f
        .kms
        .create_data_key(ACCOUNT, &key.arn, &context)
        .await
        .unwrap();
    let sealed = data_key.seal(b"aad", b"samples").unwrap();

    let scheduled = f
        .kms
        .schedule_key_deletion(
            ACCOUNT,
            ScheduleKeyDeletionRequest {
                key_id: key.key_id.clone(),
                pending_window_in_days: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(scheduled.pending_window_in_days, 30);
    assert_eq!(scheduled.key_state, KeyState::PendingDeletion);
    assert_eq!(scheduled.deletion_date, f.clock.now() + Duration::days(30));
    let described = f.describe(&key.key_id).await.unwrap();
    assert_eq!(described.key_state, KeyState::PendingDeletion);
    assert_eq!(described.pending_deletion_window_in_days, Some(30));
    assert!(!described.enabled);

    assert_eq!(
        code(f.kms.unwrap_data_key(&wrapped, &context).await),
        "KMSInvalidStateException"
    );
    assert_eq!(
        code(f.kms.enable_key(ACCOUNT, key_id(&key.key_id)).await),
        "KMSInvalidStateException"
    );
    assert_eq!(
        code(f.schedule(&key.key_id, Some(7)).await),
        "KMSInvalidStateException"
    );

    let cancelled = f
        .kms
        .cancel_key_deletion(ACCOUNT, key_id(&key.key_id))
        .await
        .unwrap();
    assert_eq!(cancelled.key_id.as_deref(), Some(key.arn.as_str()));
    assert_eq!(
        f.describe(&key.key_id).await.unwrap().key_state,
        KeyState::Disabled
    );
    assert_eq!(
        code(f.kms.unwrap_data_key(&wrapped, &context).await),
        "DisabledException"
    );
    f.kms
        .enable_key(ACCOUNT, key_id(&key.key_id))
        .await
        .unwrap();
    let again = f.kms.unwrap_data_key(&wrapped, &context).await.unwrap();
    assert_eq!(again.open(b"aad", &sealed).unwrap(), b"samples");
    assert_eq!(
        code(
            f.kms
                .cancel_key_deletion(ACCOUNT, key_id(&key.key_id))
                .await
        ),
        "KMSInvalidStateException"
    );
}

#[tokio::test]
async fn automatic_rotation_keeps_old_ciphertexts_and_uses_new_material() {
    let f = fixture();
    let key = f.create().await;
    let first_material = key.current_key_material_id.clone().unwrap();
    let context = ctx(&[("k", "v")]);
    let old_blob = f.encrypt(&key.key_id, b"before", &context).await;

    let enable = EnableKeyRotationRequest {
        key_id: key.key_id.clone(),
        rotation_period_in_days: Some(90),
    };
    f.kms.enable_key_rotation(ACCOUNT, enable).await.unwrap();
    let status = f
        .kms
        .get_key_rotation_status(ACCOUNT, key_id(&key.key_id))
        .await
        .unwrap();
    assert!(status.key_rotation_enabled);
    assert_eq!(status.rotation_period_in_days, Some(90));
    assert_eq!(
        status.next_rotation_date,
        Some(f.clock.now() + Duration::days(90))
    );

    f.clock.advance(Duration::days(89));
    assert_eq!(f.kms.tick().await.unwrap(), TickSummary::default());
    f.clock.advance(Duration::days(1));
    let summary = f.kms.tick().await.unwrap();
    assert_eq!(summary.rotated, 1);
    assert_eq!(f.kms.tick().await.unwrap().rotated, 0);

    let rotated = f.describe(&key.key_id).await.unwrap();
    let second_material = rotated.current_key_material_id.unwrap();
    assert_ne!(second_material, first_material);
    let new_blob = f.encrypt(&key.key_id, b"after", &context).await;
    let old = f.decrypt(&old_blob, &context).await.unwrap();
    assert_eq!(old.plaintext, b"before");
    assert_eq!(old.key_material_id, first_material);
    let new = f.decrypt(&new_blob, &context).await.unwrap();
    assert_eq!(new.plaintext, b"after");
    assert_eq!(new.key_material_id, second_material);
    assert_eq!(blob::parse(&new_blob).unwrap().version, 2);
    let status = f
        .kms
        .get_key_rotation_status(ACCOUNT, key_id(&key.key_id))
        .await
        .unwrap();
    assert_eq!(
        status.next_rotation_date,
        Some(f.clock.now() + Duration::days(90))
    );
}

#[tokio::test]
async fn rotation_due_while_disabled_happens_on_enable() {
    let f = fixture();
    let key = f.create().await;
    let enable = EnableKeyRotationRequest {
        key_id: key.key_id.clone(),
        rotation_period_in_days: None,
    };
    f.kms.enable_key_rotation(ACCOUNT, enable).await.unwrap();
    f.kms
        .disable_key(ACCOUNT, key_id(&key.key_id))
        .await
        .unwrap();
    f.clock.advance(Duration::days(400));
    assert_eq!(f.kms.tick().await.unwrap().rotated, 0);
    f.kms
        .enable_key(ACCOUNT, key_id(&key.key_id))
        .await
        .unwrap();
    let after = f.describe(&key.key_id).await.unwrap();
    assert_ne!(after.current_key_material_id, key.current_key_material_id);
}

#[tokio::test]
async fn on_demand_rotation_is_limited_and_refused_when_disabled() {
    let f = fixture();
    let key = f.create().await;
    let context = ctx(&[]);
    let mut blobs = vec![f.encrypt(&key.key_id, b"v1", &context).await];
    for _ in 0..25 {
        let out = f
            .kms
            .rotate_key_on_demand(ACCOUNT, key_id(&key.arn))
            .await
            .unwrap();
        assert_eq!(out.key_id.as_deref(), Some(key.key_id.as_str()));
        blobs.push(f.encrypt(&key.key_id, b"vn", &context).await);
    }
    assert_eq!(
        code(
            f.kms
                .rotate_key_on_demand(ACCOUNT, key_id(&key.key_id))
                .await
        ),
        "LimitExceededException"
    );
    for blob in &blobs {
        assert!(f.decrypt(blob, &context).await.is_ok());
    }
    assert_eq!(blob::parse(blobs.last().unwrap()).unwrap().version, 26);

    let list = |include: Option<&str>, marker: Option<String>| ListKeyRotationsRequest {
        key_id: key.key_id.clone(),
        include_key_material: include.map(str::to_owned),
        limit: Some(20),
        marker,
    };
    let first = f
        .kms
        .list_key_rotations(ACCOUNT, list(None, None))
        .await
        .unwrap();
    assert_eq!(first.rotations.len(), 20);
    assert!(first.truncated);
    assert!(
        first
            .rotations
            .iter()
            .all(|r| r.rotation_type.as_deref() == Some("ON_DEMAND"))
    );
    let rest = f
        .kms
        .list_key_rotations(ACCOUNT, list(None, first.next_marker))
        .await
        .unwrap();
    assert_eq!(rest.rotations.len(), 5);
    assert!(!rest.truncated);
    assert_eq!(rest.rotations[4].key_material_state, "CURRENT");
    assert_eq!(rest.rotations[3].key_material_state, "NON_CURRENT");
    let all = f
        .kms
        .list_key_rotations(ACCOUNT, list(Some("ALL_KEY_MATERIAL"), None))
        .await
        .unwrap();
    assert_eq!(
        all.rotations[0].key_material_id,
        key.current_key_material_id.clone().unwrap()
    );
    assert_eq!(all.rotations[0].rotation_type, None);
    assert_eq!(all.rotations[0].rotation_date, None);

    let other = f.create().await;
    f.kms
        .disable_key(ACCOUNT, key_id(&other.key_id))
        .await
        .unwrap();
    assert_eq!(
        code(
            f.kms
                .rotate_key_on_demand(ACCOUNT, key_id(&other.key_id))
                .await
        ),
        "DisabledException"
    );
}

#[tokio::test]
async fn deletion_after_the_window_shreds_the_key() {
    let f = fixture();
    let key = f.create().await;
    let keep = f.create().await;
    f.alias("alias/doomed", &key.key_id).await.unwrap();
    let context = ctx(&[("aws:aps:arn", "ws-1")]);
    let blob = f.encrypt(&key.key_id, b"gone soon", &context).await;
    let (_, wrapped) = f
        .kms
        .create_data_key(ACCOUNT, &key.key_id, &context)
        .await
        .unwrap();

    assert_eq!(
        code(f.schedule(&key.key_id, Some(6)).await),
        "ValidationException"
    );
    assert_eq!(
        code(f.schedule(&key.key_id, Some(31)).await),
        "ValidationException"
    );
    f.kms.check_usable(&key.arn).await.unwrap();
    f.schedule(&key.key_id, Some(7)).await.unwrap();
    assert_eq!(
        code(f.kms.check_usable(&key.arn).await),
        "KMSInvalidStateException"
    );
    let status = f
        .kms
        .get_key_rotation_status(ACCOUNT, key_id(&key.key_id))
        .await
        .unwrap();
    assert!(!status.key_rotation_enabled);

    f.clock.advance(Duration::days(7) - Duration::seconds(1));
    assert_eq!(f.kms.tick().await.unwrap().deleted, 0);
    f.clock.advance(Duration::seconds(1));
    let summary = f.kms.tick().await.unwrap();
    assert_eq!(summary.deleted, 1);
    assert_eq!(summary.deleted_arns, vec![key.arn.clone()]);

    assert_eq!(code(f.describe(&key.key_id).await), "NotFoundException");
    assert_eq!(
        code(f.kms.check_usable(&key.arn).await),
        "NotFoundException"
    );
    assert_eq!(code(f.describe("alias/doomed").await), "NotFoundException");
    assert_eq!(
        code(f.decrypt(&blob, &context).await),
        "InvalidCiphertextException"
    );
    assert_eq!(
        code(f.kms.unwrap_data_key(&wrapped, &context).await),
        "InvalidCiphertextException"
    );
    assert!(f.describe(&keep.key_id).await.is_ok());
}

#[tokio::test]
async fn aliases_resolve_list_update_and_delete() {
    let f = fixture();
    let a = f.create().await;
    let b = f.create().await;
    f.alias("alias/one", &a.key_id).await.unwrap();
    f.alias("alias/two", &a.arn).await.unwrap();
    assert_eq!(
        code(f.alias("alias/one", &b.key_id).await),
        "AlreadyExistsException"
    );
    assert_eq!(
        code(f.alias("alias/aws/mine", &b.key_id).await),
        "InvalidAliasNameException"
    );
    assert_eq!(
        code(f.alias("one", &b.key_id).await),
        "InvalidAliasNameException"
    );
    assert_eq!(
        code(f.alias("alias/three", "alias/one").await),
        "NotFoundException"
    );
    assert_eq!(f.describe("alias/one").await.unwrap().key_id, a.key_id);

    let listed = f
        .kms
        .list_aliases(ACCOUNT, ListAliasesRequest::default())
        .await
        .unwrap();
    let names: Vec<_> = listed
        .aliases
        .iter()
        .map(|x| x.alias_name.as_str())
        .collect();
    assert_eq!(names, ["alias/one", "alias/two"]);
    assert_eq!(
        listed.aliases[0].alias_arn,
        format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/one")
    );

    f.kms
        .update_alias(
            ACCOUNT,
            AliasRequest {
                alias_name: "alias/two".into(),
                target_key_id: b.key_id.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(f.describe("alias/two").await.unwrap().key_id, b.key_id);
    let of_b = f
        .kms
        .list_aliases(
            ACCOUNT,
            ListAliasesRequest {
                key_id: Some(b.key_id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(of_b.aliases.len(), 1);
    assert_eq!(of_b.aliases[0].target_key_id, b.key_id);

    let delete = |name: &str| DeleteAliasRequest {
        alias_name: name.to_owned(),
    };
    f.kms
        .delete_alias(ACCOUNT, delete("alias/one"))
        .await
        .unwrap();
    assert_eq!(code(f.describe("alias/one").await), "NotFoundException");
    assert_eq!(
        code(f.kms.delete_alias(ACCOUNT, delete("alias/one")).await),
        "NotFoundException"
    );
    assert!(f.describe(&a.key_id).await.is_ok());

    // Management operations take only key ids and key ARNs.
    assert_eq!(
        code(f.kms.disable_key(ACCOUNT, key_id("alias/two")).await),
        "NotFoundException"
    );
}

#[tokio::test]
async fn accounts_are_separate_except_by_arn_for_crypto() {
    let f = fixture();
    let key = f.create().await;
    let other = |id: &str| DescribeKeyRequest {
        key_id: id.to_owned(),
        grant_tokens: None,
    };
    assert_eq!(
        code(f.kms.describe_key(OTHER, other(&key.key_id)).await),
        "NotFoundException"
    );
    assert!(f.kms.describe_key(OTHER, other(&key.arn)).await.is_ok());
    assert_eq!(
        code(f.kms.disable_key(OTHER, key_id(&key.arn)).await),
        "NotFoundException"
    );
    let listed = f
        .kms
        .list_keys(OTHER, ListRequest::default())
        .await
        .unwrap();
    assert!(listed.keys.is_empty());
}

#[tokio::test]
async fn decrypt_with_another_key_id_is_incorrect_key() {
    let f = fixture();
    let a = f.create().await;
    let b = f.create().await;
    let context = ctx(&[]);
    let blob = f.encrypt(&a.key_id, b"x", &context).await;
    let wrong = decrypt_request(&blob, &context, Some(&b.key_id));
    assert_eq!(
        code(f.kms.decrypt(ACCOUNT, wrong).await),
        "IncorrectKeyException"
    );
    let right = decrypt_request(&blob, &context, Some(&a.arn));
    assert!(f.kms.decrypt(ACCOUNT, right).await.is_ok());
}

#[tokio::test]
async fn re_encrypt_moves_to_another_key_and_context() {
    let f = fixture();
    let a = f.create().await;
    let b = f.create().await;
    let blob = f
        .encrypt(&a.key_id, b"move me", &ctx(&[("from", "a")]))
        .await;
    let out = f
        .kms
        .re_encrypt(
            ACCOUNT,
            ReEncryptRequest {
                ciphertext_blob: blob,
                source_encryption_context: Some(ctx(&[("from", "a")])),
                source_key_id: None,
                destination_key_id: b.key_id.clone(),
                destination_encryption_context: Some(ctx(&[("to", "b")])),
                source_encryption_algorithm: None,
                destination_encryption_algorithm: None,
                grant_tokens: None,
                dry_run: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(out.source_key_id, a.arn);
    assert_eq!(out.key_id, b.arn);
    let back = f
        .decrypt(&out.ciphertext_blob, &ctx(&[("to", "b")]))
        .await
        .unwrap();
    assert_eq!(back.plaintext, b"move me");
    assert_eq!(back.key_id, b.arn);
}

#[tokio::test]
async fn generate_data_key_sizes_and_validation() {
    let f = fixture();
    let key = f.create().await;
    let out = f
        .kms
        .generate_data_key(ACCOUNT, generate_request(&key.key_id))
        .await
        .unwrap();
    let plaintext = out.plaintext.unwrap();
    assert_eq!(plaintext.len(), 32);
    assert_eq!(
        f.decrypt(&out.ciphertext_blob, &ctx(&[]))
            .await
            .unwrap()
            .plaintext,
        plaintext
    );

    let mut req = generate_request(&key.key_id);
    req.key_spec = None;
    req.number_of_bytes = Some(64);
    let out = f
        .kms
        .generate_data_key_without_plaintext(ACCOUNT, req.clone())
        .await
        .unwrap();
    assert!(out.plaintext.is_none());
    assert_eq!(
        f.decrypt(&out.ciphertext_blob, &ctx(&[]))
            .await
            .unwrap()
            .plaintext
            .len(),
        64
    );

    req.key_spec = Some("AES_128".into());
    assert_eq!(
        code(f.kms.generate_data_key(ACCOUNT, req.clone()).await),
        "ValidationException"
    );
    req.number_of_bytes = None;
    let out = f.kms.generate_data_key(ACCOUNT, req.clone()).await.unwrap();
    assert_eq!(out.plaintext.unwrap().len(), 16);
    req.key_spec = None;
    req.number_of_bytes = Some(1025);
    assert_eq!(
        code(f.kms.generate_data_key(ACCOUNT, req.clone()).await),
        "ValidationException"
    );
    req.number_of_bytes = Some(16);
    req.dry_run = Some(true);
    assert_eq!(
        code(f.kms.generate_data_key(ACCOUNT, req).await),
        "DryRunOperationException"
    );
}

#[tokio::test]
async fn encrypt_limits_and_unsupported_key_kinds() {
    let f = fixture();
    let key = f.create().await;
    let big = EncryptRequest {
        key_id: key.key_id.clone(),
        plaintext: vec![0; 4097],
        encryption_context: None,
        grant_tokens: None,
        encryption_algorithm: None,
        dry_run: None,
    };
    assert_eq!(
        code(f.kms.encrypt(ACCOUNT, big.clone()).await),
        "ValidationException"
    );
    let rsa = EncryptRequest {
        plaintext: vec![1],
        encryption_algorithm: Some("RSAES_OAEP_SHA_256".into()),
        ..big
    };
    assert_eq!(
        code(f.kms.encrypt(ACCOUNT, rsa).await),
        "InvalidKeyUsageException"
    );
    let asymmetric = CreateKeyRequest {
        key_spec: Some("RSA_2048".into()),
        ..Default::default()
    };
    assert_eq!(
        code(f.kms.create_key(ACCOUNT, asymmetric).await),
        "UnsupportedOperationException"
    );
    let bad_policy = CreateKeyRequest {
        policy: Some("not json".into()),
        ..Default::default()
    };
    assert_eq!(
        code(f.kms.create_key(ACCOUNT, bad_policy).await),
        "MalformedPolicyDocumentException"
    );
}

#[tokio::test]
async fn rotation_period_is_validated() {
    let f = fixture();
    let key = f.create().await;
    for days in [89, 2561] {
        let req = EnableKeyRotationRequest {
            key_id: key.key_id.clone(),
            rotation_period_in_days: Some(days),
        };
        assert_eq!(
            code(f.kms.enable_key_rotation(ACCOUNT, req).await),
            "ValidationException"
        );
    }
}

#[tokio::test]
async fn list_keys_pages_with_markers() {
    let f = fixture();
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(f.create().await.key_id);
    }
    created.sort();
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = f
            .kms
            .list_keys(
                ACCOUNT,
                ListRequest {
                    limit: Some(2),
                    marker: marker.take(),
                },
            )
            .await
            .unwrap();
        seen.extend(page.keys.into_iter().map(|k| k.key_id));
        if !page.truncated {
            assert!(page.next_marker.is_none());
            break;
        }
        marker = page.next_marker;
    }
    assert_eq!(seen, created);
    let bad = ListRequest {
        limit: None,
        marker: Some("garbage".into()),
    };
    assert_eq!(
        code(f.kms.list_keys(ACCOUNT, bad).await),
        "InvalidMarkerException"
    );
    let zero = ListRequest {
        limit: Some(0),
        marker: None,
    };
    assert_eq!(
        code(f.kms.list_keys(ACCOUNT, zero).await),
        "ValidationException"
    );
}

#[tokio::test]
async fn tags_are_added_overwritten_removed_and_validated() {
    let f = fixture();
    let key = f.create().await;
    let tag = |k: &str, v: &str| Tag {
        tag_key: k.to_owned(),
        tag_value: v.to_owned(),
    };
    let tag_req = |tags: Vec<Tag>| TagResourceRequest {
        key_id: key.key_id.clone(),
        tags,
    };
    f.kms
        .tag_resource(
            ACCOUNT,
            tag_req(vec![tag("team", "obs"), tag("env", "dev")]),
        )
        .await
        .unwrap();
    f.kms
        .tag_resource(ACCOUNT, tag_req(vec![tag("env", "prod")]))
        .await
        .unwrap();
    assert_eq!(
        code(
            f.kms
                .tag_resource(ACCOUNT, tag_req(vec![tag("aws:x", "1")]))
                .await
        ),
        "TagException"
    );
    let many = (0..49).map(|i| tag(&format!("k{i}"), "v")).collect();
    assert_eq!(
        code(f.kms.tag_resource(ACCOUNT, tag_req(many)).await),
        "LimitExceededException"
    );
    let list = |marker: Option<String>| ListResourceTagsRequest {
        key_id: key.key_id.clone(),
        limit: Some(1),
        marker,
    };
    let first = f.kms.list_resource_tags(ACCOUNT, list(None)).await.unwrap();
    assert_eq!(first.tags, [tag("team", "obs")]);
    assert!(first.truncated);
    let second = f
        .kms
        .list_resource_tags(ACCOUNT, list(first.next_marker))
        .await
        .unwrap();
    assert_eq!(second.tags, [tag("env", "prod")]);
    assert!(!second.truncated);
    f.kms
        .untag_resource(
            ACCOUNT,
            UntagResourceRequest {
                key_id: key.key_id.clone(),
                tag_keys: vec!["team".into(), "absent".into()],
            },
        )
        .await
        .unwrap();
    let rest = f.kms.list_resource_tags(ACCOUNT, list(None)).await.unwrap();
    assert_eq!(rest.tags, [tag("env", "prod")]);
}

#[tokio::test]
async fn key_policy_defaults_to_root_delegation_and_can_be_replaced() {
    let f = fixture();
    let key = f.create().await;
    let get = || GetKeyPolicyRequest {
        key_id: key.key_id.clone(),
        policy_name: None,
    };
    let policy = f.kms.get_key_policy(ACCOUNT, get()).await.unwrap();
    assert_eq!(policy.policy_name, "default");
    let doc: serde_json::Value = serde_json::from_str(&policy.policy).unwrap();
    let statement = &doc["Statement"][0];
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Action"], "kms:*");
    assert_eq!(
        statement["Principal"]["AWS"],
        format!("arn:aws:iam::{ACCOUNT}:root")
    );

    let put = |policy: &str| PutKeyPolicyRequest {
        key_id: key.key_id.clone(),
        policy_name: Some("default".into()),
        policy: policy.to_owned(),
        bypass_policy_lockout_safety_check: None,
    };
    assert_eq!(
        code(
            f.kms
                .put_key_policy(ACCOUNT, put("{\"Version\":\"2012-10-17\"}"))
                .await
        ),
        "MalformedPolicyDocumentException"
    );
    let custom = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"}]}"#;
    f.kms.put_key_policy(ACCOUNT, put(custom)).await.unwrap();
    assert_eq!(
        f.kms.get_key_policy(ACCOUNT, get()).await.unwrap().policy,
        custom
    );
    let other_name = GetKeyPolicyRequest {
        policy_name: Some("other".into()),
        ..get()
    };
    assert_eq!(
        code(f.kms.get_key_policy(ACCOUNT, other_name).await),
        "NotFoundException"
    );
}

#[tokio::test]
async fn default_workspace_key_is_aws_managed_and_created_once() {
    let f = fixture();
    let first = f.kms.default_workspace_key(ACCOUNT).await.unwrap();
    let second = f.kms.default_workspace_key(ACCOUNT).await.unwrap();
    assert_eq!(first.key_id, second.key_id);
    assert_eq!(first.key_manager, "AWS");
    assert_eq!(
        f.describe(WORKSPACE_DEFAULT_ALIAS).await.unwrap().key_id,
        first.key_id
    );
    assert_ne!(
        f.kms.default_workspace_key(OTHER).await.unwrap().key_id,
        first.key_id
    );
    let status = f
        .kms
        .get_key_rotation_status(ACCOUNT, key_id(&first.key_id))
        .await
        .unwrap();
    assert!(status.key_rotation_enabled);
    assert_eq!(status.rotation_period_in_days, Some(365));
    assert_eq!(
        code(f.kms.disable_key(ACCOUNT, key_id(&first.key_id)).await),
        "AccessDeniedException"
    );
    assert_eq!(
        code(f.schedule(&first.key_id, None).await),
        "AccessDeniedException"
    );
    assert_eq!(
        code(
            f.kms
                .rotate_key_on_demand(ACCOUNT, key_id(&first.key_id))
                .await
        ),
        "UnsupportedOperationException"
    );
    let delete = DeleteAliasRequest {
        alias_name: WORKSPACE_DEFAULT_ALIAS.into(),
    };
    assert_eq!(
        code(f.kms.delete_alias(ACCOUNT, delete).await),
        "AccessDeniedException"
    );
    let (data_key, wrapped) = f
        .kms
        .create_data_key(ACCOUNT, WORKSPACE_DEFAULT_ALIAS, &ctx(&[]))
        .await
        .unwrap();
    let sealed = data_key.seal(b"", b"rules").unwrap();
    let again = f.kms.unwrap_data_key(&wrapped, &ctx(&[])).await.unwrap();
    assert_eq!(again.open(b"", &sealed).unwrap(), b"rules");
}

#[tokio::test]
async fn json_protocol_uses_model_member_names() {
    let f = fixture();
    let created = f
        .kms
        .handle(
            ACCOUNT,
            Operation::CreateKey,
            br#"{"Description":"wire","Tags":[{"TagKey":"a","TagValue":"b"}]}"#,
        )
        .await
        .unwrap();
    let created: serde_json::Value = serde_json::from_slice(&created).unwrap();
    let metadata = &created["KeyMetadata"];
    assert_eq!(metadata["Description"], "wire");
    assert_eq!(metadata["AWSAccountId"], ACCOUNT);
    assert_eq!(metadata["KeySpec"], "SYMMETRIC_DEFAULT");
    assert_eq!(metadata["KeyState"], "Enabled");
    assert!(metadata["CreationDate"].is_i64());
    let key = metadata["KeyId"].as_str().unwrap();

    let body = serde_json::json!({
        "KeyId": key,
        "Plaintext": "aGVsbG8=",
        "EncryptionContext": {"aws:aps:arn": "ws"},
    });
    let out = f
        .kms
        .handle(ACCOUNT, Operation::Encrypt, body.to_string().as_bytes())
        .await
        .unwrap();
    let out: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let body = serde_json::json!({
        "CiphertextBlob": out["CiphertextBlob"],
        "EncryptionContext": {"aws:aps:arn": "ws"},
    });
    let plain = f
        .kms
        .handle(ACCOUNT, Operation::Decrypt, body.to_string().as_bytes())
        .await
        .unwrap();
    let plain: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(plain["Plaintext"], "aGVsbG8=");
    assert_eq!(plain["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT");

    let listed = f
        .kms
        .handle(ACCOUNT, Operation::ListKeys, b"")
        .await
        .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&listed).unwrap();
    assert_eq!(listed["Keys"][0]["KeyId"], key);
    assert_eq!(listed["Truncated"], false);

    let empty = f
        .kms
        .handle(
            ACCOUNT,
            Operation::DisableKey,
            format!(r#"{{"KeyId":"{key}"}}"#).as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(empty, b"{}");

    let err = f
        .kms
        .handle(ACCOUNT, Operation::Encrypt, b"{\"KeyId\": 5}")
        .await
        .unwrap_err();
    assert_eq!(err.aws_code(), "SerializationException");
}

#[tokio::test]
async fn keys_survive_restart_on_files_and_need_the_same_root_key() {
    let dir = tempfile::tempdir().unwrap();
    let root_file = dir.path().join("root.key");
    let open = |root: RootKey| {
        let keys = dir.path().join("kms");
        async move {
            KmsService::new(
                KmsConfig::default(),
                root,
                Arc::new(FileKeyRepository::open(keys).await.unwrap()),
                Arc::new(TestClock::new(datetime!(2026-03-01 12:00 UTC))),
            )
        }
    };
    let context = ctx(&[("aws:aps:arn", "ws-1")]);
    let (key, blob, wrapped) = {
        let kms = open(RootKey::load(Some(&root_file), None).unwrap()).await;
        let key = kms
            .create_key(ACCOUNT, CreateKeyRequest::default())
            .await
            .unwrap()
            .key_metadata
            .unwrap();
        let req = AliasRequest {
            alias_name: "alias/persisted".into(),
            target_key_id: key.key_id.clone(),
        };
        kms.create_alias(ACCOUNT, req).await.unwrap();
        let blob = kms
            .encrypt(
                ACCOUNT,
                EncryptRequest {
                    key_id: "alias/persisted".into(),
                    plaintext: b"durable".to_vec(),
                    encryption_context: Some(context.clone()),
                    grant_tokens: None,
                    encryption_algorithm: None,
                    dry_run: None,
                },
            )
            .await
            .unwrap()
            .ciphertext_blob;
        let (_, wrapped) = kms
            .create_data_key(ACCOUNT, &key.arn, &context)
            .await
            .unwrap();
        (key, blob, wrapped)
    };

    let kms = open(RootKey::load(Some(&root_file), None).unwrap()).await;
    // Key material is stored only wrapped: the key's file holds it in no common encoding.
    let record = kms.inner.repo.get_key(&key.key_id).await.unwrap().unwrap();
    let material = kms.material(&record, &record.versions[0]).unwrap();
    let file = std::fs::read(dir.path().join(format!("kms/keys/{}.json", key.key_id))).unwrap();
    let encodings = [
        material.to_vec(),
        base64::engine::general_purpose::STANDARD
            .encode(material.as_slice())
            .into_bytes(),
        hex(material.as_slice()).into_bytes(),
    ];
    for encoded in encodings {
        assert!(!file.windows(encoded.len()).any(|w| w == encoded.as_slice()));
    }
    let out = kms
        .decrypt(
            ACCOUNT,
            decrypt_request(&blob, &context, Some("alias/persisted")),
        )
        .await
        .unwrap();
    assert_eq!(out.plaintext, b"durable");
    assert_eq!(out.key_id, key.arn);
    kms.unwrap_data_key(&wrapped, &context).await.unwrap();

    let wrong_root = open(RootKey::generate().unwrap()).await;
    let err = wrong_root
        .decrypt(ACCOUNT, decrypt_request(&blob, &context, None))
        .await
        .unwrap_err();
    assert_eq!(err.aws_code(), "KMSInternalException");
    assert_eq!(err.http_status(), 500);
}

#[tokio::test]
async fn debug_output_shows_no_records() {
    let f = fixture();
    let key = f.create().await;
    let shown = format!("{:?}", f.kms);
    assert!(shown.contains("MemoryKeyRepository"), "{shown}");
    assert!(!shown.contains(&key.key_id), "{shown}");
}

#[tokio::test]
async fn every_operation_answers_an_empty_request_with_a_client_error_or_success() {
    let f = fixture();
    for op in Operation::ALL {
        match f.kms.handle(ACCOUNT, *op, b"{}").await {
            Ok(body) => {
                serde_json::from_slice::<serde_json::Value>(&body).unwrap();
            }
            Err(err) => assert_eq!(err.http_status(), 400, "{} -> {err:?}", op.name()),
        }
    }
}
