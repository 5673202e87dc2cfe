//! Sequences: `sequence(A then B [then C] [within D] [, W])` and
//! `each(last N A followed_by B [on prop] [within D])`.
//!
//! "Later" is timeline order: (ts, seq). A chain of steps exists with at
//! most D from first to last exactly when the evaluator's greedy earliest
//! continuation finds one, so a join of the steps gives the same answer.

use bellwether_rules::ir::{EachFollowed, Sel, Win};
use bellwether_rules::SubjectKind;

use crate::builder::{event_subject, Builder};
use crate::error::SqlError;

/// `b` comes after `a` in the timeline.
fn after(b: &str, a: &str) -> String {
    format!("({b}.ts > {a}.ts OR ({b}.ts = {a}.ts AND {b}.seq > {a}.seq))")
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
        let mut from = Vec::new();
        let mut conditions = Vec::new();
        for (index, step) in steps.iter().enumerate() {
            let alias = format!("e{index}");
            let scan = self.scan(kind, step, win, &alias)?;
            let (scan_from, scan_where) = (scan.from.clone(), scan.where_clause());
            if index == 0 {
                from.push(scan_from);
            } else {
                from.push(scan_from.replacen(
                    &format!("events {alias}"),
                    &format!("JOIN events {alias} ON {alias}.{id} = e0.{id}"),
                    1,
                ));
                conditions.push(after(&alias, &format!("e{}", index - 1)));
            }
            conditions.push(scan_where);
        }
        if let (Some(limit), Some(last)) = (within, steps.len().checked_sub(1)) {
            conditions.push(format!("e{last}.ts - e0.ts <= {}", self.dialect.int(limit)));
        }
        let body = format!(
            "SELECT DISTINCT e0.{id} AS id\nFROM {}\nWHERE {}",
            from.join("\n"),
            conditions.join("\n  AND ")
        );
        Ok(self.helper(
            "sequence",
            format!(
                "sequence(...): the {}s with a matching chain.",
                kind.as_str()
            ),
            body,
        ))
    }

    /// The subjects whose latest N `lead` events each have a later `follower`.
    pub(crate) fn each_followed(
        &mut self,
        kind: SubjectKind,
        each: &EachFollowed,
    ) -> Result<String, SqlError> {
        let d = self.dialect;
        let id = event_subject(kind);
        let key = |builder: &Self, alias: &str, sel: &Sel| match &each.on {
            Some(path) => builder.key_text(&builder.property(alias, &sel.base, path)),
            None => "''".to_owned(),
        };
        let lead_key = key(self, "e", &each.lead);
        let (lead_joins, lead_match) = self.selects(kind, &each.lead, "e")?;
        let leads = self.helper(
            "leads",
            format!("each(last {} ...): the latest lead events.", each.count),
            format!(
                "SELECT id, ts, seq, k, rn FROM (\n  SELECT e.{id} AS id, e.ts, e.seq, {lead_key} AS k,\n         row_number() OVER (PARTITION BY e.{id} ORDER BY e.ts DESC, e.seq DESC) AS rn\n  FROM events e{lead_joins}\n  WHERE {lead_match}\n) ranked\nWHERE rn <= {}",
                each.count
            ),
        );
        let follower_key = key(self, "f", &each.follower);
        let (follower_joins, follower_match) = self.selects(kind, &each.follower, "f")?;
        let mut conditions = vec![follower_match, after("f", "l")];
        if let Some(limit) = each.within {
            conditions.push(format!("f.ts - l.ts <= {}", d.int(limit)));
        }
        let followed = self.helper(
            "followed",
            "each(...): the lead events with a later matching follower.".into(),
            format!(
                "SELECT l.id AS id, l.rn AS rn\nFROM {leads} l\nJOIN events f ON f.{id} = l.id{follower_joins}\nWHERE l.k IS NOT NULL AND l.k = {follower_key}\n  AND {}\nGROUP BY l.id, l.rn",
                conditions.join("\n  AND ")
            ),
        );
        let n = each.count;
        Ok(self.helper(
            "each",
            format!("each(last {n} ...): at least {n} leads, each followed."),
            format!(
                "SELECT l.id AS id\nFROM {leads} l\nLEFT JOIN {followed} fl ON fl.id = l.id AND fl.rn = l.rn\nGROUP BY l.id\nHAVING count(*) = {n} AND count(fl.rn) = {n}"
            ),
        ))
    }
}
