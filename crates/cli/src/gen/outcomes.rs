//! Outcomes, caused by behavior: deals won or lost, upgrades, seat growth.
//! These numbers are the causal model `docs/gen.md` documents.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::behavior::{Signals, Sink, Window, DAY};
use super::outreach::{Entry, DEAL_WITHIN, OUTREACH_UPLIFT};
use super::world::{Account, Contact};

/// The causal model: the chance of a won deal rises with pricing views, a
/// demo request and company fit; trials with core-feature use upgrade.
fn deal_probability(pricing_views: u32, demo: bool, fit: f64) -> f64 {
    let score =
        -3.0 + 0.6 * f64::from(pricing_views.min(5)) + if demo { 1.8 } else { 0.0 } + 1.5 * fit;
    1.0 / (1.0 + (-score).exp())
}

/// What a deal with an account is worth: larger for better-fitting
/// companies, spread by the account (not by the random stream, so adding
/// amounts changed no other draw), rounded to hundreds.
fn deal_amount(account: &Account) -> f64 {
    // FNV-1a: stable across runs and Rust versions.
    let hash = account
        .group_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let spread = 0.6 + 0.8 * (hash % 1_000) as f64 / 1_000.0;
    ((5_000.0 + 45_000.0 * account.fit) * spread / 100.0).round() * 100.0
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
    // First, so the deal of an entrant who also upgrades always fits.
    if let Some(entry) = signals.entered {
        outreach_deal(rng, user, entry, signals, account, sink)?;
    }
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
    let buyer = matches!(contact.role, "champion" | "economic_buyer");
    if engaged && buyer && signals.entered.is_none() {
        let won = rng.gen_bool(deal_probability(
            signals.pricing_views,
            signals.demo,
            account.fit,
        ));
        let event = if won { "Deal Won" } else { "Deal Lost" };
        let amount = deal_amount(account);
        sink.send(
            json!({"type": "track", "userId": user, "event": event, "properties": {"amount": amount}}),
            late,
        )?;
    }
    Ok(())
}

/// The deal an entrant of the outreach segment is in: decided within
/// [`DEAL_WITHIN`] of entering, whatever the contact's role (the SDR calls
/// whoever is hot), won with the usual chance capped at 1 − uplift, plus
/// [`OUTREACH_UPLIFT`] when the outreach reached it. The cap keeps the
/// uplift exact for everyone; held-out entrants get the base chance.
fn outreach_deal(
    rng: &mut ChaCha8Rng,
    user: &str,
    entry: Entry,
    signals: &Signals,
    account: &Account,
    sink: &mut Sink<'_>,
) -> std::io::Result<()> {
    let base = deal_probability(signals.pricing_views, signals.demo, account.fit)
        .min(1.0 - OUTREACH_UPLIFT);
    let chance = base + if entry.treated { OUTREACH_UPLIFT } else { 0.0 };
    // One draw either way: treated and held-out entrants differ only in
    // the chance, never in what else the stream holds.
    let won = rng.gen::<f64>() < chance;
    // Strictly after the entry (the report counts outcomes after it).
    let at = entry.at + rng.gen_range(60_000..DEAL_WITHIN);
    let event = if won { "Deal Won" } else { "Deal Lost" };
    let amount = deal_amount(account);
    sink.send(
        json!({"type": "track", "userId": user, "event": event, "properties": {"amount": amount}}),
        at,
    )
    .map(drop)
}
