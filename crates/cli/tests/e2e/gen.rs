//! `bellwether gen` end to end: its output imports cleanly and every one of
//! the 12 shipped segments has members on it, as `bellwether eval` reports;
//! the same seed writes the same bytes to standard output.

use std::collections::BTreeSet;
use std::process::Command;

use crate::harness::{binary, repo_root};

const END: &str = "2026-11-01T00:00:00Z";

fn run(args: &[&str]) -> std::process::Output {
    let output = Command::new(binary()).args(args).output().expect("runs");
    assert!(
        output.status.success(),
        "bellwether {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn generated_data_imports_and_fills_every_shipped_segment() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.ndjson");
    let store = dir.path().join("store");
    let csv = dir.path().join("members.csv");
    let config = repo_root().join("examples/b2b.toml");
    let (data, store, csv, config) = (
        data.display().to_string(),
        store.display().to_string(),
        csv.display().to_string(),
        config.display().to_string(),
    );
    run(&[
        "gen", "--seed", "5", "--events", "60000", "--end", END, "--out", &data,
    ]);
    let text = std::fs::read_to_string(&data).unwrap();
    assert_eq!(text.lines().count(), 60_000);

    let imported = run(&["import", &data, "--config", &config, "--data", &store]);
    let summary = String::from_utf8_lossy(&imported.stdout).to_string()
        + &String::from_utf8_lossy(&imported.stderr);
    assert!(
        summary.contains("60000 stored, 0 duplicates, 0 rejected"),
        "{summary}"
    );

    run(&[
        "eval", "--config", &config, "--data", &store, "--at", END, "--out", &csv,
    ]);
    let members = std::fs::read_to_string(&csv).unwrap();
    let filled: BTreeSet<&str> = members
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit(',').next())
        .collect();
    let shipped = [
        "activated_trial",
        "buying_committee_active",
        "churn_risk",
        "collaborative_team",
        "compliance_seeker",
        "content_researcher",
        "dormant",
        "expansion_ready",
        "fast_activator",
        "hot_intent",
        "power_user",
        "silent_fit_account",
    ];
    for segment in shipped {
        assert!(
            filled.contains(segment),
            "{segment} has no members: {filled:?}"
        );
    }
}

#[test]
fn the_same_seed_writes_the_same_bytes_to_standard_output() {
    let args = ["gen", "--seed", "9", "--events", "3000", "--end", END];
    let first = run(&args).stdout;
    assert_eq!(first, run(&args).stdout);
    assert_eq!(first.iter().filter(|b| **b == b'\n').count(), 3_000);
    let other = run(&["gen", "--seed", "10", "--events", "3000", "--end", END]).stdout;
    assert_ne!(first, other);
}
