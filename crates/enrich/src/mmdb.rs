//! `kind = "ip"` from a MaxMind DB (`.mmdb`): a company or ASN database the
//! customer licenses. The record's `field` (default `domain`, a dotted path
//! into nested maps) names the company's domain.

use std::net::IpAddr;
use std::path::Path;

use maxminddb::{PathElement, Reader};

use crate::table_file::TableFile;
use crate::{normalize_domain, EnrichError, Reveal};

/// A loaded MaxMind DB.
pub struct MmdbTable {
    reader: Reader<Vec<u8>>,
    field: Vec<String>,
}

impl std::fmt::Debug for MmdbTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MmdbTable")
            .field("database_type", &self.reader.metadata().database_type)
            .field("field", &self.field)
            .finish()
    }
}

impl MmdbTable {
    pub fn load(name: &str, path: &Path, field: Option<&str>) -> Result<Self, EnrichError> {
        let file = TableFile { name, path };
        let reader = Reader::from_source(file.read()?)
            .map_err(|e| file.file_error(format!("not a MaxMind DB: {e}")))?;
        let field = field.unwrap_or("domain");
        Ok(Self {
            reader,
            field: field.split('.').map(str::to_owned).collect(),
        })
    }

    /// Networks in the database's search tree (its `node_count`).
    pub fn len(&self) -> usize {
        self.reader.metadata().node_count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn lookup(&self, ip: IpAddr) -> Option<Reveal> {
        let found = self.reader.lookup(ip.to_canonical()).ok()?;
        if !found.has_data() {
            return None;
        }
        let path: Vec<PathElement<'_>> = self.field.iter().map(|k| PathElement::Key(k)).collect();
        let raw: String = found.decode_path(&path).ok()??;
        let domain = normalize_domain(&raw)?;
        let network = found.network().ok()?.to_string();
        Some(Reveal { domain, network })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Company {
        domain: String,
        name: String,
    }

    /// Builds a small database the way a vendor's would look.
    fn write_db(dir: &Path) -> std::path::PathBuf {
        let mut writer = mmdb_writer::Writer::new("Bellwether-Test-Company");
        for (network, domain) in [
            ("198.51.100.0/24", "acme.com"),
            ("198.51.100.128/25", "www.globex.io"),
            ("2001:db8:5::/48", "initech.com"),
        ] {
            let company = Company {
                domain: domain.to_owned(),
                name: domain.to_uppercase(),
            };
            writer
                .insert(network.parse::<ipnet::IpNet>().unwrap(), &company)
                .unwrap();
        }
        let path = dir.join("companies.mmdb");
        std::fs::write(&path, writer.to_bytes().unwrap()).unwrap();
        path
    }

    #[test]
    fn reads_domains_and_networks_from_a_maxmind_db() {
        let dir = tempfile::tempdir().unwrap();
        let table = MmdbTable::load("companies", &write_db(dir.path()), None).unwrap();
        let reveal = table.lookup("198.51.100.7".parse().unwrap()).unwrap();
        assert_eq!(reveal.domain, "acme.com");
        assert_eq!(reveal.network, "198.51.100.0/25");
        let reveal = table.lookup("198.51.100.200".parse().unwrap()).unwrap();
        assert_eq!(reveal.domain, "globex.io");
        assert_eq!(reveal.network, "198.51.100.128/25");
        let reveal = table.lookup("2001:db8:5::1".parse().unwrap()).unwrap();
        assert_eq!(reveal.domain, "initech.com");
        assert!(table.lookup("203.0.113.1".parse().unwrap()).is_none());
        assert!(!table.is_empty());
    }

    #[test]
    fn a_missing_field_reveals_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let table =
            MmdbTable::load("companies", &write_db(dir.path()), Some("company.domain")).unwrap();
        assert!(table.lookup("198.51.100.7".parse().unwrap()).is_none());
    }

    #[test]
    fn a_file_that_is_not_a_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.mmdb");
        std::fs::write(&path, b"network,domain\n").unwrap();
        let error = MmdbTable::load("companies", &path, None)
            .unwrap_err()
            .to_string();
        assert!(error.contains("not a MaxMind DB"), "{error}");
    }
}
