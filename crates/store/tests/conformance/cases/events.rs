//! Events: storage, deduplication contract, timelines, scans, JSON fidelity.

use std::collections::HashSet;

use bellwether_core::message::{MessageKind, StoredEvent};
use bellwether_core::store::{EventParts, WriteOp};
use serde_json::{json, Value};

use crate::fixtures::{event, event_op, message, new_contact, object, seqs, track};
use crate::harness::Harness;

pub(crate) fn event_round_trips_every_field(h: &dyn Harness) {
    let store = h.open();
    let mut full = message(MessageKind::Alias, "web", "msg-1", 1_700_000_000_000);
    full.user_id = Some("user-1".to_owned());
    full.anonymous_id = Some("anon-1".to_owned());
    full.previous_id = Some("prev-1".to_owned());
    full.group_id = Some("acme".to_owned());
    full.event = Some("Signed Up".to_owned());
    full.properties = object(json!({"plan": "pro", "seats": 3, "tags": ["a", "b"]}));
    full.traits = object(json!({"email": "a@acme.com"}));
    full.context = object(json!({"page": {"path": "/pricing"}, "ip": "10.0.0.1"}));
    full.sent_at = Some(1_700_000_000_100);
    full.original_timestamp = Some(1_699_999_999_000);
    let full = StoredEvent {
        seq: 7,
        contact_id: Some(1),
        message: full,
    };
    let bare = StoredEvent {
        seq: 8,
        contact_id: None,
        message: message(MessageKind::Page, "app", "msg-2", -5),
    };
    store
        .apply(&[new_contact(1, 0), event(full.clone()), event(bare.clone())])
        .unwrap();
    assert_eq!(store.scan_events(0, 10).unwrap(), vec![full.clone(), bare]);
    assert_eq!(store.contact_events(1, 10, None).unwrap(), vec![full]);
    assert_eq!(store.event_count().unwrap(), 2);
}

/// Events stored up to a position, with gaps in the numbering (as
/// deletions leave): what a snapshot's check and tail count.
pub(crate) fn events_through_counts_up_to_a_position_across_gaps(h: &dyn Harness) {
    let store = h.open();
    let ops: Vec<WriteOp> = [1, 2, 5, 9]
        .into_iter()
        .map(|seq| event_op(seq, None, seq * 10))
        .collect();
    store.apply(&ops).unwrap();
    let through: Vec<u64> = [0, 1, 2, 4, 5, 8, 9, 100]
        .into_iter()
        .map(|seq| store.events_through(seq).unwrap())
        .collect();
    assert_eq!(through, vec![0, 1, 2, 2, 3, 3, 4, 4]);
}

pub(crate) fn duplicate_message_id_fails_the_whole_batch(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[new_contact(1, 0), event_op(1, Some(1), 10)])
        .unwrap();

    let mut again = track(3, Some(2), 30);
    again.message.message_id = "m1".to_owned();
    let against_stored = store.apply(&[new_contact(2, 0), event_op(2, Some(2), 20), event(again)]);
    assert!(
        against_stored.is_err(),
        "a stored (source, message_id) is an error"
    );

    let mut twin = track(5, None, 50);
    twin.message.message_id = "m4".to_owned();
    let within_batch = store.apply(&[event_op(4, None, 40), event(twin)]);
    assert!(
        within_batch.is_err(),
        "a repeated (source, message_id) in one batch is an error"
    );

    assert_eq!(
        store.contact(2).unwrap(),
        None,
        "the failed batch left nothing behind"
    );
    assert_eq!(store.event_count().unwrap(), 1);
    assert_eq!(seqs(&store.scan_events(0, 10).unwrap()), vec![1]);

    let mut other_source = track(6, None, 60);
    other_source.message.source = "app".to_owned();
    other_source.message.message_id = "m1".to_owned();
    store.apply(&[event(other_source)]).unwrap();
    assert_eq!(
        store.event_count().unwrap(),
        2,
        "message ids are unique per source only"
    );
}

pub(crate) fn seen_message_ids_is_per_source(h: &dyn Harness) {
    let store = h.open();
    let mut ops: Vec<WriteOp> = (1..=1000).map(|seq| event_op(seq * 2, None, seq)).collect();
    let mut from_app = track(1, None, 1);
    from_app.message.source = "app".to_owned();
    from_app.message.message_id = "only-app".to_owned();
    ops.push(event(from_app));
    store.apply(&ops).unwrap();

    let asked: Vec<String> = (1..=2000).map(|n| format!("m{n}")).collect();
    let asked: Vec<&str> = asked.iter().map(String::as_str).collect();
    let seen = store.seen_message_ids("web", &asked).unwrap();
    let expected: HashSet<String> = (1..=1000).map(|n| format!("m{}", n * 2)).collect();
    assert_eq!(seen, expected);

    assert!(store
        .seen_message_ids("web", &["only-app"])
        .unwrap()
        .is_empty());
    assert_eq!(
        store.seen_message_ids("app", &["only-app", "m2"]).unwrap(),
        HashSet::from(["only-app".to_owned()])
    );
    assert!(store.seen_message_ids("web", &[]).unwrap().is_empty());
    assert!(store
        .seen_message_ids("nobody", &["m2"])
        .unwrap()
        .is_empty());
}

pub(crate) fn contact_events_are_newest_first_with_a_strict_cursor(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[
            new_contact(1, 0),
            new_contact(2, 0),
            event_op(3, Some(1), 200),
            event_op(1, Some(1), 100),
            event_op(4, Some(1), 300),
            event_op(6, Some(2), 250),
            event_op(7, None, 250),
        ])
        .unwrap();
    store
        .apply(&[event_op(2, Some(1), 300), event_op(5, Some(1), 100)])
        .unwrap();

    let all = store.contact_events(1, 100, None).unwrap();
    assert_eq!(
        seqs(&all),
        vec![4, 2, 3, 5, 1],
        "by (timestamp, seq) descending"
    );

    let mut pages = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.contact_events(1, 2, cursor).unwrap();
        let Some(last) = page.last() else { break };
        cursor = Some((last.message.timestamp, last.seq));
        pages.push(seqs(&page));
    }
    assert_eq!(pages, vec![vec![4, 2], vec![3, 5], vec![1]]);

    assert_eq!(
        seqs(&store.contact_events(1, 100, Some((300, 3))).unwrap()),
        vec![2, 3, 5, 1],
        "a cursor need not name a stored event"
    );
    assert_eq!(
        seqs(&store.contact_events(1, 100, Some((300, 4))).unwrap()),
        vec![2, 3, 5, 1]
    );
    assert!(store
        .contact_events(1, 100, Some((100, 1)))
        .unwrap()
        .is_empty());
    assert!(store.contact_events(1, 0, None).unwrap().is_empty());
    assert_eq!(seqs(&store.contact_events(2, 100, None).unwrap()), vec![6]);
    assert!(store.contact_events(99, 100, None).unwrap().is_empty());
}

/// A scan for some parts returns those keys as a whole scan has them, and
/// nothing a whole scan has not; everything else is the same.
pub(crate) fn a_scan_of_some_parts_keeps_those_parts_whole(h: &dyn Harness) {
    let store = h.open();
    let mut page = message(MessageKind::Page, "web", "msg-1", 1_700_000_000_000);
    page.properties = object(json!({"plan": "pro", "big": {"deep": [1, {"x": null}]}, "seats": 3}));
    page.traits = object(json!({"email": "a@acme.com"}));
    page.context =
        object(json!({"page": {"path": "/pricing"}, "ip": "10.0.0.1", "library": {"name": "js"}}));
    store
        .apply(&[
            new_contact(1, 0),
            event(StoredEvent {
                seq: 1,
                contact_id: Some(1),
                message: page,
            }),
        ])
        .unwrap();
    let whole = store.scan_events(0, 10).unwrap();
    let plan = |key: &str| key == "plan";
    let address = |key: &str| key == "ip";
    let parts = EventParts {
        properties: Some(&plan),
        context: Some(&address),
    };
    let some = store.scan_event_parts(0, 10, &parts).unwrap();
    assert_eq!(some.len(), 1);
    let (some, whole) = (&some[0], &whole[0]);
    for (part, full, kept) in [
        (&some.message.properties, &whole.message.properties, "plan"),
        (&some.message.context, &whole.message.context, "ip"),
    ] {
        assert_eq!(part.get(kept), full.get(kept), "{kept} kept whole");
        assert!(part.iter().all(|(key, value)| full.get(key) == Some(value)));
    }
    let mut rest = some.clone();
    rest.message.properties = whole.message.properties.clone();
    rest.message.context = whole.message.context.clone();
    assert_eq!(&rest, whole, "ids, traits, times and the rest are whole");
}

pub(crate) fn scan_events_pages_in_seq_order(h: &dyn Harness) {
    let store = h.open();
    store
        .apply(&[event_op(5, None, 1), event_op(1, None, 9)])
        .unwrap();
    store
        .apply(&[
            event_op(3, None, 5),
            event_op(2, None, 2),
            event_op(4, None, 0),
        ])
        .unwrap();
    assert_eq!(seqs(&store.scan_events(0, 2).unwrap()), vec![1, 2]);
    assert_eq!(seqs(&store.scan_events(2, 2).unwrap()), vec![3, 4]);
    assert_eq!(seqs(&store.scan_events(4, 10).unwrap()), vec![5]);
    assert!(store.scan_events(5, 10).unwrap().is_empty());
    assert!(store.scan_events(0, 0).unwrap().is_empty());
    assert_eq!(
        seqs(&store.scan_events(-100, usize::MAX).unwrap()),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(store.event_count().unwrap(), 5);
}

/// Strings and numbers a JSON store could mangle, and a large document.
fn tricky_json() -> Value {
    let nested = (0..40).fold(
        json!("bottom"),
        |inner, depth| json!({ format!("level{depth}"): [inner] }),
    );
    json!({
        "zeta": "last key first",
        "emoji 🚀": "✅ done — naïve café 日本語 العربية עברית",
        "escapes": "quote \" backslash \\ newline \n tab \t bell \u{7} nbsp \u{a0}",
        "astral": "𝕳𝖊𝖑𝖑𝖔 👩‍👩‍👧‍👦",
        "nul inside json": "a\u{0}b",
        "numbers": [0, -0, 1, -1, 9_007_199_254_740_993_u64, u64::MAX, i64::MIN, 0.1, 1e300, -1.5e-10, 3.0],
        "literals": [true, false, null],
        "empty": {"object": {}, "array": [], "string": ""},
        "nested": nested,
        "big": "x".repeat(1_000_000),
        "many": (0..10_000).collect::<Vec<_>>(),
        "alpha": 1,
    })
}

pub(crate) fn unicode_and_large_json_round_trip_exactly(h: &dyn Harness) {
    let store = h.open();
    let tricky = tricky_json();
    let mut original = track(1, Some(1), 10);
    original.message.message_id = "msg-ünïcødé-🚀".to_owned();
    original.message.event = Some("Größe geändert 📏".to_owned());
    original.message.properties = object(tricky.clone());
    original.message.context =
        object(json!({"library": {"name": "analytics-python", "version": "2.3.2"}}));
    store
        .apply(&[
            new_contact(1, 0),
            event(original.clone()),
            crate::fixtures::contact_traits(
                1,
                json!({"bio": tricky.clone(), "名前": "太郎"}),
                10,
                1,
            ),
        ])
        .unwrap();

    let stored = store.scan_events(0, 1).unwrap();
    assert_eq!(stored, vec![original.clone()]);
    let text = |value: &Value| serde_json::to_string(value).unwrap();
    assert_eq!(
        text(&Value::Object(stored[0].message.properties.clone())),
        text(&tricky),
        "same keys in the same order, same number spelling"
    );
    assert_eq!(
        store
            .seen_message_ids("web", &["msg-ünïcødé-🚀"])
            .unwrap()
            .len(),
        1
    );
    let contact = store.contact(1).unwrap().unwrap();
    assert_eq!(text(&contact.traits["bio"]), text(&tricky));
    assert_eq!(contact.traits.keys().collect::<Vec<_>>(), ["bio", "名前"]);
    assert_eq!(contact.traits["名前"], json!("太郎"));
}

/// Retention: `expired_events` finds the track, page and screen events
/// before the cutoff within a range of sequence numbers (identify and
/// group messages stay), and `ExpireEvents` deletes exactly those.
pub(crate) fn retention_finds_and_deletes_only_old_behavior_events(h: &dyn Harness) {
    use bellwether_core::store::ExpiredEvent;
    let store = h.open();
    let mut identify = track(3, Some(1), 100);
    identify.message.kind = MessageKind::Identify;
    identify.message.event = None;
    let mut page = track(4, Some(2), 150);
    page.message.kind = MessageKind::Page;
    store
        .apply(&[
            new_contact(1, 0),
            new_contact(2, 0),
            event_op(1, Some(1), 100),
            event_op(2, Some(1), 900),
            event(identify),
            event(page),
            event_op(5, None, 120),
            event_op(6, Some(2), 130),
        ])
        .unwrap();
    let found = store.expired_events(500, 1..=5).unwrap();
    let expected = vec![
        ExpiredEvent {
            seq: 1,
            contact: Some(1),
        },
        ExpiredEvent {
            seq: 4,
            contact: Some(2),
        },
        ExpiredEvent {
            seq: 5,
            contact: None,
        },
    ];
    assert_eq!(found, expected, "old behavior events in 1..=5, in order");
    assert_eq!(store.expired_events(500, 6..=6).unwrap().len(), 1);
    assert!(store.expired_events(500, 7..=100).unwrap().is_empty());
    store
        .apply(&[WriteOp::ExpireEvents {
            before: 500,
            events: found,
        }])
        .unwrap();
    assert_eq!(seqs(&store.scan_events(0, 10).unwrap()), vec![2, 3, 6]);
    assert_eq!(store.event_count().unwrap(), 3);
    // A guard: an event not past the cutoff is never deleted.
    store
        .apply(&[WriteOp::ExpireEvents {
            before: 500,
            events: vec![ExpiredEvent {
                seq: 2,
                contact: Some(1),
            }],
        }])
        .unwrap();
    assert_eq!(store.event_count().unwrap(), 3);
}
