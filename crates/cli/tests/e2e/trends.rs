//! A segment's trend over HTTP: entries and exits per day and the closing
//! size, from the recorded history; bad parameters named.

use serde_json::json;

use crate::harness::{unique, Backend, Server, DEFINITIONS, READ_TOKEN};

#[test]
fn a_segment_trend_counts_todays_entries_and_ends_at_the_live_size() {
    let server = Server::start_with(Backend::Sqlite, DEFINITIONS);
    for _ in 0..3 {
        let user = unique("trend");
        server.send(
            "/v1/track",
            &json!({"userId": user, "event": "Demo Requested"}),
        );
    }
    let (status, trend) = server.get("/api/v1/segments/demo_requesters/trend?days=7", READ_TOKEN);
    assert_eq!(status, 200, "{trend}");
    let days = trend["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    let today = &days[6];
    assert_eq!(today["entered"], 3, "{trend}");
    assert_eq!(today["size"], trend["size"]);
    assert_eq!(trend["size"], 3);
    assert_eq!(days[5]["size"], 0, "nobody before today: {trend}");

    let (status, error) = server.get("/api/v1/segments/demo_requesters/trend?days=0", READ_TOKEN);
    assert_eq!(status, 400);
    assert_eq!(error["field"], "days", "{error}");
    let (status, _) = server.get("/api/v1/segments/nope/trend", READ_TOKEN);
    assert_eq!(status, 404);
}
