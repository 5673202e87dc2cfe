//! The Segment message parser on arbitrary bytes: it may refuse anything,
//! but never panics, and what it accepts is storable on both stores (no
//! NUL anywhere, ids within their limits).
#![no_main]

use bellwether_server::segment::{parse_message, ParseContext};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let ctx = ParseContext {
        source: "fuzz",
        received_at: 1_700_000_000_000,
        max_future_skew_ms: 24 * 3_600_000,
        ..ParseContext::default()
    };
    match parse_message(value, &ctx, || "generated".to_owned()) {
        Ok(message) => {
            let text = serde_json::to_string(&(
                &message.user_id,
                &message.anonymous_id,
                &message.previous_id,
                &message.group_id,
                &message.event,
                &message.properties,
                &message.traits,
                &message.context,
            ))
            .unwrap_or_default();
            assert!(!text.contains("\\u0000"), "a NUL was accepted: {text}");
            assert!(message.timestamp >= 0);
        }
        Err(error) => assert!(!error.field.contains('\0'), "the field name is printable"),
    }
});
