//! One spelling per domain, so `Acme.com`, `https://www.acme.com/` and
//! `acme.com.` find the same row.

/// The domain of `text` (a bare domain, a host or a URL), lowercased,
/// without scheme, `www.`, port, path or trailing dot; `None` when what is
/// left is not a domain (no dot, spaces).
pub fn normalize_domain(text: &str) -> Option<String> {
    let mut rest = text.trim();
    for scheme in ["https://", "http://"] {
        if rest.len() >= scheme.len() && rest[..scheme.len()].eq_ignore_ascii_case(scheme) {
            rest = &rest[scheme.len()..];
        }
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    let host = host.split(':').next().unwrap_or("");
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let valid = host.contains('.')
        && !host.starts_with('.')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') || !c.is_ascii());
    valid.then(|| host.to_owned())
}

#[cfg(test)]
mod tests {
    use super::normalize_domain;

    #[test]
    fn spellings_of_one_domain_agree() {
        for text in [
            "acme.com",
            "ACME.com",
            " acme.com. ",
            "www.acme.com",
            "https://www.Acme.com/pricing?x=1",
            "http://acme.com:8080",
        ] {
            assert_eq!(
                normalize_domain(text).as_deref(),
                Some("acme.com"),
                "{text}"
            );
        }
    }

    #[test]
    fn non_domains_are_refused() {
        for text in ["", "localhost", "acme com", ".com", "https://"] {
            assert_eq!(normalize_domain(text), None, "{text:?}");
        }
    }
}
