use serde_json::json;

use super::*;

const RECEIVED: Millis = 1_700_000_000_000;

fn ctx() -> ParseContext<'static> {
    ParseContext {
        source: "web",
        received_at: RECEIVED,
        max_future_skew_ms: 24 * 3_600_000,
        ..ParseContext::default()
    }
}

fn parse(value: Value) -> Result<Message, MessageError> {
    parse_message(value, &ctx(), || "generated".to_owned())
}

fn field_of(value: Value) -> String {
    parse(value).expect_err("should be rejected").field
}

#[test]
fn track_with_both_ids_parses() {
    let message = parse(json!({
        "type": "track", "event": "Demo Requested", "userId": "u1",
        "anonymousId": "a1", "messageId": "m1", "properties": {"plan": "pro"}
    }))
    .unwrap();
    assert_eq!(message.kind, MessageKind::Track);
    assert_eq!(message.event.as_deref(), Some("Demo Requested"));
    assert_eq!(message.user_id.as_deref(), Some("u1"));
    assert_eq!(message.message_id, "m1");
    assert_eq!(message.properties["plan"], "pro");
    assert_eq!(message.timestamp, RECEIVED, "no client time: received time");
}

#[test]
fn null_user_id_counts_as_absent() {
    let message = parse(json!({"type": "page", "userId": null, "anonymousId": "a1"})).unwrap();
    assert_eq!(message.user_id, None);
    assert_eq!(message.anonymous_id.as_deref(), Some("a1"));
}

#[test]
fn numeric_ids_become_strings() {
    let message = parse(json!({"type": "identify", "userId": 42})).unwrap();
    assert_eq!(message.user_id.as_deref(), Some("42"));
}

#[test]
fn missing_message_id_is_generated() {
    let message = parse(json!({"type": "identify", "userId": "u"})).unwrap();
    assert_eq!(message.message_id, "generated");
}

#[test]
fn rejections_name_the_field() {
    let cases = [
        (json!({"type": "track", "event": "X"}), "userId"),
        (json!({"type": "track", "userId": "u"}), "event"),
        (
            json!({"type": "track", "userId": "u", "event": ""}),
            "event",
        ),
        (json!({"type": "launch", "userId": "u"}), "type"),
        (json!({"userId": "u"}), "type"),
        (
            json!({"type": "track", "userId": "u", "event": "X", "properties": [1]}),
            "properties",
        ),
        (
            json!({"type": "identify", "userId": "u", "traits": "x"}),
            "traits",
        ),
        (json!({"type": "group", "userId": "u"}), "groupId"),
        (json!({"type": "alias", "userId": "u"}), "previousId"),
        (json!({"type": "alias", "previousId": "p"}), "userId"),
        (json!({"type": "identify", "userId": {"a": 1}}), "userId"),
        (
            json!({"type": "identify", "userId": "nul\u{0}byte"}),
            "userId",
        ),
        (
            json!({"type": "track", "userId": "u", "event": "X\u{0}"}),
            "event",
        ),
        (
            json!({"type": "identify", "userId": "u", "timestamp": "soon"}),
            "timestamp",
        ),
        (
            json!({"type": "identify", "userId": "u", "timestamp": "2999-01-01T00:00:00Z"}),
            "timestamp",
        ),
    ];
    for (input, field) in cases {
        assert_eq!(field_of(input.clone()), field, "for {input}");
    }
}

#[test]
fn non_object_message_is_rejected() {
    assert_eq!(field_of(json!([1, 2])), "");
}

#[test]
fn endpoint_kind_wins_over_body_type() {
    let context = ParseContext {
        endpoint_kind: Some(MessageKind::Identify),
        ..ctx()
    };
    let message = parse_message(
        json!({"type": "track", "userId": "u"}),
        &context,
        String::new,
    )
    .unwrap();
    assert_eq!(message.kind, MessageKind::Identify);
}

#[test]
fn sent_at_corrects_client_clock_skew() {
    // The client's clock runs 10 minutes fast: it stamped the event 5 s
    // before sending, so the event happened 5 s before we received it.
    let message = parse(json!({
        "type": "track", "userId": "u", "event": "X",
        "timestamp": "2023-11-14T22:28:15.000Z",
        "sentAt": "2023-11-14T22:28:20.000Z"
    }))
    .unwrap();
    assert_eq!(message.timestamp, RECEIVED - 5_000);
    assert_eq!(message.received_at, RECEIVED);
}

#[test]
fn historical_import_without_sent_at_keeps_its_time() {
    let message = parse(
        json!({"type": "track", "userId": "u", "event": "X", "timestamp": "2020-01-01T00:00:00Z"}),
    )
    .unwrap();
    assert_eq!(message.timestamp, 1_577_836_800_000);
}

#[test]
fn batch_context_fills_gaps_without_overriding() {
    let batch_context = json!({"library": {"name": "batch"}, "ip": "1.2.3.4"});
    let Value::Object(batch_context) = batch_context else {
        unreachable!()
    };
    let context = ParseContext {
        batch_context: Some(&batch_context),
        ..ctx()
    };
    let message = parse_message(
        json!({"type": "identify", "userId": "u", "context": {"library": {"name": "own"}}}),
        &context,
        String::new,
    )
    .unwrap();
    assert_eq!(message.context["library"]["name"], "own");
    assert_eq!(message.context["ip"], "1.2.3.4");
}

#[test]
fn deep_nesting_is_rejected() {
    let mut nested = json!(1);
    for _ in 0..40 {
        nested = json!({ "a": nested });
    }
    let error = parse(json!({"type": "track", "userId": "u", "event": "X", "properties": nested}))
        .unwrap_err();
    assert_eq!(error.field, "properties");
    assert!(error.reason.contains("deeper than"), "{error}");
}

#[test]
fn too_many_keys_are_rejected() {
    let many: Map<String, Value> = (0..10_000).map(|i| (format!("k{i}"), json!(i))).collect();
    let error = parse(json!({"type": "track", "userId": "u", "event": "X", "properties": many}))
        .unwrap_err();
    assert_eq!(error.field, "properties");
}

#[test]
fn nul_characters_are_rejected_wherever_they_are_with_the_path() {
    let cases = [
        (
            json!({"type": "identify", "userId": "u", "traits": {"k\u{0}": "v"}}),
            "traits.k\\u0000",
        ),
        (
            json!({"type": "identify", "userId": "u", "traits": {"email": "a\u{0}@b.c"}}),
            "traits.email",
        ),
        (
            json!({"type": "group", "userId": "u", "groupId": "g", "traits": {"plan\u{0}": 1}}),
            "traits.plan\\u0000",
        ),
        (
            json!({"type": "track", "userId": "u", "event": "X", "properties": {"list": [1, {"a": "\u{0}"}]}}),
            "properties.list[1].a",
        ),
        (
            json!({"type": "track", "userId": "u", "event": "X", "context": {"ip": "1.2.3.4\u{0}"}}),
            "context.ip",
        ),
        (
            json!({"type": "track", "userId": "u", "event": "X", "k\u{0}": 1}),
            "k\\u0000",
        ),
        (
            json!({"type": "identify", "userId": "nul\u{0}byte"}),
            "userId",
        ),
    ];
    for (input, field) in cases {
        let error = parse(input.clone()).expect_err("should be rejected");
        assert_eq!(error.field, field, "for {input}");
        assert!(error.reason.contains("NUL"), "{error}");
        assert!(!error.field.contains('\0'), "the field name is printable");
    }
}

#[test]
fn batch_level_objects_are_checked_too() {
    let Value::Object(context) = json!({"library": {"name": "x\u{0}"}}) else {
        unreachable!()
    };
    let error = check_envelope_object("context", &context).unwrap_err();
    assert_eq!(error.field, "context.library.name");
}
