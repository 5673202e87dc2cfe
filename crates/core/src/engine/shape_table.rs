//! Event shapes (kind, name, kept properties, page context) that events
//! share, each held once.
//!
//! A shape is found by its parts' addresses: the parts are interned (equal
//! parts are one allocation, never freed while a shape holds them), so
//! equal addresses mean equal parts. A slot is one pointer: an event whose
//! properties nobody else sent has a shape of its own.

use std::hash::BuildHasher;
use std::sync::Arc;

use bellwether_rules::{EventKind, EventShape};
use hashbrown::HashTable;
use serde_json::Value;

type ShapeKey = (EventKind, usize, usize, usize);

#[derive(Debug, Default)]
pub(crate) struct ShapeTable {
    entries: HashTable<Arc<EventShape>>,
    hasher: foldhash::fast::RandomState,
}

impl ShapeTable {
    /// The one shared shape of these (interned) parts.
    pub(crate) fn intern(
        &mut self,
        kind: EventKind,
        name: Arc<str>,
        properties: Arc<Value>,
        context: Option<Arc<Value>>,
    ) -> Arc<EventShape> {
        let key = key_of_parts(kind, &name, &properties, context.as_ref());
        let hash = self.hasher.hash_one(key);
        if let Some(known) = self.entries.find(hash, |shape| key_of(shape) == key) {
            return Arc::clone(known);
        }
        let shape = Arc::new(EventShape {
            kind,
            name,
            properties,
            context,
        });
        let hasher = &self.hasher;
        self.entries
            .insert_unique(hash, Arc::clone(&shape), |held| {
                hasher.hash_one(key_of(held))
            });
        shape
    }

    /// Keeps only the shapes some event still holds.
    pub(crate) fn retain_held(&mut self) {
        self.entries.retain(|shape| Arc::strong_count(shape) > 1);
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

fn key_of_parts(
    kind: EventKind,
    name: &Arc<str>,
    properties: &Arc<Value>,
    context: Option<&Arc<Value>>,
) -> ShapeKey {
    (
        kind,
        Arc::as_ptr(name) as *const u8 as usize,
        Arc::as_ptr(properties) as usize,
        context.map_or(0, |c| Arc::as_ptr(c) as usize),
    )
}

fn key_of(shape: &EventShape) -> ShapeKey {
    key_of_parts(
        shape.kind,
        &shape.name,
        &shape.properties,
        shape.context.as_ref(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn shapes_of_the_same_parts_are_one_and_leave_when_unheld() {
        let mut table = ShapeTable::default();
        let name: Arc<str> = Arc::from("Pricing Viewed");
        let properties = Arc::new(json!({"plan": "pro"}));
        let equal_copy = Arc::new(json!({"plan": "pro"}));
        let a = table.intern(EventKind::Track, name.clone(), properties.clone(), None);
        let b = table.intern(EventKind::Track, name.clone(), properties.clone(), None);
        let page = table.intern(EventKind::Page, name.clone(), properties, None);
        let other = table.intern(EventKind::Track, name, equal_copy, None);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &page), "another kind");
        assert!(!Arc::ptr_eq(&a, &other), "parts not interned together");
        assert_eq!(table.len(), 3);
        drop((page, other));
        table.retain_held();
        assert_eq!(table.len(), 1);
    }
}
