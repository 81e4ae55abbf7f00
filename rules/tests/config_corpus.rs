//! Configuration corpus: our verdicts on `tests/configs`, and the same verdicts from
//! `amtool check-config` when it is installed (Debian package `prometheus-alertmanager`).
//!
//! - `valid/`: accepted by both;
//! - `invalid/`: refused by both; the first line `# error: <text>` names part of our message;
//! - `refused/`: valid Alertmanager configs AMP or ampd refuse (unsupported receivers, the
//!   `Local` time zone); amtool accepts them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use ampd_rules::{parse_config, validate_definition};

fn corpus(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/configs")
        .join(dir);
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

fn expected_error(text: &str) -> &str {
    text.lines()
        .next()
        .and_then(|l| l.strip_prefix("# error: "))
        .expect("first line names the expected error")
}

#[test]
fn valid_configs_are_accepted() {
    for file in corpus("valid") {
        let text = fs::read_to_string(&file).unwrap();
        if let Err(e) = parse_config(&text) {
            panic!("{}: {e}", file.display());
        }
        // The same config wrapped as an AMP definition, as a mapping and as a string.
        let indented: String = text.lines().map(|l| format!("  {l}\n")).collect();
        validate_definition(format!("alertmanager_config:\n{indented}").as_bytes()).unwrap();
        validate_definition(format!("alertmanager_config: |\n{indented}").as_bytes()).unwrap();
    }
}

#[test]
fn invalid_and_refused_configs_fail_with_precise_messages() {
    for file in corpus("invalid").into_iter().chain(corpus("refused")) {
        let text = fs::read_to_string(&file).unwrap();
        let want = expected_error(&text);
        match parse_config(&text) {
            Ok(_) => panic!("{} was accepted", file.display()),
            Err(e) => assert!(
                e.to_string().contains(want),
                "{}: {e:?} does not mention {want:?}",
                file.display()
            ),
        }
    }
}

#[test]
fn verdicts_match_amtool() {
    if Command::new("amtool").arg("--version").output().is_err() {
        println!(
            "amtool not installed (apt-get install prometheus-alertmanager); skipping the comparison"
        );
        return;
    }
    let amtool_accepts = |file: &Path| {
        Command::new("amtool")
            .arg("check-config")
            .arg(file)
            .output()
            .unwrap()
            .status
            .success()
    };
    for file in corpus("valid") {
        assert!(amtool_accepts(&file), "amtool refuses {}", file.display());
    }
    for file in corpus("invalid") {
        assert!(!amtool_accepts(&file), "amtool accepts {}", file.display());
    }
    for file in corpus("refused") {
        assert!(
            amtool_accepts(&file),
            "amtool refuses {} (expected only AMP/ampd to refuse it)",
            file.display()
        );
    }
}

/// Label sets and the receivers `amtool config routes test` names for them on `valid/full.yml`.
const ROUTING_CASES: &[(&str, &str)] = &[
    ("severity=critical team=db", "pager"),
    ("severity=critical team=web env=prod", "pager"),
    ("team=ops env=prod service=api", "ops"),
    ("team=ops env=dev", "default"),
    ("severity=critical team=ops env=staging", "ops"),
    ("foo=bar", "default"),
];

#[test]
fn routing_matches_amtool() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs/valid/full.yml");
    let config = parse_config(&fs::read_to_string(&file).unwrap()).unwrap();
    let amtool = Command::new("amtool").arg("--version").output().is_ok();
    if !amtool {
        println!(
            "amtool not installed (apt-get install prometheus-alertmanager); checking fixed expectations only"
        );
    }
    for (labels, want) in ROUTING_CASES {
        let set = labels
            .split(' ')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let ours: Vec<String> = config
            .route
            .match_labels(&set)
            .iter()
            .map(|r| r.receiver.clone())
            .collect();
        assert_eq!(ours.join(","), *want, "{labels}");
        if amtool {
            let out = Command::new("amtool")
                .args(["config", "routes", "test", "--config.file"])
                .arg(&file)
                .args(labels.split(' '))
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                ours.join(","),
                "amtool on {labels}"
            );
        }
    }
}
