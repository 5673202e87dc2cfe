//! A subject's trait history: for each key, every value it had and since
//! when. A record is 24 bytes (the instant, the setting message's sequence
//! number, one pointer): keys and values are shared among subjects through
//! the engine's table ([`TraitSharing`]), so an `identify` that repeats a
//! value costs a record, not another copy of the value.

use std::sync::Arc;

use serde_json::{Map, Value};
use smallvec::SmallVec;

/// The sequence number of a value set other than by a stored message: after
/// every message at the same instant.
const UNSEQUENCED: u64 = u64::MAX;

/// One value a key took, and since when.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Record {
    time: i64,
    /// The setting message's sequence number: ties in time are in commit
    /// order, whatever order they were applied in.
    seq: u64,
    value: Arc<Value>,
}

/// A key's records, oldest first. Most keys are set once (a contact's
/// email, title, plan): the one record is held in place, not in an
/// allocation of its own (it serializes as the same sequence a `Vec` does).
type History = SmallVec<[Record; 1]>;

const _: () = assert!(std::mem::size_of::<History>() == 32);

/// Where equal trait keys and values are kept once for many subjects (the
/// engine keeps one table for all of them).
pub trait TraitSharing {
    /// The shared copy of `key`.
    fn key(&mut self, key: &str) -> Arc<str>;
    /// The shared copy of `value`.
    fn value(&mut self, value: &Value) -> Arc<Value>;
}

/// Fresh copies, shared with nothing (tests, one-off histories).
pub struct Unshared;

impl TraitSharing for Unshared {
    fn key(&mut self, key: &str) -> Arc<str> {
        Arc::from(key)
    }

    fn value(&mut self, value: &Value) -> Arc<Value> {
        Arc::new(value.clone())
    }
}

/// Trait history. Cloning shares the history until either copy is edited.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Traits {
    /// Sorted by key: a subject has few keys, and a sorted vector costs a
    /// fraction of a hash map.
    keys: Arc<Vec<(Arc<str>, History)>>,
    latest: Option<i64>,
}

impl Traits {
    /// No traits.
    pub fn new() -> Self {
        Traits::default()
    }

    /// Records that `key` became `value` at `time` (`null` unsets it).
    pub fn set(&mut self, key: &str, time: i64, value: Value) {
        let record = Record {
            time,
            seq: UNSEQUENCED,
            value: Arc::new(value),
        };
        self.record(key, record, || Arc::from(key));
    }

    /// Records every key of an `identify`/`group` traits object set by
    /// message number `seq` at `time`, sharing keys and values through
    /// `sharing`.
    pub fn set_all(
        &mut self,
        time: i64,
        seq: u64,
        traits: &Map<String, Value>,
        sharing: &mut dyn TraitSharing,
    ) {
        for (key, value) in traits {
            let value = sharing.value(value);
            self.record(key, Record { time, seq, value }, || sharing.key(key));
        }
    }

    /// Removes what `set_all(time, seq, traits)` recorded (a message
    /// re-homed to another subject takes its trait values with it).
    pub fn unset_all(&mut self, time: i64, seq: u64, traits: &Map<String, Value>) {
        for key in traits.keys() {
            let Ok(index) = self.find(key) else {
                continue;
            };
            let keys = Arc::make_mut(&mut self.keys);
            let history = &mut keys[index].1;
            if let Some(at) = history.iter().position(|r| (r.time, r.seq) == (time, seq)) {
                history.remove(at);
            }
            if history.is_empty() {
                keys.remove(index);
            }
        }
    }

    /// Adds every recorded value of `other` (an identity merge folds one
    /// contact's trait history into another's); keys and values stay
    /// shared.
    pub fn absorb(&mut self, other: &Traits) {
        for (key, history) in other.keys.iter() {
            for record in history {
                self.record(key, record.clone(), || Arc::clone(key));
            }
        }
    }

    /// Replaces every key and value by the copy `sharing` holds (a history
    /// decoded from a snapshot shares nothing yet).
    pub fn share(&mut self, sharing: &mut dyn TraitSharing) {
        for (key, history) in Arc::make_mut(&mut self.keys) {
            *key = sharing.key(key);
            for record in history {
                record.value = sharing.value(&record.value);
            }
        }
    }

    /// The value of `key` as of `time` (latest record at or before it).
    pub fn get_at(&self, key: &str, time: i64) -> Option<&Value> {
        let history = self.history_of(key)?;
        let at = history.partition_point(|r| r.time <= time);
        at.checked_sub(1).map(|i| &*history[i].value)
    }

    /// Every key with its value as of `time` (unset and `null` left out),
    /// sorted by key.
    pub fn snapshot_at(&self, time: i64) -> Map<String, Value> {
        self.keys
            .iter()
            .filter_map(|(key, _)| {
                let value = self.get_at(key, time)?;
                (!value.is_null()).then(|| (key.to_string(), value.clone()))
            })
            .collect()
    }

    /// The history of `key`, oldest first.
    pub fn history(&self, key: &str) -> impl Iterator<Item = (i64, &Value)> {
        self.history_of(key)
            .into_iter()
            .flatten()
            .map(|r| (r.time, &*r.value))
    }

    /// The first instant after `time` at which any trait changes.
    pub fn next_change_after(&self, time: i64) -> Option<i64> {
        if self.latest.is_none_or(|latest| latest <= time) {
            return None;
        }
        self.keys
            .iter()
            .filter_map(|(_, h)| next_after(h, time))
            .min()
    }

    /// The first instant after `time` at which `key` changes.
    pub(crate) fn next_key_change_after(&self, key: &str, time: i64) -> Option<i64> {
        self.history_of(key).and_then(|h| next_after(h, time))
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.keys.binary_search_by(|(k, _)| (**k).cmp(key))
    }

    fn history_of(&self, key: &str) -> Option<&History> {
        self.find(key).ok().map(|index| &self.keys[index].1)
    }

    /// Inserts `record` in order; `shared_key` makes the key when it is new.
    fn record(&mut self, key: &str, record: Record, shared_key: impl FnOnce() -> Arc<str>) {
        let found = self.find(key);
        let keys = Arc::make_mut(&mut self.keys);
        let index = found.unwrap_or_else(|at| {
            keys.insert(at, (shared_key(), History::new()));
            at
        });
        let history = &mut keys[index].1;
        let at = history.partition_point(|r| (r.time, r.seq) <= (record.time, record.seq));
        self.latest = Some(self.latest.map_or(record.time, |l| l.max(record.time)));
        history.insert(at, record);
    }
}

/// Equal histories; `latest` is only a bound (a value moved away by
/// [`Traits::unset_all`] leaves it behind) and is not compared.
impl PartialEq for Traits {
    fn eq(&self, other: &Self) -> bool {
        self.keys == other.keys
    }
}

fn next_after(history: &History, time: i64) -> Option<i64> {
    let at = history.partition_point(|r| r.time <= time);
    history.get(at).map(|r| r.time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unset_all_removes_exactly_what_one_message_set() {
        let mut traits = Traits::new();
        let first = json!({"plan": "free", "seats": 1});
        let second = json!({"plan": "pro"});
        traits.set_all(10, 1, first.as_object().unwrap(), &mut Unshared);
        traits.set_all(20, 2, second.as_object().unwrap(), &mut Unshared);
        traits.unset_all(20, 2, second.as_object().unwrap());
        assert_eq!(traits.get_at("plan", 30), Some(&json!("free")));
        assert_eq!(traits.history("plan").count(), 1);
        traits.unset_all(10, 1, first.as_object().unwrap());
        assert_eq!(traits.get_at("seats", 30), None);
        assert!(traits.snapshot_at(30).is_empty());
    }

    #[test]
    fn reads_traits_as_of_an_instant() {
        let mut traits = Traits::new();
        traits.set("seats", 100, json!(5));
        traits.set("seats", 200, json!(15));
        assert_eq!(traits.get_at("seats", 99), None);
        assert_eq!(traits.get_at("seats", 150), Some(&json!(5)));
        assert_eq!(traits.get_at("seats", 200), Some(&json!(15)));
        assert_eq!(traits.next_change_after(150), Some(200));
        assert_eq!(traits.next_change_after(200), None);
    }

    #[test]
    fn ties_in_time_follow_the_setting_messages_order() {
        let mut traits = Traits::new();
        traits.set_all(
            10,
            2,
            json!({"plan": "pro"}).as_object().unwrap(),
            &mut Unshared,
        );
        traits.set_all(
            10,
            1,
            json!({"plan": "free"}).as_object().unwrap(),
            &mut Unshared,
        );
        assert_eq!(traits.get_at("plan", 10), Some(&json!("pro")));
    }

    fn records(times: &[i64]) -> Vec<Record> {
        times
            .iter()
            .map(|&time| Record {
                time,
                seq: time as u64,
                value: Arc::new(json!(time)),
            })
            .collect()
    }

    /// Snapshots written while a history was a `Vec` still load: the
    /// snapshot's MessagePack bytes of a history are the same either way.
    #[test]
    fn a_history_encodes_as_the_vector_it_replaced() {
        for times in [&[][..], &[5][..], &[5, 7, 9][..]] {
            let vector = records(times);
            let history = History::from_vec(vector.clone());
            let bytes = rmp_serde::to_vec(&vector).unwrap();
            assert_eq!(rmp_serde::to_vec(&history).unwrap(), bytes);
            let decoded: History = rmp_serde::from_slice(&bytes).unwrap();
            assert_eq!(decoded, history);
        }
    }

    /// A key set once keeps its record in place; a second value moves the
    /// history to the heap and keeps both in order.
    #[test]
    fn a_key_set_once_holds_its_record_in_place() {
        let mut traits = Traits::new();
        traits.set("plan", 20, json!("pro"));
        assert!(!traits.history_of("plan").unwrap().spilled());
        traits.set("plan", 10, json!("free"));
        assert!(traits.history_of("plan").unwrap().spilled());
        assert_eq!(traits.get_at("plan", 15), Some(&json!("free")));
        assert_eq!(traits.get_at("plan", 25), Some(&json!("pro")));
    }

    /// Counts what it was asked to share, handing out one copy per value.
    #[derive(Default)]
    struct Table(Vec<Arc<Value>>);

    impl TraitSharing for Table {
        fn key(&mut self, key: &str) -> Arc<str> {
            Arc::from(key)
        }

        fn value(&mut self, value: &Value) -> Arc<Value> {
            if let Some(known) = self.0.iter().find(|v| ***v == *value) {
                return Arc::clone(known);
            }
            self.0.push(Arc::new(value.clone()));
            Arc::clone(self.0.last().expect("just pushed"))
        }
    }

    #[test]
    fn repeated_values_are_one_shared_copy_and_merges_keep_sharing() {
        let mut table = Table::default();
        let mut ann = Traits::new();
        let mut bob = Traits::new();
        for time in 0..5 {
            let same = json!({"industry": "software"});
            ann.set_all(time, time as u64, same.as_object().unwrap(), &mut table);
            bob.set_all(
                time,
                10 + time as u64,
                same.as_object().unwrap(),
                &mut table,
            );
        }
        ann.absorb(&bob);
        assert_eq!(ann.history("industry").count(), 10);
        assert_eq!(table.0.len(), 1);
        assert_eq!(Arc::strong_count(&table.0[0]), 1 + 10 + 5);

        let mut decoded: Traits =
            serde_json::from_value(serde_json::to_value(&ann).unwrap()).unwrap();
        assert_eq!(decoded, ann);
        decoded.share(&mut table);
        assert_eq!(Arc::strong_count(&table.0[0]), 1 + 10 + 5 + 10);
    }
}
