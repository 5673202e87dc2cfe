//! Enrichment (`[[enrichment]]`, SPEC §7): accounts get firmographics from
//! the customer's domain table at the instant they appear (the customer's
//! own traits win), anonymous visitors join the account their IP address
//! reveals until they identify, a reload writes only what changed, a bad
//! table changes nothing and names its line, and the HTTP provider answers
//! off the ingest path, once per domain across restarts.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::durability::drop_schema;
use crate::harness::{
    client, pg_url, read, unique, wait_for, Backend, Server, ADMIN_TOKEN, DEFINITIONS, READ_TOKEN,
    WRITE_KEY,
};

const TABLES: &str = r#"
[[enrichment]]
name = "companies"
kind = "domains"
file = "companies.csv"

[[enrichment]]
kind = "ip"
file = "ranges.csv"

[[segment]]
name = "enterprise_accounts"
subject = "account"
when = 'account.employees >= 1000'

[server]
trusted_proxies = ["127.0.0.0/8"]
"#;

const COMPANIES: &str =
    "domain,industry,employees\nacme.com,Software,250\nglobex.io,Manufacturing,1200\n";
const RANGES: &str =
    "network,domain\n203.0.113.0/24,globex.io\n2001:db8:7::/48,acme.com\n127.0.0.0/8,loopback-corp.com\n";

fn write_tables(config: &Path) {
    let dir = config.parent().expect("config dir");
    std::fs::write(dir.join("companies.csv"), COMPANIES).expect("companies");
    std::fs::write(dir.join("ranges.csv"), RANGES).expect("ranges");
}

fn account(server: &Server, id: &str) -> Value {
    let (status, body) = server.get(&format!("/api/v1/accounts/{id}"), READ_TOKEN);
    assert_eq!(status, 200, "account {id}: {body}");
    body
}

fn reload(server: &Server) -> (u16, Value) {
    read(
        client()
            .post(server.url("/api/v1/enrichment/reload"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .expect("reload"),
    )
}

#[test]
fn accounts_are_enriched_and_visitors_revealed_on_sqlite() {
    enriches_and_reveals(Backend::Sqlite);
}

#[test]
fn accounts_are_enriched_and_visitors_revealed_on_postgres() {
    let schema = unique("bw_enrich_");
    enriches_and_reveals(Backend::Postgres(format!("{}?schema={schema}", pg_url())));
    drop_schema(&schema);
}

fn enriches_and_reveals(backend: Backend) {
    let mut server =
        Server::start_prepared(backend, &format!("{DEFINITIONS}{TABLES}"), |config, _| {
            write_tables(config)
        });
    // An account from a work email gets the table's traits at once.
    let (status, body) = server.send(
        "/v1/identify",
        &json!({"userId": "ada", "traits": {"email": "ada@Acme.com"}}),
    );
    assert_eq!(status, 200, "{body}");
    let acme = account(&server, "acme.com");
    assert_eq!(acme["traits"]["industry"], "Software");
    assert_eq!(acme["traits"]["employees"], 250);

    // A grouped account with a domain: the customer's own trait wins.
    let (status, body) = server.send(
        "/v1/group",
        &json!({"userId": "bob", "groupId": "globex", "traits": {"domain": "https://www.globex.io/", "industry": "Aerospace"}}),
    );
    assert_eq!(status, 200, "{body}");
    let globex = account(&server, "globex");
    assert_eq!(
        globex["traits"]["industry"], "Aerospace",
        "the customer's value"
    );
    assert_eq!(globex["traits"]["employees"], 1200, "the table's");
    assert_eq!(server.members("enterprise_accounts"), vec!["globex"]);

    // An anonymous visitor from a listed network joins that account ...
    let (status, body) = server.send(
        "/v1/page",
        &json!({"anonymousId": "anon-7", "name": "Pricing", "context": {"ip": "203.0.113.9"}}),
    );
    assert_eq!(status, 200, "{body}");
    let visitor = server.contact("anon-7");
    assert_eq!(visitor["account_id"], "globex", "{visitor}");
    assert_eq!(visitor["account_link"], "ip");
    assert_eq!(visitor["revealed_by"], "203.0.113.0/24");
    let (status, page) = client()
        .get(server.url("/contacts/anon-7"))
        .send()
        .map(|r| (r.status().as_u16(), r.text().unwrap_or_default()))
        .expect("contact page");
    assert_eq!(status, 200);
    assert!(
        page.contains("revealed by IP") && page.contains("203.0.113.0/24"),
        "{page}"
    );
    // ... and an IPv6 visitor too; an address in no network reveals nothing.
    server.send(
        "/v1/page",
        &json!({"anonymousId": "anon-8", "name": "Docs", "context": {"ip": "2001:db8:7::42"}}),
    );
    assert_eq!(server.contact("anon-8")["account_id"], "acme.com");
    server.send(
        "/v1/page",
        &json!({"anonymousId": "anon-9", "name": "Docs", "context": {"ip": "198.18.0.1"}}),
    );
    assert_eq!(server.contact("anon-9")["account_id"], Value::Null);

    let (status, view) = server.get("/api/v1/enrichment", READ_TOKEN);
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["tables"][0]["name"], "companies");
    assert_eq!(view["tables"][0]["rows"], 2);
    assert_eq!(view["tables"][1]["kind"], "ip");
    assert_eq!(view["tables"][1]["rows"], 3);
    assert_eq!(view["coverage"]["accounts_enriched"], 2, "{view}");
    assert_eq!(view["coverage"]["visitors_revealed"], 2, "{view}");
    assert_eq!(view["coverage"]["ip_misses"], 1, "{view}");
    let ingestion = client()
        .get(server.url("/ingestion"))
        .send()
        .and_then(|r| r.text())
        .expect("ingestion page");
    assert!(
        ingestion.contains("Visitors revealed by IP") && ingestion.contains("companies.csv"),
        "{ingestion}"
    );

    // Identifying with a work email of its own moves the visitor there.
    server.send(
        "/v1/identify",
        &json!({"userId": "cy", "anonymousId": "anon-7", "traits": {"email": "cy@acme.com"}}),
    );
    let cy = server.contact("cy");
    assert_eq!(cy["account_id"], "acme.com", "{cy}");
    assert_eq!(cy["account_link"], "email_domain");

    // A page a browser sent (it carries `Origin`) gets the browser's
    // address; a server-side SDK's request does not (its address is the
    // customer's own server).
    let (status, body) = read(
        client()
            .post(server.url("/v1/page"))
            .basic_auth(WRITE_KEY, Some(""))
            .header("origin", "https://www.example.com")
            .json(&json!({"anonymousId": "browser-1", "name": "Home"}))
            .send()
            .expect("page"),
    );
    assert_eq!(status, 200, "{body}");
    let browser = server.contact("browser-1");
    assert_eq!(browser["account_id"], "loopback-corp.com", "{browser}");
    assert_eq!(browser["revealed_by"], "127.0.0.0/8");
    server.send(
        "/v1/page",
        &json!({"anonymousId": "server-1", "name": "Home"}),
    );
    assert_eq!(server.contact("server-1")["account_id"], Value::Null);
    // Through a trusted proxy (here the loopback), the address it
    // forwarded; the client's own entry to the left is not believed.
    let (status, body) = read(
        client()
            .post(server.url("/v1/page"))
            .basic_auth(WRITE_KEY, Some(""))
            .header("origin", "https://www.example.com")
            .header("x-forwarded-for", "2001:db8:7::1, 203.0.113.61")
            .json(&json!({"anonymousId": "proxied-1", "name": "Home"}))
            .send()
            .expect("page"),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(server.contact("proxied-1")["revealed_by"], "203.0.113.0/24");

    // A reload writes what changed, and the segment follows.
    let dir = server.config_path().parent().expect("dir").to_owned();
    std::fs::write(
        dir.join("companies.csv"),
        "domain,industry,employees\nacme.com,Software,5000\nglobex.io,Manufacturing,1200\n",
    )
    .expect("edit");
    let (status, body) = reload(&server);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["domains_changed"], 1, "only acme.com changed: {body}");
    assert_eq!(body["accounts_changed"], 1, "{body}");
    assert_eq!(account(&server, "acme.com")["traits"]["employees"], 5000);
    assert_eq!(
        server.members("enterprise_accounts"),
        vec!["acme.com", "globex"]
    );

    // A table that does not load changes nothing and names its line.
    std::fs::write(
        dir.join("companies.csv"),
        "domain,industry\nacme.com,Software\nnot a domain,x\n",
    )
    .expect("break");
    let (status, body) = reload(&server);
    assert_eq!(status, 400, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("companies.csv line 3"), "{message}");
    assert_eq!(account(&server, "acme.com")["traits"]["employees"], 5000);

    // SIGHUP reloads too.
    std::fs::write(
        dir.join("companies.csv"),
        "domain,industry,employees\nacme.com,Fintech,5000\nglobex.io,Manufacturing,1200\n",
    )
    .expect("edit");
    let status = std::process::Command::new("kill")
        .arg("-HUP")
        .arg(server.pid().to_string())
        .status()
        .expect("kill -HUP");
    assert!(status.success());
    wait_for("SIGHUP to reload the tables", || {
        account(&server, "acme.com")["traits"]["industry"] == "Fintech"
    });

    // The history and the traits survive a restart; a table edited while
    // stopped is applied at start.
    std::fs::write(
        dir.join("companies.csv"),
        "domain,industry,employees\nacme.com,Software,5000\nglobex.io,Manufacturing,40\n",
    )
    .expect("edit while stopped");
    server.stop_gracefully();
    server.restart();
    assert_eq!(account(&server, "globex")["traits"]["employees"], 40);
    assert_eq!(server.members("enterprise_accounts"), vec!["acme.com"]);
    assert_eq!(server.contact("anon-8")["revealed_by"], "2001:db8:7::/48");
    // Without the snapshot, a start that reads the store finds enrichment's
    // trait changes too (they come from no message).
    server.stop_gracefully();
    let _ = std::fs::remove_file(server.data_dir().join("engine.snapshot"));
    server.restart();
    assert_eq!(server.members("enterprise_accounts"), vec!["acme.com"]);
    assert_eq!(account(&server, "acme.com")["traits"]["employees"], 5000);
    let (status, history) = server.get("/api/v1/accounts/acme.com/history", READ_TOKEN);
    assert_eq!(status, 200, "{history}");
    let text = history.to_string();
    assert!(text.contains("enterprise_accounts"), "{history}");
}

/// A tiny enrichment API: answers `/companies/{domain}` from `known`
/// (404 otherwise; `slow.example` never in time), logging each request.
struct FakeProvider {
    port: u16,
    asked: Arc<Mutex<Vec<String>>>,
}

impl FakeProvider {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).is_err() {
                        return;
                    }
                    let mut header = String::new();
                    let mut authorized = false;
                    while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                        authorized |= header.to_ascii_lowercase().starts_with("x-api-key: k3y");
                        header.clear();
                    }
                    let path = request_line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("")
                        .to_owned();
                    let domain = path.trim_start_matches("/companies/").to_owned();
                    log.lock().expect("log").push(domain.clone());
                    let (status, body) = match (authorized, domain.as_str()) {
                        (false, _) => ("401 Unauthorized", String::new()),
                        (true, "initech.com") => (
                            "200 OK",
                            r#"{"industry":"Consulting","employees":80}"#.to_owned(),
                        ),
                        (true, "slow.example") => {
                            std::thread::sleep(Duration::from_secs(3));
                            ("200 OK", "{}".to_owned())
                        }
                        _ => ("404 Not Found", String::new()),
                    };
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        Self { port, asked }
    }

    fn asked(&self, domain: &str) -> usize {
        self.asked
            .lock()
            .expect("log")
            .iter()
            .filter(|d| *d == domain)
            .count()
    }
}

#[test]
fn the_http_provider_answers_off_the_ingest_path_once_per_domain() {
    let provider = FakeProvider::start();
    let config = format!(
        r#"{DEFINITIONS}
[[enrichment]]
name = "vendor-api"
kind = "http"
url = "http://127.0.0.1:{}/companies/{{domain}}"
headers = {{ "x-api-key" = "k3y" }}
rate_per_minute = 6000
timeout = "500ms"
"#,
        provider.port
    );
    let mut server = Server::start_with(Backend::Sqlite, &config);
    // The slow domain first: its ack does not wait for the provider.
    let started = Instant::now();
    let (status, body) = server.send(
        "/v1/identify",
        &json!({"userId": "sam", "traits": {"email": "sam@slow.example"}}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the ack waited: {:?}",
        started.elapsed()
    );
    server.send(
        "/v1/identify",
        &json!({"userId": "dan", "traits": {"email": "dan@initech.com"}}),
    );
    server.send(
        "/v1/identify",
        &json!({"userId": "eve", "traits": {"email": "eve@unknown.example"}}),
    );
    wait_for("the provider's answer for initech.com", || {
        account(&server, "initech.com")["traits"]["industry"] == "Consulting"
    });
    assert_eq!(account(&server, "initech.com")["traits"]["employees"], 80);
    wait_for("the provider's three outcomes", || {
        let (_, view) = server.get("/api/v1/enrichment", READ_TOKEN);
        let provider = &view["provider"];
        provider["answered"] == 1 && provider["not_found"] == 1 && provider["failed"] == 1
    });
    let (_, view) = server.get("/api/v1/enrichment", READ_TOKEN);
    let last_error = view["provider"]["last_error"].as_str().unwrap_or_default();
    assert!(
        last_error.contains("slow.example") && last_error.contains("500 ms"),
        "{view}"
    );
    assert_eq!(account(&server, "unknown.example")["traits"], json!({}));

    // A new contact at a known domain and a restart do not ask again.
    server.send(
        "/v1/identify",
        &json!({"userId": "fay", "traits": {"email": "fay@initech.com"}}),
    );
    server.stop_gracefully();
    server.restart();
    assert_eq!(
        account(&server, "initech.com")["traits"]["industry"],
        "Consulting"
    );
    server.send(
        "/v1/identify",
        &json!({"userId": "gus", "traits": {"email": "gus@initech.com"}}),
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        provider.asked("initech.com"),
        1,
        "answers are kept for their TTL"
    );
    assert_eq!(provider.asked("unknown.example"), 1, "a 404 is kept too");
}
