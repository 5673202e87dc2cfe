use super::{Cap, Rollup};
use crate::time::{DAY, WEEK};

#[test]
fn parses_caps() {
    assert_eq!(
        Cap::parse("10 per day"),
        Some(Cap {
            amount: 10.0,
            period: Some((DAY, 3 * DAY - 3 * DAY))
        })
    );
    assert_eq!(
        Cap::parse("50 per week").map(|c| c.period),
        Some(Some((WEEK, 3 * DAY)))
    );
    assert_eq!(
        Cap::parse("5 per 12h").map(|c| c.period),
        Some(Some((DAY / 2, 0)))
    );
    assert_eq!(Cap::parse("100").map(|c| c.period), Some(None));
    assert_eq!(Cap::parse("-1 per day"), None);
    assert_eq!(Cap::parse("10 per fortnight"), None);
    assert_eq!(Cap::parse("10 each day"), None);
}

#[test]
fn weeks_start_on_monday() {
    let cap = Cap::parse("1 per week").unwrap_or(Cap {
        amount: 0.0,
        period: None,
    });
    // 1970-01-05 was a Monday.
    assert_ne!(cap.bucket(4 * DAY - 1), cap.bucket(4 * DAY));
    assert_eq!(cap.bucket(4 * DAY), cap.bucket(11 * DAY - 1));
}

#[test]
fn parses_rollups() {
    assert_eq!(Rollup::parse("sum"), Some(Rollup::Sum));
    assert_eq!(Rollup::parse("max"), Some(Rollup::Top(1)));
    assert_eq!(Rollup::parse("top 3"), Some(Rollup::Top(3)));
    assert_eq!(Rollup::parse("top(2)"), Some(Rollup::Top(2)));
    assert_eq!(Rollup::parse("median"), None);
}
