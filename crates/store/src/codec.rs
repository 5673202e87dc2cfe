//! Column conversions both backends share: enum columns, integer widths,
//! JSON objects, and folding trait history into current traits.

use bellwether_core::message::MessageKind;
use bellwether_core::store::{AccountLink, IdKind, MergeReason, StoreError, TraitChange};
use bellwether_core::subject::{DefKind, SubjectKey, SubjectKind, Transition};
use serde_json::{Map, Value};

mod keeping;
pub(crate) mod score_forms;

pub(crate) fn message_kind(text: &str) -> Result<MessageKind, StoreError> {
    MessageKind::parse(text).ok_or_else(|| corrupt("events.type", text))
}

pub(crate) fn id_kind(text: &str) -> Result<IdKind, StoreError> {
    IdKind::parse(text).ok_or_else(|| corrupt("identities.kind", text))
}

pub(crate) fn merge_reason(text: &str) -> Result<MergeReason, StoreError> {
    MergeReason::parse(text).ok_or_else(|| corrupt("merges.reason", text))
}

pub(crate) fn account_link(text: &str) -> Result<AccountLink, StoreError> {
    AccountLink::parse(text).ok_or_else(|| corrupt("contact_accounts.link", text))
}

/// A subject from its `subject_kind` and `subject_key` columns in `table`.
pub(crate) fn subject(table: &str, kind: &str, key: &str) -> Result<SubjectKey, StoreError> {
    let kind =
        SubjectKind::parse(kind).ok_or_else(|| corrupt(&format!("{table}.subject_kind"), kind))?;
    SubjectKey::from_store(kind, key).ok_or_else(|| corrupt(&format!("{table}.subject_key"), key))
}

/// The `subject_kind` and `subject_key` columns of a subject.
pub(crate) fn subject_columns(subject: &SubjectKey) -> (&'static str, String) {
    (subject.kind().as_str(), subject.store_key())
}

pub(crate) fn transition(table: &str, text: &str) -> Result<Transition, StoreError> {
    Transition::parse(text).ok_or_else(|| corrupt(&format!("{table}.change"), text))
}

pub(crate) fn def_kind(table: &str, text: &str) -> Result<DefKind, StoreError> {
    DefKind::parse(text).ok_or_else(|| corrupt(&format!("{table}.definition_kind"), text))
}

fn corrupt(column: &str, text: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown value {text:?} in {column}"))
}

/// A `LIMIT` parameter; anything beyond `i64::MAX` means "no limit" anyway.
/// A `contact_accounts` row `(group_id, link, via)` as the record's fields.
pub(crate) type AccountColumns = (Option<String>, Option<AccountLink>, Option<String>);

pub(crate) fn account_columns(
    row: Option<(String, String, Option<String>)>,
) -> Result<AccountColumns, StoreError> {
    let Some((group_id, link, via)) = row else {
        return Ok((None, None, None));
    };
    Ok((Some(group_id), Some(account_link(&link)?), via))
}

pub(crate) fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A batch position as stored (`rejections.batch_index`).
/// A count for a query parameter (saturating: no stored table is that big).
pub(crate) fn count_to_db(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(crate) fn batch_index_to_db(index: Option<usize>) -> Result<Option<i64>, StoreError> {
    index
        .map(|i| {
            i64::try_from(i)
                .map_err(|_| StoreError::Database(format!("rejection index {i} out of range")))
        })
        .transpose()
}

pub(crate) fn batch_index_from_db(index: Option<i64>) -> Result<Option<usize>, StoreError> {
    index
        .map(|i| {
            usize::try_from(i)
                .map_err(|_| StoreError::Corrupt(format!("negative rejections.batch_index {i}")))
        })
        .transpose()
}

/// A row count as returned by `COUNT(*)`.
pub(crate) fn count(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative count {n}")))
}

pub(crate) fn object_text(map: &Map<String, Value>) -> Result<String, StoreError> {
    serde_json::to_string(map).map_err(encode_error)
}

pub(crate) fn value_text(value: &Value) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(encode_error)
}

fn encode_error(error: serde_json::Error) -> StoreError {
    StoreError::Database(format!("cannot encode json: {error}"))
}

pub(crate) fn json_from_text(text: &str, column: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("invalid json in {column}: {e}")))
}

pub(crate) fn object_from_text(text: &str, column: &str) -> Result<Map<String, Value>, StoreError> {
    into_object(json_from_text(text, column)?, column)
}

/// A JSON object's text with only the top-level keys `keep` accepts
/// (`None`: all): the other values are parsed over, never built.
pub(crate) fn object_keeping(
    text: &str,
    column: &str,
    keep: Option<&dyn Fn(&str) -> bool>,
) -> Result<Map<String, Value>, StoreError> {
    let Some(keep) = keep else {
        return object_from_text(text, column);
    };
    let mut input = serde_json::Deserializer::from_str(text);
    serde::de::DeserializeSeed::deserialize(keeping::Keeping(keep), &mut input)
        .and_then(|map| input.end().map(|()| map))
        .map_err(|e| StoreError::Corrupt(format!("invalid json in {column}: {e}")))
}

pub(crate) fn into_object(value: Value, column: &str) -> Result<Map<String, Value>, StoreError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(StoreError::Corrupt(format!(
            "{column} holds {} instead of a json object",
            json_type(&other)
        ))),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Current traits from a history ordered by `(at, seq, insertion)`: per key,
/// the value with the greatest `(at, seq)`, the later insertion on a tie.
pub(crate) fn current_traits(history: &[TraitChange]) -> Map<String, Value> {
    let mut current = Map::new();
    for change in history {
        current.insert(change.key.clone(), change.value.clone());
    }
    current
}

/// Identifiers of one contact, already ordered by `(first_seen, value)`.
#[derive(Default)]
pub(crate) struct IdentityLists {
    pub(crate) user_ids: Vec<String>,
    pub(crate) anonymous_ids: Vec<String>,
    pub(crate) emails: Vec<String>,
}

impl IdentityLists {
    pub(crate) fn push(&mut self, kind: IdKind, value: String) {
        match kind {
            IdKind::User => self.user_ids.push(value),
            IdKind::Anonymous => self.anonymous_ids.push(value),
            IdKind::Email => self.emails.push(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{current_traits, into_object, subject, transition};
    use bellwether_core::store::TraitChange;
    use bellwether_core::subject::{SubjectKey, Transition};
    use serde_json::{json, Value};

    fn change(key: &str, value: Value, at: i64, seq: i64) -> TraitChange {
        TraitChange {
            key: key.to_owned(),
            value,
            at,
            seq,
        }
    }

    #[test]
    fn the_last_change_per_key_wins() {
        let history = [
            change("plan", json!("free"), 1, 1),
            change("domain", json!("a.com"), 1, 1),
            change("plan", json!("pro"), 2, 5),
            change("domain", json!(42), 3, 6),
        ];
        let current = current_traits(&history);
        assert_eq!(Value::Object(current), json!({"plan": "pro", "domain": 42}));
    }

    #[test]
    fn only_objects_are_objects() {
        assert!(into_object(json!({"a": 1}), "c").is_ok());
        let error = into_object(json!([1]), "events.context").err().unwrap();
        assert_eq!(
            error.to_string(),
            "stored data is corrupt: events.context holds an array instead of a json object"
        );
    }

    #[test]
    fn typed_columns_read_back_or_name_the_column_that_is_wrong() {
        assert_eq!(
            subject("assignments", "contact", "7").ok(),
            Some(SubjectKey::Contact(7))
        );
        let wrong_kind = subject("score_changes", "robot", "7").err().unwrap();
        assert_eq!(
            wrong_kind.to_string(),
            "stored data is corrupt: unknown value \"robot\" in score_changes.subject_kind"
        );
        let wrong_key = subject("score_changes", "contact", "acme").err().unwrap();
        assert!(wrong_key.to_string().contains("score_changes.subject_key"));
        assert_eq!(transition("t", "exited").ok(), Some(Transition::Exited));
        assert!(transition("t", "left").is_err());
    }
}
