//! A small, deterministic B2B event set for the first-run demo: eight
//! accounts with firmographics, five contacts each, and 120 days of behavior
//! ending now. Each contact follows a persona (hot buyer, activating trial,
//! power user, researcher, churning customer, dormant lead) so every example
//! segment has members to look at and explain. (`bellwether gen` will bring
//! the large, causally-modelled generator.)

use serde_json::{json, Value};

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;

/// (group id, industry, employees, CRM, country, persona of its 5 contacts)
type Company = (
    &'static str,
    &'static str,
    u64,
    &'static str,
    &'static str,
    [Persona; 5],
);

const COMPANIES: &[Company] = &[
    (
        "acme",
        "software",
        1200,
        "salesforce",
        "US",
        [
            Persona::Hot,
            Persona::Hot,
            Persona::Hot,
            Persona::Trial,
            Persona::Power,
        ],
    ),
    (
        "globex",
        "manufacturing",
        5400,
        "hubspot",
        "DE",
        [
            Persona::Churning,
            Persona::Churning,
            Persona::Power,
            Persona::Researcher,
            Persona::Trial,
        ],
    ),
    (
        "initech",
        "fintech",
        300,
        "salesforce",
        "GB",
        [
            Persona::Trial,
            Persona::Researcher,
            Persona::Hot,
            Persona::Power,
            Persona::Churning,
        ],
    ),
    (
        "umbrella",
        "healthcare",
        8000,
        "dynamics",
        "US",
        [
            Persona::Researcher,
            Persona::Researcher,
            Persona::Trial,
            Persona::Churning,
            Persona::Hot,
        ],
    ),
    (
        "hooli",
        "software",
        2000,
        "salesforce",
        "US",
        [
            Persona::Power,
            Persona::Power,
            Persona::Trial,
            Persona::Hot,
            Persona::Researcher,
        ],
    ),
    (
        "stark",
        "energy",
        900,
        "hubspot",
        "CA",
        [
            Persona::Churning,
            Persona::Trial,
            Persona::Researcher,
            Persona::Power,
            Persona::Dormant,
        ],
    ),
    (
        "wayne",
        "retail",
        3100,
        "pipedrive",
        "US",
        [
            Persona::Trial,
            Persona::Hot,
            Persona::Dormant,
            Persona::Researcher,
            Persona::Power,
        ],
    ),
    (
        "tyrell",
        "healthcare",
        150,
        "hubspot",
        "US",
        [Persona::Dormant; 5],
    ),
];
const ROLES: &[&str] = &["economic_buyer", "champion", "user", "it", "user"];
const FEATURES: &[&str] = &[
    "campaigns",
    "automations",
    "reports",
    "forms",
    "segments",
    "api",
    "ab-tests",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Persona {
    Hot,
    Trial,
    Power,
    Researcher,
    Churning,
    Dormant,
}

/// Tiny deterministic generator (SplitMix64): same seed, same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: i64) -> i64 {
        (self.next() % n.max(1) as u64) as i64
    }
}

/// Collects one contact's messages.
struct Writer<'a> {
    user: String,
    lines: &'a mut Vec<Value>,
    n: u32,
}

impl Writer<'_> {
    fn push(&mut self, mut message: Value, at: i64) {
        self.n += 1;
        message["messageId"] = json!(format!("{}-{}", self.user, self.n));
        message["timestamp"] = json!(bellwether_server::segment::format_timestamp(at));
        if message.get("anonymousId").is_none() {
            message["userId"] = json!(self.user);
        }
        self.lines.push(message);
    }

    fn track(&mut self, event: &str, properties: Value, at: i64) {
        self.push(
            json!({"type": "track", "event": event, "properties": properties}),
            at,
        );
    }

    fn page(&mut self, path: &str, at: i64) {
        self.push(
            json!({"type": "page", "name": path, "properties": {"path": path}}),
            at,
        );
    }
}

/// NDJSON of the demo data set, ending at the current time.
pub(crate) fn events(seed: u64) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    events_at(seed, now)
}

pub(crate) fn events_at(seed: u64, now: i64) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut lines = Vec::new();
    let mut user = 0;
    for (company, industry, employees, crm, country, personas) in COMPANIES {
        for (seat, persona) in personas.iter().enumerate() {
            user += 1;
            let mut out = Writer {
                user: format!("user-{user}"),
                lines: &mut lines,
                n: 0,
            };
            let start = now - 120 * DAY + rng.below(10 * DAY);
            identity(&mut out, user, company, ROLES[seat], start);
            out.push(
                json!({"type": "group", "groupId": company, "traits": {"name": company, "industry": industry,
                       "employees": employees, "tech": [crm], "country": country, "domain": format!("{company}.com"), "seats": 5}}),
                start + HOUR,
            );
            behave(&mut out, &mut rng, *persona, now);
        }
    }
    // Hooli tripled its seats in the last month: expansion ready.
    lines.push(json!({"type": "group", "userId": "user-21", "groupId": "hooli", "traits": {"seats": 24},
                      "messageId": "hooli-seats", "timestamp": bellwether_server::segment::format_timestamp(now - 20 * DAY)}));
    // Globex's contract renews in 75 days (set a month ago, by its CRM
    // sync): renewal due, by a time-valued trait.
    let renewal = bellwether_server::segment::format_timestamp(now + 75 * DAY);
    lines.push(json!({"type": "group", "userId": "user-6", "groupId": "globex", "traits": {"renewal_date": renewal},
                      "messageId": "globex-renewal", "timestamp": bellwether_server::segment::format_timestamp(now - 30 * DAY)}));
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

fn identity(out: &mut Writer<'_>, user: u32, company: &str, role: &str, at: i64) {
    let anonymous_id = format!("anon-{user}");
    out.push(json!({"type": "page", "anonymousId": anonymous_id, "name": "Home", "properties": {"path": "/"}}), at - DAY);
    out.push(
        json!({"type": "identify", "anonymousId": anonymous_id, "userId": out.user,
               "traits": {"email": format!("{role}.{user}@{company}.com"), "role": role, "name": format!("Person {user}")}}),
        at,
    );
}

fn behave(out: &mut Writer<'_>, rng: &mut Rng, persona: Persona, now: i64) {
    match persona {
        Persona::Hot => {
            for (i, days_ago) in [20, 9, 5, 2].iter().enumerate() {
                let sent = now - days_ago * DAY;
                out.track("Email Sent", json!({"email_id": format!("e{i}")}), sent);
                out.track(
                    "Email Opened",
                    json!({"email_id": format!("e{i}")}),
                    sent + 2 * HOUR,
                );
            }
            out.page("/pricing", now - 3 * DAY);
            out.page("/pricing", now - DAY - rng.below(DAY));
            out.page("/compare/hubspot", now - DAY);
            out.track(
                "Demo Requested",
                json!({}),
                now - 12 * HOUR - rng.below(12 * HOUR),
            );
        }
        Persona::Trial => {
            let signup = now - 10 * DAY - rng.below(10 * DAY);
            out.track("Signed Up", json!({"plan": "trial"}), signup);
            out.track("Campaign Created", json!({}), signup + 20 * HOUR);
            out.track("Teammate Invited", json!({}), signup + DAY);
            out.track("Teammate Invited", json!({}), signup + 3 * DAY);
            for (i, feature) in ["campaigns", "automations", "reports", "campaigns"]
                .iter()
                .enumerate()
            {
                out.track(
                    "Feature Used",
                    json!({"feature": feature}),
                    signup + (i as i64 + 1) * DAY,
                );
            }
        }
        Persona::Power => {
            for day in 0..28 {
                let at = now - day * DAY - rng.below(8 * HOUR);
                out.track("Logged In", json!({}), at);
                out.track(
                    "Feature Used",
                    json!({"feature": FEATURES[(day as usize) % FEATURES.len()]}),
                    at + HOUR,
                );
            }
            out.track("Plan Upgraded", json!({"plan": "pro"}), now - 40 * DAY);
        }
        Persona::Researcher => {
            for (i, post) in [
                "segments-that-convert",
                "lead-scoring-101",
                "intent-data",
                "rfm-for-b2b",
                "buying-committees",
            ]
            .iter()
            .enumerate()
            {
                out.page(&format!("/blog/{post}"), now - (30 - 5 * i as i64) * DAY);
            }
            out.track(
                "Quiz Answered",
                json!({"question": "main_benefit", "benefit": "compliance"}),
                now - 6 * DAY,
            );
        }
        Persona::Churning => {
            for week in 0..8 {
                out.track(
                    "Logged In",
                    json!({}),
                    now - 59 * DAY + week * 3 * DAY + rng.below(HOUR),
                );
            }
            out.track("Logged In", json!({}), now - 12 * DAY);
        }
        Persona::Dormant => {
            out.page("/", now - 100 * DAY - rng.below(10 * DAY));
        }
    }
}

#[cfg(test)]
mod scenario_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_data() {
        assert_eq!(
            events_at(3, 1_700_000_000_000),
            events_at(3, 1_700_000_000_000)
        );
        assert_ne!(
            events_at(3, 1_700_000_000_000),
            events_at(4, 1_700_000_000_000)
        );
    }

    #[test]
    fn every_line_is_a_json_object_with_a_unique_message_id() {
        let data = events_at(1, 1_700_000_000_000);
        let lines: Vec<_> = data
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert!(lines.len() > 500, "{} lines", lines.len());
        let mut ids = std::collections::HashSet::new();
        for line in lines {
            let value: Value = serde_json::from_slice(line).unwrap();
            assert!(ids.insert(value["messageId"].as_str().unwrap().to_owned()));
        }
    }
}
