//! Differential tests of the compiled SQL (SPEC §6.1, §7): the same
//! definitions and messages go through `bellwether import` and `eval`, and
//! through `bellwether export` (CSV, and Parquet for DuckDB) and
//! `bellwether sql` run in DuckDB, PostgreSQL and ClickHouse (chDB); every engine must return eval's rows
//! (scores within 1e-9, relative). A failure prints the first differing rows.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{binary, pg_url, repo_root, unique};

/// One evaluation's rows, sorted.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    pub(crate) segments: Vec<Vec<String>>,
    tiers: Vec<Vec<String>>,
    scores: Vec<(Vec<String>, f64)>,
}

const OUTPUTS: [(&str, &str); 3] = [
    ("segments", ""),
    ("tiers", "--tiers"),
    ("scores", "--scores"),
];

/// A data directory imported from `messages` under `config`.
pub(crate) struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    pub(crate) fn new(config: &str, messages: &str) -> Case {
        Self::with_files(config, messages, &[])
    }

    /// A case whose config reads `files` (name, contents) beside it.
    pub(crate) fn with_files(config: &str, messages: &str, files: &[(&str, String)]) -> Case {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, contents) in files {
            std::fs::write(dir.path().join(name), contents).expect("write file");
        }
        std::fs::write(dir.path().join("bellwether.toml"), config).expect("write config");
        std::fs::write(dir.path().join("messages.ndjson"), messages).expect("write messages");
        let case = Case { dir };
        case.run(&["import", &case.file("messages.ndjson")]);
        case.run(&["export", "--out", &case.file("events.csv")]);
        case.run(&["export", "--out", &case.file("events.parquet")]);
        case
    }

    fn file(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn run(&self, args: &[&str]) -> String {
        let output = Command::new(binary())
            .args(args)
            .args(["--config", &self.file("bellwether.toml")])
            .args(match args[0] {
                "sql" => vec![],
                _ => vec!["--data".to_owned(), self.file("data")],
            })
            .output()
            .expect("bellwether runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "bellwether {args:?} failed: {stderr}"
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// `bellwether eval` at `at`.
    pub(crate) fn eval(&self, at: &str) -> Rows {
        let (segments, tiers, scores) = (
            self.file("eval.csv"),
            self.file("eval-tiers.csv"),
            self.file("eval-scores.csv"),
        );
        self.run(&[
            "eval", "--at", at, "--out", &segments, "--tiers", &tiers, "--scores", &scores,
        ]);
        Rows::read(&segments, &tiers, &scores)
    }

    /// Writes the three statements for `dialect`; returns their paths.
    fn statements(&self, dialect: &str, at: &str) -> Vec<String> {
        OUTPUTS
            .iter()
            .map(|(name, flag)| {
                let mut args = vec!["sql", "--dialect", dialect, "--at", at, "--seq"];
                args.extend((!flag.is_empty()).then_some(*flag));
                let path = self.file(&format!("{dialect}-{name}.sql"));
                std::fs::write(&path, self.run(&args)).expect("write statement");
                path
            })
            .collect()
    }

    /// The statements run by `tests/sql/run_sql.py` (duckdb, clickhouse)
    /// over the exported `events` file.
    pub(crate) fn python(&self, engine: &str, events: &str, at: &str) -> Rows {
        let statements = self.statements(engine, at);
        let outs: Vec<String> = OUTPUTS
            .iter()
            .map(|(name, _)| self.file(&format!("{engine}-{name}.csv")))
            .collect();
        let mut command = Command::new(python());
        command
            .arg(repo_root().join("crates/cli/tests/sql/run_sql.py"))
            .arg(engine)
            .arg(self.file(events));
        for (statement, out) in statements.iter().zip(&outs) {
            command.arg(statement).arg(out);
        }
        let output = command.output().expect("python runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{engine} failed: {stderr}");
        Rows::read(&outs[0], &outs[1], &outs[2])
    }

    /// The statements run in PostgreSQL, in a schema of their own.
    pub(crate) fn postgres(&self, at: &str) -> Rows {
        let statements = self.statements("postgres", at);
        let mut client =
            postgres::Client::connect(&pg_url(), postgres::NoTls).expect("PostgreSQL reachable");
        let schema = unique("sql_diff");
        client
            .batch_execute(&format!(
                "CREATE SCHEMA {schema}; SET search_path = {schema}; SET TIME ZONE 'Asia/Kolkata';
                 CREATE TABLE bellwether_events (contact_id text, account_id text, type text,
                   event text, properties text, traits text, ts timestamptz, seq bigint);"
            ))
            .expect("create table");
        let csv = std::fs::read(self.file("events.csv")).expect("read events");
        let mut writer = client
            .copy_in("COPY bellwether_events FROM STDIN WITH (FORMAT csv, HEADER true)")
            .expect("copy");
        std::io::Write::write_all(&mut writer, &csv).expect("copy rows");
        writer.finish().expect("copy done");
        let tables: Vec<Vec<Vec<String>>> = statements
            .iter()
            .map(|path| {
                let sql = std::fs::read_to_string(path).expect("read statement");
                let messages = client.simple_query(&sql).expect("statement runs");
                messages
                    .iter()
                    .filter_map(|m| match m {
                        postgres::SimpleQueryMessage::Row(row) => Some(
                            (0..row.len())
                                .map(|i| row.get(i).unwrap_or("").to_owned())
                                .collect(),
                        ),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        client
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .expect("drop schema");
        Rows::from_tables(tables[0].clone(), tables[1].clone(), tables[2].clone())
    }

    /// eval's rows at `at` equal every engine's; returns them.
    pub(crate) fn assert_engines_agree(&self, at: &str) -> Rows {
        let expected = self.eval(at);
        for (engine, rows) in [
            ("duckdb", self.python("duckdb", "events.csv", at)),
            (
                "duckdb over parquet",
                self.python("duckdb", "events.parquet", at),
            ),
            ("clickhouse", self.python("clickhouse", "events.csv", at)),
            ("postgres", self.postgres(at)),
        ] {
            expected.assert_same(&rows, engine, self.dir.path());
        }
        expected
    }
}

fn python() -> String {
    std::env::var("BELLWETHER_TEST_PYTHON")
        .unwrap_or_else(|_| repo_root().join(".venv/bin/python").display().to_string())
}

impl Rows {
    fn read(segments: &str, tiers: &str, scores: &str) -> Rows {
        let table = |path: &str| {
            let text = std::fs::read_to_string(path).expect("read result");
            parse_csv(&text).into_iter().skip(1).collect()
        };
        Rows::from_tables(table(segments), table(tiers), table(scores))
    }

    fn from_tables(
        mut segments: Vec<Vec<String>>,
        mut tiers: Vec<Vec<String>>,
        scores: Vec<Vec<String>>,
    ) -> Rows {
        segments.sort();
        tiers.sort();
        let mut scores: Vec<(Vec<String>, f64)> = scores
            .into_iter()
            .map(|mut row| {
                let value = row.pop().unwrap_or_default();
                (row, value.parse().unwrap_or(f64::NAN))
            })
            .collect();
        scores.sort_by(|a, b| a.0.cmp(&b.0));
        Rows {
            segments,
            tiers,
            scores,
        }
    }

    fn assert_same(&self, peer: &Rows, engine: &str, dir: &Path) {
        first_difference("segments", &self.segments, &peer.segments, engine, dir);
        first_difference("tiers", &self.tiers, &peer.tiers, engine, dir);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
        let keys = |rows: &[(Vec<String>, f64)]| rows.iter().map(|r| r.0.clone()).collect();
        first_difference(
            "scores",
            &keys(&self.scores),
            &keys(&peer.scores),
            engine,
            dir,
        );
        let differing: Vec<String> = self
            .scores
            .iter()
            .zip(&peer.scores)
            .filter(|(a, b)| !close(a.1, b.1))
            .take(5)
            .map(|(a, b)| format!("{:?}: eval {} vs {engine} {}", a.0, a.1, b.1))
            .collect();
        assert!(
            differing.is_empty(),
            "{engine} scores differ from eval (files in {}):\n{}",
            dir.display(),
            differing.join("\n")
        );
    }
}

/// Fails naming the first rows only one side has.
fn first_difference(
    what: &str,
    expected: &Vec<Vec<String>>,
    actual: &Vec<Vec<String>>,
    engine: &str,
    dir: &Path,
) {
    if expected == actual {
        return;
    }
    let missing: Vec<_> = expected
        .iter()
        .filter(|r| !actual.contains(r))
        .take(5)
        .collect();
    let extra: Vec<_> = actual
        .iter()
        .filter(|r| !expected.contains(r))
        .take(5)
        .collect();
    panic!(
        "{engine} {what} differ from eval ({} vs {} rows; files in {}; kept for inspection)\n  only in eval: {missing:?}\n  only in {engine}: {extra:?}",
        expected.len(),
        actual.len(),
        keep(dir).display()
    );
}

/// Keeps a failing case's files (statements, CSVs) for inspection.
fn keep(dir: &Path) -> PathBuf {
    let kept = std::env::temp_dir().join(unique("bellwether-sql-failure"));
    let _ = Command::new("cp").arg("-a").arg(dir).arg(&kept).status();
    kept
}

/// RFC 4180 CSV: quoted fields with doubled quotes, no quotes otherwise.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field) = (Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[test]
fn b2b_definitions_on_generated_data_agree_in_every_engine() {
    let generated = Command::new(binary())
        .args([
            "gen",
            "--seed",
            "7",
            "--events",
            "12000",
            "--contacts",
            "240",
        ])
        .args(["--end", "2026-11-01T00:00:00Z"])
        .output()
        .expect("gen runs");
    assert!(generated.status.success());
    let config = std::fs::read_to_string(repo_root().join("examples/b2b.toml")).expect("b2b");
    let case = Case::new(&config, &String::from_utf8_lossy(&generated.stdout));
    let end = case.assert_engines_agree("2026-11-01T00:00:00Z");
    // Mid-history: windows, caps and decay at another instant.
    let middle = case.assert_engines_agree("2026-09-15T12:34:56.789Z");
    for rows in [end, middle] {
        assert!(rows.segments.len() > 50 && rows.tiers.len() > 100 && rows.scores.len() > 200);
    }
}

/// Firmographics from an enrichment table (`gen --tables`: group calls
/// carry only name, domain and tech) reach the compiled SQL through the
/// exported table exactly as the engine reads them: the fit score and the
/// account segments agree.
#[test]
fn enriched_traits_agree_in_every_engine() {
    let tables = tempfile::tempdir().expect("tempdir");
    let generated = Command::new(binary())
        .args([
            "gen",
            "--seed",
            "3",
            "--events",
            "8000",
            "--contacts",
            "160",
        ])
        .args(["--end", "2026-11-01T00:00:00Z", "--tables"])
        .arg(tables.path())
        .output()
        .expect("gen runs");
    assert!(generated.status.success());
    let read = |name: &str| std::fs::read_to_string(tables.path().join(name)).expect("table");
    let mut config = std::fs::read_to_string(repo_root().join("examples/b2b.toml")).expect("b2b");
    config.push_str(
        "\n[[enrichment]]\nkind = \"domains\"\nfile = \"companies.csv\"\n\
         [[enrichment]]\nkind = \"ip\"\nfile = \"ranges.csv\"\n",
    );
    let case = Case::with_files(
        &config,
        &String::from_utf8_lossy(&generated.stdout),
        &[
            ("companies.csv", read("companies.csv")),
            ("ranges.csv", read("ranges.csv")),
        ],
    );
    let rows = case.assert_engines_agree("2026-11-01T00:00:00Z");
    // Score rows: (kind, id, score) and the value.
    let fit_scores = rows
        .scores
        .iter()
        .filter(|(key, value)| key.get(2).is_some_and(|score| score == "fit") && *value > 0.0)
        .count();
    assert!(
        fit_scores > 10,
        "the table's firmographics give fit: {fit_scores}"
    );
}

#[test]
fn every_construct_agrees_in_every_engine_at_several_instants() {
    let dir = repo_root().join("crates/cli/tests/sql");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("case file");
    let case = Case::new(&read("constructs.toml"), &read("constructs.ndjson"));
    let mut memberships = 0;
    for at in [
        "2026-10-06T00:00:00Z",
        "2026-10-03T10:30:00Z",
        "2026-10-02T09:00:00.001Z",
        "2026-10-05T00:00:00Z",
    ] {
        memberships += case.assert_engines_agree(at).segments.len();
    }
    assert!(
        memberships > 40,
        "the case exercises the segments: {memberships}"
    );
}
