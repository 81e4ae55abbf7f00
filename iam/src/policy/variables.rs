//! Policy values with variables (`${aws:username}`), escapes (`${*}`) and wildcards.

use super::context::RequestContext;
use super::wildcard::{Token, glob_match};

/// One piece of a template.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// Literal text (including escaped `*`, `?`, `$`).
    Text(String),
    /// `*` wildcard.
    Star,
    /// `?` wildcard.
    Any,
    /// `${key}` or `${key, 'default'}`; the key is stored lower-case.
    Var {
        key: String,
        default: Option<String>,
    },
}

/// A policy string compiled once: literal text, wildcards and variables.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Template {
    parts: Vec<Part>,
    /// Precompiled tokens when the template has no variables.
    tokens: Option<Vec<Token>>,
}

impl Template {
    /// Compiles `source`. `wildcards` makes `*`/`?` wildcards; `variables` enables `${…}`
    /// (policy version 2012-10-17 and an element that allows them). `lowercase` folds the
    /// literal text (for case-insensitive matching).
    pub(crate) fn compile(source: &str, wildcards: bool, variables: bool, lowercase: bool) -> Self {
        let mut parts: Vec<Part> = Vec::new();
        let mut text = String::new();
        let mut rest = source;
        let fold = |s: &str| {
            if lowercase {
                s.to_lowercase()
            } else {
                s.to_owned()
            }
        };
        while let Some(c) = rest.chars().next() {
            if variables
                && rest.starts_with("${")
                && let Some(end) = rest.find('}')
            {
                let inner = rest[2..end].trim();
                match inner {
                    "*" | "?" | "$" => text.push_str(inner),
                    _ => {
                        if !text.is_empty() {
                            parts.push(Part::Text(fold(&std::mem::take(&mut text))));
                        }
                        parts.push(parse_variable(inner));
                    }
                }
                rest = &rest[end + 1..];
                continue;
            }
            if wildcards && (c == '*' || c == '?') {
                if !text.is_empty() {
                    parts.push(Part::Text(fold(&std::mem::take(&mut text))));
                }
                parts.push(if c == '*' { Part::Star } else { Part::Any });
            } else {
                text.push(c);
            }
            rest = &rest[c.len_utf8()..];
        }
        if !text.is_empty() {
            parts.push(Part::Text(fold(&text)));
        }
        let has_vars = parts.iter().any(|p| matches!(p, Part::Var { .. }));
        let tokens = (!has_vars).then(|| tokens_of(&parts, None, lowercase).unwrap_or_default());
        Self { parts, tokens }
    }

    /// Matches `text` (already folded by the caller when case-insensitive). Returns `None` when
    /// a variable has no value in the context and no default.
    pub(crate) fn matches(
        &self,
        text: &str,
        ctx: &RequestContext,
        lowercase: bool,
    ) -> Option<bool> {
        match &self.tokens {
            Some(tokens) => Some(glob_match(tokens, text)),
            None => Some(glob_match(
                &tokens_of(&self.parts, Some(ctx), lowercase)?,
                text,
            )),
        }
    }

    /// Returns the template with variables substituted, wildcards as `*`/`?` (for non-glob
    /// comparisons). `None` when a variable cannot be resolved.
    pub(crate) fn resolve(&self, ctx: &RequestContext) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Star => out.push('*'),
                Part::Any => out.push('?'),
                Part::Var { key, default } => out.push_str(&lookup(key, default.as_deref(), ctx)?),
            }
        }
        Some(out)
    }
}

/// Parses the inside of `${…}`: `key` or `key, 'default'`.
fn parse_variable(inner: &str) -> Part {
    match inner.split_once(',') {
        Some((key, default)) => {
            let default = default.trim();
            let default = default
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .unwrap_or(default);
            Part::Var {
                key: key.trim().to_ascii_lowercase(),
                default: Some(default.to_owned()),
            }
        }
        None => Part::Var {
            key: inner.to_ascii_lowercase(),
            default: None,
        },
    }
}

/// Returns a variable's single value, else its default.
fn lookup(key: &str, default: Option<&str>, ctx: &RequestContext) -> Option<String> {
    match ctx.get_single(key) {
        Some(v) => Some(v.to_owned()),
        None => default.map(str::to_owned),
    }
}

/// Expands parts into glob tokens; substituted values are literal text.
fn tokens_of(parts: &[Part], ctx: Option<&RequestContext>, lowercase: bool) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    for part in parts {
        match part {
            Part::Text(t) => tokens.extend(t.chars().map(Token::Char)),
            Part::Star => tokens.push(Token::Star),
            Part::Any => tokens.push(Token::Any),
            Part::Var { key, default } => {
                let value = lookup(key, default.as_deref(), ctx?)?;
                let value = if lowercase {
                    value.to_lowercase()
                } else {
                    value
                };
                tokens.extend(value.chars().map(Token::Char));
            }
        }
    }
    Some(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        let mut ctx = RequestContext::new();
        ctx.insert("aws:username", "alice");
        ctx.insert("aws:PrincipalTag/team", "obs");
        ctx
    }

    #[test]
    fn substitutes_variables_and_defaults() {
        let ctx = ctx();
        let t = Template::compile("home/${aws:username}/*", true, true, false);
        assert_eq!(t.matches("home/alice/x", &ctx, false), Some(true));
        assert_eq!(t.matches("home/bob/x", &ctx, false), Some(false));
        let t = Template::compile("${aws:PrincipalTag/TEAM}", false, true, false);
        assert_eq!(t.resolve(&ctx).as_deref(), Some("obs"));
        let t = Template::compile("${aws:PrincipalTag/missing, 'none'}", false, true, false);
        assert_eq!(t.resolve(&ctx).as_deref(), Some("none"));
        let t = Template::compile("${aws:PrincipalTag/missing}", false, true, false);
        assert_eq!(t.resolve(&ctx), None);
        assert_eq!(t.matches("", &ctx, false), None);
    }

    #[test]
    fn escapes_are_literal() {
        let ctx = ctx();
        let t = Template::compile("a${*}b${?}${$}", true, true, false);
        assert_eq!(t.matches("a*b?$", &ctx, false), Some(true));
        assert_eq!(t.matches("axxb?$", &ctx, false), Some(false));
    }

    #[test]
    fn variables_are_literal_without_2012_version() {
        let ctx = ctx();
        let t = Template::compile("${aws:username}", true, false, false);
        assert_eq!(t.matches("${aws:username}", &ctx, false), Some(true));
        assert_eq!(t.matches("alice", &ctx, false), Some(false));
    }
}
