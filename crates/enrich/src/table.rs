//! Every file table of the config, loaded together.

use std::net::IpAddr;
use std::path::Path;

use crate::mmdb::MmdbTable;
use crate::{DomainTable, EnrichError, EnrichmentConfig, EnrichmentKind, NetworkTable, Traits};

/// The company behind an address: its domain and the network that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reveal {
    pub domain: String,
    pub network: String,
}

#[derive(Debug)]
pub enum IpTable {
    Networks(NetworkTable),
    Mmdb(Box<MmdbTable>),
}

impl IpTable {
    pub fn lookup(&self, ip: IpAddr) -> Option<Reveal> {
        match self {
            Self::Networks(table) => table.lookup(ip),
            Self::Mmdb(table) => table.lookup(ip),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Self::Networks(table) => table.len(),
            Self::Mmdb(table) => table.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One loaded file table with the file it came from.
#[derive(Debug)]
pub(crate) struct Named<T> {
    pub(crate) file: String,
    pub(crate) table: T,
}

/// The file tables in config order: for a domain, the first table listing a
/// trait gives it; for an address, the first table matching it.
#[derive(Debug, Default)]
pub struct Tables {
    pub(crate) domains: Vec<Named<DomainTable>>,
    pub(crate) networks: Vec<Named<IpTable>>,
}

impl Tables {
    /// Reads every `domains` and `ip` table (`http` has no file); paths are
    /// relative to `base` (the config file's directory).
    pub fn load(configs: &[EnrichmentConfig], base: &Path) -> Result<Self, EnrichError> {
        let mut tables = Self::default();
        for config in configs {
            config.validate()?;
            let Some(file) = &config.file else { continue };
            let name = config.display_name();
            let path = base.join(file);
            let shown = file.display().to_string();
            match config.kind {
                EnrichmentKind::Domains => tables.domains.push(Named {
                    table: DomainTable::load(&name, &path)?,
                    file: shown,
                }),
                EnrichmentKind::Ip => {
                    let mmdb = path
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("mmdb"));
                    let table = if mmdb {
                        IpTable::Mmdb(Box::new(MmdbTable::load(
                            &name,
                            &path,
                            config.field.as_deref(),
                        )?))
                    } else {
                        if config.field.is_some() {
                            return Err(EnrichError::Config {
                                name,
                                problem: "field applies only to a .mmdb file".into(),
                            });
                        }
                        IpTable::Networks(NetworkTable::load(&name, &path)?)
                    };
                    tables.networks.push(Named { table, file: shown });
                }
                EnrichmentKind::Http => {}
            }
        }
        Ok(tables)
    }

    /// The traits the file tables give `domain` (normalized), merged.
    pub fn domain_traits(&self, domain: &str) -> Option<Traits> {
        let mut merged: Option<Traits> = None;
        for named in &self.domains {
            let Some(row) = named.table.get(domain) else {
                continue;
            };
            let traits = merged.get_or_insert_with(Traits::new);
            for (key, value) in row.iter() {
                traits.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
        merged
    }

    /// Domains whose traits differ between `self` and `newer` (listed in
    /// one and not the other, or with other values).
    pub fn changed_domains(&self, newer: &Tables) -> std::collections::HashSet<String> {
        let every: std::collections::HashSet<&str> = self
            .domains
            .iter()
            .chain(&newer.domains)
            .flat_map(|named| named.table.iter().map(|(domain, _)| domain))
            .collect();
        every
            .into_iter()
            .filter(|domain| self.domain_traits(domain) != newer.domain_traits(domain))
            .map(str::to_owned)
            .collect()
    }

    pub fn reveal(&self, ip: IpAddr) -> Option<Reveal> {
        self.networks
            .iter()
            .find_map(|named| named.table.lookup(ip))
    }

    pub fn has_ip_tables(&self) -> bool {
        !self.networks.is_empty()
    }
}
