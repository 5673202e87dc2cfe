//! `[[destination]]` and `[[pool]]`: where changes are sent and who owns
//! the subjects a segment routes. Parsed with the rest of the config file;
//! checked here, so a bad URL or secret stops the server at start with a
//! message naming the table and the key.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::{ConfigError, Secret};

/// How a delivery's body is shaped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PayloadFormat {
    /// The full JSON change, subject, owner and explanation.
    #[default]
    Standard,
    /// `{"text": "…"}`: what Slack incoming webhooks (and look-alikes) take.
    Slack,
}

/// A score threshold a destination watches: it receives a change each time
/// the score goes from below to at-or-above `threshold`, or back.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdConfig {
    pub score: String,
    pub threshold: f64,
}

/// A `[[destination]]`: an HTTP endpoint signed per Standard Webhooks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationConfig {
    pub name: String,
    pub url: String,
    /// `whsec_…` (base64 after the prefix).
    #[serde(default)]
    pub secret: Option<Secret>,
    /// Extra secrets during a rotation: every delivery is signed with each.
    #[serde(default)]
    pub secrets: Vec<Secret>,
    /// Segments whose entries and exits it receives.
    #[serde(default)]
    pub segments: Vec<String>,
    /// Tiers whose level changes it receives.
    #[serde(default)]
    pub tiers: Vec<String>,
    /// Score thresholds whose crossings it receives.
    #[serde(default)]
    pub scores: Vec<ThresholdConfig>,
    /// Only these changes (`entered`, `exited`); all when empty.
    #[serde(default)]
    pub changes: Vec<String>,
    #[serde(default)]
    pub format: PayloadFormat,
    /// Per attempt, e.g. `"10s"` (default).
    #[serde(default)]
    pub timeout: Option<String>,
    /// Waits before each retry, e.g. `["5s", "5m", "30m"]`; the default
    /// schedule reaches about 3 days.
    #[serde(default)]
    pub retry_schedule: Option<Vec<String>>,
}

impl DestinationConfig {
    /// Every signing secret, current first.
    pub fn all_secrets(&self) -> impl Iterator<Item = &Secret> {
        self.secret.iter().chain(self.secrets.iter())
    }

    /// The URL without credentials, query or fragment: safe to log.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }
}

/// How a pool picks an owner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolStrategy {
    /// Members take turns, in the listed order.
    #[default]
    RoundRobin,
    /// A trait of the subject (e.g. `territory`) picks the member through
    /// `routes`; subjects without a route fall back to round robin.
    ByTrait,
}

/// A `[[pool]]`: people a segment's `owner` can name as a group.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    pub name: String,
    pub members: Vec<String>,
    #[serde(default)]
    pub strategy: PoolStrategy,
    /// With `by_trait`: the trait read (`territory`, or `account.region`).
    #[serde(default, rename = "trait")]
    pub trait_key: Option<String>,
    /// With `by_trait`: trait value → member.
    #[serde(default)]
    pub routes: BTreeMap<String, String>,
}

/// Checks destinations and pools; `digest_targets` are the destinations
/// `[[digest]]`s send to (they need not subscribe to any change).
pub(crate) fn validate(
    destinations: &[DestinationConfig],
    pools: &[PoolConfig],
    digest_targets: &[&str],
) -> Result<(), ConfigError> {
    let mut names = std::collections::HashSet::new();
    for destination in destinations {
        if !names.insert(destination.name.as_str()) {
            return Err(ConfigError::Duplicate {
                kind: "destination",
                name: destination.name.clone(),
            });
        }
        validate_destination(
            destination,
            digest_targets.contains(&destination.name.as_str()),
        )?;
    }
    let mut names = std::collections::HashSet::new();
    for pool in pools {
        if !names.insert(pool.name.as_str()) {
            return Err(ConfigError::Duplicate {
                kind: "pool",
                name: pool.name.clone(),
            });
        }
        validate_pool(pool)?;
    }
    Ok(())
}

fn invalid(table: &str, name: &str, problem: String) -> ConfigError {
    ConfigError::Invalid(format!("{table} {name:?}: {problem}"))
}

fn validate_destination(d: &DestinationConfig, digest_target: bool) -> Result<(), ConfigError> {
    let fail = |problem: String| invalid("destination", &d.name, problem);
    check_url(&d.url).map_err(|p| fail(format!("url {p}")))?;
    if d.secret.is_none() && d.secrets.is_empty() {
        return Err(fail(
            "needs a `secret` (\"whsec_\" followed by base64) to sign deliveries".into(),
        ));
    }
    for secret in d.all_secrets() {
        decode_secret(secret).map_err(|p| fail(format!("secret {p}")))?;
    }
    for change in &d.changes {
        if !matches!(change.as_str(), "entered" | "exited") {
            return Err(fail(format!(
                "changes: {change:?} is not \"entered\" or \"exited\""
            )));
        }
    }
    if d.segments.is_empty() && d.tiers.is_empty() && d.scores.is_empty() && !digest_target {
        return Err(fail(
            "subscribes to nothing: list `segments`, `tiers` or `scores` (or send a [[digest]] to it)"
                .into(),
        ));
    }
    if let Some(timeout) = &d.timeout {
        parse_positive_duration(timeout).map_err(|p| fail(format!("timeout {p}")))?;
    }
    for wait in d.retry_schedule.iter().flatten() {
        bellwether_rules::parse_duration(wait)
            .ok_or_else(|| fail(format!("retry_schedule: {wait:?} is not a duration")))?;
    }
    Ok(())
}

fn validate_pool(pool: &PoolConfig) -> Result<(), ConfigError> {
    let fail = |problem: String| invalid("pool", &pool.name, problem);
    if pool.members.is_empty() {
        return Err(fail("has no members".into()));
    }
    if pool.strategy == PoolStrategy::ByTrait && pool.trait_key.is_none() {
        return Err(fail("strategy \"by_trait\" needs `trait`".into()));
    }
    for (value, member) in &pool.routes {
        if !pool.members.contains(member) {
            return Err(fail(format!(
                "routes: {value:?} goes to {member:?}, who is not a member"
            )));
        }
    }
    Ok(())
}

/// `http(s)://host…` without spaces; credentials are allowed (some
/// receivers want them) but never logged.
fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("{:?} must start with http:// or https://", redact_url(url)))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() {
        return Err(format!("{:?} has no host", redact_url(url)));
    }
    if url.chars().any(char::is_whitespace) {
        return Err(format!("{:?} contains white space", redact_url(url)));
    }
    Ok(())
}

/// `scheme://host/path`, without `user:password@`, query or fragment.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = authority.rsplit('@').next().unwrap_or("");
    format!("{scheme}://{host}{path}")
}

/// The key bytes of a `whsec_` secret.
pub fn decode_secret(secret: &Secret) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let text = secret.expose();
    let encoded = text
        .strip_prefix("whsec_")
        .ok_or_else(|| "must start with \"whsec_\"".to_owned())?;
    let key = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| "is not base64 after \"whsec_\"".to_owned())?;
    if key.len() < 16 {
        return Err(format!(
            "is too short ({} bytes; at least 16, 24 to 64 recommended)",
            key.len()
        ));
    }
    Ok(key)
}

/// A duration above zero, in milliseconds.
pub(crate) fn parse_positive_duration(text: &str) -> Result<i64, String> {
    match bellwether_rules::parse_duration(text) {
        Some(ms) if ms > 0 => Ok(ms),
        _ => Err(format!(
            "{text:?} is not a duration above zero (e.g. \"10s\")"
        )),
    }
}

/// What in the destinations and segments names something undefined: each
/// problem as a sentence (the server refuses to start with any).
pub fn reference_problems(
    destinations: &[DestinationConfig],
    rules: &bellwether_rules::RuleSet,
) -> Vec<String> {
    let defs = rules.definitions();
    let mut problems = Vec::new();
    for d in destinations {
        for segment in &d.segments {
            if !defs.segment.iter().any(|s| &s.name == segment) {
                problems.push(format!(
                    "destination {:?}: no segment named {segment:?}",
                    d.name
                ));
            }
        }
        for tier in &d.tiers {
            if !defs.tier.iter().any(|t| &t.name == tier) {
                problems.push(format!("destination {:?}: no tier named {tier:?}", d.name));
            }
        }
        for watch in &d.scores {
            if !defs.score.iter().any(|s| s.name == watch.score) {
                problems.push(format!(
                    "destination {:?}: no score named {:?}",
                    d.name, watch.score
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn config(destination: &str) -> Result<Config, ConfigError> {
        Config::from_toml(&format!("[[destination]]\n{destination}\n"))
    }

    #[test]
    fn a_complete_destination_parses() {
        let parsed = config(&format!(
            "name='sdr'\nurl='https://hooks.example.com/in?k=1'\nsecret='{SECRET}'\n\
             segments=['hot_intent']\nscores=[{{score='intent', threshold=50}}]\nformat='slack'"
        ));
        let parsed = parsed.map_err(|e| e.to_string());
        let destination = &parsed
            .as_ref()
            .map(|c| c.destination.clone())
            .unwrap_or_default()[0];
        assert_eq!(destination.format, PayloadFormat::Slack);
        assert_eq!(destination.scores[0].threshold, 50.0);
        assert_eq!(destination.redacted_url(), "https://hooks.example.com/in");
    }

    #[test]
    fn bad_destinations_say_what_is_wrong() {
        let cases = [
            (
                format!("name='a'\nurl='ftp://x'\nsecret='{SECRET}'\nsegments=['s']"),
                "destination \"a\": url \"ftp://x\" must start with http:// or https://",
            ),
            (
                "name='a'\nurl='https://x'\nsecret='nope'\nsegments=['s']".to_owned(),
                "destination \"a\": secret must start with \"whsec_\"",
            ),
            (
                format!("name='a'\nurl='https://x'\nsecret='{SECRET}'"),
                "destination \"a\": subscribes to nothing: list `segments`, `tiers` or `scores` (or send a [[digest]] to it)",
            ),
            (
                format!("name='a'\nurl='https://x'\nsecret='{SECRET}'\nsegments=['s']\nchanges=['joined']"),
                "destination \"a\": changes: \"joined\" is not \"entered\" or \"exited\"",
            ),
        ];
        for (table, expected) in cases {
            let error = config(&table).err().map(|e| e.to_string());
            assert_eq!(error.as_deref(), Some(expected), "{table}");
        }
    }

    #[test]
    fn urls_are_redacted_for_logs() {
        assert_eq!(
            redact_url("https://user:pw@hooks.example.com:8443/a/b?token=x#f"),
            "https://hooks.example.com:8443/a/b"
        );
        assert_eq!(redact_url("http://localhost"), "http://localhost");
    }

    #[test]
    fn pools_are_checked() {
        let error =
            Config::from_toml("[[pool]]\nname='sdr'\nmembers=['ana']\nstrategy='by_trait'\n")
                .err()
                .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("pool \"sdr\": strategy \"by_trait\" needs `trait`")
        );
        let error = Config::from_toml(
            "[[pool]]\nname='sdr'\nmembers=['ana']\nstrategy='by_trait'\ntrait='territory'\n\
             routes={EMEA='bob'}\n",
        )
        .err()
        .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("pool \"sdr\": routes: \"EMEA\" goes to \"bob\", who is not a member")
        );
    }
}
