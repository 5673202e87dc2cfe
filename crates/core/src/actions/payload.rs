//! The body of a delivery: the change, the subject, the segment's owner and
//! action, the assigned owner and the explanation of why. Standard
//! Webhooks shape (`type`, `timestamp`, `data`), or Slack's `{"text"}`.

use std::collections::BTreeMap;

use bellwether_rules::{format_instant, Explanation};
use serde::Serialize;
use serde_json::{Map, Value};

use super::config::PayloadFormat;
use crate::engine::SubjectSnapshot;
use crate::message::Millis;

/// Everything a delivery says, before it is encoded.
#[derive(Debug, Clone, Serialize)]
pub struct Payload {
    /// `segment.entered`, `segment.exited`, `tier.changed`,
    /// `score.crossed_above`, `score.crossed_below`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The instant of the change (RFC 3339).
    pub timestamp: String,
    pub data: PayloadData,
}

#[derive(Debug, Clone, Serialize)]
pub struct PayloadData {
    pub change: ChangeBody,
    pub subject: SubjectBody,
    /// The segment's `owner` and `action` (segment changes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentBody>,
    /// Who this subject was assigned to in this segment.
    pub assigned_owner: Option<String>,
    /// Every current assignment of the subject: segment → owner.
    pub owners: BTreeMap<String, String>,
    /// Why (segment changes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<ExplanationBody>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeBody {
    /// `segment`, `tier` or `score`.
    pub kind: String,
    pub name: String,
    /// `entered`, `exited`, `changed`, `crossed_above`, `crossed_below`.
    pub change: String,
    /// Tier level before and after (a tier change); `null` for none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Option<String>>,
    /// Score crossings: the threshold and the score's value at the instant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    pub at: String,
    /// Milliseconds since the epoch, for programs.
    pub at_ms: Millis,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubjectBody {
    /// `contact` or `account`.
    pub kind: String,
    /// User id (else anonymous id) of a contact, group id of an account.
    pub id: String,
    pub traits: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountBody>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountBody {
    pub id: String,
    pub traits: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentBody {
    pub owner: Option<String>,
    pub action: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExplanationBody {
    /// Whether the definition holds at the instant.
    pub holds: Option<bool>,
    /// The tree, one sub-expression per line, ✓/✗ on conditions.
    pub text: String,
    /// The tree with every value (as `GET …/explain/{segment}`).
    pub tree: Value,
}

impl ExplanationBody {
    pub fn of(explanation: &Explanation) -> Self {
        Self {
            holds: explanation.holds,
            text: explanation.render(),
            tree: serde_json::to_value(explanation).unwrap_or(Value::Null),
        }
    }
}

/// The subject part of a payload; `label` when the subject is gone.
pub fn subject_body(kind: &str, label: &str, snapshot: Option<SubjectSnapshot>) -> SubjectBody {
    let Some(snapshot) = snapshot else {
        return SubjectBody {
            kind: kind.to_owned(),
            id: label.to_owned(),
            traits: Map::new(),
            account: None,
        };
    };
    let account = snapshot.account_id.map(|id| AccountBody {
        id,
        traits: snapshot.account_traits,
    });
    SubjectBody {
        kind: kind.to_owned(),
        id: snapshot.id,
        traits: snapshot.traits,
        account,
    }
}

impl ChangeBody {
    pub fn new(kind: &str, name: &str, change: &str, at: Millis) -> Self {
        Self {
            kind: kind.to_owned(),
            name: name.to_owned(),
            change: change.to_owned(),
            from: None,
            to: None,
            threshold: None,
            value: None,
            at: format_instant(at),
            at_ms: at,
        }
    }
}

impl Payload {
    pub fn new(data: PayloadData) -> Self {
        Self {
            kind: format!("{}.{}", data.change.kind, data.change.change),
            timestamp: data.change.at.clone(),
            data,
        }
    }

    /// The exact bytes to send.
    pub fn encode(&self, format: PayloadFormat) -> String {
        let value = match format {
            PayloadFormat::Standard => serde_json::to_value(self).unwrap_or(Value::Null),
            PayloadFormat::Slack => serde_json::json!({ "text": self.slack_text() }),
        };
        value.to_string()
    }

    /// One readable message: who, what, the owner and the action, and why.
    pub fn slack_text(&self) -> String {
        let data = &self.data;
        let change = &data.change;
        let who = match &data.subject.account {
            Some(account) => format!("*{}* ({})", data.subject.id, account.id),
            None => format!("*{}*", data.subject.id),
        };
        let what = match change.change.as_str() {
            "entered" => format!("entered segment *{}*", change.name),
            "exited" => format!("left segment *{}*", change.name),
            "changed" => format!(
                "moved in tier *{}* from {} to {}",
                change.name,
                level_text(change.from.as_ref()),
                level_text(change.to.as_ref())
            ),
            "crossed_above" | "crossed_below" => format!(
                "{} *{}* score {} ({})",
                if change.change == "crossed_above" {
                    "rose above"
                } else {
                    "fell below"
                },
                change.name,
                change
                    .threshold
                    .map_or_else(String::new, |t| format!("{t}")),
                change
                    .value
                    .map_or_else(String::new, |v| format!("now {v:.1}"))
            ),
            other => format!("{other} {}", change.name),
        };
        let mut text = format!("{who} {what}");
        if let Some(segment) = &data.segment {
            if let Some(action) = &segment.action {
                text.push_str(&format!("\nAction: {action}"));
            }
        }
        if let Some(owner) = &data.assigned_owner {
            text.push_str(&format!("\nOwner: {owner}"));
        }
        if let Some(explanation) = &data.explanation {
            text.push_str("\n```\n");
            text.push_str(explanation.text.trim_end());
            text.push_str("\n```");
        }
        text
    }
}

fn level_text(level: Option<&Option<String>>) -> String {
    match level {
        Some(Some(level)) => format!("*{level}*"),
        _ => "none".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Payload {
        let mut traits = Map::new();
        traits.insert("title".into(), Value::from("VP Sales"));
        Payload::new(PayloadData {
            change: ChangeBody::new("segment", "hot_intent", "entered", 1_796_139_612_345),
            subject: SubjectBody {
                kind: "contact".into(),
                id: "user-1".into(),
                traits,
                account: Some(AccountBody {
                    id: "acme".into(),
                    traits: Map::new(),
                }),
            },
            segment: Some(SegmentBody {
                owner: Some("sdr-pool".into()),
                action: Some("SDR outreach within 1 hour".into()),
                description: None,
            }),
            assigned_owner: Some("sam@example.com".into()),
            owners: BTreeMap::from([("hot_intent".into(), "sam@example.com".into())]),
            explanation: Some(ExplanationBody {
                holds: Some(true),
                text: "✓ count(page where path = \"/pricing\", last 7d) = 3 ≥ 2\n".into(),
                tree: Value::Null,
            }),
        })
    }

    #[test]
    fn the_standard_body_has_type_timestamp_and_data() {
        let body: Value =
            serde_json::from_str(&entry().encode(PayloadFormat::Standard)).unwrap_or(Value::Null);
        assert_eq!(body["type"], "segment.entered");
        assert_eq!(body["timestamp"], "2026-12-01T15:40:12.345Z");
        assert_eq!(body["data"]["change"]["at_ms"], 1_796_139_612_345_i64);
        assert_eq!(body["data"]["subject"]["account"]["id"], "acme");
        assert_eq!(body["data"]["assigned_owner"], "sam@example.com");
        assert!(
            body["data"]["change"].get("from").is_none(),
            "no tier fields on a segment change"
        );
    }

    #[test]
    fn a_whole_second_keeps_its_milliseconds() {
        let mut data = entry().data;
        data.change = ChangeBody::new("segment", "hot_intent", "exited", 1_796_139_612_000);
        let payload = Payload::new(data);
        let body: Value =
            serde_json::from_str(&payload.encode(PayloadFormat::Standard)).unwrap_or(Value::Null);
        assert_eq!(body["timestamp"], "2026-12-01T15:40:12.000Z");
        assert_eq!(body["data"]["change"]["at"], "2026-12-01T15:40:12.000Z");
    }

    #[test]
    fn the_slack_body_is_one_readable_text() {
        let body: Value =
            serde_json::from_str(&entry().encode(PayloadFormat::Slack)).unwrap_or(Value::Null);
        let text = body["text"].as_str().unwrap_or_default();
        assert_eq!(
            text,
            "*user-1* (acme) entered segment *hot_intent*\n\
             Action: SDR outreach within 1 hour\n\
             Owner: sam@example.com\n\
             ```\n✓ count(page where path = \"/pricing\", last 7d) = 3 ≥ 2\n```"
        );
        assert_eq!(body.as_object().map(|o| o.len()), Some(1));
    }
}
