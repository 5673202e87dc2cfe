//! The address of the client behind a request: the connection's own, or,
//! when that is a trusted reverse proxy (`[server] trusted_proxies`), the
//! rightmost `X-Forwarded-For` entry no trusted proxy added (entries to
//! its left could be written by the client itself).

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

pub(crate) fn client_address(trusted: &[IpNet], headers: &HeaderMap, peer: IpAddr) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|network| network.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for entry in forwarded.iter().rev() {
        let Ok(ip) = entry.parse::<IpAddr>().map(|ip| ip.to_canonical()) else {
            // Not an address (a port, an obfuscated name): nothing further
            // left can be trusted either.
            return peer;
        };
        if !is_trusted(&ip) {
            return ip;
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_rightmost_untrusted_forwarded_address_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let found = |forwarded: &[&str], peer: &str| {
            client_address(&trusted, &headers(forwarded), ip(peer))
        };
        assert_eq!(found(&["203.0.113.9"], "10.0.0.2"), ip("203.0.113.9"));
        // A client's own forged entry sits to the left of the real one.
        assert_eq!(
            found(&["1.2.3.4, 203.0.113.9, 10.0.0.7"], "10.0.0.2"),
            ip("203.0.113.9")
        );
        assert_eq!(
            found(&["1.2.3.4", "203.0.113.9"], "10.0.0.2"),
            ip("203.0.113.9")
        );
        // From an untrusted peer the header is ignored.
        assert_eq!(found(&["203.0.113.9"], "198.51.100.1"), ip("198.51.100.1"));
        // Nothing usable: the proxy's own address.
        assert_eq!(found(&[], "10.0.0.2"), ip("10.0.0.2"));
        assert_eq!(found(&["unknown"], "10.0.0.2"), ip("10.0.0.2"));
        assert_eq!(
            found(&["::ffff:203.0.113.9"], "::ffff:10.0.0.2"),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn without_trusted_proxies_the_connection_decides() {
        assert_eq!(
            client_address(&[], &headers(&["203.0.113.9"]), ip("127.0.0.1")),
            ip("127.0.0.1")
        );
    }
}
