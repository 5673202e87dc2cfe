//! Timestamps on the wire: ISO-8601 in, RFC 3339 with milliseconds out.

use bellwether_core::Millis;
use chrono::DateTime;

/// Parses an ISO-8601 / RFC 3339 timestamp (Segment SDKs send both
/// `2024-01-01T00:00:00.000Z` and offsets like `+02:00`).
pub fn parse_timestamp(text: &str) -> Option<Millis> {
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return Some(parsed.timestamp_millis());
    }
    // Python SDKs may omit the offset for naive datetimes: read them as UTC.
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc().timestamp_millis())
}

/// RFC 3339 with milliseconds, UTC (`2024-01-01T00:00:00.000Z`): the same
/// shape webhooks carry (`rules::format_instant`).
pub fn format_timestamp(ms: Millis) -> String {
    bellwether_rules::format_instant(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_shapes() {
        let utc = parse_timestamp("2024-03-01T12:00:00.250Z").unwrap();
        assert_eq!(format_timestamp(utc), "2024-03-01T12:00:00.250Z");
        let offset = parse_timestamp("2024-03-01T14:00:00.250+02:00").unwrap();
        assert_eq!(offset, utc);
        let naive = parse_timestamp("2024-03-01T12:00:00.250").unwrap();
        assert_eq!(naive, utc);
        let micros = parse_timestamp("2024-03-01T12:00:00.250123+00:00").unwrap();
        assert_eq!(micros, utc);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("2024-13-01T00:00:00Z"), None);
    }
}
