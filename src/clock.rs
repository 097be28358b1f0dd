//! The clock, injectable through `CLAUSEWATCH_NOW` (docs/architecture.md#commands-and-the-clock) so that fetch times,
//! commit dates and commit ids are reproducible in tests.

use chrono::{DateTime, Utc};

/// Where "now" comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    System,
    Fixed(DateTime<Utc>),
}

/// `CLAUSEWATCH_NOW` holds something other than an RFC 3339 time.
#[derive(Debug, thiserror::Error)]
#[error("CLAUSEWATCH_NOW={value:?} is not an RFC 3339 time such as 2026-03-02T00:00:00Z")]
pub struct BadClock {
    pub value: String,
}

impl Clock {
    /// The clock the environment asks for.
    pub fn from_env() -> Result<Clock, BadClock> {
        match std::env::var("CLAUSEWATCH_NOW") {
            Ok(value) if !value.trim().is_empty() => DateTime::parse_from_rfc3339(value.trim())
                .map(|t| Clock::Fixed(t.with_timezone(&Utc)))
                .map_err(|_| BadClock { value }),
            _ => Ok(Clock::System),
        }
    }

    /// The current time, to the second: commits store seconds, and a fraction would
    /// make two renderings of the same moment differ.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => {
                let now = Utc::now();
                DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
            }
            Clock::Fixed(t) => *t,
        }
    }
}
