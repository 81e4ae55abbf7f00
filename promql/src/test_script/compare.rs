//! Compares query results with the expectations of an eval command.

use std::collections::HashMap;

use super::notation::{SequenceValue, SeriesLine};
use super::parse::{AnnotationCheck, EvalCommand, TextMatch};
use crate::kernels::almost_equal;
use crate::value::annotations::Annotations;
use crate::value::histogram::{FloatHistogram, expand};
use crate::value::labels::Labels;
use crate::value::{Matrix, PointValue, Series, Value, Vector};

/// Relative tolerance of float comparisons, as in the upstream test framework.
pub const EPSILON: f64 = 1e-6;

/// Tells whether two histograms are equal for test purposes: layout and schema exactly, counts
/// within [`EPSILON`], empty buckets and spans ignored, the hint only if `check_hint`.
pub fn histograms_match(
    expected: &FloatHistogram,
    actual: &FloatHistogram,
    check_hint: bool,
) -> bool {
    let (e, a) = (expected.compact(0), actual.compact(0));
    let close = |x: f64, y: f64| almost_equal(x, y, EPSILON);
    let buckets_match = |es: &[_], eb: &[f64], as_: &[_], ab: &[f64]| {
        let (ep, ap) = (expand(es, eb), expand(as_, ab));
        ep.len() == ap.len()
            && ep
                .iter()
                .zip(&ap)
                .all(|(x, y)| x.0 == y.0 && close(x.1, y.1))
    };
    e.schema == a.schema
        && close(e.count, a.count)
        && close(e.sum, a.sum)
        && (!e.uses_custom_buckets() || e.custom_values == a.custom_values)
        && e.zero_threshold == a.zero_threshold
        && close(e.zero_count, a.zero_count)
        && buckets_match(
            &e.positive_spans,
            &e.positive_buckets,
            &a.positive_spans,
            &a.positive_buckets,
        )
        && buckets_match(
            &e.negative_spans,
            &e.negative_buckets,
            &a.negative_spans,
            &a.negative_buckets,
        )
        && (!check_hint || e.counter_reset_hint == a.counter_reset_hint)
}

fn value_matches(expected: &SequenceValue, actual: &PointValue) -> Result<(), String> {
    match (expected, actual) {
        (SequenceValue::Float(e), PointValue::Float(a)) if almost_equal(*e, *a, EPSILON) => Ok(()),
        (SequenceValue::Float(e), PointValue::Float(a)) => Err(format!("expected {e} but got {a}")),
        (
            SequenceValue::Histogram {
                histogram,
                hint_explicit,
            },
            PointValue::Histogram(a),
        ) => {
            if histograms_match(histogram, a, *hint_explicit) {
                Ok(())
            } else {
                Err(format!("expected histogram {histogram:?} but got {a:?}"))
            }
        }
        (SequenceValue::Float(e), PointValue::Histogram(_)) => {
            Err(format!("expected float value {e} but got a histogram"))
        }
        (SequenceValue::Histogram { .. }, PointValue::Float(a)) => {
            Err(format!("expected a histogram but got float value {a}"))
        }
        (SequenceValue::Omitted, _) => Err("expected no value but got one".to_owned()),
    }
}

fn index(expected: &[SeriesLine]) -> HashMap<&Labels, (usize, &SeriesLine)> {
    expected
        .iter()
        .enumerate()
        .map(|(i, s)| (&s.labels, (i, s)))
        .collect()
}

/// Compares an instant vector with the expected series (one value each).
pub fn compare_vector(cmd: &EvalCommand, vector: &Vector, ordered: bool) -> Result<(), String> {
    let expected = index(&cmd.expected);
    let mut seen = vec![false; cmd.expected.len()];
    for (pos, sample) in vector.iter().enumerate() {
        let Some(&(exp_pos, exp)) = expected.get(&sample.labels) else {
            return Err(format!("unexpected metric {} in result", sample.labels));
        };
        if seen[exp_pos] {
            return Err(format!(
                "metric {} appears twice in the result",
                sample.labels
            ));
        }
        if ordered && exp_pos != pos {
            return Err(format!(
                "expected metric {} at position {} but was at {}",
                sample.labels,
                exp_pos + 1,
                pos + 1
            ));
        }
        let Some(first) = exp.values.first() else {
            return Err(format!("no expected value for {}", sample.labels));
        };
        value_matches(first, &sample.value).map_err(|e| format!("{e} for {}", sample.labels))?;
        seen[exp_pos] = true;
    }
    match seen.iter().position(|s| !s) {
        Some(i) => Err(format!(
            "expected metric {} not found",
            cmd.expected[i].labels
        )),
        None => Ok(()),
    }
}

/// Compares a matrix with the expected series, the n-th value belonging to `start + n*step`.
pub fn compare_matrix(
    cmd: &EvalCommand,
    matrix: &Matrix,
    start: i64,
    end: i64,
    step: i64,
) -> Result<(), String> {
    let expected = index(&cmd.expected);
    let mut seen = vec![false; cmd.expected.len()];
    for series in matrix {
        let Some(&(exp_pos, exp)) = expected.get(&series.labels) else {
            return Err(format!("unexpected metric {} in result", series.labels));
        };
        if seen[exp_pos] {
            return Err(format!(
                "metric {} appears twice in the result",
                series.labels
            ));
        }
        seen[exp_pos] = true;
        let mut want = Vec::new();
        for (i, v) in exp.values.iter().enumerate() {
            let t = start + step * i as i64;
            if t > end {
                return Err(format!(
                    "expected {} points for {}, but the query time range cannot return this many",
                    exp.values.len(),
                    series.labels
                ));
            }
            if !matches!(v, SequenceValue::Omitted) {
                want.push((t, v));
            }
        }
        let got = series.points();
        if got.len() != want.len() {
            return Err(format!(
                "expected {} points for {}, but got {}",
                want.len(),
                series.labels,
                got.len()
            ));
        }
        for ((t, v), p) in want.iter().zip(&got) {
            if *t != p.t {
                return Err(format!(
                    "expected a point at t={t} for {}, but got one at t={}",
                    series.labels, p.t
                ));
            }
            value_matches(v, &p.value)
                .map_err(|e| format!("{e} at t={t} for {}", series.labels))?;
        }
    }
    match seen.iter().position(|s| !s) {
        Some(i) => Err(format!(
            "expected metric {} not found",
            cmd.expected[i].labels
        )),
        None => Ok(()),
    }
}

/// Checks that a matrix is sorted by labels and has no duplicate series.
pub fn check_sorted(matrix: &[Series]) -> Result<(), String> {
    match matrix.windows(2).find(|w| w[0].labels >= w[1].labels) {
        Some(w) => Err(format!(
            "matrix results should always be sorted by labels, but {} comes before {}",
            w[0].labels, w[1].labels
        )),
        None => Ok(()),
    }
}

/// Compares a successful result with the command's expectations. `range` is the time grid of
/// the expected points when the result is a matrix.
pub fn compare_value(
    cmd: &EvalCommand,
    value: &Value,
    range: Option<(i64, i64, i64)>,
) -> Result<(), String> {
    match value {
        Value::Matrix(m) => {
            if cmd.ordered {
                return Err("expected an ordered vector, but the query returned a matrix".into());
            }
            if cmd.expected_scalar.is_some() || cmd.expected_string.is_some() {
                return Err("expected a scalar or string, but the query returned a matrix".into());
            }
            let Some((start, end, step)) = range else {
                return Err(
                    "the query returned a range vector, but no `expect range vector` was given"
                        .into(),
                );
            };
            check_sorted(m)?;
            compare_matrix(cmd, m, start, end, step)
        }
        Value::Vector(v) => {
            if cmd.expected_scalar.is_some() || cmd.expected_string.is_some() {
                return Err("expected a scalar or string, but the query returned a vector".into());
            }
            if cmd.range_vector.is_some() {
                return Err("expected a range vector, but the query returned a vector".into());
            }
            compare_vector(cmd, v, cmd.ordered)
        }
        Value::Scalar(s) => match cmd.expected_scalar {
            Some(e) if almost_equal(e, s.v, EPSILON) => Ok(()),
            Some(e) => Err(format!("expected scalar {e} but got {}", s.v)),
            None => Err(format!(
                "expected a vector or matrix, but got scalar {}",
                s.v
            )),
        },
        Value::String(s) => match &cmd.expected_string {
            Some(e) if *e == s.v => Ok(()),
            Some(e) => Err(format!("expected string {e:?} but got {:?}", s.v)),
            None => Err(format!(
                "expected a vector or matrix, but got string {:?}",
                s.v
            )),
        },
    }
}

/// Checks returned annotations against `expect warn|info|no_warn|no_info` lines.
pub fn check_annotations(cmd: &EvalCommand, annotations: &Annotations) -> Result<(), String> {
    let kinds = [
        ("warning", &cmd.warnings, annotations.warnings(&cmd.expr)),
        ("info", &cmd.infos, annotations.infos(&cmd.expr)),
    ];
    for (kind, check, got) in kinds {
        match check {
            AnnotationCheck::Unchecked => {}
            AnnotationCheck::Forbidden => {
                if !got.is_empty() {
                    return Err(format!("unexpected {kind} annotations: {got:?}"));
                }
            }
            AnnotationCheck::Expected(lines) => {
                if got.is_empty() {
                    return Err(format!("expected {kind} annotations but got none"));
                }
                if let Some(line) = lines.iter().find(|l| !got.iter().any(|g| l.matches(g))) {
                    return Err(format!(
                        "no {kind} annotation matches {}: got {got:?}",
                        describe(line)
                    ));
                }
                if let Some(g) = got.iter().find(|g| !lines.iter().any(|l| l.matches(g))) {
                    return Err(format!("unexpected {kind} annotation {g:?}"));
                }
            }
        }
    }
    Ok(())
}

fn describe(m: &TextMatch) -> String {
    match m {
        TextMatch::Any => "any text".to_owned(),
        TextMatch::Exact(s) => format!("{s:?}"),
        TextMatch::Regex(r) => format!("regex {:?}", r.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_script::notation::parse_values;
    use crate::test_script::parse::{Command, parse_script};
    use crate::value::annotations::{Annotation, PositionRange};
    use crate::value::{FPoint, HPoint, Sample, Scalar};

    fn eval(script: &str) -> EvalCommand {
        match parse_script(script).unwrap().into_iter().next() {
            Some(Command::Eval(e)) => *e,
            other => panic!("expected eval, got {other:?}"),
        }
    }

    fn hist(notation: &str) -> FloatHistogram {
        match parse_values(notation).unwrap().remove(0) {
            SequenceValue::Histogram { histogram, .. } => histogram,
            other => panic!("{other:?}"),
        }
    }

    fn sample(labels: &[(&str, &str)], value: PointValue) -> Sample {
        Sample {
            labels: Labels::from_pairs(labels.iter().copied()),
            t: 0,
            value,
            drop_name: false,
        }
    }

    #[test]
    fn vector_comparison_with_tolerance() {
        let cmd = eval("eval instant at 0 x\n  x{a=\"1\"} 1\n  x{a=\"2\"} NaN");
        let ok = vec![
            sample(
                &[("__name__", "x"), ("a", "2")],
                PointValue::Float(f64::NAN),
            ),
            sample(
                &[("__name__", "x"), ("a", "1")],
                PointValue::Float(1.0 + 1e-9),
            ),
        ];
        assert_eq!(
            compare_value(&cmd, &Value::Vector(ok.clone()), None),
            Ok(())
        );
        let mut off = ok.clone();
        off[1].value = PointValue::Float(1.00001);
        assert!(compare_value(&cmd, &Value::Vector(off), None).is_err());
        assert!(
            compare_value(&cmd, &Value::Vector(ok[..1].to_vec()), None)
                .unwrap_err()
                .contains("not found")
        );
        let mut extra = ok.clone();
        extra.push(sample(&[("a", "3")], PointValue::Float(1.0)));
        assert!(
            compare_value(&cmd, &Value::Vector(extra), None)
                .unwrap_err()
                .contains("unexpected")
        );
        let ordered = eval("eval_ordered instant at 0 x\n  x{a=\"1\"} 1\n  x{a=\"2\"} NaN");
        assert!(
            compare_value(&ordered, &Value::Vector(ok), None)
                .unwrap_err()
                .contains("position")
        );
        // Zero compares against an absolute tolerance far below 1e-6.
        let zero = eval("eval instant at 0 x\n  {} 0");
        let tiny = vec![sample(&[], PointValue::Float(1e-300))];
        assert!(compare_value(&zero, &Value::Vector(tiny), None).is_err());
        let empty = eval("eval instant at 0 x");
        assert_eq!(compare_value(&empty, &Value::Vector(vec![]), None), Ok(()));
    }

    #[test]
    fn scalar_and_type_mismatches() {
        let cmd = eval("eval instant at 0 1\n  1.0000000001");
        assert_eq!(
            compare_value(&cmd, &Value::Scalar(Scalar { t: 0, v: 1.0 }), None),
            Ok(())
        );
        assert!(compare_value(&cmd, &Value::Vector(vec![]), None).is_err());
        let vec_cmd = eval("eval instant at 0 x\n  {} 1");
        let h = vec![sample(
            &[],
            PointValue::Histogram(FloatHistogram::default()),
        )];
        assert!(
            compare_value(&vec_cmd, &Value::Vector(h), None)
                .unwrap_err()
                .contains("histogram")
        );
    }

    #[test]
    fn histogram_comparison() {
        let a = hist("{{schema:0 sum:5 count:4 buckets:[1 2 1]}}");
        // Same buckets with an empty bucket and a split span: still equal after compaction.
        let mut b = a.clone();
        b.positive_spans = vec![
            crate::value::histogram::BucketSpan {
                offset: 0,
                length: 2,
            },
            crate::value::histogram::BucketSpan {
                offset: 0,
                length: 2,
            },
        ];
        b.positive_buckets = vec![1.0, 2.0, 1.0, 0.0];
        b.count = 4.000_000_1;
        assert!(histograms_match(&a, &b, false));
        b.positive_buckets[2] = 1.1;
        assert!(!histograms_match(&a, &b, false));
        let mut c = a.clone();
        c.schema = 1;
        assert!(!histograms_match(&a, &c, false));
        let mut d = a.clone();
        d.counter_reset_hint = crate::value::histogram::CounterResetHint::Gauge;
        assert!(histograms_match(&a, &d, false));
        assert!(!histograms_match(&a, &d, true));
        let mut e = a.clone();
        e.zero_threshold = 0.001;
        assert!(!histograms_match(&a, &e, false));
    }

    #[test]
    fn matrix_comparison() {
        let cmd = eval("eval range from 0 to 2m step 1m x\n  x 1 _ {{count:1}}");
        let series = |floats: Vec<FPoint>, hs: Vec<HPoint>| Series {
            labels: Labels::from_pairs([("__name__", "x")]),
            floats,
            histograms: hs,
            drop_name: false,
        };
        let h = hist("{{count:1}}");
        let good = series(
            vec![FPoint { t: 0, f: 1.0 }],
            vec![HPoint {
                t: 120_000,
                h: h.clone(),
            }],
        );
        let range = Some((0, 120_000, 60_000));
        assert_eq!(
            compare_value(&cmd, &Value::Matrix(vec![good]), range),
            Ok(())
        );
        let extra = series(
            vec![FPoint { t: 0, f: 1.0 }, FPoint { t: 60_000, f: 1.0 }],
            vec![HPoint { t: 120_000, h }],
        );
        assert!(compare_value(&cmd, &Value::Matrix(vec![extra]), range).is_err());
        let unsorted = vec![
            Series {
                labels: Labels::from_pairs([("a", "2")]),
                ..Default::default()
            },
            Series {
                labels: Labels::from_pairs([("a", "1")]),
                ..Default::default()
            },
        ];
        assert!(check_sorted(&unsorted).is_err());
    }

    #[test]
    fn annotation_checks() {
        let pos = PositionRange { start: 5, end: 8 };
        let mut annos = Annotations::new();
        annos.add(Annotation::possible_non_counter("foo", pos));
        let exact = eval(
            "eval instant at 0 rate(foo[1m])\n  expect info msg: PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"foo\" (1:6)",
        );
        assert_eq!(check_annotations(&exact, &annos), Ok(()));
        let wrong_pos = eval("eval instant at 0 rate(foo[1m])\n  expect info regex: \\(1:1\\)");
        assert!(check_annotations(&wrong_pos, &annos).is_err());
        let no_info = eval("eval instant at 0 rate(foo[1m])\n  expect no_info");
        assert!(check_annotations(&no_info, &annos).is_err());
        let warn = eval("eval instant at 0 rate(foo[1m])\n  expect warn");
        assert!(
            check_annotations(&warn, &annos)
                .unwrap_err()
                .contains("none")
        );
        let unchecked = eval("eval instant at 0 rate(foo[1m])");
        assert_eq!(check_annotations(&unchecked, &annos), Ok(()));
    }
}
