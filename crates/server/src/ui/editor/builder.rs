//! `POST /editor/builder`: the visual builder's one round trip. The script
//! posts the condition's text (the user typed) or the builder's model (the
//! user clicked); the answer is the other side, read and printed by
//! [`bellwether_rules::builder`], so the script never parses or prints rule
//! text itself.

use axum::Json;
use bellwether_rules::builder::{self, BuildError, Node, Unfit};
use serde::{Deserialize, Serialize};

use crate::ui::auth::Viewer;

/// What the script sends.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum BuilderRequest {
    /// The text changed: show it in the builder if it fits.
    Text { text: String },
    /// The builder changed: print it.
    Model { model: Node },
}

/// What it gets back: `model` or `unfit` for text; `text` or `error` for a
/// model.
#[derive(Debug, Default, Serialize)]
pub(crate) struct BuilderReply {
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<Node>,
    /// The part of the text the builder cannot show.
    #[serde(skip_serializing_if = "Option::is_none")]
    unfit: Option<Unfit>,
    /// The builder node with a field to fill in.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<BuildError>,
}

pub(crate) async fn round_trip(
    _viewer: Viewer,
    Json(request): Json<BuilderRequest>,
) -> Json<BuilderReply> {
    Json(answer(request))
}

fn answer(request: BuilderRequest) -> BuilderReply {
    match request {
        BuilderRequest::Text { text } if text.trim().is_empty() => BuilderReply {
            model: Some(Node::All { items: Vec::new() }),
            ..BuilderReply::default()
        },
        BuilderRequest::Text { text } => match builder::read(&text) {
            Ok(model) => BuilderReply {
                model: Some(model),
                ..BuilderReply::default()
            },
            Err(unfit) => BuilderReply {
                unfit: Some(unfit),
                ..BuilderReply::default()
            },
        },
        BuilderRequest::Model { model } => match builder::print(&model) {
            Ok(text) => BuilderReply {
                text: Some(text),
                ..BuilderReply::default()
            },
            Err(error) => BuilderReply {
                error: Some(error),
                ..BuilderReply::default()
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reply(body: serde_json::Value) -> serde_json::Value {
        let request: BuilderRequest = serde_json::from_value(body).expect("a request");
        serde_json::to_value(answer(request)).expect("json")
    }

    #[test]
    fn text_becomes_a_model_and_back() {
        let text = "exists(\"Demo Requested\") and score(\"intent\") >= 50";
        let read = reply(json!({ "text": text }));
        assert_eq!(read["model"]["kind"], "all");
        assert_eq!(read["model"]["items"][1]["kind"], "score");
        let printed = reply(json!({ "model": read["model"] }));
        assert_eq!(printed["text"], text.replace(" and ", "\nand "));
    }

    #[test]
    fn unfit_text_and_unfinished_models_say_where() {
        let unfit =
            reply(json!({ "text": "exists(any) and trait.seats >= 3 * past(trait.seats, 60d)" }));
        assert_eq!(unfit["unfit"]["text"], "3 * past(trait.seats, 60d)");
        assert_eq!(unfit["unfit"]["span"]["start"], 31);
        let unfinished =
            reply(json!({ "model": { "kind": "all", "items": [{ "kind": "measure" }] } }));
        assert_eq!(unfinished["error"]["at"], json!([0]));
        assert_eq!(unfinished["error"]["reason"], "pick an event");
        let empty = reply(json!({ "text": "  " }));
        assert_eq!(empty["model"], json!({ "kind": "all", "items": [] }));
    }
}
