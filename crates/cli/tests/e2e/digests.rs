//! Review cadence end to end: the real server with a `[[digest]]`, events
//! over the tracking API, and the digest read back over HTTP
//! (`GET /api/v1/digests`, `GET /api/v1/digests/{name}/preview`): sizes,
//! entries, exits, conversion, lint and the segments nobody acted on,
//! counted on small known data, in both body formats. Scheduled delivery
//! with an advanced clock is `crates/server/tests/digest.rs`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use chrono::{Datelike, Duration};
use serde_json::{json, Value};

use crate::harness::{unique, wait_for, Backend, Server, DEFINITIONS, READ_TOKEN};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A receiver that answers 204 to every POST and counts them.
fn receiver() -> (String, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/hooks", listener.local_addr().expect("addr"));
    let count = Arc::new(Mutex::new(0));
    let seen = Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            *seen.lock().expect("lock") += 1;
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
        }
    });
    (url, count)
}

/// The definitions, a destination for `demo_requesters` entries and a
/// weekly digest whose period began yesterday at 00:00 UTC.
fn config(url: &str) -> String {
    let yesterday = (chrono::Utc::now() - Duration::days(1)).weekday();
    format!(
        r#"{DEFINITIONS}
[[segment]]
name = "trial_active"
subject = "contact"
when = 'exists("Trial Started") and not exists("Trial Ended")'

[[destination]]
name = "crm"
url = "{url}"
secret = "{SECRET}"
segments = ["demo_requesters"]
changes = ["entered"]

[[digest]]
name = "weekly-review"
every = "week"
day = "{day}"
hour = 0
timezone = "UTC"
destination = "crm"
segments = ["demo_requesters", "trial_active"]
outcome = '"Deal Won"'
"#,
        day = weekday_name(yesterday),
    )
}

fn weekday_name(day: chrono::Weekday) -> &'static str {
    use chrono::Weekday::*;
    match day {
        Mon => "monday",
        Tue => "tuesday",
        Wed => "wednesday",
        Thu => "thursday",
        Fri => "friday",
        Sat => "saturday",
        Sun => "sunday",
    }
}

fn track(server: &Server, user: &str, event: &str, seconds_ago: i64) {
    let at = chrono::Utc::now() - Duration::seconds(seconds_ago);
    let body = json!({"userId": user, "event": event, "timestamp": at.to_rfc3339()});
    let (status, answer) = server.send("/v1/track", &body);
    assert_eq!(status, 200, "{answer}");
}

fn segment<'a>(preview: &'a Value, name: &str) -> &'a Value {
    preview["digest"]["segments"]
        .as_array()
        .and_then(|segments| segments.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no {name} in {preview:#}"))
}

#[test]
fn the_preview_counts_sizes_entries_exits_conversion_and_unacted_segments() {
    let (url, delivered) = receiver();
    let server = Server::start_with(Backend::Sqlite, &config(&url));
    let (ana, ben, cy, dee) = (unique("ana"), unique("ben"), unique("cy"), unique("dee"));
    track(&server, &ana, "Demo Requested", 30);
    track(&server, &ana, "Deal Won", 20);
    track(&server, &ben, "Demo Requested", 30);
    track(&server, &cy, "Trial Started", 30);
    track(&server, &cy, "Trial Ended", 10);
    track(&server, &dee, "Trial Started", 30);
    // Both demo_requesters entries reach the receiver (acted on).
    wait_for("two entry webhooks", || {
        *delivered.lock().expect("lock") >= 2
    });
    let preview = wait_preview(&server, |p| {
        segment(p, "demo_requesters")["entries_acted_on"] == 2
    });

    let demo = segment(&preview, "demo_requesters");
    assert_eq!(
        (&demo["size"], &demo["size_at_start"], &demo["size_change"]),
        (&json!(2), &json!(0), &json!(2)),
        "{demo:#}"
    );
    assert_eq!((&demo["entered"], &demo["exited"]), (&json!(2), &json!(0)));
    let conversion = &demo["conversion"];
    assert_eq!(
        (&conversion["converted"], &conversion["entrants"]),
        (&json!(1), &json!(2)),
        "{conversion:#}"
    );
    assert_eq!(conversion["rate"], 0.5);
    assert_eq!(conversion["previous_entrants"], 0);
    assert_eq!(
        conversion["change"],
        Value::Null,
        "no previous rate to compare with"
    );

    let trial = segment(&preview, "trial_active");
    assert_eq!(
        (
            &trial["size"],
            &trial["size_at_start"],
            &trial["entered"],
            &trial["exited"]
        ),
        (&json!(1), &json!(0), &json!(2), &json!(1)),
        "{trial:#}"
    );
    assert_eq!(trial["entries_acted_on"], 0);
    assert_eq!(preview["digest"]["not_acted_on"], json!(["trial_active"]));
    let lint = preview["digest"]["lint"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        lint.iter()
            .any(|f| f["code"] == "no_owner" && f["definition"] == "trial_active"),
        "{lint:#?}"
    );
    // The standard body is exactly what would be posted.
    assert_eq!(preview["format"], "standard");
    assert_eq!(preview["body"]["type"], "digest.sent");
    assert_eq!(
        preview["body"]["data"]["segments"],
        preview["digest"]["segments"]
    );
    assert_eq!(
        preview["digest"]["segments"].as_array().map(Vec::len),
        Some(2)
    );

    let (status, slack) = server.get(
        "/api/v1/digests/weekly-review/preview?format=slack",
        READ_TOKEN,
    );
    assert_eq!(status, 200, "{slack}");
    let blocks = slack["body"]["blocks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        blocks.iter().all(|b| b["text"]["type"] == "mrkdwn"),
        "{slack:#}"
    );
    let texts: Vec<&str> = blocks
        .iter()
        .filter_map(|b| b["text"]["text"].as_str())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("*trial_active* 1 (+1) · 2 in, 1 out")),
        "{texts:#?}"
    );
    assert!(
        slack["body"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("4 entries, 1 exits")),
        "{slack:#}"
    );
}

fn wait_preview(server: &Server, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    wait_for("the digest preview", || {
        let (status, body) = server.get("/api/v1/digests/weekly-review/preview", READ_TOKEN);
        assert_eq!(status, 200, "{body}");
        last = body;
        done(&last)
    });
    last
}

#[test]
fn digests_are_listed_and_unknown_names_and_formats_are_refused() {
    let (url, _) = receiver();
    let server = Server::start_with(Backend::Sqlite, &config(&url));
    let (status, list) = server.get("/api/v1/digests", READ_TOKEN);
    assert_eq!(status, 200, "{list}");
    let digest = &list["digests"][0];
    assert_eq!(
        (&digest["name"], &digest["every"], &digest["hour"]),
        (&json!("weekly-review"), &json!("week"), &json!(0))
    );
    let yesterday = (chrono::Utc::now() - Duration::days(1)).weekday();
    assert_eq!(digest["weekday"], weekday_name(yesterday));
    assert_eq!(digest["day_of_month"], Value::Null);
    let next = digest["next_send_at"].as_str().unwrap_or_default();
    let next = chrono::DateTime::parse_from_rfc3339(next).expect("next_send_at");
    let today = chrono::Utc::now().date_naive();
    // Yesterday's weekday, next week, at 00:00 UTC.
    assert_eq!(next.date_naive(), today + Duration::days(6), "{digest:#}");
    assert_eq!(next.time(), chrono::NaiveTime::MIN);
    // Marked at the first start (the scheduler starts beside the server):
    // this week's period, begun before the digest existed, is not sent.
    let yesterday_midnight = format!("{}T00:00:00.000Z", today - Duration::days(1));
    wait_for("the first period marked", || {
        let (_, list) = server.get("/api/v1/digests", READ_TOKEN);
        list["digests"][0]["last_period_end"] == yesterday_midnight.as_str()
    });

    let (status, body) = server.get("/api/v1/digests/nope/preview", READ_TOKEN);
    assert_eq!(
        (status, &body["message"]),
        (404, &json!("no digest named \"nope\"")),
        "{body}"
    );
    let (status, body) = server.get(
        "/api/v1/digests/weekly-review/preview?format=xml",
        READ_TOKEN,
    );
    assert_eq!((status, &body["field"]), (400, &json!("format")), "{body}");
    let (status, _) = server.get("/api/v1/digests", "wrong-token");
    assert_eq!(status, 401);
    let (status, openapi) = server.get("/api/v1/openapi.json", READ_TOKEN);
    assert_eq!(status, 200);
    let schema = &openapi["components"]["schemas"]["DigestPreview"];
    assert!(schema["properties"]["digest"].is_object(), "{schema:#}");
    assert!(
        openapi["paths"]["/api/v1/digests/{name}/preview"]["get"]["responses"]["404"].is_object()
    );
}
