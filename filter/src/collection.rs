//! A stored collection of a transaction (`TX`, `ENV`, `IP`, …): members keyed by their
//! lower-case name.
//!
//! CRS reads and writes `TX` members by exact name a few thousand times per request
//! (`TX:blocking_paranoia_level`, `%{tx.inbound_anomaly_score_pl1}`, `setvar`), so those
//! lookups hash (one comparison) instead of walking a sorted map (a dozen). Iteration —
//! regex selectors, whole-collection targets, `%{TX:/re/}` — is in name order, as the
//! sorted map we had gave, so which member a rule sees first does not depend on hashing.

use rustc_hash::FxHashMap;

/// Members of one collection, by lower-case name.
#[derive(Debug, Default, Clone)]
pub(crate) struct Collection {
    map: FxHashMap<String, Vec<u8>>,
}

impl Collection {
    /// The value of member `key` (lower-case).
    pub(crate) fn get(&self, key: &str) -> Option<&Vec<u8>> {
        self.map.get(key)
    }

    /// Member `key` (lower-case) with its stored name.
    pub(crate) fn get_key_value(&self, key: &str) -> Option<(&String, &Vec<u8>)> {
        self.map.get_key_value(key)
    }

    /// The value of member `key`, to change in place.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Vec<u8>> {
        self.map.get_mut(key)
    }

    /// Sets member `key` (lower-case) to `value`.
    pub(crate) fn insert(&mut self, key: String, value: Vec<u8>) {
        self.map.insert(key, value);
    }

    /// Deletes member `key`.
    pub(crate) fn remove(&mut self, key: &str) {
        self.map.remove(key);
    }

    /// The members whose name `keep` accepts, in name order.
    pub(crate) fn sorted(&self, mut keep: impl FnMut(&str) -> bool) -> Vec<(&String, &Vec<u8>)> {
        let mut v: Vec<_> = self.map.iter().filter(|(k, _)| keep(k)).collect();
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
            c.insert(k.to_string(), k.as_bytes().to_vec());
        }
        c.remove("mu");
        let names: Vec<&str> = c.sorted(|_| true).iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["0", "9", "alpha", "beta", "zeta"]);
        let some: Vec<&str> = c
            .sorted(|k| k.contains('a'))
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(some, ["alpha", "beta", "zeta"]);
        assert_eq!(c.get("beta").map(Vec::as_slice), Some(&b"beta"[..]));
        assert!(c.get("mu").is_none());
    }
}
