//! The event names a definition refers to: the `"Name"` (or bare
//! identifier) bases of its selectors, found by walking the syntax tree.

use std::collections::BTreeSet;

use bellwether_rules::ast::{Arg, ArgKind, Expr, ExprKind, Window};

/// Functions whose first argument is an event selector.
const SELECTOR_FUNCTIONS: &[&str] = &[
    "count",
    "exists",
    "days_since",
    "distinct",
    "sum",
    "avg",
    "min",
    "max",
    "first",
    "last",
    "each",
    "sequence",
];

/// Selector bases that are not event names.
const KEYWORDS: &[&str] = &["page", "screen", "any", "contacts"];

/// Event names referred to by an expression (unparsable text: none).
pub(super) fn events_in_expression(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    if let Ok(expr) = bellwether_rules::parse(text) {
        walk_expr(&expr, &mut names);
    }
    names
}

/// Event names referred to by a selector (a score rule's `on`).
pub(super) fn events_in_selector(text: &str) -> BTreeSet<String> {
    events_in_expression(&format!("exists({text})"))
}

fn walk_expr(expr: &Expr, names: &mut BTreeSet<String>) {
    match &expr.kind {
        ExprKind::Call { name, args } => {
            let takes_selector = SELECTOR_FUNCTIONS.contains(&name.name.as_str());
            for (i, arg) in args.iter().enumerate() {
                walk_arg(arg, takes_selector && i == 0, names);
            }
        }
        ExprKind::List(items) => items.iter().for_each(|e| walk_expr(e, names)),
        ExprKind::Field { base, .. } => walk_expr(base, names),
        ExprKind::Unary { expr, .. } => walk_expr(expr, names),
        ExprKind::Binary { lhs, rhs, .. } => {
            walk_expr(lhs, names);
            walk_expr(rhs, names);
        }
        ExprKind::Between { expr, low, high } => {
            for e in [expr, low, high] {
                walk_expr(e, names);
            }
        }
        ExprKind::Num(_)
        | ExprKind::Str(_)
        | ExprKind::Bool(_)
        | ExprKind::Dur(_)
        | ExprKind::Path(_) => {}
    }
}

fn walk_arg(arg: &Arg, selector: bool, names: &mut BTreeSet<String>) {
    match &arg.kind {
        ArgKind::Expr(expr) if selector => base_name(expr, names),
        ArgKind::Expr(expr) => walk_expr(expr, names),
        ArgKind::Filtered { base, filter } => {
            base_name(base, names);
            walk_expr(filter, names);
        }
        ArgKind::Window(Window::WithinOf { anchor, .. }) => walk_arg(anchor, true, names),
        ArgKind::Window(_) => {}
        ArgKind::Sequence { steps, .. } => steps.iter().for_each(|s| walk_arg(s, true, names)),
        ArgKind::LastN { lead, follower, .. } => {
            walk_arg(lead, true, names);
            walk_arg(follower, true, names);
        }
    }
}

fn base_name(base: &Expr, names: &mut BTreeSet<String>) {
    match &base.kind {
        ExprKind::Str(name) => {
            names.insert(name.clone());
        }
        ExprKind::Path(path) if path.len() == 1 && !KEYWORDS.contains(&path[0].name.as_str()) => {
            names.insert(path[0].name.clone());
        }
        _ => walk_expr(base, names),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_selector_names_and_nothing_else() {
        let names = events_in_expression(
            r#"count(page where path = "/pricing", last 7d) >= 2
               and each(last 3 "Email Sent" followed_by "Email Opened" on email_id)
               and exists("Campaign Created", within 48h of first(Signed_Up))
               and score("intent") > 3 and in_segment("x")
               and count(contacts where exists("Demo Requested")) >= 1"#,
        );
        let expected: BTreeSet<String> = [
            "Campaign Created",
            "Demo Requested",
            "Email Opened",
            "Email Sent",
            "Signed_Up",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(names, expected);
        assert_eq!(events_in_selector("\"Deal Won\" where amount > 1").len(), 1);
    }
}
