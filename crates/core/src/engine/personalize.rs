//! What a visitor's own web page may learn about them (SPEC §7, website
//! activation): the segments marked `expose = true` that the contact is
//! in, and the levels of exposed tiers, its own and its account's. Never
//! traits, scores or ids.
//!
//! One contact and its account, read from the current values of a
//! published view: the lookup costs the same whatever the number of
//! subjects.

use std::collections::BTreeMap;
use std::sync::Arc;

use bellwether_rules::SubjectKind;

use super::values::Values;
use super::View;
use crate::message::ContactId;
use crate::subject::SubjectKey;

/// The exposed memberships of one visitor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exposed {
    /// Exposed segments the visitor (or its account) is in, by name.
    pub segments: Vec<String>,
    /// Exposed tier → the visitor's (or its account's) level.
    pub tiers: BTreeMap<String, String>,
}

impl View {
    /// The exposed segments and tier levels of `contact` and of its
    /// account; empty for a contact the engine does not know.
    pub fn exposed(&self, contact: ContactId) -> Exposed {
        let Some(state) = self.state.contacts.get(&contact) else {
            return Exposed::default();
        };
        let contact_values = self.values.get(&SubjectKey::Contact(contact));
        let account_values = state
            .account
            .as_ref()
            .and_then(|group_id| self.values.get(&SubjectKey::Account(Arc::clone(group_id))));
        let values_of = |kind: SubjectKind| -> Option<&Values> {
            match kind {
                SubjectKind::Contact => contact_values,
                SubjectKind::Account => account_values,
            }
        };
        let definitions = self.rules.definitions();
        let mut segments: Vec<String> = definitions
            .segment
            .iter()
            .filter(|segment| segment.expose)
            .filter(|segment| {
                values_of(segment.subject)
                    .and_then(|values| values.in_segment(segment.name.as_str()))
                    .unwrap_or(false)
            })
            .map(|segment| segment.name.clone())
            .collect();
        segments.sort();
        let tiers = definitions
            .tier
            .iter()
            .filter(|tier| tier.expose)
            .filter_map(|tier| {
                let level = values_of(tier.subject)?.tier(tier.name.as_str())?;
                Some((tier.name.clone(), level.to_string()))
            })
            .collect();
        Exposed { segments, tiers }
    }
}
