//! Text no store can hold (a NUL character: PostgreSQL refuses it in `text`
//! and `jsonb`) is refused at the edge with the field named, on both stores,
//! and never fails other senders' messages committed with it.

use serde_json::json;

use crate::durability::drop_schema;
use crate::harness::{pg_url, unique, Backend, Server, READ_TOKEN};

fn nul_sender_does_not_fail_other_senders(backend: Backend) {
    let server = Server::start_on(backend);
    let good_user = unique("good");
    std::thread::scope(|scope| {
        let poisoner = scope.spawn(|| {
            let mut fields = Vec::new();
            for _ in 0..40 {
                let (status, body) = server.send(
                    "/v1/identify",
                    &json!({"userId": "x", "traits": {"k\u{0}": "v", "email": "a@b.c"}}),
                );
                assert_eq!(status, 400, "{body}");
                fields.push(body["field"].as_str().unwrap_or_default().to_owned());
                let (status, body) = server.send(
                    "/v1/batch",
                    &json!({"batch": [{"type": "group", "userId": "x", "groupId": "g",
                                       "traits": {"name": "n\u{0}"}}]}),
                );
                assert_eq!(status, 400, "{body}");
                fields.push(body["field"].as_str().unwrap_or_default().to_owned());
            }
            fields
        });
        for round in 0..80 {
            let batch: Vec<_> = (0..10)
                .map(|i| {
                    json!({"type": "track", "userId": good_user, "event": "Good",
                                "messageId": format!("{good_user}-{round}-{i}")})
                })
                .collect();
            let (status, body) = server.send("/v1/batch", &json!({ "batch": batch }));
            assert_eq!(status, 200, "round {round}: {body}");
            assert_eq!(body["stored"], 10);
        }
        let fields = poisoner.join().expect("poisoner");
        assert!(
            fields.iter().step_by(2).all(|f| f == "traits.k\\u0000"),
            "{fields:?}"
        );
        assert!(
            fields
                .iter()
                .skip(1)
                .step_by(2)
                .all(|f| f == "batch[0].traits.name"),
            "{fields:?}"
        );
    });
    assert_eq!(server.events(&good_user).len(), 800);
    let (status, body) = server.send(
        "/v1/batch",
        &json!({"context": {"ip": "\u{0}"}, "batch": [{"type": "track", "userId": good_user, "event": "X"}]}),
    );
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("context.ip")),
        "{body}"
    );
    // Lookups too: a NUL in a path or query never reaches the store.
    for (path, field) in [
        ("/api/v1/contacts/a%00b", "path"),
        ("/api/v1/accounts/a%00b", "path"),
        ("/api/v1/deliveries?destination=a%00b", "query"),
    ] {
        let (status, body) = server.get(path, READ_TOKEN);
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some(field)),
            "{path}: {body}"
        );
    }
}

#[test]
fn nul_characters_are_refused_alone_on_sqlite() {
    nul_sender_does_not_fail_other_senders(Backend::Sqlite);
}

#[test]
fn nul_characters_are_refused_alone_on_postgres() {
    let schema = unique("bw_nul_");
    nul_sender_does_not_fail_other_senders(Backend::Postgres(format!(
        "{}?schema={schema}",
        pg_url()
    )));
    drop_schema(&schema);
}
