//! Rule evaluation: the recording and alerting rules of every workspace, over the
//! [`ampd_backends::MetricsBackend`] trait so that it works on every backend.
//!
//! - `file`: the rule file format of a rule groups namespace;
//! - `group`: one group's rules and state, and one evaluation (queries, the alert state
//!   machine, `ALERTS`/`ALERTS_FOR_STATE`, staleness markers, templates);
//! - `engine`: [`RuleEngine`], which schedules every group and hosts the Alertmanagers;
//! - `view`: the Prometheus JSON shapes of `/api/v1/rules` and `/api/v1/alerts`.

mod engine;
mod file;
mod group;
#[cfg(test)]
mod parity;
mod view;

pub use engine::{EngineError, EngineSettings, RuleEngine};
pub use file::{GroupSpec, RuleFileError, RuleKind, RuleSpec, parse_rule_file};
pub use group::{AlertRuleState, RuleHealth};
pub use view::{AlertView, RuleFilter, RuleGroupView, RuleType, RuleView};
