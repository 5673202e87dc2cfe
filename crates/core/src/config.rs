//! The configuration file (`bellwether.toml`): sources, tokens, definitions,
//! identity and ingest settings. Parsing is pure; reading the file and
//! applying `BELLWETHER_*` environment overrides is the CLI's job.

use std::fmt;

use serde::Deserialize;

use crate::actions::config::{DestinationConfig, PoolConfig};
use crate::digest::DigestConfig;
use crate::identity::IdentityConfig;
use crate::ingest::IngestConfig;

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A `[[source]]`: something that sends events with a write key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub name: String,
    pub write_key: Secret,
    /// Web origins (`https://www.example.com`, or `"*"` for any) whose
    /// pages may call `/v1/*` from the browser (CORS), for website
    /// activation (SPEC §7). Empty: browsers on other origins are refused.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

/// What a bearer token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
    Admin,
}

impl Scope {
    fn rank(self) -> u8 {
        match self {
            Self::Read => 0,
            Self::Write => 1,
            Self::Admin => 2,
        }
    }
}

/// A `[[token]]` for the query API.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    pub name: String,
    pub secret: Secret,
    pub scopes: Vec<Scope>,
}

impl TokenConfig {
    /// `admin` implies `write` implies `read`.
    pub fn allows(&self, needed: Scope) -> bool {
        self.scopes
            .iter()
            .any(|granted| granted.rank() >= needed.rank())
    }
}

/// `[server]`: where to listen and what to store where. Flags override it.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: Option<String>,
    pub data_dir: Option<String>,
    /// `postgres://…` for the PostgreSQL store; SQLite in `data_dir` otherwise.
    pub database: Option<String>,
    /// Largest accepted clock skew into the future, in hours (default 24).
    pub max_future_skew_hours: Option<u32>,
    /// `Host` names the MCP endpoint (`/mcp`) answers besides localhost
    /// (protection against DNS rebinding), e.g. `["bellwether.internal:8787"]`.
    pub mcp_allowed_hosts: Vec<String>,
    /// Turns on the built-in webhook receiver (`POST /inbox`), which checks
    /// signatures with this `whsec_…` secret (the demo uses it).
    pub inbox_secret: Option<Secret>,
    /// Seconds a client has to send a request's headers, and the longest a
    /// kept-alive connection may sit idle between requests (default 10).
    pub header_read_timeout_secs: Option<u64>,
    /// Most open HTTP connections (default 1024); beyond it new connections
    /// are closed at once, so file descriptors are never exhausted.
    pub max_connections: Option<usize>,
    /// Of `max_connections`, the slots kept for `/healthz` and `/metrics`
    /// when the rest are taken (default 32).
    pub reserved_connections: Option<usize>,
    /// The server is reached over HTTPS through a proxy that terminates TLS:
    /// the sign-in cookie is marked `Secure`.
    pub behind_https_proxy: bool,
    /// Most MCP sessions open over HTTP at once (default 256).
    pub max_mcp_sessions: Option<usize>,
    /// Seconds an MCP session may sit unused before it is closed (default 300).
    pub mcp_session_idle_secs: Option<u64>,
    /// Serves the example website at `/demo-site/` (`bellwether demo`
    /// turns it on): pages that send events and adapt to exposed segments.
    pub demo_site: bool,
    /// Reverse proxies (CIDR networks or addresses) whose
    /// `X-Forwarded-For` names the client: a visitor's address (for IP
    /// enrichment and the personalize rate limit) is the rightmost entry
    /// no trusted proxy added. Empty: the connection's own address.
    #[serde(deserialize_with = "networks")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// CIDR networks, or addresses as one-address networks, parsed once when
/// the config loads.
fn networks<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<ipnet::IpNet>, D::Error> {
    let texts = Vec::<String>::deserialize(deserializer)?;
    texts
        .iter()
        .map(|text| {
            let text = text.trim();
            text.parse::<ipnet::IpNet>()
                .ok()
                .or_else(|| {
                    text.parse::<std::net::IpAddr>()
                        .ok()
                        .map(ipnet::IpNet::from)
                })
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "{text:?} is not a CIDR network or an address (e.g. \"10.0.0.0/8\")"
                    ))
                })
        })
        .collect()
}

/// The whole file. Definition tables (`[[score]]`, `[[segment]]`, `[[tier]]`)
/// are read by the rules crate from the same text.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    pub source: Vec<SourceConfig>,
    pub token: Vec<TokenConfig>,
    pub server: ServerConfig,
    pub identity: IdentityConfig,
    pub ingest: IngestConfig,
    pub destination: Vec<DestinationConfig>,
    pub pool: Vec<PoolConfig>,
    /// `[[digest]]`: scheduled summaries sent to a destination.
    pub digest: Vec<DigestConfig>,
    /// `[reports]`: the outcome measured by default on the dashboard.
    pub reports: crate::reports::ReportsConfig,
    pub retention: RetentionConfig,
    pub personalize: PersonalizeConfig,
    /// `[[enrichment]]` tables; loaded into `identity.enrichment` by
    /// [`Config::load_enrichment`].
    pub enrichment: Vec<bellwether_enrich::EnrichmentConfig>,
}

/// `[personalize]`: the public `GET /v1/personalize` lookup.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PersonalizeConfig {
    /// Lookups allowed per minute for one (write key, client address)
    /// pair, with bursts up to the same number (default 600); beyond, 429
    /// with `Retry-After`.
    pub rate_per_minute: u32,
}

impl Default for PersonalizeConfig {
    fn default() -> Self {
        Self {
            rate_per_minute: 600,
        }
    }
}

/// `[retention]` (SPEC §7): how long behavior events are kept.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// `"400d"`: track, page and screen events older than this are deleted
    /// from the store and forgotten by the engine; unset keeps them all.
    /// Identify, group and alias messages (who someone is, their traits)
    /// are kept until the contact is deleted.
    pub events: Option<String>,
    /// How often the deletion runs (default `"1h"`; also once at start).
    pub every: Option<String>,
}

/// Shortest retention accepted: a shorter one would delete events before
/// most definitions could read them.
const MIN_RETENTION_MS: i64 = 86_400_000;
const DEFAULT_RETENTION_EVERY_MS: i64 = 3_600_000;

impl RetentionConfig {
    /// The retention in ms, when set (validated at load).
    pub fn events_ms(&self) -> Option<i64> {
        self.events
            .as_deref()
            .and_then(bellwether_rules::parse_duration)
    }

    /// The interval between deletion passes, in ms.
    pub fn every_ms(&self) -> i64 {
        self.every
            .as_deref()
            .and_then(bellwether_rules::parse_duration)
            .unwrap_or(DEFAULT_RETENTION_EVERY_MS)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(text) = &self.events {
            match bellwether_rules::parse_duration(text) {
                Some(ms) if ms >= MIN_RETENTION_MS => {}
                Some(_) => {
                    return Err(ConfigError::Invalid(format!(
                        "[retention] events = {text:?}: at least \"1d\""
                    )))
                }
                None => {
                    return Err(ConfigError::Invalid(format!(
                        "[retention] events = {text:?} is not a duration (e.g. \"400d\")"
                    )))
                }
            }
        }
        if let Some(text) = &self.every {
            if bellwether_rules::parse_duration(text).is_none_or(|ms| ms < 1_000) {
                return Err(ConfigError::Invalid(format!(
                    "[retention] every = {text:?} is not a duration of at least \"1s\""
                )));
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    #[error("duplicate {kind} name {name:?}")]
    Duplicate { kind: &'static str, name: String },
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::HashSet::new();
        for source in &self.source {
            if !names.insert(("source", source.name.as_str())) {
                return Err(ConfigError::Duplicate {
                    kind: "source",
                    name: source.name.clone(),
                });
            }
            if source.write_key.expose().is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "source {:?} has an empty write_key",
                    source.name
                )));
            }
            for origin in &source.allowed_origins {
                check_origin(origin).map_err(|problem| {
                    ConfigError::Invalid(format!(
                        "source {:?}: allowed_origins entry {origin:?} {problem}",
                        source.name
                    ))
                })?;
            }
        }
        for token in &self.token {
            if !names.insert(("token", token.name.as_str())) {
                return Err(ConfigError::Duplicate {
                    kind: "token",
                    name: token.name.clone(),
                });
            }
            if token.secret.expose().len() < 8 {
                return Err(ConfigError::Invalid(format!(
                    "token {:?}: secret must be at least 8 characters",
                    token.name
                )));
            }
        }
        if let Some(secret) = &self.server.inbox_secret {
            crate::actions::config::decode_secret(secret).map_err(|problem| {
                ConfigError::Invalid(format!("[server] inbox_secret {problem}"))
            })?;
        }
        self.retention.validate()?;
        self.reports.validate()?;
        for table in &self.enrichment {
            table
                .validate()
                .map_err(|error| ConfigError::Invalid(error.to_string()))?;
        }
        if self.personalize.rate_per_minute == 0 {
            return Err(ConfigError::Invalid(
                "[personalize] rate_per_minute must be at least 1".into(),
            ));
        }
        let digest_targets: Vec<&str> =
            self.digest.iter().map(|d| d.destination.as_str()).collect();
        crate::actions::config::validate(&self.destination, &self.pool, &digest_targets)?;
        crate::digest::config::validate(&self.digest, &self.destination)
    }

    /// Reads the `[[enrichment]]` tables (paths relative to `base`, the
    /// config file's directory) into `identity.enrichment`, where identity
    /// resolution reads them.
    pub fn load_enrichment(
        &mut self,
        base: &std::path::Path,
    ) -> Result<(), bellwether_enrich::EnrichError> {
        if !self.enrichment.is_empty() {
            self.identity.enrichment = bellwether_enrich::Enrichment::load(&self.enrichment, base)?;
        }
        Ok(())
    }

    /// Whether a browser page on `origin` (the `Origin` request header) may
    /// call `/v1/*`: some source lists it, or `"*"`. A preflight carries no
    /// write key, so the union over every source decides.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        let origin = normalize_origin(origin);
        self.source
            .iter()
            .flat_map(|source| &source.allowed_origins)
            .any(|allowed| allowed == "*" || normalize_origin(allowed) == origin)
    }

    /// The source a write key belongs to.
    pub fn source_for_write_key(&self, key: &str) -> Option<&SourceConfig> {
        self.source
            .iter()
            .find(|s| constant_time_eq(s.write_key.expose().as_bytes(), key.as_bytes()))
    }

    /// The token a bearer secret belongs to.
    pub fn token_for_secret(&self, secret: &str) -> Option<&TokenConfig> {
        self.token
            .iter()
            .find(|t| constant_time_eq(t.secret.expose().as_bytes(), secret.as_bytes()))
    }
}

/// `"*"`, or `scheme://host[:port]` as browsers send it in `Origin`: http
/// or https, no path, query, user or whitespace.
fn check_origin(origin: &str) -> Result<(), &'static str> {
    if origin == "*" {
        return Ok(());
    }
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or("must start with https:// or http:// (or be \"*\")")?;
    if rest.is_empty() {
        return Err("has no host");
    }
    if rest.contains(['/', '?', '#', '@']) || rest.chars().any(char::is_whitespace) {
        return Err("must be an origin (scheme://host[:port]), without a path, query or user");
    }
    Ok(())
}

/// Lower case, default port dropped: `HTTPS://Example.com:443` equals
/// `https://example.com`, as browsers send it.
fn normalize_origin(origin: &str) -> String {
    let origin = origin.trim().to_ascii_lowercase();
    for (scheme, port) in [("https://", ":443"), ("http://", ":80")] {
        if origin.starts_with(scheme) {
            if let Some(bare) = origin.strip_suffix(port) {
                return bare.to_owned();
            }
        }
    }
    origin
}

/// Compares secrets without leaking where they differ through timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_show_in_debug() {
        let config = Config::from_toml(
            "[[source]]\nname='web'\nwrite_key='wk_supersecret'\n\
             [[token]]\nname='t'\nsecret='tok_supersecret'\nscopes=['read']\n",
        )
        .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("supersecret"), "{printed}");
    }

    #[test]
    fn scopes_nest() {
        let token = |scopes| TokenConfig {
            name: "t".into(),
            secret: Secret::new("12345678"),
            scopes,
        };
        assert!(token(vec![Scope::Admin]).allows(Scope::Write));
        assert!(token(vec![Scope::Write]).allows(Scope::Read));
        assert!(!token(vec![Scope::Read]).allows(Scope::Write));
        assert!(!token(vec![Scope::Write]).allows(Scope::Admin));
    }

    #[test]
    fn duplicate_sources_are_rejected() {
        let error = Config::from_toml(
            "[[source]]\nname='web'\nwrite_key='a'\n[[source]]\nname='web'\nwrite_key='b'\n",
        )
        .unwrap_err();
        assert_eq!(error.to_string(), "duplicate source name \"web\"");
    }

    #[test]
    fn allowed_origins_are_checked_and_matched() {
        let config = Config::from_toml(
            "[[source]]\nname='web'\nwrite_key='a'\n\
             allowed_origins=['https://www.example.com', 'http://localhost:3000']\n\
             [[source]]\nname='app'\nwrite_key='b'\nallowed_origins=['https://App.example.com:443']\n",
        )
        .unwrap();
        assert!(config.origin_allowed("https://www.example.com"));
        assert!(config.origin_allowed("https://WWW.example.com:443"));
        assert!(config.origin_allowed("http://localhost:3000"));
        assert!(config.origin_allowed("https://app.example.com"));
        assert!(!config.origin_allowed("https://evil.example.com"));
        assert!(!config.origin_allowed("http://localhost:3001"));
        assert!(!config.origin_allowed("null"));
        let any = Config::from_toml("[[source]]\nname='w'\nwrite_key='a'\nallowed_origins=['*']\n")
            .unwrap();
        assert!(any.origin_allowed("https://anything.test"));
        for (bad, problem) in [
            ("www.example.com", "must start with https://"),
            ("https://example.com/", "without a path"),
            ("https://", "has no host"),
        ] {
            let error = Config::from_toml(&format!(
                "[[source]]\nname='w'\nwrite_key='a'\nallowed_origins=['{bad}']\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(error.contains(problem), "{bad}: {error}");
            assert!(error.contains("allowed_origins"), "{error}");
        }
    }

    #[test]
    fn personalize_rate_must_be_positive() {
        let config = Config::from_toml("").unwrap();
        assert_eq!(config.personalize.rate_per_minute, 600);
        let error = Config::from_toml("[personalize]\nrate_per_minute = 0\n").unwrap_err();
        assert!(error.to_string().contains("rate_per_minute"), "{error}");
    }

    #[test]
    fn trusted_proxies_are_networks_or_addresses() {
        let config =
            Config::from_toml("[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n").unwrap();
        assert_eq!(config.server.trusted_proxies.len(), 2);
        let error = Config::from_toml("[server]\ntrusted_proxies = [\"10.0.0.0/33\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("trusted_proxies") && error.contains("10.0.0.0/33"),
            "{error}"
        );
    }

    #[test]
    fn definition_tables_are_ignored_here() {
        let config = Config::from_toml("[[segment]]\nname='x'\nsubject='contact'\nwhen='true'\n");
        assert!(config.is_ok());
    }
}
