//! The action router over a live engine: holdouts withheld from actions,
//! owners assigned and released, tier changes paired, score crossings
//! watched and fired by timers at the exact instant, stable webhook ids.

use crate::actions::config::{DestinationConfig, PoolConfig, ThresholdConfig};
use crate::actions::holdout::is_held_out;
use crate::config::Secret;
use crate::pipeline::{delivery_id, ActionRouter};
use crate::store::OutboxRecord;

use super::*;

const ROUTED: &str = r#"
[[score]]
name = "intent"
subject = "contact"
half_life = "14d"
rules = [ { on = '"Demo Requested"', points = 30 } ]

[[segment]]
name = "demo"
subject = "contact"
when = 'exists("Demo Requested")'
owner = "sdr-pool"
action = "Call within the hour"
holdout = 0.5

[[tier]]
name = "intent_level"
subject = "contact"
levels = [ { name = "high", when = 'score("intent") >= 25' }, { name = "low", when = 'true' } ]
"#;

fn destination() -> DestinationConfig {
    DestinationConfig {
        name: "crm".into(),
        url: "https://crm.example/hook".into(),
        secret: Some(Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")),
        secrets: Vec::new(),
        segments: vec!["demo".into()],
        tiers: vec!["intent_level".into()],
        scores: vec![ThresholdConfig {
            score: "intent".into(),
            threshold: 25.0,
        }],
        changes: Vec::new(),
        format: Default::default(),
        timeout: None,
        retry_schedule: None,
    }
}

fn pool() -> PoolConfig {
    PoolConfig {
        name: "sdr-pool".into(),
        members: vec!["ana".into(), "ben".into()],
        strategy: Default::default(),
        trait_key: None,
        routes: Default::default(),
    }
}

fn setup() -> (Engine, ActionRouter, Feed) {
    let rules = Arc::new(RuleSet::from_toml("r.toml", ROUTED).expect("valid rules"));
    let router = ActionRouter::new(vec![destination()], vec![pool()]);
    let mut engine = Engine::new(rules);
    engine.set_watches(router.watches());
    (engine, router, Feed::new())
}

fn outbox(ops: &[WriteOp]) -> Vec<&OutboxRecord> {
    ops.iter()
        .filter_map(|op| match op {
            WriteOp::Outbox(record) => Some(record),
            _ => None,
        })
        .collect()
}

fn body(record: &OutboxRecord) -> Value {
    serde_json::from_str(&record.body).unwrap_or(Value::Null)
}

#[test]
fn held_out_entrants_get_no_owner_and_no_delivery() {
    let (mut engine, mut router, mut feed) = setup();
    let users: Vec<String> = (0..40).map(|i| format!("user-{i}")).collect();
    let mut treated = Vec::new();
    let mut held = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let at = T0 + i as i64;
        let changes = engine.apply(&feed.ops(&[track(user, "Demo Requested", at)]), at);
        let ops = router.route(&engine, &changes);
        let entry = changes
            .iter()
            .find(|c| c.definition == "demo")
            .expect("entered demo");
        let delivered = outbox(&ops).iter().any(|r| r.definition == "demo");
        let assigned = ops.iter().any(|op| matches!(op, WriteOp::Assign(_)));
        assert_eq!(delivered, assigned, "{user}");
        if is_held_out("demo", &entry.key.store_key(), 0.5) {
            assert!(!delivered, "{user} is held out but was delivered");
            held.push(user.clone());
        } else {
            assert!(delivered, "{user} is treated but was not delivered");
            treated.push(user.clone());
        }
        // Tier and score deliveries are not segment actions: never held out.
        assert!(outbox(&ops).iter().any(|r| r.definition == "intent_level"));
    }
    assert!(
        !held.is_empty() && !treated.is_empty(),
        "{held:?} {treated:?}"
    );
}

#[test]
fn owners_take_turns_among_treated_entrants() {
    let (mut engine, mut router, mut feed) = setup();
    // Entrants that are treated (not held out), in order.
    let mut owners = Vec::new();
    let mut owned = None;
    for i in 0..12 {
        let user = format!("u{i}");
        let changes = engine.apply(&feed.ops(&[track(&user, "Demo Requested", T0 + i)]), T0 + i);
        for op in router.route(&engine, &changes) {
            if let WriteOp::Assign(assignment) = op {
                owners.push(assignment.owner);
                owned = changes.first().map(|c| c.key.clone());
            }
        }
    }
    assert!(owners.len() >= 2, "{owners:?}");
    let expected: Vec<&str> = (0..owners.len())
        .map(|i| if i % 2 == 0 { "ana" } else { "ben" })
        .collect();
    assert_eq!(owners, expected);
    let key = owned.expect("an owned subject");
    let last = owners.last().cloned().unwrap_or_default();
    assert_eq!(router.owners_of(&key).get("demo"), Some(&last));
}

/// A restart resumes owners from the recorded assignments; an exit ends
/// the one of its segment and keeps the others.
#[test]
fn restored_owners_are_resumed_and_ended_per_segment() {
    let assignment = |segment: &str, id: i64, owner: &str| crate::store::AssignmentRecord {
        segment: segment.into(),
        subject: SubjectKey::Contact(id),
        label: format!("u{id}"),
        owner: owner.into(),
        pool: None,
        round_robin: false,
        at: T0,
    };
    let mut router = ActionRouter::default();
    router.restore(crate::store::RecordedAssignments {
        current: vec![
            assignment("demo", 1, "ana"),
            assignment("churn", 1, "cs"),
            assignment("demo", 2, "ben"),
        ],
        turns: vec![("sdr".into(), 2)],
    });
    let owners = |router: &ActionRouter, id| router.owners_of(&SubjectKey::Contact(id));
    assert_eq!(
        owners(&router, 1).into_iter().collect::<Vec<_>>(),
        [
            ("churn".to_owned(), "cs".to_owned()),
            ("demo".into(), "ana".into())
        ]
    );
    router.forget_purged(&[WriteOp::PurgeContactRecords {
        deletion: "d".into(),
        contacts: vec![2],
    }]);
    assert!(
        owners(&router, 2).is_empty(),
        "a deleted contact owns nothing"
    );
    assert_eq!(owners(&router, 1).len(), 2);
}

#[test]
fn a_tier_change_is_one_delivery_from_and_to() {
    let (mut engine, mut router, mut feed) = setup();
    let changes = engine.apply(&feed.ops(&[track("t", "Page Seen", T0)]), T0);
    let ops = router.route(&engine, &changes);
    let tier = outbox(&ops);
    assert_eq!(tier.len(), 1);
    assert_eq!(body(tier[0])["data"]["change"]["from"], Value::Null);
    assert_eq!(body(tier[0])["data"]["change"]["to"], "low");
    let changes = engine.apply(&feed.ops(&[track("t", "Demo Requested", T0 + 1)]), T0 + 1);
    let ops = router.route(&engine, &changes);
    let tier: Vec<Value> = outbox(&ops)
        .iter()
        .filter(|r| r.definition == "intent_level")
        .map(|r| body(r))
        .collect();
    assert_eq!(tier.len(), 1, "{tier:?}");
    assert_eq!(tier[0]["type"], "tier.changed");
    assert_eq!(tier[0]["data"]["change"]["from"], "low");
    assert_eq!(tier[0]["data"]["change"]["to"], "high");
}

#[test]
fn a_decaying_score_falls_below_its_threshold_at_the_exact_instant() {
    let (mut engine, mut router, mut feed) = setup();
    let changes = engine.apply(&feed.ops(&[track("s", "Demo Requested", T0)]), T0);
    let above: Vec<&Change> = changes
        .iter()
        .filter(|c| c.definition_kind == bellwether_rules::DefKind::Score)
        .collect();
    assert_eq!(above.len(), 1);
    assert_eq!(
        (above[0].change.as_str(), above[0].at),
        ("crossed_above", T0)
    );
    // 30 × 2^(−t/14d) < 25 from t = 14d × log2(30/25) on.
    let exact = T0 + (14.0 * DAY as f64 * (30.0f64 / 25.0).log2()).ceil() as i64;
    let early = engine.process_due(exact - 2);
    assert!(
        early
            .iter()
            .all(|c| c.definition_kind != bellwether_rules::DefKind::Score),
        "{early:?}"
    );
    let later = engine.process_due(exact + DAY);
    let below: Vec<&Change> = later
        .iter()
        .filter(|c| c.definition_kind == bellwether_rules::DefKind::Score)
        .collect();
    assert_eq!(below.len(), 1, "{later:?}");
    assert_eq!(below[0].change.as_str(), "crossed_below");
    assert!(
        (below[0].at - exact).abs() <= 1,
        "{} vs {exact}",
        below[0].at
    );
    let ops = router.route(&engine, &later);
    let crossing: Vec<Value> = outbox(&ops)
        .iter()
        .filter(|r| r.definition_kind == "score")
        .map(|r| body(r))
        .collect();
    assert_eq!(crossing[0]["type"], "score.crossed_below");
    let value = crossing[0]["data"]["change"]["value"]
        .as_f64()
        .unwrap_or(f64::NAN);
    assert!(value < 25.0 && value > 24.99, "{value}");
    // Crossings are not membership history.
    assert!(below.iter().all(|c| !c.is_membership()));
}

#[test]
fn webhook_ids_depend_on_the_change_only() {
    let (mut engine, _, mut feed) = setup();
    let changes = engine.apply(&feed.ops(&[track("w", "Demo Requested", T0)]), T0);
    let ids: Vec<String> = changes.iter().map(|c| delivery_id("crm", c)).collect();
    let again: Vec<String> = changes.iter().map(|c| delivery_id("crm", c)).collect();
    assert_eq!(ids, again);
    let other: Vec<String> = changes.iter().map(|c| delivery_id("slack", c)).collect();
    assert!(ids.iter().zip(&other).all(|(a, b)| a != b));
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
    assert!(ids
        .iter()
        .all(|id| id.starts_with("msg_") && id.len() == 36));
}

/// A pool routing by a trait reads that one trait as of the entry: the
/// subject's own (`trait.NAME` or `NAME`) or its account's (`account.NAME`),
/// the same values the whole snapshot has, `null` and unset alike absent.
#[test]
fn one_trait_as_of_an_instant_is_what_the_snapshot_has() {
    let (mut engine, _, mut feed) = setup();
    let mut joined = message(MessageKind::Group, Some("ann"), None, "", T0);
    joined.group_id = Some("acme".into());
    joined.traits = json!({"country": "DE", "tier": null})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut named = message(MessageKind::Identify, Some("ann"), None, "", T0 + 10);
    named.traits = json!({"region": "EMEA", "country": "FR"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut moved = message(MessageKind::Identify, Some("ann"), None, "", T0 + 20);
    moved.traits = json!({"region": "APAC"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let alone = message(MessageKind::Identify, Some("bob"), None, "", T0);
    engine.apply(&feed.ops(&[joined, named, moved, alone]), T0 + 20);
    let view = engine.view();
    let contact = |label: &str| {
        let found = engine.state.contacts.iter().find(|(_, c)| c.label == label);
        SubjectKey::Contact(found.map(|(id, _)| *id).expect("a contact of the feed"))
    };
    let (ann, bob) = (contact("ann"), contact("bob"));
    let acme = SubjectKey::Account("acme".into());
    let names = [
        "region",
        "trait.region",
        "country",
        "account.country",
        "account.tier",
        "tier",
        "account.region",
        "missing",
    ];
    for key in [&ann, &bob, &acme] {
        for at in [T0, T0 + 15, T0 + 20] {
            let snapshot = view.subject_snapshot(key, at).expect("exists");
            for name in names {
                let whole = match name.strip_prefix("account.") {
                    Some(account) => snapshot.account_traits.get(account).cloned(),
                    None => snapshot
                        .traits
                        .get(name.strip_prefix("trait.").unwrap_or(name))
                        .cloned(),
                };
                assert_eq!(
                    view.trait_at(key, name, at),
                    whole,
                    "{key:?} {name} at {at}"
                );
            }
        }
    }
    assert_eq!(view.trait_at(&ann, "region", T0 + 15), Some(json!("EMEA")));
    assert_eq!(view.trait_at(&ann, "region", T0 + 20), Some(json!("APAC")));
    assert_eq!(
        view.trait_at(&ann, "account.country", T0 + 20),
        Some(json!("DE"))
    );
    assert_eq!(view.trait_at(&ann, "country", T0 + 20), Some(json!("FR")));
    assert_eq!(view.trait_at(&bob, "account.country", T0 + 20), None);
}

/// The assignments table as a store keeps it: (segment, subject, owner,
/// pool, round robin, assigned at, ended at), in no particular order.
type AssignmentRow = (
    String,
    SubjectKey,
    String,
    Option<String>,
    bool,
    i64,
    Option<i64>,
);

/// Applies the assignment ops among `ops` as both stores do.
fn apply_assignments(table: &mut Vec<AssignmentRow>, ops: &[WriteOp]) {
    let end = |table: &mut Vec<AssignmentRow>, segment: &str, subject: &SubjectKey, at| {
        for row in table.iter_mut() {
            if row.0 == segment && row.1 == *subject && row.6.is_none() {
                row.6 = Some(at);
            }
        }
    };
    let row = |a: &crate::store::AssignmentRecord, ended| {
        let (segment, subject, owner) = (a.segment.clone(), a.subject.clone(), a.owner.clone());
        (
            segment,
            subject,
            owner,
            a.pool.clone(),
            a.round_robin,
            a.at,
            ended,
        )
    };
    for op in ops {
        match op {
            WriteOp::Assign(a) => {
                end(table, &a.segment, &a.subject, a.at);
                table.push(row(a, None));
            }
            WriteOp::Unassign {
                segment,
                subject,
                at,
            } => end(table, segment, subject, *at),
            WriteOp::BackfilledAssignment(b) => table.push(row(&b.assignment, b.ended_at)),
            _ => {}
        }
    }
}

#[test]
fn backfilled_assignments_are_written_whole_as_live_routing_leaves_them() {
    const WINDOWED: &str = r#"
[[segment]]
name = "demo_week"
subject = "contact"
when = 'count("Demo Requested", last 7d) >= 1'
owner = "sdr-pool"
holdout = 0.3

[[segment]]
name = "pricing"
subject = "contact"
when = 'exists("Pricing Viewed")'
owner = "dana"
"#;
    let rules = Arc::new(RuleSet::from_toml("r.toml", WINDOWED).expect("valid rules"));
    let mut engine = Engine::new(rules);
    let mut feed = Feed::new();
    let mut events: Vec<Message> = Vec::new();
    for user in 0..16i64 {
        let name = format!("user-{user}");
        // Entries a week apart or closer: exits by the window, re-entries.
        for (n, days) in [user % 3, user % 3 + 4 + user % 5, 30 + user % 4]
            .iter()
            .enumerate()
        {
            let at = T0 + days * DAY + user * HOUR + n as i64;
            events.push(track(&name, "Demo Requested", at));
        }
        events.push(track(&name, "Pricing Viewed", T0 + user * DAY));
    }
    events.sort_by_key(|m| m.timestamp);
    let mut changes = Vec::new();
    for event in &events {
        changes.extend(engine.process_due(event.timestamp - 1));
        let ops = feed.ops(std::slice::from_ref(event));
        changes.extend(engine.apply(&ops, event.timestamp));
    }
    changes.extend(engine.process_due(T0 + 60 * DAY));
    let first = changes.first().expect("changes").key.clone();
    // An assignment open in the store before the walk: the history ends it.
    let restored = crate::store::RecordedAssignments {
        current: vec![crate::store::AssignmentRecord {
            segment: "demo_week".into(),
            subject: first.clone(),
            label: "user-0".into(),
            owner: "zoe".into(),
            pool: None,
            round_robin: false,
            at: T0 - DAY,
        }],
        turns: vec![("sdr-pool".into(), 5)],
    };
    let routers = || {
        let mut router = ActionRouter::new(Vec::new(), vec![pool()]);
        router.restore(restored.clone());
        router
    };
    let before: Vec<AssignmentRow> = {
        let mut table = Vec::new();
        apply_assignments(&mut table, &[WriteOp::Assign(restored.current[0].clone())]);
        table
    };
    let (mut live, mut backfilled) = (routers(), routers());
    let (mut live_ops, mut backfilled_ops) = (Vec::new(), Vec::new());
    live.route_into(&engine, &changes, &mut live_ops);
    backfilled.route_backfilled(&engine, &changes, &mut backfilled_ops);
    let (mut live_table, mut backfilled_table) = (before.clone(), before);
    apply_assignments(&mut live_table, &live_ops);
    apply_assignments(&mut backfilled_table, &backfilled_ops);
    live_table.sort();
    backfilled_table.sort();
    assert_eq!(backfilled_table, live_table);
    let ended = live_table.iter().filter(|row| row.6.is_some()).count();
    assert!(ended > 16 && ended < live_table.len(), "{live_table:?}");
    assert!(live_table.iter().any(|row| row.4), "round robin used");
    for change in &changes {
        assert_eq!(
            backfilled.owners_of(&change.key),
            live.owners_of(&change.key)
        );
    }
    // One row write per assignment: nothing inserted then updated.
    let unassigned = |ops: &[WriteOp]| {
        ops.iter()
            .filter(|op| matches!(op, WriteOp::Unassign { .. }))
            .count()
    };
    assert_eq!(
        unassigned(&backfilled_ops),
        1,
        "only the restored one is ended"
    );
    assert!(unassigned(&live_ops) > 1);
    assert!(!backfilled_ops
        .iter()
        .any(|op| matches!(op, WriteOp::Assign(_) | WriteOp::Outbox(_))));
}
