//! Event properties and traits.

use std::borrow::Cow;

use super::motion::Motion;
use super::{earliest, Detail, Eval, Out, Trace};
use crate::ir::{DaysDirection, PropPath, TraitScope};
use crate::time::{parse_rfc3339, DAY};
use crate::timeline::{Event, EventKind};
use crate::traits::Traits;
use crate::value::Val;

/// String equality without a `memcmp` call: property names and values are short.
pub(crate) fn same_text(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

/// A key of a JSON object; small objects are scanned (cheaper than hashing).
fn lookup<'j>(json: &'j serde_json::Value, key: &str) -> Option<&'j serde_json::Value> {
    let object = json.as_object()?;
    if object.len() <= 8 {
        object
            .iter()
            .find(|(k, _)| same_text(k, key))
            .map(|(_, v)| v)
    } else {
        object.get(key)
    }
}

fn descend<'j>(
    mut json: &'j serde_json::Value,
    rest: &[std::sync::Arc<str>],
) -> Option<&'j serde_json::Value> {
    for key in rest {
        json = lookup(json, key)?;
    }
    Some(json)
}

/// A property before conversion: JSON, or the page/screen name.
pub(crate) enum RawProp<'e> {
    Json(&'e serde_json::Value),
    Name(&'e str),
    Missing,
}

impl<'e> RawProp<'e> {
    pub(crate) fn as_str(&self) -> Option<&'e str> {
        match self {
            RawProp::Json(serde_json::Value::String(s)) => Some(s),
            RawProp::Name(name) => Some(name),
            _ => None,
        }
    }
}

/// A property of an event: `path`, `plan.name`. For page and screen events,
/// `name` is the page name and page fields fall back to `context.page`.
pub(crate) fn raw_property<'e>(event: &'e Event, path: &PropPath) -> RawProp<'e> {
    let first = path.first();
    if path.is_name && event.kind() != EventKind::Track {
        return RawProp::Name(event.name());
    }
    let mut found = lookup(event.properties(), first);
    if found.is_none() && path.is_page_field && event.kind() == EventKind::Page {
        found = event
            .context()
            .map(|c| &**c)
            .and_then(|c| c.get("page"))
            .and_then(|p| p.get(first));
    }
    found
        .and_then(|json| descend(json, path.rest()))
        .map_or(RawProp::Missing, RawProp::Json)
}

/// A property as a value.
pub(crate) fn property<'e>(event: &'e Event, path: &PropPath) -> Val<'e> {
    match raw_property(event, path) {
        RawProp::Json(json) => Val::from_json(json),
        RawProp::Name(name) => Val::Str(Cow::Borrowed(name)),
        RawProp::Missing => Val::Missing,
    }
}

fn trait_at<'t>(traits: Option<&'t Traits>, path: &PropPath, time: i64) -> Val<'t> {
    traits
        .and_then(|t| t.get_at(path.first(), time))
        .and_then(|json| descend(json, path.rest()))
        .map_or(Val::Missing, Val::from_json)
}

impl<'a, T: Trace> Eval<'a, '_, T> {
    fn traits_for(&self, scope: TraitScope) -> Option<&'a Traits> {
        let subject = self.subject;
        match (scope, subject.kind()) {
            (TraitScope::Account, crate::subject::SubjectKind::Contact) => subject.account_traits(),
            _ => Some(subject.traits()),
        }
    }

    /// `trait.x` / `account.x` as of now. Later changes are stored future
    /// changes, which `evaluate` already counts in `next`.
    pub(super) fn trait_value(&self, scope: TraitScope, path: &PropPath) -> Out<'a> {
        Out::still(trait_at(self.traits_for(scope), path, self.now))
    }

    /// `past(trait.x, D)`: the value at now − D; it changes when now − D
    /// passes the next recorded change.
    pub(super) fn past_value(&self, scope: TraitScope, path: &PropPath, ago: i64) -> Out<'a> {
        let traits = self.traits_for(scope);
        let then = self.now.saturating_sub(ago);
        let next = traits
            .and_then(|t| t.next_key_change_after(path.first(), then))
            .map(|t| t.saturating_add(ago));
        Out::until(trait_at(traits, path, then), earliest(next, None))
    }

    /// `days_until(trait.x)` / `days_since(trait.x)`: days between now and
    /// the instant the trait holds, in closed form so comparisons find the
    /// exact millisecond they flip. Missing when the trait is absent or not
    /// an RFC 3339 date-time: unlike an event never seen (which is
    /// infinitely long ago), an absent date is unknown, and a comparison
    /// with an unknown is false. A later trait change is a stored future
    /// change, which `evaluate` already counts in `next`.
    pub(super) fn trait_days(
        &self,
        direction: DaysDirection,
        scope: TraitScope,
        path: &PropPath,
        detail: &mut Detail<'a>,
    ) -> Out<'a> {
        let instant = match trait_at(self.traits_for(scope), path, self.now) {
            Val::Str(text) => parse_rfc3339(&text),
            _ => None,
        };
        let Some(instant) = instant else {
            return Out::still(Val::Missing);
        };
        if T::ON {
            detail.instant = Some(instant);
        }
        let since = Motion::elapsed(instant, DAY);
        let motion = match direction {
            DaysDirection::Since => since,
            DaysDirection::Until => since.times(-1.0),
        };
        Out {
            val: Val::Num(motion.at(self.now)),
            motion: Some(motion),
            next: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn path(text: &str) -> PropPath {
        PropPath::new(text.split('.').map(Arc::from).collect())
    }

    #[test]
    fn page_fields_fall_back_to_context() {
        let event = Event::page(0, 0, "Pricing", json!({"plan": {"name": "pro"}}))
            .with_context(json!({"page": {"path": "/pricing"}}));
        assert_eq!(
            property(&event, &path("path")),
            Val::Str(Cow::Borrowed("/pricing"))
        );
        assert_eq!(
            property(&event, &path("name")),
            Val::Str(Cow::Borrowed("Pricing"))
        );
        assert_eq!(
            property(&event, &path("plan.name")),
            Val::Str(Cow::Borrowed("pro"))
        );
        assert_eq!(property(&event, &path("missing")), Val::Missing);
    }
}
