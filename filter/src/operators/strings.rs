//! String comparison operators: `@streq`, `@strmatch`, `@contains`, `@containsWord`,
//! `@beginsWith`, `@endsWith`, `@within`. Case-sensitive, byte-wise, as in libmodsecurity.
//!
//! Substring search with a parameter known at configure time is a one-pattern
//! `aho-corasick` automaton (its prefilters use SIMD `memchr`), not hand-rolled. `@within`
//! searches for the value inside the parameter, so its needle is only known per request;
//! that search is a plain scan bounded by the parameter's length.

use aho_corasick::AhoCorasick;

use super::{OpOutput, Operator};

/// A compiled substring searcher for one needle.
#[derive(Debug)]
struct Finder {
    ac: Option<AhoCorasick>,
    needle: Vec<u8>,
}

impl Finder {
    fn needle(&self) -> &[u8] {
        &self.needle
    }

    /// Whether the needle occurs in `hay` (an empty needle always does).
    fn find(&self, hay: &[u8]) -> bool {
        match &self.ac {
            Some(ac) => ac.is_match(hay),
            None => contains(hay, &self.needle),
        }
    }

    /// Start offsets of all (overlapping) occurrences.
    fn find_iter<'a>(&'a self, hay: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
        let fast = self
            .ac
            .iter()
            .flat_map(move |ac| ac.find_overlapping_iter(hay).map(|m| m.start()));
        let n = self.needle.len().max(1);
        let slow = self.ac.is_none().then(|| hay.windows(n).enumerate());
        let slow = slow
            .into_iter()
            .flatten()
            .filter(|(_, w)| *w == self.needle.as_slice());
        fast.chain(slow.map(|(i, _)| i))
    }
}

fn finder(needle: &str) -> Finder {
    // Building a one-pattern automaton only fails past its size limits, which a rule
    // parameter cannot reach; should it fail, fall back to the scan used by `@within`.
    let ac = if needle.is_empty() {
        None
    } else {
        AhoCorasick::new([needle]).ok()
    };
    Finder {
        ac,
        needle: needle.as_bytes().to_vec(),
    }
}

/// `@streq`: the value equals the parameter.
#[derive(Debug)]
pub struct StrEq(Vec<u8>);

impl StrEq {
    /// Compiles `@streq`.
    pub fn new(param: &str) -> Self {
        Self(param.as_bytes().to_vec())
    }
}

impl Operator for StrEq {
    fn matches(&self, input: &[u8], _out: &mut OpOutput) -> bool {
        input == self.0.as_slice()
    }
}

/// `@contains` / `@strmatch`: the parameter occurs in the value (an empty parameter always
/// matches). libmodsecurity's `@strmatch` uses Boyer-Moore-Horspool for the same answer.
#[derive(Debug)]
pub struct Contains(Finder);

impl Contains {
    /// Compiles `@contains`.
    pub fn new(param: &str) -> Self {
        Self(finder(param))
    }
}

impl Operator for Contains {
    fn matches(&self, input: &[u8], out: &mut OpOutput) -> bool {
        if self.0.find(input) {
            out.matched = Some(self.0.needle().to_vec());
            true
        } else {
            false
        }
    }
}

/// `@strmatch`: same semantics as [`Contains`].
pub type StrMatch = Contains;

/// `@containsWord`: the parameter occurs in the value delimited by non-letters.
///
/// Mirrors libmodsecurity's `ContainsWord::acceptableChar`: only ASCII letters are word
/// characters (digits and `_` are boundaries); an empty parameter matches, an empty value
/// does not (unless the parameter is empty).
#[derive(Debug)]
pub struct ContainsWord(Finder);

impl ContainsWord {
    /// Compiles `@containsWord`.
    pub fn new(param: &str) -> Self {
        Self(finder(param))
    }
}

impl Operator for ContainsWord {
    fn matches(&self, input: &[u8], out: &mut OpOutput) -> bool {
        let word = self.0.needle();
        if word.is_empty() {
            return true;
        }
        let boundary = |i: Option<usize>| match i.and_then(|i| input.get(i)) {
            Some(b) => !b.is_ascii_alphabetic(),
            None => true,
        };
        for pos in self.0.find_iter(input) {
            if boundary(pos.checked_sub(1)) && boundary(Some(pos + word.len())) {
                out.matched = Some(word.to_vec());
                return true;
            }
        }
        false
    }
}

/// `@beginsWith`: the value starts with the parameter.
#[derive(Debug)]
pub struct BeginsWith(Vec<u8>);

impl BeginsWith {
    /// Compiles `@beginsWith`.
    pub fn new(param: &str) -> Self {
        Self(param.as_bytes().to_vec())
    }
}

impl Operator for BeginsWith {
    fn matches(&self, input: &[u8], out: &mut OpOutput) -> bool {
        let m = input.starts_with(&self.0);
        if m {
            out.matched = Some(self.0.clone());
        }
        m
    }
}

/// `@endsWith`: the value ends with the parameter.
#[derive(Debug)]
pub struct EndsWith(Vec<u8>);

impl EndsWith {
    /// Compiles `@endsWith`.
    pub fn new(param: &str) -> Self {
        Self(param.as_bytes().to_vec())
    }
}

impl Operator for EndsWith {
    fn matches(&self, input: &[u8], out: &mut OpOutput) -> bool {
        let m = input.ends_with(&self.0);
        if m {
            out.matched = Some(self.0.clone());
        }
        m
    }
}

/// `@within`: the value occurs in the parameter (the reverse of `@contains`); an empty value
/// is within anything, as libmodsecurity's `str.find(input)` says.
#[derive(Debug)]
pub struct Within {
    list: Vec<u8>,
    /// How often each byte occurs in `list` (saturating): the value is looked for from the
    /// occurrences of its rarest byte.
    counts: [u8; 256],
}

impl Within {
    /// Compiles `@within`.
    pub fn new(param: &str) -> Self {
        let list = param.as_bytes().to_vec();
        let mut counts = [0u8; 256];
        for &b in &list {
            let c = &mut counts[usize::from(b)];
            *c = c.saturating_add(1);
        }
        Self { list, counts }
    }
}

impl Operator for Within {
    fn matches(&self, input: &[u8], _out: &mut OpOutput) -> bool {
        // The needle is the value, new at every call: `memmem` would build a searcher each
        // time, which costs more than scanning CRS's short lists (`tx.allowed_methods`,
        // `tx.restricted_headers_basic`) from each occurrence of the value's rarest byte
        // there (its first byte, `/` in `/proxy/`, is the list's most common one).
        let Some((at, &rare)) = input
            .iter()
            .enumerate()
            .min_by_key(|&(_, &b)| self.counts[usize::from(b)])
        else {
            return true;
        };
        if self.counts[usize::from(rare)] == 0 {
            return false;
        }
        memchr::memchr_iter(rare, &self.list).any(|i| {
            i.checked_sub(at)
                .and_then(|start| self.list.get(start..start + input.len()))
                == Some(input)
        })
    }
}

/// Whether `needle` occurs in `hay` (`memchr`'s substring search: vectorised, linear).
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_finds_the_value_in_the_list() {
        let mut out = OpOutput::default();
        let list = Within::new("/proxy/ /lock-token/ /content-range/");
        assert!(list.matches(b"/lock-token/", &mut out));
        assert!(list.matches(b"/content-range/", &mut out));
        assert!(list.matches(b"proxy", &mut out));
        assert!(!list.matches(b"/proxy-x/", &mut out));
        assert!(!list.matches(b"/content-range/ x", &mut out));
        // An empty value is in every list (as `std::string::find("")` says).
        assert!(list.matches(b"", &mut out));
        assert!(!Within::new("").matches(b"a", &mut out));
        // Found from its rarest byte whatever its position; the list's ends are kept.
        assert!(list.matches(b"k-t", &mut out));
        assert!(list.matches(b"/proxy", &mut out));
        assert!(list.matches(b"range/", &mut out));
        assert!(!list.matches(b"range/ ", &mut out));
        assert!(!list.matches(b"x/proxy", &mut out));
        assert!(!list.matches(b"/Proxy/", &mut out));
    }

    #[test]
    fn contains_word_boundaries_are_non_letters() {
        let mut out = OpOutput::default();
        assert!(ContainsWord::new("abc").matches(b"1abc_", &mut out));
        assert!(!ContainsWord::new("abc").matches(b"xabc abcd", &mut out));
        assert!(ContainsWord::new("abc").matches(b"xabc abc", &mut out));
    }
}
