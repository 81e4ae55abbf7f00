//! Time source for rotation and deletion schedules, replaceable in tests.

use std::fmt;

use time::OffsetDateTime;

/// Tells the service what time it is.
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// Returns the current time in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

#[cfg(any(test, feature = "testsuite"))]
pub use test_clock::TestClock;

#[cfg(any(test, feature = "testsuite"))]
mod test_clock {
    use std::sync::Mutex;

    use time::{Duration, OffsetDateTime};

    use super::Clock;

    /// A clock that stands still until a test moves it forward.
    #[derive(Debug)]
    pub struct TestClock {
        now: Mutex<OffsetDateTime>,
    }

    impl TestClock {
        /// Creates a clock showing `start`.
        pub fn new(start: OffsetDateTime) -> Self {
            Self {
                now: Mutex::new(start),
            }
        }

        /// Moves the clock forward by `by`.
        pub fn advance(&self, by: Duration) {
            let mut now = self
                .now
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            *now += by;
        }
    }

    impl Clock for TestClock {
        fn now(&self) -> OffsetDateTime {
            *self
                .now
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        }
    }
}
