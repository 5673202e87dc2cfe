//! Forgetting a deleted contact: no trace left in memory, no exit recorded
//! for it, its account re-evaluated at once, a purge handed to the recorder.

use super::*;
use crate::message::ContactId;
use crate::store::ContactDeletion;

/// The deletion of `contact` at `at`.
fn deletion_of(id: &str, at: i64, contact: ContactId) -> WriteOp {
    WriteOp::DeleteContact(ContactDeletion {
        id: id.into(),
        at,
        actor: "test".into(),
        contacts: vec![contact],
        suppress: Vec::new(),
    })
}

#[test]
fn a_deleted_contact_leaves_without_a_trace_and_its_account_is_re_evaluated() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let mut group = message(MessageKind::Group, Some("ann"), None, "", T0);
    group.group_id = Some("acme".into());
    let ops = feed.ops(&[
        group,
        track("ann", "Pricing Viewed", T0 + 1),
        track("ann", "Pricing Viewed", T0 + 2),
        track("bob", "Pricing Viewed", T0 + 3),
    ]);
    let entered = engine.apply(&ops, T0 + 10);
    assert_eq!(
        changes_of(&entered, "active_account"),
        [("entered", T0 + 10)]
    );
    let ann = contact_of(&ops, "ann");
    let deletion = deletion_of("del_1", T0 + 20, ann);
    let changes = engine.apply(&[deletion], T0 + 20);
    assert!(
        changes.iter().all(|c| c.id != "ann"),
        "no exit recorded for the deleted contact: {changes:?}"
    );
    assert_eq!(
        changes_of(&changes, "active_account"),
        [("exited", T0 + 20)]
    );
    assert!(engine.recent_changes(100).iter().all(|c| c.id != "ann"));
    assert!(engine.contact_values(ann).is_none());
    assert!(engine
        .segment_members("pricing_twice", None, 10)
        .iter()
        .all(|m| m.id != "ann"));
    assert!(engine.take_score_changes().iter().all(|s| s.label != "ann"));
    assert_eq!(
        engine.take_purges(),
        [WriteOp::PurgeContactRecords {
            deletion: "del_1".into(),
            contacts: vec![ann],
        }]
    );
    // Nothing of ann is due later: no timer fires for it.
    assert!(engine
        .process_due(T0 + 100 * DAY)
        .iter()
        .all(|c| c.id != "ann"));
}

/// An `identify` of `user` with a trait key and value nobody else sends,
/// then page views with a property nobody else sent, `n` of them.
fn visits(user: &str, n: usize, from: i64) -> Vec<Message> {
    let mut identify = message(MessageKind::Identify, Some(user), None, "", from - 1);
    identify.traits = json!({format!("{user}_nickname"): format!("{user}-the-great")})
        .as_object()
        .cloned()
        .unwrap_or_default();
    std::iter::once(identify)
        .chain((0..n).map(|i| {
            let mut visit = track(user, "Pricing Viewed", from + i as i64);
            visit.properties = json!({"visit": format!("{user}-{i}")})
                .as_object()
                .cloned()
                .unwrap_or_default();
            visit
        }))
        .collect()
}

/// The properties a deleted contact's events held and its trait keys and
/// values are interned once, in memory beside its timeline: they leave
/// with it, and the tables hold what an engine that never saw the contact
/// holds.
#[test]
fn a_deleted_contacts_properties_leave_the_interned_tables() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let mut bob_alone = Engine::new(rules());
    let mut bob_feed = Feed::new();
    bob_alone.apply(&bob_feed.ops(&visits("bob", 3, T0)), T0 + 10);
    let ops = feed.ops(&[visits("bob", 3, T0), visits("ann", 50, T0)].concat());
    engine.apply(&ops, T0 + 100);
    let ann = contact_of(&ops, "ann");
    let (objects, _, keys) = engine.view.state.interned();
    let (bob_objects, _, bob_keys) = bob_alone.view.state.interned();
    assert_eq!(
        (objects, keys),
        (bob_objects + 50 + 1, bob_keys + 1),
        "ann's properties and her trait's key and value"
    );
    let deletion = deletion_of("del_2", T0 + 200, ann);
    engine.apply(&[deletion], T0 + 200);
    assert_eq!(
        engine.view.state.interned(),
        bob_alone.view.state.interned()
    );
}

/// Events retention expired leave the interned tables too.
#[test]
fn expired_events_leave_the_interned_tables() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let ops = feed.ops(&[visits("ann", 40, T0), visits("ann", 5, T0 + DAY)].concat());
    engine.apply(&ops, T0 + DAY + 10);
    let mut recent = Engine::new(rules());
    recent.apply(&Feed::new().ops(&visits("ann", 5, T0 + DAY)), T0 + DAY + 10);
    engine.apply(
        &[WriteOp::ExpireEvents {
            before: T0 + DAY,
            events: Vec::new(),
        }],
        T0 + DAY + 20,
    );
    assert_eq!(engine.view.state.interned(), recent.view.state.interned());
}

/// A published view still holding a deleted contact's events keeps their
/// parts interned; once the view is gone, the next sweep for growth (the
/// tables doubled) lets them go, and nothing a live event holds is lost.
#[test]
fn parts_a_view_held_leave_at_the_next_sweep_for_growth() {
    let mut engine = Engine::new(rules());
    let mut feed = Feed::new();
    let ops = feed.ops(&visits("ann", 50, T0));
    engine.apply(&ops, T0 + 100);
    let ann = contact_of(&ops, "ann");
    let view = engine.view();
    let deletion = deletion_of("del_3", T0 + 200, ann);
    engine.apply(&[deletion], T0 + 200);
    let (objects, _, _) = engine.view.state.interned();
    assert!(objects > 50, "the view still holds ann's events");
    drop(view);

    let bob = visits("bob", 6_000, T0 + 1_000);
    engine.apply(&feed.ops(&bob), T0 + 10_000);
    let mut bob_alone = Engine::new(rules());
    bob_alone.apply(&Feed::new().ops(&bob), T0 + 10_000);
    assert_eq!(
        engine.view.state.interned(),
        bob_alone.view.state.interned(),
        "ann's parts were swept once the tables doubled"
    );
    let events: usize = engine
        .view
        .state
        .contacts
        .iter()
        .map(|(_, contact)| contact.timeline.len())
        .sum();
    assert_eq!(events, 6_000);
    let values = |engine: &Engine| -> Vec<(String, Values)> {
        engine
            .evaluate_values(T0 + 10_000)
            .into_iter()
            .map(|subject| (subject.id, subject.values))
            .collect()
    };
    assert!(values(&engine) == values(&bob_alone));
}
