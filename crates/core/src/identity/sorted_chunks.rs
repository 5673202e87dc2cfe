//! A sorted sequence kept in chunks, so an item that arrives behind the
//! newest (an offline SDK queue flushed late, history imported behind live
//! traffic) shifts one chunk instead of everything after it: a cluster's
//! claims and user-less messages grow with its users' whole history.
//!
//! Appending fills chunks of [`CHUNK`] items; an insert inside a chunk
//! grows it, and a chunk past `2 × CHUNK` is split in two. It serializes
//! as one flat sequence (the snapshot's bytes are a `Vec`'s).

use std::cmp::Ordering;

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, SerializeSeq, Serializer};

/// Items per chunk filled by appends.
const CHUNK: usize = 128;

/// Where an item is, or would be inserted: a chunk and an offset in it.
/// Only valid until the next insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cursor {
    chunk: usize,
    offset: usize,
}

/// Items in order, in chunks. As small inline as a `Vec` (every cluster
/// holds two): the length is summed when asked (rarely), not kept.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SortedChunks<T> {
    /// In order; no chunk is empty.
    chunks: Vec<Vec<T>>,
}

const _: () = assert!(std::mem::size_of::<SortedChunks<u64>>() == 24);

impl<T> Default for SortedChunks<T> {
    fn default() -> Self {
        Self { chunks: Vec::new() }
    }
}

impl<T> SortedChunks<T> {
    /// From items already in order.
    pub(super) fn from_sorted(items: Vec<T>) -> Self {
        let mut chunks = Vec::with_capacity(items.len().div_ceil(CHUNK));
        let mut rest = items.into_iter().peekable();
        while rest.peek().is_some() {
            chunks.push(rest.by_ref().take(CHUNK).collect());
        }
        Self { chunks }
    }

    /// O(chunks).
    pub(super) fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    pub(super) fn first(&self) -> Option<&T> {
        self.chunks.first()?.first()
    }

    pub(super) fn last(&self) -> Option<&T> {
        self.chunks.last()?.last()
    }

    pub(super) fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    /// Moves every item out, in order.
    pub(super) fn into_vec(self) -> Vec<T> {
        let mut items = Vec::with_capacity(self.len());
        for chunk in self.chunks {
            items.extend(chunk);
        }
        items
    }

    /// Where the items for which `before` holds end (they must all come
    /// first): O(log n).
    pub(super) fn partition_point(&self, mut before: impl FnMut(&T) -> bool) -> Cursor {
        let chunk = self
            .chunks
            .partition_point(|chunk| chunk.last().is_some_and(&mut before));
        match self.chunks.get(chunk) {
            Some(items) => Cursor {
                chunk,
                offset: items.partition_point(before),
            },
            None => self.end(),
        }
    }

    /// Where an item comparing `Equal` is (`Ok`), or where it would be
    /// inserted (`Err`): `compare` orders an item against the one sought.
    pub(super) fn search(&self, mut compare: impl FnMut(&T) -> Ordering) -> Result<Cursor, Cursor> {
        let cursor = self.partition_point(|item| compare(item) == Ordering::Less);
        match self.get(cursor) {
            Some(item) if compare(item) == Ordering::Equal => Ok(cursor),
            _ => Err(cursor),
        }
    }

    /// Past the last item.
    fn end(&self) -> Cursor {
        match self.chunks.len() {
            0 => Cursor {
                chunk: 0,
                offset: 0,
            },
            n => Cursor {
                chunk: n - 1,
                offset: self.chunks[n - 1].len(),
            },
        }
    }

    /// The item at `cursor` (none at the end).
    pub(super) fn get(&self, cursor: Cursor) -> Option<&T> {
        let chunk = self.chunks.get(cursor.chunk)?;
        match chunk.get(cursor.offset) {
            Some(item) => Some(item),
            // The end of a chunk is where the next one starts.
            None => self.chunks.get(cursor.chunk + 1)?.first(),
        }
    }

    /// The item just before `cursor` (none at the start).
    pub(super) fn before(&self, cursor: Cursor) -> Option<&T> {
        match cursor.offset {
            0 => self.chunks.get(cursor.chunk.checked_sub(1)?)?.last(),
            offset => self.chunks.get(cursor.chunk)?.get(offset - 1),
        }
    }

    /// The item just after the one at `cursor`.
    pub(super) fn after(&self, cursor: Cursor) -> Option<&T> {
        self.get(Cursor {
            offset: cursor.offset + 1,
            ..cursor
        })
    }

    /// Whether `cursor` is before every item.
    pub(super) fn is_start(&self, cursor: Cursor) -> bool {
        self.before(cursor).is_none()
    }

    /// Puts `item` at `cursor` (from [`Self::partition_point`] or
    /// [`Self::search`]); returns where it is now. Shifts at most one
    /// chunk.
    pub(super) fn insert(&mut self, cursor: Cursor, item: T) -> Cursor {
        let chunks = self.chunks.len();
        let Some(chunk) = self.chunks.get_mut(cursor.chunk) else {
            self.chunks.push(vec![item]);
            return Cursor {
                chunk: self.chunks.len() - 1,
                offset: 0,
            };
        };
        let at_end = cursor.chunk + 1 == chunks && cursor.offset >= chunk.len();
        if at_end && chunk.len() >= CHUNK {
            self.chunks.push(vec![item]);
            return Cursor {
                chunk: self.chunks.len() - 1,
                offset: 0,
            };
        }
        let offset = cursor.offset.min(chunk.len());
        chunk.insert(offset, item);
        if chunk.len() <= 2 * CHUNK {
            return Cursor { offset, ..cursor };
        }
        let upper = chunk.split_off(CHUNK);
        self.chunks.insert(cursor.chunk + 1, upper);
        match offset.checked_sub(CHUNK) {
            Some(offset) => Cursor {
                chunk: cursor.chunk + 1,
                offset,
            },
            None => Cursor { offset, ..cursor },
        }
    }

    /// The items from `from` up to (not including) `to`.
    pub(super) fn range(&self, from: Cursor, to: Cursor) -> impl Iterator<Item = &T> {
        let last = to.chunk.saturating_sub(from.chunk);
        self.chunks
            .iter()
            .enumerate()
            .skip(from.chunk)
            .take(last + 1)
            .flat_map(move |(index, chunk)| &chunk[span(index, chunk.len(), from, to)])
    }

    /// The items from `from` up to (not including) `to`, mutably.
    pub(super) fn range_mut(&mut self, from: Cursor, to: Cursor) -> impl Iterator<Item = &mut T> {
        let last = to.chunk.saturating_sub(from.chunk);
        self.chunks
            .iter_mut()
            .enumerate()
            .skip(from.chunk)
            .take(last + 1)
            .flat_map(move |(index, chunk)| {
                let span = span(index, chunk.len(), from, to);
                &mut chunk[span]
            })
    }
}

/// The part of chunk `index` (of `len` items) that lies in `from..to`.
fn span(index: usize, len: usize, from: Cursor, to: Cursor) -> std::ops::Range<usize> {
    let start = if index == from.chunk { from.offset } else { 0 };
    let end = if index == to.chunk { to.offset } else { len }.min(len);
    start.min(end)..end
}

impl<'a, T> IntoIterator for &'a mut SortedChunks<T> {
    type Item = &'a mut T;
    type IntoIter = std::iter::Flatten<std::slice::IterMut<'a, Vec<T>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.chunks.iter_mut().flatten()
    }
}

impl<'a, T> IntoIterator for &'a SortedChunks<T> {
    type Item = &'a T;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<T>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.chunks.iter().flatten()
    }
}

impl<T: Serialize> Serialize for SortedChunks<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for item in self {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for SortedChunks<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::deserialize(deserializer).map(Self::from_sorted)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn insert_sorted(chunks: &mut SortedChunks<u32>, value: u32) -> Cursor {
        let cursor = chunks.partition_point(|item| *item <= value);
        chunks.insert(cursor, value)
    }

    #[test]
    fn appends_fill_chunks_and_late_items_split_one() {
        let mut chunks = SortedChunks::default();
        for value in (0..1_000).map(|v| v * 2) {
            insert_sorted(&mut chunks, value);
        }
        assert_eq!(chunks.chunks.len(), 1_000usize.div_ceil(CHUNK));
        for value in (0..300).map(|v| v * 2 + 1) {
            insert_sorted(&mut chunks, value);
        }
        assert!(chunks.chunks.iter().all(|chunk| chunk.len() <= 2 * CHUNK));
        let items: Vec<u32> = chunks.iter().copied().collect();
        let mut expected: Vec<u32> = (0..1_000).map(|v| v * 2).collect();
        expected.extend((0..300).map(|v| v * 2 + 1));
        expected.sort_unstable();
        assert_eq!(items, expected);
        assert_eq!(chunks.len(), 1_300);
    }

    #[test]
    fn serializes_as_a_flat_sequence() {
        let chunks = SortedChunks::from_sorted((0..300u32).collect());
        let bytes = rmp_serde::to_vec(&chunks).expect("encodes");
        assert_eq!(
            bytes,
            rmp_serde::to_vec(&(0..300u32).collect::<Vec<_>>()).expect("encodes")
        );
        let back: SortedChunks<u32> = rmp_serde::from_slice(&bytes).expect("decodes");
        assert_eq!(back, chunks);
    }

    proptest! {
        /// Every operation agrees with a plain sorted vector.
        #[test]
        fn behaves_like_a_sorted_vector(values in proptest::collection::vec(0u32..500, 0..1_200),
                                        probes in proptest::collection::vec(0u32..520, 1..20)) {
            let mut chunks = SortedChunks::default();
            let mut plain: Vec<u32> = Vec::new();
            for value in values {
                let cursor = insert_sorted(&mut chunks, value);
                prop_assert_eq!(chunks.get(cursor), Some(&value));
                let index = plain.partition_point(|item| *item <= value);
                plain.insert(index, value);
                prop_assert_eq!(chunks.is_start(cursor), index == 0);
                prop_assert_eq!(chunks.after(cursor), plain.get(index + 1));
            }
            prop_assert_eq!(chunks.len(), plain.len());
            prop_assert_eq!(chunks.iter().copied().collect::<Vec<_>>(), plain.clone());
            prop_assert_eq!(chunks.first(), plain.first());
            prop_assert_eq!(chunks.last(), plain.last());
            for probe in probes {
                let index = plain.partition_point(|item| *item < probe);
                let cursor = chunks.partition_point(|item| *item < probe);
                prop_assert_eq!(chunks.get(cursor), plain.get(index));
                prop_assert_eq!(chunks.before(cursor), index.checked_sub(1).and_then(|i| plain.get(i)));
                prop_assert_eq!(chunks.search(|item| item.cmp(&probe)).is_ok(), plain.binary_search(&probe).is_ok());
                let end_index = plain.partition_point(|item| *item <= probe + 10);
                let end = chunks.partition_point(|item| *item <= probe + 10);
                let ranged: Vec<u32> = chunks.range_mut(cursor, end).map(|item| *item).collect();
                prop_assert_eq!(&ranged[..], &plain[index..end_index]);
                let read: Vec<u32> = chunks.range(cursor, end).copied().collect();
                prop_assert_eq!(read, ranged);
            }
        }
    }
}
