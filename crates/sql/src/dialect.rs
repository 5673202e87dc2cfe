//! What differs between the engines: JSON access, types, time, literals.
//!
//! Every other module writes portable SQL and asks the [`Dialect`] for the
//! few fragments that differ. A JSON value read from `properties` or
//! `traits` (a *dynamic* value) is kept as JSON until an operator needs a
//! number, a string or a boolean: DuckDB's `JSON`, PostgreSQL's `jsonb`,
//! and ClickHouse's raw JSON text (`''` when absent, turned into `NULL`).

use std::fmt;

/// The SQL engine the statement is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// DuckDB (1.x and later).
    DuckDb,
    /// PostgreSQL (13 and later).
    Postgres,
    /// ClickHouse (23.x and later; `clickhouse-local` too).
    ClickHouse,
}

impl Dialect {
    /// Parses `duckdb`, `postgres` (or `postgresql`), `clickhouse`.
    pub fn parse(text: &str) -> Option<Dialect> {
        match text.to_ascii_lowercase().as_str() {
            "duckdb" => Some(Dialect::DuckDb),
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "clickhouse" => Some(Dialect::ClickHouse),
            _ => None,
        }
    }

    /// The name users type.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Postgres => "postgres",
            Dialect::ClickHouse => "clickhouse",
        }
    }

    /// A string literal. ClickHouse also treats a backslash as an escape.
    pub(crate) fn string(self, text: &str) -> String {
        let quoted = text.replace('\'', "''");
        match self {
            Dialect::ClickHouse => format!("'{}'", quoted.replace('\\', "\\\\")),
            _ => format!("'{quoted}'"),
        }
    }

    /// A double-precision literal (every number of the language is an f64).
    pub(crate) fn float(self, value: f64) -> String {
        let text = if value.is_infinite() {
            return self.infinity(value > 0.0);
        } else {
            format!("{value:?}")
        };
        match self {
            Dialect::DuckDb => format!("CAST({text} AS DOUBLE)"),
            Dialect::Postgres => format!("CAST({text} AS double precision)"),
            Dialect::ClickHouse => format!("toFloat64({text})"),
        }
    }

    fn infinity(self, positive: bool) -> String {
        let sign = if positive { "" } else { "-" };
        match self {
            Dialect::DuckDb => format!("CAST('{sign}infinity' AS DOUBLE)"),
            Dialect::Postgres => format!("CAST('{sign}Infinity' AS double precision)"),
            Dialect::ClickHouse => format!("{sign}inf"),
        }
    }

    /// `x` as a double.
    pub(crate) fn to_float(self, sql: &str) -> String {
        match self {
            Dialect::DuckDb => format!("CAST({sql} AS DOUBLE)"),
            Dialect::Postgres => format!("CAST({sql} AS double precision)"),
            Dialect::ClickHouse => format!("toFloat64({sql})"),
        }
    }

    /// `x` as text (`NULL` stays `NULL`).
    pub(crate) fn to_text(self, sql: &str) -> String {
        match self {
            Dialect::DuckDb => format!("CAST({sql} AS VARCHAR)"),
            Dialect::Postgres => format!("CAST({sql} AS text)"),
            Dialect::ClickHouse => format!("toString({sql})"),
        }
    }

    /// A 64-bit integer literal (instants and durations in ms).
    pub(crate) fn int(self, value: i64) -> String {
        match self {
            Dialect::ClickHouse => format!("toInt64({value})"),
            _ => format!("CAST({value} AS BIGINT)"),
        }
    }

    /// The text type.
    pub(crate) fn text_type(self) -> &'static str {
        match self {
            Dialect::ClickHouse => "String",
            _ => "VARCHAR",
        }
    }

    /// Milliseconds since the epoch of the `ts` column (timestamptz or
    /// DateTime64(3, 'UTC')): independent of the session's time zone.
    pub(crate) fn epoch_ms(self, column: &str) -> String {
        match self {
            Dialect::DuckDb => format!("epoch_ms({column})"),
            Dialect::Postgres => {
                format!("CAST(floor(extract(epoch FROM {column}) * 1000) AS BIGINT)")
            }
            Dialect::ClickHouse => format!("toUnixTimestamp64Milli({column})"),
        }
    }

    /// The statement's current instant in ms, when `--at` is absent.
    pub(crate) fn now_ms(self) -> String {
        match self {
            Dialect::DuckDb => "epoch_ms(get_current_timestamp())".to_owned(),
            Dialect::Postgres => {
                "CAST(floor(extract(epoch FROM statement_timestamp()) * 1000) AS BIGINT)".to_owned()
            }
            Dialect::ClickHouse => "toUnixTimestamp64Milli(now64(3))".to_owned(),
        }
    }

    /// A JSON text column as this dialect's dynamic value.
    pub(crate) fn parse_json(self, column: &str) -> String {
        match self {
            Dialect::DuckDb => format!("CAST({column} AS JSON)"),
            Dialect::Postgres => format!("CAST({column} AS jsonb)"),
            Dialect::ClickHouse => column.to_owned(),
        }
    }

    /// The value at `path` inside the dynamic value `json`; `NULL` when absent.
    pub(crate) fn json_get(self, json: &str, path: &[&str]) -> String {
        if path.is_empty() {
            return json.to_owned();
        }
        match self {
            Dialect::DuckDb => {
                let keys: String = path.iter().map(|k| format!(".\"{k}\"")).collect();
                format!("json_extract({json}, {})", self.string(&format!("${keys}")))
            }
            Dialect::Postgres => {
                let keys: Vec<String> = path.iter().map(|k| self.string(k)).collect();
                format!("({json} -> {})", keys.join(" -> "))
            }
            Dialect::ClickHouse => {
                let keys: Vec<String> = path.iter().map(|k| self.string(k)).collect();
                format!("nullIf(JSONExtractRaw({json}, {}), '')", keys.join(", "))
            }
        }
    }

    /// Whether the dynamic value `json` has the top-level key `key` (even
    /// with a `null` value: `null` unsets a trait).
    pub(crate) fn json_has(self, json: &str, key: &str) -> String {
        match self {
            Dialect::DuckDb => format!(
                "json_exists({json}, {})",
                self.string(&format!("$.\"{key}\""))
            ),
            Dialect::Postgres => format!("({json} ? {})", self.string(key)),
            Dialect::ClickHouse => format!("JSONHas({json}, {})", self.string(key)),
        }
    }

    /// A JSON type test on a dynamic value.
    pub(crate) fn is_kind(self, json: &str, kind: JsonKind) -> String {
        let names: &[&str] = match (self, kind) {
            (Dialect::DuckDb, JsonKind::Number) => &["BIGINT", "UBIGINT", "DOUBLE"],
            (Dialect::DuckDb, JsonKind::String) => &["VARCHAR"],
            (Dialect::DuckDb, JsonKind::Bool) => &["BOOLEAN"],
            (Dialect::DuckDb, JsonKind::Array) => &["ARRAY"],
            (Dialect::Postgres, JsonKind::Number) => &["number"],
            (Dialect::Postgres, JsonKind::String) => &["string"],
            (Dialect::Postgres, JsonKind::Bool) => &["boolean"],
            (Dialect::Postgres, JsonKind::Array) => &["array"],
            (Dialect::ClickHouse, JsonKind::Number) => &["Int64", "UInt64", "Double"],
            (Dialect::ClickHouse, JsonKind::String) => &["String"],
            (Dialect::ClickHouse, JsonKind::Bool) => &["Bool"],
            (Dialect::ClickHouse, JsonKind::Array) => &["Array"],
        };
        let function = match self {
            Dialect::DuckDb => format!("json_type({json})"),
            Dialect::Postgres => format!("jsonb_typeof({json})"),
            Dialect::ClickHouse => format!("toString(JSONType({json}))"),
        };
        let list: Vec<String> = names.iter().map(|n| self.string(n)).collect();
        format!("coalesce({function} IN ({}), false)", list.join(", "))
    }

    /// The number a dynamic value holds, else `NULL`.
    pub(crate) fn json_number(self, json: &str) -> String {
        let value = match self {
            Dialect::DuckDb => format!("CAST({json} AS DOUBLE)"),
            Dialect::Postgres => format!("CAST({json} AS double precision)"),
            Dialect::ClickHouse => format!("JSONExtractFloat({json})"),
        };
        format!(
            "CASE WHEN {} THEN {value} END",
            self.is_kind(json, JsonKind::Number)
        )
    }

    /// The string a dynamic value holds, else `NULL`.
    pub(crate) fn json_string(self, json: &str) -> String {
        let value = match self {
            Dialect::DuckDb => format!("json_extract_string({json}, '$')"),
            Dialect::Postgres => format!("({json} #>> '{{}}')"),
            Dialect::ClickHouse => format!("JSONExtractString({json})"),
        };
        format!(
            "CASE WHEN {} THEN {value} END",
            self.is_kind(json, JsonKind::String)
        )
    }

    /// The boolean a dynamic value holds, else `NULL`.
    pub(crate) fn json_bool(self, json: &str) -> String {
        let value = match self {
            Dialect::DuckDb => format!("CAST({json} AS BOOLEAN)"),
            Dialect::Postgres => format!("CAST({json} AS boolean)"),
            Dialect::ClickHouse => format!("(JSONExtractBool({json}) = 1)"),
        };
        format!(
            "CASE WHEN {} THEN {value} END",
            self.is_kind(json, JsonKind::Bool)
        )
    }

    /// A canonical text of an array value, for list equality.
    pub(crate) fn json_array_text(self, json: &str) -> String {
        let text = match self {
            Dialect::ClickHouse => json.to_owned(),
            _ => self.to_text(json),
        };
        format!(
            "CASE WHEN {} THEN {text} END",
            self.is_kind(json, JsonKind::Array)
        )
    }

    /// Whether some element of the JSON array `json` satisfies `test`
    /// (written over the element `alias`, itself a dynamic value).
    pub(crate) fn array_any(self, json: &str, alias: &str, test: &str) -> String {
        let array = self.is_kind(json, JsonKind::Array);
        match self {
            Dialect::DuckDb => format!(
                "({array} AND coalesce(len(list_filter(CAST(json_extract({json}, '$[*]') AS JSON[]), lambda {alias}: {test})) > 0, false))"
            ),
            Dialect::Postgres => format!(
                "({array} AND EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN {array} THEN {json} END) AS elements({alias}) WHERE {test}))"
            ),
            Dialect::ClickHouse => format!(
                "({array} AND arrayExists({alias} -> {test}, JSONExtractArrayRaw(ifNull({json}, ''))))"
            ),
        }
    }

    /// `text` starts with `prefix` (both strings).
    pub(crate) fn starts_with(self, text: &str, prefix: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("startsWith({text}, {prefix})"),
            _ => format!("starts_with({text}, {prefix})"),
        }
    }

    /// `text` contains `part` (both strings).
    pub(crate) fn contains_text(self, text: &str, part: &str) -> String {
        match self {
            Dialect::DuckDb => format!("contains({text}, {part})"),
            Dialect::Postgres => format!("(strpos({text}, {part}) > 0)"),
            Dialect::ClickHouse => format!("(position({text}, {part}) > 0)"),
        }
    }

    /// `text` has a match of the regular expression `pattern` (a literal),
    /// or `None` when the engine cannot run this pattern as Rust's `regex`
    /// crate does.
    pub(crate) fn regex(self, text: &str, pattern: &str) -> Option<String> {
        let literal = self.string(pattern);
        match self {
            // RE2: the syntax the `regex` crate follows.
            Dialect::DuckDb => Some(format!("regexp_matches({text}, {literal})")),
            Dialect::ClickHouse => Some(format!("match({text}, {literal})")),
            // PostgreSQL's ARE differs from RE2 beyond plain patterns.
            Dialect::Postgres => plain_pattern(pattern).then(|| format!("({text} ~ {literal})")),
        }
    }

    /// Byte-wise string order, as Rust compares strings.
    pub(crate) fn bytewise(self, sql: &str) -> String {
        match self {
            Dialect::Postgres => format!("({sql} COLLATE \"C\")"),
            _ => sql.to_owned(),
        }
    }

    /// 2 to the power `exponent`.
    pub(crate) fn exp2(self, exponent: &str) -> String {
        match self {
            Dialect::Postgres => format!("power(CAST(2 AS double precision), {exponent})"),
            _ => format!("pow(2.0, {exponent})"),
        }
    }

    /// `value div by` rounded down, for a BIGINT `value` of milliseconds and
    /// a positive constant: the double quotient of two integers below 2^53
    /// is never rounded across an integer, so `floor` is exact.
    pub(crate) fn div_floor(self, value: &str, by: i64) -> String {
        let quotient = format!(
            "floor({} / {})",
            self.to_float(value),
            self.float(by as f64)
        );
        match self {
            Dialect::ClickHouse => format!("toInt64({quotient})"),
            _ => format!("CAST({quotient} AS BIGINT)"),
        }
    }

    /// Statement-wide settings appended after the final `SELECT`.
    pub(crate) fn settings(self) -> &'static str {
        match self {
            // Outer joins fill unmatched columns with NULL, as in SQL.
            Dialect::ClickHouse => "\nSETTINGS join_use_nulls = 1",
            _ => "",
        }
    }
}

/// A pattern that means the same in RE2 and PostgreSQL's ARE: letters,
/// digits, common punctuation, classes, anchors, alternation, repetition.
fn plain_pattern(pattern: &str) -> bool {
    !pattern.contains('\\') && !pattern.contains("(?") && !pattern.contains("[[")
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON kinds an operator reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JsonKind {
    Number,
    String,
    Bool,
    Array,
}
