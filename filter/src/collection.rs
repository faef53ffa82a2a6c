//! A stored collection of a transaction (`TX`, `ENV`, `IP`, …): members keyed by their
//! lower-case name.
//!
//! CRS reads and writes `TX` members by exact name a few thousand times per request
//! (`TX:blocking_paranoia_level`, `%{tx.inbound_anomaly_score_pl1}`, `setvar`), so those
//! lookups hash (one comparison) instead of walking a sorted map (a dozen). Iteration —
//! regex selectors, whole-collection targets, `%{TX:/re/}` — is in name order, as the
//! sorted map we had gave, so which member a rule sees first does not depend on hashing.
//!
//! Names are `Arc<str>`, shared with the `setvar` that created them (CRS's ~150 `TX`
//! members per request then allocate no name), and values keep up to 16 bytes inline (the
//! scores, flags and levels CRS stores): a benign GET went from 324 to 242 allocations.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

/// A member's value: short ones are stored inline.
pub(crate) type Value = SmallVec<[u8; 16]>;

/// Members of one collection, by lower-case name.
#[derive(Debug, Default, Clone)]
pub(crate) struct Collection {
    map: FxHashMap<Arc<str>, Stored>,
}

/// A stored value, cloned as bytes: `SmallVec`'s own `Clone` copies element by element
/// through an iterator (copying CRS's 44 setup members into a transaction's `TX`,
/// [`Collection::copy_from`], took ~90 instructions a member that way).
#[derive(Debug)]
struct Stored(Value);

impl Clone for Stored {
    fn clone(&self) -> Self {
        Stored(Value::from_slice(&self.0))
    }
}

impl Collection {
    /// An empty collection with room for `n` members before it grows.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Collection {
            map: FxHashMap::with_capacity_and_hasher(n, Default::default()),
        }
    }

    /// The value of member `key` (lower-case).
    pub(crate) fn get(&self, key: &str) -> Option<&[u8]> {
        self.map.get(key).map(|v| v.0.as_slice())
    }

    /// Member `key` (lower-case) with its stored name.
    pub(crate) fn get_key_value(&self, key: &str) -> Option<(&str, &[u8])> {
        self.map
            .get_key_value(key)
            .map(|(k, v)| (k.as_ref(), v.0.as_slice()))
    }

    /// The value of member `key`, to change in place.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.map.get_mut(key).map(|v| &mut v.0)
    }

    /// Sets member `key` (lower-case) to `value`: in place when it exists, else under the
    /// name `new_key` gives (called only then, so a shared name is not cloned for nothing).
    pub(crate) fn set(&mut self, key: &str, value: &[u8], new_key: impl FnOnce() -> Arc<str>) {
        match self.map.get_mut(key) {
            Some(Stored(cur)) => {
                cur.clear();
                cur.extend_from_slice(value);
            }
            None => {
                self.map.insert(new_key(), Stored(Value::from_slice(value)));
            }
        }
    }

    /// Whether it has no member.
    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Becomes a copy of `other` (keeping its own table when it has as many buckets).
    pub(crate) fn copy_from(&mut self, other: &Collection) {
        self.map.clone_from(&other.map);
    }

    /// Deletes every member, keeping the table's room.
    pub(crate) fn clear(&mut self) {
        self.map.clear();
    }

    /// Members the table holds before it grows.
    pub(crate) fn capacity(&self) -> usize {
        self.map.capacity()
    }

    /// Deletes member `key`.
    pub(crate) fn remove(&mut self, key: &str) {
        self.map.remove(key);
    }

    /// The members whose name `keep` accepts, in name order.
    pub(crate) fn sorted(&self, mut keep: impl FnMut(&str) -> bool) -> Vec<(&str, &[u8])> {
        let mut v: Vec<(&str, &[u8])> = self
            .map
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, v)| (k.as_ref(), v.0.as_slice()))
            .collect();
        v.sort_unstable_by(|a, b| a.0.cmp(b.0));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::Collection;

    #[test]
    fn iteration_is_in_name_order_whatever_the_insertion_order() {
        let mut c = Collection::default();
        for k in ["zeta", "alpha", "mu", "beta", "0", "9"] {
            c.set(k, k.as_bytes(), || k.into());
        }
        // Setting an existing member changes its value in place, long or short.
        c.set(
            "beta",
            b"a value longer than sixteen bytes",
            || unreachable!(),
        );
        c.set("beta", b"beta", || unreachable!());
        c.remove("mu");
        let names: Vec<&str> = c.sorted(|_| true).iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["0", "9", "alpha", "beta", "zeta"]);
        let some: Vec<&str> = c
            .sorted(|k| k.contains('a'))
            .iter()
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(some, ["alpha", "beta", "zeta"]);
        assert_eq!(c.get("beta"), Some(&b"beta"[..]));
        assert!(c.get("mu").is_none());
    }
}
