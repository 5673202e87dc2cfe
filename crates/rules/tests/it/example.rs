//! The shipped examples/b2b.toml: it compiles, each of the 12 segments of
//! SPEC section 4 (and the renewal segment of §7) holds for a subject built
//! to match it, and a brand-new subject is in none of them.

use bellwether_rules::{DefKind, MemorySubject, RuleSet, SubjectKind};
use serde_json::json;

use crate::support::{day, example, page, subject, track};

/// Evaluates every definition for `subject` in dependency order, like the engine.
fn evaluate_all(rules: &RuleSet, subject: &mut MemorySubject, now: i64) {
    for contact in &mut subject.contacts {
        evaluate_all(rules, contact, now);
    }
    for def in rules.order().iter().filter(|d| d.subject == subject.kind) {
        match def.kind {
            DefKind::Score => {
                if let Some(value) = rules.evaluate_score(&def.name, subject, now) {
                    subject.scores.insert(def.name.to_string(), value);
                }
            }
            DefKind::Segment => {
                let value = rules
                    .evaluate_segment(&def.name, subject, now)
                    .is_some_and(|e| e.value);
                subject.segments.insert(def.name.to_string(), value);
            }
            DefKind::Tier => {
                if let Some(level) = rules
                    .evaluate_tier(&def.name, subject, now)
                    .and_then(|e| e.value)
                {
                    subject.tiers.insert(def.name.to_string(), level);
                }
            }
        }
    }
}

fn members(subject: &MemorySubject) -> Vec<&str> {
    let mut names: Vec<&str> = subject
        .segments
        .iter()
        .filter(|(_, v)| **v)
        .map(|(k, _)| k.as_str())
        .collect();
    names.sort_unstable();
    names
}

#[test]
fn the_example_defines_thirteen_segments_with_owners_and_actions() {
    let rules = example();
    let segments = &rules.definitions().segment;
    assert_eq!(segments.len(), 13);
    assert!(segments
        .iter()
        .all(|s| s.owner.is_some() && s.action.is_some()));
    assert_eq!(rules.definitions().score.len(), 3);
    assert_eq!(rules.definitions().tier.len(), 2);
}

#[test]
fn contact_segments_match_their_scenarios() {
    let rules = example();
    let mut events = vec![
        track(0.0, "Signed Up", json!({})),
        track(1.0, "Campaign Created", json!({})),
        track(1.5, "Teammate Invited", json!({})),
        track(2.0, "Teammate Invited", json!({})),
        track(3.0, "Quiz Answered", json!({"benefit": "compliance"})),
    ];
    for i in 0..4 {
        events.push(page(4.0 + f64::from(i) * 0.1, &format!("/blog/post-{i}")));
    }
    for (i, feature) in [
        "campaigns",
        "automations",
        "reports",
        "ab-tests",
        "forms",
        "segments",
    ]
    .iter()
    .enumerate()
    {
        events.push(track(
            5.0 + i as f64 * 0.1,
            "Feature Used",
            json!({ "feature": feature }),
        ));
    }
    for email in 0..3 {
        events.push(track(
            30.0 + f64::from(email),
            "Email Sent",
            json!({"email_id": email}),
        ));
        events.push(track(
            30.5 + f64::from(email),
            "Email Opened",
            json!({"email_id": email}),
        ));
    }
    for d in 10..34 {
        events.push(track(f64::from(d), "Logged In", json!({})));
    }
    events.push(page(33.0, "/pricing"));
    events.push(page(34.0, "/pricing"));
    let mut contact = subject(
        SubjectKind::Contact,
        events,
        &[("plan", 0.0, json!("trial"))],
    );
    evaluate_all(&rules, &mut contact, day(34.5));
    assert_eq!(
        members(&contact),
        [
            "activated_trial",
            "collaborative_team",
            "compliance_seeker",
            "content_researcher",
            "fast_activator",
            "hot_intent",
            "power_user"
        ]
    );
    assert_eq!(contact.tiers.get("lifecycle").map(|l| &**l), Some("trial"));
    evaluate_all(&rules, &mut contact, day(200.0));
    assert!(contact.segments.get("dormant").copied().unwrap_or(false));
}

fn account_with(
    contacts: Vec<MemorySubject>,
    events: Vec<bellwether_rules::Event>,
    traits: &[(&str, f64, serde_json::Value)],
) -> MemorySubject {
    let mut account = subject(SubjectKind::Account, events, traits);
    account.contacts = contacts;
    account
}

#[test]
fn account_segments_match_their_scenarios() {
    let rules = example();
    let firmographics = [
        ("employees", 0.0, json!(400)),
        ("industry", 0.0, json!("software")),
        ("tech", 0.0, json!(["salesforce"])),
        ("seats", 0.0, json!(10)),
        ("seats", 50.0, json!(40)),
    ];
    let mut silent = account_with(
        vec![],
        vec![track(1.0, "Logged In", json!({}))],
        &firmographics,
    );
    evaluate_all(&rules, &mut silent, day(90.0));
    assert_eq!(members(&silent), ["expansion_ready", "silent_fit_account"]);

    let hot = |i: u32| {
        let events = vec![
            track(88.0, "Demo Requested", json!({})),
            page(88.5, "/pricing"),
            page(89.0, "/pricing"),
            page(89.05, "/pricing"),
        ];
        let mut c = subject(SubjectKind::Contact, events, &[]);
        c.id = format!("contact-{i}");
        c
    };
    let mut logins: Vec<_> = (0..10)
        .map(|i| track(31.0 + f64::from(i), "Logged In", json!({})))
        .collect();
    logins.push(track(70.0, "Logged In", json!({})));
    let mut committee = account_with((0..3).map(hot).collect(), logins, &firmographics);
    evaluate_all(&rules, &mut committee, day(89.1));
    assert_eq!(
        members(&committee),
        ["buying_committee_active", "churn_risk", "expansion_ready"]
    );
    assert_eq!(
        committee.tiers.get("intent_level").map(|l| &**l),
        Some("high")
    );
}

#[test]
fn new_leads_are_in_no_segment_until_they_do_something() {
    let rules = example();
    // An `identify` or a `group` call alone: traits, no behavior.
    let mut lead = subject(
        SubjectKind::Contact,
        vec![],
        &[("plan", 0.0, json!("trial"))],
    );
    let firmographics = [
        ("employees", 0.0, json!(400)),
        ("industry", 0.0, json!("software")),
        ("tech", 0.0, json!(["salesforce"])),
        ("country", 0.0, json!("US")),
    ];
    let mut account = account_with(vec![], vec![], &firmographics);
    for now in [day(0.0), day(400.0)] {
        evaluate_all(&rules, &mut lead, now);
        evaluate_all(&rules, &mut account, now);
        assert!(members(&lead).is_empty(), "{:?}", members(&lead));
        assert!(members(&account).is_empty(), "{:?}", members(&account));
    }
    assert!(rules.holds_without_activity().is_empty());
    // Once they did something and went quiet, the win-back plays apply.
    let mut quiet = subject(SubjectKind::Contact, vec![page(1.0, "/")], &[]);
    evaluate_all(&rules, &mut quiet, day(91.0));
    assert_eq!(members(&quiet), ["dormant"]);
    let mut silent = account_with(vec![], vec![page(1.0, "/")], &firmographics);
    evaluate_all(&rules, &mut silent, day(61.5));
    assert_eq!(members(&silent), ["silent_fit_account"]);
}

#[test]
fn renewal_due_opens_180_days_before_the_renewal_date_and_closes_after_it() {
    let rules = example();
    let renewal = "2024-12-31T00:00:00Z"; // day 365 after BASE (2024 is a leap year)
    let account = account_with(vec![], vec![], &[("renewal_date", 0.0, json!(renewal))]);
    let due = |now| rules.evaluate_segment("renewal_due", &account, now);
    let before = due(day(100.0)).map(|e| (e.value, e.next_change));
    assert_eq!(before, Some((false, Some(day(185.0)))));
    let inside = due(day(185.0)).map(|e| (e.value, e.next_change));
    assert_eq!(inside, Some((true, Some(day(365.0) + 1))));
    let after = due(day(365.0) + 1).map(|e| (e.value, e.next_change));
    assert_eq!(after, Some((false, None)));
}
