//! `bellwether check`: the shipped examples pass; errors come with carets.

use std::process::Command;

use crate::harness::{binary, repo_root};

fn check(text: &str, json: bool) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("defs.toml");
    std::fs::write(&file, text).unwrap();
    let mut command = Command::new(binary());
    command.arg("check").arg(&file);
    if json {
        command.arg("--json");
    }
    let output = command.output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn shipped_examples_are_valid() {
    let output = Command::new(binary())
        .arg("check")
        .arg(repo_root().join("examples/b2b.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("ok"), "{stdout}");
    assert!(
        !stdout.contains("warning"),
        "no shipped segment fires on a new lead: {stdout}"
    );
}

#[test]
fn segments_a_new_lead_is_in_at_once_are_warned_about() {
    let text = r#"
[[segment]]
name = "dormant"
when = 'days_since(any) >= 90'

[[segment]]
name = "gone_quiet"
when = 'exists(any) and days_since(any) >= 90'

[[segment]]
name = "silent_account"
subject = "account"
when = 'not exists(any, last 60d)'
"#;
    let (ok, stdout) = check(text, false);
    assert!(ok, "warnings do not fail: {stdout}");
    assert!(
        stdout.contains("warning: ") && stdout.contains(
            "segment `dormant` holds for a contact with no events at all: every new contact (created by an `identify` alone) enters it at once; require past activity"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("segment `silent_account` holds for an account"),
        "{stdout}"
    );
    assert!(!stdout.contains("`gone_quiet`"), "{stdout}");
    let (ok, json) = check(text, true);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(ok && report["ok"] == true, "{json}");
    assert_eq!(
        report["activity_warnings"].as_array().map(Vec::len),
        Some(2),
        "{json}"
    );
}

#[test]
fn errors_point_at_the_line_and_column() {
    let text =
        "[[segment]]\nname = \"hot\"\nsubject = \"contact\"\nwhen = 'count(page, last 7x) >= 2'\n";
    let (ok, stdout) = check(text, false);
    assert!(!ok, "{stdout}");
    assert!(stdout.contains(":4:"), "line 4 of the file: {stdout}");
    assert!(stdout.contains('^'), "a caret under the span: {stdout}");
    let (ok, json) = check(text, true);
    assert!(!ok);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["ok"], false);
    assert!(!report["errors"].as_array().unwrap().is_empty(), "{report}");
}

#[test]
fn config_errors_outside_definitions_are_reported() {
    let text = "[[source]]\nname = \"web\"\nwrite_key = \"\"\n";
    let (ok, stdout) = check(text, false);
    assert!(!ok);
    assert!(stdout.contains("empty write_key"), "{stdout}");
}

#[test]
fn destinations_must_name_what_exists_and_carry_a_valid_secret() {
    let segment = "[[segment]]\nname = \"hot\"\nsubject = \"contact\"\nwhen = 'exists(any)'\n";
    let destination = |extra: &str| {
        format!(
            "{segment}[[destination]]\nname = \"crm\"\nurl = \"https://crm.example/in\"\n{extra}\n"
        )
    };
    let secret = "secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"";
    let (ok, stdout) = check(
        &destination(&format!("{secret}\nsegments = [\"hot\"]")),
        false,
    );
    assert!(ok, "{stdout}");
    let (ok, stdout) = check(
        &destination(&format!("{secret}\nsegments = [\"cold\"]")),
        false,
    );
    assert!(!ok);
    assert!(
        stdout.contains("destination \"crm\": no segment named \"cold\""),
        "{stdout}"
    );
    let (ok, stdout) = check(
        &destination("secret = \"hunter2\"\nsegments = [\"hot\"]"),
        false,
    );
    assert!(!ok);
    assert!(
        stdout.contains("secret must start with \"whsec_\""),
        "{stdout}"
    );
    assert!(
        !stdout.contains("hunter2"),
        "secrets are never printed: {stdout}"
    );
}

#[test]
fn digests_must_name_a_destination_segments_and_a_schedule_that_exist() {
    let base = "[[segment]]\nname = \"hot\"\nsubject = \"contact\"\nwhen = 'exists(any)'\n\
        [[destination]]\nname = \"revops\"\nurl = \"https://hooks.example/in\"\n\
        secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n";
    let digest = |extra: &str| {
        format!("{base}[[digest]]\nname = \"weekly\"\nevery = \"week\"\ndestination = \"revops\"\n{extra}\n")
    };
    // A destination that only receives digests needs no subscription.
    let (ok, stdout) = check(
        &digest("day = \"friday\"\nhour = 16\ntimezone = \"America/Chicago\""),
        false,
    );
    assert!(ok, "{stdout}");
    for (extra, expected) in [
        (
            "segments = [\"cold\"]",
            "digest \"weekly\": segments: no segment named \"cold\"",
        ),
        (
            "timezone = \"Europe/Atlantis\"",
            "digest \"weekly\": timezone = \"Europe/Atlantis\" is not an IANA time zone",
        ),
        (
            "hour = 25",
            "digest \"weekly\": hour = 25 is not from 0 to 23",
        ),
        ("outcome = 'count('", "digest \"weekly\": outcome"),
    ] {
        let (ok, stdout) = check(&digest(extra), false);
        assert!(!ok, "{extra}: {stdout}");
        assert!(stdout.contains(expected), "{extra}: {stdout}");
    }
    let (ok, stdout) = check(
        &format!(
            "{base}segments = [\"hot\"]\n[[digest]]\nname = \"w\"\nevery = \"week\"\ndestination = \"slack\"\n"
        ),
        false,
    );
    assert!(!ok);
    assert!(
        stdout.contains("destination = \"slack\": no [[destination]] has that name"),
        "{stdout}"
    );
}
