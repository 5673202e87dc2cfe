//! The warehouse view of docs/warehouse.md, run as written over tables
//! shaped like the Segment/RudderStack syncs' (`tests/sql/warehouse_tables.sql`):
//! anonymous ids resolve to users (before and after identify, and through
//! `alias`), properties and traits come back as JSON, and the compiled SQL
//! runs over the view.

use std::process::Command;

use crate::harness::{binary, pg_url, repo_root, unique};

/// The ```sql blocks of the page, in order.
fn sql_blocks(markdown: &str) -> Vec<String> {
    markdown
        .split("```sql\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next().map(str::to_owned))
        .collect()
}

#[test]
fn the_documented_warehouse_view_feeds_the_compiled_sql() {
    let docs = std::fs::read_to_string(repo_root().join("docs/warehouse.md")).expect("docs");
    let blocks = sql_blocks(&docs);
    assert!(blocks.len() >= 2, "the identity and view blocks");
    let schema = unique("warehouse");
    let tables =
        std::fs::read_to_string(repo_root().join("crates/cli/tests/sql/warehouse_tables.sql"))
            .expect("tables")
            .replace("{schema}", &schema);
    let mut client =
        postgres::Client::connect(&pg_url(), postgres::NoTls).expect("PostgreSQL reachable");
    client.batch_execute(&tables).expect("sync tables");
    client.batch_execute(&blocks[0]).expect("identity view");
    client
        .batch_execute(&blocks[1])
        .expect("bellwether_events view");

    let contacts: Vec<String> = client
        .query(
            "SELECT DISTINCT contact_id FROM bellwether_events ORDER BY 1",
            &[],
        )
        .expect("view rows")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        contacts,
        ["u1", "u2"],
        "anonymous ids resolved to their users"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("bellwether.toml");
    std::fs::write(
        &config,
        r#"
[[segment]]
name = "buyers"
when = 'sum("Order Completed", revenue) >= 100 and exists(page where path = "/pricing")'

[[segment]]
name = "fit"
subject = "account"
when = 'account.employees >= 100 or count("Logged In", last 3d) >= 2'
"#,
    )
    .expect("config");
    let output = Command::new(binary())
        .args([
            "sql",
            "--dialect",
            "postgres",
            "--at",
            "2026-10-05T00:00:00Z",
            "--seq",
        ])
        .arg("--config")
        .arg(&config)
        .output()
        .expect("bellwether sql");
    assert!(output.status.success());
    let statement = String::from_utf8_lossy(&output.stdout);
    let rows: Vec<(String, String, String)> = client
        .query(statement.trim_end().trim_end_matches(';'), &[])
        .expect("compiled SQL over the view")
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .expect("drop");
    let expected = [
        ("account", "acme", "fit"),   // 120 employees (group traits)
        ("account", "globex", "fit"), // two logins, one through an alias
        ("contact", "u1", "buyers"),  // an order and a page while anonymous
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(rows, expected);
}
