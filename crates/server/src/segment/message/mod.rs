//! One Segment message (JSON object) to a validated [`Message`].

use bellwether_core::{Message, MessageKind, Millis};
use serde_json::{Map, Value};

use super::time::parse_timestamp;
use super::{MAX_DEPTH, MAX_KEYS_PER_OBJECT};

/// A message that cannot be stored, with the JSON field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct MessageError {
    pub field: String,
    pub reason: String,
}

impl MessageError {
    fn new(field: &str, reason: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

/// What surrounds a message: its source, the request, and batch-level fields.
#[derive(Debug, Clone, Default)]
pub struct ParseContext<'a> {
    pub source: &'a str,
    pub received_at: Millis,
    /// The type implied by the endpoint (`/v1/track` → track); `None` for batches.
    pub endpoint_kind: Option<MessageKind>,
    pub batch_context: Option<&'a Map<String, Value>>,
    pub batch_integrations: Option<&'a Map<String, Value>>,
    pub batch_sent_at: Option<Millis>,
    /// Latest accepted event time relative to `received_at`.
    pub max_future_skew_ms: Millis,
    /// The browser's address, for a request a web page sent: put in
    /// `context.ip` when the message has none (as Segment's own servers do
    /// for analytics.js), so enrichment can reveal the visitor's company.
    pub client_ip: Option<std::net::IpAddr>,
}

/// Validates one message. `generated_id` is used when it has no `messageId`.
pub fn parse_message(
    value: Value,
    ctx: &ParseContext<'_>,
    generated_id: impl FnOnce() -> String,
) -> Result<Message, MessageError> {
    let Value::Object(mut object) = value else {
        return Err(MessageError::new("", "a message must be a JSON object"));
    };
    check_shape(&object)?;
    let kind = message_kind(&object, ctx)?;
    let message_id = optional_id(&object, "messageId")?.unwrap_or_else(generated_id);
    let user_id = optional_id(&object, "userId")?;
    let anonymous_id = optional_id(&object, "anonymousId")?;
    let previous_id = optional_id(&object, "previousId")?;
    let group_id = optional_id(&object, "groupId")?;
    let event = event_name(&object, kind)?;
    require_ids(kind, &user_id, &anonymous_id, &previous_id, &group_id)?;
    let properties = take_object(&mut object, "properties")?;
    let mut traits = take_object(&mut object, "traits")?;
    let mut context = take_object(&mut object, "context")?;
    if traits.is_empty() && matches!(kind, MessageKind::Identify | MessageKind::Group) {
        if let Some(Value::Object(context_traits)) = context.get("traits") {
            traits = context_traits.clone();
        }
    }
    merge_batch_context(&mut context, ctx);
    if let Some(ip) = ctx.client_ip {
        context
            .entry("ip")
            .or_insert_with(|| Value::String(ip.to_string()));
    }
    let (timestamp, sent_at, original_timestamp) = event_time(&object, ctx)?;
    Ok(Message {
        source: ctx.source.to_owned(),
        message_id,
        kind,
        user_id,
        anonymous_id,
        previous_id,
        group_id,
        event,
        properties,
        traits,
        context,
        timestamp,
        received_at: ctx.received_at,
        sent_at,
        original_timestamp,
    })
}

fn message_kind(
    object: &Map<String, Value>,
    ctx: &ParseContext<'_>,
) -> Result<MessageKind, MessageError> {
    if let Some(kind) = ctx.endpoint_kind {
        return Ok(kind);
    }
    match object.get("type") {
        None | Some(Value::Null) => Err(MessageError::new("type", "missing; expected one of identify, track, page, screen, group, alias")),
        Some(Value::String(text)) => MessageKind::parse(text).ok_or_else(|| {
            MessageError::new("type", format!("unknown type {text:?}; expected one of identify, track, page, screen, group, alias"))
        }),
        Some(_) => Err(MessageError::new("type", "must be a string")),
    }
}

/// Ids may be strings or numbers; `null` and `""` count as absent.
fn optional_id(object: &Map<String, Value>, key: &str) -> Result<Option<String>, MessageError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) if text.len() > 512 => {
            Err(MessageError::new(key, "longer than 512 characters"))
        }
        Some(Value::String(text)) if text.contains('\0') => {
            Err(MessageError::new(key, "contains a NUL character"))
        }
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(Value::Number(number)) => Ok(Some(number.to_string())),
        Some(_) => Err(MessageError::new(key, "must be a string or a number")),
    }
}

fn event_name(
    object: &Map<String, Value>,
    kind: MessageKind,
) -> Result<Option<String>, MessageError> {
    let (key, required) = match kind {
        MessageKind::Track => ("event", true),
        MessageKind::Page | MessageKind::Screen => ("name", false),
        _ => return Ok(None),
    };
    match object.get(key) {
        None | Some(Value::Null) if required => Err(MessageError::new(
            key,
            "missing; a track call needs an event name",
        )),
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if required && text.trim().is_empty() => {
            Err(MessageError::new(key, "must not be empty"))
        }
        Some(Value::String(text)) if text.len() > 512 => {
            Err(MessageError::new(key, "longer than 512 characters"))
        }
        Some(Value::String(text)) if text.contains('\0') => {
            Err(MessageError::new(key, "contains a NUL character"))
        }
        Some(Value::String(text)) => Ok((!text.is_empty()).then(|| text.clone())),
        Some(_) => Err(MessageError::new(key, "must be a string")),
    }
}

fn require_ids(
    kind: MessageKind,
    user_id: &Option<String>,
    anonymous_id: &Option<String>,
    previous_id: &Option<String>,
    group_id: &Option<String>,
) -> Result<(), MessageError> {
    match kind {
        MessageKind::Alias if previous_id.is_none() => Err(MessageError::new(
            "previousId",
            "missing; an alias call needs previousId and userId",
        )),
        MessageKind::Alias if user_id.is_none() => Err(MessageError::new(
            "userId",
            "missing; an alias call needs previousId and userId",
        )),
        MessageKind::Group if group_id.is_none() => Err(MessageError::new(
            "groupId",
            "missing; a group call needs a groupId",
        )),
        _ if user_id.is_none() && anonymous_id.is_none() => Err(MessageError::new(
            "userId",
            "missing both userId and anonymousId; one is required",
        )),
        _ => Ok(()),
    }
}

fn take_object(
    object: &mut Map<String, Value>,
    key: &str,
) -> Result<Map<String, Value>, MessageError> {
    match object.remove(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(inner)) => Ok(inner),
        Some(other) => Err(MessageError::new(
            key,
            format!("must be an object, got {}", type_name(&other)),
        )),
    }
}

/// Batch-level `context` and `integrations` fill in what a message lacks.
fn merge_batch_context(context: &mut Map<String, Value>, ctx: &ParseContext<'_>) {
    if let Some(batch_context) = ctx.batch_context {
        for (key, value) in batch_context {
            context.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    if let Some(integrations) = ctx.batch_integrations {
        context
            .entry("integrations".to_owned())
            .or_insert_with(|| Value::Object(integrations.clone()));
    }
}

/// Segment's clock-skew correction: `timestamp = receivedAt − (sentAt − clientTime)`.
fn event_time(
    object: &Map<String, Value>,
    ctx: &ParseContext<'_>,
) -> Result<(Millis, Option<Millis>, Option<Millis>), MessageError> {
    let client_time = match timestamp_field(object, "originalTimestamp")? {
        Some(original) => Some(original),
        None => timestamp_field(object, "timestamp")?,
    };
    let sent_at = timestamp_field(object, "sentAt")?.or(ctx.batch_sent_at);
    let corrected = match (client_time, sent_at) {
        (Some(client), Some(sent)) => ctx.received_at - (sent - client),
        (Some(client), None) => client,
        (None, _) => ctx.received_at,
    };
    if corrected < 0 {
        return Err(MessageError::new("timestamp", "before 1970-01-01"));
    }
    if corrected > ctx.received_at + ctx.max_future_skew_ms {
        return Err(MessageError::new(
            "timestamp",
            format!(
                "{} hours or more in the future",
                ctx.max_future_skew_ms / 3_600_000
            ),
        ));
    }
    Ok((corrected, sent_at, client_time))
}

fn timestamp_field(object: &Map<String, Value>, key: &str) -> Result<Option<Millis>, MessageError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => parse_timestamp(text).map(Some).ok_or_else(|| {
            MessageError::new(key, format!("{text:?} is not an ISO-8601 timestamp"))
        }),
        Some(_) => Err(MessageError::new(key, "must be an ISO-8601 string")),
    }
}

/// Rejects pathological nesting and key counts, and text no store can hold
/// (a NUL character: PostgreSQL refuses it in `text` and `jsonb`), before
/// anything is stored. One such message must never reach a group commit,
/// where it would fail every other sender's messages with it.
fn check_shape(object: &Map<String, Value>) -> Result<(), MessageError> {
    for (key, value) in object {
        let mut path = vec![PathStep::Key(key)];
        check_key_text(key, &path)?;
        check_value(value, &mut path, 1)?;
    }
    check_keys(object, &[])
}

/// Checks a request-level object merged into every message of a batch
/// (`context`, `integrations`) exactly like a message's own fields.
pub fn check_envelope_object<'a>(
    name: &'a str,
    object: &'a Map<String, Value>,
) -> Result<(), MessageError> {
    let mut path = vec![PathStep::Key(name)];
    check_keys(object, &path)?;
    for (key, value) in object {
        path.push(PathStep::Key(key));
        check_key_text(key, &path)?;
        check_value(value, &mut path, 2)?;
        path.pop();
    }
    Ok(())
}

/// One step of the path to a value, kept as borrowed pieces so the common
/// case (nothing wrong) builds no strings.
#[derive(Debug, Clone, Copy)]
enum PathStep<'a> {
    Key(&'a str),
    Index(usize),
}

/// `traits.address[2].k\u0000`: the field as people read it, NULs escaped.
fn path_text(path: &[PathStep<'_>]) -> String {
    let mut text = String::new();
    for step in path {
        match step {
            PathStep::Key(key) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(&key.replace('\0', "\\u0000"));
            }
            PathStep::Index(index) => text.push_str(&format!("[{index}]")),
        }
    }
    text
}

const NUL_REASON: &str = "contains a NUL character (\\u0000), which cannot be stored";

fn check_key_text(key: &str, path: &[PathStep<'_>]) -> Result<(), MessageError> {
    if key.contains('\0') {
        return Err(MessageError::new(&path_text(path), NUL_REASON));
    }
    Ok(())
}

fn check_value<'a>(
    value: &'a Value,
    path: &mut Vec<PathStep<'a>>,
    depth: usize,
) -> Result<(), MessageError> {
    if depth > MAX_DEPTH {
        return Err(MessageError::new(
            &path_text(&path[..path.len().min(1)]),
            format!("nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    match value {
        Value::Object(inner) => {
            check_keys(inner, path)?;
            for (key, value) in inner {
                path.push(PathStep::Key(key));
                check_key_text(key, path)?;
                check_value(value, path, depth + 1)?;
                path.pop();
            }
            Ok(())
        }
        Value::Array(items) => {
            for (index, value) in items.iter().enumerate() {
                path.push(PathStep::Index(index));
                check_value(value, path, depth + 1)?;
                path.pop();
            }
            Ok(())
        }
        Value::String(text) if text.contains('\0') => {
            Err(MessageError::new(&path_text(path), NUL_REASON))
        }
        _ => Ok(()),
    }
}

/// Too many keys in one object; the error names the top-level field.
fn check_keys(object: &Map<String, Value>, path: &[PathStep<'_>]) -> Result<(), MessageError> {
    if object.len() > MAX_KEYS_PER_OBJECT {
        return Err(MessageError::new(
            &path_text(&path[..path.len().min(1)]),
            format!(
                "{} keys in one object; at most {MAX_KEYS_PER_OBJECT}",
                object.len()
            ),
        ));
    }
    Ok(())
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
