//! Operators, with the evaluator's rules: a comparison with a missing value
//! or between different kinds is false; arithmetic with a missing value is
//! missing; division by zero is missing.

use bellwether_rules::ir::{ArithOp, CmpOp};

use crate::builder::Builder;
use crate::dialect::JsonKind;
use crate::error::SqlError;
use crate::value::{Sql, Ty};

fn symbol(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "<>",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

impl Builder<'_> {
    /// The number a value holds (`NULL` otherwise).
    pub(crate) fn as_num(&self, sql: &Sql) -> Option<String> {
        match sql.ty {
            Ty::Num => Some(sql.text.clone()),
            Ty::Dyn => Some(self.dialect.json_number(&sql.text)),
            _ => None,
        }
    }

    /// The string a value holds (`NULL` otherwise).
    pub(crate) fn as_str(&self, sql: &Sql) -> Option<String> {
        match sql.ty {
            Ty::Str => Some(sql.text.clone()),
            Ty::Dyn => Some(self.dialect.json_string(&sql.text)),
            _ => None,
        }
    }

    fn as_bool(&self, sql: &Sql) -> Option<String> {
        match sql.ty {
            Ty::Bool => Some(sql.text.clone()),
            Ty::Dyn => Some(self.dialect.json_bool(&sql.text)),
            _ => None,
        }
    }

    /// A text that two values share exactly when the evaluator finds them
    /// equal (numbers, strings, booleans, lists); `NULL` when missing. Used
    /// for `distinct` and the `on` property of `each`.
    pub(crate) fn key_text(&self, sql: &Sql) -> String {
        let d = self.dialect;
        let number = self.as_num(sql).map(|n| {
            // + 0.0 turns -0 into 0: the evaluator counts them as one value.
            format!("'n' || {}", d.to_text(&format!("{n} + {}", d.float(0.0))))
        });
        let string = self.as_str(sql).map(|s| format!("'s' || {s}"));
        let boolean = self
            .as_bool(sql)
            .map(|b| format!("CASE WHEN {b} THEN 'b1' WHEN NOT {b} THEN 'b0' END"));
        let list = (sql.ty == Ty::Dyn).then(|| format!("'l' || {}", d.json_array_text(&sql.text)));
        let parts: Vec<String> = [number, string, boolean, list]
            .into_iter()
            .flatten()
            .collect();
        match parts.len() {
            0 => "NULL".to_owned(),
            1 => parts.concat(),
            _ => format!("coalesce({})", parts.join(", ")),
        }
    }

    pub(crate) fn compare(&self, op: CmpOp, a: &Sql, b: &Sql) -> Result<Sql, SqlError> {
        if a.ty == Ty::List || b.ty == Ty::List {
            return Err(self.unsupported(
                "a comparison with a list literal",
                "use `in` or `contains` to test list membership",
            ));
        }
        let mut tests = Vec::new();
        let sym = symbol(op);
        let ordered = !matches!(op, CmpOp::Eq | CmpOp::Ne);
        if let (Some(x), Some(y)) = (self.as_num(a), self.as_num(b)) {
            tests.push(format!("{x} {sym} {y}"));
        }
        if let (Some(x), Some(y)) = (self.as_str(a), self.as_str(b)) {
            if ordered {
                let (x, y) = (self.dialect.bytewise(&x), self.dialect.bytewise(&y));
                tests.push(format!("{x} {sym} {y}"));
            } else {
                tests.push(format!("{x} {sym} {y}"));
            }
        }
        if let (Some(x), Some(y)) = (self.as_bool(a), self.as_bool(b)) {
            tests.push(format!("{x} {sym} {y}"));
        }
        let same_plain = a.ty == b.ty && matches!(a.ty, Ty::Time | Ty::Dur);
        if same_plain {
            tests.push(format!("{} {sym} {}", a.text, b.text));
        }
        // Two lists are equal element by element; `!=` and ordering of
        // lists are always false (the evaluator's `order`).
        if a.ty == Ty::Dyn && b.ty == Ty::Dyn && op == CmpOp::Eq {
            let d = self.dialect;
            tests.push(format!(
                "{} = {}",
                d.json_array_text(&a.text),
                d.json_array_text(&b.text)
            ));
        }
        Ok(Sql::condition(match tests.len() {
            0 => "false".to_owned(),
            1 => format!("coalesce({}, false)", tests.concat()),
            _ => format!("coalesce(({}), false)", tests.join(") OR (")),
        }))
    }

    pub(crate) fn between(&self, value: &Sql, low: &Sql, high: &Sql) -> Result<Sql, SqlError> {
        let above = self.compare(CmpOp::Ge, value, low)?;
        let below = self.compare(CmpOp::Le, value, high)?;
        Ok(Sql::condition(format!(
            "({} AND {})",
            above.text, below.text
        )))
    }

    /// Whether a value is present (not missing, not an object or `null`).
    fn present(&self, sql: &Sql) -> String {
        let d = self.dialect;
        match sql.ty {
            Ty::Bool | Ty::List => "true".to_owned(),
            Ty::Dyn => {
                let kinds = [
                    JsonKind::Number,
                    JsonKind::String,
                    JsonKind::Bool,
                    JsonKind::Array,
                ];
                let tests: Vec<String> = kinds.iter().map(|k| d.is_kind(&sql.text, *k)).collect();
                format!("({})", tests.join(" OR "))
            }
            _ => format!("({} IS NOT NULL)", sql.text),
        }
    }

    /// Whether some element of `list` equals `item`.
    fn any_equal(&self, list: &Sql, item: &Sql) -> Result<Option<String>, SqlError> {
        match list.ty {
            Ty::List => {
                let mut tests = Vec::new();
                for element in &list.items {
                    let test = self.compare(CmpOp::Eq, element, item)?;
                    if test.text != "false" {
                        tests.push(test.text);
                    }
                }
                Ok(Some(if tests.is_empty() {
                    "false".to_owned()
                } else {
                    format!("({})", tests.join(" OR "))
                }))
            }
            Ty::Dyn => {
                let element = Sql::new(Ty::Dyn, "element");
                let test = self.compare(CmpOp::Eq, &element, item)?;
                Ok(Some(
                    self.dialect.array_any(&list.text, "element", &test.text),
                ))
            }
            _ => Ok(None),
        }
    }

    pub(crate) fn membership(
        &self,
        negated: bool,
        item: &Sql,
        list: &Sql,
    ) -> Result<Sql, SqlError> {
        let Some(found) = self.any_equal(list, item)? else {
            return Ok(Sql::condition("false"));
        };
        let is_list = match list.ty {
            Ty::Dyn => self.dialect.is_kind(&list.text, JsonKind::Array),
            _ => "true".to_owned(),
        };
        let found = if negated {
            format!("NOT {found}")
        } else {
            found
        };
        Ok(Sql::condition(format!(
            "({is_list} AND {} AND {found})",
            self.present(item)
        )))
    }

    pub(crate) fn contains(&self, hay: &Sql, needle: &Sql) -> Result<Sql, SqlError> {
        let mut tests = Vec::new();
        if let Some(found) = self.any_equal(hay, needle)? {
            tests.push(found);
        }
        if let (Some(text), Some(part)) = (self.as_str(hay), self.as_str(needle)) {
            tests.push(format!(
                "coalesce({}, false)",
                self.dialect.contains_text(&text, &part)
            ));
        }
        Ok(Sql::condition(match tests.len() {
            0 => "false".to_owned(),
            _ => format!("({})", tests.join(" OR ")),
        }))
    }

    pub(crate) fn starts_with(&self, text: &Sql, prefix: &Sql) -> Sql {
        match (self.as_str(text), self.as_str(prefix)) {
            (Some(text), Some(prefix)) => Sql::condition(format!(
                "coalesce({}, false)",
                self.dialect.starts_with(&text, &prefix)
            )),
            _ => Sql::condition("false"),
        }
    }

    pub(crate) fn matches(&self, text: &Sql, pattern: &str) -> Result<Sql, SqlError> {
        let Some(text) = self.as_str(text) else {
            return Ok(Sql::condition("false"));
        };
        match self.dialect.regex(&text, pattern) {
            Some(test) => Ok(Sql::condition(format!("coalesce({test}, false)"))),
            None => Err(self.unsupported(
                &format!("matches {pattern:?}"),
                "PostgreSQL regular expressions differ from Rust's beyond plain patterns (no `\\`, `(?`, `[[`); use duckdb or clickhouse",
            )),
        }
    }

    pub(crate) fn arith(&self, op: ArithOp, a: &Sql, b: &Sql) -> Sql {
        let d = self.dialect;
        let (x, y) = (&a.text, &b.text);
        match (op, a.ty, b.ty) {
            (_, Ty::Num | Ty::Dyn, Ty::Num | Ty::Dyn) => {
                let (Some(x), Some(y)) = (self.as_num(a), self.as_num(b)) else {
                    return self.missing();
                };
                let value = match op {
                    ArithOp::Add => format!("({x} + {y})"),
                    ArithOp::Sub => format!("({x} - {y})"),
                    ArithOp::Mul => format!("({x} * {y})"),
                    ArithOp::Div => format!("({x} / nullif({y}, {}))", d.float(0.0)),
                };
                Sql::new(Ty::Num, self.nan_to_null(&value))
            }
            (ArithOp::Add, Ty::Dur, Ty::Dur) => Sql::new(Ty::Dur, format!("({x} + {y})")),
            (ArithOp::Sub, Ty::Dur, Ty::Dur) | (ArithOp::Sub, Ty::Time, Ty::Time) => {
                Sql::new(Ty::Dur, format!("({x} - {y})"))
            }
            (ArithOp::Add, Ty::Time, Ty::Dur) | (ArithOp::Sub, Ty::Time, Ty::Dur) => {
                let sign = if op == ArithOp::Add { "+" } else { "-" };
                Sql::new(Ty::Time, format!("({x} {sign} {y})"))
            }
            (ArithOp::Add, Ty::Dur, Ty::Time) => Sql::new(Ty::Time, format!("({y} + {x})")),
            (ArithOp::Mul, Ty::Dur, Ty::Num) => self.scale(x, y, false),
            (ArithOp::Mul, Ty::Num, Ty::Dur) => self.scale(y, x, false),
            (ArithOp::Div, Ty::Dur, Ty::Num) => self.scale(x, y, true),
            (ArithOp::Div, Ty::Dur, Ty::Dur) => Sql::new(
                Ty::Num,
                format!(
                    "({} / nullif({}, {}))",
                    d.to_float(x),
                    d.to_float(y),
                    d.float(0.0)
                ),
            ),
            _ => self.missing(),
        }
    }

    /// A duration times (or divided by) a number, rounded to the millisecond.
    fn scale(&self, duration: &str, k: &str, divide: bool) -> Sql {
        let d = self.dialect;
        let factor = if divide {
            format!("(1.0 / nullif({k}, {}))", d.float(0.0))
        } else {
            k.to_owned()
        };
        let ms = format!("round({} * {factor})", d.to_float(duration));
        let cast = match d {
            crate::Dialect::ClickHouse => format!("toInt64({ms})"),
            _ => format!("CAST({ms} AS BIGINT)"),
        };
        Sql::new(Ty::Dur, cast)
    }

    /// `∞ − ∞` is missing, as in the evaluator.
    fn nan_to_null(&self, value: &str) -> String {
        match self.dialect {
            crate::Dialect::DuckDb => {
                format!("CASE WHEN isnan({value}) THEN NULL ELSE {value} END")
            }
            crate::Dialect::Postgres => format!(
                "CASE WHEN {value} = CAST('NaN' AS double precision) THEN NULL ELSE {value} END"
            ),
            crate::Dialect::ClickHouse => format!("if(isNaN({value}), NULL, {value})"),
        }
    }

    pub(crate) fn negate(&self, inner: &Sql) -> Sql {
        match inner.ty {
            Ty::Num | Ty::Dyn => match self.as_num(inner) {
                Some(n) => Sql::new(Ty::Num, format!("(-{n})")),
                None => self.missing(),
            },
            Ty::Dur => Sql::new(Ty::Dur, format!("(-{})", inner.text)),
            _ => self.missing(),
        }
    }
}
