//! When a digest is sent: every week on a weekday, or every month on a
//! day (1–28), at a local hour in an IANA time zone. Pure: instants in,
//! instants out (ms since the epoch, UTC).
//!
//! Daylight saving time: a local hour that does not exist that day (the
//! clocks jump over it) is replaced by the first local time after the
//! jump (02:00 on a spring-forward night in Berlin sends at 03:00 CEST);
//! a local hour that happens twice (fall back) sends at the first.

use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;

use crate::message::Millis;

/// Which days a digest goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Week(Weekday),
    /// Day of the month, 1–28 (every month has it).
    Month(u32),
}

/// A digest's send instants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    every: Every,
    hour: u32,
    tz: Tz,
}

/// The period a digest sent at `to` covers, `[from, to)`, and the one
/// before it, `[previous_from, from)`, each from one send instant to the
/// next (a week or a calendar month of local time; 167 or 169 hours for a
/// week across a DST change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub previous_from: Millis,
    pub from: Millis,
    pub to: Millis,
}

impl Schedule {
    pub fn new(every: Every, hour: u32, tz: Tz) -> Self {
        Self { every, hour, tz }
    }

    pub fn timezone(&self) -> &'static str {
        self.tz.name()
    }

    /// The first send instant strictly after `t`.
    pub fn next_after(&self, t: Millis) -> Millis {
        let (date, _) = self.last_at_or_before(t);
        self.instant(self.next_date(date))
    }

    /// The last send instant at or before `t`, and its local date.
    pub fn last_at_or_before(&self, t: Millis) -> (NaiveDate, Millis) {
        let local = self.local_date(t);
        let mut date = self.occurrence_on_or_before(local);
        loop {
            let at = self.instant(date);
            if at <= t {
                return (date, at);
            }
            date = self.previous_date(date);
        }
    }

    /// The current period up to and including `now`, for a preview: a
    /// change recorded at `now` itself (a live event's entry, stamped with
    /// the instant it was processed) has already happened and counts.
    pub fn period_so_far(&self, now: Millis) -> Window {
        let (date, from) = self.last_at_or_before(now);
        Window {
            previous_from: self.instant(self.previous_date(date)),
            from,
            to: now + 1,
        }
    }

    /// The period ending at `to`: from the last send instant strictly
    /// before `to`, the period a send at `to` covers (a change at `to`
    /// belongs to the next one).
    pub fn window_ending(&self, to: Millis) -> Window {
        let (date, from) = self.last_at_or_before(to - 1);
        Window {
            previous_from: self.instant(self.previous_date(date)),
            from,
            to,
        }
    }

    fn local_date(&self, t: Millis) -> NaiveDate {
        chrono::DateTime::from_timestamp_millis(t)
            .map(|utc| utc.with_timezone(&self.tz).date_naive())
            .unwrap_or_default()
    }

    /// The latest date on or before `date` the digest goes out on.
    fn occurrence_on_or_before(&self, date: NaiveDate) -> NaiveDate {
        match self.every {
            Every::Week(weekday) => {
                let back = (7 + date.weekday().num_days_from_monday()
                    - weekday.num_days_from_monday())
                    % 7;
                date - Days::new(u64::from(back))
            }
            Every::Month(day) => {
                let this_month = date.with_day(day).unwrap_or(date);
                if date.day() >= day {
                    this_month
                } else {
                    this_month - Months::new(1)
                }
            }
        }
    }

    fn next_date(&self, date: NaiveDate) -> NaiveDate {
        match self.every {
            Every::Week(_) => date + Days::new(7),
            Every::Month(_) => date + Months::new(1),
        }
    }

    fn previous_date(&self, date: NaiveDate) -> NaiveDate {
        match self.every {
            Every::Week(_) => date - Days::new(7),
            Every::Month(_) => date - Months::new(1),
        }
    }

    /// The send instant on a local date: `hour:00` there, moved past a
    /// DST gap, the earlier of two when the hour repeats.
    fn instant(&self, date: NaiveDate) -> Millis {
        let mut local = NaiveDateTime::new(
            date,
            NaiveTime::from_hms_opt(self.hour, 0, 0).unwrap_or_default(),
        );
        // Gaps are at most a few hours (most are one; a few zones skipped a
        // whole day once, which 48 quarter-hour steps also cross).
        for _ in 0..=96 {
            if let Some(at) = self.tz.from_local_datetime(&local).earliest() {
                return at.timestamp_millis();
            }
            local += chrono::Duration::minutes(15);
        }
        local.and_utc().timestamp_millis()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> Millis {
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.timestamp_millis())
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn text(ms: Millis) -> String {
        bellwether_rules::format_time(ms)
    }

    fn weekly(day: Weekday, hour: u32, tz: Tz) -> Schedule {
        Schedule::new(Every::Week(day), hour, tz)
    }

    #[test]
    fn the_period_so_far_includes_its_last_millisecond() {
        let s = weekly(Weekday::Mon, 9, chrono_tz::Europe::Berlin);
        let now = utc("2026-12-09T10:00:00Z");
        let window = s.period_so_far(now);
        assert!((window.from..window.to).contains(&now), "{window:?}");
        assert_eq!(text(window.from), "2026-12-07T08:00:00Z");
        assert_eq!(text(window.previous_from), "2026-11-30T08:00:00Z");
        // At a send instant, the period that begins there.
        let send = utc("2026-12-14T08:00:00Z");
        assert_eq!(s.period_so_far(send).from, send);
        assert_eq!(
            s.window_ending(send).to,
            send,
            "a send's own period ends before it"
        );
    }

    #[test]
    fn weekly_monday_nine_in_berlin() {
        let s = weekly(Weekday::Mon, 9, chrono_tz::Europe::Berlin);
        // Thursday 2026-12-03 → Monday 2026-12-07 09:00 CET = 08:00Z.
        assert_eq!(
            text(s.next_after(utc("2026-12-03T17:51:00Z"))),
            "2026-12-07T08:00:00Z"
        );
        // Exactly at a send instant: the next one is a week later.
        assert_eq!(
            text(s.next_after(utc("2026-12-07T08:00:00Z"))),
            "2026-12-14T08:00:00Z"
        );
        // A millisecond before: this one.
        assert_eq!(
            text(s.next_after(utc("2026-12-07T07:59:59.999Z"))),
            "2026-12-07T08:00:00Z"
        );
        // Monday, after 9:00 local: next week.
        assert_eq!(
            text(s.next_after(utc("2026-12-07T08:30:00Z"))),
            "2026-12-14T08:00:00Z"
        );
    }

    #[test]
    fn the_local_hour_holds_across_daylight_saving_changes() {
        let s = weekly(Weekday::Mon, 9, chrono_tz::Europe::Berlin);
        // Clocks go forward on Sunday 2027-03-28: Monday 9:00 is 07:00Z after.
        assert_eq!(
            text(s.next_after(utc("2027-03-22T08:00:00Z"))),
            "2027-03-29T07:00:00Z"
        );
        let window = s.window_ending(utc("2027-03-29T07:00:00Z"));
        assert_eq!(text(window.from), "2027-03-22T08:00:00Z");
        assert_eq!(
            window.to - window.from,
            167 * 3_600_000,
            "a week one hour short"
        );
        // Back on Sunday 2027-10-31: 08:00Z again, 169 hours later.
        let back = s.next_after(utc("2027-10-25T07:00:00Z"));
        assert_eq!(text(back), "2027-11-01T08:00:00Z");
        assert_eq!(back - utc("2027-10-25T07:00:00Z"), 169 * 3_600_000);
    }

    #[test]
    fn a_skipped_hour_sends_after_the_gap_and_a_repeated_one_at_the_first() {
        // Berlin skips 02:00–03:00 on Sunday 2027-03-28.
        let s = weekly(Weekday::Sun, 2, chrono_tz::Europe::Berlin);
        assert_eq!(
            text(s.next_after(utc("2027-03-27T00:00:00Z"))),
            "2027-03-28T01:00:00Z"
        );
        // 02:00 happens twice on Sunday 2027-10-31 (CEST, then CET): the first.
        assert_eq!(
            text(s.next_after(utc("2027-10-30T00:00:00Z"))),
            "2027-10-31T00:00:00Z"
        );
        // New York springs forward at 02:00 on 2027-03-14.
        let s = weekly(Weekday::Sun, 2, chrono_tz::America::New_York);
        assert_eq!(
            text(s.next_after(utc("2027-03-13T00:00:00Z"))),
            "2027-03-14T07:00:00Z"
        );
    }

    #[test]
    fn monthly_digests_cross_month_and_year_ends() {
        let s = Schedule::new(Every::Month(28), 23, chrono_tz::UTC);
        assert_eq!(
            text(s.next_after(utc("2027-02-28T23:00:00Z"))),
            "2027-03-28T23:00:00Z"
        );
        assert_eq!(
            text(s.next_after(utc("2026-12-29T00:00:00Z"))),
            "2027-01-28T23:00:00Z"
        );
        let s = Schedule::new(Every::Month(1), 0, chrono_tz::Asia::Tokyo);
        // Midnight of January 1 in Tokyo is 15:00Z on December 31.
        assert_eq!(
            text(s.next_after(utc("2026-12-15T00:00:00Z"))),
            "2026-12-31T15:00:00Z"
        );
        let window = s.window_ending(utc("2026-12-31T15:00:00Z"));
        assert_eq!(text(window.from), "2026-11-30T15:00:00Z");
        assert_eq!(text(window.previous_from), "2026-10-31T15:00:00Z");
        // February is 28 days (2027), March 31: whole calendar months.
        let s = Schedule::new(Every::Month(1), 9, chrono_tz::UTC);
        let march = s.window_ending(utc("2027-03-01T09:00:00Z"));
        assert_eq!(march.to - march.from, 28 * 86_400_000);
        assert_eq!(march.from - march.previous_from, 31 * 86_400_000);
    }

    #[test]
    fn a_preview_covers_the_current_period_so_far() {
        let s = weekly(Weekday::Mon, 9, chrono_tz::UTC);
        let now = utc("2026-12-03T17:51:00Z");
        let window = s.window_ending(now);
        assert_eq!(text(window.from), "2026-11-30T09:00:00Z");
        assert_eq!(text(window.previous_from), "2026-11-23T09:00:00Z");
        assert_eq!(window.to, now);
    }
}
