//! `@rx` and `@rxGlobal`: regular expression match, on `regex::bytes` (linear time).
//!
//! Semantics mirror libmodsecurity 3 (`src/utils/regex.cc`): patterns are compiled with
//! `PCRE_DOTALL | PCRE_MULTILINE`, so we set `(?s)` (dot matches `\n`) and `(?m)` (`^`/`$`
//! at line breaks) — libmodsecurity's `Regex(pattern, ignoreCase, multiLine)` defaults to
//! `multiLine = true` (see its `test/unit/regex_multiline_test.cc`), and Coraza's `@rx`
//! prefixes `(?sm)` likewise. An empty pattern is replaced by `.*`, as `Regex::Regex` does.
//! Unicode is off: a value is bytes, `.` matches any byte and `\xHH` matches byte `HH`.
//! `\x{HH}` is rewritten to `\xHH` first, because regex-syntax reads `\x{c2}` as the code
//! point U+00C2 (two bytes in UTF-8) where PCRE (non-UTF mode) reads the byte 0xC2.
//!
//! Not supported, by design: look-around (`(?!…)`, `(?<=…)`), back-references, atomic groups
//! and possessive quantifiers. Rust's `regex` is linear-time (no ReDoS, no match limits),
//! and we do not add a backtracking engine; such patterns are a compile error naming `@rx`.
//! CRS 4 needs none of them (a test compiles every CRS `@rx`).
//!
//! Memory: each compiled regex owns a lazy-DFA cache that may grow up to `dfa_size_limit`
//! (per search direction); with ~320 CRS regexes the default (2 MiB each) could cost
//! hundreds of MiB of a wasm heap. We cap it at [`DFA_SIZE_LIMIT`] = 256 KiB. Measured with
//! regex-automata 0.4.19 (the engine behind `regex` 1.13) on the 318 `@rx` of CRS 4.28, the
//! minimum cache a lazy DFA needs is: median 2.7 KB, p90 19 KB, max 172 KB (sum 3.2 MB).
//! 128 KiB would leave 4 of them (the big PHP function-name lists) without a lazy DFA (they
//! would run on the slower PikeVM); 256 KiB covers all of them with headroom. Caches grow
//! only with the states traffic actually visits, and a full cache is cleared rather than
//! grown, so the hard ceiling is 318 × 256 KiB per direction while typical use is far lower
//! (to be measured on the wasm heap). The compiled program size is capped at [`SIZE_LIMIT`]
//! (8 MiB), which every CRS regex fits (a test compiles them all).

use regex::bytes::{Regex, RegexBuilder};

use super::{OpOutput, Operator};

/// Lazy-DFA cache budget per compiled regex, in bytes.
pub const DFA_SIZE_LIMIT: usize = 256 * 1024;
/// Limit on the compiled size of one regex, in bytes.
pub const SIZE_LIMIT: usize = 8 * 1024 * 1024;
/// Highest capture group copied into `TX` by `@rx` (`TX:0` … `TX:9`, as ModSecurity does).
const MAX_GROUP: usize = 9;
/// Cap on the number of captures `@rxGlobal` collects for one value (ModSecurity has none;
/// an empty-matching pattern over a large body would otherwise allocate one per byte).
pub const RX_GLOBAL_MAX_CAPTURES: usize = 1000;

/// Rewrites `\x{H}` / `\x{HH}` to `\xHH` (byte escapes) and leaves everything else as is.
/// Escaped backslashes (`\\x{41}`) are copied untouched.
pub fn rewrite_hex_escapes(pattern: &str) -> String {
    let b = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        // b[i] is a backslash: look at what it escapes.
        if b.get(i + 1) == Some(&b'x') && b.get(i + 2) == Some(&b'{') {
            let digits_start = i + 3;
            let mut j = digits_start;
            while j < b.len() && b[j].is_ascii_hexdigit() && j - digits_start < 3 {
                j += 1;
            }
            let n = j - digits_start;
            if (1..=2).contains(&n) && b.get(j) == Some(&b'}') {
                out.push_str(&pattern[copied..i]);
                out.push_str("\\x");
                if n == 1 {
                    out.push('0');
                }
                out.push_str(&pattern[digits_start..j]);
                i = j + 1;
                copied = i;
                continue;
            }
        }
        // Skip the escaped character (ASCII here; a multi-byte one is skipped byte by byte,
        // which is harmless since no continuation byte is a backslash).
        i += 2;
    }
    out.push_str(&pattern[copied.min(pattern.len())..]);
    out
}

/// Compiles `pattern` the way `@rx` does; `op` names the operator in errors.
pub fn build_regex(op: &str, pattern: &str) -> Result<Regex, String> {
    let pattern = if pattern.is_empty() { ".*" } else { pattern };
    RegexBuilder::new(&rewrite_hex_escapes(pattern))
        .unicode(false)
        .dot_matches_new_line(true)
        .multi_line(true)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(DFA_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("@{op}: invalid regular expression {pattern:?}: {e}"))
}

/// Copies the groups of one match into `dst`: groups 0..=`max` up to the highest group
/// that participated (PCRE's `rc`); a group in between that did not participate is empty.
fn push_groups(caps: &regex::bytes::Captures<'_>, max: usize, dst: &mut Vec<Vec<u8>>) {
    let last = (0..caps.len().min(max.saturating_add(1)))
        .rev()
        .find(|&i| caps.get(i).is_some())
        .unwrap_or(0);
    for i in 0..=last {
        dst.push(
            caps.get(i)
                .map(|m| m.as_bytes().to_vec())
                .unwrap_or_default(),
        );
    }
}

/// `@rx`: matches when the regex matches anywhere in the value; captures `TX:0..=9`.
#[derive(Debug)]
pub struct Rx {
    re: Regex,
    /// Whether the pattern has groups (computed once: `captures_len` is not free).
    has_groups: bool,
}

impl Rx {
    /// Compiles `@rx` with `pattern`.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let re = build_regex("rx", pattern)?;
        Ok(Self {
            has_groups: re.captures_len() > 1,
            re,
        })
    }
}

impl Operator for Rx {
    fn matches(&self, input: &[u8], out: &mut OpOutput) -> bool {
        // Most values do not match: decide that first (`is_match` needs no `Captures`
        // allocation and may stop at the first match state); only a match pays for the
        // match position and groups. `matched` stays `None` without `capture` (the engine's
        // log line shows the whole matched value in any case). Measured: a separate matcher
        // built without literal prefilters saved only ~2 % more on CRS, not worth a second
        // compiled program per regex on the wasm heap.
        if !self.re.is_match(input) {
            return false;
        }
        if !out.want_captures {
            return true;
        }
        if self.has_groups {
            let Some(caps) = self.re.captures(input) else {
                return false;
            };
            push_groups(&caps, MAX_GROUP, &mut out.captures);
            out.matched = caps.get(0).map(|m| m.as_bytes().to_vec());
            return true;
        }
        let Some(m) = self.re.find(input) else {
            return false;
        };
        out.captures.push(m.as_bytes().to_vec());
        out.matched = Some(m.as_bytes().to_vec());
        true
    }
}

/// `@rxGlobal`: like `@rx`, but captures the groups of every match, numbered one after the
/// other (`TX:0` is the first match, then its groups, then the second match, …), as
/// libmodsecurity's `Regex::searchGlobal` numbers them.
///
/// Empty matches are reported only when they are the first match (so `[a-z]*` over
/// `aaa00bbb` captures `aaa`, `bbb`, and `([a-z]*)` over the empty value captures `""`),
/// which is what ModSecurity's test set expects (`rxGlobal.json`); libmodsecurity's
/// `searchGlobal` would also number the empty matches in between. A group that did not
/// take part in a match is captured as empty (libmodsecurity skips it). At most
/// [`RX_GLOBAL_MAX_CAPTURES`] captures are kept.
#[derive(Debug)]
pub struct RxGlobal {
    re: Regex,
}

impl RxGlobal {
    /// Compiles `@rxGlobal` with `pattern`.
    pub fn new(pattern: &str) -> Result<Self, String> {
        Ok(Self {
            re: build_regex("rxGlobal", pattern)?,
        })
    }
}

impl Operator for RxGlobal {
    fn matches(&self, input: &[u8], out: &mut OpOutput) -> bool {
        if !out.want_captures {
            return match self.re.find(input) {
                Some(m) => {
                    out.matched = Some(m.as_bytes().to_vec());
                    true
                }
                None => false,
            };
        }
        let mut found = false;
        for caps in self.re.captures_iter(input) {
            let Some(m0) = caps.get(0) else { continue };
            if found && m0.is_empty() {
                continue;
            }
            if !found {
                out.matched = Some(m0.as_bytes().to_vec());
            }
            found = true;
            push_groups(&caps, usize::MAX, &mut out.captures);
            if out.captures.len() >= RX_GLOBAL_MAX_CAPTURES {
                out.captures.truncate(RX_GLOBAL_MAX_CAPTURES);
                break;
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_escape_rewrite() {
        assert_eq!(rewrite_hex_escapes(r"a\x{c2}\x{5}b"), r"a\xc2\x05b");
        assert_eq!(rewrite_hex_escapes(r"\\x{41}"), r"\\x{41}");
        assert_eq!(rewrite_hex_escapes(r"\x{100}"), r"\x{100}");
        assert_eq!(rewrite_hex_escapes(r"é\x{e9}\"), r"é\xe9\");
    }

    #[test]
    fn byte_escape_matches_single_byte() {
        let op = Rx::new(r"^\x{c2}$").unwrap();
        let mut out = OpOutput::default();
        assert!(op.matches(&[0xc2], &mut out));
        assert!(!op.matches("\u{c2}".as_bytes(), &mut out));
    }

    #[test]
    fn multiline_and_dotall() {
        let mut out = OpOutput::default();
        assert!(Rx::new("^b$").unwrap().matches(b"a\nb\nc", &mut out));
        assert!(Rx::new("a.b").unwrap().matches(b"a\nb", &mut out));
    }

    #[test]
    fn lookaround_is_an_error_naming_rx() {
        let e = Rx::new("a(?!b)").unwrap_err();
        assert!(e.starts_with("@rx:"), "{e}");
    }

    #[test]
    fn rx_captures_up_to_nine_groups() {
        let op = Rx::new("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)").unwrap();
        let mut out = OpOutput {
            want_captures: true,
            ..Default::default()
        };
        assert!(op.matches(b"abcdefghijk", &mut out));
        assert_eq!(out.captures.len(), 10);
        assert_eq!(out.captures[9], b"i");
    }
}
