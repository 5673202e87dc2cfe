//! The shared handle every resolver reads: the loaded file tables (swapped
//! whole on reload) and the HTTP provider's answers.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::{EnrichError, EnrichmentConfig, EnrichmentKind, HttpSettings, Reveal, Tables, Traits};

/// What the HTTP provider answered for a domain, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub traits: Traits,
    pub fetched_at: i64,
}

/// One configured table as loaded, for the coverage report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableReport {
    pub name: String,
    pub kind: EnrichmentKind,
    pub file: Option<String>,
    /// Rows read (networks in a `.mmdb`'s search tree; answers cached for
    /// `http`).
    pub rows: usize,
}

/// Hands a domain to the HTTP provider; must never block.
pub type AskProvider = Box<dyn Fn(&str) + Send + Sync>;

/// Cheap to clone; clones share the tables.
#[derive(Clone, Default)]
pub struct Enrichment {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    configs: Vec<EnrichmentConfig>,
    base: PathBuf,
    http: Option<HttpSettings>,
    tables: RwLock<Arc<Tables>>,
    answers: RwLock<HashMap<String, Answer>>,
    requests: Mutex<Option<AskProvider>>,
}

impl std::fmt::Debug for Enrichment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrichment")
            .field("configs", &self.inner.configs)
            .finish_non_exhaustive()
    }
}

/// Two handles are equal when they load the same configuration: the
/// tables' contents are data, diffed against what was applied at start.
impl PartialEq for Enrichment {
    fn eq(&self, other: &Self) -> bool {
        self.inner.configs == other.inner.configs
    }
}

impl Enrichment {
    /// Loads every table of `configs`; file paths are relative to `base`.
    pub fn load(configs: &[EnrichmentConfig], base: &Path) -> Result<Self, EnrichError> {
        let tables = Tables::load(configs, base)?;
        let mut http = configs.iter().filter(|c| c.kind == EnrichmentKind::Http);
        let settings = http.next().map(EnrichmentConfig::http).transpose()?;
        if let Some(second) = http.next() {
            return Err(EnrichError::Config {
                name: second.display_name(),
                problem: "only one kind = \"http\" provider can be configured".into(),
            });
        }
        Ok(Self {
            inner: Arc::new(Inner {
                configs: configs.to_vec(),
                base: base.to_owned(),
                http: settings,
                tables: RwLock::new(Arc::new(tables)),
                answers: RwLock::default(),
                requests: Mutex::default(),
            }),
        })
    }

    /// Whether any `[[enrichment]]` is configured.
    pub fn is_configured(&self) -> bool {
        !self.inner.configs.is_empty()
    }

    pub fn http(&self) -> Option<&HttpSettings> {
        self.inner.http.as_ref()
    }

    /// Re-reads every file; on any error the loaded tables stay. Answers
    /// the domains whose traits changed.
    pub fn reload(&self) -> Result<HashSet<String>, EnrichError> {
        let tables = Tables::load(&self.inner.configs, &self.inner.base)?;
        let changed = self.tables().changed_domains(&tables);
        *self.inner.tables.write() = Arc::new(tables);
        Ok(changed)
    }

    fn tables(&self) -> Arc<Tables> {
        self.inner.tables.read().clone()
    }

    /// The traits for `domain` (normalized): the file tables', then the
    /// provider's answer for the traits they do not give.
    pub fn traits_for(&self, domain: &str) -> Option<Traits> {
        let from_files = self.inner.tables.read().domain_traits(domain);
        let answers = self.inner.answers.read();
        let Some(answer) = answers.get(domain) else {
            return from_files;
        };
        let mut traits = from_files.unwrap_or_default();
        for (key, value) in &answer.traits {
            traits.entry(key.clone()).or_insert_with(|| value.clone());
        }
        Some(traits)
    }

    pub fn reveal(&self, ip: IpAddr) -> Option<Reveal> {
        self.inner.tables.read().reveal(ip)
    }

    pub fn has_ip_tables(&self) -> bool {
        self.inner.tables.read().has_ip_tables()
    }

    /// Asks the HTTP provider (when one is connected) about `domain`.
    pub fn want(&self, domain: &str) {
        if let Some(ask) = self.inner.requests.lock().as_ref() {
            ask(domain);
        }
    }

    /// Connects the HTTP provider: `ask` queues a domain without blocking
    /// (dropping it when the queue is full: it is asked again when next
    /// seen).
    pub fn connect_provider(&self, ask: AskProvider) {
        *self.inner.requests.lock() = Some(ask);
    }

    /// The provider's answer for `domain`, if any.
    pub fn answer(&self, domain: &str) -> Option<Answer> {
        self.inner.answers.read().get(domain).cloned()
    }

    /// Records the provider's answer (fetched now, or read back from the
    /// store at start).
    pub fn set_answer(&self, domain: &str, answer: Answer) {
        self.inner.answers.write().insert(domain.to_owned(), answer);
    }

    /// Domains with a provider answer.
    pub fn answered_domains(&self) -> Vec<String> {
        self.inner.answers.read().keys().cloned().collect()
    }

    /// What each configured table holds now.
    pub fn reports(&self) -> Vec<TableReport> {
        let tables = self.tables();
        let mut domains = tables.domains.iter();
        let mut networks = tables.networks.iter();
        self.inner
            .configs
            .iter()
            .map(|config| {
                let (file, rows) = match config.kind {
                    EnrichmentKind::Domains => domains
                        .next()
                        .map_or((None, 0), |t| (Some(t.file.clone()), t.table.len())),
                    EnrichmentKind::Ip => networks
                        .next()
                        .map_or((None, 0), |t| (Some(t.file.clone()), t.table.len())),
                    EnrichmentKind::Http => (None, self.inner.answers.read().len()),
                };
                TableReport {
                    name: config.display_name(),
                    kind: config.kind,
                    file,
                    rows,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(kind: &str, file: &str) -> EnrichmentConfig {
        toml::from_str(&format!("kind = \"{kind}\"\nfile = \"{file}\"")).unwrap()
    }

    #[test]
    fn reload_swaps_tables_and_keeps_them_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("companies.csv");
        std::fs::write(&csv, "domain,industry\nacme.com,Software\n").unwrap();
        let enrichment =
            Enrichment::load(&[config("domains", "companies.csv")], dir.path()).unwrap();
        assert_eq!(
            enrichment.traits_for("acme.com").unwrap()["industry"],
            "Software"
        );
        std::fs::write(&csv, "domain,industry\nacme.com,Retail\nnew.io,Media\n").unwrap();
        let changed = enrichment.reload().unwrap();
        assert_eq!(
            changed,
            HashSet::from(["acme.com".to_owned(), "new.io".to_owned()])
        );
        assert_eq!(
            enrichment.traits_for("acme.com").unwrap()["industry"],
            "Retail"
        );
        std::fs::write(&csv, "domain,industry\nbad domain,Retail\n").unwrap();
        assert!(enrichment.reload().is_err());
        assert_eq!(
            enrichment.traits_for("acme.com").unwrap()["industry"],
            "Retail"
        );
    }

    #[test]
    fn file_traits_win_over_the_provider() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("c.csv"),
            "domain,industry\nacme.com,Software\n",
        )
        .unwrap();
        let enrichment = Enrichment::load(&[config("domains", "c.csv")], dir.path()).unwrap();
        let traits: Traits =
            serde_json::from_str(r#"{"industry":"Other","employees":40}"#).unwrap();
        enrichment.set_answer(
            "acme.com",
            Answer {
                traits,
                fetched_at: 1,
            },
        );
        let merged = enrichment.traits_for("acme.com").unwrap();
        assert_eq!(merged["industry"], "Software");
        assert_eq!(merged["employees"], 40);
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let error = Enrichment::load(&[config("ip", "ranges.csv")], dir.path())
            .unwrap_err()
            .to_string();
        assert!(error.contains("ranges.csv"), "{error}");
    }
}
