//! `[[digest]]`: a scheduled summary sent to a destination. Parsed with the
//! rest of the config file; checked here, so a bad time zone or day stops
//! the server at start with a message naming the digest and the key.

use serde::Deserialize;

use super::schedule::{Every, Schedule};
use crate::actions::config::{DestinationConfig, PayloadFormat};
use crate::config::ConfigError;

/// Default conversion horizon when `outcome` is set without `horizon`.
pub const DEFAULT_HORIZON: &str = "30d";

/// How often a digest goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cadence {
    Week,
    Month,
}

impl Cadence {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Week => "week",
            Self::Month => "month",
        }
    }
}

/// `day`: a weekday name for weekly digests, a day of the month (1–28)
/// for monthly ones.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum DayConfig {
    Name(String),
    Number(i64),
}

/// A `[[digest]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestConfig {
    pub name: String,
    pub every: Cadence,
    /// Default: `"monday"` (weekly), `1` (monthly).
    #[serde(default)]
    pub day: Option<DayConfig>,
    /// Local hour, 0–23 (default 9).
    #[serde(default)]
    pub hour: Option<i64>,
    /// IANA time zone name (default `"UTC"`).
    #[serde(default)]
    pub timezone: Option<String>,
    /// A `[[destination]]` name.
    pub destination: String,
    #[serde(default)]
    pub format: PayloadFormat,
    /// Segments summarised (default: every segment).
    #[serde(default)]
    pub segments: Vec<String>,
    /// Outcome event selector for conversion; without it, no conversion.
    #[serde(default)]
    pub outcome: Option<String>,
    /// How long after entry the outcome counts (default `"30d"`).
    #[serde(default)]
    pub horizon: Option<String>,
}

impl DigestConfig {
    /// The send schedule, or what is wrong with it (naming the key).
    pub fn schedule(&self) -> Result<Schedule, String> {
        let every = match (self.every, &self.day) {
            (Cadence::Week, None) => Every::Week(chrono::Weekday::Mon),
            (Cadence::Week, Some(DayConfig::Name(name))) => Every::Week(
                weekday(name)
                    .ok_or_else(|| format!("day = {name:?} is not a weekday (monday … sunday)"))?,
            ),
            (Cadence::Week, Some(DayConfig::Number(n))) => {
                return Err(format!(
                    "day = {n}: a weekly digest takes a weekday name, e.g. \"monday\""
                ))
            }
            (Cadence::Month, None) => Every::Month(1),
            (Cadence::Month, Some(DayConfig::Number(n))) if (1..=28).contains(n) => {
                Every::Month(*n as u32)
            }
            (Cadence::Month, Some(DayConfig::Number(n))) => {
                return Err(format!(
                    "day = {n}: a monthly digest takes a day of the month from 1 to 28"
                ))
            }
            (Cadence::Month, Some(DayConfig::Name(name))) => {
                return Err(format!(
                    "day = {name:?}: a monthly digest takes a day of the month from 1 to 28"
                ))
            }
        };
        let hour = self.hour.unwrap_or(9);
        if !(0..=23).contains(&hour) {
            return Err(format!("hour = {hour} is not from 0 to 23"));
        }
        let zone = self.timezone.as_deref().unwrap_or("UTC");
        let tz = zone.parse::<chrono_tz::Tz>().map_err(|_| {
            format!("timezone = {zone:?} is not an IANA time zone (e.g. \"Europe/Berlin\")")
        })?;
        Ok(Schedule::new(every, hour as u32, tz))
    }

    /// The conversion horizon in ms (validated at load).
    pub fn horizon_ms(&self) -> i64 {
        bellwether_rules::parse_duration(self.horizon.as_deref().unwrap_or(DEFAULT_HORIZON))
            .unwrap_or(30 * 86_400_000)
    }
}

fn weekday(name: &str) -> Option<chrono::Weekday> {
    use chrono::Weekday::*;
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "monday" => Mon,
        "tuesday" => Tue,
        "wednesday" => Wed,
        "thursday" => Thu,
        "friday" => Fri,
        "saturday" => Sat,
        "sunday" => Sun,
        _ => return None,
    })
}

pub(crate) fn validate(
    digests: &[DigestConfig],
    destinations: &[DestinationConfig],
) -> Result<(), ConfigError> {
    let mut names = std::collections::HashSet::new();
    for digest in digests {
        if !names.insert(digest.name.as_str()) {
            return Err(ConfigError::Duplicate {
                kind: "digest",
                name: digest.name.clone(),
            });
        }
        let fail =
            |problem: String| ConfigError::Invalid(format!("digest {:?}: {problem}", digest.name));
        if digest.name.trim().is_empty() || digest.name.contains(['/', '?', '#']) {
            return Err(fail(
                "name must be non-empty, without '/', '?' or '#'".into(),
            ));
        }
        digest.schedule().map_err(fail)?;
        if !destinations.iter().any(|d| d.name == digest.destination) {
            return Err(fail(format!(
                "destination = {:?}: no [[destination]] has that name",
                digest.destination
            )));
        }
        if let Some(horizon) = &digest.horizon {
            crate::actions::config::parse_positive_duration(horizon)
                .map_err(|p| fail(format!("horizon {p}")))?;
        }
        if digest
            .outcome
            .as_deref()
            .is_some_and(|o| o.trim().is_empty())
        {
            return Err(fail(
                "outcome is empty: give an event, e.g. '\"Deal Won\"'".into(),
            ));
        }
    }
    Ok(())
}

/// What in the digests names a segment that is not defined, or an outcome
/// that does not check: each problem as a sentence (the server refuses to
/// start with any).
pub fn reference_problems(
    digests: &[DigestConfig],
    rules: &bellwether_rules::RuleSet,
) -> Vec<String> {
    let defs = rules.definitions();
    let mut problems = Vec::new();
    for digest in digests {
        for segment in &digest.segments {
            if !defs.segment.iter().any(|s| &s.name == segment) {
                problems.push(format!(
                    "digest {:?}: segments: no segment named {segment:?}",
                    digest.name
                ));
            }
        }
        if let Some(outcome) = &digest.outcome {
            let spec = crate::reports::OutcomeSpec::new(outcome, digest.horizon_ms());
            if let Err(error) = spec.check(rules, bellwether_rules::SubjectKind::Contact) {
                problems.push(format!("digest {:?}: {error}", digest.name));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    const DESTINATION: &str = "[[destination]]\nname='crm'\nurl='https://hooks.example.com/x'\n\
        secret='whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'\nsegments=['s']\n";

    fn load(digest: &str) -> Result<Config, String> {
        Config::from_toml(&format!(
            "{DESTINATION}[[digest]]\nname='weekly'\n{digest}\n"
        ))
        .map_err(|e| e.to_string())
    }

    #[test]
    fn a_complete_digest_parses_with_defaults() {
        let config = load("every='week'\ndestination='crm'").unwrap_or_default();
        let digest = &config.digest[0];
        assert_eq!(
            digest.format,
            crate::actions::config::PayloadFormat::Standard
        );
        assert!(digest.schedule().is_ok());
        let config = load(
            "every='month'\nday=28\nhour=23\ntimezone='America/New_York'\ndestination='crm'\n\
             format='slack'\nsegments=['s']\noutcome='\"Deal Won\"'\nhorizon='14d'",
        );
        assert!(config.is_ok(), "{config:?}");
    }

    #[test]
    fn bad_digests_name_the_field() {
        let cases = [
            ("every='week'\nday='funday'\ndestination='crm'", "digest \"weekly\": day = \"funday\" is not a weekday (monday … sunday)"),
            ("every='week'\nday=3\ndestination='crm'", "digest \"weekly\": day = 3: a weekly digest takes a weekday name, e.g. \"monday\""),
            ("every='month'\nday=31\ndestination='crm'", "digest \"weekly\": day = 31: a monthly digest takes a day of the month from 1 to 28"),
            ("every='month'\nday='monday'\ndestination='crm'", "digest \"weekly\": day = \"monday\": a monthly digest takes a day of the month from 1 to 28"),
            ("every='week'\nhour=24\ndestination='crm'", "digest \"weekly\": hour = 24 is not from 0 to 23"),
            ("every='week'\nhour=-1\ndestination='crm'", "digest \"weekly\": hour = -1 is not from 0 to 23"),
            ("every='week'\ntimezone='Mars/Olympus'\ndestination='crm'", "digest \"weekly\": timezone = \"Mars/Olympus\" is not an IANA time zone (e.g. \"Europe/Berlin\")"),
            ("every='week'\ndestination='slack'", "digest \"weekly\": destination = \"slack\": no [[destination]] has that name"),
            ("every='week'\ndestination='crm'\nhorizon='soon'", "digest \"weekly\": horizon \"soon\" is not a duration above zero (e.g. \"10s\")"),
        ];
        for (table, expected) in cases {
            assert_eq!(load(table).err().as_deref(), Some(expected), "{table}");
        }
        let unknown_every = load("every='day'\ndestination='crm'")
            .err()
            .unwrap_or_default();
        assert!(
            unknown_every.contains("every") || unknown_every.contains("week"),
            "{unknown_every}"
        );
        let twice = Config::from_toml(&format!(
            "{DESTINATION}[[digest]]\nname='a'\nevery='week'\ndestination='crm'\n\
             [[digest]]\nname='a'\nevery='month'\ndestination='crm'\n"
        ));
        assert_eq!(
            twice.err().map(|e| e.to_string()).as_deref(),
            Some("duplicate digest name \"a\"")
        );
    }

    #[test]
    fn references_to_segments_and_outcomes_are_checked() {
        let rules = bellwether_rules::RuleSet::from_toml(
            "d.toml",
            "[[segment]]\nname='s'\nsubject='contact'\nwhen='exists(\"A\")'\n",
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let config =
            load("every='week'\ndestination='crm'\nsegments=['s', 'nope']\noutcome='count('")
                .unwrap_or_default();
        let problems = super::reference_problems(&config.digest, &rules);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(
            problems[0],
            "digest \"weekly\": segments: no segment named \"nope\""
        );
        assert!(
            problems[1].starts_with("digest \"weekly\": outcome"),
            "{problems:?}"
        );
    }
}
