//! Parses every query of the upstream Prometheus acceptance corpus (`shared/promql-testdata`).
//!
//! Every expression of an `eval*` command must parse with all experimental syntax enabled. When
//! a command expects a failure whose message is a parse error, our message must match it.

#[cfg(test)]
mod corpus {
    use std::fs;
    use std::path::PathBuf;

    use ampd_promql::{ParserOptions, parse_with};
    use regex::Regex;

    const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/promql-testdata");

    /// One `eval` command: where it is, its query, and the failure it expects, if any.
    struct Eval {
        location: String,
        query: String,
        expected_failure: Option<Expectation>,
    }

    enum Expectation {
        Message(String),
        Pattern(String),
    }

    fn corpus_files() -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(CORPUS)
            .expect("corpus directory is readable")
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "test"))
            .collect();
        files.sort();
        files
    }

    fn evals(path: &PathBuf) -> Vec<Eval> {
        let instant = Regex::new(
            r"^eval(?:_(?:fail|warn|ordered|info))?\s+instant\s+(?:at\s+(?:.+?))?\s+(.+)$",
        )
        .unwrap();
        let range = Regex::new(
            r"^eval(?:_(?:fail|warn|info))?\s+range\s+from\s+.+\s+to\s+.+\s+step\s+.+?\s+(.+)$",
        )
        .unwrap();
        let text = fs::read_to_string(path).expect("corpus file is readable");
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        let mut out: Vec<Eval> = Vec::new();
        let mut in_eval = false;
        for (number, line) in lines.iter().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                in_eval = false;
                continue;
            }
            if line.to_ascii_lowercase().starts_with("eval") {
                let query = instant
                    .captures(line)
                    .or_else(|| range.captures(line))
                    .map(|c| c[1].to_string());
                let query = query
                    .unwrap_or_else(|| panic!("{name}:{}: unrecognised eval header", number + 1));
                out.push(Eval {
                    location: format!("{name}:{}", number + 1),
                    query,
                    expected_failure: None,
                });
                in_eval = true;
                continue;
            }
            let Some(eval) = out.last_mut().filter(|_| in_eval) else {
                continue;
            };
            let expectation = if let Some(msg) = line.strip_prefix("expect fail msg:") {
                Some(Expectation::Message(msg.trim().to_string()))
            } else if let Some(re) = line.strip_prefix("expect fail regex:") {
                Some(Expectation::Pattern(re.trim().to_string()))
            } else if let Some(msg) = line.strip_prefix("expected_fail_message") {
                Some(Expectation::Message(msg.trim().to_string()))
            } else {
                line.strip_prefix("expected_fail_regexp")
                    .map(|re| Expectation::Pattern(re.trim().to_string()))
            };
            if expectation.is_some() {
                eval.expected_failure = expectation;
            }
        }
        out
    }

    #[test]
    fn every_corpus_query_parses() {
        let options = ParserOptions::all_enabled();
        let files = corpus_files();
        assert_eq!(files.len(), 21, "the corpus README lists 21 files");
        let (mut total, mut parsed, mut failures) = (0, 0, Vec::new());
        for file in &files {
            for eval in evals(file) {
                total += 1;
                match parse_with(&eval.query, &options) {
                    Ok(expr) => {
                        parsed += 1;
                        // Printing must give a query that parses back to the same tree.
                        let printed = expr.to_string();
                        match parse_with(&printed, &options) {
                            Ok(reparsed) if expr.eq_ignoring_spans(&reparsed) => {}
                            Ok(_) => failures
                                .push(format!("{}: round trip changed {printed:?}", eval.location)),
                            Err(e) => failures
                                .push(format!("{}: printed {printed:?} fails: {e}", eval.location)),
                        }
                    }
                    Err(err) => {
                        let matches = match &eval.expected_failure {
                            Some(Expectation::Message(msg)) => err.to_string() == *msg,
                            Some(Expectation::Pattern(re)) => {
                                Regex::new(re).unwrap().is_match(&err.to_string())
                            }
                            None => false,
                        };
                        if matches {
                            parsed += 1;
                        } else {
                            failures.push(format!("{}: {:?}: {err}", eval.location, eval.query));
                        }
                    }
                }
            }
        }
        println!(
            "corpus: {parsed}/{total} eval queries parse (or fail with the expected parse error)"
        );
        assert_eq!(total, 2214, "the corpus README counts 2214 eval commands");
        assert!(
            failures.is_empty(),
            "queries that do not parse:\n{}",
            failures.join("\n")
        );
    }
}
