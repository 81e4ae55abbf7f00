//! Runs Prometheus' PromQL acceptance scripts against the engine.
//!
//! Every eval must pass unless `known-failures.txt` lists it, and every listed eval must still
//! fail, so the list can only shrink. `UPDATE_KNOWN_FAILURES=1` rewrites the list from the
//! current results, keeping the reasons of entries that are still failing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use ampd_promql::{Engine, EngineOptions, ParserOptions, RunOptions, run_files};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/promql-testdata");
const KNOWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/known-failures.txt");

/// Parses `file:line reason` lines; `#` starts a comment line.
fn known_failures(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(' ') {
            Some((k, r)) => (k.to_owned(), r.trim().to_owned()),
            None => (l.to_owned(), String::new()),
        })
        .collect()
}

#[test]
fn prometheus_test_scripts() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 20, "corpus not found at {CORPUS}");
    let engine = Engine::new(EngineOptions {
        parser: ParserOptions::all_enabled(),
        delayed_name_removal: true,
        ..EngineOptions::default()
    });
    let options = RunOptions {
        pin_at: Some(engine.pin_at_fn()),
        ..RunOptions::default()
    };
    let mut out = Vec::new();
    let (passed, failed) = run_files(&paths, &engine, &options, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    print!("{text}");

    // Failure lines look like `<file>:<line>: <expr>: <message>`.
    let mut failures: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(file), Some(num), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if file.ends_with(".test") && num.parse::<usize>().is_ok() {
            failures.insert(format!("{file}:{num}"), rest.trim().to_owned());
        }
    }
    let script_errors: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(": script error:"))
        .collect();
    assert!(
        script_errors.is_empty(),
        "scripts did not parse: {script_errors:?}"
    );

    let known = known_failures(&std::fs::read_to_string(KNOWN).unwrap_or_default());
    if std::env::var_os("UPDATE_KNOWN_FAILURES").is_some() {
        let mut body = String::from(
            "# Evals of the Prometheus test scripts (shared/promql-testdata) the engine does not pass yet.\n# One line per eval: <file>:<line> <reason>. The corpus test fails if one of these passes.\n\n",
        );
        for (key, message) in &failures {
            let reason = known.get(key).cloned().unwrap_or_else(|| {
                let m: String = message.chars().take(160).collect();
                m.replace('\n', " ")
            });
            body.push_str(&format!("{key} {reason}\n"));
        }
        std::fs::write(KNOWN, body).unwrap();
        return;
    }
    let failing: BTreeSet<&String> = failures.keys().collect();
    let listed: BTreeSet<&String> = known.keys().collect();
    let new: Vec<_> = failing.difference(&listed).collect();
    let fixed: Vec<_> = listed.difference(&failing).collect();
    println!("promqltest: {passed} passed, {failed} failed");
    assert!(
        new.is_empty(),
        "evals failing that are not in known-failures.txt: {new:?}"
    );
    assert!(
        fixed.is_empty(),
        "evals now passing; remove them from known-failures.txt: {fixed:?}"
    );
}
