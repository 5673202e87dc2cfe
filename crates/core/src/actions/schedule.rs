//! When a failed delivery is tried again: exponential backoff with jitter,
//! honoring the receiver's `Retry-After`, ending in the dead-letter list.
//! Pure: the caller passes the instant and the jitter draw.

use crate::message::Millis;

const SECOND: Millis = 1_000;
const MINUTE: Millis = 60 * SECOND;
const HOUR: Millis = 60 * MINUTE;

/// Waits before each retry after the first attempt (which is immediate):
/// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 20 h. Ten attempts
/// spread over about 3 days, like Standard Webhooks senders.
pub const DEFAULT_SCHEDULE: [Millis; 9] = [
    5 * SECOND,
    5 * MINUTE,
    30 * MINUTE,
    2 * HOUR,
    5 * HOUR,
    10 * HOUR,
    14 * HOUR,
    20 * HOUR,
    20 * HOUR,
];

/// The longest `Retry-After` honored: a receiver cannot park a delivery
/// beyond the schedule's own longest wait.
pub const MAX_RETRY_AFTER: Millis = 20 * HOUR;

/// Jitter: each wait is stretched or shrunk by up to this share, so
/// deliveries failed together do not come back together.
pub const JITTER: f64 = 0.1;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    /// Try again at this instant.
    RetryAt(Millis),
    /// No attempts left: the delivery goes to the dead letters.
    GiveUp,
}

/// After `attempts` failed attempts (1 after the first), at `now`: the next
/// try, from `schedule` with jitter (`jitter_draw` uniform in [0, 1)), never
/// sooner than the receiver's `Retry-After` (capped at [`MAX_RETRY_AFTER`]).
pub fn after_failure(
    schedule: &[Millis],
    attempts: u32,
    now: Millis,
    retry_after: Option<Millis>,
    jitter_draw: f64,
) -> Next {
    let index = attempts.saturating_sub(1) as usize;
    let Some(&wait) = schedule.get(index) else {
        return Next::GiveUp;
    };
    let stretch = 1.0 + JITTER * (2.0 * jitter_draw.clamp(0.0, 1.0) - 1.0);
    let jittered = (wait as f64 * stretch).round() as Millis;
    let asked = retry_after.map_or(0, |ms| ms.clamp(0, MAX_RETRY_AFTER));
    Next::RetryAt(now + jittered.max(asked))
}

/// Attempts in all with `schedule`: the first plus one per wait.
pub fn max_attempts(schedule: &[Millis]) -> u32 {
    u32::try_from(schedule.len()).unwrap_or(u32::MAX - 1) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_schedule_without_jitter_at_the_midpoint() {
        let waits: Vec<Millis> = (1..=9)
            .map(
                |attempts| match after_failure(&DEFAULT_SCHEDULE, attempts, 0, None, 0.5) {
                    Next::RetryAt(at) => at,
                    Next::GiveUp => -1,
                },
            )
            .collect();
        assert_eq!(waits, DEFAULT_SCHEDULE.to_vec());
        let total: Millis = DEFAULT_SCHEDULE.iter().sum();
        assert!((2 * 24 * HOUR..4 * 24 * HOUR).contains(&total), "{total}");
    }

    #[test]
    fn gives_up_after_the_last_wait() {
        assert_eq!(
            after_failure(&DEFAULT_SCHEDULE, 10, 0, None, 0.5),
            Next::GiveUp
        );
        assert_eq!(max_attempts(&DEFAULT_SCHEDULE), 10);
        assert_eq!(after_failure(&[], 1, 0, None, 0.5), Next::GiveUp);
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        for draw in [0.0, 0.25, 0.999] {
            let Next::RetryAt(at) = after_failure(&DEFAULT_SCHEDULE, 2, 1_000, None, draw) else {
                panic!("expected a retry");
            };
            let wait = at - 1_000;
            assert!((270 * SECOND..=330 * SECOND).contains(&wait), "{wait}");
        }
    }

    #[test]
    fn retry_after_pushes_later_but_is_capped() {
        let at = |retry_after| after_failure(&DEFAULT_SCHEDULE, 1, 0, Some(retry_after), 0.5);
        assert_eq!(at(60 * SECOND), Next::RetryAt(60 * SECOND));
        assert_eq!(at(SECOND), Next::RetryAt(5 * SECOND));
        assert_eq!(at(1_000 * HOUR), Next::RetryAt(MAX_RETRY_AFTER));
    }
}
