//! A runner for the Prometheus PromQL test-script format (`load`, `clear`, `eval …`).
//!
//! The runner parses a script, loads its series into a [`ScriptStorage`] (a [`MemoryStorage`]
//! unless [`RunOptions::storage`] says otherwise), asks an [`Evaluator`] for each `eval`, and
//! compares the answers with the expectations.

mod compare;
#[cfg(test)]
mod corpus_check;
mod known;
mod load;
mod notation;
mod parse;

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::sync::{Arc, OnceLock};

use regex::Regex;

pub use compare::{EPSILON, histograms_match};
pub use known::{KnownFailures, KnownFailuresError};
pub use notation::{SequenceValue, SeriesLine, parse_series_line, parse_values};
pub use parse::{AnnotationCheck, Command, EvalCommand, EvalKind, LoadCommand, TextMatch};

use crate::storage::{MemoryStorage, Queryable};
use crate::value::annotations::Annotations;
use crate::value::labels::Labels;
use crate::value::{PointValue, Sample, Scalar, Value};

/// A syntax error in a script.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ScriptError {
    /// 1-based line (0 when not known).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// What an evaluator returns for a successful query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryOutput {
    /// The result value.
    pub value: Value,
    /// Warnings and infos.
    pub annotations: Annotations,
}

/// An evaluation error; only its message matters to the runner.
pub type QueryError = Box<dyn std::error::Error + Send + Sync>;

/// The PromQL engine under test.
pub trait Evaluator {
    /// Evaluates `expr` at `at` (ms).
    fn instant(
        &self,
        storage: &dyn Queryable,
        expr: &str,
        at: i64,
    ) -> Result<QueryOutput, QueryError>;

    /// Evaluates `expr` from `start` to `end` (ms) every `step` ms.
    fn range(
        &self,
        storage: &dyn Queryable,
        expr: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryOutput, QueryError>;
}

/// Where a script's `load` blocks go and what its evals read.
pub trait ScriptStorage {
    /// Adds one sample of a `load` block.
    fn append(&mut self, labels: Labels, t: i64, value: PointValue) -> Result<(), QueryError>;

    /// Ends a `load` block; what it appended must be visible to the following evals.
    fn commit(&mut self) -> Result<(), QueryError>;

    /// Drops every series (`clear`).
    fn clear(&mut self) -> Result<(), QueryError>;

    /// The storage the evaluator reads.
    fn queryable(&self) -> &dyn Queryable;
}

impl ScriptStorage for MemoryStorage {
    fn append(&mut self, labels: Labels, t: i64, value: PointValue) -> Result<(), QueryError> {
        MemoryStorage::append(self, labels, t, value);
        Ok(())
    }

    fn commit(&mut self) -> Result<(), QueryError> {
        Ok(())
    }

    fn clear(&mut self) -> Result<(), QueryError> {
        MemoryStorage::clear(self);
        Ok(())
    }

    fn queryable(&self) -> &dyn Queryable {
        self
    }
}

/// Makes a fresh, empty [`ScriptStorage`] for each script of a run.
pub type NewStorage = Arc<dyn Fn() -> Box<dyn ScriptStorage> + Send + Sync>;

/// Rewrites an expression so that every selector and subquery without `@` gets `@ <time>`
/// (time in ms); `None` when the expression cannot be rewritten. The engine supplies it, since
/// only a PromQL parser and printer can do this.
pub type PinAt = Arc<dyn Fn(&str, i64) -> Option<String> + Send + Sync>;

/// Knobs of a run.
#[derive(Clone)]
pub struct RunOptions {
    /// File names (e.g. `extended_vectors.test`) to skip entirely.
    pub skip_files: BTreeSet<String>,
    /// `(file name, header line)` of evals to skip.
    pub skip_evals: BTreeSet<(String, usize)>,
    /// Re-run successful instant queries as a range query around the same time and compare
    /// the middle step with the same expectations, as upstream does.
    pub range_consistency: bool,
    /// When set, successful instant queries are also pinned with `@ <eval time>` and run at
    /// other times (-10T, 0, T/5, T, 10T; or -1s, 0, 1s for T = 0), which must not change the
    /// result, as upstream checks.
    pub pin_at: Option<PinAt>,
    /// The storage each script loads into; `None` is a [`MemoryStorage`].
    pub storage: Option<NewStorage>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("skip_files", &self.skip_files)
            .field("skip_evals", &self.skip_evals)
            .field("range_consistency", &self.range_consistency)
            .field("pin_at", &self.pin_at.is_some())
            .field("storage", &self.storage.is_some())
            .finish()
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            skip_files: BTreeSet::new(),
            skip_evals: BTreeSet::new(),
            range_consistency: true,
            pin_at: None,
            storage: None,
        }
    }
}

/// One failed eval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalFailure {
    /// Header line of the eval.
    pub line: usize,
    /// The expression.
    pub expr: String,
    /// What went wrong.
    pub message: String,
}

/// The outcome of running one script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptReport {
    /// Script name.
    pub name: String,
    /// Evals that met their expectations.
    pub passed: usize,
    /// Evals that did not.
    pub failed: usize,
    /// Evals skipped by [`RunOptions`].
    pub skipped: usize,
    /// Details of the failures.
    pub failures: Vec<EvalFailure>,
}

/// A parsed test script.
#[derive(Debug, Clone)]
pub struct TestScript {
    name: String,
    commands: Vec<Command>,
}

impl TestScript {
    /// Parses a script; `name` identifies it in reports.
    pub fn parse(name: impl Into<String>, text: &str) -> Result<Self, ScriptError> {
        Ok(Self {
            name: name.into(),
            commands: parse::parse_script(text)?,
        })
    }

    /// Returns the script name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the commands.
    pub fn commands(&self) -> &[Command] {
        &self.commands
    }

    /// Counts `(instant, range)` eval commands.
    pub fn eval_counts(&self) -> (usize, usize) {
        self.commands.iter().fold((0, 0), |(i, r), c| match c {
            Command::Eval(e) if matches!(e.kind, EvalKind::Instant { .. }) => (i + 1, r),
            Command::Eval(_) => (i, r + 1),
            _ => (i, r),
        })
    }

    /// Runs every command against `evaluator`, over the storage [`RunOptions::storage`] makes.
    pub fn run(&self, evaluator: &dyn Evaluator, options: &RunOptions) -> ScriptReport {
        match &options.storage {
            Some(make) => self.run_with(make().as_mut(), evaluator, options),
            None => self.run_with(&mut MemoryStorage::new(), evaluator, options),
        }
    }

    /// Runs every command against `evaluator`, loading into `storage`, which should start
    /// empty. A `load` or `clear` the storage rejects counts as a failure at its line.
    pub fn run_with(
        &self,
        storage: &mut dyn ScriptStorage,
        evaluator: &dyn Evaluator,
        options: &RunOptions,
    ) -> ScriptReport {
        let mut report = ScriptReport {
            name: self.name.clone(),
            ..Default::default()
        };
        let fail = |report: &mut ScriptReport, line: usize, expr: &str, message: String| {
            report.failed += 1;
            report.failures.push(EvalFailure {
                line,
                expr: expr.to_owned(),
                message,
            });
        };
        for command in &self.commands {
            match command {
                Command::Clear => {
                    if let Err(e) = storage.clear() {
                        fail(
                            &mut report,
                            0,
                            "clear",
                            format!("clearing the storage: {e}"),
                        );
                    }
                }
                Command::Load(l) => {
                    if let Err(e) = load::load(l, storage) {
                        fail(&mut report, l.line, "load", format!("loading: {e}"));
                    }
                }
                Command::Eval(e) => {
                    if options.skip_evals.contains(&(self.name.clone(), e.line)) {
                        report.skipped += 1;
                        continue;
                    }
                    match run_eval(e, storage.queryable(), evaluator, options) {
                        Ok(()) => report.passed += 1,
                        Err(message) => fail(&mut report, e.line, &e.expr, message),
                    }
                }
            }
        }
        report
    }

    /// Executes only the `load` and `clear` commands and returns the storage after each load,
    /// for checking what a script loads.
    pub fn load_only(&self) -> Vec<MemoryStorage> {
        let mut out = Vec::new();
        let mut storage = MemoryStorage::new();
        for command in &self.commands {
            match command {
                Command::Clear => storage.clear(),
                Command::Load(l) => {
                    load::load_memory(l, &mut storage);
                    out.push(storage.clone());
                }
                Command::Eval(_) => {}
            }
        }
        out
    }
}

/// Runs one eval; returns a description of the first mismatch.
fn run_eval(
    cmd: &EvalCommand,
    storage: &dyn Queryable,
    evaluator: &dyn Evaluator,
    options: &RunOptions,
) -> Result<(), String> {
    let result = match cmd.kind {
        EvalKind::Instant { at } => evaluator.instant(storage, &cmd.expr, at),
        EvalKind::Range { start, end, step } => {
            evaluator.range(storage, &cmd.expr, start, end, step)
        }
    };
    let output = match (result, &cmd.expect_fail) {
        (Err(e), Some(expected)) => {
            let text = e.to_string();
            return if expected.matches(&text) {
                Ok(())
            } else {
                Err(format!("unexpected error message {text:?}"))
            };
        }
        (Err(e), None) => return Err(format!("error evaluating query: {e}")),
        (Ok(_), Some(_)) => return Err("expected an error evaluating query but got none".into()),
        (Ok(output), None) => output,
    };
    compare::check_annotations(cmd, &output.annotations)?;
    let grid = match cmd.kind {
        EvalKind::Range { start, end, step } => Some((start, end, step)),
        EvalKind::Instant { .. } => cmd.range_vector,
    };
    compare::compare_value(cmd, &output.value, grid)?;
    let EvalKind::Instant { at } = cmd.kind else {
        return Ok(());
    };
    let range_check = options.range_consistency && wants_range_check(cmd, &output.value);
    if range_check {
        check_range_mode(cmd, &cmd.expr, storage, evaluator, at, &output.value)
            .map_err(|e| format!("range mode: {e}"))?;
    }
    let Some(pin) = options
        .pin_at
        .as_ref()
        .filter(|_| !is_time_dependent(&cmd.expr))
    else {
        return Ok(());
    };
    let Some(pinned) = pin(&cmd.expr, at) else {
        return Ok(());
    };
    let times = if at == 0 {
        vec![-1000, 0, 1000]
    } else {
        vec![-10 * at, 0, at / 5, at, 10 * at]
    };
    for t in times {
        let out = evaluator
            .instant(storage, &pinned, t)
            .map_err(|e| format!("{pinned} at {t}: error evaluating query: {e}"))?;
        compare::compare_value(cmd, &out.value, grid)
            .map_err(|e| format!("{pinned} at {t}: {e}"))?;
        if range_check {
            check_range_mode(cmd, &pinned, storage, evaluator, t, &out.value)
                .map_err(|e| format!("{pinned} at {t}: range mode: {e}"))?;
        }
    }
    Ok(())
}

/// Tells whether the expression's result depends on the evaluation time itself, which makes
/// pinning it with `@` meaningless.
fn is_time_dependent(expr: &str) -> bool {
    static FUNCS: OnceLock<Option<Regex>> = OnceLock::new();
    FUNCS
        .get_or_init(|| {
            Regex::new(
                r"\b(time|timestamp|predict_linear|days_in_month|day_of_month|day_of_week|day_of_year|hour|minute|month|year|start|end|range|step)\s*\(",
            )
            .ok()
        })
        .as_ref()
        .is_some_and(|re| re.is_match(expr))
}

/// Tells whether the instant-vs-range consistency check applies.
fn wants_range_check(cmd: &EvalCommand, value: &Value) -> bool {
    static TIME_FUNCS: OnceLock<Option<Regex>> = OnceLock::new();
    let uses_range_funcs = TIME_FUNCS
        .get_or_init(|| Regex::new(r"\b(start|end|range|step)\s*\(").ok())
        .as_ref()
        .is_some_and(|re| re.is_match(&cmd.expr));
    !cmd.ordered
        && cmd.range_vector.is_none()
        && cmd.expected_string.is_none()
        && !uses_range_funcs
        && matches!(value, Value::Vector(_) | Value::Scalar(_))
}

/// Evaluates the query from `at - 1m` to `at + 1m` and compares the step at `at`.
fn check_range_mode(
    cmd: &EvalCommand,
    expr: &str,
    storage: &dyn Queryable,
    evaluator: &dyn Evaluator,
    at: i64,
    instant: &Value,
) -> Result<(), String> {
    const MINUTE: i64 = 60_000;
    let output = evaluator
        .range(storage, expr, at - MINUTE, at + MINUTE, MINUTE)
        .map_err(|e| format!("error evaluating query: {e}"))?;
    let Value::Matrix(matrix) = output.value else {
        return Err(format!(
            "a range query returned a {}",
            output.value.type_name()
        ));
    };
    compare::check_sorted(&matrix)?;
    let vector: Vec<Sample> = matrix
        .iter()
        .filter_map(|s| {
            let p = s.points().into_iter().find(|p| p.t == at)?;
            Some(Sample {
                labels: s.labels.clone(),
                t: at,
                value: p.value,
                drop_name: false,
            })
        })
        .collect();
    let value = match instant {
        Value::Scalar(_) => match vector.first().map(|s| &s.value) {
            Some(PointValue::Float(v)) => Value::Scalar(Scalar { t: at, v: *v }),
            _ => return Err("the range query returned no float at the evaluation time".into()),
        },
        _ => Value::Vector(vector),
    };
    compare::compare_value(cmd, &value, None)
}

/// Runs script files and writes one line per file plus the closing
/// `promqltest: P passed, F failed` line; returns the totals `(passed, failed)`.
///
/// A file that does not parse counts as one failure.
pub fn run_files(
    paths: &[std::path::PathBuf],
    evaluator: &dyn Evaluator,
    options: &RunOptions,
    out: &mut dyn Write,
) -> io::Result<(usize, usize)> {
    let (mut passed, mut failed) = (0, 0);
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if options.skip_files.contains(&name) {
            writeln!(out, "{name}: skipped")?;
            continue;
        }
        let text = std::fs::read_to_string(path)?;
        let script = match TestScript::parse(name.clone(), &text) {
            Ok(s) => s,
            Err(e) => {
                writeln!(out, "{name}: script error: {e}")?;
                failed += 1;
                continue;
            }
        };
        let report = script.run(evaluator, options);
        for f in &report.failures {
            writeln!(out, "{name}:{}: {}: {}", f.line, f.expr, f.message)?;
        }
        writeln!(
            out,
            "{name}: {} passed, {} failed, {} skipped",
            report.passed, report.failed, report.skipped
        )?;
        passed += report.passed;
        failed += report.failed;
    }
    writeln!(out, "promqltest: {passed} passed, {failed} failed")?;
    Ok((passed, failed))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::storage::{MatchOp, Matcher};
    use crate::value::{FPoint, HPoint, Series};

    const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/promql-testdata");

    /// Answers bare metric names only: the value at or within 5m before the evaluation time.
    struct SelectorOnly;

    impl SelectorOnly {
        fn select(storage: &dyn Queryable, expr: &str, t: i64) -> Result<Vec<Sample>, QueryError> {
            // `name@<ms>` is how the test's pinning closure writes `name @ <time>`.
            let (expr, t) = match expr.split_once('@') {
                Some((name, ms)) => (name, ms.parse::<i64>()?),
                None => (expr, t),
            };
            let valid = Regex::new(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")?;
            if !valid.is_match(expr) {
                return Err(format!("unsupported expression {expr:?}").into());
            }
            let m = Matcher::new(MatchOp::Equal, "__name__", expr)?;
            let mut out = Vec::new();
            // Left-open lookback window of 5m, as in Prometheus 3.
            for s in storage.select(t - 300_000 + 1, t, &[m])? {
                let last = s.samples.last().transpose()?;
                if let Some(p) = last.filter(|p| !p.value.is_stale()) {
                    out.push(Sample {
                        labels: s.labels,
                        t,
                        value: p.value,
                        drop_name: false,
                    });
                }
            }
            Ok(out)
        }
    }

    impl Evaluator for SelectorOnly {
        fn instant(
            &self,
            storage: &dyn Queryable,
            expr: &str,
            at: i64,
        ) -> Result<QueryOutput, QueryError> {
            let value = Value::Vector(Self::select(storage, expr, at)?);
            Ok(QueryOutput {
                value,
                annotations: Annotations::new(),
            })
        }

        fn range(
            &self,
            storage: &dyn Queryable,
            expr: &str,
            start: i64,
            end: i64,
            step: i64,
        ) -> Result<QueryOutput, QueryError> {
            let mut series: std::collections::BTreeMap<crate::value::labels::Labels, Series> =
                Default::default();
            let mut t = start;
            while t <= end {
                for s in Self::select(storage, expr, t)? {
                    let entry = series.entry(s.labels.clone()).or_insert_with(|| Series {
                        labels: s.labels.clone(),
                        ..Default::default()
                    });
                    match s.value {
                        PointValue::Float(f) => entry.floats.push(FPoint { t, f }),
                        PointValue::Histogram(h) => entry.histograms.push(HPoint { t, h }),
                    }
                }
                t += step;
            }
            let value = Value::Matrix(series.into_values().collect());
            Ok(QueryOutput {
                value,
                annotations: Annotations::new(),
            })
        }
    }

    const SCRIPT: &str = r#"
load 1m
    up{job="a"} 1 2 _ stale 5
    up{job="b"} 0+10x4
    hist {{schema:0 count:2 sum:3 buckets:[1 1]}}+{{count:1 sum:1 buckets:[1]}}x4

eval instant at 1m up
    up{job="a"} 2
    up{job="b"} 10

# The gap keeps the last value for the lookback; the stale marker ends it.
eval instant at 2m30s up
    up{job="a"} 2
    up{job="b"} 20

eval instant at 3m up
    up{job="b"} 30

eval range from 0 to 4m step 1m up
    up{job="a"} 1 2 2 _ 5
    up{job="b"} 0+10x4

eval instant at 2m hist
    hist {{schema:0 count:4 sum:5 buckets:[3 1]}}

eval instant at 1m nonexistent

eval instant at 1m up
    expect fail

eval instant at 1m rate(up[1m])
    expect fail regex: unsupported expression

eval instant at 1m up
    up{job="a"} 3
    up{job="b"} 10

eval instant at 1m up
    up{job="b"} 10
"#;

    #[test]
    fn end_to_end_with_a_selector_evaluator() {
        let script = TestScript::parse("handwritten.test", SCRIPT).unwrap();
        assert_eq!(script.eval_counts(), (9, 1));
        let report = script.run(&SelectorOnly, &RunOptions::default());
        let failed: Vec<usize> = report.failures.iter().map(|f| f.line).collect();
        // The last three evals are written to fail: an unexpected success, a wrong value, and
        // a missing series.
        assert_eq!(failed, [28, 34, 38], "{:#?}", report.failures);
        assert_eq!((report.passed, report.failed), (7, 3));
        let mut skip = RunOptions::default();
        skip.skip_evals.insert(("handwritten.test".into(), 34));
        assert_eq!(script.run(&SelectorOnly, &skip).skipped, 1);
    }

    #[test]
    fn pinned_queries_must_not_depend_on_the_evaluation_time() {
        let script = TestScript::parse("pin.test", SCRIPT).unwrap();
        let mut options = RunOptions {
            pin_at: Some(Arc::new(|expr: &str, at: i64| Some(format!("{expr}@{at}")))),
            ..Default::default()
        };
        let report = script.run(&SelectorOnly, &options);
        assert_eq!(
            (report.passed, report.failed),
            (7, 3),
            "{:#?}",
            report.failures
        );
        // A pinning that moves the time is caught.
        options.pin_at = Some(Arc::new(|expr: &str, at: i64| {
            Some(format!("{expr}@{}", at + 60_000))
        }));
        let report = script.run(&SelectorOnly, &options);
        assert!(
            report
                .failures
                .iter()
                .any(|f| f.line == 7 && f.message.contains("up@120000"))
        );
        assert!(is_time_dependent("time() - x") && !is_time_dependent("sometimes(x)"));
    }

    /// Keeps the samples of `m` only and refuses to load any other series.
    struct OnlyM(MemoryStorage);

    impl ScriptStorage for OnlyM {
        fn append(&mut self, labels: Labels, t: i64, value: PointValue) -> Result<(), QueryError> {
            if labels.metric_name() != Some("m") {
                return Err("only m".into());
            }
            self.0.append(labels, t, value);
            Ok(())
        }

        fn commit(&mut self) -> Result<(), QueryError> {
            Ok(())
        }

        fn clear(&mut self) -> Result<(), QueryError> {
            self.0.clear();
            Ok(())
        }

        fn queryable(&self) -> &dyn Queryable {
            &self.0
        }
    }

    #[test]
    fn evals_read_the_storage_the_options_make() {
        let script = TestScript::parse(
            "storage.test",
            "load 1m\n  m 1\n\neval instant at 0 m\n  m 1\n\nclear\n\nload 1m\n  x 1\n\neval instant at 0 x\n  x 1\n",
        )
        .unwrap();
        let default = script.run(&SelectorOnly, &RunOptions::default());
        assert_eq!((default.passed, default.failed), (2, 0));
        let options = RunOptions {
            storage: Some(Arc::new(|| Box::new(OnlyM(MemoryStorage::new())))),
            ..RunOptions::default()
        };
        let report = script.run(&SelectorOnly, &options);
        // The refused load fails at its header line, and the eval after it finds nothing.
        let failed: Vec<(usize, &str)> = report
            .failures
            .iter()
            .map(|f| (f.line, f.expr.as_str()))
            .collect();
        assert_eq!(failed, [(9, "load"), (12, "x")], "{:#?}", report.failures);
        assert!(report.failures[0].message.contains("only m"));
        assert_eq!(report.passed, 1);
    }

    #[test]
    fn run_files_prints_the_closing_line() {
        let dir = std::env::temp_dir().join(format!("promqltest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("mini.test");
        std::fs::write(
            &file,
            "load 1m\n  m 1\n\neval instant at 0 m\n  m 1\n\neval instant at 0 m\n  m 2\n",
        )
        .unwrap();
        let mut out = Vec::new();
        let totals = run_files(&[file], &SelectorOnly, &RunOptions::default(), &mut out).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(totals, (1, 1));
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("promqltest: 1 passed, 1 failed\n"), "{text}");
    }

    fn corpus_files() -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(CORPUS)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "test"))
            .collect();
        files.sort();
        files
    }

    #[test]
    fn parses_and_loads_the_whole_corpus() {
        let files = corpus_files();
        assert_eq!(files.len(), 21);
        let mut total = 0;
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let script =
                TestScript::parse(name.clone(), &text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let headers = text
                .lines()
                .filter(|l| l.trim_start().starts_with("eval"))
                .count();
            let (instant, range) = script.eval_counts();
            assert_eq!(instant + range, headers, "{name}");
            let loads = script
                .commands()
                .iter()
                .filter(|c| matches!(c, Command::Load(_)))
                .count();
            let stores = script.load_only();
            assert_eq!(stores.len(), loads, "{name}");
            assert!(
                stores.iter().all(|s| s.sample_count() > 0),
                "{name}: a load block loaded nothing"
            );
            println!(
                "{name}: {} evals ({instant} instant, {range} range)",
                instant + range
            );
            total += instant + range;
        }
        println!("total: {total} evals");
        assert_eq!(total, 2214);
    }

    /// Runs the corpus evals whose expression is a bare metric name, which exercises loading,
    /// the notation of expected results and the comparison against upstream's own answers.
    #[test]
    fn corpus_bare_selectors_pass() {
        let bare = Regex::new(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$").unwrap();
        let (mut passed, mut failures) = (0, Vec::new());
        for path in corpus_files() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let script =
                TestScript::parse(name.clone(), &std::fs::read_to_string(&path).unwrap()).unwrap();
            let mut options = RunOptions::default();
            for c in script.commands() {
                // `Inf` and `NaN` look like names but are number literals.
                if let Command::Eval(e) = c
                    && (!bare.is_match(&e.expr)
                        || ["inf", "nan"].contains(&e.expr.to_ascii_lowercase().as_str()))
                {
                    options.skip_evals.insert((name.clone(), e.line));
                }
            }
            let report = script.run(&SelectorOnly, &options);
            passed += report.passed;
            failures.extend(
                report
                    .failures
                    .into_iter()
                    .map(|f| format!("{name}:{}: {}", f.line, f.message)),
            );
        }
        println!("bare-selector evals passed: {passed}");
        assert!(failures.is_empty(), "{failures:#?}");
        assert!(passed >= 20, "only {passed} bare-selector evals");
    }
}
