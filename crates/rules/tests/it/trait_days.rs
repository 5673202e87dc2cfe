//! `days_until(trait.x)` / `days_since(trait.x)` (SPEC §7 "Language"): the
//! value at T is the fractional days to or from the instant the trait
//! holds, and the next-change instant is the exact millisecond a
//! comparison flips, or the trait's next change, whichever comes first.

use bellwether_rules::{Definitions, MemorySubject, RuleSet, SubjectKind, Traits, DAY};
use proptest::prelude::*;
use serde_json::json;

use crate::support::{cases, day, BASE};

fn rules() -> RuleSet {
    RuleSet::compile(&Definitions::default()).unwrap_or_else(|d| panic!("{}", d.render()))
}

/// An account whose `renewal_date` is set to each value at each day.
fn account(changes: &[(f64, serde_json::Value)]) -> MemorySubject {
    let mut traits = Traits::new();
    for (days, value) in changes {
        traits.set("renewal_date", day(*days), value.clone());
    }
    MemorySubject {
        id: "acme".into(),
        kind: SubjectKind::Account,
        traits,
        ..MemorySubject::default()
    }
}

fn rfc3339(time: i64) -> serde_json::Value {
    json!(bellwether_rules::format_time(time))
}

/// (holds, next change) of `condition` at `now`.
fn at(subject: &MemorySubject, condition: &str, now: i64) -> (bool, Option<i64>) {
    let condition = rules()
        .condition(subject.kind, condition)
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let result = condition.evaluate(subject, now);
    (result.value, result.next_change)
}

#[test]
fn a_renewal_window_opens_and_closes_at_its_exact_milliseconds() {
    let renewal = day(400.0) + 12_345;
    let subject = account(&[(0.0, rfc3339(renewal))]);
    let within = "days_until(trait.renewal_date) between 0 and 180";
    let opens = renewal - 180 * DAY;
    assert_eq!(at(&subject, within, day(1.0)), (false, Some(opens)));
    assert_eq!(at(&subject, within, opens - 1), (false, Some(opens)));
    assert_eq!(at(&subject, within, opens), (true, Some(renewal + 1)));
    assert_eq!(at(&subject, within, renewal), (true, Some(renewal + 1)));
    assert_eq!(at(&subject, within, renewal + 1), (false, None));
}

#[test]
fn a_changed_trait_is_a_change_and_the_new_date_decides_after_it() {
    // Renewal on day 100, moved to day 500 on day 20.
    let subject = account(&[(0.0, rfc3339(day(100.0))), (20.0, rfc3339(day(500.0)))]);
    let soon = "days_until(trait.renewal_date) <= 90";
    assert_eq!(at(&subject, soon, day(5.0)), (false, Some(day(10.0))));
    assert_eq!(at(&subject, soon, day(10.0)), (true, Some(day(20.0))));
    assert_eq!(at(&subject, soon, day(20.0)), (false, Some(day(410.0))));
    // Unset (null) or not a date-time: missing, so the comparison is false.
    let cleared = account(&[(0.0, rfc3339(day(100.0))), (20.0, json!("soon"))]);
    assert_eq!(at(&cleared, soon, day(20.0)), (false, None));
    assert_eq!(
        at(
            &cleared,
            "not (days_until(trait.renewal_date) <= 90)",
            day(20.0)
        ),
        (true, None)
    );
}

#[test]
fn a_contact_reads_its_accounts_date_and_its_own() {
    let mut own = Traits::new();
    own.set("signed_up_at", day(0.0), json!("2024-01-01T00:00:00Z"));
    let mut account_traits = Traits::new();
    account_traits.set("renewal_date", day(0.0), rfc3339(day(60.0)));
    let contact = MemorySubject {
        id: "ann".into(),
        kind: SubjectKind::Contact,
        traits: own,
        account_traits: Some(account_traits),
        ..MemorySubject::default()
    };
    let both = "days_since(trait.signed_up_at) >= 14 and days_until(account.renewal_date) <= 30";
    assert_eq!(at(&contact, both, day(10.0)), (false, Some(day(14.0))));
    assert_eq!(at(&contact, both, day(14.0)), (false, Some(day(30.0))));
    assert_eq!(at(&contact, both, day(30.0)), (true, None));
    assert_eq!(BASE, day(0.0));
}

#[test]
fn explanations_show_the_instant_the_trait_holds() {
    let subject = account(&[(0.0, json!("2024-03-01T00:00:00Z"))]);
    let condition = rules()
        .condition(
            SubjectKind::Account,
            "days_until(trait.renewal_date) between 0 and 180",
        )
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let text = condition
        .explain(&subject, day(30.0))
        .map(|e| e.render())
        .unwrap_or_default();
    assert!(
        text.contains("days_until(trait.renewal_date) = 30 (2024-03-01T00:00:00Z)"),
        "{text}"
    );
    let missing = account(&[(0.0, json!("March"))]);
    let text = condition
        .explain(&missing, day(30.0))
        .map(|e| e.render())
        .unwrap_or_default();
    assert!(text.contains("no RFC 3339 date-time"), "{text}");
}

fn comparison() -> impl Strategy<Value = &'static str> {
    // `=` holds on a single millisecond at most; its next change is where
    // the ordering changes, which need not flip the answer.
    prop::sample::select(vec!["<", "<=", ">", ">="])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    /// For any instant, offset, direction, operator and threshold: the
    /// value at `now` is the one the closed form gives, it holds until the
    /// millisecond before the predicted change, and differs at it.
    #[test]
    fn next_change_is_the_exact_millisecond_of_the_flip(
        instant in -1_000 * DAY..1_000 * DAY,
        now in -1_000 * DAY..1_000 * DAY,
        until in any::<bool>(),
        op in comparison(),
        threshold in -2_000.0f64..2_000.0,
        offset_minutes in -(23i64 * 60 + 59)..(23 * 60 + 59),
    ) {
        let (instant, now) = (BASE + instant, BASE + now);
        let local = instant + offset_minutes * 60_000;
        let stamp = bellwether_rules::format_time(local);
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let abs = offset_minutes.abs();
        let text = format!("{}{sign}{:02}:{:02}", &stamp[..stamp.len() - 1], abs / 60, abs % 60);
        let subject = account(&[(-2_000.0, json!(text))]);
        let function = if until { "days_until" } else { "days_since" };
        let condition = format!("{function}(trait.renewal_date) {op} {threshold:?}");
        let days = if until { (instant - now) as f64 } else { (now - instant) as f64 } / DAY as f64;
        let expected = match op {
            "<" => days < threshold,
            "<=" => days <= threshold,
            ">" => days > threshold,
            _ => days >= threshold,
        };
        let (holds, next) = at(&subject, &condition, now);
        prop_assert_eq!(holds, expected, "{} at {}", condition, now);
        if let Some(next) = next {
            prop_assert!(next > now);
            prop_assert_eq!(at(&subject, &condition, next - 1).0, holds, "{} before {}", condition, next);
            prop_assert_ne!(at(&subject, &condition, next).0, holds, "{} at {}", condition, next);
        } else {
            // Never changes again: the value is heading away from the threshold.
            let later = at(&subject, &condition, now + 5_000 * DAY).0;
            prop_assert_eq!(later, holds, "{}", condition);
        }
    }
}
