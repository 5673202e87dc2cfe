//! The side-by-side benchmark harness (`bench/full.py`) in quick mode: it
//! generates a tiny data set, evaluates the 13 segments, 3 scores and 2 tiers
//! in Bellwether, DuckDB and PostgreSQL (hand-written SQL, and the SQL
//! `bellwether sql` compiles, with ClickHouse too), and must find identical results;
//! and it must fail, naming the difference, when one peer's SQL disagrees.

use std::path::Path;
use std::process::{Command, Output};

use crate::harness::{binary, pg_url, repo_root, unique};

fn python() -> String {
    std::env::var("BELLWETHER_TEST_PYTHON")
        .unwrap_or_else(|_| repo_root().join(".venv/bin/python").display().to_string())
}

fn run_harness(work: &Path, sql: &Path, export: &str) -> Output {
    Command::new(python())
        .arg(repo_root().join("bench/full.py"))
        .args(["--scale", "quick", "--runs", "1", "--samples", "20"])
        .args(["--export", export])
        .arg("--bellwether")
        .arg(binary())
        .arg("--work")
        .arg(work)
        .arg("--sql")
        .arg(sql)
        .args(["--pg-url", &pg_url(), "--pg-schema", &unique("bench_quick")])
        .output()
        .expect("python runs")
}

#[test]
fn quick_mode_finds_identical_results_on_all_three_engines() {
    let work = tempfile::tempdir().unwrap();
    let output = run_harness(work.path(), &repo_root().join("bench/sql"), "auto");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("identical results"), "{stderr}");
    for row in ["| Bellwether |", "| DuckDB |", "| PostgreSQL |", "| p99 |"] {
        assert!(stdout.contains(row), "no {row} in the report:\n{stdout}");
    }
    assert!(stdout.contains("per contact"), "{stdout}");
}

#[test]
fn quick_mode_fails_and_names_the_difference_when_a_peer_disagrees() {
    let work = tempfile::tempdir().unwrap();
    let sql = work.path().join("sql");
    for engine in ["duckdb", "postgres"] {
        let from = repo_root().join("bench/sql").join(engine);
        std::fs::create_dir_all(sql.join(engine)).unwrap();
        for entry in std::fs::read_dir(&from).unwrap() {
            let path = entry.unwrap().path();
            let mut text = std::fs::read_to_string(&path).unwrap();
            if engine == "duckdb" && path.ends_with("20_segment_compliance_seeker.sql") {
                // The wrong quiz answer: other people.
                text = text.replace("= 'compliance'", "= 'speed'");
            }
            std::fs::write(sql.join(engine).join(path.file_name().unwrap()), text).unwrap();
        }
    }
    // Python's sqlite3 module exports here (the other test: the shell if
    // installed), so both export paths must give identical results.
    let output = run_harness(&work.path().join("work"), &sql, "module");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("MISMATCH: DuckDB differs") && stderr.contains("'compliance_seeker')"),
        "{stderr}"
    );
    assert!(!stderr.contains("MISMATCH: PostgreSQL"), "{stderr}");
}
