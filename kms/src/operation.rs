//! The KMS operations this service answers, named once.

use crate::error::KmsError;

/// Declares the operation enum and its name table together so they cannot drift.
macro_rules! operations {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// A KMS operation offered on `X-Amz-Target: TrentService.<name>`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $($(#[$doc])* $name,)*
        }

        impl Operation {
            /// Every operation, in declaration order.
            pub const ALL: &'static [Operation] = &[$(Operation::$name,)*];

            /// Returns the operation name, also the CloudTrail `eventName`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Operation::$name => stringify!($name),)*
                }
            }

            /// Returns the IAM action authorizing the operation, e.g. `kms:Encrypt`.
            pub fn iam_action(self) -> &'static str {
                match self {
                    $(Operation::$name => concat!("kms:", stringify!($name)),)*
                }
            }
        }
    };
}

operations!(
    /// Creates a symmetric KMS key.
    CreateKey,
    /// Returns a key's metadata.
    DescribeKey,
    /// Lists the account's keys.
    ListKeys,
    /// Creates an alias.
    CreateAlias,
    /// Deletes an alias.
    DeleteAlias,
    /// Lists aliases.
    ListAliases,
    /// Points an alias at another key.
    UpdateAlias,
    /// Encrypts up to 4 KiB.
    Encrypt,
    /// Decrypts a ciphertext blob.
    Decrypt,
    /// Decrypts and encrypts again under another key or context.
    ReEncrypt,
    /// Returns a data key in plaintext and encrypted.
    GenerateDataKey,
    /// Returns a data key encrypted only.
    GenerateDataKeyWithoutPlaintext,
    /// Enables a key.
    EnableKey,
    /// Disables a key.
    DisableKey,
    /// Turns on automatic rotation.
    EnableKeyRotation,
    /// Turns off automatic rotation.
    DisableKeyRotation,
    /// Returns the rotation settings.
    GetKeyRotationStatus,
    /// Rotates the key material now.
    RotateKeyOnDemand,
    /// Lists the key's material versions.
    ListKeyRotations,
    /// Schedules deletion after a waiting period.
    ScheduleKeyDeletion,
    /// Cancels a scheduled deletion.
    CancelKeyDeletion,
    /// Adds or overwrites tags.
    TagResource,
    /// Removes tags.
    UntagResource,
    /// Lists tags.
    ListResourceTags,
    /// Returns the key policy.
    GetKeyPolicy,
    /// Replaces the key policy.
    PutKeyPolicy,
);

/// The `X-Amz-Target` prefix of KMS.
pub const TARGET_PREFIX: &str = "TrentService.";

impl Operation {
    /// Parses an `X-Amz-Target` header value such as `TrentService.Encrypt`.
    pub fn from_target(target: &str) -> Option<Self> {
        let name = target.strip_prefix(TARGET_PREFIX)?;
        Self::ALL.iter().copied().find(|op| op.name() == name)
    }

    /// Parses an `X-Amz-Target` header value, failing with the wire error KMS sends for an
    /// operation it does not know.
    pub fn parse_target(target: &str) -> Result<Self, KmsError> {
        Self::from_target(target).ok_or_else(|| KmsError::UnknownOperation(target.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_trip() {
        for op in Operation::ALL {
            let target = format!("TrentService.{}", op.name());
            assert_eq!(Operation::from_target(&target), Some(*op));
        }
        assert_eq!(Operation::ALL.len(), 26);
        assert_eq!(Operation::from_target("TrentService.CreateGrant"), None);
        assert_eq!(Operation::from_target("Encrypt"), None);
        assert_eq!(Operation::Encrypt.iam_action(), "kms:Encrypt");
        let err = Operation::parse_target("TrentService.CreateGrant").unwrap_err();
        assert_eq!(err.aws_code(), "UnknownOperationException");
        assert_eq!(err.http_status(), 400);
    }
}
