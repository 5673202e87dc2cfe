//! The digest scheduler driven by an injected clock: the real scheduler
//! and dispatcher on a real SQLite store post to a real HTTP receiver on
//! the loopback. A digest is delivered once when the clock passes its send
//! instant, signed per Standard Webhooks (checked here with HMAC-SHA256,
//! independently of the server's signing code, and against the official
//! `standardwebhooks` Python library, from `.venv` like the end-to-end
//! tests, or `BELLWETHER_TEST_PYTHON`); a restarted scheduler does not send
//! it again, and sends the next period once after "downtime".

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bellwether_core::config::Config;
use bellwether_core::digest::DigestConfig;
use bellwether_core::engine::Engine;
use bellwether_core::identity::IdentityConfig;
use bellwether_core::ingest::{IngestConfig, Ingestor};
use bellwether_core::pipeline::EngineHandle;
use bellwether_core::{Clock, ManualClock, Store};
use bellwether_rules::RuleSet;
use bellwether_server::metrics::Metrics;
use bellwether_server::AppState;
use bellwether_store::SqliteStore;
use hmac::{KeyInit, Mac};
use serde_json::Value;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const DEFINITIONS: &str =
    "[[segment]]\nname='demo'\nsubject='contact'\nwhen='exists(\"Demo Requested\")'\n";

/// One request the receiver got: lower-case headers and the body.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// A loopback receiver answering 204 to every request, keeping each.
fn receiver() -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                }
            }
            let length = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            kept.lock().unwrap().push(Received {
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
        }
    });
    (url, seen)
}

/// Standard Webhooks: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`
/// keyed with the bytes after `whsec_`.
fn signature_valid(received: &Received) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    let signed = format!(
        "{}.{}.{}",
        received.header("webhook-id"),
        received.header("webhook-timestamp"),
        received.body
    );
    mac.update(signed.as_bytes());
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    received
        .header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

/// The signature the official library makes for this delivery (its
/// `verify` would also check the timestamp against the wall clock, which
/// the injected clock is days ahead of).
fn library_signature(received: &Received) -> String {
    let python = std::env::var("BELLWETHER_TEST_PYTHON").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../.venv/bin/python").to_owned()
    });
    let script = "import sys, json, datetime\n\
                  from standardwebhooks import Webhook\n\
                  d = json.load(sys.stdin)\n\
                  at = datetime.datetime.fromtimestamp(int(d['timestamp']), datetime.timezone.utc)\n\
                  print(Webhook(d['secret']).sign(d['id'], at, d['body']))\n";
    let mut child = std::process::Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e} (run scripts/test)"));
    let input = serde_json::json!({
        "secret": SECRET,
        "id": received.header("webhook-id"),
        "timestamp": received.header("webhook-timestamp"),
        "body": received.body,
    });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "python failed");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

struct World {
    state: AppState,
    clock: ManualClock,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

fn world(url: &str, now: i64) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let config = Config::from_toml(&format!(
        "{DEFINITIONS}[[destination]]\nname='crm'\nurl='{url}'\nsecret='{SECRET}'\n\
         [[digest]]\nname='weekly'\nevery='week'\nday='monday'\nhour=9\n\
         timezone='Europe/Berlin'\ndestination='crm'\n"
    ))
    .unwrap();
    let clock = ManualClock::new(now);
    let rules = RuleSet::from_toml("d.toml", DEFINITIONS).unwrap();
    let (ingestor, _writer) = Ingestor::start(
        store.clone(),
        IdentityConfig::default(),
        IngestConfig::default(),
        None,
    )
    .unwrap();
    let engine = EngineHandle::recording(
        Engine::new(Arc::new(rules)),
        Arc::new(clock.clone()),
        store.clone(),
    )
    .unwrap();
    let state = AppState {
        config: Arc::new(config),
        store,
        ingestor,
        engine,
        definitions_file: None,
        clock: Arc::new(clock.clone()),
        metrics: Arc::new(Metrics::new()),
        inbox: Arc::default(),
        report_slots: Default::default(),
        conversion_cache: Default::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.spawn(bellwether_server::actions::run_dispatcher(
        bellwether_server::actions::DispatcherParts {
            store: state.store.clone(),
            destinations: state.config.destination.clone(),
            clock: state.clock.clone(),
            metrics: state.metrics.clone(),
            wake: state.engine.outbox_written(),
        },
        std::future::pending(),
    ));
    World {
        state,
        clock,
        runtime,
        _dir: dir,
    }
}

impl World {
    /// Starts a scheduler; dropping the sender stops it.
    fn scheduler(&self) -> tokio::sync::oneshot::Sender<()> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        self.runtime.spawn(bellwether_server::digest::run(
            bellwether_server::digest::DigestParts {
                state: self.state.clone(),
                poll: Duration::from_millis(20),
            },
            async {
                let _ = stopped.await;
            },
        ));
        stop
    }

    fn digest(&self) -> DigestConfig {
        self.state.config.digest[0].clone()
    }
}

fn wait_count(seen: &Mutex<Vec<Received>>, count: usize) -> Vec<Received> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let received = seen.lock().unwrap().clone();
        if received.len() >= count {
            return received;
        }
        assert!(
            Instant::now() < deadline,
            "expected {count} deliveries, got {received:#?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Short and bounded: long enough for a wrongly repeated send to show.
fn settle() {
    std::thread::sleep(Duration::from_millis(600));
}

#[test]
fn a_digest_is_delivered_once_per_period_signed_and_survives_restarts() {
    let (url, seen) = receiver();
    // Near the real time, so the signature timestamp is plausible.
    let start = bellwether_core::SystemClock.now_ms();
    let world = world(&url, start);
    let schedule = world.digest().schedule().unwrap();
    let first = schedule.next_after(start);

    let stop = world.scheduler();
    settle();
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing is due before the send instant"
    );

    world.clock.set(first + 1_000);
    let received = wait_count(&seen, 1);
    let delivery = &received[0];
    assert!(signature_valid(delivery), "{delivery:#?}");
    assert_eq!(
        delivery.header("webhook-signature"),
        library_signature(delivery),
        "the official library signs the same bytes alike"
    );
    assert_eq!(
        delivery.header("webhook-timestamp"),
        ((first + 1_000) / 1_000).to_string(),
        "signed at the injected clock's instant"
    );
    let body: Value = serde_json::from_str(&delivery.body).unwrap();
    assert_eq!(body["type"], "digest.sent");
    assert_eq!(body["data"]["name"], "weekly");
    assert_eq!(body["data"]["to"], bellwether_rules::format_instant(first));
    assert_eq!(
        body["data"]["from"],
        bellwether_rules::format_instant(schedule.window_ending(first).from)
    );
    assert_eq!(body["data"]["segments"][0]["name"], "demo");

    // Later in the same period, and after a restart: nothing more.
    world.clock.set(first + 3_600_000);
    settle();
    drop(stop);
    let stop = world.scheduler();
    settle();
    assert_eq!(seen.lock().unwrap().len(), 1, "once per period");
    let sent = world.state.store.digests_sent().unwrap();
    assert_eq!(sent[0].period_end, first, "the period sent is stored");

    // Down over the next send instant: sent once when back.
    drop(stop);
    let second = schedule.next_after(first);
    world.clock.set(second + 60_000);
    let _stop = world.scheduler();
    let received = wait_count(&seen, 2);
    settle();
    assert_eq!(seen.lock().unwrap().len(), 2);
    let body: Value = serde_json::from_str(&received[1].body).unwrap();
    assert_eq!(body["data"]["to"], bellwether_rules::format_instant(second));
    assert_ne!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id")
    );
    assert!(signature_valid(&received[1]));
}
