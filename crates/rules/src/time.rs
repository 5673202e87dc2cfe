//! Instants and durations: `i64` milliseconds since the Unix epoch (UTC).

/// One second in milliseconds.
pub const SECOND: i64 = 1_000;
/// One minute in milliseconds.
pub const MINUTE: i64 = 60 * SECOND;
/// One hour in milliseconds.
pub const HOUR: i64 = 60 * MINUTE;
/// One day in milliseconds.
pub const DAY: i64 = 24 * HOUR;
/// One week in milliseconds.
pub const WEEK: i64 = 7 * DAY;

/// The multiplier of a duration unit suffix (`ms`, `s`, `m`, `h`, `d`, `w`).
pub(crate) fn unit_ms(unit: &str) -> Option<i64> {
    match unit {
        "ms" => Some(1),
        "s" => Some(SECOND),
        "m" => Some(MINUTE),
        "h" => Some(HOUR),
        "d" => Some(DAY),
        "w" => Some(WEEK),
        _ => None,
    }
}

/// Parses a duration such as `14d`, `30m`, `1.5h` (used for `half_life`, caps).
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.trim().parse().ok()?;
    let ms = number * unit_ms(unit.trim())? as f64;
    (0.0..9.0e15).contains(&ms).then_some(ms.round() as i64)
}

/// Formats a duration with the largest unit that divides it (`7d`, `90m`, `1500ms`).
pub fn format_duration(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let abs = ms.unsigned_abs() as i64;
    for (unit, size) in [
        ("w", WEEK),
        ("d", DAY),
        ("h", HOUR),
        ("m", MINUTE),
        ("s", SECOND),
    ] {
        if abs != 0 && abs % size == 0 {
            return format!("{sign}{}{unit}", abs / size);
        }
    }
    format!("{sign}{abs}ms")
}

/// The UTC calendar day number (days since 1970-01-01) of an instant.
pub(crate) fn utc_day(time: i64) -> i64 {
    time.div_euclid(DAY)
}

/// (year, month, day) of a day number, proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm, the inverse of `civil_from_days`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    365 * y + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400) + day_of_year - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The instant an RFC 3339 date-time names, in ms (fractions of a
/// millisecond truncated), or `None` when `text` is not one.
///
/// Accepted, exactly (the SQL compiler's `instant` CTE mirrors this, so
/// both readers agree on every string):
/// `YYYY-MM-DD` `T`|`t` `HH:MM:SS` [`.` digits] then `Z`|`z` or `±HH:MM`,
/// with a real calendar date, hours 00–23, minutes and seconds 00–59 (no
/// leap second `60`) and offsets up to ±23:59. Date-only strings and
/// other formats are not instants.
pub(crate) fn parse_rfc3339(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let number = |from: usize, len: usize| -> Option<i64> {
        let digits = bytes.get(from..from + len)?;
        digits.iter().try_fold(0i64, |n, b| {
            b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
        })
    };
    let at = |i: usize, allowed: &[u8]| bytes.get(i).is_some_and(|b| allowed.contains(b));
    let layout = at(4, b"-") && at(7, b"-") && at(10, b"Tt") && at(13, b":") && at(16, b":");
    if !layout {
        return None;
    }
    let (year, month, day) = (number(0, 4)?, number(5, 2)?, number(8, 2)?);
    let (hour, minute, second) = (number(11, 2)?, number(14, 2)?, number(17, 2)?);
    let mut pos = 19;
    let mut millis = 0;
    if at(pos, b".") {
        let digits = bytes[pos + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        let kept = digits.min(3);
        millis = number(pos + 1, kept)? * 10i64.pow(3 - kept as u32);
        pos += 1 + digits;
    }
    let offset_minutes = match &bytes[pos..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (hours, minutes) = (number(pos + 1, 2)?, number(pos + 4, 2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let magnitude = hours * 60 + minutes;
            if *sign == b'-' {
                -magnitude
            } else {
                magnitude
            }
        }
        _ => return None,
    };
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour <= 23
        && minute <= 59
        && second <= 59;
    if !valid {
        return None;
    }
    let local = days_from_civil(year, month, day) * DAY
        + hour * HOUR
        + minute * MINUTE
        + second * SECOND
        + millis;
    Some(local - offset_minutes * MINUTE)
}

/// Formats an instant as RFC 3339 UTC for people: milliseconds only when
/// there are some (`2026-12-01T09:00:00Z`, `2026-12-01T09:00:00.250Z`).
pub fn format_time(time: i64) -> String {
    format_rfc3339(time, false)
}

/// Formats an instant as RFC 3339 UTC with exactly three fractional digits
/// (`2026-12-01T09:00:00.000Z`): the one shape machines receive, so a
/// fixed-format parser reads every timestamp Bellwether sends.
pub fn format_instant(time: i64) -> String {
    format_rfc3339(time, true)
}

fn format_rfc3339(time: i64, always_millis: bool) -> String {
    let (year, month, day) = civil_from_days(utc_day(time));
    let ms_of_day = time.rem_euclid(DAY);
    let (h, m) = (ms_of_day / HOUR, (ms_of_day % HOUR) / MINUTE);
    let (s, ms) = ((ms_of_day % MINUTE) / SECOND, ms_of_day % SECOND);
    if ms == 0 && !always_millis {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_for_machines_always_carry_milliseconds() {
        let nine = parse_rfc3339("2026-12-01T09:00:00Z").unwrap();
        assert_eq!(format_instant(nine), "2026-12-01T09:00:00.000Z");
        assert_eq!(format_instant(nine + 250), "2026-12-01T09:00:00.250Z");
        assert_eq!(format_time(nine), "2026-12-01T09:00:00Z");
        assert_eq!(format_instant(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn durations_round_trip() {
        assert_eq!(parse_duration("14d"), Some(14 * DAY));
        assert_eq!(parse_duration("1.5h"), Some(90 * MINUTE));
        assert_eq!(parse_duration("2w"), Some(2 * WEEK));
        assert_eq!(parse_duration("7 days"), None);
        assert_eq!(parse_duration("x"), None);
        assert_eq!(format_duration(14 * DAY), "2w");
        assert_eq!(format_duration(90 * MINUTE), "90m");
        assert_eq!(format_duration(1_500), "1500ms");
    }

    #[test]
    fn formats_utc_instants() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_time(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(format_time(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn parses_rfc3339_instants_strictly() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20.123Z"),
            Some(1_700_000_000_123)
        );
        // Fractions are truncated to the millisecond; offsets are subtracted.
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.0019z"), Some(1));
        assert_eq!(parse_rfc3339("1970-01-01t00:00:00.5Z"), Some(500));
        assert_eq!(parse_rfc3339("1970-01-01T02:00:00+02:00"), Some(0));
        assert_eq!(parse_rfc3339("1969-12-31T23:00:00-01:00"), Some(0));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(19_782 * DAY));
        assert_eq!(parse_rfc3339("0000-03-01T00:00:00Z"), Some(-719_468 * DAY));
        for time in [
            -62_135_596_800_000,
            -1,
            0,
            1_700_000_000_123,
            253_402_300_799_999,
        ] {
            assert_eq!(parse_rfc3339(&format_time(time)), Some(time), "{time}");
        }
        for bad in [
            "",
            "2024-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01T23:59:60Z",
            "2024-01-01T00:00:00",
            "2024-01-01",
            "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+2:00",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00+02:60",
            "2024-01-01T00:00:00Z ",
            "+024-01-01T00:00:00Z",
            "２０２４-01-01T00:00:00Z",
            "next tuesday",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
