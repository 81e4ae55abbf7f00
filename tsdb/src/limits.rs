//! Caps on the series a tenant's head holds (AMP's active-series quota and
//! `limitsPerLabelSet`): a sample that would create a series past a cap is refused, while
//! samples of series already in the head are always taken.

use std::fmt;

use crate::model::Labels;

/// Caps on the series of one tenant's head; `Default` is unlimited.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeriesLimits {
    /// Most series the head may hold; `None` is unlimited.
    pub max_series: Option<usize>,
    /// Most series matching each label set.
    pub per_label_set: Vec<LabelSetLimit>,
}

/// A cap on the series carrying every label of `labels`. An empty `labels` is the default
/// bucket: it counts the series no other label set of the tenant matches, as AMP does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSetLimit {
    /// The labels a series must all carry to count.
    pub labels: Labels,
    /// Most series matching them.
    pub max_series: usize,
}

/// The cap a refused series ran into, worded for the sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitHit {
    /// The tenant's total.
    Series(usize),
    /// One label set's cap.
    LabelSet {
        /// The label set, as `{name="value", …}`.
        labels: String,
        /// Its cap.
        max_series: usize,
    },
}

impl fmt::Display for LimitHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Series(max) => write!(f, "per-workspace active series limit of {max} exceeded"),
            Self::LabelSet { labels, max_series } => write!(
                f,
                "active series limit of {max_series} exceeded for label set {labels}"
            ),
        }
    }
}

impl SeriesLimits {
    /// Returns the indexes of the label-set limits `series` counts against.
    pub(crate) fn buckets(&self, series: &Labels) -> Vec<usize> {
        let matched: Vec<usize> = self
            .per_label_set
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.labels.is_empty() && carries(series, &l.labels))
            .map(|(i, _)| i)
            .collect();
        if !matched.is_empty() {
            return matched;
        }
        self.per_label_set
            .iter()
            .position(|l| l.labels.is_empty())
            .into_iter()
            .collect()
    }

    /// Returns the cap a new series would exceed, given the series counted so far (`total`
    /// in all, `per_set[i]` against label set `i`).
    pub(crate) fn exceeded(
        &self,
        buckets: &[usize],
        total: usize,
        per_set: &[usize],
    ) -> Option<LimitHit> {
        if let Some(max) = self.max_series.filter(|max| total >= *max) {
            return Some(LimitHit::Series(max));
        }
        buckets.iter().find_map(|&i| {
            let limit = &self.per_label_set[i];
            (per_set[i] >= limit.max_series).then(|| LimitHit::LabelSet {
                labels: format!("{:?}", limit.labels),
                max_series: limit.max_series,
            })
        })
    }
}

fn carries(series: &Labels, set: &Labels) -> bool {
    set.iter()
        .all(|l| series.get(&l.name) == Some(l.value.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn label_sets_and_the_default_bucket() {
        let limits = SeriesLimits {
            max_series: Some(10),
            per_label_set: vec![
                LabelSetLimit {
                    labels: labels(&[("team", "a")]),
                    max_series: 2,
                },
                LabelSetLimit {
                    labels: labels(&[]),
                    max_series: 1,
                },
            ],
        };
        let a = labels(&[("__name__", "x"), ("team", "a")]);
        let b = labels(&[("__name__", "x"), ("team", "b")]);
        assert_eq!(limits.buckets(&a), vec![0]);
        assert_eq!(limits.buckets(&b), vec![1]);
        assert_eq!(limits.exceeded(&[0], 3, &[1, 0]), None);
        let hit = limits.exceeded(&[0], 3, &[2, 0]).unwrap();
        assert_eq!(
            hit.to_string(),
            r#"active series limit of 2 exceeded for label set {team="a"}"#
        );
        assert_eq!(
            limits.exceeded(&[1], 10, &[0, 0]),
            Some(LimitHit::Series(10))
        );
    }
}
