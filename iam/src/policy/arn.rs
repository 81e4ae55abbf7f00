//! ARN patterns: the five leading segments glob-matched one by one, the resource as a whole.

use super::context::RequestContext;
use super::variables::Template;

/// Number of `:`-separated parts of an ARN (`arn:partition:service:region:account:resource`).
const ARN_PARTS: usize = 6;

/// A compiled ARN pattern (`Resource`, `NotResource`, `Arn*` condition values).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ArnPattern {
    /// `*` alone: matches every resource.
    any: bool,
    parts: Vec<Template>,
}

impl ArnPattern {
    /// Compiles a pattern; `variables` enables `${…}` (policy version 2012-10-17).
    pub(crate) fn compile(source: &str, variables: bool) -> Self {
        if source == "*" {
            return Self {
                any: true,
                parts: Vec::new(),
            };
        }
        let parts = split_pattern(source, variables)
            .into_iter()
            .map(|p| Template::compile(p, true, variables, false))
            .collect();
        Self { any: false, parts }
    }

    /// Returns whether `arn` matches; `None` when a variable is unresolved.
    pub(crate) fn matches(&self, arn: &str, ctx: &RequestContext) -> Option<bool> {
        if self.any {
            return Some(true);
        }
        let mut text = arn.splitn(ARN_PARTS, ':');
        let last = self.parts.len().saturating_sub(1);
        for (i, part) in self.parts.iter().enumerate() {
            let segment = if i == last && self.parts.len() < ARN_PARTS {
                // A short pattern (`arn:aws:*`): its last part covers the rest of the ARN.
                let rest: Vec<&str> = text.by_ref().collect();
                if rest.is_empty() {
                    return Some(false);
                }
                rest.join(":")
            } else {
                match text.next() {
                    Some(s) => s.to_owned(),
                    None => return Some(false),
                }
            };
            if !part.matches(&segment, ctx, false)? {
                return Some(false);
            }
        }
        Some(text.next().is_none())
    }
}

/// Splits a pattern into at most six parts on `:`, except inside `${…}` (variable names such
/// as `${aws:username}` contain a colon).
fn split_pattern(source: &str, variables: bool) -> Vec<&str> {
    let mut parts = Vec::with_capacity(ARN_PARTS);
    let (mut start, mut depth) = (0usize, 0usize);
    let bytes = source.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'$' if variables && bytes.get(i + 1) == Some(&b'{') => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 && parts.len() < ARN_PARTS - 1 => {
                parts.push(&source[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&source[start..]);
    parts
}

/// Returns whether `arn` matches the ARN pattern `pattern` (case-sensitive, `*` and `?` per
/// segment, no variables).
pub fn arn_match(pattern: &str, arn: &str) -> bool {
    ArnPattern::compile(pattern, false)
        .matches(arn, &RequestContext::new())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_per_segment() {
        let ws = "arn:aws:aps:us-east-1:123456789012:workspace/ws-1";
        let cases = [
            ("*", ws, true),
            (ws, ws, true),
            ("arn:aws:aps:us-east-1:123456789012:workspace/*", ws, true),
            ("arn:aws:aps:*:*:workspace/*", ws, true),
            ("arn:aws:aps:*:123456789012:*", ws, true),
            (
                "arn:aws:aps:us-east-1:123456789012:workspace/WS-1",
                ws,
                false,
            ),
            ("arn:aws:aps:us-west-2:123456789012:workspace/*", ws, false),
            (
                "arn:aws:aps:us-east-?:123456789012:workspace/ws-?",
                ws,
                true,
            ),
            // `*` does not cross from one segment into another.
            ("arn:aws:aps:*:workspace/ws-1", ws, false),
            ("arn:aws:*", ws, true),
            (
                "arn:aws:iam::123456789012:role/x",
                "arn:aws:iam::123456789012:role/x",
                true,
            ),
            (
                "arn:aws:iam::*:role/x",
                "arn:aws:iam::123456789012:role/x",
                true,
            ),
            (
                "arn:aws:iam:*:123456789012:role/x",
                "arn:aws:iam::123456789012:role/x",
                true,
            ),
            (
                "arn:aws:iam:?:123456789012:role/x",
                "arn:aws:iam::123456789012:role/x",
                false,
            ),
            // The resource part may itself contain `:` and `/`.
            (
                "arn:aws:logs:r:1:log-group:*",
                "arn:aws:logs:r:1:log-group:g:*",
                true,
            ),
            (
                "arn:aws:aps:r:1:rulegroupsnamespace/*",
                "arn:aws:aps:r:1:rulegroupsnamespace/ws/ns",
                true,
            ),
        ];
        for (pattern, arn, want) in cases {
            assert_eq!(arn_match(pattern, arn), want, "{pattern} vs {arn}");
        }
    }

    #[test]
    fn variables_may_sit_in_any_segment() {
        let mut ctx = RequestContext::new();
        ctx.insert("aws:PrincipalAccount", "123456789012");
        ctx.insert("aws:username", "alice");
        let pattern = ArnPattern::compile(
            "arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username}",
            true,
        );
        assert_eq!(
            pattern.matches("arn:aws:iam::123456789012:user/alice", &ctx),
            Some(true)
        );
        assert_eq!(
            pattern.matches("arn:aws:iam::123456789013:user/alice", &ctx),
            Some(false)
        );
        assert_eq!(split_pattern("a:${x:y}:c", true), vec!["a", "${x:y}", "c"]);
        assert_eq!(
            split_pattern("a:${x:y}:c", false),
            vec!["a", "${x", "y}", "c"]
        );
        assert_eq!(
            split_pattern("1:2:3:4:5:6:7", false),
            vec!["1", "2", "3", "4", "5", "6:7"]
        );
    }

    proptest! {
        #[test]
        fn an_arn_matches_itself_and_wildcarded_segments(
            service in "[a-z]{2,5}", region in "[a-z0-9-]{0,9}", account in "[0-9]{0,12}",
            resource in "[a-zA-Z0-9/:._-]{1,20}",
        ) {
            let arn = format!("arn:aws:{service}:{region}:{account}:{resource}");
            prop_assert!(arn_match(&arn, &arn));
            let any_scope = format!("arn:aws:{service}:*:*:*");
            prop_assert!(arn_match(&any_scope, &arn));
            let any_service = format!("arn:*:*:{region}:{account}:{resource}");
            prop_assert!(arn_match(&any_service, &arn));
            let other = format!("arn:aws:{service}x:{region}:{account}:{resource}");
            prop_assert!(!arn_match(&arn, &other));
        }
    }
}
