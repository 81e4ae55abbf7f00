//! Key identifiers: key ids, key ARNs, alias names and alias ARNs.

use uuid::Uuid;

use crate::error::KmsError;

/// Prefix every alias name carries.
pub(crate) const ALIAS_PREFIX: &str = "alias/";
/// Prefix reserved for AWS managed keys' aliases.
pub(crate) const RESERVED_ALIAS_PREFIX: &str = "alias/aws/";

/// What a `KeyId` argument names, before it is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyRef {
    /// A key by id, in `account`.
    Key { account: String, key_id: Uuid },
    /// A key through an alias of `account`.
    Alias { account: String, alias_name: String },
}

/// Whether an operation accepts alias names and alias ARNs as `KeyId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AliasUse {
    /// Cryptographic operations and `DescribeKey`: all four forms.
    Allowed,
    /// Management operations: key id or key ARN only.
    Refused,
}

/// Builds the ARN of a key.
pub(crate) fn key_arn(partition: &str, region: &str, account: &str, key_id: &str) -> String {
    format!("arn:{partition}:kms:{region}:{account}:key/{key_id}")
}

/// Builds the ARN of an alias.
pub(crate) fn alias_arn(partition: &str, region: &str, account: &str, alias_name: &str) -> String {
    format!("arn:{partition}:kms:{region}:{account}:{alias_name}")
}

/// Parses any of the four `KeyId` forms the way KMS does; ids without an account resolve in
/// `caller_account`.
pub(crate) fn parse_key_ref(
    input: &str,
    caller_account: &str,
    partition: &str,
    region: &str,
    alias_use: AliasUse,
) -> Result<KeyRef, KmsError> {
    if input.is_empty() || input.len() > 2048 {
        return Err(KmsError::Validation(
            "1 validation error detected: Value at 'keyId' failed to satisfy constraint: \
             Member must have length between 1 and 2048"
                .to_owned(),
        ));
    }
    let reference = if let Some(rest) = input.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [arn_partition, service, arn_region, account, resource] = parts[..] else {
            return Err(KmsError::InvalidArn(format!("Invalid arn {input}")));
        };
        if service != "kms" || account.is_empty() || arn_region.is_empty() {
            return Err(KmsError::InvalidArn(format!("Invalid arn {input}")));
        }
        if arn_partition != partition || arn_region != region {
            return Err(not_found_key(input));
        }
        if let Some(id) = resource.strip_prefix("key/") {
            KeyRef::Key {
                account: account.to_owned(),
                key_id: parse_uuid(id).ok_or_else(|| not_found_key(input))?,
            }
        } else if resource.starts_with(ALIAS_PREFIX) {
            KeyRef::Alias {
                account: account.to_owned(),
                alias_name: resource.to_owned(),
            }
        } else {
            return Err(KmsError::InvalidArn(format!("Invalid arn {input}")));
        }
    } else if input.starts_with(ALIAS_PREFIX) {
        KeyRef::Alias {
            account: caller_account.to_owned(),
            alias_name: input.to_owned(),
        }
    } else {
        KeyRef::Key {
            account: caller_account.to_owned(),
            key_id: parse_uuid(input)
                .ok_or_else(|| KmsError::NotFound(format!("Invalid keyId '{input}'")))?,
        }
    };
    if alias_use == AliasUse::Refused && matches!(reference, KeyRef::Alias { .. }) {
        return Err(KmsError::NotFound(format!(
            "Invalid keyId '{input}': this operation accepts only a key id or key ARN"
        )));
    }
    Ok(reference)
}

/// Parses a key id in its canonical lowercase hyphenated form only.
pub(crate) fn parse_uuid(id: &str) -> Option<Uuid> {
    let parsed = Uuid::try_parse(id).ok()?;
    (parsed.hyphenated().to_string() == id).then_some(parsed)
}

/// The NotFoundException KMS returns for a key that does not exist.
pub(crate) fn not_found_key(what: &str) -> KmsError {
    KmsError::NotFound(format!("Key '{what}' does not exist"))
}

/// Checks an alias name for CreateAlias/UpdateAlias/DeleteAlias.
pub(crate) fn validate_alias_name(name: &str) -> Result<(), KmsError> {
    let well_formed = name.len() <= 256
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'_' | b'-'));
    if !well_formed {
        return Err(KmsError::Validation(format!(
            "1 validation error detected: Value '{name}' at 'aliasName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
        )));
    }
    let Some(rest) = name.strip_prefix(ALIAS_PREFIX) else {
        return Err(KmsError::InvalidAliasName(format!(
            "Alias must start with the prefix \"alias/\": {name}"
        )));
    };
    if rest.is_empty() {
        return Err(KmsError::InvalidAliasName(format!(
            "Alias name must have a name after \"alias/\": {name}"
        )));
    }
    if name.starts_with(RESERVED_ALIAS_PREFIX) {
        return Err(KmsError::InvalidAliasName(format!(
            "Alias must not begin with the reserved prefix \"alias/aws/\": {name}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    fn parse(input: &str, alias_use: AliasUse) -> Result<KeyRef, KmsError> {
        parse_key_ref(input, "111122223333", "aws", "us-east-1", alias_use)
    }

    #[test]
    fn four_forms() {
        let key = KeyRef::Key {
            account: "111122223333".into(),
            key_id: Uuid::try_parse(ID).unwrap(),
        };
        assert_eq!(parse(ID, AliasUse::Allowed).unwrap(), key);
        let arn = format!("arn:aws:kms:us-east-1:111122223333:key/{ID}");
        assert_eq!(parse(&arn, AliasUse::Refused).unwrap(), key);
        let alias = KeyRef::Alias {
            account: "111122223333".into(),
            alias_name: "alias/app".into(),
        };
        assert_eq!(parse("alias/app", AliasUse::Allowed).unwrap(), alias);
        let alias_arn = "arn:aws:kms:us-east-1:111122223333:alias/app";
        assert_eq!(parse(alias_arn, AliasUse::Allowed).unwrap(), alias);
    }

    #[test]
    fn other_account_arn_keeps_its_account() {
        let arn = format!("arn:aws:kms:us-east-1:999999999999:key/{ID}");
        let KeyRef::Key { account, .. } = parse(&arn, AliasUse::Allowed).unwrap() else {
            panic!("expected a key reference");
        };
        assert_eq!(account, "999999999999");
    }

    #[test]
    fn refusals() {
        assert_eq!(
            parse("alias/app", AliasUse::Refused)
                .unwrap_err()
                .aws_code(),
            "NotFoundException"
        );
        assert_eq!(
            parse("nope", AliasUse::Allowed).unwrap_err().aws_code(),
            "NotFoundException"
        );
        assert_eq!(
            parse("arn:aws:s3:::bucket", AliasUse::Allowed)
                .unwrap_err()
                .aws_code(),
            "InvalidArnException"
        );
        let other_region = format!("arn:aws:kms:eu-west-1:111122223333:key/{ID}");
        assert_eq!(
            parse(&other_region, AliasUse::Allowed)
                .unwrap_err()
                .aws_code(),
            "NotFoundException"
        );
        assert_eq!(
            parse("", AliasUse::Allowed).unwrap_err().aws_code(),
            "ValidationException"
        );
        let upper = ID.to_uppercase();
        assert_eq!(
            parse(&upper, AliasUse::Allowed).unwrap_err().aws_code(),
            "NotFoundException"
        );
    }

    #[test]
    fn alias_names() {
        validate_alias_name("alias/my-app_1:x/y").unwrap();
        for (name, code) in [
            ("my-app", "InvalidAliasNameException"),
            ("alias/", "InvalidAliasNameException"),
            ("alias/aws/prometheus", "InvalidAliasNameException"),
            ("alias/with space", "ValidationException"),
        ] {
            assert_eq!(
                validate_alias_name(name).unwrap_err().aws_code(),
                code,
                "{name}"
            );
        }
    }
}
