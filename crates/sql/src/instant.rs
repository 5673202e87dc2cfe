//! `days_until(trait.x)` and `days_since(trait.x)`: the RFC 3339 instant a
//! trait holds, parsed in SQL exactly as the evaluator parses it
//! (`bellwether_rules`' `parse_rfc3339`), so both agree on every string:
//!
//! ```text
//! YYYY-MM-DD (T|t) HH:MM:SS [.digits] (Z|z|±HH:MM)
//! ```
//!
//! with a real calendar date, hours 00–23, minutes and seconds 00–59 and
//! offsets up to ±23:59; fractions truncated to the millisecond. Anything
//! else has no row in the CTE, which reads as missing, like in the
//! evaluator. The calendar arithmetic is integer arithmetic written once
//! for every dialect (H. Hinnant's days-from-civil), not the engine's own
//! timestamp parser: engines differ on what they accept, and an invalid
//! date must be missing, never a run-time error.

use bellwether_rules::ir::{DaysDirection, PropPath, TraitScope};
use bellwether_rules::{SubjectKind, DAY, HOUR, MINUTE, SECOND};

use crate::builder::{sanitize, Builder, Frame};
use crate::dialect::Dialect;
use crate::value::{Sql, Ty};

/// What the first level of the CTE checks before any digit is read.
const RFC3339: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$";

impl Builder<'_> {
    /// The days between T and the trait's instant, as a number (`NULL`:
    /// missing).
    pub(crate) fn trait_days(
        &mut self,
        direction: DaysDirection,
        scope: TraitScope,
        path: &PropPath,
        frame: &mut Frame,
    ) -> Sql {
        let via_account = scope == TraitScope::Account && frame.subject == SubjectKind::Contact;
        let owner = if via_account {
            SubjectKind::Account
        } else {
            frame.subject
        };
        let cte = self.instant_cte(owner, path);
        let alias = frame.join(&cte, via_account);
        let d = self.dialect;
        // The evaluator's closed form at T: ±(T − instant) / DAY, with the
        // integer difference converted once (exact below 2^53).
        let difference = match direction {
            DaysDirection::Since => format!("{} - {alias}.v", self.now),
            DaysDirection::Until => format!("{alias}.v - {}", self.now),
        };
        Sql::new(
            Ty::Num,
            format!("{} / {}", d.to_float(&difference), d.float(DAY as f64)),
        )
    }

    /// `instant_<n>_<owner>_<path>`: one row per subject whose trait holds
    /// an RFC 3339 date-time at T, `v` its instant in ms.
    fn instant_cte(&mut self, owner: SubjectKind, path: &PropPath) -> String {
        let keys: Vec<&str> = path.segments().iter().map(|k| &**k).collect();
        let number = self.instant_number(owner, &keys);
        let name = format!(
            "instant_{number}_{}_{}",
            owner.as_str(),
            sanitize(&keys.join("_"))
        );
        if self.has(&name) {
            return name;
        }
        let d = self.dialect;
        let trait_cte = self.trait_cte(owner, path.first(), 0);
        let text = d.json_string(&d.json_get("value", &keys[1..]));
        let body = instant_body(d, &trait_cte, &text, &self.dialect_regex());
        let comment = format!(
            "{} trait {:?} at T as an RFC 3339 instant in ms (no row: missing).",
            owner.as_str(),
            keys.join(".")
        );
        self.add(name, comment, body)
    }

    /// `s` matches [`RFC3339`] (a pattern every dialect runs alike).
    fn dialect_regex(&self) -> String {
        let pattern = self.dialect.string(RFC3339);
        match self.dialect {
            Dialect::DuckDb => format!("regexp_full_match(s, {pattern})"),
            Dialect::Postgres => format!("(s ~ {pattern})"),
            Dialect::ClickHouse => format!("match(s, {pattern})"),
        }
    }
}

/// A 1-based substring of `s` as an integer (only read where the pattern
/// guarantees ASCII digits; still never a cast error).
fn digits(d: Dialect, start: &str, len: usize) -> String {
    let part = format!("substring(s, {start}, {len})");
    match d {
        Dialect::DuckDb => format!("TRY_CAST({part} AS BIGINT)"),
        Dialect::Postgres => {
            format!("CASE WHEN {part} ~ '^[0-9]+$' THEN CAST({part} AS BIGINT) END")
        }
        Dialect::ClickHouse => format!("toInt64OrNull({part})"),
    }
}

fn instant_body(d: Dialect, trait_cte: &str, text: &str, matches: &str) -> String {
    let (year, month, day) = (digits(d, "1", 4), digits(d, "6", 2), digits(d, "9", 2));
    let (hour, minute, second) = (digits(d, "12", 2), digits(d, "15", 2), digits(d, "18", 2));
    // Fraction digits: what lies between position 20 (`.`) and the offset.
    let fraction = "n - 20 - CASE WHEN zulu THEN 1 ELSE 6 END";
    let millis = format!(
        "CASE WHEN {fraction} >= 3 THEN {} WHEN {fraction} = 2 THEN {} * 10 WHEN {fraction} = 1 THEN {} * 100 ELSE 0 END",
        digits(d, "21", 3),
        digits(d, "21", 2),
        digits(d, "21", 1)
    );
    let offset_hours = format!("CASE WHEN zulu THEN 0 ELSE {} END", digits(d, "n - 4", 2));
    let offset_minutes = format!("CASE WHEN zulu THEN 0 ELSE {} END", digits(d, "n - 1", 2));
    let sign = "CASE WHEN substring(s, n - 5, 1) = '-' THEN -1 ELSE 1 END";
    let parts = format!(
        "SELECT id, {year} AS y, {month} AS mo, {day} AS d, {hour} AS h, {minute} AS mi, {second} AS sec,\n         {millis} AS ms,\n         {offset_hours} AS oh, {offset_minutes} AS om, {sign} AS osign\n  FROM (\n    SELECT id, s, length(s) AS n, substring(s, length(s), 1) IN ('Z', 'z') AS zulu\n    FROM (SELECT id, {text} AS s FROM {trait_cte}) raw\n    WHERE {matches}\n  ) checked"
    );
    // Days since the epoch of (y, mo, d), as `days_from_civil` in the rules.
    let shifted_year = "(y - CASE WHEN mo <= 2 THEN 1 ELSE 0 END)";
    let shifted_month = "(CASE WHEN mo > 2 THEN mo - 3 ELSE mo + 9 END)";
    let days = format!(
        "(365 * {shifted_year} + {} - {} + {} + {} + d - 1 - 719468)",
        d.div_floor(shifted_year, 4),
        d.div_floor(shifted_year, 100),
        d.div_floor(shifted_year, 400),
        d.div_floor(&format!("153 * {shifted_month} + 2"), 5),
    );
    let instant = format!(
        "{days} * {DAY} + h * {HOUR} + mi * {MINUTE} + sec * {SECOND} + ms - osign * (oh * 60 + om) * {MINUTE}"
    );
    let month_days = "CASE WHEN mo = 2 THEN CASE WHEN (y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0 THEN 29 ELSE 28 END WHEN mo IN (4, 6, 9, 11) THEN 30 ELSE 31 END";
    format!(
        "SELECT id, {} AS v\nFROM (\n  {parts}\n) parts\nWHERE mo BETWEEN 1 AND 12 AND d BETWEEN 1 AND {month_days}\n  AND h <= 23 AND mi <= 59 AND sec <= 59 AND oh <= 23 AND om <= 59",
        int64(d, &instant)
    )
}

/// A BIGINT expression, typed as such in every dialect.
fn int64(d: Dialect, sql: &str) -> String {
    match d {
        Dialect::ClickHouse => format!("toInt64({sql})"),
        _ => format!("CAST({sql} AS BIGINT)"),
    }
}
