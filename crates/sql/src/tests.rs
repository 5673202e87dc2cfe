//! The statement's shape and the refusals. That the SQL returns `eval`'s
//! rows is checked against the real engines in `crates/cli/tests/e2e/sql*.rs`.

use bellwether_rules::RuleSet;

use crate::{compile, Dialect, Options, Output, SqlError, TieOrder};

const DEFINITIONS: &str = r#"
[[score]]
name = "intent"
half_life = "14d"
rules = [ { on = '"Email Opened"', points = 2, cap = "10 per day" } ]

[[segment]]
name = "hot"
when = 'score("intent") >= 10 and count(page, last 7d) >= 2'

[[tier]]
name = "level"
levels = [ { name = "high", when = 'in_segment("hot")' }, { name = "low", when = 'true' } ]
"#;

fn options(dialect: Dialect, output: Output) -> Options {
    Options {
        dialect,
        at: Some(1_793_491_200_000),
        output,
        ties: TieOrder::SeqColumn,
    }
}

fn statement(definitions: &str, dialect: Dialect) -> Result<String, SqlError> {
    let rules = RuleSet::from_toml("test.toml", definitions).expect("valid definitions");
    compile(&rules, &options(dialect, Output::Segments))
}

/// The names of the CTEs, in order.
fn ctes(sql: &str) -> Vec<&str> {
    sql.lines()
        .filter_map(|line| line.strip_suffix(" AS ("))
        .collect()
}

#[test]
fn one_cte_per_definition_in_dependency_order_with_its_helpers_before_it() {
    let sql = statement(DEFINITIONS, Dialect::DuckDb).expect("compiles");
    assert_eq!(
        ctes(&sql),
        [
            "messages",
            "events",
            "contacts",
            "accounts",
            "score_intent__1_points",
            "score_intent",
            "segment_hot__1_count",
            "segment_hot",
            "tier_level",
        ]
    );
    assert!(
        sql.contains("-- segment hot (contact): member or not."),
        "{sql}"
    );
    assert!(
        sql.trim_end().ends_with("ORDER BY kind, id, segment"),
        "{sql}"
    );
}

#[test]
fn every_dialect_compiles_every_output_with_its_own_json_and_time() {
    let rules = RuleSet::from_toml("test.toml", DEFINITIONS).expect("valid");
    for (dialect, json, time) in [
        (
            Dialect::DuckDb,
            "CAST(properties AS JSON) AS props_json",
            "epoch_ms(ts)",
        ),
        (
            Dialect::Postgres,
            "CAST(properties AS jsonb)",
            "extract(epoch FROM ts)",
        ),
        (
            Dialect::ClickHouse,
            "properties AS props_json",
            "toUnixTimestamp64Milli(ts)",
        ),
    ] {
        for (output, columns) in [
            (Output::Segments, "AS segment"),
            (Output::Scores, "AS score, value"),
            (Output::Tiers, "AS tier, level"),
        ] {
            let sql = compile(&rules, &options(dialect, output)).expect("compiles");
            assert!(sql.contains(json) && sql.contains(time), "{dialect}: {sql}");
            assert!(sql.contains(columns), "{dialect} {output:?}: {sql}");
            assert!(
                sql.contains("1793491200000"),
                "the instant is a literal: {sql}"
            );
        }
    }
}

#[test]
fn without_an_instant_the_engine_clock_is_read() {
    let rules = RuleSet::from_toml("test.toml", DEFINITIONS).expect("valid");
    for (dialect, clock) in [
        (Dialect::DuckDb, "get_current_timestamp()"),
        (Dialect::Postgres, "statement_timestamp()"),
        (Dialect::ClickHouse, "now64(3)"),
    ] {
        let sql = compile(
            &rules,
            &Options {
                at: None,
                ..options(dialect, Output::Segments)
            },
        )
        .expect("compiles");
        assert!(sql.contains(clock), "{dialect}: {sql}");
    }
}

#[test]
fn without_a_seq_column_ties_follow_the_row() {
    let rules = RuleSet::from_toml("test.toml", DEFINITIONS).expect("valid");
    let sql = compile(
        &rules,
        &Options {
            ties: TieOrder::RowContent,
            ..options(Dialect::DuckDb, Output::Segments)
        },
    )
    .expect("compiles");
    assert!(
        sql.contains("row_number() OVER (ORDER BY epoch_ms(ts), contact_id"),
        "{sql}"
    );
    let with_seq = statement(DEFINITIONS, Dialect::DuckDb).expect("compiles");
    assert!(with_seq.contains("       seq AS seq"), "{with_seq}");
}

#[test]
fn strings_are_quoted_for_each_dialect() {
    let definitions = r#"
[[segment]]
name = "quoted"
when = "exists(\"It's \\\\ here\")"
"#;
    let duck = statement(definitions, Dialect::DuckDb).expect("compiles");
    assert!(duck.contains(r"e.event = 'It''s \ here'"), "{duck}");
    let clickhouse = statement(definitions, Dialect::ClickHouse).expect("compiles");
    assert!(
        clickhouse.contains(r"e.event = 'It''s \\ here'"),
        "{clickhouse}"
    );
}

#[test]
fn constructs_a_dialect_cannot_express_exactly_are_refused_by_name() {
    let regex = r#"
[[segment]]
name = "digits"
when = 'trait.phone matches "^\\d+$"'
"#;
    let error = statement(regex, Dialect::Postgres).expect_err("refused");
    assert_eq!(error.code(), "sql_unsupported");
    let message = error.to_string();
    assert!(message.starts_with("segment digits: matches"), "{message}");
    assert!(message.contains("postgres"), "{message}");
    for dialect in [Dialect::DuckDb, Dialect::ClickHouse] {
        assert!(
            statement(regex, dialect).is_ok(),
            "RE2 runs it in {dialect}"
        );
    }
    let trait_in_filter = r#"
[[segment]]
name = "same_plan"
when = 'exists("Upgraded" where plan = trait.plan)'
"#;
    let sql =
        statement(trait_in_filter, Dialect::ClickHouse).expect("a trait in a filter compiles");
    assert!(
        sql.contains("LEFT JOIN trait_contact_plan e_t1 ON e_t1.id = e.contact_id"),
        "{sql}"
    );
}

#[test]
fn dialect_names_parse() {
    assert_eq!(Dialect::parse("DuckDB"), Some(Dialect::DuckDb));
    assert_eq!(Dialect::parse("postgresql"), Some(Dialect::Postgres));
    assert_eq!(Dialect::parse("clickhouse"), Some(Dialect::ClickHouse));
    assert_eq!(Dialect::parse("mysql"), None);
}

#[test]
fn time_valued_traits_get_one_instant_cte_each_read_through_the_account() {
    let definitions = r#"
[[segment]]
name = "renewing"
when = '''days_until(account.renewal_date) between 0 and 180
  and days_since(trait.signed_up_at) > 14 and days_since(trait.dates.start) > 1
  and days_until(account.renewal_date) > 1'''

[[segment]]
name = "account_renewing"
subject = "account"
when = 'days_until(trait.renewal_date) <= 30'
"#;
    for dialect in [Dialect::DuckDb, Dialect::Postgres, Dialect::ClickHouse] {
        let sql = statement(definitions, dialect).expect("compiles");
        let names = ctes(&sql);
        let instants: Vec<&&str> = names.iter().filter(|n| n.starts_with("instant_")).collect();
        assert_eq!(
            instants,
            [
                &"instant_1_account_renewal_date",
                &"instant_2_contact_signed_up_at",
                &"instant_3_contact_dates_start"
            ],
            "{dialect}: one per trait path, shared by the account's definitions: {sql}"
        );
        // A contact reads its account's date through its account id.
        assert!(
            sql.contains("LEFT JOIN instant_1_account_renewal_date j1 ON j1.id = s.account_id"),
            "{dialect}: {sql}"
        );
        assert!(
            sql.contains("LEFT JOIN instant_1_account_renewal_date j1 ON j1.id = s.id"),
            "{dialect}: {sql}"
        );
        // Until: (instant − T) / day; since: (T − instant) / day.
        assert!(sql.contains("j1.v - "), "{dialect}: {sql}");
        assert!(
            sql.contains("1793491200000 AS BIGINT) - j2.v")
                || sql.contains("toInt64(1793491200000) - j2.v"),
            "{dialect}: {sql}"
        );
    }
}
