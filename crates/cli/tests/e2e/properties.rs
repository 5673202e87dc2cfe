//! The engine holds only the event properties the definitions read; a
//! definition, draft or report outcome reading another one loads it from
//! the store first, so results stay exact.

use serde_json::json;

use crate::harness::{unique, Backend, Server, ADMIN_TOKEN, DEFINITIONS, READ_TOKEN};

#[test]
fn properties_no_definition_read_are_loaded_when_first_needed() {
    let server = Server::start_with(Backend::Sqlite, DEFINITIONS);
    let (pro, free) = (unique("pro"), unique("free"));
    for (user, plan, amount) in [(&pro, "pro", 500), (&free, "free", 50)] {
        let upgrade =
            json!({"userId": user, "event": "Plan Changed", "properties": {"plan": plan}});
        assert_eq!(server.send("/v1/track", &upgrade).0, 200);
        let demo = json!({"userId": user, "event": "Demo Requested"});
        assert_eq!(server.send("/v1/track", &demo).0, 200);
        let won = json!({"userId": user, "event": "Deal Won", "properties": {"amount": amount}});
        assert_eq!(server.send("/v1/track", &won).0, 200);
    }

    // An outcome reading `amount`, which no definition reads.
    let (status, report) = server.get(
        "/api/v1/reports/conversion?segment=demo_requesters&outcome=%22Deal%20Won%22%20where%20amount%20%3E%20100",
        READ_TOKEN,
    );
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["members"]["total"], 2, "{report}");
    assert_eq!(report["members"]["converted"], 1, "{report}");

    // A definition reading `plan`: the dry run and the applied change see it.
    let definitions = format!(
        "{DEFINITIONS}\n[[segment]]\nname = \"pro_plan\"\nsubject = \"contact\"\nwhen = 'last(\"Plan Changed\").plan = \"pro\"'\n"
    );
    let put = |query: &str| {
        let response = reqwest::blocking::Client::new()
            .put(server.url(&format!("/api/v1/definitions{query}")))
            .bearer_auth(ADMIN_TOKEN)
            .body(definitions.clone())
            .send()
            .unwrap();
        crate::harness::read(response)
    };
    let (status, dry) = put("?dry_run=true");
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["segments"]["pro_plan"]["enter"], json!([pro]), "{dry}");
    let (status, applied) = put("");
    assert_eq!(
        (status, applied["applied"].as_bool()),
        (200, Some(true)),
        "{applied}"
    );
    let (status, members) = server.get("/api/v1/segments/pro_plan/members", READ_TOKEN);
    assert_eq!(status, 200, "{members}");
    let ids: Vec<&str> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(ids, [pro.as_str()]);
    // Events after the reload keep the property too.
    let later = json!({"userId": free, "event": "Plan Changed", "properties": {"plan": "pro"}});
    assert_eq!(server.send("/v1/track", &later).0, 200);
    let contact = server.contact(&free);
    let segments = contact["segments"].as_array().unwrap();
    assert!(segments.contains(&json!("pro_plan")), "{contact}");
}
