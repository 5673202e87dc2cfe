//! `bellwether import`: NDJSON in, a summary out, the same dedupe and validation.

use std::process::Command;

use crate::harness::{binary, config_text, unique};

#[test]
fn import_stores_dedupes_and_reports_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bellwether.toml");
    std::fs::write(&config, config_text()).unwrap();
    let user = unique("imp");
    let mut lines = Vec::new();
    for i in 0..500 {
        lines.push(format!(
            r#"{{"type":"track","userId":"{user}","event":"Imported","messageId":"{user}-{i}","timestamp":"2024-02-01T00:00:00Z"}}"#
        ));
    }
    lines.push(format!(
        r#"{{"type":"track","userId":"{user}","event":"Imported","messageId":"{user}-0"}}"#
    ));
    lines.push(r#"{"type":"track","event":"No ids"}"#.to_owned());
    lines.push(r#"{"type":"track","event":"Junk id","anonymousId":"undefined"}"#.to_owned());
    lines.push("not json".to_owned());
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let data = dir.path().join("data");
    let output = Command::new(binary())
        .args(["import"])
        .arg(&file)
        .arg("--config")
        .arg(&config)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("500 stored, 1 duplicates, 3 rejected"),
        "{stdout}"
    );
    assert!(
        stdout.contains("anonymousId: \"undefined\" is a blocked identifier"),
        "{stdout}"
    );
    assert!(
        stdout.contains("userId: missing both userId and anonymousId"),
        "{stdout}"
    );

    // Re-importing the same file from stdin changes nothing.
    let output = Command::new(binary())
        .args(["import", "-"])
        .arg("--config")
        .arg(&config)
        .arg("--data")
        .arg(&data)
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("0 stored, 501 duplicates"),
        "re-import from stdin is a no-op: {stdout}"
    );
}
