//! `kind = "ip"` from CSV: `network,domain` rows of CIDR networks (IPv4 and
//! IPv6). A lookup finds the most specific network holding the address:
//! one hash probe per prefix length present in the table, longest first,
//! so its cost does not grow with the number of networks.

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use ipnet::IpNet;

use crate::table_file::TableFile;
use crate::{normalize_domain, EnrichError, Reveal};

/// Networks by prefix length, longest first; values index `domains`.
#[derive(Debug, Default)]
pub struct NetworkTable {
    v4: Vec<(u8, FxHashMap<u32, u32>)>,
    v6: Vec<(u8, FxHashMap<u128, u32>)>,
    domains: Vec<Box<str>>,
    rows: usize,
}

impl NetworkTable {
    pub fn load(name: &str, path: &Path) -> Result<Self, EnrichError> {
        let file = TableFile { name, path };
        Self::read_csv(name, path, file.open()?)
    }

    /// Parses `network,domain` CSV. A network listed twice keeps its last
    /// row.
    pub fn read_csv(
        name: &str,
        path: &Path,
        input: impl std::io::Read,
    ) -> Result<Self, EnrichError> {
        let file = TableFile { name, path };
        let (header, rows) = file.csv(input)?;
        let column = |wanted: &str| header.iter().position(|h| h == wanted);
        let (Some(network_column), Some(domain_column)) = (column("network"), column("domain"))
        else {
            return Err(file.row_error(
                1,
                "the header must name `network` and `domain` columns".into(),
            ));
        };
        // Addresses are not chosen by an attacker here (they come from the
        // customer's file), and the probe is on every message: a fast hash.
        let mut v4: HashMap<u8, FxHashMap<u32, u32>> = HashMap::new();
        let mut v6: HashMap<u8, FxHashMap<u128, u32>> = HashMap::new();
        let mut domains: Vec<Box<str>> = Vec::new();
        let mut domain_index: HashMap<Box<str>, u32> = HashMap::new();
        let mut loaded = 0;
        for row in rows {
            let (line, record) = row?;
            let network_text = record.get(network_column).unwrap_or("");
            let network = parse_network(network_text).ok_or_else(|| {
                file.row_error(
                    line,
                    format!("{network_text:?} is not a CIDR network (e.g. 203.0.113.0/24)"),
                )
            })?;
            let raw = record.get(domain_column).unwrap_or("");
            let domain = normalize_domain(raw)
                .ok_or_else(|| file.row_error(line, format!("{raw:?} is not a domain")))?;
            let next = domains.len() as u32;
            let index = *domain_index
                .entry(domain.clone().into())
                .or_insert_with(|| {
                    domains.push(domain.into());
                    next
                });
            match network.trunc() {
                IpNet::V4(net) => {
                    v4.entry(net.prefix_len())
                        .or_default()
                        .insert(u32::from(net.network()), index);
                }
                IpNet::V6(net) => {
                    v6.entry(net.prefix_len())
                        .or_default()
                        .insert(u128::from(net.network()), index);
                }
            }
            loaded += 1;
        }
        let longest_first = |a: &u8, b: &u8| b.cmp(a);
        let mut v4: Vec<_> = v4.into_iter().collect();
        v4.sort_by(|a, b| longest_first(&a.0, &b.0));
        let mut v6: Vec<_> = v6.into_iter().collect();
        v6.sort_by(|a, b| longest_first(&a.0, &b.0));
        Ok(Self {
            v4,
            v6,
            domains,
            rows: loaded,
        })
    }

    /// Rows loaded.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The most specific network holding `ip`, with its domain.
    pub fn lookup(&self, ip: IpAddr) -> Option<Reveal> {
        match ip.to_canonical() {
            IpAddr::V4(ip) => {
                let bits = u32::from(ip);
                self.v4.iter().find_map(|(len, networks)| {
                    let network = bits & mask_v4(*len);
                    let index = *networks.get(&network)?;
                    Some(self.reveal(format!("{}/{len}", Ipv4Addr::from(network)), index))
                })
            }
            IpAddr::V6(ip) => {
                let bits = u128::from(ip);
                self.v6.iter().find_map(|(len, networks)| {
                    let network = bits & mask_v6(*len);
                    let index = *networks.get(&network)?;
                    Some(self.reveal(format!("{}/{len}", Ipv6Addr::from(network)), index))
                })
            }
        }
    }

    fn reveal(&self, network: String, index: u32) -> Reveal {
        Reveal {
            domain: self.domains[index as usize].to_string(),
            network,
        }
    }
}

/// A CIDR network; a bare address counts as a one-address network.
fn parse_network(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

fn mask_v4(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
}

fn mask_v6(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn table(text: &str) -> NetworkTable {
        NetworkTable::read_csv("ranges", Path::new("ranges.csv"), text.as_bytes()).unwrap()
    }

    fn domain(table: &NetworkTable, ip: &str) -> Option<String> {
        table.lookup(ip.parse().unwrap()).map(|r| r.domain)
    }

    #[test]
    fn the_most_specific_network_wins() {
        let table = table(
            "network,domain\n10.0.0.0/8,big.example\n10.1.2.0/24,acme.com\n2001:db8::/32,v6.example\n2001:db8:1::/48,globex.io\n",
        );
        assert_eq!(domain(&table, "10.1.2.77").as_deref(), Some("acme.com"));
        assert_eq!(domain(&table, "10.1.3.1").as_deref(), Some("big.example"));
        assert_eq!(domain(&table, "11.0.0.1"), None);
        assert_eq!(
            domain(&table, "2001:db8:1::9").as_deref(),
            Some("globex.io")
        );
        assert_eq!(
            domain(&table, "2001:db8:2::9").as_deref(),
            Some("v6.example")
        );
        assert_eq!(
            domain(&table, "::ffff:10.1.2.3").as_deref(),
            Some("acme.com")
        );
        let reveal = table.lookup("10.1.2.77".parse().unwrap()).unwrap();
        assert_eq!(reveal.network, "10.1.2.0/24");
        assert_eq!(table.len(), 4);
    }

    #[test]
    fn a_bad_network_names_its_line() {
        let error = NetworkTable::read_csv(
            "ranges",
            Path::new("ranges.csv"),
            "network,domain\n10.0.0.0/8,a.com\n10.0.0.0/33,b.com\n".as_bytes(),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("ranges.csv line 3"), "{error}");
        assert!(error.contains("10.0.0.0/33"), "{error}");
    }

    proptest! {
        /// The probe per prefix length finds what a scan of every network
        /// finds: the longest network holding the address.
        #[test]
        fn lookup_matches_a_linear_scan(
            networks in proptest::collection::vec((any::<u32>(), 8u8..=32), 1..40),
            probes in proptest::collection::vec(any::<u32>(), 1..40),
        ) {
            let mut text = String::from("network,domain\n");
            for (i, (addr, len)) in networks.iter().enumerate() {
                text.push_str(&format!("{}/{len},d{i}.example\n", Ipv4Addr::from(*addr)));
            }
            let table = table(&text);
            // Later rows of one network replace earlier ones, as loading does.
            let mut latest: HashMap<(u32, u8), usize> = HashMap::new();
            for (i, (addr, len)) in networks.iter().enumerate() {
                latest.insert((addr & mask_v4(*len), *len), i);
            }
            let near: Vec<u32> = networks.iter().map(|(addr, _)| addr ^ 1).collect();
            for probe in probes.iter().chain(&near) {
                let expected = latest
                    .iter()
                    .filter(|((net, len), _)| probe & mask_v4(*len) == *net)
                    .max_by_key(|((_, len), _)| *len)
                    .map(|(_, i)| format!("d{i}.example"));
                let found = table.lookup(IpAddr::V4(Ipv4Addr::from(*probe))).map(|r| r.domain);
                prop_assert_eq!(found, expected);
            }
        }
    }
}
