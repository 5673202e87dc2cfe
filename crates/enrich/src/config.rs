//! `[[enrichment]]` tables of the config file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::EnrichError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnrichmentKind {
    /// Domain → company traits (CSV with a `domain` column, or Parquet).
    Domains,
    /// Network → domain (CSV `network,domain`, or a `.mmdb` file).
    Ip,
    /// Domain → traits from the customer's enrichment API.
    Http,
}

impl EnrichmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Domains => "domains",
            Self::Ip => "ip",
            Self::Http => "http",
        }
    }
}

/// One `[[enrichment]]` table.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichmentConfig {
    /// Shown in the coverage report (default: the file name, or the kind).
    pub name: Option<String>,
    pub kind: EnrichmentKind,
    /// `domains` and `ip`: the table, relative to the config file.
    pub file: Option<PathBuf>,
    /// `ip` with a `.mmdb` file: the record field holding the domain
    /// (default `domain`; a path into nested maps as `company.domain`).
    pub field: Option<String>,
    /// `http`: the URL with `{domain}` where the domain goes.
    pub url: Option<String>,
    /// `http`: request headers (an API key); never printed.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `http`: how long an answer is reused (default `"30d"`).
    pub ttl: Option<String>,
    /// `http`: requests per minute at most (default 60).
    pub rate_per_minute: Option<u32>,
    /// `http`: a request that takes longer is abandoned (default `"5s"`).
    pub timeout: Option<String>,
}

impl std::fmt::Debug for EnrichmentConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrichmentConfig")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("file", &self.file)
            .field("field", &self.field)
            .field("url", &self.url)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The HTTP provider's settings, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpSettings {
    pub name: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub ttl_ms: i64,
    pub rate_per_minute: u32,
    pub timeout_ms: i64,
}

const DEFAULT_TTL_MS: i64 = 30 * 86_400_000;
const DEFAULT_TIMEOUT_MS: i64 = 5_000;
const DEFAULT_RATE_PER_MINUTE: u32 = 60;

impl EnrichmentConfig {
    /// The name used in reports and errors.
    pub fn display_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        self.file
            .as_ref()
            .and_then(|file| file.file_name())
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.kind.as_str().to_owned())
    }

    fn invalid(&self, problem: impl Into<String>) -> EnrichError {
        EnrichError::Config {
            name: self.display_name(),
            problem: problem.into(),
        }
    }

    /// Checks the table's settings without reading its file.
    pub fn validate(&self) -> Result<(), EnrichError> {
        match self.kind {
            EnrichmentKind::Domains | EnrichmentKind::Ip => {
                if self.file.is_none() {
                    return Err(self.invalid(format!(
                        "kind = \"{}\" needs file = \"…\"",
                        self.kind.as_str()
                    )));
                }
                let http_only = [
                    ("url", self.url.is_some()),
                    ("ttl", self.ttl.is_some()),
                    ("rate_per_minute", self.rate_per_minute.is_some()),
                    ("timeout", self.timeout.is_some()),
                    ("headers", !self.headers.is_empty()),
                ];
                if let Some((key, _)) = http_only.iter().find(|(_, set)| *set) {
                    return Err(self.invalid(format!("{key} applies only to kind = \"http\"")));
                }
                if self.kind == EnrichmentKind::Domains && self.field.is_some() {
                    return Err(
                        self.invalid("field applies only to kind = \"ip\" with a .mmdb file")
                    );
                }
                Ok(())
            }
            EnrichmentKind::Http => self.http().map(|_| ()),
        }
    }

    /// The provider's settings (`kind = "http"`).
    pub fn http(&self) -> Result<HttpSettings, EnrichError> {
        let url = self
            .url
            .clone()
            .ok_or_else(|| self.invalid("kind = \"http\" needs url = \"https://…{domain}…\""))?;
        if !url.contains("{domain}") {
            return Err(self.invalid(format!("url {url:?} has no {{domain}} placeholder")));
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(self.invalid(format!("url {url:?} is not an http(s) URL")));
        }
        if self.file.is_some() || self.field.is_some() {
            return Err(self.invalid("file and field do not apply to kind = \"http\""));
        }
        let duration = |key: &str, text: &Option<String>, default: i64| match text {
            None => Ok(default),
            Some(text) => bellwether_rules::parse_duration(text)
                .filter(|ms| *ms > 0)
                .ok_or_else(|| {
                    self.invalid(format!("{key} = {text:?} is not a duration (e.g. \"5s\")"))
                }),
        };
        for (name, value) in &self.headers {
            let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
            if name.is_empty() || !name.chars().all(token) {
                return Err(self.invalid(format!(
                    "header name {name:?} is not a valid HTTP header name"
                )));
            }
            if value.chars().any(|c| c.is_control() || !c.is_ascii()) {
                return Err(self.invalid(format!(
                    "the value of header {name:?} holds a control or non-ASCII character"
                )));
            }
        }
        let rate_per_minute = self.rate_per_minute.unwrap_or(DEFAULT_RATE_PER_MINUTE);
        if rate_per_minute == 0 {
            return Err(self.invalid("rate_per_minute must be at least 1"));
        }
        Ok(HttpSettings {
            name: self.display_name(),
            url,
            headers: self
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            ttl_ms: duration("ttl", &self.ttl, DEFAULT_TTL_MS)?,
            rate_per_minute,
            timeout_ms: duration("timeout", &self.timeout, DEFAULT_TIMEOUT_MS)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(extra: &str) -> Result<HttpSettings, EnrichError> {
        let text = format!("kind = \"http\"\nurl = \"https://api.example/c/{{domain}}\"\n{extra}");
        toml::from_str::<EnrichmentConfig>(&text).unwrap().http()
    }

    #[test]
    fn http_settings_are_checked_with_reasons() {
        let settings = http("headers = { \"x-api-key\" = \"k\" }\nttl = \"1d\"").unwrap();
        assert_eq!(
            (
                settings.ttl_ms,
                settings.rate_per_minute,
                settings.timeout_ms
            ),
            (86_400_000, 60, 5_000)
        );
        for (extra, problem) in [
            ("headers = { \"bad name\" = \"k\" }", "header name"),
            ("headers = { \"x\" = \"a\\nb\" }", "control"),
            ("ttl = \"soon\"", "ttl"),
            ("rate_per_minute = 0", "rate_per_minute"),
        ] {
            let error = http(extra).unwrap_err().to_string();
            assert!(error.contains(problem), "{extra}: {error}");
        }
        let no_placeholder: EnrichmentConfig =
            toml::from_str("kind = \"http\"\nurl = \"https://api.example/c\"").unwrap();
        assert!(no_placeholder
            .http()
            .unwrap_err()
            .to_string()
            .contains("{domain}"));
    }

    #[test]
    fn file_tables_refuse_http_settings() {
        let config: EnrichmentConfig =
            toml::from_str("kind = \"domains\"\nfile = \"c.csv\"\nttl = \"1d\"").unwrap();
        assert!(config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("ttl applies only"));
        let config: EnrichmentConfig = toml::from_str("kind = \"ip\"").unwrap();
        assert!(config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("needs file"));
    }
}
