//! Expiry reminders (API.md §7): when each is due, which one is sent when several have
//! passed, and how failed deliveries are spaced. Pure arithmetic on milliseconds, so that the
//! scheduler and the tests agree on every edge.

use crate::timefmt::Millis;

pub const DAY_MS: Millis = 86_400_000;

/// The reminders of one `expires_at`, in the order they fall due: 30, 7 and 1 days before it,
/// then the `expired` notice (0) at it.
pub const THRESHOLD_DAYS: [i64; 4] = [30, 7, 1, 0];

/// When the reminder `threshold_days` before `expires_at` is due.
pub fn due_at(expires_at: Millis, threshold_days: i64) -> Millis {
    expires_at.saturating_sub(threshold_days.saturating_mul(DAY_MS))
}

/// When a sequence for `expires_at` first needs looking at: the first reminder's due time.
/// A credential created or changed later than that gets only the nearest reminder passed.
pub fn sequence_start(expires_at: Millis) -> Millis {
    due_at(expires_at, THRESHOLD_DAYS[0])
}

/// The reminder to send at `now`: of those already due, the nearest (the last to fall due),
/// so that a late start sends one message rather than a burst. None before the first.
pub fn nearest_passed(expires_at: Millis, now: Millis) -> Option<i64> {
    THRESHOLD_DAYS
        .iter()
        .rev()
        .copied()
        .find(|&days| due_at(expires_at, days) <= now)
}

/// When the reminder after `threshold_days` falls due; None after the `expired` notice.
pub fn next_after(expires_at: Millis, threshold_days: i64) -> Option<Millis> {
    THRESHOLD_DAYS
        .iter()
        .copied()
        .find(|&days| days < threshold_days)
        .map(|days| due_at(expires_at, days))
}

/// Whole days left until `expires_at` (rounded down; 0 once it has passed).
pub fn days_left(expires_at: Millis, now: Millis) -> i64 {
    (expires_at.saturating_sub(now) / DAY_MS).max(0)
}

/// The first retry comes this soon after a failed delivery.
pub const FIRST_RETRY_MS: Millis = 5_000;
/// Retries double their spacing up to this.
pub const MAX_RETRY_MS: Millis = 600_000;
/// A notification is retried for at least this long after it fell due, then given up.
pub const RETRY_WINDOW_MS: Millis = DAY_MS;

/// How long to wait after the `attempts`-th failed delivery (1 for the first).
pub fn retry_delay(attempts: i64) -> Millis {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    FIRST_RETRY_MS
        .saturating_mul(1 << doublings)
        .min(MAX_RETRY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPIRES: Millis = 1_000 * DAY_MS;

    #[test]
    fn nothing_is_due_before_thirty_days() {
        assert_eq!(nearest_passed(EXPIRES, due_at(EXPIRES, 30) - 1), None);
    }

    #[test]
    fn each_threshold_is_due_at_its_millisecond() {
        for days in THRESHOLD_DAYS {
            assert_eq!(nearest_passed(EXPIRES, due_at(EXPIRES, days)), Some(days));
        }
    }

    #[test]
    fn a_late_start_gets_only_the_nearest_threshold() {
        assert_eq!(nearest_passed(EXPIRES, EXPIRES - 3 * DAY_MS), Some(7));
        assert_eq!(nearest_passed(EXPIRES, EXPIRES - 1), Some(1));
        assert_eq!(nearest_passed(EXPIRES, EXPIRES + 90 * DAY_MS), Some(0));
    }

    #[test]
    fn the_sequence_walks_thirty_seven_one_expired_then_ends() {
        assert_eq!(sequence_start(EXPIRES), EXPIRES - 30 * DAY_MS);
        assert_eq!(next_after(EXPIRES, 30), Some(EXPIRES - 7 * DAY_MS));
        assert_eq!(next_after(EXPIRES, 7), Some(EXPIRES - DAY_MS));
        assert_eq!(next_after(EXPIRES, 1), Some(EXPIRES));
        assert_eq!(next_after(EXPIRES, 0), None);
    }

    #[test]
    fn days_left_rounds_down_and_stops_at_zero() {
        assert_eq!(days_left(EXPIRES, EXPIRES - 7 * DAY_MS), 7);
        assert_eq!(days_left(EXPIRES, EXPIRES - 7 * DAY_MS + 1), 6);
        assert_eq!(days_left(EXPIRES, EXPIRES + DAY_MS), 0);
    }

    #[test]
    fn retries_start_within_ten_seconds_and_double_to_ten_minutes() {
        assert_eq!(retry_delay(1), 5_000);
        assert_eq!(retry_delay(2), 10_000);
        assert_eq!(retry_delay(3), 20_000);
        assert_eq!(retry_delay(8), 600_000);
        assert_eq!(retry_delay(1_000), 600_000);
    }

    #[test]
    fn extreme_dates_do_not_overflow() {
        assert_eq!(nearest_passed(Millis::MIN, 0), Some(0));
        assert_eq!(nearest_passed(Millis::MAX, 0), None);
    }
}
