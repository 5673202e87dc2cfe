//! The engine against real identity resolution, with an injected clock:
//! time-driven transitions at their exact instant, and the live state equal
//! to a from-scratch evaluation (SPEC 6.1–6.3).

use std::sync::Arc;

use bellwether_rules::{DefKind, RuleSet, SubjectKind, DAY, HOUR};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::*;
use crate::identity::{IdentityConfig, IdentityGraph};
use crate::message::{Message, MessageKind};

const T0: i64 = 1_700_000_000_000;

const RULES: &str = r#"
[[score]]
name = "intent"
subject = "contact"
half_life = "14d"
rules = [ { on = '"Demo Requested"', points = 10 } ]

[[segment]]
name = "pricing_twice"
subject = "contact"
when = 'count("Pricing Viewed", last 7d) >= 2'

[[segment]]
name = "dormant"
subject = "contact"
when = 'days_since(any) >= 21'

[[segment]]
name = "warm"
subject = "contact"
when = 'score("intent") >= 5'

[[segment]]
name = "active_account"
subject = "account"
when = 'count(contacts where in_segment("pricing_twice")) >= 1'

[[segment]]
name = "trial_ending"
subject = "contact"
when = 'days_until(trait.trial_ends) between 0 and 3 or days_since(trait.trial_ends) > 5.5 or days_until(account.renewal_date) between 0 and 1'

[[segment]]
name = "renewal_due"
subject = "account"
when = 'days_until(trait.renewal_date) < 2 and days_until(account.renewal_date) > -1.25'

[[tier]]
name = "intent_level"
subject = "contact"
levels = [ { name = "high", when = 'score("intent") >= 15' }, { name = "low", when = 'true' } ]
"#;

fn rules() -> Arc<RuleSet> {
    Arc::new(RuleSet::from_toml("test.toml", RULES).expect("valid rules"))
}

/// Turns messages into the writes the ingest writer would commit.
struct Feed {
    graph: IdentityGraph,
    seq: i64,
}

impl Feed {
    fn new() -> Self {
        Self {
            graph: IdentityGraph::new(IdentityConfig::default()),
            seq: 0,
        }
    }

    /// The writer's own staging: identity, the event, and the traits an
    /// `identify` or `group` call sets.
    fn ops(&mut self, messages: &[Message]) -> Vec<WriteOp> {
        let mut ops = Vec::new();
        for message in messages {
            self.seq += 1;
            crate::ingest::stage_message(&mut self.graph, message.clone(), self.seq, &mut ops);
        }
        ops
    }
}

fn message(
    kind: MessageKind,
    user: Option<&str>,
    anon: Option<&str>,
    event: &str,
    at: i64,
) -> Message {
    Message {
        source: "web".into(),
        message_id: format!("{user:?}-{anon:?}-{event}-{at}"),
        kind,
        user_id: user.map(str::to_owned),
        anonymous_id: anon.map(str::to_owned),
        previous_id: None,
        group_id: None,
        event: Some(event.to_owned()),
        properties: Map::new(),
        traits: Map::new(),
        context: Map::new(),
        timestamp: at,
        received_at: at,
        sent_at: None,
        original_timestamp: None,
    }
}

fn track(user: &str, event: &str, at: i64) -> Message {
    message(MessageKind::Track, Some(user), None, event, at)
}

fn changes_of<'c>(changes: &'c [Change], definition: &str) -> Vec<(&'c str, i64)> {
    changes
        .iter()
        .filter(|c| c.definition == definition)
        .map(|c| (c.change.as_str(), c.at))
        .collect()
}

#[test]
fn window_expiry_exits_at_the_exact_instant() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let ops = feed.ops(&[
        track("u", "Pricing Viewed", T0),
        track("u", "Pricing Viewed", T0 + HOUR),
    ]);
    let entered = engine.apply(&ops, T0 + HOUR);
    assert_eq!(
        changes_of(&entered, "pricing_twice"),
        [("entered", T0 + HOUR)]
    );
    assert_eq!(changes_of(&entered, "active_account"), []);
    // `last 7d` covers (T − 7d, T]: the first event leaves it at T0 + 7d.
    assert!(engine
        .process_due(T0 + 7 * DAY - 1)
        .iter()
        .all(|c| c.definition != "pricing_twice"));
    let exited = engine.process_due(T0 + 8 * DAY);
    assert_eq!(
        changes_of(&exited, "pricing_twice"),
        [("exited", T0 + 7 * DAY)]
    );
}

/// SPEC §7 "Language": a time-valued trait's crossings are timers at their
/// exact instants, including after the trait changes; a contact follows
/// its account's date too.
#[test]
fn a_time_valued_trait_enters_and_exits_by_timers_at_its_exact_instants() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let renewal = T0 + 10 * DAY + 123;
    let mut group = message(MessageKind::Group, Some("u"), None, "", T0);
    group.group_id = Some("acme".into());
    group.traits = time_trait("renewal_date", renewal);
    let first = engine.apply(&feed.ops(&[group]), T0);
    assert_eq!(changes_of(&first, "renewal_due"), []);
    // `days_until(trait.renewal_date) < 2`: from 2 days before, exactly.
    let enters = renewal - 2 * DAY + 1;
    assert_eq!(
        changes_of(&engine.process_due(enters - 1), "renewal_due"),
        []
    );
    assert_eq!(
        changes_of(&engine.process_due(T0 + 9 * DAY), "renewal_due"),
        [("entered", enters)]
    );
    // The contact: `days_until(account.renewal_date) between 0 and 1`.
    let contact_enters = renewal - DAY;
    let both = engine.process_due(renewal + 2 * DAY);
    assert_eq!(
        changes_of(&both, "trial_ending"),
        [("entered", contact_enters), ("exited", renewal + 1)]
    );
    // `> -1.25`: leaves 1.25 days after the renewal date, processed late.
    assert_eq!(
        changes_of(&both, "renewal_due"),
        [("exited", renewal + 30 * HOUR)]
    );
    // The renewal moves a month ahead: the new date decides, from its message.
    let mut moved = message(MessageKind::Group, Some("u"), None, "", T0 + 20 * DAY);
    moved.group_id = Some("acme".into());
    moved.traits = time_trait("renewal_date", renewal + 30 * DAY);
    engine.apply(&feed.ops(&[moved]), T0 + 20 * DAY);
    let later = engine.process_due(renewal + 60 * DAY);
    assert_eq!(
        changes_of(&later, "renewal_due"),
        [
            ("entered", renewal + 28 * DAY + 1),
            ("exited", renewal + 30 * DAY + 30 * HOUR)
        ]
    );
    assert_eq!(
        engine.live_memberships(),
        engine.evaluate_all(renewal + 60 * DAY)
    );
}

#[test]
fn inactivity_enters_at_the_exact_instant_even_when_processed_late() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let ops = feed.ops(&[track("u", "Logged In", T0)]);
    engine.apply(&ops, T0);
    assert_eq!(engine.next_deadline(), Some(T0 + 21 * DAY));
    let changes = engine.process_due(T0 + 30 * DAY);
    assert_eq!(
        changes_of(&changes, "dormant"),
        [("entered", T0 + 21 * DAY)]
    );
    // A new event ends dormancy at once.
    let ops = feed.ops(&[track("u", "Logged In", T0 + 31 * DAY)]);
    assert_eq!(
        changes_of(&engine.apply(&ops, T0 + 31 * DAY), "dormant"),
        [("exited", T0 + 31 * DAY)]
    );
}

#[test]
fn decaying_score_crosses_its_threshold_at_the_exact_instant() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let ops = feed.ops(&[
        track("u", "Demo Requested", T0),
        track("u", "Demo Requested", T0),
    ]);
    let changes = engine.apply(&ops, T0);
    assert_eq!(changes_of(&changes, "warm"), [("entered", T0)]);
    assert!(changes
        .iter()
        .any(|c| c.definition == "intent_level" && c.level.as_deref() == Some("high")));
    // 20 points, half-life 14d: below 15 after log2(20/15)·14d, below 5 after 28d.
    let changes = engine.process_due(T0 + 60 * DAY);
    let warm = changes_of(&changes, "warm");
    assert_eq!(warm.len(), 1);
    let exit = warm[0].1;
    assert!(
        (T0 + 28 * DAY..=T0 + 28 * DAY + 1).contains(&exit),
        "exit at {}",
        exit - T0
    );
    let level_change = changes
        .iter()
        .find(|c| c.definition == "intent_level" && c.change.as_str() == "exited")
        .unwrap();
    let expected = T0 + ((20f64 / 15.0).log2() * 14.0 * DAY as f64) as i64;
    assert!(
        (level_change.at - expected).abs() <= 1,
        "tier changed at +{} ms, expected +{}",
        level_change.at - T0,
        expected - T0
    );
}

#[test]
fn a_merge_ends_the_absorbed_contacts_memberships() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let anon = message(MessageKind::Track, None, Some("a1"), "Demo Requested", T0);
    let ops = feed.ops(&[anon.clone(), track("u", "Logged In", T0)]);
    engine.apply(&ops, T0);
    let identify = message(MessageKind::Identify, Some("u"), Some("a1"), "", T0 + 1);
    let changes = engine.apply(&feed.ops(&[identify]), T0 + 1);
    assert!(
        changes.contains(&Change {
            at: T0 + 1,
            subject: SubjectKind::Contact,
            id: "a1".into(),
            change: Transition::Exited,
            definition_kind: DefKind::Segment,
            definition: "warm".into(),
            level: None,
            key: SubjectKey::Contact(1),
        }),
        "{changes:?}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c.id == "u" && c.definition == "warm" && c.change.as_str() == "entered"),
        "{changes:?}"
    );
    assert_eq!(engine.live_memberships(), engine.evaluate_all(T0 + 1));
}

#[test]
fn accounts_see_their_contacts() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let mut group = message(MessageKind::Group, Some("u"), None, "", T0);
    group.group_id = Some("acme".into());
    group.traits = json!({"name": "Acme"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let ops = feed.ops(&[
        group,
        track("u", "Pricing Viewed", T0),
        track("u", "Pricing Viewed", T0 + 1),
    ]);
    let changes = engine.apply(&ops, T0 + 1);
    assert!(changes.iter().any(|c| c.subject == SubjectKind::Account
        && c.id == "acme"
        && c.definition == "active_account"));
    assert_eq!(
        engine.segment_members("active_account", None, 10)[0].id,
        "acme"
    );
}

/// `{key: "<RFC 3339 instant>"}`, for `days_until` / `days_since`.
fn time_trait(key: &str, at: i64) -> Map<String, Value> {
    let mut traits = Map::new();
    traits.insert(key.to_owned(), json!(bellwether_rules::format_time(at)));
    traits
}

fn arb_message() -> impl Strategy<Value = (u8, u8, u8, i64)> {
    // (user, event kind, anon-or-user, offset in hours)
    (0u8..4, 0u8..5, 0u8..3, 0i64..(40 * 24))
}

fn to_message((user, kind, who, hours): (u8, u8, u8, i64)) -> Message {
    let at = T0 + hours * HOUR;
    let user_id = format!("u{user}");
    let anon_id = format!("a{user}");
    match (kind, who) {
        // Users sign in on each other's browsers (shared anonymous ids):
        // anonymous events are re-homed as later and earlier claims arrive.
        // Each identify moves the user's trial end (a time-valued trait).
        (0, _) => {
            let mut identify = message(
                MessageKind::Identify,
                Some(&user_id),
                Some(&format!("a{}", (user + who) % 4)),
                "",
                at,
            );
            let ends = at + i64::from(user + who) * DAY + 7 * HOUR + 1;
            identify.traits = time_trait("trial_ends", ends);
            identify
        }
        (1, 0) => message(
            MessageKind::Track,
            None,
            Some(&anon_id),
            "Pricing Viewed",
            at,
        ),
        (1, _) => track(&user_id, "Pricing Viewed", at),
        (2, _) => track(&user_id, "Demo Requested", at),
        (3, _) => {
            let mut group = message(MessageKind::Group, Some(&user_id), None, "", at);
            group.group_id = Some(format!("g{}", user % 2));
            group.traits = time_trait("renewal_date", at + (hours % 5) * DAY - HOUR);
            group
        }
        _ => track(&user_id, "Logged In", at),
    }
}

/// The contact `user`'s stored events went to.
fn contact_of(ops: &[WriteOp], user: &str) -> crate::message::ContactId {
    ops.iter()
        .find_map(|op| match op {
            WriteOp::Event(e) if e.message.user_id.as_deref() == Some(user) => e.contact_id,
            _ => None,
        })
        .expect("the user's contact")
}

/// Applies `messages` in arrival order, `batch` per commit, dropping a
/// repeated message id like the writer, and firing the timers due up to
/// each batch's newest instant first; `check` runs after each batch.
/// Returns the last instant.
fn apply_in_batches(
    engine: &mut Engine,
    messages: &[Message],
    batch: usize,
    mut check: impl FnMut(&Engine, i64) -> Result<(), TestCaseError>,
) -> Result<i64, TestCaseError> {
    let mut feed = Feed::new();
    let mut seen = std::collections::HashSet::new();
    let mut now = T0;
    for chunk in messages.chunks(batch) {
        let fresh: Vec<Message> = chunk
            .iter()
            .filter(|m| seen.insert(m.message_id.clone()))
            .cloned()
            .collect();
        now = now.max(fresh.iter().map(|m| m.timestamp).max().unwrap_or(now));
        engine.process_due(now);
        engine.apply(&feed.ops(&fresh), now);
        check(engine, now)?;
    }
    Ok(now)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// SPEC 6.1/6.2: whatever the arrival order and batching, and with
    /// duplicates dropped like the writer does, the live memberships after
    /// firing timers up to T equal a from-scratch evaluation at T.
    #[test]
    fn live_state_equals_full_evaluation(
        raw in proptest::collection::vec(arb_message(), 1..40),
        batch in 1usize..8,
        extra_hours in 0i64..(60 * 24),
    ) {
        let messages: Vec<Message> = raw.into_iter().map(to_message).collect();
        let mut engine = Engine::new(rules());
        let now = apply_in_batches(&mut engine, &messages, batch, |_, _| Ok(()))?;
        let at = now + extra_hours * HOUR;
        engine.process_due(at);
        prop_assert_eq!(engine.live_memberships(), engine.evaluate_all(at));
        // The state itself (where re-homed events landed) equals one built
        // from the same messages in time order, in one batch.
        let mut sorted: Vec<Message> = messages.clone();
        sorted.sort_by_key(|m| m.timestamp);
        let mut seen = std::collections::HashSet::new();
        sorted.retain(|m| seen.insert(m.message_id.clone()));
        let mut reference = Engine::new(rules());
        reference.apply(&Feed::new().ops(&sorted), at);
        prop_assert_eq!(engine.live_memberships(), reference.evaluate_all(at));
    }
}

/// History arriving behind a live event (an import behind live traffic,
/// an offline queue) is taken into the contact's tracker in place: no pass
/// over the whole history per late batch, and the result stays exact.
#[test]
fn late_history_does_not_restart_the_tracker() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let live = T0 + 30 * DAY;
    engine.apply(&feed.ops(&[track("u1", "Logged In", live)]), live);
    let now = live + HOUR;
    for batch in 0..3 {
        let late: Vec<Message> = (0..5)
            .map(|i| {
                let at = live - (batch * 5 + i + 1) * DAY + i * HOUR;
                let event = ["Pricing Viewed", "Demo Requested"][(i % 2) as usize];
                track("u1", event, at)
            })
            .collect();
        engine.apply(&feed.ops(&late), now);
    }
    let contact = engine.state.contacts.keys().copied().next();
    let tracker = contact.and_then(|id| engine.trackers.get(&SubjectKey::Contact(id)));
    assert_eq!(
        tracker.map(|t| t.starts()),
        Some(1),
        "started once, never over"
    );
    assert_eq!(engine.live_memberships(), engine.evaluate_all(now));
    let later = now + 10 * DAY;
    engine.process_due(later);
    assert_eq!(engine.live_memberships(), engine.evaluate_all(later));
}

/// Retention: events deleted from the store are forgotten by the engine in
/// the same commit, and what depended on them changes at that instant.
#[test]
fn expired_events_are_forgotten_at_the_commit_that_deleted_them() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let now = T0 + 2 * DAY;
    let messages = [
        track("u1", "Demo Requested", T0),
        track("u1", "Logged In", T0 + DAY),
    ];
    engine.apply(&feed.ops(&messages), now);
    assert_eq!(changes_of(&engine.take_changes(), "warm"), vec![]);
    let warm = |engine: &Engine| {
        engine
            .live_memberships()
            .iter()
            .filter(|m| m.segment == "warm")
            .count()
    };
    assert_eq!(warm(&engine), 1, "10 points, decayed two days");
    let contact = engine.state.contacts.keys().copied().next();
    let expire = WriteOp::ExpireEvents {
        before: T0 + 1,
        events: vec![crate::store::ExpiredEvent { seq: 1, contact }],
    };
    let changes = engine.apply(&[expire], now);
    assert_eq!(changes_of(&changes, "warm"), vec![("exited", now)]);
    let timeline = contact
        .and_then(|id| engine.state.contacts.get(&id))
        .map(|c| c.timeline.len());
    assert_eq!(
        timeline,
        Some(1),
        "the deleted event is gone from the timeline"
    );
    assert_eq!(warm(&engine), 0);
    assert_eq!(engine.live_memberships(), engine.evaluate_all(now));
}

#[test]
fn json_explanations_are_available() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    engine.apply(&feed.ops(&[track("u", "Pricing Viewed", T0)]), T0);
    let explanation = engine.explain_contact(1, "pricing_twice", T0).unwrap();
    let text = explanation.render();
    assert!(text.contains("Pricing Viewed"), "{text}");
}

#[test]
fn replacing_definitions_reevaluates_and_ends_dropped_segments() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    engine.apply(
        &feed.ops(&[
            track("u", "Pricing Viewed", T0),
            track("u", "Pricing Viewed", T0 + 1),
        ]),
        T0 + 1,
    );
    let stricter = RULES
        .replace(
            "count(\"Pricing Viewed\", last 7d) >= 2",
            "count(\"Pricing Viewed\", last 7d) >= 3",
        )
        .replace("name = \"dormant\"", "name = \"sleeping\"");
    let new_rules = Arc::new(RuleSet::from_toml("new.toml", &stricter).unwrap());
    let preview = engine.evaluate_all_with(&new_rules, T0 + 2);
    assert!(
        !preview.iter().any(|m| m.segment == "pricing_twice"),
        "{preview:?}"
    );
    assert!(
        engine
            .live_memberships()
            .iter()
            .any(|m| m.segment == "pricing_twice"),
        "a preview changes nothing"
    );
    let changes = engine.replace_rules(new_rules, T0 + 2);
    assert_eq!(changes_of(&changes, "pricing_twice"), [("exited", T0 + 2)]);
    assert_eq!(engine.live_memberships(), engine.evaluate_all(T0 + 2));
    assert!(engine
        .segment_sizes()
        .iter()
        .all(|(name, _)| name != "dormant"));
}

#[test]
fn an_entry_fired_by_a_timer_schedules_its_own_exit() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    // Stored before its instant: it counts only once that instant arrives.
    let ops = feed.ops(&[
        track("u", "Pricing Viewed", T0 + HOUR),
        track("u", "Pricing Viewed", T0 + 2 * HOUR),
    ]);
    assert!(changes_of(&engine.apply(&ops, T0), "pricing_twice").is_empty());
    let entered = engine.process_due(T0 + 3 * HOUR);
    assert_eq!(
        changes_of(&entered, "pricing_twice"),
        [("entered", T0 + 2 * HOUR)]
    );
    let exited = engine.process_due(T0 + 30 * DAY);
    assert_eq!(
        changes_of(&exited, "pricing_twice"),
        [("exited", T0 + 7 * DAY + HOUR)]
    );
}

#[test]
fn short_windows_exit_after_a_timer_entry() {
    let definitions = "[[segment]]\nname = \"just_clicked\"\nsubject = \"contact\"\nwhen = 'count(\"Clicked\", last 5s) >= 1'\n";
    let mut engine = Engine::new(Arc::new(RuleSet::from_toml("t.toml", definitions).unwrap()));
    let mut feed = Feed::new();
    engine.apply(&feed.ops(&[track("u", "Clicked", T0 + 300)]), T0);
    let mut all = Vec::new();
    for step in 0..200 {
        all.extend(engine.process_due(T0 + step * 50));
    }
    assert_eq!(
        changes_of(&all, "just_clicked"),
        [("entered", T0 + 300), ("exited", T0 + 5_300)]
    );
}

#[test]
fn changes_are_handed_over_even_after_the_recent_list_is_full() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    // Two changes per contact (a segment and a tier): more than the recent list keeps.
    let users: Vec<String> = (0..(RECENT_CHANGES / 2 + 10))
        .map(|i| format!("u{i}"))
        .collect();
    let messages: Vec<Message> = users
        .iter()
        .flat_map(|u| {
            [
                track(u, "Pricing Viewed", T0),
                track(u, "Pricing Viewed", T0 + 1),
            ]
        })
        .collect();
    let first = engine.apply(&feed.ops(&messages), T0 + 1);
    assert_eq!(first.len(), users.len() * 2);
    let next = engine.apply(
        &feed.ops(&[
            track("late", "Pricing Viewed", T0 + 2),
            track("late", "Pricing Viewed", T0 + 3),
        ]),
        T0 + 3,
    );
    assert_eq!(changes_of(&next, "pricing_twice"), [("entered", T0 + 3)]);
    assert!(
        engine.take_changes().is_empty(),
        "each change is handed over once"
    );
}

mod accounts;
mod backfill;
mod browse;
mod directory;
mod dirty;
mod dry_run;
mod forget;
mod personalize;
mod replace;
mod replay;
mod restart;
mod routing;
mod scores;
mod views;

/// SPEC §7: a late claim on a shared browser moves the anonymous events of
/// its period to the new holder; both contacts are re-evaluated exactly.
#[test]
fn a_late_claim_on_a_shared_browser_moves_events_and_memberships() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let pricing = |hours: i64| {
        message(
            MessageKind::Track,
            None,
            Some("shared"),
            "Pricing Viewed",
            T0 + hours * HOUR,
        )
    };
    let alice = message(MessageKind::Identify, Some("alice"), Some("shared"), "", T0);
    let first = feed.ops(&[alice, pricing(2), pricing(3)]);
    let changes = engine.apply(&first, T0 + 3 * HOUR);
    assert!(changes.iter().any(|c| c.id == "alice"
        && c.definition == "pricing_twice"
        && c.change.as_str() == "entered"));
    let bob = message(
        MessageKind::Identify,
        Some("bob"),
        Some("shared"),
        "",
        T0 + HOUR,
    );
    let changes = engine.apply(&feed.ops(&[bob]), T0 + 4 * HOUR);
    let moved: Vec<(&str, &str)> = changes
        .iter()
        .filter(|c| c.definition == "pricing_twice")
        .map(|c| (&*c.id, c.change.as_str()))
        .collect();
    assert_eq!(moved, [("alice", "exited"), ("bob", "entered")]);
    assert_eq!(
        engine.live_memberships(),
        engine.evaluate_all(T0 + 4 * HOUR)
    );
}

/// A trait value many subjects repeat is held once: every record points at
/// one copy (identify calls repeat firmographics and plans all the time).
#[test]
fn repeated_trait_values_are_held_once() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let identify = |user: &str, at| {
        let mut m = message(MessageKind::Identify, Some(user), None, "", at);
        m.traits = json!({"plan": "enterprise"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        m
    };
    engine.apply(
        &feed.ops(&[
            identify("ann", T0),
            identify("bob", T0 + 1),
            identify("ann", T0 + 2),
        ]),
        T0 + 10,
    );
    let plans: Vec<&Value> = engine
        .view
        .state
        .contacts
        .iter()
        .flat_map(|(_, contact)| contact.traits.history("plan").map(|(_, value)| value))
        .collect();
    assert_eq!(plans.len(), 3);
    assert!(plans.iter().all(|plan| std::ptr::eq(*plan, plans[0])));
}

/// SDKs send a page's fields twice, in the properties and in
/// `context.page`. Rules fall back to the context only for a field the
/// properties lack, so only those fields of it are kept: an event with a
/// new path or URL holds it once.
#[test]
fn a_page_field_the_properties_hold_is_not_kept_again_from_the_context() {
    let rules = RuleSet::from_toml(
        "pages.toml",
        r#"
[[segment]]
name = "read_pricing"
subject = "contact"
when = 'count(page where path starts_with "/pricing" and title = "Pricing") >= 2'
"#,
    )
    .expect("valid rules");
    let mut engine = Engine::new(Arc::new(rules));
    let mut feed = Feed::new();
    let page = |path: &str, at| {
        let mut m = message(MessageKind::Page, Some("ann"), None, "", at);
        m.properties = json!({"path": path, "url": format!("https://x.example{path}")})
            .as_object()
            .cloned()
            .unwrap_or_default();
        m.context = json!({"page": {"path": path, "title": "Pricing", "url": "https://x.example"}})
            .as_object()
            .cloned()
            .unwrap_or_default();
        m
    };
    let changes = engine.apply(
        &feed.ops(&[page("/pricing?a", T0), page("/pricing?b", T0 + 1)]),
        T0 + 10,
    );
    assert_eq!(changes_of(&changes, "read_pricing"), [("entered", T0 + 10)]);
    let contact = engine.view.state.contacts.iter().next().map(|(_, c)| c);
    let events: Vec<(Value, Option<Value>)> = contact
        .map(|c| {
            c.timeline
                .iter()
                .map(|e| {
                    (
                        (**e.properties()).clone(),
                        e.context().map(|c| (**c).clone()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        events,
        [
            (
                json!({"path": "/pricing?a", "url": "https://x.example/pricing?a"}),
                Some(json!({"page": {"title": "Pricing"}}))
            ),
            (
                json!({"path": "/pricing?b", "url": "https://x.example/pricing?b"}),
                Some(json!({"page": {"title": "Pricing"}}))
            ),
        ],
        "the path and URL are in the properties"
    );
    let (objects, shapes, _) = engine.view.state.interned();
    assert_eq!((objects, shapes), (3, 2), "two paths and one context");
}
