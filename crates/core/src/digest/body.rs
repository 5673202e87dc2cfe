//! A digest's bytes: the standard body (`{"type": "digest.sent",
//! "timestamp", "data"}`, signed like every delivery) or a Slack
//! incoming-webhook body (`{"text", "blocks"}` with mrkdwn sections), and
//! the outbox row that carries it.

use serde_json::{json, Value};

use super::content::{Digest, SegmentSummary};
use crate::actions::config::PayloadFormat;
use crate::message::Millis;
use crate::store::OutboxRecord;

/// The event type of a digest delivery.
pub const EVENT_TYPE: &str = "digest.sent";
/// Slack takes at most 50 blocks and 3,000 characters per section.
const MAX_BLOCKS: usize = 50;
const MAX_SECTION_CHARS: usize = 2_900;
/// Lint findings listed in a Slack message (the rest are counted).
const SLACK_FINDINGS: usize = 10;

/// The body as JSON.
pub fn encode(digest: &Digest, format: PayloadFormat) -> Value {
    match format {
        PayloadFormat::Standard => json!({
            "type": EVENT_TYPE,
            "timestamp": digest.to,
            "data": digest,
        }),
        PayloadFormat::Slack => slack(digest),
    }
}

/// The outbox row of the digest of the period ending `to`, to
/// `destination`. Its id is a function of the digest, the destination and
/// the period, so a digest computed twice is stored (and sent) once.
pub fn outbox_record(
    digest: &Digest,
    destination: &str,
    format: PayloadFormat,
    to: Millis,
) -> OutboxRecord {
    let text = [destination, "digest", &digest.name, &to.to_string()].join("\u{1f}");
    let high = crate::actions::holdout::stable_hash(0x5bd1_e995, &text);
    let low = crate::actions::holdout::stable_hash(0x27d4_eb2f, &text);
    OutboxRecord {
        id: format!("msg_{high:016x}{low:016x}"),
        destination: destination.to_owned(),
        subject_kind: "digest".to_owned(),
        subject_key: digest.name.clone(),
        label: digest.name.clone(),
        definition_kind: "digest".to_owned(),
        definition: digest.name.clone(),
        change: "sent".to_owned(),
        at: to,
        body: encode(digest, format).to_string(),
    }
}

fn slack(digest: &Digest) -> Value {
    let title = format!(
        "Bellwether {} digest *{}*: {} to {} ({})",
        if digest.every == "week" {
            "weekly"
        } else {
            "monthly"
        },
        digest.name,
        local_time(&digest.from, &digest.timezone),
        local_time(&digest.to, &digest.timezone),
        digest.timezone
    );
    let mut blocks = vec![section(&title)];
    // Segments empty all period and unchanged share one line.
    let quiet = |s: &&SegmentSummary| s.size == 0 && s.size_at_start == 0 && s.entered == 0;
    let mut lines: Vec<String> = digest
        .segments
        .iter()
        .filter(|s| !quiet(s))
        .map(segment_line)
        .collect();
    let empty: Vec<&str> = digest
        .segments
        .iter()
        .filter(quiet)
        .map(|s| s.name.as_str())
        .collect();
    if !empty.is_empty() {
        lines.push(format!("_Empty all period:_ {}", empty.join(", ")));
    }
    for chunk in chunks(&lines) {
        blocks.push(section(&chunk));
    }
    if !digest.not_acted_on.is_empty() {
        let names: Vec<String> = digest
            .not_acted_on
            .iter()
            .map(|n| format!("*{n}*"))
            .collect();
        blocks.push(section(&format!(
            ":warning: Nobody acted on the entries of {}",
            names.join(", ")
        )));
    }
    if !digest.lint.is_empty() {
        let mut text = format!("*Lint* ({} findings)", digest.lint.len());
        for finding in digest.lint.iter().take(SLACK_FINDINGS) {
            text.push_str(&format!(
                "\n• `{}` *{}*: {}",
                finding.code, finding.definition, finding.message
            ));
        }
        if digest.lint.len() > SLACK_FINDINGS {
            text.push_str(&format!(
                "\n…and {} more",
                digest.lint.len() - SLACK_FINDINGS
            ));
        }
        blocks.push(section(&truncate(&text)));
    }
    blocks.truncate(MAX_BLOCKS);
    let summary = format!(
        "Bellwether digest {}: {} segments, {} entries, {} exits",
        digest.name,
        digest.segments.len(),
        digest.segments.iter().map(|s| s.entered).sum::<u64>(),
        digest.segments.iter().map(|s| s.exited).sum::<u64>()
    );
    json!({ "text": summary, "blocks": blocks })
}

/// An RFC 3339 instant as people in the digest's time zone read it:
/// `Mon 30 Nov 2026 09:00` (the instant itself if it does not parse).
fn local_time(instant: &str, timezone: &str) -> String {
    let (Ok(at), Ok(tz)) = (
        chrono::DateTime::parse_from_rfc3339(instant),
        timezone.parse::<chrono_tz::Tz>(),
    ) else {
        return instant.to_owned();
    };
    at.with_timezone(&tz)
        .format("%a %-d %b %Y %H:%M")
        .to_string()
}

fn section(text: &str) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } })
}

/// `*hot_intent* 42 (+5) · 9 in, 4 out · conversion 12.5% (+2.1 pts)`
fn segment_line(s: &SegmentSummary) -> String {
    let mut line = format!(
        "*{}* {} ({:+}) · {} in, {} out",
        s.name, s.size, s.size_change, s.entered, s.exited
    );
    if let Some(c) = &s.conversion {
        match c.rate {
            Some(rate) => line.push_str(&format!(
                " · conversion {:.1}% ({}/{})",
                rate * 100.0,
                c.converted,
                c.entrants
            )),
            None => line.push_str(" · conversion n/a"),
        }
        if let Some(change) = c.change {
            line.push_str(&format!(" {:+.1} pts", change * 100.0));
        }
    }
    line
}

/// Lines joined into sections of at most [`MAX_SECTION_CHARS`].
fn chunks(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in lines {
        let line = truncate(line);
        if !current.is_empty() && current.len() + line.len() + 1 > MAX_SECTION_CHARS {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(&line);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn truncate(text: &str) -> String {
    if text.len() <= MAX_SECTION_CHARS {
        return text.to_owned();
    }
    let mut end = MAX_SECTION_CHARS;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::content::ConversionSummary;
    use crate::reports::Finding;

    fn digest() -> Digest {
        Digest {
            name: "weekly".into(),
            every: "week",
            timezone: "Europe/Berlin".into(),
            from: "2026-11-30T08:00:00.000Z".into(),
            to: "2026-12-07T08:00:00.000Z".into(),
            previous_from: "2026-11-23T08:00:00.000Z".into(),
            outcome: Some("\"Deal Won\"".into()),
            segments: vec![SegmentSummary {
                name: "hot_intent".into(),
                subject: crate::subject::SubjectKind::Contact,
                size: 42,
                size_at_start: 37,
                size_change: 5,
                entered: 9,
                exited: 4,
                entries_acted_on: 0,
                conversion: Some(ConversionSummary {
                    converted: 1,
                    entrants: 8,
                    rate: Some(0.125),
                    open: 3,
                    previous_converted: 1,
                    previous_entrants: 10,
                    previous_rate: Some(0.1),
                    change: Some(0.025),
                }),
            }],
            lint: vec![Finding {
                code: "no_owner",
                definition: "dormant".into(),
                message: "no `owner` is set".into(),
            }],
            not_acted_on: vec!["hot_intent".into()],
        }
    }

    #[test]
    fn the_standard_body_is_a_typed_event() {
        let body = encode(&digest(), PayloadFormat::Standard);
        assert_eq!(body["type"], "digest.sent");
        assert_eq!(body["timestamp"], "2026-12-07T08:00:00.000Z");
        assert_eq!(body["data"]["segments"][0]["size_change"], 5);
        assert_eq!(body["data"]["segments"][0]["conversion"]["entrants"], 8);
        assert_eq!(body["data"]["not_acted_on"][0], "hot_intent");
    }

    #[test]
    fn the_slack_body_has_text_and_mrkdwn_sections() {
        let body = encode(&digest(), PayloadFormat::Slack);
        assert_eq!(
            body["text"],
            "Bellwether digest weekly: 1 segments, 9 entries, 4 exits"
        );
        let blocks = body["blocks"].as_array().cloned().unwrap_or_default();
        assert_eq!(blocks.len(), 4, "{body:#}");
        assert_eq!(
            blocks[0]["text"]["text"],
            "Bellwether weekly digest *weekly*: Mon 30 Nov 2026 09:00 to Mon 7 Dec 2026 09:00 \
             (Europe/Berlin)"
        );
        assert!(blocks
            .iter()
            .all(|b| b["type"] == "section" && b["text"]["type"] == "mrkdwn"));
        assert_eq!(
            blocks[1]["text"]["text"],
            "*hot_intent* 42 (+5) · 9 in, 4 out · conversion 12.5% (1/8) +2.5 pts"
        );
        assert_eq!(
            blocks[2]["text"]["text"],
            ":warning: Nobody acted on the entries of *hot_intent*"
        );
        assert!(blocks[3]["text"]["text"]
            .as_str()
            .unwrap_or("")
            .contains("`no_owner` *dormant*"));
    }

    #[test]
    fn segments_empty_all_period_share_one_slack_line() {
        let mut digest = digest();
        for name in ["dormant", "churn_risk"] {
            digest.segments.push(SegmentSummary {
                name: name.into(),
                size: 0,
                size_at_start: 0,
                size_change: 0,
                entered: 0,
                exited: 0,
                entries_acted_on: 0,
                conversion: None,
                ..digest.segments[0].clone()
            });
        }
        let body = encode(&digest, PayloadFormat::Slack);
        let text = body["blocks"][1]["text"]["text"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [
                "*hot_intent* 42 (+5) · 9 in, 4 out · conversion 12.5% (1/8) +2.5 pts",
                "_Empty all period:_ dormant, churn_risk",
            ]
        );
        // The standard body keeps every segment.
        let standard = encode(&digest, PayloadFormat::Standard);
        assert_eq!(
            standard["data"]["segments"].as_array().map(Vec::len),
            Some(3)
        );
    }

    #[test]
    fn the_webhook_id_is_a_function_of_the_period() {
        let digest = digest();
        let a = outbox_record(&digest, "crm", PayloadFormat::Standard, 1_000);
        let b = outbox_record(&digest, "crm", PayloadFormat::Standard, 1_000);
        let c = outbox_record(&digest, "crm", PayloadFormat::Standard, 2_000);
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        assert_eq!(a.id.len(), 36);
        assert_eq!(
            (a.subject_kind.as_str(), a.change.as_str()),
            ("digest", "sent")
        );
    }

    #[test]
    fn long_lists_are_split_into_sections_slack_accepts() {
        let lines: Vec<String> = (0..200)
            .map(|i| format!("*segment_{i}* {}", "x".repeat(40)))
            .collect();
        let sections = chunks(&lines);
        assert!(sections.len() > 1);
        assert!(sections.iter().all(|s| s.len() <= MAX_SECTION_CHARS));
        assert_eq!(
            sections.iter().map(|s| s.lines().count()).sum::<usize>(),
            200
        );
    }
}
