//! The population: accounts with firmographics and technographics, and
//! their contacts with buying-committee roles. Every draw comes from the
//! seeded generator, in a fixed order, so a seed names one world.

use bellwether_rules::DAY;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

const INDUSTRIES: [&str; 8] = [
    "software",
    "fintech",
    "healthcare",
    "retail",
    "manufacturing",
    "education",
    "media",
    "logistics",
];
const COUNTRIES: [&str; 8] = ["US", "CA", "GB", "DE", "FR", "IN", "BR", "AU"];
const CRMS: [&str; 3] = ["salesforce", "hubspot", "pipedrive"];
const WAREHOUSES: [&str; 3] = ["snowflake", "bigquery", "redshift"];
const FIRST: [&str; 12] = [
    "ana", "ben", "chen", "dara", "eli", "fatima", "gus", "hana", "ivan", "jo", "kofi", "lena",
];
const LAST: [&str; 10] = [
    "smith", "garcia", "kim", "okafor", "novak", "silva", "tanaka", "muller", "roy", "haddad",
];

/// Roles in a buying committee, in the order an account's contacts take them.
pub(super) const ROLES: [&str; 4] = ["champion", "user", "economic_buyer", "it"];

pub(super) struct Account {
    pub(super) group_id: String,
    pub(super) domain: String,
    pub(super) traits: Value,
    /// 0..1: how well the company fits (drives intent and outcomes).
    pub(super) fit: f64,
    /// Buying now: every contact evaluates, in the last two weeks.
    pub(super) in_market: bool,
    /// Gone quiet: no contact did anything in the last 90 days.
    pub(super) cold: bool,
}

impl Account {
    /// The account as a customer who buys firmographics sends it: the
    /// group call names the company (name, domain, tech, its renewal
    /// date) and the enrichment table gives the rest.
    pub(super) fn firmographics_left_to_enrichment(mut self) -> Self {
        if let Some(traits) = self.traits.as_object_mut() {
            // The contract's renewal date is the customer's own CRM data.
            traits.retain(|key, _| {
                matches!(key.as_str(), "name" | "domain" | "tech" | "renewal_date")
            });
        }
        self
    }

    /// The account's office network, `10.x.y.0/24` (none past the 65,536
    /// networks of 10.0.0.0/8).
    pub(super) fn network(&self) -> Option<std::net::Ipv4Addr> {
        let n: u32 = self.group_id.strip_prefix("acct-")?.parse().ok()?;
        (n < 65_536).then(|| std::net::Ipv4Addr::from(0x0A00_0000 + n * 256))
    }

    /// An address in the account's network for contact `index`.
    pub(super) fn address(&self, index: usize) -> Option<String> {
        let host = 1 + (index % 254) as u32;
        self.network()
            .map(|network| std::net::Ipv4Addr::from(u32::from(network) + host).to_string())
    }
}

pub(super) struct Contact {
    pub(super) index: usize,
    pub(super) user_id: String,
    pub(super) anonymous_id: String,
    pub(super) email: String,
    pub(super) role: &'static str,
    pub(super) title: &'static str,
    /// 0..1: how actively this person is evaluating.
    pub(super) intent: f64,
    /// How many messages this contact gets (identify and group included).
    pub(super) budget: usize,
    /// Behavior concentrated in the last two weeks (an in-market account).
    pub(super) recent: bool,
}

/// Three accounts in five are customers with a contract `renewal_date` (an
/// RFC 3339 date-time, midnight UTC) 1 to 365 days after `end`. It is
/// spread by the account's number, not drawn, so adding it left every
/// other draw of a seed as it was.
fn renewal_date(n: usize, end: i64) -> Option<String> {
    let n = i64::try_from(n).ok()?;
    if n % 5 >= 3 {
        return None;
    }
    let days_ahead = (n * 211 + 17) % 365 + 1;
    let midnight = end.div_euclid(DAY) * DAY;
    Some(bellwether_rules::format_time(midnight + days_ahead * DAY))
}

pub(super) fn account(rng: &mut ChaCha8Rng, n: usize, end: i64) -> Account {
    let industry = INDUSTRIES[rng.gen_range(0..INDUSTRIES.len())];
    // Log-uniform company size from 5 to 20,000 people.
    let employees = (5.0f64 * 4000.0f64.powf(rng.gen::<f64>())).round() as u64;
    let country = COUNTRIES[rng.gen_range(0..COUNTRIES.len())];
    let mut tech = vec![CRMS[rng.gen_range(0..CRMS.len())]];
    if rng.gen_bool(0.5) {
        tech.push(WAREHOUSES[rng.gen_range(0..WAREHOUSES.len())]);
    }
    let mut fit = 0.0;
    fit += if (50..=5000).contains(&employees) {
        0.35
    } else {
        0.0
    };
    fit += if ["software", "fintech", "healthcare"].contains(&industry) {
        0.3
    } else {
        0.0
    };
    fit += if tech.contains(&"salesforce") {
        0.2
    } else {
        0.0
    };
    fit += if ["US", "CA", "GB", "DE", "FR"].contains(&country) {
        0.15
    } else {
        0.0
    };
    let revenue_band = match employees {
        0..=49 => "<$5M",
        50..=499 => "$5M-$50M",
        500..=4999 => "$50M-$500M",
        _ => "$500M+",
    };
    let market_roll: f64 = rng.gen();
    let in_market = market_roll < 0.05 + 0.15 * fit;
    let cold = !in_market && market_roll > 0.9;
    let name = format!(
        "{} {}",
        capitalize(LAST[n % LAST.len()]),
        ["Labs", "Systems", "Group", "Health", "Pay"][n % 5]
    );
    let domain = format!("{}-{n}.example.com", LAST[n % LAST.len()]);
    let mut traits = json!({
        "name": name, "domain": domain, "industry": industry, "employees": employees,
        "revenue_band": revenue_band, "country": country, "tech": tech,
    });
    if let (Some(date), Some(object)) = (renewal_date(n, end), traits.as_object_mut()) {
        object.insert("renewal_date".into(), Value::String(date));
    }
    Account {
        group_id: format!("acct-{n}"),
        traits,
        domain,
        fit,
        in_market,
        cold,
    }
}

pub(super) fn contact(
    rng: &mut ChaCha8Rng,
    index: usize,
    slot: usize,
    account: &Account,
) -> Contact {
    let role = ROLES[slot % ROLES.len()];
    let title = match role {
        "champion" => "Marketing Ops Manager",
        "economic_buyer" => "VP Marketing",
        "it" => "IT Director",
        _ => "Marketing Specialist",
    };
    // Intent: mostly low, higher at well-fitting accounts and for champions.
    let base: f64 = rng.gen::<f64>().powf(2.0);
    let lift = if role == "champion" { 0.25 } else { 0.0 };
    let mut intent = (0.6 * base + 0.3 * account.fit * rng.gen::<f64>() + lift).min(1.0);
    if account.in_market {
        intent = intent.max(0.75);
    }
    let first = FIRST[rng.gen_range(0..FIRST.len())];
    let last = LAST[rng.gen_range(0..LAST.len())];
    Contact {
        index,
        user_id: format!("person-{index}"),
        anonymous_id: format!("visitor-{index}"),
        email: format!("{first}.{last}{index}@{}", account.domain),
        role,
        title,
        intent,
        budget: 0,
        recent: account.in_market,
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
