//! Operators. A comparison with a missing value, or between values of
//! different kinds, is false; arithmetic with a missing value is missing.

use std::cmp::Ordering;

use regex::Regex;

use super::motion::{first_flip, Motion};
use super::{earliest, Eval, Out, Trace};
use crate::ir::{AggOp, ArithOp, CmpOp, Node, NodeKind, Win};
use crate::timeline::Event;
use crate::value::{Val, Value};

/// For `count(...) op k`: the count at which the answer is decided for good.
fn deciding_count(op: CmpOp, k: f64) -> Option<usize> {
    if !(0.0..1e9).contains(&k) {
        return None;
    }
    let limit = match op {
        CmpOp::Ge | CmpOp::Lt => k.ceil(),
        CmpOp::Gt | CmpOp::Le => k.floor() + 1.0,
        CmpOp::Eq | CmpOp::Ne => return None,
    };
    Some((limit as usize).max(1))
}

/// Whether `lhs op rhs` keeps this truth for as long as its right side
/// does: `lhs` counts what a sliding window holds, which only falls as time
/// passes (a match leaving) until an input arrives (which re-evaluates), and
/// falling keeps this truth (`count(…, last 7d) >= 2` while false). Its
/// window's edges are then no change: a subject is not woken at each one.
fn kept_while_falling(op: CmpOp, lhs: &Node, truth: bool) -> bool {
    let falls = matches!(
        &lhs.kind,
        NodeKind::Count(_, Win::Last(_))
            | NodeKind::ActiveDays(Win::Last(_))
            | NodeKind::Agg(AggOp::Distinct, _, _, Win::Last(_))
    );
    falls
        && match op {
            CmpOp::Ge | CmpOp::Gt => !truth,
            CmpOp::Le | CmpOp::Lt => truth,
            CmpOp::Eq | CmpOp::Ne => false,
        }
}

/// How two values order, if they are comparable.
pub(crate) fn order(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
        (Val::Str(x), Val::Str(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (Val::Dur(x), Val::Dur(y)) | (Val::Time(x), Val::Time(y)) => Some(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (Val::List(x), Val::List(y)) => (x == y).then_some(Ordering::Equal),
        _ => None,
    }
}

pub(crate) fn holds(op: CmpOp, ordering: Option<Ordering>) -> bool {
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    }
}

fn equal(a: &Val<'_>, b: &Val<'_>) -> bool {
    order(a, b) == Some(Ordering::Equal)
}

pub(crate) fn contains(hay: &Val<'_>, needle: &Val<'_>) -> bool {
    match (hay, needle) {
        (Val::List(items), needle) => items.iter().any(|item| equal(item, needle)),
        (Val::Str(text), Val::Str(part)) => text.contains(part.as_ref()),
        _ => false,
    }
}

pub(crate) fn starts_with(text: &Val<'_>, prefix: &Val<'_>) -> bool {
    match (text, prefix) {
        (Val::Str(text), Val::Str(prefix)) => text.starts_with(prefix.as_ref()),
        _ => false,
    }
}

fn arith_vals<'a>(op: ArithOp, a: &Val<'a>, b: &Val<'a>) -> Val<'a> {
    use Val::{Dur, Num, Time};
    let value = match (op, a, b) {
        (ArithOp::Add, Num(x), Num(y)) => Num(x + y),
        (ArithOp::Sub, Num(x), Num(y)) => Num(x - y),
        (ArithOp::Mul, Num(x), Num(y)) => Num(x * y),
        (ArithOp::Div, Num(x), Num(y)) if *y != 0.0 => Num(x / y),
        (ArithOp::Add, Dur(x), Dur(y)) => Dur(x.saturating_add(*y)),
        (ArithOp::Sub, Dur(x), Dur(y)) | (ArithOp::Sub, Time(x), Time(y)) => {
            Dur(x.saturating_sub(*y))
        }
        (ArithOp::Add, Time(x), Dur(y)) | (ArithOp::Add, Dur(y), Time(x)) => {
            Time(x.saturating_add(*y))
        }
        (ArithOp::Sub, Time(x), Dur(y)) => Time(x.saturating_sub(*y)),
        (ArithOp::Mul, Num(k), Dur(d)) | (ArithOp::Mul, Dur(d), Num(k)) => scale(*d, *k),
        (ArithOp::Div, Dur(d), Num(k)) if *k != 0.0 => scale(*d, 1.0 / k),
        (ArithOp::Div, Dur(x), Dur(y)) if *y != 0 => Num(*x as f64 / *y as f64),
        _ => Val::Missing,
    };
    match value {
        Num(n) if n.is_nan() => Val::Missing,
        other => other,
    }
}

fn scale(duration: i64, k: f64) -> Val<'static> {
    let ms = duration as f64 * k;
    if ms.is_finite() && ms.abs() < 9.0e15 {
        Val::Dur(ms.round() as i64)
    } else {
        Val::Missing
    }
}

/// The closed form of a number operand, if it has one.
fn motion_of(out: &Out<'_>) -> Option<Motion> {
    match (&out.motion, &out.val) {
        (Some(motion), _) => Some(motion.clone()),
        (None, Val::Num(n)) => Some(Motion::still(*n)),
        _ => None,
    }
}

impl<'a, T: Trace> Eval<'a, '_, T> {
    pub(super) fn compare(
        &mut self,
        op: CmpOp,
        lhs: &'a Node,
        rhs: &'a Node,
        event: Option<&'a Event>,
    ) -> Out<'a> {
        let tracked = lhs.slot.is_some() && self.tracker.is_some();
        if let (false, false, NodeKind::Count(sel, win), NodeKind::Lit(Value::Number(k))) =
            (T::ON, tracked, &lhs.kind, &rhs.kind)
        {
            if let Some(limit) = deciding_count(op, *k) {
                let out = self.count_upto(sel, win, limit, &mut super::Detail::default());
                let truth = holds(op, order(&out.val, &Val::Num(*k)));
                let next = match kept_while_falling(op, lhs, truth) {
                    true => None,
                    false => out.next,
                };
                return Out::until(Val::Bool(truth), next);
            }
        }
        let left = self.eval(lhs, event);
        let right = self.eval(rhs, event);
        let truth = holds(op, order(&left.val, &right.val));
        let value = Val::Bool(truth);
        let until = match right.motion.is_none() && kept_while_falling(op, lhs, truth) {
            true => right.next,
            false => earliest(left.next, right.next),
        };
        if left.motion.is_none() && right.motion.is_none() {
            return Out::until(value, until);
        }
        let next = match (motion_of(&left), motion_of(&right)) {
            (Some(l), Some(r)) => first_flip(op, &l, &r, self.now, until),
            _ => until,
        };
        Out::until(value, next)
    }

    pub(super) fn between(
        &mut self,
        value: &'a Node,
        low: &'a Node,
        high: &'a Node,
        event: Option<&'a Event>,
    ) -> Out<'a> {
        let value = self.eval(value, event);
        let low = self.eval(low, event);
        let high = self.eval(high, event);
        let holds_now = holds(CmpOp::Ge, order(&value.val, &low.val))
            && holds(CmpOp::Le, order(&value.val, &high.val));
        let until = earliest(value.next, earliest(low.next, high.next));
        let moving = value.motion.is_some() || low.motion.is_some() || high.motion.is_some();
        let next = match (moving, motion_of(&value), motion_of(&low), motion_of(&high)) {
            (true, Some(v), Some(l), Some(h)) => earliest(
                first_flip(CmpOp::Ge, &v, &l, self.now, until),
                first_flip(CmpOp::Le, &v, &h, self.now, until),
            ),
            _ => until,
        };
        Out::until(Val::Bool(holds_now), next)
    }

    pub(super) fn membership(
        &mut self,
        negated: bool,
        item: &'a Node,
        list: &'a Node,
        event: Option<&'a Event>,
    ) -> Out<'a> {
        let item = self.eval(item, event);
        let list = self.eval(list, event);
        let found = match &list.val {
            Val::List(_) if item.val != Val::Missing => contains(&list.val, &item.val),
            _ => return Out::until(Val::Bool(false), self.settle(&item, &list)),
        };
        Out::until(Val::Bool(found != negated), self.settle(&item, &list))
    }

    pub(super) fn binary_test(
        &mut self,
        lhs: &'a Node,
        rhs: &'a Node,
        event: Option<&'a Event>,
        test: fn(&Val<'_>, &Val<'_>) -> bool,
    ) -> Out<'a> {
        let left = self.eval(lhs, event);
        let right = self.eval(rhs, event);
        Out::until(
            Val::Bool(test(&left.val, &right.val)),
            self.settle(&left, &right),
        )
    }

    pub(super) fn regex_match(
        &mut self,
        text: &'a Node,
        regex: &Regex,
        event: Option<&'a Event>,
    ) -> Out<'a> {
        let text = self.eval(text, event);
        let found = matches!(&text.val, Val::Str(s) if regex.is_match(s));
        Out::until(
            Val::Bool(found),
            self.settle(&text, &Out::still(Val::Missing)),
        )
    }

    /// `next` for operators without closed-form crossing: a moving operand may
    /// change the result at any moment.
    fn settle(&self, a: &Out<'_>, b: &Out<'_>) -> Option<i64> {
        if a.motion.is_some() || b.motion.is_some() {
            return Some(self.now.saturating_add(1));
        }
        earliest(a.next, b.next)
    }

    pub(super) fn arith(
        &mut self,
        op: ArithOp,
        lhs: &'a Node,
        rhs: &'a Node,
        event: Option<&'a Event>,
    ) -> Out<'a> {
        let left = self.eval(lhs, event);
        let right = self.eval(rhs, event);
        let next = earliest(left.next, right.next);
        let value = arith_vals(op, &left.val, &right.val);
        if (left.motion.is_none() && right.motion.is_none()) || value == Val::Missing {
            return Out::until(value, next);
        }
        let (Some(l), Some(r)) = (motion_of(&left), motion_of(&right)) else {
            return Out::until(Val::Missing, next);
        };
        let constant = |out: &Out<'_>| match (&out.motion, &out.val) {
            (None, Val::Num(n)) => Some(*n),
            _ => None,
        };
        let motion = match op {
            ArithOp::Add => Some(l.plus(r)),
            ArithOp::Sub => Some(l.plus(r.times(-1.0))),
            ArithOp::Mul => constant(&right)
                .map(|k| l.clone().times(k))
                .or_else(|| constant(&left).map(|k| r.times(k))),
            ArithOp::Div => constant(&right)
                .filter(|k| *k != 0.0)
                .map(|k| l.times(1.0 / k)),
        };
        match motion {
            Some(motion) => Out {
                val: Val::Num(motion.at(self.now)),
                motion: Some(motion),
                next,
            },
            None => Out::until(value, Some(self.now.saturating_add(1))),
        }
    }

    pub(super) fn negate(&mut self, inner: &'a Node, event: Option<&'a Event>) -> Out<'a> {
        let out = self.eval(inner, event);
        let val = match &out.val {
            Val::Num(n) => Val::Num(-n),
            Val::Dur(d) => Val::Dur(d.saturating_neg()),
            _ => Val::Missing,
        };
        match out.motion {
            Some(motion) => {
                let motion = motion.times(-1.0);
                Out {
                    val: Val::Num(motion.at(self.now)),
                    motion: Some(motion),
                    next: out.next,
                }
            }
            None => Out::until(val, out.next),
        }
    }
}
