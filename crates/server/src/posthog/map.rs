//! One PostHog event to the Segment-spec messages Bellwether stores. Pure:
//! the result goes through the same validation as `/v1/batch`.
//!
//! | PostHog | Segment |
//! |---|---|
//! | `distinct_id` | `anonymousId`, or `userId` when the event says the person is identified (`$identify`, or `properties.$is_identified = true` as posthog-js sends) |
//! | `$identify` | `identify`: `userId` = `distinct_id`, `anonymousId` = `$anon_distinct_id` (merging the anonymous history), traits = `$set`; plus an `identify` tying the `distinct_id` itself as an anonymous id to the user, so later events that carry only it (server SDKs) reach the same contact |
//! | `$set` event | `identify` with traits = `$set` |
//! | `$create_alias` | `alias`: `previousId` = `distinct_id`, `userId` = `properties.alias` |
//! | `$pageview` | `page`, `properties.url` = `$current_url`, `path` = `$pathname` (or the URL's path), `title` = `$title`, `referrer` = `$referrer` |
//! | `$screen` | `screen` named `$screen_name` |
//! | `$groupidentify` | `group`: `groupId` = `$group_key`, traits = `$group_set` |
//! | any other event | `track` with the same name and properties |
//! | `$set` on any other event | an extra `identify` with those traits |
//! | `uuid` | `messageId` (deduplication); extra messages add a suffix |
//! | `timestamp`, `offset` | `timestamp` (`offset`: milliseconds before receipt) |
//!
//! `token` and `api_key` are removed from the stored properties (they are
//! the write key). Events with `$process_person_profile = false` (PostHog's
//! personless events) have no person to attach to and are skipped.

use serde_json::{json, Map, Value};

use crate::segment::format_timestamp;

/// A PostHog event that cannot be mapped, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MapError {
    pub(crate) field: String,
    pub(crate) reason: String,
}

fn error(field: &str, reason: impl Into<String>) -> MapError {
    MapError {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// The Segment messages for one event: none for a personless event.
pub(crate) fn to_segment(event: Value, received_at: i64) -> Result<Vec<Value>, MapError> {
    let Value::Object(mut event) = event else {
        return Err(error("", "an event must be a JSON object"));
    };
    let name = match event.remove("event") {
        Some(Value::String(name)) if !name.trim().is_empty() => name,
        None | Some(Value::Null) => {
            return Err(error("event", "missing; every event needs a name"))
        }
        Some(Value::String(_)) => return Err(error("event", "must not be empty")),
        Some(_) => return Err(error("event", "must be a string")),
    };
    let mut properties = match event.remove("properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(properties)) => properties,
        Some(_) => return Err(error("properties", "must be an object")),
    };
    if properties.get("$process_person_profile") == Some(&Value::Bool(false)) {
        return Ok(Vec::new());
    }
    let distinct_id = distinct_id(&mut event, &mut properties)?;
    for secret in ["token", "api_key"] {
        properties.remove(secret);
    }
    let set = take_set(&mut event, &mut properties)?;
    let base = Base {
        message_id: event.get("uuid").filter(|v| !v.is_null()).cloned(),
        timestamp: event_time(&event, received_at)?,
    };
    let identified = properties.get("$is_identified") == Some(&Value::Bool(true));
    let person = if identified {
        let device = id_text(properties.get("$device_id")).filter(|d| *d != distinct_id);
        json!({"userId": distinct_id, "anonymousId": device})
    } else {
        json!({"anonymousId": distinct_id})
    };
    let messages = match name.as_str() {
        "$identify" => {
            let anonymous = id_text(properties.get("$anon_distinct_id"))
                .or_else(|| id_text(properties.get("$device_id")))
                .filter(|a| *a != distinct_id);
            vec![
                base.message(
                    "identify",
                    "",
                    json!({"userId": distinct_id, "anonymousId": anonymous, "traits": set}),
                ),
                base.message(
                    "identify",
                    "#distinct_id",
                    json!({"userId": distinct_id, "anonymousId": distinct_id}),
                ),
            ]
        }
        "$set" => vec![base.message("identify", "", with(person, json!({"traits": set})))],
        "$create_alias" => {
            let alias = id_text(properties.get("alias")).ok_or_else(|| {
                error(
                    "properties.alias",
                    "missing; $create_alias needs the new id",
                )
            })?;
            vec![base.message(
                "alias",
                "",
                json!({"previousId": distinct_id, "userId": alias}),
            )]
        }
        "$groupidentify" => {
            let group_key = id_text(properties.get("$group_key")).ok_or_else(|| {
                error("properties.$group_key", "missing; $groupidentify needs it")
            })?;
            let traits = properties
                .get("$group_set")
                .cloned()
                .unwrap_or_else(|| json!({}));
            vec![base.message(
                "group",
                "",
                with(person, json!({"groupId": group_key, "traits": traits})),
            )]
        }
        other => {
            let mut messages = vec![base.behavior(other, &person, properties)];
            if let Some(set) = set {
                messages.push(base.message(
                    "identify",
                    "#set",
                    with(person, json!({"traits": set})),
                ));
            }
            messages
        }
    };
    Ok(messages)
}

/// What every message of one event shares.
struct Base {
    message_id: Option<Value>,
    timestamp: Option<String>,
}

impl Base {
    /// A message of `kind` with `fields`, its id suffixed by `suffix`.
    fn message(&self, kind: &str, suffix: &str, fields: Value) -> Value {
        let mut message = json!({"type": kind});
        if let Some(id) = &self.message_id {
            message["messageId"] = match id {
                Value::String(text) => Value::String(format!("{text}{suffix}")),
                other => Value::String(format!("{other}{suffix}")),
            };
        }
        if let Some(timestamp) = &self.timestamp {
            message["timestamp"] = Value::String(timestamp.clone());
        }
        with(message, fields)
    }

    /// `$pageview` → page, `$screen` → screen, anything else → track.
    fn behavior(&self, name: &str, person: &Value, mut properties: Map<String, Value>) -> Value {
        match name {
            "$pageview" => {
                page_fields(&mut properties);
                self.message(
                    "page",
                    "",
                    with(person.clone(), json!({"properties": properties})),
                )
            }
            "$screen" => {
                let screen = properties
                    .get("$screen_name")
                    .cloned()
                    .unwrap_or(Value::Null);
                self.message(
                    "screen",
                    "",
                    with(
                        person.clone(),
                        json!({"name": screen, "properties": properties}),
                    ),
                )
            }
            _ => self.message(
                "track",
                "",
                with(
                    person.clone(),
                    json!({"event": name, "properties": properties}),
                ),
            ),
        }
    }
}

/// `url`, `path`, `title`, `referrer` from PostHog's `$` properties, so
/// rules like `page where path = "/pricing"` work unchanged.
fn page_fields(properties: &mut Map<String, Value>) {
    let url = properties
        .get("$current_url")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(url) = &url {
        properties
            .entry("url")
            .or_insert_with(|| Value::String(url.clone()));
    }
    let path = properties
        .get("$pathname")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| url.as_deref().map(path_of));
    if let Some(path) = path {
        properties.entry("path").or_insert(Value::String(path));
    }
    for (from, to) in [("$title", "title"), ("$referrer", "referrer")] {
        if let Some(value) = properties.get(from).cloned() {
            properties.entry(to).or_insert(value);
        }
    }
}

/// The path of an absolute URL (`https://x.test/pricing?a=1` → `/pricing`).
fn path_of(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path_and_more = after_scheme.find('/').map_or("/", |at| &after_scheme[at..]);
    let end = path_and_more
        .find(['?', '#'])
        .unwrap_or(path_and_more.len());
    path_and_more[..end].to_owned()
}

/// `distinct_id` at the top, else in the properties (posthog-js puts it
/// there); removed from the properties.
fn distinct_id(
    event: &mut Map<String, Value>,
    properties: &mut Map<String, Value>,
) -> Result<String, MapError> {
    let top = event.remove("distinct_id");
    let inner = properties.remove("distinct_id");
    let (field, value) = match top.filter(|v| !v.is_null()) {
        Some(value) => ("distinct_id", value),
        None => ("properties.distinct_id", inner.unwrap_or(Value::Null)),
    };
    match value {
        Value::Null => Err(error(
            "distinct_id",
            "missing; every event needs a distinct_id",
        )),
        Value::String(text) if text.trim().is_empty() => Err(error(field, "must not be empty")),
        Value::String(text) => Ok(text),
        Value::Number(number) => Ok(number.to_string()),
        _ => Err(error(field, "must be a string or a number")),
    }
}

/// `$set` at the top of the event or in its properties (removed there).
fn take_set(
    event: &mut Map<String, Value>,
    properties: &mut Map<String, Value>,
) -> Result<Option<Value>, MapError> {
    let top = event.remove("$set").filter(|v| !v.is_null());
    let inner = properties.remove("$set").filter(|v| !v.is_null());
    properties.remove("$set_once");
    match top.or(inner) {
        None => Ok(None),
        Some(Value::Object(set)) => Ok(Some(Value::Object(set))),
        Some(_) => Err(error("$set", "must be an object")),
    }
}

fn event_time(event: &Map<String, Value>, received_at: i64) -> Result<Option<String>, MapError> {
    match (event.get("timestamp"), event.get("offset")) {
        (Some(Value::String(text)), _) => Ok(Some(text.clone())),
        (None | Some(Value::Null), None | Some(Value::Null)) => Ok(None),
        (None | Some(Value::Null), Some(Value::Number(offset))) => {
            let offset = offset
                .as_i64()
                .filter(|o| *o >= 0)
                .ok_or_else(|| error("offset", "must be a non-negative number of milliseconds"))?;
            Ok(Some(format_timestamp(received_at.saturating_sub(offset))))
        }
        (None | Some(Value::Null), Some(_)) => {
            Err(error("offset", "must be a number of milliseconds"))
        }
        (Some(_), _) => Err(error("timestamp", "must be an ISO-8601 string")),
    }
}

fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// `base` with the fields of `extra` added (both objects).
fn with(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
        base.extend(extra);
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(event: Value) -> Vec<Value> {
        to_segment(event, 1_700_000_000_000).expect("maps")
    }

    #[test]
    fn a_capture_is_a_track_of_an_anonymous_id_without_the_token() {
        let messages = map(
            json!({"event": "Quiz Answered", "distinct_id": "d1", "uuid": "u-1",
            "properties": {"benefit": "compliance", "token": "wk"}, "timestamp": "2026-01-01T00:00:00Z"}),
        );
        assert_eq!(
            messages,
            [
                json!({"type": "track", "messageId": "u-1", "timestamp": "2026-01-01T00:00:00Z",
            "anonymousId": "d1", "event": "Quiz Answered", "properties": {"benefit": "compliance"}})
            ]
        );
    }

    #[test]
    fn identify_merges_the_anonymous_id_and_ties_the_distinct_id() {
        let messages = map(
            json!({"event": "$identify", "distinct_id": "user-1", "uuid": "u-2",
            "properties": {"$anon_distinct_id": "anon-1", "$set": {"plan": "pro"}}}),
        );
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0]["userId"], "user-1");
        assert_eq!(messages[0]["anonymousId"], "anon-1");
        assert_eq!(messages[0]["traits"], json!({"plan": "pro"}));
        assert_eq!(messages[1]["anonymousId"], "user-1");
        assert_eq!(messages[1]["messageId"], "u-2#distinct_id");
    }

    #[test]
    fn a_pageview_is_a_page_with_url_and_path() {
        let messages = map(json!({"event": "$pageview", "distinct_id": 42,
            "properties": {"$current_url": "https://shop.test/pricing?x=1#top", "$title": "Pricing"}}));
        assert_eq!(messages[0]["type"], "page");
        assert_eq!(messages[0]["anonymousId"], "42");
        assert_eq!(
            messages[0]["properties"]["url"],
            "https://shop.test/pricing?x=1#top"
        );
        assert_eq!(messages[0]["properties"]["path"], "/pricing");
        assert_eq!(messages[0]["properties"]["title"], "Pricing");
    }

    #[test]
    fn identified_events_carry_the_user_id_and_set_adds_an_identify() {
        let messages = map(json!({"event": "Signed Up", "distinct_id": "user-1",
            "properties": {"$is_identified": true, "$device_id": "dev-1", "$set": {"role": "cto"}}}));
        assert_eq!(messages[0]["userId"], "user-1");
        assert_eq!(messages[0]["anonymousId"], "dev-1");
        assert_eq!(messages[1]["type"], "identify");
        assert_eq!(messages[1]["traits"], json!({"role": "cto"}));
    }

    #[test]
    fn alias_group_and_personless() {
        let alias = map(
            json!({"event": "$create_alias", "distinct_id": "old", "properties": {"alias": "new"}}),
        );
        assert_eq!(
            alias[0],
            json!({"type": "alias", "previousId": "old", "userId": "new"})
        );
        let group = map(json!({"event": "$groupidentify", "distinct_id": "d",
            "properties": {"$group_key": "acme", "$group_set": {"employees": 5}}}));
        assert_eq!(group[0]["groupId"], "acme");
        assert_eq!(group[0]["traits"], json!({"employees": 5}));
        assert!(map(json!({"event": "x", "distinct_id": "d", "properties": {"$process_person_profile": false}})).is_empty());
    }

    #[test]
    fn bad_events_name_the_field() {
        for (event, field) in [
            (json!({"distinct_id": "d"}), "event"),
            (json!({"event": "x"}), "distinct_id"),
            (
                json!({"event": "x", "distinct_id": {"a": 1}}),
                "distinct_id",
            ),
            (
                json!({"event": "x", "distinct_id": "d", "properties": []}),
                "properties",
            ),
            (
                json!({"event": "x", "distinct_id": "d", "offset": "soon"}),
                "offset",
            ),
            (
                json!({"event": "$create_alias", "distinct_id": "d"}),
                "properties.alias",
            ),
            (json!([1]), ""),
        ] {
            let problem = to_segment(event.clone(), 0).expect_err("invalid");
            assert_eq!(problem.field, field, "{event}");
        }
    }
}
