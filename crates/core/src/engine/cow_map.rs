//! A map whose clone is O(1): the writer edits it in place, and a
//! published copy (the readers' view) keeps seeing the values as they were.
//! Each value is behind an `Arc`, so an edit after a publication copies
//! that one value and the few map nodes on its path, nothing else.

use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::Arc;

use imbl::shared_ptr::DefaultSharedPtr;

/// Keys are hashed with the engine's seeded fast hasher (subject keys,
/// names): SipHash took about a twentieth of a history walk.
type Map<K, V> = imbl::GenericHashMap<K, Arc<V>, crate::subject::SubjectHasher, DefaultSharedPtr>;

#[derive(Debug)]
pub(crate) struct CowMap<K, V> {
    map: Map<K, V>,
}

impl<K, V> Default for CowMap<K, V>
where
    K: Hash + Eq + Clone,
{
    fn default() -> Self {
        Self {
            map: Map::default(),
        }
    }
}

impl<K, V> Clone for CowMap<K, V>
where
    K: Clone,
{
    fn clone(&self) -> Self {
        Self {
            map: self.map.clone(),
        }
    }
}

impl<K, V> CowMap<K, V>
where
    K: Hash + Eq + Clone,
    V: Clone,
{
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get(key).map(|value| &**value)
    }

    /// The value to edit, copied first if a published view still shares it.
    pub(crate) fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get_mut(key).map(Arc::make_mut)
    }

    /// The value of `key`, inserted as `V::default()` if absent.
    pub(crate) fn get_or_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        Arc::make_mut(self.map.entry(key).or_default())
    }

    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.map
            .insert(key, Arc::new(value))
            .map(Arc::unwrap_or_clone)
    }

    /// Sets `key`'s value, in its place when present (no new node or
    /// `Arc` when a view does not share it: an evaluation stores its
    /// subject's values this way).
    pub(crate) fn set(&mut self, key: K, value: V) {
        match self.map.get_mut(&key) {
            Some(slot) => match Arc::get_mut(slot) {
                Some(in_place) => *in_place = value,
                None => *slot = Arc::new(value),
            },
            None => {
                self.map.insert(key, Arc::new(value));
            }
        }
    }

    pub(crate) fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.remove(key).map(Arc::unwrap_or_clone)
    }

    pub(crate) fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.contains_key(key)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
        self.map.keys()
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values().map(|value| &**value)
    }

    pub(crate) fn iter(&self) -> Iter<'_, K, V> {
        self.map.iter().map(|(key, value)| (key, &**value))
    }

    pub(crate) fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map
            .get_key_value(key)
            .map(|(key, value)| (key, &**value))
    }

    /// Moves `other`'s entries in (replacing equal keys), their values
    /// shared, not copied.
    pub(crate) fn extend(&mut self, other: Self) {
        self.map.extend(other.map);
    }

    /// Every entry to edit; each value shared with a view is copied.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.map
            .iter_mut()
            .map(|(key, value)| (key, Arc::make_mut(value)))
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.iter_mut().map(|(_, value)| value)
    }
}

/// Borrowed entries, `(key, value)`.
pub(crate) type Iter<'a, K, V> = std::iter::Map<
    imbl::hashmap::Iter<'a, K, Arc<V>, DefaultSharedPtr>,
    fn((&'a K, &'a Arc<V>)) -> (&'a K, &'a V),
>;

impl<'a, K, V> IntoIterator for &'a CowMap<K, V>
where
    K: Hash + Eq + Clone,
    V: Clone,
{
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

impl<K, V> std::ops::Index<&K> for CowMap<K, V>
where
    K: Hash + Eq + Clone,
    V: Clone,
{
    type Output = V;

    /// The value of a key known to be present (panics otherwise, like
    /// `HashMap`'s index).
    fn index(&self, key: &K) -> &V {
        &self.map[key]
    }
}

impl<K, V> FromIterator<(K, V)> for CowMap<K, V>
where
    K: Hash + Eq + Clone,
    V: Clone,
{
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        Self {
            map: entries
                .into_iter()
                .map(|(key, value)| (key, Arc::new(value)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_keeps_the_values_it_was_made_with() {
        let mut live: CowMap<u32, Vec<u32>> = CowMap::default();
        live.get_or_default(1).push(10);
        let view = live.clone();
        live.get_or_default(1).push(11);
        live.insert(2, vec![20]);
        live.remove(&1);
        assert_eq!(view.get(&1), Some(&vec![10]));
        assert_eq!(view.len(), 1);
        assert_eq!(live.get(&2), Some(&vec![20]));
        assert!(!live.contains_key(&1));
    }

    #[test]
    fn extend_shares_the_other_maps_values() {
        let mut walked: CowMap<u32, Vec<u32>> = CowMap::default();
        walked.insert(1, vec![1]);
        walked.insert(2, vec![2]);
        let mut merged: CowMap<u32, Vec<u32>> = CowMap::default();
        merged.insert(2, vec![0]);
        merged.insert(3, vec![3]);
        merged.extend(walked);
        assert_eq!(merged.get(&1), Some(&vec![1]));
        assert_eq!(merged.get(&2), Some(&vec![2]), "the other map's value wins");
        assert_eq!(merged.len(), 3);
    }
}
