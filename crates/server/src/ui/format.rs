//! Numbers and instants for people: `1.2k`, `37.5`, `3 days ago`,
//! `1 Dec 2026, 15:19 UTC`.

const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// A count: exact below 1,000, then `1.2k`, `12k`, `1.2M`, `3.4B`.
pub(crate) fn count(n: u64) -> String {
    compact(n as f64)
}

/// A number in at most three significant figures with a k/M/B suffix
/// (`999`, `1.2k`, `45k`, `1.2M`), one decimal below 100 when it has one
/// (`37.5`, `-2.3`), none from 100 on.
pub(crate) fn compact(value: f64) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    let magnitude = value.abs();
    let sign = if value < 0.0 { "-" } else { "" };
    for (unit, suffix) in [(1e9, "B"), (1e6, "M"), (1e3, "k")] {
        // 999,950 rounds to 1.0M, not 1000k.
        if magnitude >= unit * 0.99995 {
            let scaled = magnitude / unit;
            return if scaled < 9.95 {
                format!("{sign}{}{suffix}", trim_zero(format!("{scaled:.1}")))
            } else {
                format!("{sign}{scaled:.0}{suffix}")
            };
        }
    }
    if magnitude >= 100.0 || magnitude.fract() < 0.05 || magnitude.fract() > 0.95 {
        format!("{sign}{magnitude:.0}")
    } else {
        format!("{sign}{}", trim_zero(format!("{magnitude:.1}")))
    }
}

fn trim_zero(text: String) -> String {
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

/// An exact count with thousands separators: `250,000`.
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// How long ago (or how far ahead) `at` is from `now`: `just now`,
/// `5 minutes ago`, `3 days ago`, `in 2 hours`.
pub(crate) fn relative(at: i64, now: i64) -> String {
    let delta = now - at;
    let span = delta.abs();
    if span < 45 * SECOND {
        return "just now".into();
    }
    let amount = if span < 45 * MINUTE {
        plural((span + MINUTE / 2) / MINUTE, "minute")
    } else if span < 36 * HOUR {
        plural((span + HOUR / 2) / HOUR, "hour")
    } else if span < 45 * DAY {
        plural((span + DAY / 2) / DAY, "day")
    } else if span < 365 * DAY {
        plural((span + 15 * DAY) / (30 * DAY), "month")
    } else {
        plural((span + 182 * DAY) / (365 * DAY), "year")
    };
    if delta >= 0 {
        format!("{amount} ago")
    } else {
        format!("in {amount}")
    }
}

/// `1 minute`, `3 minutes`.
pub(crate) fn plural(n: i64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `1 Dec 2026, 15:19 UTC`.
pub(crate) fn date_time(at: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|d| d.format("%-d %b %Y, %H:%M UTC").to_string())
        .unwrap_or_else(|| "–".into())
}

/// `1 Dec`.
pub(crate) fn day_month(at: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|d| d.format("%-d %b").to_string())
        .unwrap_or_else(|| "–".into())
}

/// `15:19:07`.
pub(crate) fn clock(at: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|d| d.format("%H:%M:%S").to_string())
        .unwrap_or_else(|| "–".into())
}

/// Parses the API's RFC 3339 timestamps back to milliseconds.
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.timestamp_millis())
}

/// A JSON trait value as text: strings bare, arrays joined, the rest as JSON.
pub(crate) fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "–".into(),
        serde_json::Value::Array(items) => {
            items.iter().map(json_text).collect::<Vec<_>>().join(", ")
        }
        serde_json::Value::Number(n) => n
            .as_u64()
            .filter(|v| *v >= 10_000)
            .map_or_else(|| n.to_string(), grouped),
        other => other.to_string(),
    }
}

/// `hot_intent` → `Hot intent`.
pub(crate) fn label(name: &str) -> String {
    let spaced = name.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_short_and_never_show_a_thousand_k() {
        let cases = [
            (0, "0"),
            (999, "999"),
            (1_000, "1k"),
            (1_234, "1.2k"),
            (9_949, "9.9k"),
            (9_950, "10k"),
            (45_678, "46k"),
            (999_999, "1M"),
            (1_260_000, "1.3M"),
            (3_400_000_000, "3.4B"),
        ];
        for (n, expected) in cases {
            assert_eq!(count(n), expected, "{n}");
        }
    }

    #[test]
    fn scores_keep_one_decimal_below_a_hundred() {
        assert_eq!(compact(37.5), "37.5");
        assert_eq!(compact(37.04), "37");
        assert_eq!(compact(-2.34), "-2.3");
        assert_eq!(compact(150.4), "150");
        assert_eq!(compact(f64::NAN), "–");
        assert_eq!(grouped(250_000), "250,000");
        assert_eq!(grouped(12), "12");
    }

    #[test]
    fn relative_times_read_like_speech() {
        let now = 1_000 * DAY;
        let cases = [
            (now - 10 * SECOND, "just now"),
            (now - MINUTE, "1 minute ago"),
            (now - 5 * MINUTE - 10 * SECOND, "5 minutes ago"),
            (now - 2 * HOUR, "2 hours ago"),
            (now - 3 * DAY, "3 days ago"),
            (now - 70 * DAY, "2 months ago"),
            (now - 800 * DAY, "2 years ago"),
            (now + 2 * HOUR, "in 2 hours"),
        ];
        for (at, expected) in cases {
            assert_eq!(relative(at, now), expected);
        }
    }

    #[test]
    fn dates_and_labels() {
        let at = parse_time("2026-12-01T15:19:07.000Z").expect("rfc3339");
        assert_eq!(date_time(at), "1 Dec 2026, 15:19 UTC");
        assert_eq!(day_month(at), "1 Dec");
        assert_eq!(clock(at), "15:19:07");
        assert_eq!(label("hot_intent"), "Hot intent");
        assert_eq!(json_text(&serde_json::json!(["a", "b"])), "a, b");
        assert_eq!(json_text(&serde_json::json!(25000)), "25,000");
        assert_eq!(json_text(&serde_json::json!(120)), "120");
    }
}
