//! A small, deterministic B2B event set for the first-run demo: accounts with
//! firmographics, contacts with roles, and 60 days of behavior ending now.
//! (`bellwether gen` will bring the large, causally-modelled generator.)

use serde_json::{json, Value};

const DAY_MS: i64 = 86_400_000;

const COMPANIES: &[(&str, &str, u64, &str)] = &[
    ("acme", "Software", 1200, "salesforce"),
    ("globex", "Manufacturing", 5400, "hubspot"),
    ("initech", "Financial Services", 300, "salesforce"),
    ("umbrella", "Healthcare", 8000, "dynamics"),
    ("hooli", "Software", 20000, "salesforce"),
    ("stark", "Energy", 900, "hubspot"),
    ("wayne", "Retail", 3100, "pipedrive"),
    ("tyrell", "Biotech", 150, "hubspot"),
];
const ROLES: &[&str] = &["economic_buyer", "champion", "user", "it", "user"];
const PAGES: &[&str] = &[
    "/",
    "/pricing",
    "/blog/segments-that-convert",
    "/blog/lead-scoring-101",
    "/docs",
    "/integrations",
    "/compare/hubspot",
];
const FEATURES: &[&str] = &[
    "segments", "scores", "webhooks", "reports", "editor", "imports",
];

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

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
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
    let start = now - 60 * DAY_MS;
    let mut user = 0;
    for (company, industry, employees, crm) in COMPANIES {
        let group_time = start + rng.below(5 * DAY_MS as u64) as i64;
        for (seat, role) in ROLES.iter().enumerate() {
            user += 1;
            let user_id = format!("user-{user}");
            let anonymous_id = format!("anon-{user}");
            let signup = start + rng.below(20 * DAY_MS as u64) as i64;
            lines.push(json!({"type": "page", "anonymousId": anonymous_id, "name": "Home",
                "properties": {"path": "/"}, "messageId": format!("{user_id}-first"), "timestamp": iso(signup - DAY_MS)}));
            lines.push(json!({"type": "identify", "userId": user_id, "anonymousId": anonymous_id,
                "traits": {"email": format!("{}.{}@{company}.com", role, seat), "role": role, "name": format!("Person {user}")},
                "messageId": format!("{user_id}-identify"), "timestamp": iso(signup)}));
            lines.push(json!({"type": "group", "userId": user_id, "groupId": company,
                "traits": {"name": company, "industry": industry, "employees": employees, "tech": [crm], "domain": format!("{company}.com")},
                "messageId": format!("{user_id}-group"), "timestamp": iso(group_time.max(signup))}));
            let activity = 5 + rng.below(40);
            for n in 0..activity {
                let at = signup + rng.below((now - signup).max(1) as u64) as i64;
                lines.push(behavior(&mut rng, &user_id, n, at));
            }
        }
    }
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

fn behavior(rng: &mut Rng, user_id: &str, n: u64, at: i64) -> Value {
    let message_id = format!("{user_id}-{n}");
    match rng.below(10) {
        0..=3 => {
            let path = rng.pick(PAGES);
            json!({"type": "page", "userId": user_id, "name": path, "properties": {"path": path},
                   "messageId": message_id, "timestamp": iso(at)})
        }
        4 | 5 => json!({"type": "track", "userId": user_id, "event": "Email Opened",
                        "properties": {"campaign": format!("nurture-{}", rng.below(4))}, "messageId": message_id, "timestamp": iso(at)}),
        6 | 7 => json!({"type": "track", "userId": user_id, "event": "Feature Used",
                        "properties": {"feature": rng.pick(FEATURES)}, "messageId": message_id, "timestamp": iso(at)}),
        8 => {
            json!({"type": "track", "userId": user_id, "event": "Logged In", "messageId": message_id, "timestamp": iso(at)})
        }
        _ => {
            json!({"type": "track", "userId": user_id, "event": "Demo Requested", "messageId": message_id, "timestamp": iso(at)})
        }
    }
}

fn iso(ms: i64) -> String {
    bellwether_server::segment::format_timestamp(ms)
}

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
    fn every_line_is_a_json_object() {
        let data = events_at(1, 1_700_000_000_000);
        let lines: Vec<_> = data
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert!(lines.len() > 100, "{} lines", lines.len());
        for line in lines {
            let value: Value = serde_json::from_slice(line).unwrap();
            assert!(value.is_object());
        }
    }
}
