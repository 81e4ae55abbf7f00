//! Routing: which routes of the tree an alert's labels reach.

use crate::config::Route;
use crate::matchers::{LabelSet, all_match};

impl Route {
    /// Returns the routes `labels` end at, in tree order.
    ///
    /// A route matches when its matchers do; its children are tried in order and matching stops
    /// at the first matching child without `continue`. A matching route no child matched is itself
    /// a result.
    pub fn match_labels(&self, labels: &LabelSet) -> Vec<&Route> {
        if !all_match(&self.matchers, labels) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for child in &self.routes {
            let found = child.match_labels(labels);
            let matched = !found.is_empty();
            out.extend(found);
            if matched && !child.continue_matching {
                break;
            }
        }
        if out.is_empty() {
            out.push(self);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::config::parse_config;
    use crate::matchers::LabelSet;

    fn labels(s: &str) -> LabelSet {
        s.split(',')
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// The same checks as `amtool config routes test --verify.receivers=…`.
    #[test]
    fn routes_like_amtool() {
        let c = parse_config(
            r#"
route:
  receiver: default
  routes:
    - matchers: ['team="db"']
      receiver: db
      continue: true
    - matchers: ['severity=~"critical|page"']
      receiver: pager
      routes:
        - matchers: ['env="dev"']
          receiver: dev-null
    - matchers: ['team="db"']
      receiver: db-second
receivers: [{name: default}, {name: db}, {name: pager}, {name: dev-null}, {name: db-second}]
"#,
        )
        .unwrap();
        let receivers = |l: &str| -> Vec<String> {
            c.route
                .match_labels(&labels(l))
                .iter()
                .map(|r| r.receiver.clone())
                .collect()
        };
        assert_eq!(receivers(""), ["default"]);
        assert_eq!(receivers("team=web"), ["default"]);
        assert_eq!(receivers("team=db"), ["db", "db-second"]);
        assert_eq!(receivers("team=db,severity=critical"), ["db", "pager"]);
        assert_eq!(receivers("severity=page,env=dev"), ["dev-null"]);
        assert_eq!(receivers("severity=pagex"), ["default"]);
    }

    #[test]
    fn route_keys_follow_the_tree() {
        let c = parse_config(
            "route:\n  receiver: a\n  routes: [{matchers: ['x=\"1\"'], routes: [{match: {y: '2'}}]}]\nreceivers: [{name: a}]",
        )
        .unwrap();
        let leaf = &c.route.routes[0].routes[0];
        assert_eq!(leaf.key, r#"{}/{x="1"}/{y="2"}"#);
        assert_eq!(leaf.id, r#"{}/{x="1"}/{y="2"}/0"#);
    }
}
