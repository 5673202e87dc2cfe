//! Forgetting a deleted contact: no trace left in memory, no exit recorded
//! for it, its account re-evaluated at once, a purge handed to the recorder.

use super::*;
use crate::store::ContactDeletion;

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
    let ann = ops
        .iter()
        .find_map(|op| match op {
            WriteOp::Event(e) if e.message.user_id.as_deref() == Some("ann") => e.contact_id,
            _ => None,
        })
        .expect("ann's contact");
    let deletion = WriteOp::DeleteContact(ContactDeletion {
        id: "del_1".into(),
        at: T0 + 20,
        actor: "test".into(),
        contacts: vec![ann],
        suppress: Vec::new(),
    });
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
