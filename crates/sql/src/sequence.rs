//! Sequences: `sequence(A then B [then C] [within D] [, W])` and
//! `each(last N A followed_by B [on prop] [within D])`.
//!
//! "Later" is timeline order, the `pos` of `events` (ts, then seq). Both are
//! window functions over the subject's events rather than joins of events
//! with events, so their cost is a sort whatever the planner estimates:
//! - a sequence follows the evaluator's greedy chain: from each A, the
//!   first later B, from that the first later C...; a chain with at most D
//!   from first to last exists exactly when a greedy one does;
//! - `each` ranks the lead events (latest first) and gives each the first
//!   later follower with the same `on` value.

use bellwether_rules::ir::{EachFollowed, Sel, Win};
use bellwether_rules::SubjectKind;

use crate::builder::{event_subject, Builder};
use crate::error::SqlError;

/// The first later row of the partition that `hit` marks: `column` of it.
fn next_hit(column: &str, hit: &str, partition: &str, order: &str) -> String {
    format!(
        "min(CASE WHEN {hit} THEN {column} END) OVER (PARTITION BY {partition} ORDER BY {order} ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)"
    )
}

impl Builder<'_> {
    /// The subjects for which the sequence holds.
    pub(crate) fn sequence(
        &mut self,
        kind: SubjectKind,
        steps: &[Sel],
        within: Option<i64>,
        win: &Win,
    ) -> Result<String, SqlError> {
        let id = event_subject(kind);
        let Some((first, rest)) = steps.split_first() else {
            return Err(self.unsupported("an empty sequence", "the checker forbids it"));
        };
        let scan = self.scan(kind, first, win, "e")?;
        let mut chain = self.helper(
            "chain",
            "sequence(...): chains started by the first step.".into(),
            format!(
                "SELECT e.{id} AS id, e.ts AS start_ts, e.ts AS ts, e.pos AS pos\nFROM {}\nWHERE {}",
                scan.from,
                scan.where_clause()
            ),
        );
        for step in rest {
            let scan = self.scan(kind, step, win, "e")?;
            // A hit sorts before a chain row at the same pos: the same event
            // cannot continue its own chain.
            let order = "pos, is_chain";
            let next_pos = next_hit("pos", "is_chain = 0", "id", order);
            let next_ts = next_hit("ts", "is_chain = 0", "id", order);
            chain = self.helper(
                "chain",
                "sequence(...): each chain continued by the first later hit of the next step.".into(),
                format!(
                    "SELECT id, start_ts, next_ts AS ts, next_pos AS pos FROM (\n  SELECT id, start_ts, is_chain,\n         {next_pos} AS next_pos,\n         {next_ts} AS next_ts\n  FROM (\n    SELECT id, start_ts, ts, pos, 1 AS is_chain FROM {chain}\n    UNION ALL\n    SELECT e.{id} AS id, 0 AS start_ts, e.ts AS ts, e.pos AS pos, 0 AS is_chain\n    FROM {}\n    WHERE {}\n  ) steps\n) continued\nWHERE is_chain = 1 AND next_pos IS NOT NULL",
                    scan.from,
                    scan.where_clause().replace('\n', "\n    ")
                ),
            );
        }
        let span = match within {
            Some(limit) => format!("\nWHERE ts - start_ts <= {}", self.dialect.int(limit)),
            None => String::new(),
        };
        Ok(self.helper(
            "sequence",
            format!(
                "sequence(...): the {}s with a complete chain.",
                kind.as_str()
            ),
            format!("SELECT DISTINCT id\nFROM {chain}{span}"),
        ))
    }

    /// Per subject with a lead event, `v`: whether its latest N `lead` events
    /// each have a later `follower` (a column, not a `HAVING` filter, so
    /// planners estimate the rows as a grouping's).
    pub(crate) fn each_followed(
        &mut self,
        kind: SubjectKind,
        each: &EachFollowed,
    ) -> Result<String, SqlError> {
        let d = self.dialect;
        let id = event_subject(kind);
        // The `on` value is read from the event alone (a page's `name` is its
        // name whichever selector matched it), so one key serves both roles.
        let key = match &each.on {
            Some(path) => {
                let property = self.property("e", &each.lead.base, path);
                self.key_text(&property)
            }
            None => "''".to_owned(),
        };
        let (lead_joins, lead) = self.selects(kind, &each.lead, "e")?;
        let (follower_joins, follower) = self.selects(kind, &each.follower, "e")?;
        let candidates = self.helper(
            "candidates",
            "each(...): events that lead or follow, with their `on` value.".into(),
            format!(
                "SELECT id, k, ts, pos, is_lead, is_follower FROM (\n  SELECT e.{id} AS id, {key} AS k, e.ts AS ts, e.pos AS pos,\n         CASE WHEN {lead} THEN 1 ELSE 0 END AS is_lead,\n         CASE WHEN {follower} THEN 1 ELSE 0 END AS is_follower\n  FROM events e{lead_joins}{follower_joins}\n) tagged\nWHERE is_lead = 1 OR is_follower = 1"
            ),
        );
        let next_ts = next_hit("ts", "is_follower = 1", "id, k", "pos");
        let within = match each.within {
            Some(limit) => format!(" AND next_ts - ts <= {}", d.int(limit)),
            None => String::new(),
        };
        let leads = self.helper(
            "leads",
            format!(
                "each(last {} ...): leads ranked latest first, with their first later follower.",
                each.count
            ),
            format!(
                "SELECT id, rn, CASE WHEN k IS NOT NULL AND next_ts IS NOT NULL{within} THEN 1 ELSE 0 END AS followed FROM (\n  SELECT id, k, ts, is_lead,\n         row_number() OVER (PARTITION BY id, is_lead ORDER BY pos DESC) AS rn,\n         {next_ts} AS next_ts\n  FROM {candidates}\n) ranked\nWHERE is_lead = 1"
            ),
        );
        let n = each.count;
        Ok(self.helper(
            "each",
            format!("each(last {n} ...): at least {n} leads, the latest {n} followed."),
            format!(
                "SELECT id, count(*) = {n} AND sum(followed) = {n} AS v\nFROM {leads}\nWHERE rn <= {n}\nGROUP BY id"
            ),
        ))
    }
}
