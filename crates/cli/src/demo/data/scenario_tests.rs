//! The shipped definitions (`examples/b2b.toml`) run by the real-time engine
//! over the demo personas: every example segment has exactly the members the
//! personas were built to produce.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bellwether_core::engine::Engine;
use bellwether_core::identity::{IdentityConfig, IdentityGraph};
use bellwether_core::message::StoredEvent;
use bellwether_core::store::WriteOp;
use bellwether_rules::RuleSet;
use bellwether_server::segment::{parse_message, ParseContext};

use super::{events_at, Persona, COMPANIES};

const NOW: i64 = 1_764_000_000_000;

/// Segment → members after feeding the demo data through identity
/// resolution and the engine, as the server does.
fn memberships() -> BTreeMap<String, BTreeSet<String>> {
    let rules =
        RuleSet::from_toml("b2b.toml", include_str!("../../../../../examples/b2b.toml")).unwrap();
    let mut engine = Engine::new(Arc::new(rules));
    let mut graph = IdentityGraph::new(IdentityConfig::default());
    let ctx = ParseContext {
        source: "web",
        received_at: NOW,
        max_future_skew_ms: 86_400_000,
        ..ParseContext::default()
    };
    let data = events_at(7, NOW);
    let mut ops = Vec::new();
    for (seq, line) in data
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let message =
            parse_message(serde_json::from_slice(line).unwrap(), &ctx, String::new).unwrap();
        let contact_id = graph.resolve(&message, seq as i64 + 1, &mut ops);
        let traits = message.traits.clone();
        let (kind, group_id, at) = (message.kind, message.group_id.clone(), message.timestamp);
        ops.push(WriteOp::Event(StoredEvent {
            seq: seq as i64 + 1,
            contact_id,
            message,
        }));
        match (kind, contact_id, group_id) {
            (bellwether_core::MessageKind::Identify, Some(contact), _) => {
                ops.push(WriteOp::ContactTraits {
                    contact,
                    traits,
                    at,
                    seq: seq as i64 + 1,
                });
            }
            (bellwether_core::MessageKind::Group, _, Some(group_id)) => {
                ops.push(WriteOp::AccountTraits {
                    group_id,
                    traits,
                    at,
                    seq: seq as i64 + 1,
                });
            }
            _ => {}
        }
    }
    engine.apply(&ops, NOW);
    assert_eq!(
        engine.live_memberships(),
        engine.evaluate_all(NOW),
        "live == from scratch"
    );
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for membership in engine.live_memberships() {
        out.entry(membership.segment)
            .or_default()
            .insert(membership.id);
    }
    out
}

/// The contact segments each persona was built for.
fn expected_segments(persona: Persona) -> &'static [&'static str] {
    match persona {
        // 2 pricing views this week, the last 3 emails opened, a demo.
        Persona::Hot => &["hot_intent"],
        // 4 core-feature uses, no upgrade; a campaign 20 h after signing up;
        // 2 teammates invited within 3 days.
        Persona::Trial => &["activated_trial", "collaborative_team", "fast_activator"],
        // Logged in on 28 of the last 30 days, 7 distinct features.
        Persona::Power => &["power_user"],
        // 5 blog posts, no demo; quiz answer "compliance".
        Persona::Researcher => &["compliance_seeker", "content_researcher"],
        // Churn is an account rule; on its own a churning contact is in none.
        Persona::Churning => &[],
        // One page view 100+ days ago.
        Persona::Dormant => &["dormant"],
    }
}

#[test]
fn every_example_segment_has_the_members_the_personas_produce() {
    let actual = memberships();
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut user = 0;
    for (_, _, _, _, _, personas) in COMPANIES {
        for persona in personas {
            user += 1;
            for segment in expected_segments(*persona) {
                expected
                    .entry((*segment).to_owned())
                    .or_default()
                    .insert(format!("user-{user}"));
            }
        }
    }
    // Accounts: acme has 3 hot contacts (intent >= 50 each); tyrell fits
    // (150 employees, healthcare, US) and is silent; hooli went from 5 to 24
    // seats in the last 60 days; umbrella's only logins are its churning
    // contact's, 8 a month ago and 1 since (every other account has a power
    // user logging in daily); globex renews in 75 days.
    for (segment, account) in [
        ("buying_committee_active", "acme"),
        ("silent_fit_account", "tyrell"),
        ("expansion_ready", "hooli"),
        ("churn_risk", "umbrella"),
        ("renewal_due", "globex"),
    ] {
        expected
            .entry(segment.to_owned())
            .or_default()
            .insert(account.to_owned());
    }
    assert_eq!(actual, expected);
    assert_eq!(actual.len(), 13, "all 13 example segments have members");
}
