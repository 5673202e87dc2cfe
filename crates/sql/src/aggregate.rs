//! Event aggregates: one CTE per aggregate, one row per subject that has a
//! matching event, left-joined to the definition's query (no row: the
//! aggregate of nothing).
//!
//! Windows as of T, on whole milliseconds: `last D` is `ts > T − D`;
//! `between A and B ago` is `T − A < ts <= T − B`; `within D of first(S)`
//! reads the subject's first S event t (a window function) and keeps
//! `t <= ts <= t + D`.

use bellwether_rules::ir::{AggOp, Field, Node, NodeKind, Sel, SelBase, Win};
use bellwether_rules::{SubjectKind, DAY};

use crate::builder::{event_subject, Builder, Frame};
use crate::error::SqlError;
use crate::expr::Ctx;
use crate::value::{Sql, Ty};

/// The rows of `events` an aggregate reads: `FROM` and `WHERE`.
pub(crate) struct Scan {
    pub(crate) from: String,
    pub(crate) conditions: Vec<String>,
}

impl Scan {
    pub(crate) fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            "true".to_owned()
        } else {
            self.conditions.join("\n  AND ")
        }
    }
}

impl Builder<'_> {
    /// Whether event `alias` (of a `kind` subject's aggregate) matches the
    /// selector: the joins its filter needs (traits) and the test.
    pub(crate) fn selects(
        &mut self,
        kind: SubjectKind,
        sel: &Sel,
        alias: &str,
    ) -> Result<(String, String), SqlError> {
        let d = self.dialect;
        let base = match &sel.base {
            SelBase::Named(name) => format!(
                "{alias}.type = 'track' AND {alias}.event = {}",
                d.string(name)
            ),
            SelBase::Page => format!("{alias}.type = 'page'"),
            SelBase::Screen => format!("{alias}.type = 'screen'"),
            SelBase::Any => "true".to_owned(),
        };
        let Some(filter) = &sel.filter else {
            return Ok((String::new(), base));
        };
        let mut joins = Vec::new();
        let mut ctx = Ctx::Event {
            alias,
            base: &sel.base,
            subject: kind,
            joins: &mut joins,
        };
        let test = self.condition(filter, &mut ctx)?;
        Ok((joins.concat(), format!("{base} AND {test}")))
    }

    /// The events of `kind` subjects that `sel` matches in `win`, as `alias`.
    pub(crate) fn scan(
        &mut self,
        kind: SubjectKind,
        sel: &Sel,
        win: &Win,
        alias: &str,
    ) -> Result<Scan, SqlError> {
        let (joins, test) = self.selects(kind, sel, alias)?;
        let mut scan = Scan {
            from: format!("events {alias}{joins}"),
            conditions: vec![test],
        };
        self.window(kind, win, alias, &mut scan)?;
        Ok(scan)
    }

    /// Adds the window's bounds on `alias.ts` to `scan`.
    pub(crate) fn window(
        &mut self,
        kind: SubjectKind,
        win: &Win,
        alias: &str,
        scan: &mut Scan,
    ) -> Result<(), SqlError> {
        let d = self.dialect;
        let now = self.now.clone();
        match win {
            Win::All => {}
            Win::Last(length) => scan
                .conditions
                .push(format!("{alias}.ts > {now} - {}", d.int(*length))),
            Win::Ago { from, to } => scan.conditions.push(format!(
                "{alias}.ts > {now} - {} AND {alias}.ts <= {now} - {}",
                d.int(*from),
                d.int(*to)
            )),
            Win::WithinOf { length, anchor, .. } => {
                // The anchor is a window function over the subject's events,
                // not a join: one sort, whatever the planner estimates.
                let id = event_subject(kind);
                let (joins, test) = self.selects(kind, anchor, "a")?;
                let anchored = format!(
                    "(SELECT a.*, min(CASE WHEN {test} THEN a.ts END) OVER (PARTITION BY a.{id}) AS anchor_ts\n  FROM events a{joins}) {alias}"
                );
                scan.from = scan.from.replacen(&format!("events {alias}"), &anchored, 1);
                scan.conditions.push(format!(
                    "{alias}.ts >= {alias}.anchor_ts AND {alias}.ts <= {alias}.anchor_ts + {}",
                    d.int(*length)
                ));
            }
        }
        Ok(())
    }

    /// `SELECT id, <value> AS v ... GROUP BY id` over a scan.
    fn grouped(&mut self, kind: SubjectKind, what: &str, value: &str, scan: &Scan) -> String {
        let id = event_subject(kind);
        let body = format!(
            "SELECT e.{id} AS id, {value} AS v\nFROM {}\nWHERE {}\nGROUP BY e.{id}",
            scan.from,
            scan.where_clause()
        );
        self.helper(what, format!("{what} per {}.", kind.as_str()), body)
    }

    /// An aggregate of the frame's subject: a joined CTE's column.
    pub(crate) fn aggregate(&mut self, node: &Node, frame: &mut Frame) -> Result<Sql, SqlError> {
        let d = self.dialect;
        let kind = frame.subject;
        let (what, value, scan) = match &node.kind {
            NodeKind::Count(sel, win) => (
                "count",
                "count(*)".to_owned(),
                self.scan(kind, sel, win, "e")?,
            ),
            NodeKind::Exists(sel, win) => (
                "exists",
                "count(*)".to_owned(),
                self.scan(kind, sel, win, "e")?,
            ),
            NodeKind::DaysSince(sel) => (
                "latest",
                "max(e.ts)".to_owned(),
                self.scan(kind, sel, &Win::All, "e")?,
            ),
            NodeKind::ActiveDays(win) => {
                let any = Sel {
                    base: SelBase::Any,
                    filter: None,
                };
                let day = d.div_floor("e.ts", DAY);
                (
                    "active_days",
                    format!("count(DISTINCT {day})"),
                    self.scan(kind, &any, win, "e")?,
                )
            }
            NodeKind::Agg(op, sel, prop, win) => {
                let scan = self.scan(kind, sel, win, "e")?;
                let property = self.property("e", &sel.base, prop);
                let (what, value) = self.agg_expr(*op, &property);
                (what, value, scan)
            }
            NodeKind::Pick {
                first,
                sel,
                win,
                field,
            } => return self.pick(*first, sel, win, field, frame),
            NodeKind::Sequence { steps, within, win } => {
                let cte = self.sequence(kind, steps, *within, win)?;
                return Ok(Sql::condition(format!(
                    "({}.id IS NOT NULL)",
                    frame.join(&cte, false)
                )));
            }
            NodeKind::EachFollowed(each) => {
                let cte = self.each_followed(kind, each)?;
                let alias = frame.join(&cte, false);
                return Ok(Sql::condition(format!("coalesce({alias}.v, false)")));
            }
            _ => return Err(self.unsupported("this expression", "no SQL translation")),
        };
        let cte = self.grouped(kind, what, &value, &scan);
        let v = format!("{}.v", frame.join(&cte, false));
        Ok(self.of_nothing(&node.kind, &v))
    }

    /// The joined column `v` as the language's value, where a subject with
    /// no row gets the aggregate of nothing: 0, false, +∞ or missing.
    fn of_nothing(&self, kind: &NodeKind, v: &str) -> Sql {
        let d = self.dialect;
        match kind {
            NodeKind::Exists(..) => Sql::condition(format!("coalesce({v} > 0, false)")),
            NodeKind::DaysSince(_) => {
                let elapsed = d.to_float(&format!("{} - {v}", self.now));
                let days = format!("{elapsed} / {}", d.float(DAY as f64));
                Sql::new(
                    Ty::Num,
                    format!("coalesce({days}, {})", d.float(f64::INFINITY)),
                )
            }
            NodeKind::Agg(AggOp::Avg | AggOp::Min | AggOp::Max, ..) => {
                Sql::new(Ty::Num, d.to_float(v))
            }
            _ => Sql::new(
                Ty::Num,
                format!("coalesce({}, {})", d.to_float(v), d.float(0.0)),
            ),
        }
    }

    /// The aggregate function over a property value (numbers only, except
    /// `distinct`, which counts distinct present values of any kind).
    fn agg_expr(&self, op: AggOp, value: &Sql) -> (&'static str, String) {
        let number = self
            .as_num(value)
            .unwrap_or_else(|| self.dialect.to_float("NULL"));
        match op {
            AggOp::Sum => ("sum", format!("sum({number})")),
            AggOp::Avg => ("avg", format!("avg({number})")),
            AggOp::Min => ("min", format!("min({number})")),
            AggOp::Max => ("max", format!("max({number})")),
            AggOp::Distinct => (
                "distinct",
                format!("count(DISTINCT {})", self.key_text(value)),
            ),
        }
    }

    /// `first(S).time`, `last(S).prop`: the first/latest match by (ts, seq).
    fn pick(
        &mut self,
        first: bool,
        sel: &Sel,
        win: &Win,
        field: &Field,
        frame: &mut Frame,
    ) -> Result<Sql, SqlError> {
        let kind = frame.subject;
        let id = event_subject(kind);
        let scan = self.scan(kind, sel, win, "e")?;
        let (value, ty) = match field {
            Field::Time => ("e.ts".to_owned(), Ty::Time),
            Field::Prop(path) => {
                let value = self.property("e", &sel.base, path);
                (value.text, value.ty)
            }
        };
        let order = if first { "ASC" } else { "DESC" };
        let body = format!(
            "SELECT id, v FROM (\n  SELECT e.{id} AS id, {value} AS v,\n         row_number() OVER (PARTITION BY e.{id} ORDER BY e.ts {order}, e.seq {order}) AS rn\n  FROM {}\n  WHERE {}\n) picked\nWHERE rn = 1",
            scan.from,
            scan.where_clause()
        );
        let what = if first { "first" } else { "last" };
        let cte = self.helper(what, format!("{what}(...) per {}.", kind.as_str()), body);
        let alias = frame.join(&cte, false);
        Ok(Sql::new(ty, format!("{alias}.v")))
    }
}
