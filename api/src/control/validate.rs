//! Member constraints of the `amp` model that botocore does not check client-side (`max`,
//! `pattern`, `enum`), enforced here and reported as `ValidationException`s.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::{AwsError, FieldIssue, ValidationReason};

use super::model::TagMap;

/// Most tags a resource may carry.
pub const MAX_TAGS: usize = 50;

/// Collects every problem of a request, then fails once with all of them.
#[derive(Debug, Default)]
pub struct Check {
    issues: Vec<FieldIssue>,
}

impl Check {
    /// Starts an empty check.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem with `field`.
    pub fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.issues.push(FieldIssue {
            name: field.into(),
            message: message.into(),
        });
    }

    /// Records a problem unless `ok`.
    pub fn ensure(&mut self, ok: bool, field: &str, message: impl FnOnce() -> String) {
        if !ok {
            self.fail(field, message());
        }
    }

    /// Checks a character length range.
    pub fn len(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let n = value.chars().count();
        self.ensure(n >= min && n <= max, field, || {
            format!("must be {min} to {max} characters long, got {n}")
        });
    }

    /// Checks an optional idempotency token (`[!-~]+`, 1..64).
    pub fn client_token(&mut self, token: Option<&str>) {
        if let Some(t) = token {
            self.len("clientToken", t, 1, 64);
            self.ensure(
                t.bytes().all(|b| (b'!'..=b'~').contains(&b)),
                "clientToken",
                || "must contain printable ASCII characters without spaces".into(),
            );
        }
    }

    /// Checks a tag map: at most 50 entries, key/value character rules, no `aws:` keys.
    pub fn tags(&mut self, field: &str, tags: &TagMap) {
        if tags.len() > MAX_TAGS {
            self.fail(
                field,
                format!("at most {MAX_TAGS} tags are allowed, got {}", tags.len()),
            );
        }
        for (k, v) in tags {
            self.tag_key(&format!("{field}.{k}"), k);
            self.ensure(v.chars().count() <= 256, &format!("{field}.{k}"), || {
                "tag value must be at most 256 characters".into()
            });
            self.ensure(v.chars().all(tag_char), &format!("{field}.{k}"), || {
                "tag value contains a character outside [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]".into()
            });
        }
    }

    /// Checks one tag key.
    pub fn tag_key(&mut self, field: &str, key: &str) {
        self.len(field, key, 1, 128);
        self.ensure(key.chars().all(tag_char), field, || {
            "tag key contains a character outside [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]".into()
        });
        self.ensure(!key.to_ascii_lowercase().starts_with("aws:"), field, || {
            "tag keys beginning with 'aws:' are reserved".into()
        });
    }

    /// Checks `[0-9A-Za-z][-.0-9A-Z_a-z]*` within a length range.
    pub fn name_pattern(&mut self, field: &str, value: &str, max: usize) {
        self.len(field, value, 1, max);
        self.ensure(is_name(value), field, || {
            "must match [0-9A-Za-z][-.0-9A-Z_a-z]*".into()
        });
    }

    /// Checks that an ARN has the given service and resource prefix (`<service>:…:<prefix>…`).
    pub fn arn(&mut self, field: &str, value: &str, service: &str, prefix: &str, suffix: &str) {
        let ok = parse_arn(value).is_some_and(|a| {
            a.service == service
                && a.resource.starts_with(prefix)
                && a.resource.len() > prefix.len() + suffix.len()
                && a.resource.ends_with(suffix)
                && (service == "iam" || !a.region.is_empty())
        });
        self.ensure(ok, field, || {
            format!(
                "must be an ARN of the form arn:aws:{service}:<region>:<account>:{prefix}…{suffix}"
            )
        });
    }

    /// Fails with every recorded problem, if any.
    pub fn finish(self) -> Result<(), AwsError> {
        if self.issues.is_empty() {
            return Ok(());
        }
        let message = self
            .issues
            .iter()
            .map(|i| format!("{}: {}", i.name, i.message))
            .collect::<Vec<_>>()
            .join("; ");
        Err(AwsError::Validation {
            message,
            reason: ValidationReason::FieldValidationFailed,
            fields: self.issues,
        })
    }
}

/// Characters of the tag pattern `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
fn tag_char(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || (c.is_whitespace() && !c.is_control())
        || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

/// `[0-9A-Za-z][-.0-9A-Z_a-z]*`.
pub fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

/// The parts of an ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, …
    pub partition: &'a str,
    /// Service (`aps`, `iam`, …).
    pub service: &'a str,
    /// Region (empty for global services).
    pub region: &'a str,
    /// 12-digit account.
    pub account: &'a str,
    /// Everything after the account.
    pub resource: &'a str,
}

/// Splits `arn:partition:service:region:account:resource`; the resource may contain `:`.
pub fn parse_arn(s: &str) -> Option<Arn<'_>> {
    let mut it = s.splitn(6, ':');
    let (arn, partition, service, region, account, resource) = (
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    );
    let ok = arn == "arn"
        && partition.starts_with("aws")
        && partition[3..]
            .chars()
            .all(|c| c == '-' || c.is_ascii_lowercase())
        && !service.is_empty()
        && region
            .chars()
            .all(|c| c == '-' || c.is_ascii_lowercase() || c.is_ascii_digit())
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !resource.is_empty();
    ok.then_some(Arn {
        partition,
        service,
        region,
        account,
        resource,
    })
}

/// Checks an AMP path id (`WorkspaceId`-style: 1..64 characters containing an alphanumeric).
pub fn path_id(field: &str, value: &str) -> Result<(), AwsError> {
    let mut c = Check::new();
    c.len(field, value, 1, 64);
    c.ensure(
        value.chars().any(|c| c.is_ascii_alphanumeric()),
        field,
        || "must contain at least one alphanumeric character".into(),
    );
    c.finish()
}

/// Decodes a base64 blob member.
pub fn blob(field: &str, value: &str) -> Result<Vec<u8>, AwsError> {
    STANDARD
        .decode(value.trim())
        .map_err(|e| AwsError::Validation {
            message: format!("{field} is not valid base64: {e}"),
            reason: ValidationReason::CannotParse,
            fields: vec![FieldIssue {
                name: field.into(),
                message: "not valid base64".into(),
            }],
        })
}

/// Encodes a blob member.
pub fn encode_blob(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// Parses `maxResults` (1..1000, default 100).
pub fn max_results(value: Option<&str>) -> Result<u32, AwsError> {
    match value {
        None => Ok(100),
        Some(v) => match v.parse::<u32>() {
            Ok(n @ 1..=1000) => Ok(n),
            _ => Err(AwsError::field(
                "maxResults",
                "must be an integer from 1 to 1000",
            )),
        },
    }
}

/// Checks a `nextToken` length (0..1000).
pub fn next_token(value: Option<&str>) -> Result<Option<&str>, AwsError> {
    match value {
        Some(t) if t.len() > 1000 => Err(AwsError::field("nextToken", "at most 1000 characters")),
        Some("") | None => Ok(None),
        Some(t) => Ok(Some(t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_rules() {
        let mut c = Check::new();
        let ok: TagMap = [
            ("team name".into(), "a/b=c+d@e".into()),
            ("ключ".into(), "".into()),
        ]
        .into_iter()
        .collect();
        c.tags("tags", &ok);
        assert!(c.finish().is_ok());

        for (k, v) in [
            ("aws:x", "v"),
            ("AWS:x", "v"),
            ("", "v"),
            ("a*b", "v"),
            ("k", "v#"),
        ] {
            let mut c = Check::new();
            c.tags(
                "tags",
                &[(k.to_owned(), v.to_owned())].into_iter().collect(),
            );
            assert!(c.finish().is_err(), "{k}={v}");
        }
        let too_many: TagMap = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        let mut c = Check::new();
        c.tags("tags", &too_many);
        assert!(c.finish().is_err());
        let mut c = Check::new();
        c.tags(
            "tags",
            &[("k".repeat(129), String::new())].into_iter().collect(),
        );
        assert!(c.finish().is_err());
    }

    #[test]
    fn lengths_count_characters() {
        let mut c = Check::new();
        c.len("alias", &"é".repeat(100), 1, 100);
        assert!(c.finish().is_ok());
        let mut c = Check::new();
        c.len("alias", &"a".repeat(101), 1, 100);
        let e = c.finish().unwrap_err();
        assert!(e.to_string().contains("alias"));
    }

    #[test]
    fn client_tokens() {
        for (t, ok) in [
            ("abc-123", true),
            ("a b", false),
            ("", false),
            (&*"x".repeat(65), false),
        ] {
            let mut c = Check::new();
            c.client_token(Some(t));
            assert_eq!(c.finish().is_ok(), ok, "{t:?}");
        }
    }

    #[test]
    fn arns() {
        let a =
            parse_arn("arn:aws:aps:us-east-1:123456789012:rulegroupsnamespace/ws-1/a:b").unwrap();
        assert_eq!(
            (a.service, a.region, a.resource),
            ("aps", "us-east-1", "rulegroupsnamespace/ws-1/a:b")
        );
        assert!(parse_arn("arn:aws:aps:us-east-1:12345678901:workspace/x").is_none());
        assert!(parse_arn("arn:azure:aps:us-east-1:123456789012:workspace/x").is_none());
        assert!(parse_arn("not-an-arn").is_none());
        let mut c = Check::new();
        c.arn(
            "kmsKeyArn",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd",
            "kms",
            "key/",
            "",
        );
        c.arn(
            "logGroupArn",
            "arn:aws:logs:us-east-1:123456789012:log-group:g:*",
            "logs",
            "log-group:",
            ":*",
        );
        c.arn(
            "roleArn",
            "arn:aws:iam::123456789012:role/r",
            "iam",
            "role/",
            "",
        );
        assert!(c.finish().is_ok());
        let mut c = Check::new();
        c.arn(
            "logGroupArn",
            "arn:aws:logs:us-east-1:123456789012:log-group:g",
            "logs",
            "log-group:",
            ":*",
        );
        assert!(c.finish().is_err());
    }

    #[test]
    fn names_and_ids() {
        assert!(is_name("my-scraper_1.0"));
        assert!(!is_name("-x") && !is_name("a b") && !is_name(""));
        assert!(path_id("workspaceId", "ws-123").is_ok());
        assert!(path_id("workspaceId", "---").is_err());
        assert!(path_id("workspaceId", &"a".repeat(65)).is_err());
    }

    #[test]
    fn paging_parameters() {
        assert_eq!(max_results(None).unwrap(), 100);
        assert_eq!(max_results(Some("1000")).unwrap(), 1000);
        assert!(max_results(Some("0")).is_err() && max_results(Some("x")).is_err());
        assert_eq!(next_token(Some("")).unwrap(), None);
        assert!(next_token(Some(&"a".repeat(1001))).is_err());
    }

    #[test]
    fn blobs() {
        assert_eq!(
            blob("data", &encode_blob(b"groups: []")).unwrap(),
            b"groups: []"
        );
        let e = blob("data", "not base64!").unwrap_err();
        assert_eq!(e.code().1, "ValidationException");
    }
}
