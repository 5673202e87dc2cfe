//! One contact's messages: identity calls, then behavior drawn from its
//! persona and intent, then the outcome that behavior causes. The causal
//! model is documented in `docs/gen.md`; the numbers below are it.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use super::outcomes::outcome;
use super::outreach::{as_event, Entry, Outreach};
use super::world::{Account, Contact};

pub(super) const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
const FEATURES: [&str; 7] = [
    "campaigns",
    "automations",
    "reports",
    "segments",
    "forms",
    "integrations",
    "api",
];
const BENEFITS: [&str; 4] = ["compliance", "speed", "cost", "integrations"];
const BLOG: [&str; 6] = [
    "/blog/lead-scoring-101",
    "/blog/intent-data",
    "/blog/abm-playbook",
    "/blog/churn-signals",
    "/blog/revops-stack",
    "/blog/case-study-acme",
];
const OTHER_PAGES: [&str; 5] = [
    "/",
    "/docs/getting-started",
    "/integrations/salesforce",
    "/compare/hubspot",
    "/customers",
];

/// Most messages an outcome takes (a deal, an upgrade, the plan, two seat
/// counts).
const OUTCOME_MESSAGES: usize = 5;

/// How a contact behaves over the window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Persona {
    /// Reads the blog, rarely more.
    Researcher,
    /// Looks at pricing and comparisons, may ask for a demo.
    Evaluator,
    /// Signs up for a trial and uses the product.
    Trialist,
    /// Uses the product daily in the last month.
    PowerUser,
    /// Used the product, then stopped logging in.
    Churning,
    /// Active long ago, silent for the last 90 days.
    Dormant,
}

impl Persona {
    pub(super) fn draw(rng: &mut ChaCha8Rng, contact: &Contact, account: &Account) -> Self {
        let intent = contact.intent;
        let roll: f64 = rng.gen();
        if account.cold {
            return Persona::Dormant;
        }
        if account.in_market {
            return Persona::Evaluator;
        }
        match roll {
            r if r < 0.10 => Persona::Dormant,
            r if r < 0.18 => Persona::Churning,
            r if r < 0.26 => Persona::PowerUser,
            r if r < 0.26 + 0.25 * intent + 0.1 => Persona::Evaluator,
            r if r < 0.70 => Persona::Trialist,
            _ => Persona::Researcher,
        }
    }

    /// Relative share of the event budget.
    pub(super) fn weight(self) -> f64 {
        match self {
            Persona::PowerUser => 4.0,
            Persona::Churning => 2.0,
            Persona::Trialist => 1.5,
            Persona::Evaluator => 1.0,
            Persona::Researcher => 0.8,
            Persona::Dormant => 0.5,
        }
    }
}

/// Where a contact's messages go, stamped and counted.
pub(super) struct Sink<'a> {
    pub(super) emit: &'a mut dyn FnMut(Value) -> std::io::Result<()>,
    pub(super) remaining: usize,
    pub(super) next_id: u64,
    pub(super) prefix: String,
    /// No message is stamped after this instant.
    pub(super) end: i64,
    /// The contact's address, put in page views' `context.ip` (`--tables`).
    pub(super) ip: Option<String>,
    /// The behavior sent so far, as the rules see it: whether the contact
    /// entered the outreach segment is decided over it.
    pub(super) events: Vec<bellwether_rules::Event>,
}

impl Sink<'_> {
    pub(super) fn send(&mut self, mut message: Value, at: i64) -> std::io::Result<bool> {
        if self.remaining == 0 {
            return Ok(false);
        }
        self.remaining -= 1;
        self.next_id += 1;
        message["messageId"] = json!(format!("{}-{}", self.prefix, self.next_id));
        let at = at.min(self.end);
        message["timestamp"] = json!(bellwether_server::segment::format_timestamp(at));
        if let Some(event) = as_event(&message, at, self.next_id) {
            self.events.push(event);
        }
        (self.emit)(message)?;
        Ok(true)
    }
}

/// What the contact did that drives its outcome.
#[derive(Default)]
pub(super) struct Signals {
    pub(super) pricing_views: u32,
    pub(super) demo: bool,
    pub(super) core_features: u32,
    /// The first entry into the outreach segment, if any.
    pub(super) entered: Option<Entry>,
}

pub(super) struct Window {
    pub(super) start: i64,
    pub(super) end: i64,
}

pub(super) fn contact_messages(
    rng: &mut ChaCha8Rng,
    contact: &Contact,
    persona: Persona,
    (account, outreach): (&Account, &Outreach),
    window: &Window,
    sink: &mut Sink<'_>,
) -> std::io::Result<()> {
    let drawn = window.start + rng.gen_range(0..(window.end - window.start) / 3);
    let (from, to) = match contact.recent {
        true => ((window.end - 14 * DAY).max(window.start), window.end),
        false => active_range(persona, window),
    };
    // An in-market account's people show up when it comes to market: known
    // earlier, they would be silent leads whose sudden deals no score
    // could have seen coming.
    let first_seen = if contact.recent { from } else { drawn };
    let (user, anon) = (&contact.user_id, &contact.anonymous_id);
    sink.send(json!({"type": "group", "userId": user, "groupId": account.group_id, "traits": account.traits}), first_seen)?;
    sink.send(
        json!({"type": "identify", "userId": user, "anonymousId": anon, "traits": {
        "email": contact.email, "title": contact.title, "role": contact.role}}),
        first_seen + 1,
    )?;
    let mut signals = Signals::default();
    let mut signup = None;
    if matches!(
        persona,
        Persona::Trialist | Persona::PowerUser | Persona::Churning
    ) {
        let at = from.min(to - DAY);
        signup = Some(at);
        sink.send(
            json!({"type": "track", "userId": user, "event": "Signed Up"}),
            at,
        )?;
        sink.send(
            json!({"type": "identify", "userId": user, "traits": {"plan": "trial", "seats": 1}}),
            at + 1,
        )?;
        onboarding(rng, user, at, sink)?;
    }
    let mut week = 0;
    let mut behave = |rng: &mut ChaCha8Rng, signals: &mut Signals, sink: &mut Sink<'_>| {
        let at = rng.gen_range(from..to);
        let roll: f64 = rng.gen();
        match persona {
            Persona::PowerUser | Persona::Churning | Persona::Trialist if roll < 0.65 => {
                product_event(rng, user, persona, window, at, signals, sink)
            }
            _ if roll < 0.80 => {
                page_view(rng, user, anon, persona, contact.intent, at, signals, sink)
            }
            _ if roll < 0.95 => {
                week += 1;
                email(rng, user, contact.intent, week, at, sink)
            }
            _ => other(rng, user, contact.intent, at, signals, sink),
        }
    };
    // Keep room for the outcome; what it leaves unused is spent after.
    while sink.remaining > OUTCOME_MESSAGES {
        behave(rng, &mut signals, sink)?;
    }
    // The few filler messages sent after the outcome are not looked at: a
    // contact they would bring in earlier is rare and gets no deal from it.
    signals.entered = outreach.entry(contact.index, &sink.events);
    outcome(rng, contact, account, signup, &signals, (window, to), sink)?;
    let mut after = Signals::default();
    while sink.remaining > 0 {
        behave(rng, &mut after, sink)?;
    }
    Ok(())
}

/// The span a persona's behavior falls in.
fn active_range(persona: Persona, window: &Window) -> (i64, i64) {
    match persona {
        Persona::Dormant => (
            window.start,
            (window.end - 91 * DAY).max(window.start + DAY),
        ),
        Persona::PowerUser => ((window.end - 30 * DAY).max(window.start), window.end),
        Persona::Churning => ((window.end - 60 * DAY).max(window.start), window.end),
        _ => (window.start, window.end),
    }
}

/// Fast activators create a campaign within 48 h and invite teammates.
fn onboarding(
    rng: &mut ChaCha8Rng,
    user: &str,
    signup: i64,
    sink: &mut Sink<'_>,
) -> std::io::Result<()> {
    if rng.gen_bool(0.4) {
        sink.send(
            json!({"type": "track", "userId": user, "event": "Campaign Created"}),
            signup + rng.gen_range(1..47 * HOUR),
        )?;
    }
    if rng.gen_bool(0.3) {
        for _ in 0..rng.gen_range(2..4) {
            sink.send(
                json!({"type": "track", "userId": user, "event": "Teammate Invited"}),
                signup + rng.gen_range(1..6 * DAY),
            )?;
        }
    }
    Ok(())
}

fn product_event(
    rng: &mut ChaCha8Rng,
    user: &str,
    persona: Persona,
    window: &Window,
    at: i64,
    signals: &mut Signals,
    sink: &mut Sink<'_>,
) -> std::io::Result<()> {
    // A churning user's activity fades: most of it 60 to 30 days ago.
    let at = if persona == Persona::Churning && rng.gen_bool(0.85) {
        window.end - 60 * DAY + rng.gen_range(0..30 * DAY)
    } else {
        at
    };
    if rng.gen_bool(0.4) {
        return sink
            .send(
                json!({"type": "track", "userId": user, "event": "Logged In"}),
                at,
            )
            .map(drop);
    }
    let feature = FEATURES[rng.gen_range(0..FEATURES.len())];
    if ["campaigns", "automations", "reports"].contains(&feature) {
        signals.core_features += 1;
    }
    sink.send(json!({"type": "track", "userId": user, "event": "Feature Used", "properties": {"feature": feature}}), at)
        .map(drop)
}

#[allow(clippy::too_many_arguments)]
fn page_view(
    rng: &mut ChaCha8Rng,
    user: &str,
    anon: &str,
    persona: Persona,
    intent: f64,
    at: i64,
    signals: &mut Signals,
    sink: &mut Sink<'_>,
) -> std::io::Result<()> {
    let pricing_share = match persona {
        Persona::Evaluator => 0.25 + 0.35 * intent,
        _ => 0.05 + 0.1 * intent,
    };
    let path = if rng.gen_bool(pricing_share.min(0.9)) {
        signals.pricing_views += 1;
        "/pricing"
    } else if persona == Persona::Researcher || rng.gen_bool(0.4) {
        BLOG[rng.gen_range(0..BLOG.len())]
    } else {
        OTHER_PAGES[rng.gen_range(0..OTHER_PAGES.len())]
    };
    // Some views happen before sign-in: only the anonymous id is known.
    let who = if rng.gen_bool(0.2) {
        json!({"anonymousId": anon})
    } else {
        json!({"userId": user})
    };
    let mut message = json!({"type": "page", "properties": {"path": path, "url": format!("https://bellwether.example{path}")},
        "context": {"page": {"path": path}}});
    merge(&mut message, who);
    if let Some(ip) = &sink.ip {
        message["context"]["ip"] = json!(ip);
    }
    sink.send(message, at).map(drop)
}

/// An anonymous visitor from the account's office (`--tables`): reads the
/// blog and pricing pages and never identifies; its address reveals the
/// account.
pub(super) fn visitor_messages(
    rng: &mut ChaCha8Rng,
    contact: &Contact,
    window: &Window,
    sink: &mut Sink<'_>,
) -> std::io::Result<()> {
    while sink.remaining > 0 {
        let at = rng.gen_range(window.start..window.end);
        let path = if rng.gen_bool(0.2) {
            "/pricing"
        } else {
            BLOG[rng.gen_range(0..BLOG.len())]
        };
        let mut message = json!({"type": "page", "anonymousId": contact.anonymous_id,
            "properties": {"path": path, "url": format!("https://bellwether.example{path}")},
            "context": {"page": {"path": path}}});
        if let Some(ip) = &sink.ip {
            message["context"]["ip"] = json!(ip);
        }
        sink.send(message, at)?;
    }
    Ok(())
}

fn email(
    rng: &mut ChaCha8Rng,
    user: &str,
    intent: f64,
    week: u32,
    at: i64,
    sink: &mut Sink<'_>,
) -> std::io::Result<()> {
    let email_id = format!("e-{week}");
    sink.send(json!({"type": "track", "userId": user, "event": "Email Sent", "properties": {"email_id": email_id}}), at)?;
    if rng.gen_bool(0.2 + 0.7 * intent) {
        let opened = at + rng.gen_range(1..2 * DAY);
        sink.send(json!({"type": "track", "userId": user, "event": "Email Opened", "properties": {"email_id": email_id}}), opened)?;
        if rng.gen_bool(0.3) {
            sink.send(json!({"type": "track", "userId": user, "event": "Email Clicked", "properties": {"email_id": email_id}}), opened + 60_000)?;
        }
    }
    Ok(())
}

fn other(
    rng: &mut ChaCha8Rng,
    user: &str,
    intent: f64,
    at: i64,
    signals: &mut Signals,
    sink: &mut Sink<'_>,
) -> std::io::Result<()> {
    if !signals.demo && rng.gen_bool((intent * intent).min(0.9)) {
        signals.demo = true;
        return sink
            .send(
                json!({"type": "track", "userId": user, "event": "Demo Requested"}),
                at,
            )
            .map(drop);
    }
    let benefit = BENEFITS[rng.gen_range(0..BENEFITS.len())];
    sink.send(json!({"type": "track", "userId": user, "event": "Quiz Answered", "properties": {"benefit": benefit}}), at)
        .map(drop)
}

fn merge(target: &mut Value, extra: Value) {
    if let (Value::Object(target), Value::Object(extra)) = (target, extra) {
        target.extend(extra);
    }
}
