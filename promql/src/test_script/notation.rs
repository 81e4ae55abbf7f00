//! The series notation of test scripts: `name{l="v"} 0+10x3 _ stale {{schema:0 count:1}}`.
//!
//! This is a small hand-written scanner: the notation is not PromQL, and the PromQL parser has
//! no mode for it.

use super::ScriptError;
use crate::value::histogram::{
    BucketSpan, CUSTOM_BUCKETS_SCHEMA, CounterResetHint, FloatHistogram,
};
use crate::value::labels::{Labels, METRIC_NAME};
use crate::value::stale_nan;

/// One slot of an expanded value sequence.
#[derive(Debug, Clone, PartialEq)]
pub enum SequenceValue {
    /// No sample in this slot (`_`).
    Omitted,
    /// A float sample (the staleness marker included).
    Float(f64),
    /// A native histogram sample.
    Histogram {
        /// The histogram.
        histogram: FloatHistogram,
        /// Whether `counter_reset_hint` was written, so comparisons should check it.
        hint_explicit: bool,
    },
}

/// A parsed series line: labels and expanded values.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesLine {
    /// The labels, metric name included.
    pub labels: Labels,
    /// The expanded slots.
    pub values: Vec<SequenceValue>,
}

fn err(msg: impl Into<String>) -> ScriptError {
    ScriptError {
        line: 0,
        message: msg.into(),
    }
}

/// Parses a Prometheus duration (`1h30m`, `500ms`, `0`) into milliseconds with the parser's
/// duration rules; a leading `-` is accepted when `allow_negative`.
pub fn parse_duration(s: &str, allow_negative: bool) -> Result<i64, ScriptError> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) if allow_negative => (true, rest),
        _ => (false, s),
    };
    let ms = crate::parser::parse_duration_ms(body)
        .map_err(|e| err(format!("invalid duration {s:?}: {e}")))?;
    Ok(if neg { -ms } else { ms })
}

/// Parses a float as series values allow: decimal, scientific, `Inf`/`NaN` in any case with an
/// optional sign, or a duration read as seconds.
pub fn parse_series_number(s: &str) -> Result<f64, ScriptError> {
    let unsigned = s.trim_start_matches(['+', '-']);
    let negative = s.starts_with('-');
    let special = match unsigned.to_ascii_lowercase().as_str() {
        "inf" => Some(f64::INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    };
    if let Some(v) = special {
        if s.len() - unsigned.len() > 1 {
            return Err(err(format!("invalid number {s:?}")));
        }
        return Ok(if negative { -v } else { v });
    }
    if unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && !unsigned.contains(['x', 'X', '_'])
        && let Ok(v) = s.parse::<f64>()
    {
        return Ok(v);
    }
    parse_duration(s.strip_prefix('+').unwrap_or(s), true)
        .map(|ms| ms as f64 / 1000.0)
        .map_err(|_| err(format!("invalid number {s:?}")))
}

/// Parses a number as expected scalar results allow: integers with Go base prefixes
/// (`0x10`, `0o7`, `0b1`, `017`) or anything [`parse_series_number`] accepts except durations.
pub fn parse_scalar(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let int = if let Some(hex) = lower.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else if let Some(oct) = lower.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()
    } else if let Some(bin) = lower.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| b.is_ascii_digit())
    {
        i64::from_str_radix(&lower[1..], 8).ok()
    } else {
        None
    };
    if let Some(i) = int {
        let v = i as f64;
        return Some(if neg { -v } else { v });
    }
    match lower.as_str() {
        "inf" | "infinity" => {
            return Some(if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') || body.contains('_') {
        return None;
    }
    body.parse::<f64>().ok().map(|v| if neg { -v } else { v })
}

/// A cursor over one line.
struct Scanner<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn identifier(&mut self) -> &'a str {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        {
            self.bump();
        }
        &self.s[start..self.pos]
    }

    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    /// Reads a quoted string (`"…"`, `'…'` with Go escapes, or back-ticks raw).
    fn quoted(&mut self) -> Result<String, ScriptError> {
        let Some(q @ ('"' | '\'' | '`')) = self.bump() else {
            return Err(err("expected a quoted string"));
        };
        let mut out = String::new();
        loop {
            let c = self.bump().ok_or_else(|| err("unterminated string"))?;
            if c == q {
                return Ok(out);
            }
            if c != '\\' || q == '`' {
                out.push(c);
                continue;
            }
            let e = self.bump().ok_or_else(|| err("unterminated escape"))?;
            match e {
                'a' => out.push('\u{7}'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'v' => out.push('\u{b}'),
                '\\' | '"' | '\'' => out.push(e),
                'x' | 'u' | 'U' => {
                    let n = match e {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let digits: String = (0..n).filter_map(|_| self.bump()).collect();
                    let code = u32::from_str_radix(&digits, 16)
                        .map_err(|_| err(format!("invalid escape \\{e}{digits}")))?;
                    if e == 'x' {
                        // A \x escape is one byte; only ASCII keeps the string valid UTF-8.
                        let ch = char::from_u32(code).filter(char::is_ascii);
                        out.push(ch.ok_or_else(|| err("invalid \\x escape"))?);
                    } else {
                        out.push(char::from_u32(code).ok_or_else(|| err("invalid code point"))?);
                    }
                }
                '0'..='7' => {
                    let mut digits = e.to_string();
                    digits.extend((0..2).filter_map(|_| self.bump()));
                    let code =
                        u32::from_str_radix(&digits, 8).map_err(|_| err("invalid octal escape"))?;
                    let ch = char::from_u32(code).filter(char::is_ascii);
                    out.push(ch.ok_or_else(|| err("invalid octal escape"))?);
                }
                other => return Err(err(format!("unknown escape sequence \\{other}"))),
            }
        }
    }
}

/// Parses `name{labels}` and returns the labels and the remaining text.
pub fn parse_series_labels(line: &str) -> Result<(Labels, &str), ScriptError> {
    let mut sc = Scanner { s: line, pos: 0 };
    sc.skip_ws();
    let mut labels = Labels::empty();
    let name = sc.identifier();
    if !name.is_empty() {
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(err(format!("invalid metric name {name:?}")));
        }
        labels.set(METRIC_NAME, name);
    }
    if sc.eat('{') {
        loop {
            sc.skip_ws();
            if sc.eat('}') {
                break;
            }
            let label_name = match sc.peek() {
                Some('"' | '\'' | '`') => sc.quoted()?,
                _ => sc.identifier().to_owned(),
            };
            sc.skip_ws();
            if sc.eat('=') {
                if label_name.is_empty() {
                    return Err(err("missing label name"));
                }
                sc.skip_ws();
                let value = sc.quoted()?;
                if labels.has(&label_name) {
                    return Err(err(format!("duplicate label name {label_name:?}")));
                }
                labels.set(label_name, value);
            } else if !label_name.is_empty() && labels.metric_name().is_none() {
                // `{"my.metric", ...}`: a lone quoted string names the metric.
                labels.set(METRIC_NAME, label_name);
            } else {
                return Err(err(format!(
                    "unexpected text in label set: {:?}",
                    sc.rest()
                )));
            }
            sc.skip_ws();
            if sc.eat(',') {
                continue;
            }
            if sc.eat('}') {
                break;
            }
            return Err(err(format!(
                "unexpected text in label set: {:?}",
                sc.rest()
            )));
        }
    } else if name.is_empty() {
        return Err(err(format!("expected a series description, got {line:?}")));
    }
    Ok((labels, sc.rest()))
}

/// Parses a whole series line: labels followed by values.
pub fn parse_series_line(line: &str) -> Result<SeriesLine, ScriptError> {
    let (labels, rest) = parse_series_labels(line)?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return Err(err(format!("unexpected text after labels: {rest:?}")));
    }
    Ok(SeriesLine {
        labels,
        values: parse_values(rest)?,
    })
}

/// Splits the value part into items; `{{…}}` items may contain spaces.
fn split_items(s: &str) -> Result<Vec<&str>, ScriptError> {
    let mut items = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            if bytes[i..].starts_with(b"{{") {
                let close = s[i..]
                    .find("}}")
                    .ok_or_else(|| err("unterminated {{ histogram"))?;
                i += close + 2;
            } else {
                i += 1;
            }
        }
        items.push(&s[start..i]);
    }
    Ok(items)
}

/// Parses and expands a value sequence.
pub fn parse_values(s: &str) -> Result<Vec<SequenceValue>, ScriptError> {
    let mut out = Vec::new();
    for item in split_items(s)? {
        expand_item(item, &mut out)?;
    }
    Ok(out)
}

fn parse_times(s: &str) -> Result<u64, ScriptError> {
    s.parse()
        .map_err(|_| err(format!("invalid repetition count {s:?}")))
}

/// Splits `AxN` into `(A, Some(N))` when the text after the last `x` is a count.
fn split_times(item: &str) -> (&str, Option<&str>) {
    match item.rfind('x') {
        Some(i)
            if i > 0 && i + 1 < item.len() && item[i + 1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            (&item[..i], Some(&item[i + 1..]))
        }
        _ => (item, None),
    }
}

/// Splits `A+B` / `A-B` at the first sign that is neither leading nor an exponent sign.
fn split_increment(head: &str) -> Option<(&str, &str)> {
    let b = head.as_bytes();
    (1..b.len())
        .find(|&i| {
            let exponent_sign = matches!(b[i - 1], b'e' | b'E')
                && head[..i - 1]
                    .trim_start_matches(['+', '-'])
                    .parse::<f64>()
                    .is_ok();
            matches!(b[i], b'+' | b'-') && !exponent_sign
        })
        .map(|i| (&head[..i], &head[i..]))
}

fn expand_item(item: &str, out: &mut Vec<SequenceValue>) -> Result<(), ScriptError> {
    if item.starts_with("{{") {
        return expand_histogram_item(item, out);
    }
    if item == "_" {
        out.push(SequenceValue::Omitted);
        return Ok(());
    }
    if let Some(n) = item.strip_prefix("_x") {
        out.extend((0..parse_times(n)?).map(|_| SequenceValue::Omitted));
        return Ok(());
    }
    if item == "stale" {
        out.push(SequenceValue::Float(stale_nan()));
        return Ok(());
    }
    let (head, times) = split_times(item);
    let Some(times) = times else {
        out.push(SequenceValue::Float(parse_series_number(item)?));
        return Ok(());
    };
    let n = parse_times(times)?;
    let (start, inc) = match split_increment(head) {
        Some((a, b)) => (parse_series_number(a)?, parse_series_number(b)?),
        None => (parse_series_number(head)?, 0.0),
    };
    let mut v = start;
    for _ in 0..=n {
        out.push(SequenceValue::Float(v));
        // Repeated addition, not start + k*inc: it matches how upstream expands sequences.
        v += inc;
    }
    Ok(())
}

fn expand_histogram_item(item: &str, out: &mut Vec<SequenceValue>) -> Result<(), ScriptError> {
    let close = item
        .find("}}")
        .ok_or_else(|| err("unterminated {{ histogram"))?;
    let (base, base_explicit) = parse_histogram(&item[2..close])?;
    let rest = &item[close + 2..];
    let single = |h: FloatHistogram| SequenceValue::Histogram {
        histogram: h,
        hint_explicit: base_explicit,
    };
    if rest.is_empty() {
        out.push(single(base));
        return Ok(());
    }
    if let Some(n) = rest.strip_prefix('x') {
        out.extend((0..=parse_times(n)?).map(|_| single(base.clone())));
        return Ok(());
    }
    let sign = match rest.as_bytes().first() {
        Some(b'+') => 1.0,
        Some(b'-') => -1.0,
        _ => return Err(err(format!("unexpected text after histogram: {rest:?}"))),
    };
    let inc_text = &rest[1..];
    let inc_close = inc_text
        .strip_prefix("{{")
        .and_then(|t| t.find("}}"))
        .ok_or_else(|| err(format!("expected {{{{…}}}} after sign: {rest:?}")))?;
    let (inc, _) = parse_histogram(&inc_text[2..inc_close + 2])?;
    let times = inc_text[inc_close + 4..]
        .strip_prefix('x')
        .ok_or_else(|| err("a histogram increment needs a repetition count"))?;
    let n = parse_times(times)?;
    let mut cur = base;
    out.push(single(cur.clone()));
    for _ in 0..n {
        if cur.schema > inc.schema {
            return Err(err(format!(
                "error combining histograms: cannot merge from schema {} to {}",
                inc.schema, cur.schema
            )));
        }
        let combined = if sign > 0.0 {
            cur.add(&inc)
        } else {
            cur.sub(&inc)
        };
        cur = combined
            .map_err(|e| err(format!("error combining histograms: {e}")))?
            .histogram;
        out.push(single(cur.clone()));
    }
    Ok(())
}

/// Parses the inside of `{{…}}`; returns the histogram and whether the hint was given.
pub fn parse_histogram(s: &str) -> Result<(FloatHistogram, bool), ScriptError> {
    let mut h = FloatHistogram::default();
    let mut hint_explicit = false;
    let (mut offset, mut n_offset) = (0i32, 0i32);
    let mut sc = Scanner { s, pos: 0 };
    loop {
        sc.skip_ws();
        if sc.peek().is_none() {
            break;
        }
        let key_start = sc.pos;
        while sc
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            sc.bump();
        }
        let key = &s[key_start..sc.pos];
        if !sc.eat(':') {
            return Err(err(format!(
                "expected key:value in histogram, got {:?}",
                sc.rest()
            )));
        }
        sc.skip_ws();
        if sc.eat('[') {
            let end = sc
                .rest()
                .find(']')
                .ok_or_else(|| err("unterminated [ in histogram"))?;
            let list = sc.rest()[..end]
                .split_whitespace()
                .map(parse_series_number)
                .collect::<Result<Vec<_>, _>>()?;
            sc.pos += end + 1;
            match key {
                "buckets" => h.positive_buckets = list,
                "n_buckets" => h.negative_buckets = list,
                "custom_values" => h.custom_values = list,
                other => return Err(err(format!("unknown histogram list field {other:?}"))),
            }
            continue;
        }
        let start = sc.pos;
        while sc.peek().is_some_and(|c| !c.is_whitespace()) {
            sc.bump();
        }
        let value = &s[start..sc.pos];
        let int = || -> Result<i32, ScriptError> {
            value
                .parse()
                .map_err(|_| err(format!("invalid integer {value:?} for {key}")))
        };
        match key {
            "schema" => h.schema = int()?,
            "offset" => offset = int()?,
            "n_offset" => n_offset = int()?,
            "sum" => h.sum = parse_series_number(value)?,
            "count" => h.count = parse_series_number(value)?,
            "z_bucket" => h.zero_count = parse_series_number(value)?,
            "z_bucket_w" => h.zero_threshold = parse_series_number(value)?,
            "counter_reset_hint" => {
                hint_explicit = true;
                h.counter_reset_hint = match value {
                    "unknown" => CounterResetHint::Unknown,
                    "reset" => CounterResetHint::CounterReset,
                    "not_reset" => CounterResetHint::NotCounterReset,
                    "gauge" => CounterResetHint::Gauge,
                    other => return Err(err(format!("invalid counter reset hint {other:?}"))),
                };
            }
            other => return Err(err(format!("unknown histogram field {other:?}"))),
        }
    }
    let span = |offset: i32, n: usize| {
        let length = u32::try_from(n).map_err(|_| err("too many buckets"))?;
        Ok::<_, ScriptError>(if n > 0 {
            vec![BucketSpan { offset, length }]
        } else {
            Vec::new()
        })
    };
    h.positive_spans = span(offset, h.positive_buckets.len())?;
    h.negative_spans = span(n_offset, h.negative_buckets.len())?;
    if h.schema == CUSTOM_BUCKETS_SCHEMA && !h.custom_values.windows(2).all(|w| w[0] < w[1]) {
        return Err(err("custom_values must be strictly increasing"));
    }
    Ok((h, hint_explicit))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::value::is_stale_nan;

    fn floats(s: &str) -> Vec<Option<f64>> {
        parse_values(s)
            .unwrap()
            .into_iter()
            .map(|v| match v {
                SequenceValue::Float(f) => Some(f),
                SequenceValue::Omitted => None,
                SequenceValue::Histogram { .. } => panic!("unexpected histogram"),
            })
            .collect()
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m", false).unwrap(), 5_400_000);
        assert_eq!(parse_duration("10s53ms", false).unwrap(), 10_053);
        assert_eq!(parse_duration("0", false).unwrap(), 0);
        assert_eq!(parse_duration("-59999ms", true).unwrap(), -59_999);
        assert!(parse_duration("-1s", false).is_err());
        assert!(parse_duration("10", false).is_err());
        assert!(parse_duration("1q", false).is_err());
    }

    #[test]
    fn float_sequences() {
        assert_eq!(
            floats("0+10x3"),
            [Some(0.0), Some(10.0), Some(20.0), Some(30.0)]
        );
        assert_eq!(
            floats("1-2x4"),
            [Some(1.0), Some(-1.0), Some(-3.0), Some(-5.0), Some(-7.0)]
        );
        assert_eq!(floats("-2+4x2"), [Some(-2.0), Some(2.0), Some(6.0)]);
        assert_eq!(
            floats("1 _ 3 _x2 5x1"),
            [Some(1.0), None, Some(3.0), None, None, Some(5.0), Some(5.0)]
        );
        assert_eq!(
            floats("1e3 -1e-3+1e-3x1 1m +Inf -inf"),
            [
                Some(1000.0),
                Some(-0.001),
                Some(0.0),
                Some(60.0),
                Some(f64::INFINITY),
                Some(f64::NEG_INFINITY)
            ]
        );
        let v = floats("NaN stale");
        assert!(v[0].unwrap().is_nan() && !is_stale_nan(v[0].unwrap()));
        assert!(is_stale_nan(v[1].unwrap()));
        // Durations as start-timestamp offsets: -30s, then -1m steps.
        assert_eq!(
            floats("-30s-1mx2"),
            [Some(-30.0), Some(-90.0), Some(-150.0)]
        );
        // Hexadecimal is not a series value: `0x10` repeats 0 eleven times.
        assert_eq!(floats("0x10"), vec![Some(0.0); 11]);
        assert!(parse_values("abc").is_err());
        assert!(parse_values("1 é{{").is_err());
    }

    #[test]
    fn series_labels() {
        let l = parse_series_line(r#"metric{a="b", c='d\n',} 1"#).unwrap();
        assert_eq!(
            l.labels.to_string(),
            r#"{__name__="metric", a="b", c="d\n"}"#
        );
        let l = parse_series_line(r#"{"my.metric", "label.x"="v"} 1"#).unwrap();
        assert_eq!(l.labels.metric_name(), Some("my.metric"));
        assert_eq!(l.labels.get("label.x"), Some("v"));
        let l = parse_series_line("{} 3").unwrap();
        assert!(l.labels.is_empty());
        let l = parse_series_line(r#"{__name__="x", a=`raw\n`} 3"#).unwrap();
        assert_eq!(l.labels.get("a"), Some("raw\\n"));
        assert!(parse_series_line(r#"m{a="b" c="d"} 1"#).is_err());
        assert!(parse_series_line(r#"m{a="b"}1"#).is_err());
    }

    #[test]
    fn histogram_notation() {
        let v = parse_values("{{schema:1 sum:5 count:4 z_bucket:1 z_bucket_w:0.001 buckets:[1 2] offset:-1 n_buckets:[1] counter_reset_hint:gauge}}").unwrap();
        let SequenceValue::Histogram {
            histogram: h,
            hint_explicit,
        } = &v[0]
        else {
            panic!()
        };
        assert!(*hint_explicit);
        assert_eq!(h.schema, 1);
        assert_eq!(
            (h.sum, h.count, h.zero_count, h.zero_threshold),
            (5.0, 4.0, 1.0, 0.001)
        );
        assert_eq!(
            h.positive_spans,
            [BucketSpan {
                offset: -1,
                length: 2
            }]
        );
        assert_eq!(
            h.negative_spans,
            [BucketSpan {
                offset: 0,
                length: 1
            }]
        );
        assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);
        let v = parse_values("{{schema:-53 sum:1 count:1 custom_values:[5 10] buckets:[1]}}x2")
            .unwrap();
        assert_eq!(v.len(), 3);
        let SequenceValue::Histogram {
            histogram: h,
            hint_explicit,
        } = &v[2]
        else {
            panic!()
        };
        assert!(!hint_explicit);
        assert_eq!(h.custom_values, [5.0, 10.0]);
        assert_eq!(parse_values("{{}}").unwrap().len(), 1);
    }

    #[test]
    fn histogram_increments() {
        let v = parse_values("{{schema:0 count:1 sum:1 buckets:[1] offset:1}}+{{count:1 sum:1 buckets:[1] offset:1}}x3").unwrap();
        let counts: Vec<_> = v
            .iter()
            .map(|s| match s {
                SequenceValue::Histogram { histogram, .. } => {
                    (histogram.count, histogram.positive_buckets.clone())
                }
                _ => panic!(),
            })
            .collect();
        assert_eq!(
            counts,
            [
                (1.0, vec![1.0]),
                (2.0, vec![2.0]),
                (3.0, vec![3.0]),
                (4.0, vec![4.0])
            ]
        );
        let v = parse_values("{{count:10 sum:10 buckets:[10]}}-{{count:2 sum:2 buckets:[2]}}x1")
            .unwrap();
        let SequenceValue::Histogram { histogram: h, .. } = &v[1] else {
            panic!()
        };
        assert_eq!((h.count, h.positive_buckets.clone()), (8.0, vec![8.0]));
        // Base schema above the increment's cannot be combined.
        assert!(parse_values("{{schema:1 count:1}}+{{schema:0 count:1}}x1").is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(
            s in prop_oneof!["\\PC{0,40}", "[{}\\[\\]a-z0-9_:+x =\"'`,.é\\\\-]{0,40}"]
        ) {
            let _ = parse_series_line(&s);
            let _ = parse_values(&s);
            let _ = parse_histogram(&s);
            let _ = parse_scalar(&s);
        }

        #[test]
        fn sequences_expand_arithmetically(a in -1000i32..1000, b in -100i32..100, n in 0u32..20) {
            let text = format!("{a}{b:+}x{n}");
            let got = floats(&text);
            let want: Vec<Option<f64>> =
                (0..=n).map(|k| Some(f64::from(a) + f64::from(b) * f64::from(k))).collect();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn scalars() {
        assert_eq!(parse_scalar("0x10"), Some(16.0));
        assert_eq!(parse_scalar("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_scalar("1e3"), Some(1000.0));
        assert_eq!(parse_scalar("010"), Some(8.0));
        assert!(parse_scalar("NaN").unwrap().is_nan());
        assert_eq!(parse_scalar("{} 1"), None);
        assert_eq!(parse_scalar("metric"), None);
    }
}
