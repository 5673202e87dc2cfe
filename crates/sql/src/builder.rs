//! The statement under construction: its CTEs in dependency order, the
//! base CTEs every definition reads (`messages`, `events`, `contacts`,
//! `accounts`, trait values), and the [`Frame`] of one subject-level query.

use std::collections::HashSet;

use bellwether_rules::{RuleSet, SubjectKind};

use crate::dialect::Dialect;
use crate::error::SqlError;

/// One `name AS (...)` of the `WITH` list.
struct Cte {
    name: String,
    comment: String,
    body: String,
}

/// How `bellwether_events` orders events that share a millisecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TieOrder {
    /// The table has a `seq` column (the store's arrival order, which
    /// `bellwether export` writes): ties follow it, as in the engine.
    SeqColumn,
    /// No `seq` column: ties are ordered by the row's own columns.
    RowContent,
}

pub(crate) struct Builder<'r> {
    pub(crate) dialect: Dialect,
    pub(crate) rules: &'r RuleSet,
    /// The evaluation instant T in ms (a literal or the engine's clock).
    pub(crate) now: String,
    pub(crate) ties: TieOrder,
    ctes: Vec<Cte>,
    names: HashSet<String>,
    /// The definition being compiled (`segment hot_intent`), for errors.
    pub(crate) definition: String,
    /// Its CTE name (`segment_hot_intent`), the prefix of its helpers.
    pub(crate) prefix: String,
    counter: usize,
    /// Numbers the joins of traits read inside filters (unique aliases).
    pub(crate) trait_joins: usize,
    /// The property paths definitions read: `events` extracts each once,
    /// as column `p<index + 1>_<path>`.
    properties: Vec<Vec<String>>,
    /// The time-valued traits read (`days_until(trait.x)`), numbered so
    /// that `a.b` and `a_b` get CTEs of their own.
    instants: Vec<(SubjectKind, Vec<String>)>,
}

impl<'r> Builder<'r> {
    pub(crate) fn new(
        dialect: Dialect,
        rules: &'r RuleSet,
        at: Option<i64>,
        ties: TieOrder,
    ) -> Self {
        let now = match at {
            Some(at) => dialect.int(at),
            None => dialect.now_ms(),
        };
        let mut builder = Builder {
            dialect,
            rules,
            now,
            ties,
            ctes: Vec::new(),
            names: HashSet::new(),
            definition: String::new(),
            prefix: String::new(),
            counter: 0,
            trait_joins: 0,
            properties: Vec::new(),
            instants: Vec::new(),
        };
        builder.base();
        builder
    }

    /// Starts a definition: its helpers are named after it.
    pub(crate) fn start(&mut self, definition: String, prefix: String) {
        self.definition = definition;
        self.prefix = prefix;
        self.counter = 0;
    }

    /// Adds a CTE; returns its name.
    pub(crate) fn add(&mut self, name: String, comment: String, body: String) -> String {
        if self.names.insert(name.clone()) {
            self.ctes.push(Cte {
                name: name.clone(),
                comment,
                body,
            });
        }
        name
    }

    /// Adds a helper CTE of the current definition (`<prefix>__<n>_<what>`).
    pub(crate) fn helper(&mut self, what: &str, comment: String, body: String) -> String {
        self.counter += 1;
        let name = format!("{}__{}_{what}", self.prefix, self.counter);
        self.add(name, comment, body)
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    pub(crate) fn unsupported(&self, construct: &str, reason: &str) -> SqlError {
        SqlError::Unsupported {
            definition: self.definition.clone(),
            construct: construct.to_owned(),
            dialect: self.dialect,
            reason: reason.to_owned(),
        }
    }

    /// The `events` column holding property `path` (registered on first use).
    pub(crate) fn property_column(&mut self, path: &[std::sync::Arc<str>]) -> String {
        let path: Vec<String> = path.iter().map(|k| k.to_string()).collect();
        let index = match self.properties.iter().position(|p| *p == path) {
            Some(index) => index,
            None => {
                self.properties.push(path);
                self.properties.len() - 1
            }
        };
        property_name(index, &self.properties[index])
    }

    /// The number of the time-valued trait `path` of `owner` subjects
    /// (registered on first use).
    pub(crate) fn instant_number(&mut self, owner: SubjectKind, path: &[&str]) -> usize {
        let key = (owner, path.iter().map(|k| (*k).to_owned()).collect());
        match self.instants.iter().position(|known| *known == key) {
            Some(index) => index + 1,
            None => {
                self.instants.push(key);
                self.instants.len()
            }
        }
    }

    /// `events`: behavior at or before T with its timeline position and the
    /// properties read, each extracted from the JSON once.
    fn events_body(&self) -> String {
        let d = self.dialect;
        let mut columns = String::new();
        for (index, path) in self.properties.iter().enumerate() {
            let keys: Vec<&str> = path.iter().map(String::as_str).collect();
            columns.push_str(&format!(
                ",\n       {} AS {}",
                d.json_get("props_json", &keys),
                property_name(index, path)
            ));
        }
        // Read from the table itself, not `messages`: planners estimate the
        // rows from the table's statistics (PostgreSQL picks hash joins).
        format!(
            "SELECT contact_id, account_id, type, event, ts, seq,\n       row_number() OVER (ORDER BY ts, seq) AS pos{columns}\nFROM (\n  SELECT contact_id, account_id, type, event, {} AS ts, {} AS seq, {} AS props_json\n  FROM bellwether_events\n  WHERE type IN ('track', 'page', 'screen')\n) behavior\nWHERE ts <= {}",
            d.epoch_ms("ts"),
            self.seq_expression(),
            d.parse_json("properties"),
            self.now
        )
    }

    /// The tie-breaking order of a row of `bellwether_events`.
    fn seq_expression(&self) -> String {
        match self.ties {
            TieOrder::SeqColumn => "seq".to_owned(),
            TieOrder::RowContent => format!(
                "row_number() OVER (ORDER BY {}, contact_id, type, event, properties, traits)",
                self.dialect.epoch_ms("ts")
            ),
        }
    }

    /// The whole statement: the CTEs, then `select`.
    pub(crate) fn finish(mut self, select: &str) -> String {
        let events = self.events_body();
        if let Some(cte) = self.ctes.iter_mut().find(|cte| cte.name == "events") {
            cte.body = events;
        }
        let mut out = String::from("WITH\n");
        let count = self.ctes.len();
        for (index, cte) in self.ctes.iter().enumerate() {
            for line in cte.comment.lines() {
                out.push_str(&format!("-- {line}\n"));
            }
            out.push_str(&format!("{} AS (\n", cte.name));
            for line in cte.body.lines() {
                out.push_str(&format!("  {line}\n"));
            }
            out.push_str(if index + 1 < count { "),\n" } else { ")\n" });
        }
        out.push_str(select);
        out.push_str(self.dialect.settings());
        out
    }

    /// `messages` (every row, times in ms, a tie-breaking `seq`), `events`
    /// (behavior as of T), `contacts` and `accounts` (every subject the
    /// engine knows, whatever their first message's time).
    fn base(&mut self) {
        let d = self.dialect;
        let seq = self.seq_expression();
        self.add(
            "messages".into(),
            "Every stored message; ts in ms since the epoch (UTC), seq orders equal times.".into(),
            format!(
                "SELECT contact_id, account_id, type, event, properties, traits,\n       {} AS ts,\n       {seq} AS seq\nFROM bellwether_events",
                d.epoch_ms("ts")
            ),
        );
        // The body is written at the end, once every property read is known.
        self.add(
            "events".into(),
            "Behavior events (track, page, screen) at or before T; pos is their timeline\norder (ts, seq); p<n>_<path> are the properties the definitions read.".into(),
            String::new(),
        );
        self.add(
            "contacts".into(),
            "Every contact, with its current account (a group row names the group it sets traits of).".into(),
            "SELECT contact_id AS id,\n       coalesce(max(CASE WHEN type <> 'group' THEN account_id END), max(account_id)) AS account_id\nFROM messages\nWHERE contact_id IS NOT NULL\nGROUP BY contact_id".into(),
        );
        self.add(
            "accounts".into(),
            "Every account.".into(),
            "SELECT DISTINCT account_id AS id\nFROM messages\nWHERE account_id IS NOT NULL".into(),
        );
    }

    /// The CTE of trait `key` of `owner` subjects as of T − `ago`: the
    /// latest message (by time, then seq) that carried the key; `NULL` when
    /// its value is `null` (which unsets it).
    pub(crate) fn trait_cte(&mut self, owner: SubjectKind, key: &str, ago: i64) -> String {
        let d = self.dialect;
        let (message, id) = match owner {
            SubjectKind::Contact => ("identify", "contact_id"),
            SubjectKind::Account => ("group", "account_id"),
        };
        let suffix = if ago == 0 {
            String::new()
        } else {
            format!("_{ago}ms_ago")
        };
        let name = format!("trait_{}_{}{suffix}", owner.as_str(), sanitize(key));
        if self.has(&name) {
            return name;
        }
        let traits = d.parse_json("traits");
        let cutoff = if ago == 0 {
            self.now.clone()
        } else {
            format!("{} - {}", self.now, d.int(ago))
        };
        let body = format!(
            "SELECT id, value FROM (\n  SELECT {id} AS id, {} AS value,\n         row_number() OVER (PARTITION BY {id} ORDER BY ts DESC, seq DESC) AS rn\n  FROM messages\n  WHERE type = '{message}' AND {id} IS NOT NULL AND {} AND ts <= {cutoff}\n) latest\nWHERE rn = 1",
            d.json_get(&traits, &[key]),
            d.json_has(&traits, key),
        );
        let when = if ago == 0 {
            "at T".to_owned()
        } else {
            format!("at T - {}", bellwether_rules::format_duration(ago))
        };
        self.add(
            name,
            format!(
                "{} trait {key:?} {when} (from {message} calls).",
                owner.as_str()
            ),
            body,
        )
    }
}

/// The `events` column of the `index`-th property read: `p1_path`,
/// `p2_plan_name` (the number keeps `a.b` and `a_b` apart).
fn property_name(index: usize, path: &[String]) -> String {
    format!("p{}_{}", index + 1, sanitize(&path.join("_")))
}

/// A name usable unquoted in every dialect: ASCII letters, digits, `_`.
pub(crate) fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The subject table and the events column that names a subject.
pub(crate) fn subject_table(kind: SubjectKind) -> &'static str {
    match kind {
        SubjectKind::Contact => "contacts",
        SubjectKind::Account => "accounts",
    }
}

/// The `events` column holding the subject id of `kind`.
pub(crate) fn event_subject(kind: SubjectKind) -> &'static str {
    match kind {
        SubjectKind::Contact => "contact_id",
        SubjectKind::Account => "account_id",
    }
}

/// A query with one row per subject (`s`), and the CTEs joined to it.
pub(crate) struct Frame {
    pub(crate) subject: SubjectKind,
    joins: Vec<(String, String, String)>,
}

impl Frame {
    pub(crate) fn new(subject: SubjectKind) -> Self {
        Frame {
            subject,
            joins: Vec::new(),
        }
    }

    /// Left-joins `cte` (keyed by `id`) on the subject (or, with
    /// `via_account`, on a contact's account); returns its alias.
    pub(crate) fn join(&mut self, cte: &str, via_account: bool) -> String {
        let key = match (via_account, self.subject) {
            (true, SubjectKind::Contact) => "s.account_id",
            _ => "s.id",
        };
        if let Some((alias, _, _)) = self
            .joins
            .iter()
            .find(|(_, name, on)| name == cte && on == key)
        {
            return alias.clone();
        }
        let alias = format!("j{}", self.joins.len() + 1);
        self.joins
            .push((alias.clone(), cte.to_owned(), key.to_owned()));
        alias
    }

    /// `contacts s LEFT JOIN ... ON ...`.
    pub(crate) fn from(&self) -> String {
        let mut out = format!("{} s", subject_table(self.subject));
        for (alias, cte, key) in &self.joins {
            out.push_str(&format!("\nLEFT JOIN {cte} {alias} ON {alias}.id = {key}"));
        }
        out
    }
}
