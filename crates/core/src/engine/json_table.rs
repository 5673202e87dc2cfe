//! JSON values many events and traits repeat (properties, page contexts,
//! trait values), each held once.
//!
//! Entries are found by a hash of their JSON text (written into one reused
//! buffer: no text is kept), and compared by content. An event with a
//! value nobody else sent (a URL, an amount) holds its own entry, so what
//! an entry weighs is what such an event weighs: objects are stored with
//! their tables sized to their entries.

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::HashTable;
use serde_json::Value;

#[derive(Debug, Default)]
pub(crate) struct JsonTable {
    entries: HashTable<Arc<Value>>,
    hasher: foldhash::fast::RandomState,
    /// The JSON text of the value being hashed.
    text: Vec<u8>,
}

impl JsonTable {
    /// A table with room for `entries` values.
    pub(crate) fn with_capacity(entries: usize) -> Self {
        JsonTable {
            entries: HashTable::with_capacity(entries),
            ..JsonTable::default()
        }
    }

    /// The one shared copy of `value`.
    pub(crate) fn intern(&mut self, value: Value) -> Arc<Value> {
        match self.find(&value) {
            Ok(known) => known,
            Err(hash) => self.insert_hashed(hash, Arc::new(compact(value))),
        }
    }

    /// The one shared copy of a value equal to `value` (copied when new).
    pub(crate) fn intern_ref(&mut self, value: &Value) -> Arc<Value> {
        match self.find(value) {
            Ok(known) => known,
            Err(hash) => self.insert_hashed(hash, Arc::new(compact(value.clone()))),
        }
    }

    /// The held copy of `value`, else the hash to insert it by.
    fn find(&mut self, value: &Value) -> Result<Arc<Value>, u64> {
        let hash = self.hash(value);
        self.entries
            .find(hash, |known| **known == *value)
            .map(Arc::clone)
            .ok_or(hash)
    }

    /// Holds `value` (a snapshot's: known to differ from every other).
    pub(crate) fn insert(&mut self, value: Arc<Value>) {
        let hash = self.hash(&value);
        self.insert_hashed(hash, value);
    }

    /// Keeps only the values someone else still holds.
    pub(crate) fn retain_held(&mut self) {
        self.entries.retain(|value| Arc::strong_count(value) > 1);
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn insert_hashed(&mut self, hash: u64, value: Arc<Value>) -> Arc<Value> {
        let hasher = &self.hasher;
        // Rehashed only when the table grows: a buffer each is fine there.
        self.entries
            .insert_unique(hash, Arc::clone(&value), |held| {
                hash_with(hasher, &mut Vec::new(), held)
            });
        value
    }

    fn hash(&mut self, value: &Value) -> u64 {
        hash_with(&self.hasher, &mut self.text, value)
    }
}

/// The hash of `value`'s JSON text, written into `text`.
fn hash_with(hasher: &foldhash::fast::RandomState, text: &mut Vec<u8>, value: &Value) -> u64 {
    text.clear();
    // Writing into a `Vec` cannot fail, and a `Value` always serializes.
    let _ = serde_json::to_writer(&mut *text, value);
    hasher.hash_one(text.as_slice())
}

/// `value` with every object's table sized to its entries. Objects grow
/// by doubling as they are built or decoded (a one-key object holds room
/// for three).
pub(crate) fn compact(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut sized = serde_json::Map::with_capacity(object.len());
            for (key, value) in object {
                sized.insert(key, compact(value));
            }
            Value::Object(sized)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(compact).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn equal_values_are_held_once_and_released_when_nobody_holds_them() {
        let mut table = JsonTable::default();
        let a = table.intern(json!({"path": "/pricing", "n": [1, 2]}));
        let b = table.intern_ref(&json!({"path": "/pricing", "n": [1, 2]}));
        let c = table.intern(json!({"path": "/blog"}));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(table.len(), 2);
        drop(c);
        table.retain_held();
        assert_eq!(table.len(), 1);
        let again = table.intern(json!({"path": "/pricing", "n": [1, 2]}));
        assert!(Arc::ptr_eq(&a, &again), "still found after the sweep");
    }

    #[test]
    fn inserted_values_are_found_by_content() {
        let mut table = JsonTable::default();
        let held = Arc::new(json!("enterprise"));
        table.insert(Arc::clone(&held));
        assert!(Arc::ptr_eq(&held, &table.intern(json!("enterprise"))));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn compacting_keeps_the_value() {
        let value = json!({"a": {"b": [1, {"c": null}]}, "d": "e"});
        assert_eq!(compact(value.clone()), value);
    }
}
