//! Time source of the trail, replaceable so that rolling and digests can be driven in tests.

use std::fmt;

use time::OffsetDateTime;

/// Supplies the current time to the trail (file names, rolling, digest periods, lookup window).
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// Returns the current UTC time.
    fn now(&self) -> OffsetDateTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}
