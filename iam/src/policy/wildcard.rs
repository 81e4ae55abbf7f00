//! Glob matching with `*` (any run, possibly empty) and `?` (exactly one character).

/// One element of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// A literal character.
    Char(char),
    /// `*`: any run of characters.
    Star,
    /// `?`: any single character.
    Any,
}

/// Returns whether `text` matches `pattern`. Iterative with single-star backtracking, so the
/// cost stays linear in practice and never explodes on patterns such as `*a*a*a*b`. Positions
/// in `text` are byte offsets advanced one character at a time (no allocation).
pub(crate) fn glob_match(pattern: &[Token], text: &str) -> bool {
    let next_len = |t: usize| text[t..].chars().next().map_or(1, char::len_utf8);
    let (mut p, mut t) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Token::Star) => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(Token::Any) => {
                p += 1;
                t += next_len(t);
            }
            Some(Token::Char(c)) if text[t..].starts_with(*c) => {
                p += 1;
                t += c.len_utf8();
            }
            _ => match backtrack {
                Some((star_p, star_t)) => {
                    let resume = star_t + next_len(star_t);
                    backtrack = Some((star_p, resume));
                    p = star_p + 1;
                    t = resume;
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..]
        .iter()
        .all(|tok| *tok == Token::Star)
}

/// Compiles a pattern string where `*` and `?` are wildcards and everything else is literal.
pub(crate) fn compile(pattern: &str) -> Vec<Token> {
    pattern
        .chars()
        .map(|c| match c {
            '*' => Token::Star,
            '?' => Token::Any,
            c => Token::Char(c),
        })
        .collect()
}

/// Returns whether `text` matches the wildcard `pattern` (case-sensitive).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    glob_match(&compile(pattern), text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_wildcards() {
        let cases = [
            ("*", "", true),
            ("*", "anything", true),
            ("aps:*", "aps:CreateWorkspace", true),
            ("aps:Describe*", "aps:DescribeWorkspace", true),
            ("aps:Describe*", "aps:ListWorkspaces", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a?c", "abbc", false),
            ("*a*a*b", "aaaaaaaaaaaaaaaaaaaaaab", true),
            ("*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaa", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("", "", true),
            ("", "x", false),
            ("ሴ?", "ሴሴ", true),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(wildcard_match(pattern, text), want, "{pattern} vs {text}");
        }
    }

    /// Reference implementation: straightforward recursion.
    fn naive(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|i| naive(rest, &t[i..])),
            Some(('?', rest)) => !t.is_empty() && naive(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && naive(rest, &t[1..]),
        }
    }

    proptest! {
        #[test]
        fn agrees_with_naive_matcher(pattern in "[ab*?]{0,8}", text in "[ab]{0,10}") {
            let p: Vec<char> = pattern.chars().collect();
            let t: Vec<char> = text.chars().collect();
            prop_assert_eq!(wildcard_match(&pattern, &text), naive(&p, &t));
        }

        #[test]
        fn agrees_with_naive_matcher_on_unicode(pattern in "[aé*?ሴ]{0,8}", text in "[aéሴ]{0,10}") {
            let p: Vec<char> = pattern.chars().collect();
            let t: Vec<char> = text.chars().collect();
            prop_assert_eq!(wildcard_match(&pattern, &text), naive(&p, &t));
        }

        #[test]
        fn literal_pattern_matches_itself(text in "[a-zA-Z0-9:/._-]{0,20}") {
            prop_assert!(wildcard_match(&text, &text));
            prop_assert!(wildcard_match("*", &text));
            let q: String = text.chars().map(|_| '?').collect();
            prop_assert!(wildcard_match(&q, &text));
        }
    }
}
