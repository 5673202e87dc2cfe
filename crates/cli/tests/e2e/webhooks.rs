//! Webhooks end to end: the real server delivering to a real receiver that
//! verifies every signature with the official `standardwebhooks` library
//! (`tests/webhooks/receiver.py`); receivers that are down, fail, or are
//! gone; dead letters and replay; a `kill -9` between commit and delivery.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{repo_root, unique, Backend, Server, ADMIN_TOKEN, DEFINITIONS, READ_TOKEN};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn python() -> String {
    std::env::var("BELLWETHER_TEST_PYTHON")
        .unwrap_or_else(|_| repo_root().join(".venv/bin/python").display().to_string())
}

/// The receiver process, its port, and the files it reads and writes.
struct Receiver {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl Receiver {
    fn new() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let dir = tempfile::tempdir().expect("tempdir");
        let receiver = Self {
            child: None,
            port,
            dir,
        };
        receiver.set_mode("ok");
        receiver
    }

    fn started() -> Self {
        let mut receiver = Self::new();
        receiver.start();
        receiver
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("deliveries.jsonl")
    }

    fn set_mode(&self, mode: &str) {
        std::fs::write(self.dir.path().join("mode"), mode).expect("write mode");
    }

    fn start(&mut self) {
        let mut child = Command::new(python())
            .arg(repo_root().join("tests/webhooks/receiver.py"))
            .args(["--port", &self.port.to_string(), "--secret", SECRET])
            .arg("--log")
            .arg(self.log_path())
            .arg("--mode-file")
            .arg(self.dir.path().join("mode"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the receiver: {e} (run scripts/test)"));
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read");
        assert!(line.starts_with("listening"), "receiver said {line:?}");
        self.child = Some(child);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/bellwether", self.port)
    }

    /// Every attempt the receiver saw, in order.
    fn attempts(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        text.lines()
            .map(|line| serde_json::from_str(line).expect("log line"))
            .collect()
    }

    /// Attempts it accepted (signature valid, answered 204).
    fn accepted(&self) -> Vec<Value> {
        self.attempts()
            .into_iter()
            .filter(|a| a["status"] == 204)
            .collect()
    }

    /// Waits until `done` holds of the accepted deliveries (20 s at most).
    fn wait_for(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let accepted = self.accepted();
            if done(&accepted) {
                return accepted;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; receiver saw {:#?}",
                self.attempts()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The test definitions plus a pool and one destination to `receiver`.
fn config(receiver: &Receiver, retry_schedule: &str) -> String {
    format!(
        r#"{DEFINITIONS}
[[pool]]
name = "sdr-pool"
members = ["ana", "ben"]

[[destination]]
name = "crm"
url = "{url}"
secret = "{SECRET}"
segments = ["demo_requesters", "just_clicked"]
tiers = ["intent_level"]
scores = [{{ score = "intent", threshold = 25 }}]
retry_schedule = {retry_schedule}
timeout = "2s"
"#,
        url = receiver.url()
    )
}

fn track(server: &Server, user: &str, event: &str) {
    let (status, body) = server.send("/v1/track", &json!({"userId": user, "event": event}));
    assert_eq!(status, 200, "{body}");
}

fn of_type<'a>(accepted: &'a [Value], kind: &str, user: &str) -> Vec<&'a Value> {
    accepted
        .iter()
        .filter(|a| a["body"]["type"] == kind && a["body"]["data"]["subject"]["id"] == user)
        .collect()
}

#[test]
fn entries_exits_tiers_and_thresholds_arrive_signed_with_owners_and_reasons() {
    let receiver = Receiver::started();
    let server = Server::start_with(Backend::Sqlite, &config(&receiver, r#"["200ms"]"#));
    let (first, second) = (unique("hook-a"), unique("hook-b"));
    server.send(
        "/v1/identify",
        &json!({"userId": first, "traits": {"email": "ana.buyer@acme.example", "title": "VP Sales"}}),
    );
    track(&server, &first, "Demo Requested");
    track(&server, &second, "Demo Requested");
    track(&server, &first, "Clicked");

    let accepted = receiver.wait_for("entries, tier change, crossing and the 1 s exit", |a| {
        !of_type(a, "segment.exited", &first).is_empty() && a.len() >= 8
    });
    assert!(receiver.attempts().iter().all(|a| a["valid"] == true));

    let entered = of_type(&accepted, "segment.entered", &first);
    let demo = entered
        .iter()
        .find(|a| a["body"]["data"]["change"]["name"] == "demo_requesters")
        .expect("demo_requesters entry");
    let data = &demo["body"]["data"];
    assert_eq!(data["segment"]["owner"], "sdr-pool");
    assert_eq!(data["segment"]["action"], "SDR outreach within 1 hour");
    assert_eq!(
        data["assigned_owner"], "ana",
        "first entrant, first pool member"
    );
    assert_eq!(data["subject"]["traits"]["title"], "VP Sales");
    assert_eq!(data["explanation"]["holds"], true);
    let why = data["explanation"]["text"].as_str().unwrap_or_default();
    assert!(why.contains("Demo Requested"), "{why}");
    assert_eq!(demo["body"]["timestamp"], data["change"]["at"]);

    let second_entry = of_type(&accepted, "segment.entered", &second);
    assert_eq!(second_entry[0]["body"]["data"]["assigned_owner"], "ben");

    let tier = of_type(&accepted, "tier.changed", &first);
    let levels: Vec<(&Value, &Value)> = tier
        .iter()
        .map(|a| {
            (
                &a["body"]["data"]["change"]["from"],
                &a["body"]["data"]["change"]["to"],
            )
        })
        .collect();
    assert!(
        levels.contains(&(&json!("low"), &json!("high"))),
        "{levels:?}"
    );

    let crossed = of_type(&accepted, "score.crossed_above", &first);
    assert_eq!(crossed.len(), 1, "{crossed:?}");
    assert_eq!(crossed[0]["body"]["data"]["change"]["threshold"], 25.0);

    // The window of `just_clicked` closed by itself, one second later.
    let exited = of_type(&accepted, "segment.exited", &first);
    let entered_click = entered
        .iter()
        .find(|a| a["body"]["data"]["change"]["name"] == "just_clicked")
        .expect("just_clicked entry");
    let gap = exited[0]["body"]["data"]["change"]["at_ms"]
        .as_i64()
        .unwrap_or(0)
        - entered_click["body"]["data"]["change"]["at_ms"]
            .as_i64()
            .unwrap_or(0);
    // Exactly 1 s after the click's timestamp, which precedes its processing.
    assert!((900..=1_000).contains(&gap), "exit {gap} ms after entry");

    // Owners show on the contact, and deliveries in the API.
    assert_eq!(
        server.contact(&first)["owners"],
        json!({"demo_requesters": "ana"})
    );
    // (An attempt is recorded just after the receiver answered.)
    let listed = wait_api(&server, "every delivery recorded as delivered", |d| {
        d.iter().filter(|d| d["state"] == "delivered").count() == accepted.len()
    });
    assert_eq!(listed.len(), accepted.len(), "{listed:#?}");
}

#[test]
fn a_receiver_that_was_down_gets_every_change_with_the_same_ids() {
    let mut receiver = Receiver::new();
    let server = Server::start_with(
        Backend::Sqlite,
        &config(
            &receiver,
            r#"["100ms", "100ms", "200ms", "200ms", "300ms", "300ms", "500ms", "500ms", "1s", "1s", "1s", "1s"]"#,
        ),
    );
    let users: Vec<String> = (0..3).map(|_| unique("down")).collect();
    for user in &users {
        track(&server, user, "Demo Requested");
    }
    // Nobody listens: attempts fail and are rescheduled, nothing is lost.
    // Per user: the segment entry, the tier change, the score crossing;
    // only the head of each user's queue is tried (order per subject).
    let failing = wait_api(&server, "failed attempts", |page| {
        let tried = page
            .iter()
            .filter(|d| d["attempts"].as_u64().unwrap_or(0) >= 2)
            .count();
        page.len() == 3 * users.len() && tried == users.len()
    });
    let first_ids: Vec<String> = failing
        .iter()
        .map(|d| d["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    for delivery in &failing {
        assert_eq!(delivery["state"], "pending", "{delivery}");
        if delivery["attempts"] != 0 {
            let error = delivery["last_error"].as_str().unwrap_or_default();
            assert!(error.starts_with("cannot connect"), "{delivery}");
        }
    }

    receiver.start();
    let accepted = receiver.wait_for("every change after the outage", |a| {
        a.len() >= first_ids.len()
    });
    let mut delivered_ids: Vec<String> = accepted
        .iter()
        .map(|a| a["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    delivered_ids.sort();
    let mut expected = first_ids.clone();
    expected.sort();
    assert_eq!(
        delivered_ids, expected,
        "same webhook-id as the failed attempts"
    );
    for user in &users {
        assert_eq!(
            of_type(&accepted, "segment.entered", user).len(),
            1,
            "{user}"
        );
    }
}

/// Waits until `done` holds of the deliveries listed by the API (20 s at most).
fn wait_api(server: &Server, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, page) = server.get("/api/v1/deliveries?limit=1000", READ_TOKEN);
        assert_eq!(status, 200, "{page}");
        let deliveries = page["deliveries"].as_array().cloned().unwrap_or_default();
        if done(&deliveries) {
            return deliveries;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {page:#}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn post(server: &Server, path: &str, body: &Value) -> (u16, Value) {
    let response = crate::harness::client()
        .post(server.url(path))
        .bearer_auth(ADMIN_TOKEN)
        .json(body)
        .send()
        .expect("request");
    crate::harness::read(response)
}

#[test]
fn gone_disables_and_failing_forever_ends_in_dead_letters_that_replay() {
    let receiver = Receiver::started();
    receiver.set_mode("410");
    let server = Server::start_with(Backend::Sqlite, &config(&receiver, r#"["100ms", "100ms"]"#));
    let user = unique("gone");
    track(&server, &user, "Demo Requested");
    wait_destination(&server, |crm| crm["disabled"]["reason"] == "410 Gone");
    let gone_attempts = receiver.attempts().len();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        receiver.attempts().len(),
        gone_attempts,
        "nothing sent while disabled"
    );

    // Enabled again: what waited goes out (entry, tier change, crossing).
    receiver.set_mode("ok");
    let (status, body) = post(&server, "/api/v1/destinations/crm/enable", &json!({}));
    assert_eq!(status, 200, "{body}");
    receiver.wait_for("the three changes held while disabled", |a| {
        a.iter()
            .filter(|d| d["body"]["data"]["subject"]["id"] == user.as_str())
            .count()
            == 3
    });

    // A receiver failing forever: 3 attempts (first + 2 retries), then dead;
    // the user's next changes follow it there.
    receiver.set_mode("500");
    let doomed = unique("doomed");
    track(&server, &doomed, "Demo Requested");
    let dead = wait_dead(&server, 3);
    let letter = dead
        .iter()
        .find(|d| d["definition"] == "demo_requesters")
        .expect("the entry is a dead letter");
    assert_eq!(letter["attempts"], 3, "{letter}");
    assert_eq!(letter["last_status"], 500);
    assert_eq!(letter["body"]["data"]["subject"]["id"], doomed.as_str());
    let id = letter["id"].as_str().unwrap_or_default().to_owned();
    let listed = Command::new(crate::harness::binary())
        .arg("dead-letters")
        .arg("--config")
        .arg(server.config_path())
        .arg("--data")
        .arg(server.data_dir())
        .output()
        .expect("run bellwether dead-letters");
    let listing = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.status.success() && listing.contains(&id),
        "{listing}"
    );
    assert!(listing.contains("receiver answered 500"), "{listing}");
    let (status, body) = post(
        &server,
        "/api/v1/dead-letters/replay",
        &json!({"ids": [], "all": false}),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap_or_default()
        .contains("nothing to replay"));

    receiver.set_mode("ok");
    let (status, body) = post(
        &server,
        &format!("/api/v1/dead-letters/{id}/replay"),
        &json!({}),
    );
    assert_eq!((status, &body["replayed"]), (200, &json!(1)), "{body}");
    let accepted = receiver.wait_for("the replayed dead letter", |a| {
        a.iter().any(|d| d["id"] == id.as_str())
    });
    assert_eq!(
        accepted.iter().filter(|d| d["id"] == id.as_str()).count(),
        1
    );
    let (status, body) = post(
        &server,
        "/api/v1/dead-letters/replay",
        &json!({"all": true}),
    );
    assert_eq!((status, &body["replayed"]), (200, &json!(2)), "{body}");
    receiver.wait_for("every replayed dead letter", |a| {
        a.iter()
            .filter(|d| d["body"]["data"]["subject"]["id"] == doomed.as_str())
            .count()
            == 3
    });
    assert!(wait_dead(&server, 0).is_empty());
    let (status, _) = post(
        &server,
        "/api/v1/dead-letters/msg_unknown/replay",
        &json!({}),
    );
    assert_eq!(status, 404);
}

fn wait_destination(server: &Server, done: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, list) = server.get("/api/v1/destinations", READ_TOKEN);
        assert_eq!(status, 200, "{list}");
        let crm = list["destinations"][0].clone();
        if done(&crm) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "destination never got there: {crm:#}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn wait_dead(server: &Server, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, page) = server.get("/api/v1/dead-letters", READ_TOKEN);
        assert_eq!(status, 200, "{page}");
        let dead = page["deliveries"].as_array().cloned().unwrap_or_default();
        if dead.len() == count {
            return dead;
        }
        assert!(
            Instant::now() < deadline,
            "expected {count} dead letters: {page:#}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn a_kill_9_between_commit_and_delivery_delivers_once_after_restart() {
    let receiver = Receiver::started();
    receiver.set_mode("500");
    let mut server = Server::start_with(
        Backend::Sqlite,
        &config(
            &receiver,
            r#"["200ms", "200ms", "200ms", "200ms", "200ms", "200ms", "200ms", "200ms", "200ms", "200ms"]"#,
        ),
    );
    let user = unique("crash");
    track(&server, &user, "Demo Requested");
    let pending = wait_api(&server, "a failed attempt", |d| {
        d.iter().any(|d| d["attempts"].as_u64().unwrap_or(0) >= 1)
    });
    let ids: Vec<String> = pending
        .iter()
        .map(|d| d["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    server.kill9();
    receiver.set_mode("ok");
    server.restart();
    let accepted = receiver.wait_for("every delivery after the restart", |a| a.len() >= ids.len());
    for id in &ids {
        let times = accepted.iter().filter(|a| a["id"] == id.as_str()).count();
        assert_eq!(times, 1, "{id} delivered {times} times");
    }
    // Nothing else turns up later (a restart does not re-create deliveries).
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        receiver.accepted().len(),
        ids.len(),
        "{:#?}",
        receiver.attempts()
    );
}

#[test]
fn retry_after_is_honored() {
    let receiver = Receiver::started();
    receiver.set_mode("429:1");
    let server = Server::start_with(Backend::Sqlite, &config(&receiver, r#"["100ms", "100ms"]"#));
    let user = unique("slow");
    track(&server, &user, "Demo Requested");
    let deadline = Instant::now() + Duration::from_secs(20);
    while receiver.attempts().is_empty() {
        assert!(Instant::now() < deadline, "no attempt arrived");
        std::thread::sleep(Duration::from_millis(10));
    }
    receiver.set_mode("ok");
    let accepted = receiver.wait_for("the delivery after Retry-After", |a| !a.is_empty());
    let attempts = receiver.attempts();
    let first = attempts[0]["received_at"].as_f64().unwrap_or(0.0);
    let second = accepted[0]["received_at"].as_f64().unwrap_or(0.0);
    assert_eq!(attempts[0]["status"], 429);
    assert_eq!(attempts[0]["id"], accepted[0]["id"], "the same delivery");
    // The schedule says 100 ms; the receiver asked for 1 s.
    assert!(
        second - first >= 0.99,
        "retried after {:.3} s",
        second - first
    );
    assert!(
        second - first < 3.0,
        "retried after {:.3} s",
        second - first
    );
}

/// RFC 3339 with milliseconds for `ms` since the epoch (UTC).
fn rfc3339(ms: i64) -> String {
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1_000 % 60,
        ms_of_day % 1_000,
    );
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

#[test]
fn a_first_start_records_imported_history_at_its_instants_and_sends_only_the_last_day() {
    let receiver = Receiver::started();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let (old, recent) = (unique("old"), unique("recent"));
    let long_ago = now - 10 * 86_400_000;
    let lines = [
        json!({"type": "track", "userId": old, "event": "Demo Requested", "messageId": "m1", "timestamp": rfc3339(long_ago)}),
        json!({"type": "track", "userId": old, "event": "Clicked", "messageId": "m2", "timestamp": rfc3339(long_ago + 5_000)}),
        json!({"type": "track", "userId": recent, "event": "Demo Requested", "messageId": "m3", "timestamp": rfc3339(now - 3_600_000)}),
    ];
    let server = Server::start_prepared(
        Backend::Sqlite,
        &config(&receiver, r#"["100ms"]"#),
        |config, data| crate::harness::import_lines(config, data, &lines),
    );
    // Entries at the events' instants, not at start-up.
    let (status, page) = server.get("/api/v1/segments/demo_requesters/members", READ_TOKEN);
    assert_eq!(status, 200, "{page}");
    let entered: Vec<(&str, &str)> = page["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|m| {
                    (
                        m["id"].as_str().unwrap_or(""),
                        m["entered_at"].as_str().unwrap_or(""),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(
        entered.contains(&(old.as_str(), rfc3339(long_ago).as_str())),
        "{entered:?}"
    );
    // The 1 s window closed 10 days ago, recorded at its instant.
    let (_, history) = server.get(&format!("/api/v1/contacts/{old}/history"), READ_TOKEN);
    let clicked: Vec<(&str, &str)> = history["changes"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter(|c| c["definition"] == "just_clicked")
                .map(|c| {
                    (
                        c["change"].as_str().unwrap_or(""),
                        c["at"].as_str().unwrap_or(""),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        clicked,
        [
            ("entered", rfc3339(long_ago + 5_000).as_str()),
            ("exited", rfc3339(long_ago + 6_000).as_str())
        ]
    );
    // Only the last day's changes are routed: the recent demo request.
    let accepted = receiver.wait_for("the recent user's deliveries", |a| {
        !of_type(a, "segment.entered", &recent).is_empty()
    });
    std::thread::sleep(Duration::from_millis(300));
    let about_old = receiver
        .attempts()
        .iter()
        .filter(|a| a["body"]["data"]["subject"]["id"] == old.as_str())
        .count();
    assert_eq!(
        about_old, 0,
        "history older than a day is not routed: {accepted:#?}"
    );
}

/// A signature made by the official library, for the built-in inbox.
fn library_signature(id: &str, timestamp: i64, body: &str) -> String {
    let script = format!(
        "import datetime; from standardwebhooks import Webhook; \
         print(Webhook({SECRET:?}).sign({id:?}, datetime.datetime.fromtimestamp({timestamp}, datetime.timezone.utc), {body:?}))"
    );
    let output = Command::new(python())
        .args(["-c", &script])
        .output()
        .expect("python");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn the_inbox_and_the_delivery_api_refuse_bad_input_clearly() {
    let receiver = Receiver::new();
    let extra = format!(
        "{}\n[server]\ninbox_secret = \"{SECRET}\"\n",
        config(&receiver, r#"["1s"]"#)
    );
    let server = Server::start_with(Backend::Sqlite, &extra);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let inbox = |id: &str, timestamp: i64, signature: Option<&str>, body: &str| {
        let mut request = crate::harness::client()
            .post(server.url("/inbox"))
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .body(body.to_owned());
        if let Some(signature) = signature {
            request = request.header("webhook-signature", signature);
        }
        crate::harness::read(request.send().expect("request"))
    };
    // Signed by the official library: accepted and listed.
    let body = r#"{"type":"segment.entered"}"#;
    let good = library_signature("msg_lib", now, body);
    assert_eq!(inbox("msg_lib", now, Some(&good), body).0, 200);
    let (_, listed) = server.get("/api/v1/inbox", READ_TOKEN);
    assert_eq!(listed["deliveries"][0]["webhook_id"], "msg_lib");
    // Tampered body, stale timestamp, missing signature.
    let (status, error) = inbox("msg_lib", now, Some(&good), r#"{"type":"forged"}"#);
    assert_eq!(status, 401, "{error}");
    assert!(error["message"]
        .as_str()
        .unwrap_or("")
        .contains("does not match"));
    let stale = library_signature("msg_old", now - 3_600, body);
    assert_eq!(inbox("msg_old", now - 3_600, Some(&stale), body).0, 401);
    let (status, error) = inbox("msg_x", now, None, body);
    assert_eq!(
        (status, error["field"].as_str()),
        (400, Some("webhook-signature")),
        "{error}"
    );
    let (_, listed) = server.get("/api/v1/inbox", READ_TOKEN);
    assert_eq!(
        listed["deliveries"].as_array().map(Vec::len),
        Some(1),
        "nothing refused is kept"
    );

    // The delivery API names what is wrong.
    let (status, error) = server.get("/api/v1/deliveries?state=lost", READ_TOKEN);
    assert_eq!(
        (status, error["field"].as_str()),
        (400, Some("state")),
        "{error}"
    );
    let (status, error) = server.get("/api/v1/dead-letters?cursor=abc", READ_TOKEN);
    assert_eq!(
        (status, error["field"].as_str()),
        (400, Some("cursor")),
        "{error}"
    );
    let (status, _) = post(&server, "/api/v1/destinations/nowhere/enable", &json!({}));
    assert_eq!(status, 404);
    let (status, error) = post(
        &server,
        "/api/v1/dead-letters/replay",
        &json!({"ids": ["a"], "all": true}),
    );
    assert_eq!(status, 400, "{error}");
    let (status, error) = post(
        &server,
        "/api/v1/dead-letters/replay",
        &json!({"everything": true}),
    );
    assert_eq!(status, 400, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or("")
            .contains("everything"),
        "{error}"
    );
    let read_only = crate::harness::client()
        .post(server.url("/api/v1/dead-letters/replay"))
        .bearer_auth(READ_TOKEN)
        .json(&json!({"all": true}))
        .send()
        .expect("request");
    assert_eq!(
        read_only.status().as_u16(),
        403,
        "replaying needs a write token"
    );
}
