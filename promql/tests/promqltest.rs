//! Runs Prometheus' PromQL acceptance scripts against the engine over `MemoryStorage`.
//!
//! Every eval must pass unless `known-failures.txt` lists it, and every listed eval must still
//! fail, so the list can only shrink. `UPDATE_KNOWN_FAILURES=1` rewrites the list from the
//! current results, keeping the reasons of entries that are still failing.

use std::path::{Path, PathBuf};

use ampd_promql::{Engine, EngineOptions, KnownFailures, ParserOptions, RunOptions, run_files};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/promql-testdata");
const KNOWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/known-failures.txt");

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
    run_files(&paths, &engine, &options, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    print!("{text}");

    let known = KnownFailures::read(Path::new(KNOWN)).unwrap();
    if std::env::var_os("UPDATE_KNOWN_FAILURES").is_some() {
        let header = [
            "Evals of the Prometheus test scripts (shared/promql-testdata) the engine does not pass yet.",
            "One line per eval: <file>:<line> <reason>. The corpus test fails if one of these passes.",
        ];
        std::fs::write(KNOWN, known.updated(&text, &header)).unwrap();
        return;
    }
    if let Err(e) = known.check(&text, "known-failures.txt") {
        panic!("{e}");
    }
}
