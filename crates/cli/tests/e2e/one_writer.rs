//! One writer per store (SPEC section 7): a second `serve` or an `import` on
//! a data directory or PostgreSQL schema already served exits non-zero at
//! once, naming the holder, and the first server keeps working.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::durability::drop_schema;
use crate::harness::{binary, pg_url, unique, Backend, Server};

fn run_second(server: &Server, args: &[&str], database: Option<&str>) -> (Output, Duration) {
    let mut command = Command::new(binary());
    command
        .args(args)
        .arg("--config")
        .arg(server.config_path())
        .arg("--data")
        .arg(server.data_dir())
        .env("BELLWETHER_LOG", "warn");
    if let Some(url) = database {
        command.arg("--database").arg(url);
    }
    let started = Instant::now();
    let output = command.output().expect("run bellwether");
    (output, started.elapsed())
}

fn second_writers_are_refused(backend: Backend) {
    let database = match &backend {
        Backend::Postgres(url) => Some(url.clone()),
        Backend::Sqlite => None,
    };
    let server = Server::start_on(backend);
    let user = unique("first");
    let (output, took) = run_second(
        &server,
        &["serve", "--listen", "127.0.0.1:0"],
        database.as_deref(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a second serve started: {stderr}");
    assert!(
        stderr.contains("already in use by bellwether serve, pid"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");

    let file = server.dir.path().join("events.ndjson");
    std::fs::write(&file, format!(r#"{{"type":"identify","userId":"{user}"}}"#)).unwrap();
    let (output, _) = run_second(
        &server,
        &["import", file.to_str().unwrap()],
        database.as_deref(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "an import ran beside serve: {stderr}"
    );
    assert!(
        stderr.contains("already in use by bellwether serve"),
        "{stderr}"
    );

    let (status, body) = server.send("/v1/identify", &json!({"userId": user}));
    assert_eq!(status, 200, "the first server still writes: {body}");
}

#[test]
fn a_second_writer_on_a_data_directory_exits_naming_the_holder() {
    second_writers_are_refused(Backend::Sqlite);
}

#[test]
fn a_second_writer_on_a_postgresql_schema_exits_naming_the_holder() {
    let schema = unique("bw_lock_");
    second_writers_are_refused(Backend::Postgres(format!("{}?schema={schema}", pg_url())));
    drop_schema(&schema);
}
