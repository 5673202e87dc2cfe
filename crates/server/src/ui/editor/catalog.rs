//! What the builder offers to pick from: the events the engine holds with
//! their counts (from the published view), values of their properties
//! (from a bounded sample of the newest stored events, as the ingestion
//! page reads them), and the names of scores, segments and tiers.
//!
//! Counting walks every event held in memory and the sample reads the
//! store, so both are kept for [`FRESH_FOR`] and shared by every editor page
//! load in that time (suggestions need not be exact to the second); the
//! names are read anew each time.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bellwether_core::message::{MessageKind, StoredEvent};
use bellwether_rules::EventKind;
use serde::Serialize;
use serde_json::Value;

use crate::api::handler::blocking;
use crate::error::ApiError;
use crate::ui::UiState;

/// Named events offered, the most frequent first.
const EVENTS: usize = 50;
/// Newest stored events read for property values.
const SAMPLE: usize = 5_000;
/// Properties offered per event, the most frequent first.
const PROPERTIES: usize = 12;
/// Values offered per property, the most frequent first.
const VALUES: usize = 12;
/// Longer text values are not offered (ids, URLs with tokens…).
const VALUE_CHARS: usize = 80;
/// How long counted events and sampled values are reused.
const FRESH_FOR: Duration = Duration::from_secs(30);
/// Page fields the language falls back to in `context.page`.
const PAGE_FIELDS: &[&str] = &["path", "url", "title", "referrer", "search"];

/// The builder's choices, embedded in the editor page as JSON.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Catalog {
    /// `page`, `screen` and `any` totals, then named events by count.
    events: Vec<EventChoice>,
    /// Per selector (`page`, `screen`, `event:<name>`): properties seen in
    /// the sample with their most frequent values.
    properties: BTreeMap<String, Vec<PropertyChoice>>,
    /// Stored events the property values were read from.
    sampled: usize,
    scores: Vec<String>,
    segments: Vec<String>,
    tiers: Vec<TierChoice>,
}

#[derive(Debug, Clone, Serialize)]
struct EventChoice {
    /// `event`, `page`, `screen` or `any` (the builder's selector kinds).
    kind: &'static str,
    name: String,
    count: u64,
}

#[derive(Debug, Clone, Serialize)]
struct PropertyChoice {
    name: String,
    values: Vec<Value>,
}

#[derive(Debug, Serialize)]
struct TierChoice {
    name: String,
    levels: Vec<String>,
}

impl Catalog {
    pub(crate) fn scores(&self) -> &[String] {
        &self.scores
    }

    pub(crate) fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The catalog as JSON safe inside a `<script>` element (`<` escaped,
    /// so no value can close it).
    pub(crate) fn json(&self) -> maud::PreEscaped<String> {
        let json = serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned());
        maud::PreEscaped(json.replace('<', "\\u003c"))
    }
}

/// The catalog, or an empty one (logged) when it cannot be read: the
/// editor works without suggestions.
pub(crate) async fn load_or_empty(ui: &UiState) -> Catalog {
    match load(ui).await {
        Ok(catalog) => catalog,
        Err(error) => {
            tracing::warn!(%error, "the builder's catalog could not be read");
            Catalog::default()
        }
    }
}

/// What is expensive to read: counted events and sampled values.
#[derive(Clone)]
struct Suggestions {
    events: Vec<EventChoice>,
    properties: BTreeMap<String, Vec<PropertyChoice>>,
    sampled: usize,
}

/// The suggestions last read and when, shared by the editor's pages.
#[derive(Clone, Default)]
pub(crate) struct CatalogCache(Arc<parking_lot::Mutex<Option<(Instant, Suggestions)>>>);

impl CatalogCache {
    fn fresh(&self) -> Option<Suggestions> {
        let cached = self.0.lock();
        cached
            .as_ref()
            .filter(|(at, _)| at.elapsed() < FRESH_FOR)
            .map(|(_, suggestions)| suggestions.clone())
    }

    fn keep(&self, suggestions: &Suggestions) {
        *self.0.lock() = Some((Instant::now(), suggestions.clone()));
    }
}

/// Reads the catalog: the names from the published view, the suggestions
/// from the cache when fresh, else counted off the runtime on a published
/// view and sampled through the store like the ingestion page.
pub(crate) async fn load(ui: &UiState) -> Result<Catalog, ApiError> {
    let view = ui.app.engine.view_async().await;
    let newest = view.position();
    let mut catalog = Catalog::default();
    {
        let definitions = view.rules().definitions();
        catalog.scores = definitions.score.iter().map(|s| s.name.clone()).collect();
        catalog.segments = definitions.segment.iter().map(|s| s.name.clone()).collect();
        catalog.tiers = definitions
            .tier
            .iter()
            .map(|t| TierChoice {
                name: t.name.clone(),
                levels: t.levels.iter().map(|l| l.name.clone()).collect(),
            })
            .collect();
    }
    let suggestions = match ui.catalog.fresh() {
        Some(suggestions) => suggestions,
        None => {
            let counts = tokio::task::spawn_blocking(move || view.event_counts()).await?;
            let sample = blocking(&ui.app, move |store| {
                crate::ui::ingestion::newest_events(store, newest, SAMPLE)
            })
            .await??;
            let suggestions = Suggestions {
                events: event_choices(&counts),
                sampled: sample.len(),
                properties: property_choices(&sample),
            };
            ui.catalog.keep(&suggestions);
            suggestions
        }
    };
    catalog.events = suggestions.events;
    catalog.properties = suggestions.properties;
    catalog.sampled = suggestions.sampled;
    Ok(catalog)
}

fn event_choices(counts: &[bellwether_core::engine::EventCount]) -> Vec<EventChoice> {
    let total = |kind: Option<EventKind>| {
        counts
            .iter()
            .filter(|c| kind.is_none_or(|k| c.kind == k))
            .map(|c| c.count)
            .sum::<u64>()
    };
    let mut out = vec![
        EventChoice {
            kind: "page",
            name: String::new(),
            count: total(Some(EventKind::Page)),
        },
        EventChoice {
            kind: "screen",
            name: String::new(),
            count: total(Some(EventKind::Screen)),
        },
        EventChoice {
            kind: "any",
            name: String::new(),
            count: total(None),
        },
    ];
    out.extend(
        counts
            .iter()
            .filter(|c| c.kind == EventKind::Track && !c.name.is_empty())
            .take(EVENTS)
            .map(|c| EventChoice {
                kind: "event",
                name: c.name.clone(),
                count: c.count,
            }),
    );
    out
}

/// Value counts per selector and property.
type Tally = HashMap<String, HashMap<String, HashMap<String, (Value, u64)>>>;

fn property_choices(events: &[StoredEvent]) -> BTreeMap<String, Vec<PropertyChoice>> {
    let mut tally: Tally = HashMap::new();
    for event in events {
        let message = &event.message;
        let key = match message.kind {
            MessageKind::Track => match &message.event {
                Some(name) if !name.is_empty() => format!("event:{name}"),
                _ => continue,
            },
            MessageKind::Page => "page".to_owned(),
            MessageKind::Screen => "screen".to_owned(),
            _ => continue,
        };
        let properties = tally.entry(key).or_default();
        let mut add = |name: &str, value: &Value| {
            if let Some(text) = offered(value) {
                let slot = properties.entry(name.to_owned()).or_default();
                slot.entry(text).or_insert_with(|| (value.clone(), 0)).1 += 1;
            }
        };
        for (name, value) in &message.properties {
            add(name, value);
        }
        if message.kind != MessageKind::Track {
            if let Some(name) = &message.event {
                add("name", &Value::String(name.clone()));
            }
        }
        if message.kind == MessageKind::Page {
            let page = message.context.get("page").and_then(Value::as_object);
            for field in PAGE_FIELDS {
                let fallback = page.and_then(|p| p.get(*field));
                if let (false, Some(value)) = (message.properties.contains_key(*field), fallback) {
                    add(field, value);
                }
            }
        }
    }
    tally
        .into_iter()
        .map(|(key, properties)| (key, ranked_properties(properties)))
        .collect()
}

fn ranked_properties(
    properties: HashMap<String, HashMap<String, (Value, u64)>>,
) -> Vec<PropertyChoice> {
    let mut ranked: Vec<(u64, PropertyChoice)> = properties
        .into_iter()
        .map(|(name, values)| {
            let seen = values.values().map(|(_, n)| n).sum::<u64>();
            let mut values: Vec<(Value, u64)> = values.into_values().collect();
            values.sort_by(|a, b| {
                b.1.cmp(&a.1)
                    .then_with(|| a.0.to_string().cmp(&b.0.to_string()))
            });
            let values = values.into_iter().take(VALUES).map(|(v, _)| v).collect();
            (seen, PropertyChoice { name, values })
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
    ranked
        .into_iter()
        .take(PROPERTIES)
        .map(|(_, p)| p)
        .collect()
}

/// A scalar worth offering, keyed by its JSON text (so `5` and `"5"` stay
/// apart); objects, lists, nulls and long text are not.
fn offered(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if s.chars().count() <= VALUE_CHARS => Some(value.to_string()),
        Value::Number(_) | Value::Bool(_) => Some(value.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bellwether_core::message::Message;
    use serde_json::json;

    fn stored(
        seq: i64,
        kind: MessageKind,
        event: &str,
        properties: Value,
        context: Value,
    ) -> StoredEvent {
        StoredEvent {
            seq,
            contact_id: None,
            message: Message {
                source: "web".into(),
                message_id: format!("m{seq}"),
                kind,
                user_id: Some("u".into()),
                anonymous_id: None,
                previous_id: None,
                group_id: None,
                event: Some(event.to_owned()),
                properties: properties.as_object().cloned().unwrap_or_default(),
                traits: serde_json::Map::new(),
                context: context.as_object().cloned().unwrap_or_default(),
                timestamp: seq,
                received_at: seq,
                sent_at: None,
                original_timestamp: None,
            },
        }
    }

    #[test]
    fn values_are_ranked_per_event_and_page_fields_fall_back_to_the_context() {
        let events = [
            stored(
                1,
                MessageKind::Track,
                "Email Opened",
                json!({"email_id": "e1", "n": 2}),
                json!({}),
            ),
            stored(
                2,
                MessageKind::Track,
                "Email Opened",
                json!({"email_id": "e1"}),
                json!({}),
            ),
            stored(
                3,
                MessageKind::Track,
                "Email Opened",
                json!({"email_id": "e2", "blob": {"a": 1}}),
                json!({}),
            ),
            stored(
                4,
                MessageKind::Page,
                "Pricing",
                json!({}),
                json!({"page": {"path": "/pricing"}}),
            ),
            stored(5, MessageKind::Identify, "", json!({"x": 1}), json!({})),
        ];
        let choices = property_choices(&events);
        let emails = &choices["event:Email Opened"];
        assert_eq!(emails[0].name, "email_id");
        assert_eq!(emails[0].values, [json!("e1"), json!("e2")]);
        assert!(
            emails.iter().all(|p| p.name != "blob"),
            "objects are not offered"
        );
        let page = &choices["page"];
        let names: Vec<&str> = page.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["name", "path"]);
        assert_eq!(page[1].values, [json!("/pricing")]);
        assert_eq!(choices.len(), 2, "identify is not behavior");
    }
}
