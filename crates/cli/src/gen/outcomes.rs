//! Outcomes, caused by behavior: deals won or lost, upgrades, seat growth.
//! These numbers are the causal model `docs/gen.md` documents.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::behavior::{Signals, Sink, Window, DAY};
use super::world::{Account, Contact};

/// The causal model: the chance of a won deal rises with pricing views, a
/// demo request and company fit; trials with core-feature use upgrade.
fn deal_probability(pricing_views: u32, demo: bool, fit: f64) -> f64 {
    let score =
        -3.0 + 0.6 * f64::from(pricing_views.min(5)) + if demo { 1.8 } else { 0.0 } + 1.5 * fit;
    1.0 / (1.0 + (-score).exp())
}

pub(super) fn outcome(
    rng: &mut ChaCha8Rng,
    contact: &Contact,
    account: &Account,
    signup: Option<i64>,
    signals: &Signals,
    (window, active_to): (&Window, i64),
    sink: &mut Sink<'_>,
) -> std::io::Result<()> {
    let user = &contact.user_id;
    // Outcomes fall inside the contact's own active span (a dormant
    // contact's deal closed long ago).
    let late = (active_to - rng.gen_range(0..10 * DAY)).max(window.start);
    if let Some(signup) = signup {
        if signals.core_features >= 3 && rng.gen_bool(0.5) {
            let at = (signup + 14 * DAY).min(late);
            sink.send(
                json!({"type": "track", "userId": user, "event": "Plan Upgraded"}),
                at,
            )?;
            let seats = rng.gen_range(3..12);
            sink.send(
                json!({"type": "identify", "userId": user, "traits": {"plan": "pro"}}),
                at + 1,
            )?;
            let group = &account.group_id;
            sink.send(json!({"type": "group", "userId": user, "groupId": group, "traits": {"plan": "pro", "seats": seats}}), at + 2)?;
            // Some customers grow fast: three to four times the seats lately.
            if rng.gen_bool(0.35) {
                let grown = seats * rng.gen_range(3..5);
                let at = window.end - rng.gen_range(1..30 * DAY);
                sink.send(json!({"type": "group", "userId": user, "groupId": group, "traits": {"seats": grown}}), at)?;
            }
            return Ok(());
        }
    }
    let engaged = signals.pricing_views >= 1 || signals.demo;
    if engaged && matches!(contact.role, "champion" | "economic_buyer") {
        let won = rng.gen_bool(deal_probability(
            signals.pricing_views,
            signals.demo,
            account.fit,
        ));
        let event = if won { "Deal Won" } else { "Deal Lost" };
        sink.send(
            json!({"type": "track", "userId": user, "event": event}),
            late,
        )?;
    }
    Ok(())
}
