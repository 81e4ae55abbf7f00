//! The list of evals a corpus run is known to fail, checked against what [`run_files`] printed.
//!
//! [`run_files`]: super::run_files

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Why a run's failures do not match its known-failures file.
#[derive(Debug, thiserror::Error)]
pub enum KnownFailuresError {
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The known-failures file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Some scripts did not parse.
    #[error("scripts did not parse: {0:?}")]
    ScriptErrors(Vec<String>),
    /// Failures that are not listed, or listed evals that pass.
    #[error(
        "evals failing that are not in {file}: {new:?}; evals now passing, remove them from {file}: {fixed:?}"
    )]
    Mismatch {
        /// The known-failures file name.
        file: String,
        /// `file:line` of unlisted failures.
        new: Vec<String>,
        /// `file:line` of listed evals that passed.
        fixed: Vec<String>,
    },
}

/// A known-failures file: one `<file>:<line> <reason>` line per eval, `#` starts a comment.
///
/// A run matches when exactly the listed evals fail, so the list can only shrink.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownFailures {
    entries: BTreeMap<String, String>,
}

impl KnownFailures {
    /// Parses the file's text.
    pub fn parse(text: &str) -> Self {
        let entries = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| match l.split_once(' ') {
                Some((k, r)) => (k.to_owned(), r.trim().to_owned()),
                None => (l.to_owned(), String::new()),
            })
            .collect();
        Self { entries }
    }

    /// Reads `path`; a missing file lists nothing.
    pub fn read(path: &Path) -> Result<Self, KnownFailuresError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Self::parse(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(KnownFailuresError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// The listed `file:line` keys with their reasons.
    pub fn entries(&self) -> &BTreeMap<String, String> {
        &self.entries
    }

    /// Compares the failures in `output` (what [`super::run_files`] wrote) with the list.
    /// `file` names the list in the error.
    pub fn check(&self, output: &str, file: &str) -> Result<(), KnownFailuresError> {
        let script_errors: Vec<String> = output
            .lines()
            .filter(|l| l.contains(": script error:"))
            .map(str::to_owned)
            .collect();
        if !script_errors.is_empty() {
            return Err(KnownFailuresError::ScriptErrors(script_errors));
        }
        let failures = failures_in(output);
        let failing: BTreeSet<&String> = failures.keys().collect();
        let listed: BTreeSet<&String> = self.entries.keys().collect();
        let new: Vec<String> = failing.difference(&listed).map(|k| k.to_string()).collect();
        let fixed: Vec<String> = listed.difference(&failing).map(|k| k.to_string()).collect();
        if new.is_empty() && fixed.is_empty() {
            Ok(())
        } else {
            Err(KnownFailuresError::Mismatch {
                file: file.to_owned(),
                new,
                fixed,
            })
        }
    }

    /// The file text listing the failures in `output`, below the `header` comment lines;
    /// entries still failing keep their reasons, new ones get the start of their message.
    pub fn updated(&self, output: &str, header: &[&str]) -> String {
        let mut body: String = header.iter().map(|h| format!("# {h}\n")).collect();
        body.push('\n');
        for (key, message) in failures_in(output) {
            let reason = self.entries.get(&key).cloned().unwrap_or_else(|| {
                let m: String = message.chars().take(160).collect();
                m.replace('\n', " ")
            });
            body.push_str(&format!("{key} {reason}\n"));
        }
        body
    }
}

/// The failure lines of a run, `<file>:<line>: <expr>: <message>`, keyed by `file:line`.
fn failures_in(output: &str) -> BTreeMap<String, String> {
    let mut failures = BTreeMap::new();
    for line in output.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(file), Some(num), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if file.ends_with(".test") && num.parse::<usize>().is_ok() {
            failures.insert(format!("{file}:{num}"), rest.trim().to_owned());
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "a.test:3: up: wrong value\na.test: 1 passed, 1 failed, 0 skipped\n\
                          b.test:7: x: error evaluating query: boom\n\
                          promqltest: 1 passed, 2 failed\n";

    #[test]
    fn matches_only_the_exact_set() {
        let known = KnownFailures::parse("# c\n\na.test:3 reason\nb.test:7\n");
        assert_eq!(known.entries().len(), 2);
        known.check(OUTPUT, "k.txt").unwrap();
        let fewer = KnownFailures::parse("a.test:3 reason\n");
        let Err(KnownFailuresError::Mismatch { new, fixed, .. }) = fewer.check(OUTPUT, "k.txt")
        else {
            panic!("a new failure must be reported");
        };
        assert_eq!((new, fixed), (vec!["b.test:7".to_owned()], vec![]));
        let more = KnownFailures::parse("a.test:3 r\nb.test:7 r\nc.test:1 r\n");
        assert!(matches!(
            more.check(OUTPUT, "k.txt"),
            Err(KnownFailuresError::Mismatch { fixed, .. }) if fixed == ["c.test:1"]
        ));
        assert!(matches!(
            known.check("c.test: script error: line 1: bad\n", "k.txt"),
            Err(KnownFailuresError::ScriptErrors(_))
        ));
    }

    #[test]
    fn update_keeps_reasons() {
        let known = KnownFailures::parse("a.test:3 kept reason\nold.test:1 gone\n");
        let text = known.updated(OUTPUT, &["header"]);
        assert_eq!(
            text,
            "# header\n\na.test:3 kept reason\nb.test:7 x: error evaluating query: boom\n"
        );
        KnownFailures::parse(&text).check(OUTPUT, "k.txt").unwrap();
    }
}
