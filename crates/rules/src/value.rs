//! Values: [`Value`] (owned, public) and `Val` (borrowed, used while
//! evaluating so that event properties are never copied).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use crate::time::{format_duration, format_time};

/// A value of the language.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// No value: an absent trait or property, an aggregate over nothing.
    Missing,
    /// `true` / `false`.
    Bool(bool),
    /// A number (counts, sums, days, scores). `days_since` of nothing is `+inf`.
    Number(f64),
    /// A string.
    String(Arc<str>),
    /// A duration in milliseconds.
    Duration(i64),
    /// An instant in milliseconds since the Unix epoch.
    Time(i64),
    /// A list.
    List(Vec<Value>),
}

impl Value {
    /// Converts JSON (a trait or property); objects and `null` are missing.
    pub fn from_json(json: &serde_json::Value) -> Value {
        Val::from_json(json).to_value()
    }

    /// Whether this is `true`.
    pub fn is_true(&self) -> bool {
        matches!(self, Value::Bool(true))
    }
}

/// Formats a number the way people write it: `3`, `2.5`, `0.125`, `∞`.
pub(crate) fn format_number(n: f64) -> String {
    if n.is_infinite() {
        return if n > 0.0 {
            "∞".to_owned()
        } else {
            "-∞".to_owned()
        };
    }
    if n.fract() == 0.0 && n.abs() < 1e15 {
        return format!("{}", n as i64);
    }
    let text = format!("{n:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Missing => f.write_str("missing"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => f.write_str(&format_number(*n)),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Duration(ms) => f.write_str(&format_duration(*ms)),
            Value::Time(t) => f.write_str(&format_time(*t)),
            Value::List(items) => {
                let items: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", items.join(", "))
            }
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Missing => serializer.serialize_none(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) if n.is_finite() => serializer.serialize_f64(*n),
            Value::Number(n) => serializer.serialize_str(&format_number(*n)),
            Value::String(s) => serializer.serialize_str(s),
            Value::Duration(ms) => serializer.serialize_str(&format_duration(*ms)),
            Value::Time(t) => serializer.serialize_str(&format_time(*t)),
            Value::List(items) => items.serialize(serializer),
        }
    }
}

/// A value during evaluation, borrowing strings from events, traits and the rule.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Val<'a> {
    Missing,
    Bool(bool),
    Num(f64),
    Str(Cow<'a, str>),
    Dur(i64),
    Time(i64),
    List(Vec<Val<'a>>),
}

impl<'a> Val<'a> {
    pub(crate) fn from_json(json: &'a serde_json::Value) -> Val<'a> {
        match json {
            serde_json::Value::Bool(b) => Val::Bool(*b),
            serde_json::Value::Number(n) => n.as_f64().map_or(Val::Missing, Val::Num),
            serde_json::Value::String(s) => Val::Str(Cow::Borrowed(s)),
            serde_json::Value::Array(items) => {
                Val::List(items.iter().map(Val::from_json).collect())
            }
            serde_json::Value::Null | serde_json::Value::Object(_) => Val::Missing,
        }
    }

    pub(crate) fn from_value(value: &'a Value) -> Val<'a> {
        match value {
            Value::Missing => Val::Missing,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Num(*n),
            Value::String(s) => Val::Str(Cow::Borrowed(s)),
            Value::Duration(ms) => Val::Dur(*ms),
            Value::Time(t) => Val::Time(*t),
            Value::List(items) => Val::List(items.iter().map(Val::from_value).collect()),
        }
    }

    pub(crate) fn to_value(&self) -> Value {
        match self {
            Val::Missing => Value::Missing,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => Value::Number(*n),
            Val::Str(s) => Value::String(Arc::from(s.as_ref())),
            Val::Dur(ms) => Value::Duration(*ms),
            Val::Time(t) => Value::Time(*t),
            Val::List(items) => Value::List(items.iter().map(Val::to_value).collect()),
        }
    }

    pub(crate) fn is_true(&self) -> bool {
        matches!(self, Val::Bool(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers_and_serialises() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(1.0 / 3.0), "0.333");
        assert_eq!(format_number(f64::INFINITY), "∞");
        let json = serde_json::json!({"a": [1, "x", null]});
        let value = Value::from_json(&json["a"]);
        assert_eq!(value.to_string(), "[1, \"x\", missing]");
        assert_eq!(
            serde_json::to_string(&Value::Duration(7 * crate::time::DAY)).ok(),
            Some("\"1w\"".into())
        );
    }
}
