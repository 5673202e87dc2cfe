//! Evaluates the 12 example segments and 3 scores for a contact with 1,000
//! events (and its account) at one instant.
//!
//! `cargo bench -p bellwether-rules --bench eval`

use std::hint::black_box;

use bellwether_rules::{
    DefKind, Event, MemorySubject, RuleSet, SubjectKind, Timeline, Traits, DAY,
};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;

const BASE: i64 = 1_704_067_200_000;

fn events() -> Vec<Event> {
    let names = [
        "Logged In",
        "Feature Used",
        "Email Sent",
        "Email Opened",
        "Campaign Created",
        "Teammate Invited",
    ];
    let features = [
        "campaigns",
        "automations",
        "reports",
        "forms",
        "segments",
        "ab-tests",
        "api",
    ];
    let mut events = vec![Event::track(BASE, 0, "Signed Up", json!({}))];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for seq in 1..1_000u64 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let time = BASE + (seq as i64) * (180 * DAY / 1_000) + (state % 3_600_000) as i64;
        let event = match state % 10 {
            0..=2 => {
                let path = ["/pricing", "/blog/a", "/blog/b", "/docs"][(state >> 8) as usize % 4];
                Event::page(time, seq, "", json!({ "path": path }))
            }
            3 => Event::track(
                time,
                seq,
                "Feature Used",
                json!({ "feature": features[(state >> 8) as usize % features.len()] }),
            ),
            4 | 5 => Event::track(
                time,
                seq,
                names[(state >> 8) as usize % names.len()],
                json!({ "email_id": seq / 2 }),
            ),
            _ => Event::track(time, seq, "Logged In", json!({})),
        };
        events.push(event);
    }
    events
}

fn subjects() -> MemorySubject {
    let mut traits = Traits::new();
    traits.set("plan", BASE, json!("trial"));
    let mut firmographics = Traits::new();
    for (key, value) in [
        ("employees", json!(300)),
        ("industry", json!("software")),
        ("tech", json!(["salesforce"])),
        ("seats", json!(12)),
    ] {
        firmographics.set(key, BASE, value);
    }
    let timeline = Timeline::from_events(events());
    let contact = MemorySubject {
        id: "c1".into(),
        kind: SubjectKind::Contact,
        timeline: timeline.clone(),
        traits,
        account_traits: Some(firmographics.clone()),
        ..MemorySubject::default()
    };
    MemorySubject {
        id: "a1".into(),
        kind: SubjectKind::Account,
        timeline,
        traits: firmographics,
        contacts: vec![contact],
        ..MemorySubject::default()
    }
}

/// Every definition for one subject, in dependency order, like the engine.
fn evaluate(rules: &RuleSet, subject: &mut MemorySubject, now: i64) -> usize {
    let mut members = 0;
    for def in rules.order().iter().filter(|d| d.subject == subject.kind) {
        match def.kind {
            DefKind::Score => {
                if let Some(value) = rules.evaluate_score(&def.name, subject, now) {
                    subject.scores.insert(def.name.to_string(), value);
                }
            }
            DefKind::Segment => {
                members += usize::from(
                    rules
                        .evaluate_segment(&def.name, subject, now)
                        .is_some_and(|e| e.value),
                )
            }
            DefKind::Tier => {
                members += usize::from(
                    rules
                        .evaluate_tier(&def.name, subject, now)
                        .is_some_and(|e| e.value.is_some()),
                )
            }
        }
    }
    members
}

fn bench(c: &mut Criterion) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/b2b.toml"
    ))
    .unwrap_or_default();
    let Ok(rules) = RuleSet::from_toml("b2b.toml", &text) else {
        return;
    };
    let mut account = subjects();
    let now = BASE + 181 * DAY;
    c.bench_function("13 segments + 3 scores + 2 tiers, 1000 events", |b| {
        b.iter(|| {
            let mut total = 0;
            for contact in &mut account.contacts {
                total += evaluate(&rules, contact, black_box(now));
            }
            total + evaluate(&rules, &mut account, black_box(now))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
