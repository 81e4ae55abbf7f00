//! Inverted index from label pairs to sorted series ids, and set operations on sorted lists.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::matcher::Matcher;
use crate::model::Labels;

/// Label name → label value → sorted series ids.
#[derive(Clone, Debug, Default)]
pub(crate) struct Postings {
    map: BTreeMap<Arc<str>, BTreeMap<Arc<str>, Vec<u64>>>,
    all: Vec<u64>,
}

fn insert_sorted(v: &mut Vec<u64>, id: u64) {
    match v.last() {
        // Ids are mostly added in increasing order; keep that path cheap.
        Some(&last) if last < id => v.push(id),
        None => v.push(id),
        _ => {
            if let Err(i) = v.binary_search(&id) {
                v.insert(i, id);
            }
        }
    }
}

impl Postings {
    pub(crate) fn add(&mut self, id: u64, labels: &Labels) {
        insert_sorted(&mut self.all, id);
        for l in labels.iter() {
            let values = self.map.entry(l.name.clone()).or_default();
            insert_sorted(values.entry(l.value.clone()).or_default(), id);
        }
    }

    /// Removes the ids in `gone` (sorted) everywhere, dropping emptied entries.
    pub(crate) fn remove(&mut self, gone: &[u64]) {
        if gone.is_empty() {
            return;
        }
        self.all = subtract(&self.all, gone);
        self.map.retain(|_, values| {
            values.retain(|_, ids| {
                *ids = subtract(ids, gone);
                !ids.is_empty()
            });
            !values.is_empty()
        });
    }

    /// Sets the list of all ids (for block indexes, where ids are dense).
    pub(crate) fn set_all(&mut self, all: Vec<u64>) {
        self.all = all;
    }

    /// Adds a whole sorted postings list for one label pair.
    pub(crate) fn insert_list(&mut self, name: Arc<str>, value: Arc<str>, ids: Vec<u64>) {
        self.map.entry(name).or_default().insert(value, ids);
    }

    pub(crate) fn names(&self) -> impl Iterator<Item = &Arc<str>> {
        self.map.keys()
    }

    pub(crate) fn values(&self, name: &str) -> impl Iterator<Item = (&Arc<str>, &Vec<u64>)> {
        self.map.get(name).into_iter().flat_map(|v| v.iter())
    }

    fn get(&self, name: &str, value: &str) -> &[u64] {
        self.map
            .get(name)
            .and_then(|v| v.get(value))
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }

    /// Returns the union of the postings of values of `m.name` that `m` (or its negation)
    /// accepts, using direct lookups when the matcher names its values.
    fn matching(&self, m: &Matcher, negate: bool) -> Vec<u64> {
        if !negate && let Some(set) = m.literal_values() {
            return union(set.iter().map(|v| self.get(m.name(), v)));
        }
        union(
            self.values(m.name())
                .filter(|(v, _)| m.matches(v) != negate)
                .map(|(_, ids)| ids.as_slice()),
        )
    }

    /// Resolves matchers to the sorted ids of series matching all of them.
    ///
    /// A matcher that accepts the empty string also matches series without the label, so it
    /// is applied by subtracting the series whose value it rejects.
    pub(crate) fn select(&self, matchers: &[Matcher]) -> Vec<u64> {
        let mut result: Option<Vec<u64>> = None;
        let mut subtract_lists = Vec::new();
        for m in matchers {
            if m.matches("") {
                subtract_lists.push(self.matching(m, true));
            } else {
                let ids = self.matching(m, false);
                result = Some(match result {
                    None => ids,
                    Some(r) => intersect(&r, &ids),
                });
            }
            if result.as_ref().is_some_and(|r| r.is_empty()) {
                return Vec::new();
            }
        }
        let mut r = result.unwrap_or_else(|| self.all.clone());
        for s in subtract_lists {
            r = subtract(&r, &s);
        }
        r
    }
}

/// Intersects two sorted lists.
pub(crate) fn intersect(a: &[u64], b: &[u64]) -> Vec<u64> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Removes the elements of sorted `b` from sorted `a`.
pub(crate) fn subtract(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut j = 0;
    let mut out = Vec::with_capacity(a.len());
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j >= b.len() || b[j] != x {
            out.push(x);
        }
    }
    out
}

/// Merges sorted lists into one sorted list without duplicates.
pub(crate) fn union<'a>(lists: impl Iterator<Item = &'a [u64]>) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    for l in lists {
        if out.is_empty() {
            out.extend_from_slice(l);
            continue;
        }
        let mut merged = Vec::with_capacity(out.len() + l.len());
        let (mut i, mut j) = (0, 0);
        while i < out.len() && j < l.len() {
            match out[i].cmp(&l[j]) {
                std::cmp::Ordering::Less => {
                    merged.push(out[i]);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    merged.push(l[j]);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    merged.push(out[i]);
                    i += 1;
                    j += 1;
                }
            }
        }
        merged.extend_from_slice(&out[i..]);
        merged.extend_from_slice(&l[j..]);
        out = merged;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::MatchType;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn sorted(v: Vec<u64>) -> Vec<u64> {
        v.into_iter().collect::<BTreeSet<_>>().into_iter().collect()
    }

    proptest! {
        #[test]
        fn set_operations_match_btreeset(a in proptest::collection::vec(0u64..200, 0..100),
                                         b in proptest::collection::vec(0u64..200, 0..100)) {
            let (a, b) = (sorted(a), sorted(b));
            let sa: BTreeSet<u64> = a.iter().copied().collect();
            let sb: BTreeSet<u64> = b.iter().copied().collect();
            prop_assert_eq!(intersect(&a, &b), sa.intersection(&sb).copied().collect::<Vec<_>>());
            prop_assert_eq!(subtract(&a, &b), sa.difference(&sb).copied().collect::<Vec<_>>());
            prop_assert_eq!(union([a.as_slice(), b.as_slice()].into_iter()),
                            sa.union(&sb).copied().collect::<Vec<_>>());
        }
    }

    fn index() -> Postings {
        let mut p = Postings::default();
        p.add(1, &Labels::from_pairs([("__name__", "up"), ("job", "api")]));
        p.add(
            2,
            &Labels::from_pairs([("__name__", "up"), ("job", "db"), ("env", "prod")]),
        );
        p.add(
            3,
            &Labels::from_pairs([("__name__", "cpu"), ("job", "api"), ("env", "dev")]),
        );
        p
    }

    fn sel(p: &Postings, ms: &[(MatchType, &str, &str)]) -> Vec<u64> {
        let ms: Vec<Matcher> = ms
            .iter()
            .map(|(t, n, v)| Matcher::new(*t, n, v).unwrap())
            .collect();
        p.select(&ms)
    }

    #[test]
    fn matcher_semantics() {
        use MatchType::*;
        let p = index();
        assert_eq!(sel(&p, &[(Equal, "__name__", "up")]), vec![1, 2]);
        assert_eq!(sel(&p, &[(Equal, "env", "")]), vec![1]);
        assert_eq!(sel(&p, &[(NotEqual, "env", "")]), vec![2, 3]);
        assert_eq!(sel(&p, &[(NotEqual, "env", "prod")]), vec![1, 3]);
        assert_eq!(sel(&p, &[(RegexMatch, "job", "a.*")]), vec![1, 3]);
        assert_eq!(sel(&p, &[(RegexMatch, "job", "ap")]), Vec::<u64>::new());
        assert_eq!(
            sel(
                &p,
                &[(RegexMatch, "job", "api|db"), (NotRegexMatch, "env", "d.*")]
            ),
            vec![1, 2]
        );
        assert_eq!(sel(&p, &[(RegexMatch, "env", "|dev")]), vec![1, 3]);
        assert_eq!(sel(&p, &[(NotRegexMatch, "env", ".+")]), vec![1]);
        assert_eq!(
            sel(&p, &[(Equal, "__name__", "up"), (Equal, "job", "db")]),
            vec![2]
        );
        p.clone().remove(&[2]);
        let mut q = p.clone();
        q.remove(&[2]);
        assert_eq!(sel(&q, &[(Equal, "__name__", "up")]), vec![1]);
        assert_eq!(q.values("env").count(), 1);
    }
}
