//! CloudTrail-style audit trail: event model, durable log files, digest chain and validation.
