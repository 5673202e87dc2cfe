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

/// Formats an instant as RFC 3339 UTC with millisecond precision.
pub fn format_time(time: i64) -> String {
    let (year, month, day) = civil_from_days(utc_day(time));
    let ms_of_day = time.rem_euclid(DAY);
    let (h, m) = (ms_of_day / HOUR, (ms_of_day % HOUR) / MINUTE);
    let (s, ms) = ((ms_of_day % MINUTE) / SECOND, ms_of_day % SECOND);
    if ms == 0 {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
