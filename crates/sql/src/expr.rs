//! Expressions: a checked [`Node`] to SQL, in the context of one subject
//! row (a definition's query) or one event row (a `where` filter).

use bellwether_rules::ir::{Node, NodeKind, PropPath, SelBase, TraitScope};
use bellwether_rules::{SubjectKind, Value};

use crate::builder::{Builder, Frame};
use crate::error::SqlError;
use crate::value::{Sql, Ty};

/// Where an expression is evaluated.
pub(crate) enum Ctx<'f> {
    /// One row per subject (`s`), with CTEs joined to it.
    Subject(&'f mut Frame),
    /// One event row (`alias`) of a `kind` subject's aggregate that a
    /// selector with `base` matched; traits read here join `joins`.
    Event {
        alias: &'f str,
        base: &'f SelBase,
        subject: SubjectKind,
        joins: &'f mut Vec<String>,
    },
}

impl Builder<'_> {
    /// Compiles `node` and makes it a condition: true only for `true`.
    pub(crate) fn condition(&mut self, node: &Node, ctx: &mut Ctx<'_>) -> Result<String, SqlError> {
        let sql = self.expr(node, ctx)?;
        Ok(self.truth(&sql))
    }

    /// A value as a never-`NULL` boolean (`is_true` in the evaluator).
    pub(crate) fn truth(&self, sql: &Sql) -> String {
        match sql.ty {
            Ty::Bool => sql.text.clone(),
            Ty::Dyn => format!("coalesce({}, false)", self.dialect.json_bool(&sql.text)),
            _ => "false".to_owned(),
        }
    }

    pub(crate) fn expr(&mut self, node: &Node, ctx: &mut Ctx<'_>) -> Result<Sql, SqlError> {
        match &node.kind {
            NodeKind::Lit(value) => Ok(self.literal(value)),
            NodeKind::Trait { scope, path } => self.trait_value(*scope, path, 0, ctx),
            NodeKind::Past { scope, path, ago } => self.trait_value(*scope, path, *ago, ctx),
            NodeKind::TraitDays {
                direction,
                scope,
                path,
            } => match ctx {
                Ctx::Subject(frame) => Ok(self.trait_days(*direction, *scope, path, frame)),
                Ctx::Event { .. } => Err(self.unsupported(
                    "days_until/days_since of a trait inside `where`",
                    "the checker forbids it",
                )),
            },
            NodeKind::Prop(path) => match ctx {
                Ctx::Event { alias, base, .. } => Ok(self.property(alias, base, path)),
                Ctx::Subject(_) => Err(self.unsupported(
                    "an event property outside a selector",
                    "properties are read inside `where`",
                )),
            },
            NodeKind::Not(inner) => {
                let inner = self.condition(inner, ctx)?;
                Ok(Sql::condition(format!("NOT {inner}")))
            }
            NodeKind::And(items) => self.logical(items, " AND ", ctx),
            NodeKind::Or(items) => self.logical(items, " OR ", ctx),
            NodeKind::Cmp(op, lhs, rhs) => {
                let (lhs, rhs) = (self.expr(lhs, ctx)?, self.expr(rhs, ctx)?);
                self.compare(*op, &lhs, &rhs)
            }
            NodeKind::Between(value, low, high) => {
                let value = self.expr(value, ctx)?;
                let (low, high) = (self.expr(low, ctx)?, self.expr(high, ctx)?);
                self.between(&value, &low, &high)
            }
            NodeKind::In {
                negated,
                item,
                list,
            } => {
                let (item, list) = (self.expr(item, ctx)?, self.expr(list, ctx)?);
                self.membership(*negated, &item, &list)
            }
            NodeKind::Contains(hay, needle) => {
                let (hay, needle) = (self.expr(hay, ctx)?, self.expr(needle, ctx)?);
                self.contains(&hay, &needle)
            }
            NodeKind::StartsWith(text, prefix) => {
                let (text, prefix) = (self.expr(text, ctx)?, self.expr(prefix, ctx)?);
                Ok(self.starts_with(&text, &prefix))
            }
            NodeKind::Matches(text, regex) => {
                let text = self.expr(text, ctx)?;
                self.matches(&text, regex.as_str())
            }
            NodeKind::Arith(op, lhs, rhs) => {
                let (lhs, rhs) = (self.expr(lhs, ctx)?, self.expr(rhs, ctx)?);
                Ok(self.arith(*op, &lhs, &rhs))
            }
            NodeKind::Neg(inner) => {
                let inner = self.expr(inner, ctx)?;
                Ok(self.negate(&inner))
            }
            _ => match ctx {
                Ctx::Subject(frame) => self.subject_value(node, frame),
                Ctx::Event { .. } => {
                    Err(self.unsupported("an aggregate inside `where`", "the checker forbids it"))
                }
            },
        }
    }

    fn logical(
        &mut self,
        items: &[Node],
        joiner: &str,
        ctx: &mut Ctx<'_>,
    ) -> Result<Sql, SqlError> {
        let mut parts = Vec::with_capacity(items.len());
        for item in items {
            parts.push(self.condition(item, ctx)?);
        }
        if parts.is_empty() {
            return Ok(Sql::condition(if joiner == " AND " {
                "true"
            } else {
                "false"
            }));
        }
        Ok(Sql::condition(format!("({})", parts.join(joiner))))
    }

    /// References and aggregates: a column of a joined CTE.
    fn subject_value(&mut self, node: &Node, frame: &mut Frame) -> Result<Sql, SqlError> {
        let d = self.dialect;
        match &node.kind {
            NodeKind::Score(name) => {
                let alias = frame.join(&format!("score_{name}"), false);
                Ok(Sql::new(Ty::Num, format!("{alias}.value")))
            }
            NodeKind::InSegment(name) => {
                let alias = frame.join(&format!("segment_{name}"), false);
                Ok(Sql::condition(format!("coalesce({alias}.member, false)")))
            }
            NodeKind::Tier(name) => {
                let alias = frame.join(&format!("tier_{name}"), false);
                Ok(Sql::new(Ty::Str, format!("{alias}.level")))
            }
            NodeKind::CountContacts(inner) => {
                let cte = self.count_contacts(inner)?;
                let alias = frame.join(&cte, false);
                Ok(Sql::new(
                    Ty::Num,
                    format!(
                        "coalesce({}, {})",
                        d.to_float(&format!("{alias}.v")),
                        d.float(0.0)
                    ),
                ))
            }
            _ => self.aggregate(node, frame),
        }
    }

    /// `count(contacts where <inner>)`: the account's contacts for which it holds.
    fn count_contacts(&mut self, inner: &Node) -> Result<String, SqlError> {
        let mut contacts = Frame::new(SubjectKind::Contact);
        let holds = self.condition(inner, &mut Ctx::Subject(&mut contacts))?;
        let body = format!(
            "SELECT s.account_id AS id, count(*) AS v\nFROM {}\nWHERE s.account_id IS NOT NULL AND {holds}\nGROUP BY s.account_id",
            contacts.from()
        );
        Ok(self.helper(
            "contacts",
            "count(contacts where ...): matching contacts per account.".into(),
            body,
        ))
    }

    pub(crate) fn literal(&self, value: &Value) -> Sql {
        let d = self.dialect;
        match value {
            Value::Missing => self.missing(),
            Value::Bool(b) => Sql::condition(if *b { "true" } else { "false" }),
            Value::Number(n) => Sql::new(Ty::Num, d.float(*n)),
            Value::String(s) => Sql::new(Ty::Str, d.string(s)),
            Value::Duration(ms) => Sql::new(Ty::Dur, d.int(*ms)),
            Value::Time(ms) => Sql::new(Ty::Time, d.int(*ms)),
            Value::List(items) => Sql::list(items.iter().map(|v| self.literal(v)).collect()),
        }
    }

    /// A missing value.
    pub(crate) fn missing(&self) -> Sql {
        let text = match self.dialect {
            crate::Dialect::DuckDb => "CAST(NULL AS JSON)",
            crate::Dialect::Postgres => "CAST(NULL AS jsonb)",
            crate::Dialect::ClickHouse => "CAST(NULL AS Nullable(String))",
        };
        Sql::new(Ty::Dyn, text)
    }

    /// `trait.x` / `account.x` (as of T − `ago`).
    fn trait_value(
        &mut self,
        scope: TraitScope,
        path: &PropPath,
        ago: i64,
        ctx: &mut Ctx<'_>,
    ) -> Result<Sql, SqlError> {
        let frame = match ctx {
            Ctx::Subject(frame) => frame,
            Ctx::Event {
                alias,
                subject,
                joins,
                ..
            } => return Ok(self.event_trait(scope, path, ago, alias, *subject, joins)),
        };
        let via_account = scope == TraitScope::Account && frame.subject == SubjectKind::Contact;
        let owner = if via_account {
            SubjectKind::Account
        } else {
            frame.subject
        };
        let cte = self.trait_cte(owner, path.first(), ago);
        let alias = frame.join(&cte, via_account);
        let rest: Vec<&str> = path.rest().iter().map(|k| &**k).collect();
        let value = format!("{alias}.value");
        Ok(Sql::new(Ty::Dyn, self.dialect.json_get(&value, &rest)))
    }

    /// A trait read inside a `where` filter: the value at T of the
    /// aggregate's subject (or a contact's account), joined on the event.
    fn event_trait(
        &mut self,
        scope: TraitScope,
        path: &PropPath,
        ago: i64,
        alias: &str,
        subject: SubjectKind,
        joins: &mut Vec<String>,
    ) -> Sql {
        let via_account = scope == TraitScope::Account && subject == SubjectKind::Contact;
        let (owner, column) = if via_account {
            (SubjectKind::Account, "account_id")
        } else {
            (subject, crate::builder::event_subject(subject))
        };
        let cte = self.trait_cte(owner, path.first(), ago);
        self.trait_joins += 1;
        let join = format!("{alias}_t{}", self.trait_joins);
        joins.push(format!(
            "\nLEFT JOIN {cte} {join} ON {join}.id = {alias}.{column}"
        ));
        let rest: Vec<&str> = path.rest().iter().map(|k| &**k).collect();
        Sql::new(
            Ty::Dyn,
            self.dialect.json_get(&format!("{join}.value"), &rest),
        )
    }

    /// An event property; `name` of a page or screen is its name. The
    /// value is read from the JSON once, in the `events` CTE (`p<n>_<path>`).
    pub(crate) fn property(&mut self, alias: &str, base: &SelBase, path: &PropPath) -> Sql {
        let column = self.property_column(path.segments());
        let json = Sql::new(Ty::Dyn, format!("{alias}.{column}"));
        if !path.is_name {
            return json;
        }
        let name = format!("coalesce({alias}.event, '')");
        match base {
            SelBase::Named(_) => json,
            SelBase::Page | SelBase::Screen => Sql::new(Ty::Str, name),
            SelBase::Any => Sql::new(
                Ty::Dyn,
                format!(
                    "CASE WHEN {alias}.type = 'track' THEN {} ELSE {} END",
                    json.text,
                    self.text_to_json(&name)
                ),
            ),
        }
    }

    pub(crate) fn text_to_json(&self, text: &str) -> String {
        match self.dialect {
            crate::Dialect::DuckDb => format!("to_json({text})"),
            crate::Dialect::Postgres => format!("to_jsonb({text})"),
            crate::Dialect::ClickHouse => format!("toJSONString({text})"),
        }
    }
}
