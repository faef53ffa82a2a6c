//! Request body processors, as ModSecurity defines them: URLENCODED, MULTIPART, JSON, XML.
//!
//! Each processor turns a complete, buffered body into arguments and flags; the transaction
//! decides which processor runs (`Content-Type`, `ctl:requestBodyProcessor`) and maps the
//! results onto variables (`ARGS_POST`, `FILES`, `MULTIPART_*`, `XML`, `REQBODY_ERROR`).
//! Not here: limits on the body size (the transaction enforces them while buffering).

pub mod json;
pub mod multipart;
pub mod urlencoded;
pub mod xml;

/// One name/value pair, as bytes (names and values need not be UTF-8).
pub type Pair = (Vec<u8>, Vec<u8>);

/// Emptied byte vectors kept for reuse, within a byte budget: a finished transaction's
/// argument names and values, transformation results, handed to the next transaction on
/// the thread so that it allocates nothing for them once the vectors have grown.
#[derive(Debug, Default)]
pub struct Spare {
    list: Vec<Vec<u8>>,
    /// Capacity of the vectors in `list`, in bytes.
    bytes: usize,
}

impl Spare {
    /// Bytes of capacity kept at most (a 20 KB JSON body leaves ~700 short vectors).
    const BUDGET: usize = 256 * 1024;
    /// Larger vectors are freed rather than kept.
    const LARGEST: usize = 4096;

    /// An empty vector: a kept one when there is one.
    pub fn take(&mut self) -> Vec<u8> {
        match self.list.pop() {
            Some(v) => {
                self.bytes -= v.capacity();
                v
            }
            None => Vec::new(),
        }
    }

    /// `bytes` in a vector from [`Spare::take`].
    pub fn copy_of(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut v = self.take();
        v.extend_from_slice(bytes);
        v
    }

    /// A name/value pair of copies of `name` and `value` (see [`Spare::copy_of`]).
    pub fn pair(&mut self, name: &[u8], value: &[u8]) -> Pair {
        (self.copy_of(name), self.copy_of(value))
    }

    /// Keeps `v`, emptied, unless it is large or the budget is spent (it is freed then).
    pub fn give(&mut self, mut v: Vec<u8>) {
        let cap = v.capacity();
        if cap != 0 && cap <= Self::LARGEST && self.bytes + cap <= Self::BUDGET {
            v.clear();
            self.bytes += cap;
            self.list.push(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Spare;

    #[test]
    fn spare_vectors_come_back_empty_and_stay_within_the_budget() {
        let mut spare = Spare::default();
        for _ in 0..10_000 {
            spare.give(vec![7u8; 100]);
        }
        spare.give(vec![0u8; Spare::LARGEST + 1]);
        assert!(spare.bytes <= Spare::BUDGET);
        assert_eq!(
            spare.list.iter().map(Vec::capacity).sum::<usize>(),
            spare.bytes
        );
        assert!(spare.list.iter().all(|v| v.capacity() <= Spare::LARGEST));
        let v = spare.take();
        assert!(v.is_empty() && v.capacity() >= 100);
        assert_eq!(spare.copy_of(b"abc"), b"abc");
        // Nothing kept: a new vector.
        let mut none = Spare::default();
        assert_eq!(none.take().capacity(), 0);
    }
}
