//! Rule groups evaluation (recording and alerting rules) and the per-workspace Alertmanager.
