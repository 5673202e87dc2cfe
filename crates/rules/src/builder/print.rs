//! Model → text. The one printer of builder models: the editor's script
//! never writes rule text itself.

use super::model::{
    CmpOp, EachLeaf, EventPick, Filter, Literal, Measure, Node, SelectorKind, WindowPick,
};
use crate::time::{parse_duration, DAY, HOUR, MINUTE, SECOND};

/// Why a model does not print: a field left empty or out of range, with
/// the position of the node in the tree (child indexes from the root).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{reason}")]
pub struct BuildError {
    /// Child indexes from the root to the node at fault.
    pub at: Vec<usize>,
    /// What to fix, for people.
    pub reason: String,
}

/// The condition's text. Empty groups print nothing (a builder just
/// opened); an entirely empty model prints `""`. The top group's items go
/// on their own lines, as the shipped examples write them.
pub fn print(node: &Node) -> Result<String, BuildError> {
    let mut at = Vec::new();
    match node {
        Node::All { items } => group(items, "\nand ", &mut at),
        Node::Any { items } => group(items, "\nor ", &mut at),
        other => Ok(node_text(other, &mut at, Place::Top)?.unwrap_or_default()),
    }
}

/// Where a node is printed, for parentheses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Top,
    InAll,
    InNot,
}

/// `None` for an empty group.
fn node_text(node: &Node, at: &mut Vec<usize>, place: Place) -> Result<Option<String>, BuildError> {
    let text = match node {
        Node::All { items } => {
            let text = group(items, " and ", at)?;
            let wrap = place == Place::InNot && items.iter().filter(|n| !is_empty(n)).count() > 1;
            return Ok(non_empty(text).map(|t| if wrap { format!("({t})") } else { t }));
        }
        Node::Any { items } => {
            let text = group(items, " or ", at)?;
            let wrap = place != Place::Top && items.iter().filter(|n| !is_empty(n)).count() > 1;
            return Ok(non_empty(text).map(|t| if wrap { format!("({t})") } else { t }));
        }
        Node::Not { item } => {
            at.push(0);
            let inner = node_text(item, at, Place::InNot)?;
            at.pop();
            let inner = inner.ok_or_else(|| error(at, "add a condition under `not`"))?;
            return Ok(Some(format!("not {inner}")));
        }
        Node::Measure(measure) => self::measure(measure, at)?,
        Node::Each(each) => self::each(each, at)?,
        Node::Score { name, op, value } => {
            let compared = comparison(*op, *value, at)?;
            format!("score({}){compared}", quoted_name(name, "score", at)?)
        }
        Node::InSegment { name } => {
            format!("in_segment({})", quoted_name(name, "segment", at)?)
        }
        Node::Tier { name, op, level } => {
            if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                return Err(error(at, "a tier is compared with `=` or `!=`"));
            }
            if level.trim().is_empty() {
                return Err(error(at, "pick the tier's level"));
            }
            let name = quoted_name(name, "tier", at)?;
            format!("tier({name}) {} {}", op_text(*op), quote(level.trim()))
        }
        Node::Trait { path, op, value } => {
            let path = property_path(path, at)?;
            if !(path.starts_with("trait.") || path.starts_with("account.")) {
                return Err(error(at, "a trait is `trait.<key>` or `account.<key>`"));
            }
            format!("{path} {} {}", op_text(*op), literal(value, at)?)
        }
    };
    let comparison = matches!(
        node,
        Node::Score { .. } | Node::Tier { .. } | Node::Trait { .. }
    ) || matches!(node, Node::Measure(m) if m.function.compared());
    Ok(Some(if place == Place::InNot && comparison {
        format!("({text})")
    } else {
        text
    }))
}

fn group(items: &[Node], separator: &str, at: &mut Vec<usize>) -> Result<String, BuildError> {
    let mut parts = Vec::new();
    for (i, item) in items.iter().enumerate() {
        at.push(i);
        let text = node_text(item, at, Place::InAll)?;
        at.pop();
        parts.extend(text);
    }
    Ok(parts.join(separator))
}

fn non_empty(text: String) -> Option<String> {
    Some(text).filter(|t| !t.is_empty())
}

/// A group with nothing printable in it.
fn is_empty(node: &Node) -> bool {
    match node {
        Node::All { items } | Node::Any { items } => items.iter().all(is_empty),
        _ => false,
    }
}

fn measure(m: &Measure, at: &[usize]) -> Result<String, BuildError> {
    let mut args = Vec::new();
    if m.function.reads_event() {
        args.push(selector(&m.event, at)?);
    }
    if m.function.reads_property() {
        args.push(property_path(&m.property, at)?);
    }
    if m.function.takes_window() {
        match window(&m.window, at)? {
            Some(window) => args.push(window),
            None if !m.function.reads_event() => {
                return Err(error(at, "active days need a window, e.g. last 30d"))
            }
            None => {}
        }
    }
    let call = format!("{}({})", m.function.name(), args.join(", "));
    if !m.function.compared() {
        return Ok(call);
    }
    Ok(format!("{call}{}", comparison(m.op, m.value, at)?))
}

fn each(e: &EachLeaf, at: &[usize]) -> Result<String, BuildError> {
    if e.count == 0 {
        return Err(error(
            at,
            "`each` needs how many of the latest events (1 or more)",
        ));
    }
    let mut text = format!(
        "each(last {} {} followed_by {}",
        e.count,
        selector(&e.lead, at)?,
        selector(&e.follower, at)?
    );
    if !e.on.trim().is_empty() {
        text.push_str(&format!(" on {}", property_path(&e.on, at)?));
    }
    if !e.within.trim().is_empty() {
        text.push_str(&format!(" within {}", duration(&e.within, at)?));
    }
    text.push(')');
    Ok(text)
}

fn selector(pick: &EventPick, at: &[usize]) -> Result<String, BuildError> {
    let mut text = match pick.kind {
        SelectorKind::Event if pick.name.trim().is_empty() => {
            return Err(error(at, "pick an event"))
        }
        SelectorKind::Event => quote(pick.name.trim()),
        SelectorKind::Page => "page".to_owned(),
        SelectorKind::Screen => "screen".to_owned(),
        SelectorKind::Any => "any".to_owned(),
    };
    let filters = pick
        .filters
        .iter()
        .map(|f| filter(f, at))
        .collect::<Result<Vec<_>, _>>()?;
    if !filters.is_empty() {
        text.push_str(" where ");
        text.push_str(&filters.join(" and "));
    }
    Ok(text)
}

fn filter(f: &Filter, at: &[usize]) -> Result<String, BuildError> {
    let property = property_path(&f.property, at)?;
    Ok(format!(
        "{property} {} {}",
        op_text(f.op),
        literal(&f.value, at)?
    ))
}

fn window(w: &WindowPick, at: &[usize]) -> Result<Option<String>, BuildError> {
    Ok(match w {
        WindowPick::All => None,
        WindowPick::Last { length } => Some(format!("last {}", duration(length, at)?)),
        WindowPick::Ago { from, to } => Some(format!(
            "between {} and {} ago",
            duration(from, at)?,
            duration(to, at)?
        )),
        WindowPick::WithinOf { length, anchor } => Some(format!(
            "within {} of first({})",
            duration(length, at)?,
            selector(anchor, at)?
        )),
    })
}

fn comparison(op: CmpOp, value: f64, at: &[usize]) -> Result<String, BuildError> {
    if !op.is_numeric() {
        return Err(error(at, "compare a number with =, !=, <, <=, > or >="));
    }
    Ok(format!(" {} {}", op_text(op), number(value, at)?))
}

pub(super) fn op_text(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
        CmpOp::Contains => "contains",
        CmpOp::StartsWith => "starts_with",
        CmpOp::Matches => "matches",
        CmpOp::In => "in",
        CmpOp::NotIn => "not in",
    }
}

fn literal(value: &Literal, at: &[usize]) -> Result<String, BuildError> {
    Ok(match value {
        Literal::Bool(b) => b.to_string(),
        Literal::Num(n) => number(*n, at)?,
        Literal::Str(s) => quote(s),
        Literal::List(items) => {
            let items = items
                .iter()
                .map(|item| literal(item, at))
                .collect::<Result<Vec<_>, _>>()?;
            format!("[{}]", items.join(", "))
        }
    })
}

/// Integers without a decimal point; other numbers as Rust's shortest
/// round-tripping form (never an exponent, which the lexer does not read).
fn number(n: f64, at: &[usize]) -> Result<String, BuildError> {
    if !n.is_finite() {
        return Err(error(at, "enter a number"));
    }
    Ok(if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    })
}

/// A duration in the largest unit up to days that divides it (`14d`, not
/// `2w`: windows are thought of in days).
fn duration(text: &str, at: &[usize]) -> Result<String, BuildError> {
    let ms = parse_duration(text).filter(|ms| *ms > 0).ok_or_else(|| {
        error(
            at,
            &format!("`{}` is not a duration such as 7d or 12h", text.trim()),
        )
    })?;
    Ok(duration_text(ms))
}

pub(super) fn duration_text(ms: i64) -> String {
    for (unit, size) in [("d", DAY), ("h", HOUR), ("m", MINUTE), ("s", SECOND)] {
        if ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// `a.b.c` where each part is an identifier.
fn property_path(path: &str, at: &[usize]) -> Result<String, BuildError> {
    let path = path.trim();
    let ident = |part: &str| {
        part.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
            && part
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
    };
    if path.is_empty() {
        return Err(error(at, "pick a property"));
    }
    if !path.split('.').all(ident) {
        return Err(error(
            at,
            &format!("`{path}` is not a property name (letters, digits, _ and dots)"),
        ));
    }
    Ok(path.to_owned())
}

fn quoted_name(name: &str, what: &str, at: &[usize]) -> Result<String, BuildError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(error(at, &format!("pick a {what}")));
    }
    Ok(quote(name))
}

/// A string literal the lexer reads back to the same text.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

fn error(at: &[usize], reason: &str) -> BuildError {
    BuildError {
        at: at.to_vec(),
        reason: reason.to_owned(),
    }
}
