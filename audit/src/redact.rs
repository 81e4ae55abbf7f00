//! Removal of secrets from request parameters and response elements.
//!
//! Redaction goes by field name, recursively through every object and array, so a secret in a
//! field nobody thought of when wiring a handler is still caught as long as its name says what it
//! is. Values are replaced, not dropped, so readers can see that a field was present.

use serde_json::Value;

/// What CloudTrail writes in place of a sensitive value.
pub const REDACTED: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// Normalized names (lower case, no `_`/`-`) that are redacted wherever they appear.
const SECRET_NAMES: &[&str] = &[
    "ciphertextblob",
    "credentials",
    "plaintext",
    "privatekey",
    "samlassertion",
    "sessiontoken",
    "webidentitytoken",
];

/// Fragments that make any field name secret (`secretAccessKey`, `newPassword`, `clientSecret`,
/// `PlaintextDataKey`, `privateKeyPem`, …).
const SECRET_FRAGMENTS: &[&str] = &[
    "secret",
    "password",
    "plaintext",
    "privatekey",
    "sessiontoken",
];

/// Returns `value` with every secret field's value replaced by [`REDACTED`].
pub fn redact(mut value: Value) -> Value {
    redact_in_place(&mut value);
    value
}

/// Replaces secret values inside `value` in place.
pub(crate) fn redact_in_place(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_name(key) {
                    redact_whole(v);
                } else {
                    redact_in_place(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_in_place),
        _ => {}
    }
}

/// Replaces a secret value; inside objects only the leaves are replaced, so non-secret members
/// such as `credentials.accessKeyId` and `credentials.expiration` stay readable.
fn redact_whole(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_public_credential_member(key) {
                    redact_in_place(v);
                } else {
                    redact_whole(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_whole),
        Value::Null => {}
        other => *other = Value::String(REDACTED.to_owned()),
    }
}

/// Members of a credentials object that identify rather than authenticate.
fn is_public_credential_member(key: &str) -> bool {
    matches!(
        normalize(key).as_str(),
        "accesskeyid" | "expiration" | "status" | "username"
    )
}

fn normalize(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_secret_name(key: &str) -> bool {
    let key = normalize(key);
    SECRET_NAMES.contains(&key.as_str()) || SECRET_FRAGMENTS.iter().any(|f| key.contains(f))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn create_access_key_response_hides_the_secret() {
        let v = redact(json!({"accessKey": {
            "userName": "alice", "accessKeyId": "AKIAEXAMPLE", "status": "Active",
            "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}));
        assert_eq!(v["accessKey"]["secretAccessKey"], REDACTED);
        assert_eq!(v["accessKey"]["accessKeyId"], "AKIAEXAMPLE");
        assert_eq!(v["accessKey"]["userName"], "alice");
    }

    #[test]
    fn sts_credentials_keep_only_identifying_members() {
        let v = redact(json!({"credentials": {
            "accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "s3cr3t",
            "sessionToken": "FwoGZXIvYXdzEBY", "expiration": "2025-01-02T04:04:05Z"}}));
        let c = &v["credentials"];
        assert_eq!(c["accessKeyId"], "ASIAEXAMPLE");
        assert_eq!(c["expiration"], "2025-01-02T04:04:05Z");
        assert_eq!(c["secretAccessKey"], REDACTED);
        assert_eq!(c["sessionToken"], REDACTED);
    }

    #[test]
    fn kms_blobs_and_nested_names_are_caught_at_any_depth() {
        let v = redact(
            json!({"items": [{"deep": {"Plaintext": "AAAA", "CiphertextBlob": "BBBB",
            "KeyId": "k", "new_password": ["x", "y"], "Secret-String": 7, "nothing": null}}]}),
        );
        let d = &v["items"][0]["deep"];
        assert_eq!(d["Plaintext"], REDACTED);
        assert_eq!(d["CiphertextBlob"], REDACTED);
        assert_eq!(d["new_password"], json!([REDACTED, REDACTED]));
        assert_eq!(d["Secret-String"], REDACTED);
        assert_eq!(d["KeyId"], "k");
        assert_eq!(d["nothing"], Value::Null);
    }

    #[test]
    fn ordinary_tokens_are_kept() {
        let v = redact(json!({"clientToken": "c", "nextToken": "n", "alias": "prod"}));
        assert_eq!(
            v,
            json!({"clientToken": "c", "nextToken": "n", "alias": "prod"})
        );
    }
}
