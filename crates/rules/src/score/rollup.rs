//! Account scores rolled up from their contacts' scores:
//! `{ rollup = "intent", agg = "sum" | "max" | "avg" | "top 3" }`.
//!
//! Every contact score shares the account score's half-life, so with
//! x = 2^(−(t − anchor)/h) each contact is a line `C + D·x`. Sum and average
//! stay one line; for max and top-N the chosen set changes where two lines
//! cross, which is solved exactly.

use std::cmp::Ordering;

use crate::eval::earliest;
use crate::eval::motion::{first_flip, Motion};
use crate::subject::{decay_factor, ScoreValue, SubjectView};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rollup {
    Sum,
    Avg,
    /// The sum of the N highest (max = top 1).
    Top(usize),
}

impl Rollup {
    pub(crate) fn parse(text: &str) -> Option<Rollup> {
        let text = text.trim();
        match text {
            "sum" => return Some(Rollup::Sum),
            "avg" => return Some(Rollup::Avg),
            "max" => return Some(Rollup::Top(1)),
            _ => {}
        }
        let count = text
            .strip_prefix("top")?
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')');
        count
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .map(Rollup::Top)
    }
}

/// One rolled-up part of an account score.
pub(crate) struct Part {
    pub(crate) constant: f64,
    pub(crate) decaying: f64,
    pub(crate) next: Option<i64>,
    pub(crate) contacts: usize,
}

/// A contact score as the line `constant + decaying·x` around the account anchor.
#[derive(Clone, Copy)]
struct Line {
    constant: f64,
    decaying: f64,
    form: ScoreValue,
}

fn line(form: ScoreValue, anchor: i64) -> Line {
    match form.half_life {
        Some(h) => Line {
            constant: form.constant,
            decaying: form.decaying * decay_factor(anchor - form.anchor, h),
            form,
        },
        None => Line {
            constant: form.constant + form.decaying,
            decaying: 0.0,
            form,
        },
    }
}

impl Rollup {
    pub(crate) fn combine(
        self,
        score: &str,
        account: &dyn SubjectView,
        now: i64,
        anchor: i64,
        half_life: Option<i64>,
    ) -> Part {
        let mut lines = Vec::new();
        account.for_each_contact(&mut |contact| {
            if let Some(form) = contact.score(score) {
                lines.push(line(form, anchor));
            }
        });
        let mut next = lines
            .iter()
            .fold(None, |acc, l| earliest(acc, l.form.next_change));
        let contacts = lines.len();
        if let Rollup::Top(n) = self {
            let value = |l: &Line| l.form.at(now);
            lines.sort_by(|a, b| value(b).partial_cmp(&value(a)).unwrap_or(Ordering::Equal));
            if lines.len() > n {
                next = earliest(
                    next,
                    first_swap(&lines[..n], &lines[n..], now, anchor, next),
                );
                lines.truncate(n);
            }
        }
        let scale = if self == Rollup::Avg && contacts > 0 {
            1.0 / contacts as f64
        } else {
            1.0
        };
        let constant = lines.iter().map(|l| l.constant).sum::<f64>() * scale;
        let decaying = lines.iter().map(|l| l.decaying).sum::<f64>() * scale;
        let decaying = if half_life.is_some() { decaying } else { 0.0 };
        let constant = if half_life.is_some() {
            constant
        } else {
            constant + lines.iter().map(|l| l.decaying).sum::<f64>() * scale
        };
        Part {
            constant,
            decaying,
            next,
            contacts,
        }
    }
}

/// The first instant at which some unchosen contact overtakes a chosen one.
fn first_swap(
    chosen: &[Line],
    rest: &[Line],
    now: i64,
    anchor: i64,
    until: Option<i64>,
) -> Option<i64> {
    let half_life = chosen.iter().chain(rest).find_map(|l| l.form.half_life)?;
    let x_now = decay_factor(now - anchor, half_life);
    let mut best: Option<(f64, &Line, &Line)> = None;
    for c in chosen {
        for o in rest {
            let slope = c.decaying - o.decaying;
            if slope == 0.0 {
                continue;
            }
            let x = (o.constant - c.constant) / slope;
            let future = x > 0.0 && x < x_now;
            if future && best.is_none_or(|(bx, _, _)| x > bx) {
                best = Some((x, c, o));
            }
        }
    }
    let (_, c, o) = best?;
    let motion =
        |l: &Line| Motion::of_score(&l.form).unwrap_or_else(|| Motion::still(l.form.at(now)));
    first_flip(crate::ir::CmpOp::Ge, &motion(c), &motion(o), now, until)
}
