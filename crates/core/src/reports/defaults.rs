//! `[reports]`: the outcome the dashboard and the segment pages measure by
//! default (conversion and lift per segment, revenue per member), so a
//! team sees which segments convert without asking each time.

use bellwether_rules::PropertyKeys;
use serde::Deserialize;

use super::OutcomeSpec;
use crate::config::ConfigError;
use crate::message::Millis;

/// Default horizon when `outcome` is set without one.
const DEFAULT_HORIZON: &str = "30d";
/// Default refresh interval of the dashboard's conversion column.
const DEFAULT_REFRESH: &str = "1m";

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsConfig {
    /// The outcome event selector, e.g. `'"Deal Won"'`; unset shows no
    /// conversion on the dashboard.
    pub outcome: Option<String>,
    /// How long after entry the outcome counts (default `"30d"`).
    pub horizon: Option<String>,
    /// A numeric property of the outcome's events (`"amount"`): revenue.
    pub value: Option<String>,
    /// A selector for the deals in play (`'any where amount > 0'`):
    /// pipeline, the sum of `value` over its events. Needs `value`.
    pub pipeline: Option<String>,
    /// How often a segment's figures are recomputed once new data arrived
    /// (default `"1m"`).
    pub refresh: Option<String>,
}

impl ReportsConfig {
    /// The default outcome, when one is configured.
    pub fn outcome_spec(&self) -> Option<OutcomeSpec> {
        let selector = self.outcome.as_deref()?;
        Some(OutcomeSpec {
            selector: selector.to_owned(),
            horizon: self.horizon_ms(),
            value: self.value.clone(),
            pipeline: self.pipeline.clone(),
        })
    }

    /// The horizon as written (for display).
    pub fn horizon_text(&self) -> &str {
        self.horizon.as_deref().unwrap_or(DEFAULT_HORIZON)
    }

    fn horizon_ms(&self) -> Millis {
        bellwether_rules::parse_duration(self.horizon_text()).unwrap_or(30 * 86_400_000)
    }

    /// The refresh interval in ms (validated at load).
    pub fn refresh_ms(&self) -> Millis {
        bellwether_rules::parse_duration(self.refresh.as_deref().unwrap_or(DEFAULT_REFRESH))
            .unwrap_or(60_000)
    }

    /// Shape checks at load: durations, blanks, a pipeline without a value.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let fail =
            |key: &str, problem: String| ConfigError::Invalid(format!("[reports] {key} {problem}"));
        for (key, text) in [
            ("outcome", &self.outcome),
            ("value", &self.value),
            ("pipeline", &self.pipeline),
        ] {
            if text.as_deref().is_some_and(|t| t.trim().is_empty()) {
                return Err(fail(key, "is empty".into()));
            }
        }
        if let Some(horizon) = &self.horizon {
            crate::actions::config::parse_positive_duration(horizon)
                .map_err(|p| fail("horizon", p))?;
        }
        if let Some(refresh) = &self.refresh {
            match bellwether_rules::parse_duration(refresh) {
                Some(ms) if ms >= 1_000 => {}
                _ => {
                    return Err(fail(
                        "refresh",
                        format!("= {refresh:?} is not a duration of at least \"1s\""),
                    ))
                }
            }
        }
        if self.outcome.is_none() && (self.value.is_some() || self.pipeline.is_some()) {
            return Err(fail(
                "value",
                "needs `outcome`, the event whose value it is".into(),
            ));
        }
        if self.pipeline.is_some() && self.value.is_none() {
            return Err(fail(
                "pipeline",
                "needs `value`, the event property to sum (e.g. \"amount\")".into(),
            ));
        }
        Ok(())
    }

    /// The event properties the default outcome reads (none without one,
    /// or when it does not check), to keep in memory from the start.
    pub fn property_keys(&self, rules: &bellwether_rules::RuleSet) -> PropertyKeys {
        self.outcome_spec()
            .and_then(|spec| {
                spec.property_keys(rules, bellwether_rules::SubjectKind::Contact)
                    .ok()
            })
            .unwrap_or_default()
    }

    /// What does not check against the definitions (an outcome or pipeline
    /// selector, the value path), as sentences; the server refuses to
    /// start with any.
    pub fn reference_problems(&self, rules: &bellwether_rules::RuleSet) -> Vec<String> {
        let Some(spec) = self.outcome_spec() else {
            return Vec::new();
        };
        // Accounts' events are their contacts': one check covers both.
        match spec.check(rules, bellwether_rules::SubjectKind::Contact) {
            Ok(()) => Vec::new(),
            Err(error) => vec![format!("[reports] {error}")],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<crate::config::Config, ConfigError> {
        crate::config::Config::from_toml(text)
    }

    #[test]
    fn a_default_outcome_with_value_and_pipeline_loads() {
        let config = parse(
            "[reports]\noutcome = '\"Deal Won\"'\nhorizon = '90d'\nvalue = 'amount'\npipeline = 'any where amount > 0'",
        )
        .expect("valid");
        let spec = config.reports.outcome_spec().expect("an outcome");
        assert_eq!(spec.selector, "\"Deal Won\"");
        assert_eq!(spec.horizon, 90 * 86_400_000);
        assert_eq!(spec.value.as_deref(), Some("amount"));
        assert_eq!(config.reports.refresh_ms(), 60_000);
        let rules = bellwether_rules::RuleSet::from_toml("t.toml", "").expect("empty rules");
        assert!(config.reports.reference_problems(&rules).is_empty());
        assert!(config.reports.property_keys(&rules).contains("amount"));
    }

    #[test]
    fn bad_reports_settings_name_the_key() {
        for (text, key) in [
            ("[reports]\noutcome = ' '", "outcome"),
            ("[reports]\noutcome = 'x'\nhorizon = 'soon'", "horizon"),
            ("[reports]\noutcome = 'x'\nrefresh = '10ms'", "refresh"),
            ("[reports]\nvalue = 'amount'", "value"),
            ("[reports]\noutcome = 'x'\npipeline = 'any'", "pipeline"),
            ("[reports]\noutcom = 'x'", "outcom"),
        ] {
            let error = parse(text).expect_err(text).to_string();
            assert!(error.contains(key), "{text}: {error}");
        }
    }

    #[test]
    fn selectors_and_values_are_checked_against_the_rules() {
        let rules = bellwether_rules::RuleSet::from_toml("t.toml", "").expect("empty rules");
        for (text, field) in [
            ("outcome = '\"Deal Won\" where ('", "outcome"),
            ("outcome = 'x'\nvalue = 'amount > 3'", "value"),
            (
                "outcome = 'x'\nvalue = 'amount'\npipeline = 'page where ('",
                "pipeline",
            ),
        ] {
            let config = parse(&format!("[reports]\n{text}")).expect(text);
            let problems = config.reports.reference_problems(&rules);
            assert!(
                problems.len() == 1 && problems[0].contains(field),
                "{text}: {problems:?}"
            );
        }
    }
}
