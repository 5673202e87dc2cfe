//! One table row per construct: the value and the next-change instant at
//! day 10 for the sample contact (see support.rs).

use bellwether_rules::{Definitions, RuleSet, SubjectKind};

use crate::support::{day, sample_contact};

/// (condition, holds, next change in days after BASE)
const CASES: &[(&str, bool, Option<f64>)] = &[
    // literals and operators
    ("true", true, None),
    ("1d + 12h = 36h", true, None),
    ("2 * 3 + 1 = 7 and 7 / 2 = 3.5 and -(1) < 0", true, None),
    ("\"b\" > \"a\" and not (1 > 2) or false", true, None),
    ("3 between 1 and 3", true, None),
    // traits, missing values, past
    ("trait.plan = \"pro\"", true, None),
    ("trait.plan == \"pro\" and trait.plan != \"trial\"", true, None),
    ("trait.nope = 1", false, None),
    ("trait.nope != 1", false, None),
    ("not (trait.nope = 1)", true, None),
    ("trait.plan in [\"pro\", \"enterprise\"] and trait.plan not in [\"free\"]", true, None),
    ("trait.tech contains \"salesforce\" and \"hubspot\" in trait.tech", true, None),
    ("account.plan = \"pro\"", false, None),
    ("past(trait.plan, 5d) = \"trial\"", true, Some(13.0)),
    ("trait.seats >= 3 * past(trait.seats, 5d)", true, Some(14.0)),
    ("trait.seats >= 3 * past(trait.seats, 60d)", false, Some(60.0)),
    // selectors, where, windows
    ("count(page where path = \"/pricing\", last 7d) >= 2", true, Some(15.0)),
    ("count(page where path = \"/pricing\") = 3", true, None),
    // a sliding window's count only falls until an event arrives: what
    // falling keeps has no next change (the window's edges are none)
    ("count(page where path = \"/pricing\", last 7d) >= 5", false, None),
    ("count(page where path = \"/pricing\", last 7d) < 2", false, Some(15.0)),
    ("count(page where path = \"/pricing\", last 7d) <= 2", true, None),
    ("active_days(last 7d) > 6", false, None),
    ("distinct(\"Feature Used\", feature, last 30d) >= 3", false, None),
    ("count(page, between 6d and 2d ago) = 3", true, Some(11.0)),
    ("count(any, last 2d) between 1 and 5", true, Some(11.0)),
    ("exists(page where path starts_with \"/blog/\")", true, None),
    ("exists(page where path matches \"^/blog/[a-z]$\")", true, None),
    ("exists(\"Quiz Answered\" where benefit = \"compliance\")", true, None),
    ("exists(\"Demo Requested\")", false, None),
    ("not exists(any, last 90d)", false, Some(99.0)),
    ("exists(\"Email Sent\", last 3d)", false, None),
    ("count(Teammate_Invited) = 0", true, None),
    // aggregates
    ("days_since(\"Signed Up\") >= 10", true, None),
    ("days_since(\"Order Completed\") >= 3", false, Some(11.0)),
    ("days_since(\"Never\") > 1000", true, None),
    // time-valued traits (RFC 3339): exact crossings, missing when absent or not a date-time
    ("days_until(trait.renews_at) > 0", true, Some(30.0)),
    ("days_until(trait.renews_at) <= 14", false, Some(16.0)),
    ("days_until(trait.renews_at) > 19.5", true, Some(10.5)),
    ("days_since(trait.signed_up_at) >= 30", false, Some(20.0)),
    ("days_since(trait.signed_up_at) < 3 * days_until(trait.renews_at)", true, Some(20.0)),
    ("days_since(trait.bad_date) > 0 or days_until(trait.nope) < 1000000000", false, None),
    ("not (days_since(trait.nope) < 30)", true, None),
    ("days_until(account.renews_at) > 0", false, None),
    ("active_days(last 7d) = 6", true, Some(11.5)),
    ("active_days() = 10", true, None),
    ("distinct(\"Feature Used\", feature) = 2", true, None),
    ("sum(\"Order Completed\", revenue, last 7d) = 50", true, Some(15.0)),
    ("sum(\"Order Completed\", revenue) = 150 and avg(\"Order Completed\", revenue) = 75", true, None),
    ("min(\"Order Completed\", revenue) = 50 and max(\"Order Completed\", revenue) = 100", true, None),
    ("avg(\"Nothing\", revenue) = 0", false, None),
    ("last(\"Feature Used\").feature = \"campaigns\"", true, None),
    ("first(\"Campaign Created\").time - first(\"Signed Up\").time <= 48h", true, None),
    ("exists(\"Campaign Created\", within 48h of first(\"Signed Up\"))", true, None),
    ("count(\"Teammate Invited\", within 7d of first(\"Signed Up\")) = 2", true, None),
    // sequences
    ("sequence(\"Signed Up\" then \"Campaign Created\" within 1d)", true, None),
    ("sequence(\"Campaign Created\" then \"Signed Up\")", false, None),
    ("sequence(\"Email Sent\" then page where path = \"/pricing\" then \"Teammate Invited\" within 2d, last 5d)", true, Some(12.0)),
    ("each(last 3 \"Email Sent\" followed_by \"Email Opened\" on email_id)", true, None),
    ("each(last 4 \"Email Sent\" followed_by \"Email Opened\" on email_id)", false, None),
    ("each(last 2 \"Email Sent\" followed_by \"Email Opened\" on email_id within 12h)", true, None),
    ("each(last 3 \"Email Sent\" followed_by \"Email Opened\" within 3h)", false, None),
];

#[test]
fn every_construct_evaluates() {
    let rules =
        RuleSet::compile(&Definitions::default()).unwrap_or_else(|d| panic!("{}", d.render()));
    let contact = sample_contact();
    let mut failures = Vec::new();
    for (text, holds, next) in CASES {
        let condition = match rules.condition(SubjectKind::Contact, text) {
            Ok(condition) => condition,
            Err(diagnostics) => {
                failures.push(format!("{text}: {}", diagnostics.render()));
                continue;
            }
        };
        let result = condition.evaluate(&contact, day(10.0));
        let expected_next = next.map(day);
        if result.value != *holds || result.next_change != expected_next {
            failures.push(format!(
                "{text}: got {} next {:?}, want {holds} next {:?}",
                result.value,
                result
                    .next_change
                    .map(|t| (t - day(0.0)) as f64 / 86_400_000.0),
                next
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn distinct_counts_many_values() {
    use crate::support::{subject, track};
    let events = (0..40)
        .map(|i| {
            track(
                f64::from(i) / 10.0,
                "Feature Used",
                serde_json::json!({ "feature": format!("f{}", i % 35) }),
            )
        })
        .collect();
    let contact = subject(SubjectKind::Contact, events, &[]);
    let rules =
        RuleSet::compile(&Definitions::default()).unwrap_or_else(|d| panic!("{}", d.render()));
    let condition = rules.condition(
        SubjectKind::Contact,
        "distinct(\"Feature Used\", feature) = 35",
    );
    let holds = condition.map(|c| c.evaluate(&contact, day(10.0)).value);
    assert_eq!(holds.ok(), Some(true));
}
