//! An account's buying committee: its contacts with their role and title
//! traits, scores, segments and tiers, most intent first. Shared by the MCP
//! `get_account` tool and the account page.

use axum::http::HeaderMap;
use serde::Serialize;
use serde_json::Value;

use super::contacts;
use super::views::AccountView;
use crate::error::ApiError;
use crate::AppState;

/// Most contacts listed.
pub(crate) const MAX_COMMITTEE: usize = 50;

#[derive(Debug, Serialize)]
pub(crate) struct CommitteeMember {
    /// The id the contact page resolves: user id, else an anonymous id.
    #[serde(skip)]
    pub(crate) id: String,
    /// The contact's primary user id (`null` when anonymous).
    pub(crate) user_id: Option<String>,
    pub(crate) role: Value,
    pub(crate) title: Value,
    pub(crate) scores: std::collections::BTreeMap<String, f64>,
    pub(crate) segments: Vec<String>,
    pub(crate) tiers: std::collections::BTreeMap<String, String>,
}

impl CommitteeMember {
    pub(crate) fn intent(&self) -> Option<f64> {
        self.scores.get("intent").copied()
    }
}

/// The committee, read through the contact handler with `caller`'s
/// credentials.
pub(crate) async fn buying_committee(
    state: &AppState,
    caller: &HeaderMap,
    account: &AccountView,
) -> Result<Vec<CommitteeMember>, ApiError> {
    let ids = account
        .contacts
        .iter()
        .filter_map(|c| {
            c.user_id
                .clone()
                .or_else(|| c.anonymous_ids.first().cloned())
        })
        .take(MAX_COMMITTEE);
    let mut committee = Vec::new();
    for id in ids {
        let view = contacts::contact_view(state, caller, id.clone()).await?;
        committee.push(CommitteeMember {
            id,
            user_id: view.user_id,
            role: view.traits.get("role").cloned().unwrap_or(Value::Null),
            title: view.traits.get("title").cloned().unwrap_or(Value::Null),
            scores: view.scores,
            segments: view.segments,
            tiers: view.tiers,
        });
    }
    committee.sort_by(|a, b| {
        let rank = |m: &CommitteeMember| m.intent().unwrap_or(f64::MIN);
        rank(b).total_cmp(&rank(a))
    });
    Ok(committee)
}
