//! The MCP tools: their schemas (written for a model choosing among them)
//! and their calls, each through the REST handler that serves the same
//! question, with the caller's credentials.

use crate::api::Query;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use bellwether_core::config::Scope;
use bellwether_rules::{SegmentDef, SubjectKind};
use rmcp::model::{CallToolResult, JsonObject, Tool};
use serde::Serialize;
use serde_json::{json, Value};

use super::args::{count_arg, invalid, optional_number, optional_string, string_arg, ToolError};
use super::McpServer;
use crate::api::contacts::PageParams;
use crate::api::definitions::PutParams;
use crate::api::segments::MemberParams;
use crate::api::trends::{self, TrendParams};
use crate::api::{committee, contacts, definitions, digests, reports, segments};

/// Most results one tool call returns.
const MAX_PAGE: usize = 50;
/// Most members `find_subjects` looks at (the rest is summarized as a count).
const MAX_SCANNED: usize = 2_000;
/// Name of the draft segment `check_definition` previews.
const DRAFT: &str = "__mcp_draft";

type Outcome = Result<Value, ToolError>;

fn schema(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

fn tool(name: &'static str, description: &'static str, input: Value) -> Tool {
    Tool::new(name, description, schema(input))
}

/// Every tool, for `tools/list`.
pub(super) fn catalog() -> Vec<Tool> {
    let id = |what: &str| json!({"type": "string", "description": what});
    vec![
        tool("list_segments",
            "List every segment: name, subject (contact or account), current size, owner, action and its definition. Start here to learn what groups exist.",
            json!({"type": "object", "properties": {}, "additionalProperties": false})),
        tool("get_contact",
            "One contact (a person): ids, traits, account, scores, segments, tiers and recent behavior events. Accepts a userId, anonymousId or email.",
            json!({"type": "object", "properties": {"user_id": id("userId, anonymousId or email"),
                "events": {"type": "integer", "minimum": 0, "maximum": MAX_PAGE, "description": "recent events to include (default 10)"}},
                "required": ["user_id"], "additionalProperties": false})),
        tool("get_account",
            "One account (a company): firmographic traits, scores, segments, tiers, and its buying committee: each contact's role, title, scores, segments and tiers, most intent first.",
            json!({"type": "object", "properties": {"group_id": id("the account's groupId")},
                "required": ["group_id"], "additionalProperties": false})),
        tool("explain_membership",
            "Why a contact or account is in or out of a segment: the segment's expression as a tree with the value of every part (counts, scores, thresholds).",
            json!({"type": "object", "properties": {
                "subject": {"type": "string", "enum": ["contact", "account"]},
                "id": id("userId for a contact, groupId for an account"),
                "segment": id("segment name")},
                "required": ["subject", "id", "segment"], "additionalProperties": false})),
        tool("find_subjects",
            "Members of a segment, optionally only those at a tier level and within a score range, sorted by a score (highest first). Use it to pick who to act on.",
            json!({"type": "object", "properties": {
                "segment": id("segment name"),
                "tier": id("tier name to filter on (with level)"),
                "level": id("tier level the subject must be at"),
                "score": id("score to sort by and to filter with min_score/max_score"),
                "min_score": {"type": "number"}, "max_score": {"type": "number"},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "description": "default 20"}},
                "required": ["segment"], "additionalProperties": false})),
        tool("segment_report",
            "How a segment is doing: size, owner, action, definition, entries/exits and size per day, and, for an outcome event, members' conversion within the horizon after entry vs non-members' over the same days (Wilson 95% intervals, lift, p-value, days from entry to outcome), with revenue per member when `value` names the outcome's amount property.",
            json!({"type": "object", "properties": {"segment": id("segment name"),
                "days": {"type": "integer", "minimum": 1, "maximum": 400, "description": "days of daily trend (default 30)"},
                "outcome": id("outcome event selector, e.g. \"Deal Won\""),
                "horizon": id("how long after entry the outcome counts, e.g. 30d (default)"),
                "value": id("numeric property of the outcome's events to sum as revenue, e.g. amount"),
                "pipeline": id("selector of the deals in play whose `value` sums to pipeline, e.g. any where amount > 0")},
                "required": ["segment"], "additionalProperties": false})),
        tool("digest_preview",
            "The scheduled review digest ([[digest]]) as it would be sent now, for its current period so far against the period before: per segment size and its change, entries and exits, entries acted on, conversion; lint findings; segments nobody acted on. Without `name`, lists the digests and when each is sent next.",
            json!({"type": "object", "properties": {"name": id("digest name (omit to list the digests)"),
                "format": {"type": "string", "enum": ["standard", "slack"], "description": "body format shown (default: the digest's own)"}},
                "additionalProperties": false})),
        tool("check_definition",
            "Validate a draft rule-language expression (see resource bellwether://docs/language) for contacts or accounts: errors with line and column, or how many would match now and a sample of them. Changes nothing.",
            json!({"type": "object", "properties": {"expression": id("e.g. count(page where path = \"/pricing\", last 7d) >= 2"),
                "subject": {"type": "string", "enum": ["contact", "account"], "description": "default contact"}},
                "required": ["expression"], "additionalProperties": false})),
        tool("apply_definitions",
            "Replace all definitions (TOML with [[score]], [[segment]], [[tier]]), or with dry_run only report who would enter and exit each segment. Needs an admin token.",
            json!({"type": "object", "properties": {"definitions": id("the whole definitions TOML"),
                "dry_run": {"type": "boolean", "description": "default true"}},
                "required": ["definitions"], "additionalProperties": false})),
    ]
}

/// Runs one tool; any failure becomes a tool error result.
pub(super) async fn call(
    server: &McpServer,
    caller: &HeaderMap,
    name: &str,
    args: JsonObject,
) -> CallToolResult {
    let outcome = match name {
        "list_segments" => list_segments(server, caller).await,
        "get_contact" => get_contact(server, caller, &args).await,
        "get_account" => get_account(server, caller, &args).await,
        "explain_membership" => explain_membership(server, caller, &args).await,
        "find_subjects" => find_subjects(server, caller, &args).await,
        "segment_report" => segment_report(server, caller, &args).await,
        "digest_preview" => digest_preview(server, caller, &args).await,
        "check_definition" => check_definition(server, caller, &args).await,
        "apply_definitions" => apply_definitions(server, caller, &args).await,
        other => Err(invalid(format!("no tool named {other:?}"))),
    };
    match outcome {
        Ok(value) => CallToolResult::structured(value),
        Err(error) => CallToolResult::structured_error(json!({
            "error": {"code": error.code, "message": error.message, "details": error.details}
        })),
    }
}

fn to_value(value: impl Serialize) -> Outcome {
    serde_json::to_value(value).map_err(|e| invalid(format!("cannot encode the result: {e}")))
}

async fn list_segments(server: &McpServer, caller: &HeaderMap) -> Outcome {
    let Json(list) = segments::list_segments(State(server.state.clone()), caller.clone()).await?;
    to_value(list)
}

async fn get_contact(server: &McpServer, caller: &HeaderMap, args: &JsonObject) -> Outcome {
    let user_id = string_arg(args, "user_id")?.to_owned();
    let events = count_arg(args, "events", 10, MAX_PAGE)?;
    let contact = contacts::contact_view(&server.state, caller, user_id.clone()).await?;
    let mut value = to_value(contact)?;
    if events > 0 {
        let params = PageParams {
            limit: Some(events),
            cursor: None,
        };
        let page = contacts::contact_events(&server.state, caller, user_id, params).await?;
        value["recent_events"] = to_value(page.events)?;
    }
    Ok(value)
}

async fn get_account(server: &McpServer, caller: &HeaderMap, args: &JsonObject) -> Outcome {
    let group_id = string_arg(args, "group_id")?.to_owned();
    let account = contacts::account_view(&server.state, caller, group_id).await?;
    let committee = buying_committee(server, caller, &account).await?;
    let mut value = to_value(account)?;
    value["buying_committee"] = Value::Array(committee);
    Ok(value)
}

/// The account's contacts with their role, title, scores, segments and
/// tiers, most intent first (at most 50).
async fn buying_committee(
    server: &McpServer,
    caller: &HeaderMap,
    account: &crate::api::views::AccountView,
) -> Result<Vec<Value>, ToolError> {
    let committee = committee::buying_committee(&server.state, caller, account).await?;
    committee.into_iter().map(to_value).collect()
}

/// A `subject` argument: `contact` or `account`.
fn subject_arg(text: &str) -> Result<SubjectKind, ToolError> {
    SubjectKind::parse(text).ok_or_else(|| {
        invalid(format!(
            "`subject` must be contact or account, not {text:?}"
        ))
    })
}

async fn explain_membership(server: &McpServer, caller: &HeaderMap, args: &JsonObject) -> Outcome {
    let subject = subject_arg(string_arg(args, "subject")?)?;
    let id = string_arg(args, "id")?.to_owned();
    let segment = string_arg(args, "segment")?.to_owned();
    let tree = segments::explain_view(&server.state, caller, subject, id, segment).await?;
    to_value(tree)
}

/// The view (scores, tiers) of one segment member.
async fn member_view(
    server: &McpServer,
    caller: &HeaderMap,
    subject: SubjectKind,
    id: String,
) -> Outcome {
    if subject == SubjectKind::Account {
        return to_value(contacts::account_view(&server.state, caller, id).await?);
    }
    to_value(contacts::contact_view(&server.state, caller, id).await?)
}

async fn find_subjects(server: &McpServer, caller: &HeaderMap, args: &JsonObject) -> Outcome {
    let segment = string_arg(args, "segment")?.to_owned();
    let tier = optional_string(args, "tier")?;
    let level = optional_string(args, "level")?;
    if tier.is_some() != level.is_some() {
        return Err(invalid("`tier` and `level` go together"));
    }
    let score = optional_string(args, "score")?;
    let (min, max) = (
        optional_number(args, "min_score")?,
        optional_number(args, "max_score")?,
    );
    if score.is_none() && (min.is_some() || max.is_some()) {
        return Err(invalid("`min_score` and `max_score` need `score`"));
    }
    let limit = count_arg(args, "limit", 20, MAX_PAGE)?.max(1);
    let subject = {
        let engine = server.state.engine.view_async().await;
        engine
            .segment_subject(&segment)
            .ok_or_else(|| invalid(format!("no segment named {segment:?}")))?
    };
    let (ids, total) = segment_member_ids(server, caller, &segment).await?;
    let mut matched = Vec::new();
    for id in ids {
        let view = member_view(server, caller, subject, id).await?;
        let at_level = match (tier, level) {
            (Some(tier), Some(level)) => view["tiers"][tier] == level,
            _ => true,
        };
        let value = score.and_then(|s| view["scores"][s].as_f64());
        let in_range = score.is_none()
            || value.is_some_and(|v| min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m));
        if at_level && in_range {
            matched.push((value, view));
        }
    }
    matched.sort_by(|a, b| b.0.unwrap_or(f64::MIN).total_cmp(&a.0.unwrap_or(f64::MIN)));
    let count = matched.len();
    let subjects: Vec<Value> = matched
        .into_iter()
        .take(limit)
        .map(|(_, view)| view)
        .collect();
    Ok(
        json!({"segment": segment, "subject": subject, "members": total,
              "scanned": total.min(MAX_SCANNED), "matched": count, "subjects": subjects}),
    )
}

/// Up to `MAX_SCANNED` member ids of a segment, and its size.
async fn segment_member_ids(
    server: &McpServer,
    caller: &HeaderMap,
    segment: &str,
) -> Result<(Vec<String>, usize), ToolError> {
    let mut ids = Vec::new();
    let mut cursor = None;
    loop {
        let params = MemberParams {
            limit: Some(1_000),
            cursor: cursor.take(),
        };
        let Json(page) = segments::segment_members(
            State(server.state.clone()),
            caller.clone(),
            Path(segment.to_owned()),
            Query(params),
        )
        .await?;
        let page = to_value(page)?;
        for member in page["members"].as_array().into_iter().flatten() {
            ids.extend(member["id"].as_str().map(str::to_owned));
        }
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() || ids.len() >= MAX_SCANNED {
            break;
        }
    }
    let size = server
        .state
        .engine
        .lock()
        .segment_sizes()
        .into_iter()
        .find(|(name, _)| name == segment)
        .map_or(ids.len(), |(_, size)| size);
    ids.truncate(MAX_SCANNED);
    Ok((ids, size))
}

async fn digest_preview(server: &McpServer, caller: &HeaderMap, args: &JsonObject) -> Outcome {
    let Some(name) = optional_string(args, "name")? else {
        let Json(list) = digests::list_digests(State(server.state.clone()), caller.clone()).await?;
        return to_value(list);
    };
    let query = digests::PreviewQuery {
        format: optional_string(args, "format")?.map(str::to_owned),
    };
    let Json(preview) = digests::preview_digest(
        State(server.state.clone()),
        caller.clone(),
        Path(name.to_owned()),
        Query(query),
    )
    .await?;
    to_value(preview)
}

async fn segment_report(server: &McpServer, caller: &HeaderMap, args: &JsonObject) -> Outcome {
    let segment = string_arg(args, "segment")?;
    let outcome = optional_string(args, "outcome")?;
    let list = list_segments(server, caller).await?;
    let Some(summary) = list["segments"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == segment))
    else {
        return Err(invalid(format!("no segment named {segment:?}")));
    };
    let params_days = count_arg(args, "days", 30, 400)?.max(1) as u32;
    let params = TrendParams {
        days: Some(params_days),
    };
    let Json(trend) = trends::segment_trend(
        State(server.state.clone()),
        caller.clone(),
        Path(segment.to_owned()),
        Query(params),
    )
    .await?;
    let Some(outcome) = outcome else {
        return Ok(json!({
            "segment": summary,
            "trend": to_value(trend)?,
            "outcome": null,
            "conversion": null,
            "conversion_unavailable_because": "no `outcome` was given (e.g. \"Deal Won\")",
        }));
    };
    // Conversion over the same days as the trend.
    let now = server.state.engine.now();
    let from = now - i64::from(params_days) * 86_400_000;
    let query = reports::ConversionQuery {
        segment: Some(segment.to_owned()),
        outcome: Some(outcome.to_owned()),
        horizon: optional_string(args, "horizon")?.map(str::to_owned),
        from: Some(crate::segment::format_timestamp(from)),
        to: None,
        value: optional_string(args, "value")?.map(str::to_owned),
        pipeline: optional_string(args, "pipeline")?.map(str::to_owned),
    };
    let Json(conversion) =
        reports::conversion(State(server.state.clone()), caller.clone(), Query(query)).await?;
    Ok(json!({
        "segment": summary,
        "trend": to_value(trend)?,
        "outcome": outcome,
        "conversion": to_value(conversion)?,
    }))
}

async fn check_definition(server: &McpServer, caller: &HeaderMap, args: &JsonObject) -> Outcome {
    // The preview runs on our own credentials; the caller must be a reader.
    crate::auth::require_token(&server.state.config, caller, Scope::Read)?;
    let expression = string_arg(args, "expression")?;
    let subject = match optional_string(args, "subject")? {
        Some(subject) => subject_arg(subject)?,
        None => SubjectKind::Contact,
    };
    let mut draft = {
        let engine = server.state.engine.view_async().await;
        if let Err(diagnostics) = engine.rules().condition(subject, expression) {
            return Ok(json!({"valid": false, "errors": to_value(&diagnostics.diagnostics)?}));
        }
        engine.rules().definitions().clone()
    };
    draft.segment.push(SegmentDef {
        name: DRAFT.into(),
        subject,
        when: expression.into(),
        ..SegmentDef::default()
    });
    let text =
        toml::to_string(&draft).map_err(|e| invalid(format!("cannot encode the draft: {e}")))?;
    let Json(outcome) = definitions::put_definitions(
        State(server.state.clone()),
        server.internal.clone(),
        Query(PutParams {
            dry_run: true,
            allow_empty: false,
        }),
        axum::body::Body::from(text),
    )
    .await?;
    let preview = to_value(outcome)?["segments"][DRAFT].take();
    let sample: Vec<Value> = preview["enter"]
        .as_array()
        .into_iter()
        .flatten()
        .take(10)
        .cloned()
        .collect();
    Ok(json!({"valid": true, "would_match_now": preview["size_after"], "sample": sample}))
}

async fn apply_definitions(server: &McpServer, caller: &HeaderMap, args: &JsonObject) -> Outcome {
    // Scope first: a reader learns nothing from argument errors.
    crate::auth::require_token(&server.state.config, caller, Scope::Admin)?;
    let Some(Value::String(text)) = args.get("definitions") else {
        return Err(invalid(
            "`definitions` (TOML text; empty only for a dry run) is required",
        ));
    };
    let text = text.clone();
    let dry_run = match args.get("dry_run") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => return Err(invalid("`dry_run` must be true or false")),
    };
    let Json(outcome) = definitions::put_definitions(
        State(server.state.clone()),
        caller.clone(),
        Query(PutParams {
            dry_run,
            allow_empty: false,
        }),
        axum::body::Body::from(text),
    )
    .await?;
    to_value(outcome)
}
