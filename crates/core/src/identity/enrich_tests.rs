//! The graph's enrichment: what each message writes, and what a reload
//! writes, with tables loaded from files.

use serde_json::{json, Map, Value};

use super::*;

struct Tables {
    dir: tempfile::TempDir,
}

impl Tables {
    fn new(companies: &str, ranges: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("companies.csv"), companies).unwrap();
        std::fs::write(dir.path().join("ranges.csv"), ranges).unwrap();
        Self { dir }
    }

    fn graph(&self) -> IdentityGraph {
        #[derive(serde::Deserialize)]
        struct File {
            enrichment: Vec<bellwether_enrich::EnrichmentConfig>,
        }
        let configs = toml::from_str::<File>(
            "[[enrichment]]\nkind = \"domains\"\nfile = \"companies.csv\"\n\
             [[enrichment]]\nkind = \"ip\"\nfile = \"ranges.csv\"\n",
        )
        .unwrap()
        .enrichment;
        let config = IdentityConfig {
            enrichment: bellwether_enrich::Enrichment::load(&configs, self.dir.path()).unwrap(),
            ..IdentityConfig::default()
        };
        IdentityGraph::new(config)
    }

    fn edit_companies(&self, text: &str) {
        std::fs::write(self.dir.path().join("companies.csv"), text).unwrap();
    }
}

/// A message at `time`, with an id of its own.
fn message(kind: MessageKind, user: Option<&str>, anon: Option<&str>, time: i64) -> Message {
    let id = format!("{kind:?}-{user:?}-{anon:?}-{time}");
    super::tests::at(super::tests::message(kind, user, anon), time, &id)
}

fn traits(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The enrichment trait writes among `ops`: (account, traits, at).
fn enriched(ops: &[WriteOp]) -> Vec<(String, Map<String, Value>, i64)> {
    ops.iter()
        .filter_map(|op| match op {
            WriteOp::AccountEnrichment {
                group_id,
                changes,
                at,
                ..
            } if !changes.is_empty() => Some((group_id.clone(), changes.clone(), *at)),
            _ => None,
        })
        .collect()
}

const COMPANIES: &str =
    "domain,industry,employees\nacme.com,Software,250\nglobex.io,Manufacturing,1200\n";
const RANGES: &str = "network,domain\n203.0.113.0/24,globex.io\n";

#[test]
fn an_email_domain_account_gets_the_table_traits_at_the_message_instant() {
    let tables = Tables::new(COMPANIES, RANGES);
    let mut graph = tables.graph();
    let mut ops = Vec::new();
    let mut identify = message(MessageKind::Identify, Some("ada"), None, 5_000);
    identify.traits = traits(json!({"email": "ada@acme.com"}));
    graph.resolve(&identify, 1, &mut ops);
    assert_eq!(
        enriched(&ops),
        vec![(
            "acme.com".to_owned(),
            traits(json!({"industry": "Software", "employees": 250})),
            5_000
        )]
    );
    // A second contact at the same domain writes nothing more.
    let mut ops = Vec::new();
    let mut other = message(MessageKind::Identify, Some("bo"), None, 6_000);
    other.traits = traits(json!({"email": "bo@acme.com"}));
    graph.resolve(&other, 2, &mut ops);
    assert!(enriched(&ops).is_empty(), "{ops:?}");
}

#[test]
fn the_customers_traits_win() {
    let tables = Tables::new(COMPANIES, RANGES);
    let mut graph = tables.graph();
    let mut ops = Vec::new();
    let mut group = message(MessageKind::Group, Some("u"), None, 1_000);
    group.group_id = Some("g-globex".into());
    group.traits = traits(json!({"domain": "globex.io", "industry": "Aerospace"}));
    graph.resolve(&group, 1, &mut ops);
    assert_eq!(
        enriched(&ops),
        vec![(
            "g-globex".to_owned(),
            traits(json!({"employees": 1200})),
            1_000
        )],
        "industry is the customer's"
    );
    // The customer later sends `employees` too: enrichment lets go of it,
    // and a reload never writes it again.
    let mut later = message(MessageKind::Group, Some("u"), None, 2_000);
    later.group_id = Some("g-globex".into());
    later.traits = traits(json!({"employees": 1500}));
    let mut ops = Vec::new();
    graph.resolve(&later, 2, &mut ops);
    assert!(enriched(&ops).is_empty());
    tables.edit_companies("domain,industry,employees\nglobex.io,Manufacturing,9999\n");
    let changed = graph.config.enrichment.reload().unwrap();
    let mut ops = Vec::new();
    graph.refresh_enrichment(Some(&changed), 3_000, 2, &mut ops);
    assert!(enriched(&ops).is_empty(), "{ops:?}");
}

#[test]
fn a_reload_writes_only_the_difference() {
    let tables = Tables::new(COMPANIES, RANGES);
    let mut graph = tables.graph();
    let mut ops = Vec::new();
    for (user, email) in [("a", "a@acme.com"), ("g", "g@globex.io")] {
        let mut identify = message(MessageKind::Identify, Some(user), None, 1_000);
        identify.traits = traits(json!({ "email": email }));
        graph.resolve(&identify, 1, &mut ops);
    }
    let mut ops = Vec::new();
    graph.refresh_enrichment(None, 2_000, 2, &mut ops);
    assert!(ops.is_empty(), "nothing changed: {ops:?}");
    // acme.com loses `industry` and changes `employees`; globex is as before.
    tables.edit_companies(
        "domain,industry,employees\nacme.com,,300\nglobex.io,Manufacturing,1200\nnew.io,,5\n",
    );
    let changed = graph.config.enrichment.reload().unwrap();
    assert_eq!(
        changed,
        std::collections::HashSet::from(["acme.com".to_owned(), "new.io".to_owned()])
    );
    graph.refresh_enrichment(Some(&changed), 3_000, 2, &mut ops);
    assert_eq!(
        enriched(&ops),
        vec![(
            "acme.com".to_owned(),
            traits(json!({"employees": 300, "industry": null})),
            3_000
        )]
    );
    assert!(ops.iter().any(|op| matches!(
        op,
        WriteOp::AccountEnrichment { group_id, applied, .. }
            if group_id == "acme.com" && applied == &self::traits(json!({"employees": 300}))
    )));
    let coverage = graph.enrichment_coverage();
    assert_eq!(
        (coverage.accounts_with_domain, coverage.accounts_enriched),
        (2, 2)
    );
}

#[test]
fn a_visitor_joins_the_account_its_address_reveals_until_it_has_its_own() {
    let tables = Tables::new(COMPANIES, RANGES);
    let mut graph = tables.graph();
    let mut ops = Vec::new();
    let mut page = message(MessageKind::Page, None, Some("anon"), 1_000);
    page.context = traits(json!({"ip": "203.0.113.50"}));
    let contact = graph.resolve(&page, 1, &mut ops).unwrap();
    assert_eq!(graph.account_of(contact), Some("globex.io"));
    assert_eq!(graph.revealed_by(contact), Some("203.0.113.0/24"));
    assert!(ops.iter().any(|op| matches!(
        op,
        WriteOp::ContactAccount { link: AccountLink::Ip, via: Some(via), .. } if via == "203.0.113.0/24"
    )));
    assert_eq!(
        enriched(&ops)[0].0,
        "globex.io",
        "the revealed account is enriched"
    );
    assert_eq!(graph.enrichment_coverage().visitors_revealed, 1);

    // Its own work email wins, and later addresses no longer move it.
    let mut identify = message(MessageKind::Identify, Some("cy"), Some("anon"), 2_000);
    identify.traits = traits(json!({"email": "cy@acme.com"}));
    let mut ops = Vec::new();
    let cy = graph.resolve(&identify, 2, &mut ops).unwrap();
    assert_eq!(graph.account_of(cy), Some("acme.com"));
    let mut again = message(MessageKind::Page, Some("cy"), None, 3_000);
    again.context = traits(json!({"ip": "203.0.113.50"}));
    graph.resolve(&again, 3, &mut ops);
    assert_eq!(graph.account_of(cy), Some("acme.com"));
    assert_eq!(graph.revealed_by(cy), None);
    assert_eq!(graph.enrichment_coverage().visitors_revealed, 0);

    // An address in no network (or not an address) reveals nothing.
    let mut stranger = message(MessageKind::Page, None, Some("far"), 4_000);
    stranger.context = traits(json!({"ip": "198.18.0.1"}));
    let far = graph.resolve(&stranger, 4, &mut ops).unwrap();
    let mut junk = message(MessageKind::Page, None, Some("junk"), 4_000);
    junk.context = traits(json!({"ip": "not an address"}));
    graph.resolve(&junk, 5, &mut ops);
    assert_eq!(graph.account_of(far), None);
    assert_eq!(graph.enrichment_coverage().ip_misses, 1);
}

/// The revealed count follows a visitor folded into a known contact that
/// has an account of its own: the visitor's link goes with it.
#[test]
fn a_revealed_visitor_merged_into_a_known_contact_is_no_longer_counted() {
    let tables = Tables::new(COMPANIES, RANGES);
    let mut graph = tables.graph();
    let mut ops = Vec::new();
    let mut known = message(MessageKind::Identify, Some("ada"), None, 1_000);
    known.traits = traits(json!({"email": "ada@acme.com"}));
    let ada = graph.resolve(&known, 1, &mut ops).unwrap();
    let mut page = message(MessageKind::Page, None, Some("anon"), 2_000);
    page.context = traits(json!({"ip": "203.0.113.50"}));
    graph.resolve(&page, 2, &mut ops);
    assert_eq!(graph.enrichment_coverage().visitors_revealed, 1);
    let tie = message(MessageKind::Identify, Some("ada"), Some("anon"), 3_000);
    assert_eq!(graph.resolve(&tie, 3, &mut ops), Some(ada));
    assert_eq!(graph.account_of(ada), Some("acme.com"));
    assert_eq!(graph.enrichment_coverage().visitors_revealed, 0);
}
