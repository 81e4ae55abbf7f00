//! Splits a script into commands and parses each one.

use std::sync::OnceLock;

use regex::Regex;

use super::ScriptError;
use super::notation::{
    SequenceValue, SeriesLine, parse_duration, parse_scalar, parse_series_labels,
    parse_series_line, parse_values,
};
use crate::value::labels::Labels;

/// One command of a script.
#[derive(Debug, Clone)]
pub enum Command {
    /// `clear`: drop all data.
    Clear,
    /// `load <interval>` or `load_with_nhcb <interval>`.
    Load(LoadCommand),
    /// `eval …`.
    Eval(Box<EvalCommand>),
}

/// A block of series to load.
#[derive(Debug, Clone)]
pub struct LoadCommand {
    /// 1-based line of the header.
    pub line: usize,
    /// Time between consecutive slots, in ms.
    pub interval: i64,
    /// Whether classic histograms are also converted to custom-bucket native histograms.
    pub with_nhcb: bool,
    /// The series, in order; a later definition of the same labels wins.
    pub series: Vec<SeriesLine>,
    /// Start-timestamp offsets (ms) per slot, for series that have an `@st` line.
    pub start_offsets: Vec<(Labels, Vec<Option<i64>>)>,
}

/// When an eval runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalKind {
    /// An instant query at a time (ms).
    Instant {
        /// Evaluation time in ms.
        at: i64,
    },
    /// A range query.
    Range {
        /// Start in ms.
        start: i64,
        /// End in ms.
        end: i64,
        /// Step in ms.
        step: i64,
    },
}

/// An expected error or annotation text.
#[derive(Debug, Clone)]
pub enum TextMatch {
    /// Anything matches.
    Any,
    /// The text must equal this, after trimming.
    Exact(String),
    /// The text must match this regex somewhere.
    Regex(Regex),
}

impl TextMatch {
    /// Tells whether `text` satisfies the expectation.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(s) => s.trim() == text.trim(),
            Self::Regex(re) => re.is_match(text),
        }
    }
}

/// What an eval expects of one annotation kind.
#[derive(Debug, Clone, Default)]
pub enum AnnotationCheck {
    /// Not checked.
    #[default]
    Unchecked,
    /// None may be returned (`expect no_warn` / `expect no_info`).
    Forbidden,
    /// At least one; each line must match one, and each returned one must match a line.
    Expected(Vec<TextMatch>),
}

/// An `eval` command with its expectations.
#[derive(Debug, Clone)]
pub struct EvalCommand {
    /// 1-based line of the header.
    pub line: usize,
    /// The PromQL expression.
    pub expr: String,
    /// Instant or range.
    pub kind: EvalKind,
    /// The query must fail, with an optional message check.
    pub expect_fail: Option<TextMatch>,
    /// Warning expectations.
    pub warnings: AnnotationCheck,
    /// Info expectations.
    pub infos: AnnotationCheck,
    /// Series must come back in the written order.
    pub ordered: bool,
    /// For an instant query returning a matrix: `(start, end, step)` of the expected points.
    pub range_vector: Option<(i64, i64, i64)>,
    /// The expected string result.
    pub expected_string: Option<String>,
    /// The expected scalar result.
    pub expected_scalar: Option<f64>,
    /// The expected series, in the written order.
    pub expected: Vec<SeriesLine>,
}

fn regex(cell: &'static OnceLock<Option<Regex>>, pattern: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(pattern).ok()).as_ref()
}

fn err(line: usize, message: impl Into<String>) -> ScriptError {
    ScriptError {
        line,
        message: message.into(),
    }
}

/// Attaches a line number to an error from the notation parser.
fn at(line: usize) -> impl Fn(ScriptError) -> ScriptError {
    move |e| ScriptError {
        line,
        message: e.message,
    }
}

/// Parses a whole script into commands.
pub fn parse_script(text: &str) -> Result<Vec<Command>, ScriptError> {
    let lines: Vec<(usize, &str)> = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| {
            let l = l.trim();
            (i + 1, if l.starts_with('#') { "" } else { l })
        })
        .collect();
    let mut commands = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (line_no, line) = lines[i];
        if line.is_empty() {
            i += 1;
            continue;
        }
        let end = lines[i..]
            .iter()
            .position(|(_, l)| l.is_empty())
            .map_or(lines.len(), |p| i + p);
        let body = &lines[i + 1..end];
        let word = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if word == "clear" {
            commands.push(Command::Clear);
            i += 1;
            continue;
        }
        if word.starts_with("load") {
            commands.push(Command::Load(parse_load(line_no, line, body)?));
        } else if word.starts_with("eval") {
            commands.push(Command::Eval(Box::new(parse_eval(line_no, line, body)?)));
        } else {
            return Err(err(line_no, format!("unknown command {line:?}")));
        }
        i = end;
    }
    Ok(commands)
}

fn parse_load(
    line_no: usize,
    header: &str,
    body: &[(usize, &str)],
) -> Result<LoadCommand, ScriptError> {
    static PAT: OnceLock<Option<Regex>> = OnceLock::new();
    let caps = regex(&PAT, r"^load(?:_(with_nhcb|with_nan))?\s+(.+?)$")
        .and_then(|re| re.captures(header))
        .ok_or_else(|| err(line_no, format!("invalid load command {header:?}")))?;
    let with_nhcb = caps.get(1).is_some_and(|m| m.as_str() == "with_nhcb");
    let interval = parse_duration(&caps[2], false).map_err(at(line_no))?;
    let mut cmd = LoadCommand {
        line: line_no,
        interval,
        with_nhcb,
        series: Vec::new(),
        start_offsets: Vec::new(),
    };
    let mut pending_st: Option<(usize, Labels, Vec<Option<i64>>)> = None;
    for &(n, l) in body {
        let first = l.split_whitespace().next().unwrap_or("");
        if let Some(series_part) = first.strip_suffix("@st") {
            let (labels, rest) = parse_series_labels(series_part).map_err(at(n))?;
            if !rest.is_empty() {
                return Err(err(n, format!("invalid start-timestamp series {first:?}")));
            }
            let offsets = parse_start_offsets(&l[first.len()..]).map_err(at(n))?;
            pending_st = Some((n, labels, offsets));
            continue;
        }
        let series = parse_series_line(l).map_err(at(n))?;
        if let Some((st_line, labels, offsets)) = pending_st.take() {
            if labels != series.labels || offsets.len() != series.values.len() {
                return Err(err(
                    st_line,
                    "an @st line must precede a line of the same series with as many slots",
                ));
            }
            cmd.start_offsets.push((labels, offsets));
        }
        cmd.series.push(series);
    }
    if let Some((n, ..)) = pending_st {
        return Err(err(n, "an @st line must be followed by its series"));
    }
    Ok(cmd)
}

/// Parses start-timestamp offsets: `_`, `_xN`, `<dur>`, `<dur>xN`, `<dur>±<dur>xN`.
fn parse_start_offsets(s: &str) -> Result<Vec<Option<i64>>, ScriptError> {
    // Durations read as seconds by the value notation; converting back keeps one expander.
    parse_values(s)?
        .into_iter()
        .map(|v| match v {
            SequenceValue::Omitted => Ok(None),
            SequenceValue::Float(secs) => Ok(Some((secs * 1000.0).round() as i64)),
            SequenceValue::Histogram { .. } => Err(ScriptError {
                line: 0,
                message: "histograms are not start timestamps".into(),
            }),
        })
        .collect()
}

fn parse_eval(
    line_no: usize,
    header: &str,
    body: &[(usize, &str)],
) -> Result<EvalCommand, ScriptError> {
    static INSTANT: OnceLock<Option<Regex>> = OnceLock::new();
    static RANGE: OnceLock<Option<Regex>> = OnceLock::new();
    let instant = regex(
        &INSTANT,
        r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$",
    );
    let range = regex(
        &RANGE,
        r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$",
    );
    let dur = |s: &str| parse_duration(s, false).map_err(at(line_no));
    let (modifier, kind, expr) = if let Some(c) = instant.and_then(|re| re.captures(header)) {
        let at = c.get(2).map_or(Ok(0), |m| dur(m.as_str()))?;
        (
            c.get(1).map(|m| m.as_str()),
            EvalKind::Instant { at },
            c[3].to_owned(),
        )
    } else if let Some(c) = range.and_then(|re| re.captures(header)) {
        let (start, end, step) = (dur(&c[2])?, dur(&c[3])?, dur(&c[4])?);
        if end < start {
            return Err(err(line_no, "range end is before its start"));
        }
        if step <= 0 {
            return Err(err(line_no, "range step must be positive"));
        }
        (
            c.get(1).map(|m| m.as_str()),
            EvalKind::Range { start, end, step },
            c[5].to_owned(),
        )
    } else {
        return Err(err(line_no, format!("invalid eval command {header:?}")));
    };
    let mut cmd = EvalCommand {
        line: line_no,
        expr,
        kind,
        expect_fail: None,
        warnings: AnnotationCheck::Unchecked,
        infos: AnnotationCheck::Unchecked,
        ordered: false,
        range_vector: None,
        expected_string: None,
        expected_scalar: None,
        expected: Vec::new(),
    };
    match modifier {
        Some("fail") => cmd.expect_fail = Some(TextMatch::Any),
        Some("warn") => cmd.warnings = AnnotationCheck::Expected(vec![TextMatch::Any]),
        Some("info") => cmd.infos = AnnotationCheck::Expected(vec![TextMatch::Any]),
        Some("ordered") => cmd.ordered = true,
        _ => {}
    }
    static EXPECT: OnceLock<Option<Regex>> = OnceLock::new();
    static EXPECT_RANGE: OnceLock<Option<Regex>> = OnceLock::new();
    let expect = regex(
        &EXPECT,
        r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$",
    );
    let expect_range = regex(
        &EXPECT_RANGE,
        r"^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$",
    );
    for (idx, &(n, l)) in body.iter().enumerate() {
        if let Some(text) = l.strip_prefix("expected_fail_message") {
            cmd.expect_fail = Some(TextMatch::Exact(text.trim().to_owned()));
            ensure_last(idx, body, n)?;
            continue;
        }
        if let Some(text) = l.strip_prefix("expected_fail_regexp") {
            cmd.expect_fail = Some(TextMatch::Regex(compile(text.trim(), n)?));
            ensure_last(idx, body, n)?;
            continue;
        }
        let first = l.split_whitespace().next().unwrap_or("");
        if first == "expect" {
            if let Some(c) = expect_range.and_then(|re| re.captures(l)) {
                let d = |s: &str| parse_duration(s.trim(), false).map_err(at(n));
                cmd.range_vector = Some((d(&c[1])?, d(&c[2])?, d(&c[3])?));
                continue;
            }
            if let Some(text) = l.strip_prefix("expect string") {
                let text = text.trim();
                let unquoted = text
                    .strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .or_else(|| text.strip_prefix('`').and_then(|t| t.strip_suffix('`')))
                    .ok_or_else(|| err(n, format!("invalid expected string {text:?}")))?;
                cmd.expected_string = Some(unquoted.to_owned());
                continue;
            }
            let c = expect
                .and_then(|re| re.captures(l))
                .ok_or_else(|| err(n, format!("invalid expect line {l:?}")))?;
            let text = match (c.get(2).map(|m| m.as_str()), c.get(3)) {
                (Some("msg"), Some(t)) => TextMatch::Exact(t.as_str().trim().to_owned()),
                (Some(_), Some(t)) => TextMatch::Regex(compile(t.as_str().trim(), n)?),
                _ => TextMatch::Any,
            };
            match &c[1] {
                "ordered" => cmd.ordered = true,
                "fail" => {
                    if cmd.expect_fail.is_some() {
                        return Err(err(n, "only one expect fail line is allowed"));
                    }
                    cmd.expect_fail = Some(text);
                }
                kind @ ("warn" | "info") => {
                    let check = if kind == "warn" {
                        &mut cmd.warnings
                    } else {
                        &mut cmd.infos
                    };
                    match check {
                        AnnotationCheck::Forbidden => {
                            return Err(err(n, format!("cannot combine {kind} with no_{kind}")));
                        }
                        AnnotationCheck::Expected(list) => list.push(text),
                        AnnotationCheck::Unchecked => {
                            *check = AnnotationCheck::Expected(vec![text])
                        }
                    }
                }
                kind => {
                    let check = if kind == "no_warn" {
                        &mut cmd.warnings
                    } else {
                        &mut cmd.infos
                    };
                    if matches!(check, AnnotationCheck::Expected(_)) {
                        return Err(err(n, format!("cannot combine {kind} with {}", &kind[3..])));
                    }
                    *check = AnnotationCheck::Forbidden;
                }
            }
            continue;
        }
        if let Some(v) = parse_scalar(l) {
            cmd.expected_scalar = Some(v);
            ensure_last(idx, body, n)?;
            continue;
        }
        let series = parse_series_line(l).map_err(at(n))?;
        if series.values.is_empty() {
            return Err(err(n, "an expected series needs a value"));
        }
        if cmd.expected.iter().any(|s| s.labels == series.labels) {
            return Err(err(
                n,
                format!("duplicate expected series {}", series.labels),
            ));
        }
        cmd.expected.push(series);
    }
    if cmd.ordered && matches!(cmd.kind, EvalKind::Range { .. }) {
        return Err(err(
            line_no,
            "expect ordered is only allowed for instant queries",
        ));
    }
    if cmd.range_vector.is_some() && matches!(cmd.kind, EvalKind::Range { .. }) {
        return Err(err(
            line_no,
            "expect range vector is only allowed for instant queries",
        ));
    }
    Ok(cmd)
}

fn ensure_last(idx: usize, body: &[(usize, &str)], n: usize) -> Result<(), ScriptError> {
    if idx + 1 == body.len() {
        Ok(())
    } else {
        Err(err(n, "this line must end the eval block"))
    }
}

fn compile(pattern: &str, line: usize) -> Result<Regex, ScriptError> {
    Regex::new(pattern).map_err(|e| err(line, format!("invalid regex {pattern:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = r#"
# comment
load 1m
    up{job="a"} 0+1x2
    up{job="a"} 5 5 5

eval instant at 1m up
    expect warn msg: PromQL warning: something (1:1)
    expect no_info
    up{job="a"} 5

eval range from 0 to 2m step 1m up
    up{job="a"} 5 _ 5

eval_fail instant at 0 up
    expected_fail_message boom

eval instant at 0 1
    0x10

eval instant at 0 "a"
    expect string "a"

clear
"#;

    #[test]
    fn parses_commands() {
        let cmds = parse_script(SCRIPT).unwrap();
        assert_eq!(cmds.len(), 7);
        assert!(matches!(cmds[6], Command::Clear));
        let Command::Load(load) = &cmds[0] else {
            panic!()
        };
        assert_eq!(
            (load.line, load.interval, load.series.len()),
            (3, 60_000, 2)
        );
        let Command::Eval(e) = &cmds[1] else { panic!() };
        assert_eq!(
            (e.line, e.expr.as_str(), e.kind),
            (7, "up", EvalKind::Instant { at: 60_000 })
        );
        assert!(matches!(&e.warnings, AnnotationCheck::Expected(v) if v.len() == 1));
        assert!(matches!(e.infos, AnnotationCheck::Forbidden));
        let Command::Eval(e) = &cmds[2] else { panic!() };
        assert_eq!(
            e.kind,
            EvalKind::Range {
                start: 0,
                end: 120_000,
                step: 60_000
            }
        );
        let Command::Eval(e) = &cmds[3] else { panic!() };
        assert!(matches!(&e.expect_fail, Some(TextMatch::Exact(m)) if m == "boom"));
        let Command::Eval(e) = &cmds[4] else { panic!() };
        assert_eq!(e.expected_scalar, Some(16.0));
        let Command::Eval(e) = &cmds[5] else { panic!() };
        assert_eq!(e.expected_string.as_deref(), Some("a"));
    }

    #[test]
    fn rejects_bad_scripts() {
        assert_eq!(parse_script("bogus 1").unwrap_err().line, 1);
        assert!(parse_script("eval instant at 0 x\n  expect warn\n  expect no_warn").is_err());
        assert!(parse_script("eval range from 2m to 1m step 1m x").is_err());
        assert!(parse_script("eval instant at -1m x").is_err());
        assert!(parse_script("eval instant at 0 x\n  1\n  x 1").is_err());
        assert!(parse_script("load 1m\n  x@st _ 1s\n  x 1").is_err());
        assert!(parse_script("load 1m\n  x@st _ 1s\n  x 1 2").is_ok());
    }
}
