//! `@rx` and `@rxGlobal`: regular expression match, on the meta regex engine of
//! `regex-automata` (the engine behind `regex::bytes`; linear time).
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
//!
//! Strategy: when the meta engine picks its reverse-inner strategy (no prefix literal, an
//! inner one such as CRS 941120's `on`), we build the regex again without literal
//! strategies, i.e. the forward lazy DFA. Reverse-inner gives up on text where the inner
//! literal recurs ("cotton", "colours": its quadratic guard) and then runs the PikeVM, at
//! ~2.4 µs per 180-byte sentence for 941120 alone; the lazy DFA scans it in a fraction of
//! that (−4 % instructions on the 20 KB JSON request, GET and form unchanged).
//!
//! Build cost (configure time): `@rx` and `@rxGlobal` build a `regex_automata::meta::Regex`
//! (the engine `regex::bytes::Regex` wraps, configured as `RegexBuilder` configures it) from
//! a `Hir` we parse once ourselves. Profiling the 318 CRS 4.28 `@rx` showed a third of the
//! build in literal extraction for prefilters, mostly wasted on the big case-insensitive
//! keyword lists (`(?i)\b(?:a(?:bs|cos)|…)`): their prefix-literal sets overflow the
//! extractor's limits, so the meta engine ends up with no prefilter after paying for the
//! extraction (and for the reverse-suffix/inner attempts that also fail). For such patterns
//! (`skip_literal_extraction`) we turn automatic prefilters off, which builds the very
//! same engine (core strategy, lazy DFA, no prefilter) for less work: −16 % of `@rx` build
//! instructions on CRS (17 patterns), searches unchanged. Measured and dropped: building the
//! matching regex with implicit captures only (`WhichCaptures::Implicit`, with a capturing
//! twin built lazily) and turning off the one-pass DFA and the bounded backtracker: each
//! changed the build cost by < 0.1 % (capture states are cheap, and the one-pass DFA build
//! gives up early on patterns that are not one-pass).
//! `operators/verify.rs` still uses [`build_regex`] (a `regex::bytes::Regex`) for its
//! optional patterns; both paths parse with the same syntax settings.

use regex::bytes::{Regex, RegexBuilder};
use regex_automata::meta;
use regex_syntax::hir::{Class, Hir, HirKind};

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

/// The syntax settings of every `@rx` regex: bytes (no Unicode, `.` and classes match bytes,
/// `(?i)` is ASCII), `(?s)` and `(?m)`, as [`build_regex`] sets them on `RegexBuilder`.
fn syntax_config() -> regex_automata::util::syntax::Config {
    regex_automata::util::syntax::Config::new()
        .unicode(false)
        .utf8(false)
        .dot_matches_new_line(true)
        .multi_line(true)
}

/// The engine settings `regex::bytes::RegexBuilder` uses (leftmost-first, empty matches
/// anywhere), with our size and lazy-DFA cache limits.
fn meta_config() -> meta::Config {
    meta::Config::new()
        .match_kind(regex_automata::MatchKind::LeftmostFirst)
        .utf8_empty(false)
        .nfa_size_limit(Some(SIZE_LIMIT))
        .hybrid_cache_capacity(DFA_SIZE_LIMIT)
}

/// The error text of an invalid `@op` pattern (as `regex::Error` words it).
fn invalid(op: &str, pattern: &str, e: &dyn std::fmt::Display) -> String {
    let pattern = if pattern.is_empty() { ".*" } else { pattern };
    format!("@{op}: invalid regular expression {pattern:?}: {e}")
}

/// Parses `pattern` as `@rx` reads it (the `Hir` [`build_meta_from_hir`] compiles); other
/// analyses of the pattern can share this one parse. Errors read as [`build_regex`]'s.
pub fn parse_pattern(op: &str, pattern: &str) -> Result<Hir, String> {
    let pattern = if pattern.is_empty() { ".*" } else { pattern };
    regex_automata::util::syntax::parse_with(&rewrite_hex_escapes(pattern), &syntax_config())
        .map_err(|e| invalid(op, pattern, &e))
}

/// Compiles a pattern [`parse_pattern`] parsed (`pattern` only names it in errors), with no
/// literal extraction where `skip_literal_extraction` says it cannot pay off, and with the
/// forward lazy DFA instead of the reverse-inner strategy (see the module doc).
pub fn build_meta_from_hir(op: &str, pattern: &str, hir: &Hir) -> Result<meta::Regex, String> {
    let build = |prefilter: bool| {
        meta::Builder::new()
            .configure(meta_config().auto_prefilter(prefilter))
            .build_from_hir(hir)
            .map_err(|e| match e.size_limit() {
                // `regex::Error::CompiledTooBig` reads so.
                Some(limit) => invalid(
                    op,
                    pattern,
                    &format_args!("Compiled regex exceeds size limit of {limit} bytes."),
                ),
                None => invalid(op, pattern, &e),
            })
    };
    let re = build(!skip_literal_extraction(hir))?;
    if uses_reverse_inner(&re) {
        return build(false);
    }
    Ok(re)
}

/// Whether the meta engine chose its reverse-inner strategy for `re` (told by the start of
/// its `Debug` text, `Regex { imp: RegexI { strat: ReverseInner {`, formatted no further).
fn uses_reverse_inner(re: &meta::Regex) -> bool {
    use std::fmt::Write;
    struct Head(String);
    impl Write for Head {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.push_str(s);
            if self.0.len() >= 64 {
                return Err(std::fmt::Error);
            }
            Ok(())
        }
    }
    let mut head = Head(String::new());
    let _ = write!(head, "{re:?}");
    head.0.contains("strat: ReverseInner")
}

/// Compiles `pattern` like [`build_regex`], into the meta engine directly: one parse, and
/// no literal extraction where `skip_literal_extraction` says it cannot pay off. Errors read
/// exactly as [`build_regex`]'s.
pub fn build_meta(op: &str, pattern: &str) -> Result<meta::Regex, String> {
    build_meta_from_hir(op, pattern, &parse_pattern(op, pattern)?)
}

/// Leading alternatives from which a pattern counts as a keyword list.
const KEYWORD_LIST_MIN_BRANCHES: usize = 8;
/// Alternation branches, all levels counted, from which a case-insensitive keyword list
/// overflows the literal extractor (each letter doubles the literals, the extractor keeps
/// 250 at most).
const KEYWORD_LIST_MIN_TOTAL_BRANCHES: usize = 64;
/// Distinct first bytes from which prefix literals cannot make a useful prefilter.
const KEYWORD_LIST_MIN_FIRST_BYTES: usize = 24;
/// Depth at which the walks over a `Hir` give up (the parser's nest limit keeps real
/// patterns far below; giving up keeps literal extraction on).
const HIR_WALK_MAX_DEPTH: usize = 512;

/// Whether the meta engine's literal extraction is known to be wasted on `hir`: a large
/// case-insensitive keyword list. The pattern starts (after assertions and groups) with an
/// alternation of at least [`KEYWORD_LIST_MIN_BRANCHES`] branches, has at least
/// [`KEYWORD_LIST_MIN_TOTAL_BRANCHES`] branches in all, cannot match the empty string, and
/// a match starts with one of at least [`KEYWORD_LIST_MIN_FIRST_BYTES`] distinct bytes, a
/// set that holds every letter in both cases (`(?i)`).
///
/// Measured on CRS 4.28 (regex-automata 0.4.19): the 17 patterns this selects all get the
/// core strategy without any prefilter when extraction is on, and the engine built with
/// extraction off is the same (identical `Debug` dump), so only the build changes (they
/// are 30 % of CRS `@rx` build time). Looser rules also catch patterns where the engine
/// finds a prefix, reverse-suffix or reverse-inner prefilter, which we must keep; the
/// case-insensitive and size conditions keep case-sensitive or short lists (real prefix
/// literals) out.
fn skip_literal_extraction(hir: &Hir) -> bool {
    // Cheapest tests first: the leading alternation, then the first bytes (a walk over the
    // start of the pattern), then the branch count (stops once enough are seen).
    if leading_alternation_len(hir) < KEYWORD_LIST_MIN_BRANCHES {
        return false;
    }
    let mut set = [false; 256];
    if first_bytes(hir, &mut set, 0) != Some(false) {
        return false;
    }
    let both_cases = |c: u8| set[usize::from(c)] == set[usize::from(c.to_ascii_uppercase())];
    if set.iter().filter(|&&b| b).count() < KEYWORD_LIST_MIN_FIRST_BYTES
        || !(b'a'..=b'z').all(both_cases)
    {
        return false;
    }
    let mut wanted = KEYWORD_LIST_MIN_TOTAL_BRANCHES;
    has_branches(hir, &mut wanted, 0) == Some(true)
}

/// Whether `hir` has `*wanted` alternation branches, all levels counted: counts them down
/// and stops at zero (`None` past [`HIR_WALK_MAX_DEPTH`]).
fn has_branches(hir: &Hir, wanted: &mut usize, depth: usize) -> Option<bool> {
    if depth > HIR_WALK_MAX_DEPTH {
        return None;
    }
    let subs: &[Hir] = match hir.kind() {
        HirKind::Alternation(xs) => {
            *wanted = wanted.saturating_sub(xs.len());
            xs
        }
        HirKind::Concat(xs) => xs,
        HirKind::Capture(c) => std::slice::from_ref(&*c.sub),
        HirKind::Repetition(r) => std::slice::from_ref(&*r.sub),
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => &[],
    };
    for x in subs {
        if *wanted == 0 {
            break;
        }
        has_branches(x, wanted, depth + 1)?;
    }
    Some(*wanted == 0)
}

/// Number of branches of the alternation `hir` starts with (0 when it starts otherwise),
/// looking through groups and zero-width assertions.
fn leading_alternation_len(mut hir: &Hir) -> usize {
    loop {
        hir = match hir.kind() {
            HirKind::Capture(c) => &c.sub,
            HirKind::Concat(xs) => {
                match xs.iter().find(|x| !matches!(x.kind(), HirKind::Look(_))) {
                    Some(x) => x,
                    None => return 0,
                }
            }
            HirKind::Alternation(xs) => return xs.len(),
            _ => return 0,
        }
    }
}

/// Marks in `set` the bytes a match of `hir` can start with; returns whether `hir` can
/// match the empty string (then what follows it can start a match too), or `None` past
/// [`HIR_WALK_MAX_DEPTH`].
fn first_bytes(hir: &Hir, set: &mut [bool; 256], depth: usize) -> Option<bool> {
    if depth > HIR_WALK_MAX_DEPTH {
        return None;
    }
    Some(match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(lit) => match lit.0.first() {
            Some(&b) => {
                set[usize::from(b)] = true;
                false
            }
            None => true,
        },
        HirKind::Class(Class::Bytes(c)) => {
            for r in c.ranges() {
                for b in r.start()..=r.end() {
                    set[usize::from(b)] = true;
                }
            }
            false
        }
        // Only with `(?u)` in the pattern: ASCII as is, anything else by its possible
        // leading UTF-8 bytes (an over-approximation is fine for a heuristic).
        HirKind::Class(Class::Unicode(c)) => {
            for r in c.ranges() {
                let (lo, hi) = (u32::from(r.start()), u32::from(r.end()));
                for b in lo..=hi.min(0x7f) {
                    set[b as usize] = true;
                }
                if hi >= 0x80 {
                    set[0xc2..=0xf4].fill(true);
                }
            }
            false
        }
        HirKind::Repetition(rep) => {
            let nullable = first_bytes(&rep.sub, set, depth + 1)?;
            rep.min == 0 || nullable
        }
        HirKind::Capture(c) => first_bytes(&c.sub, set, depth + 1)?,
        HirKind::Concat(xs) => {
            for x in xs {
                if !first_bytes(x, set, depth + 1)? {
                    return Some(false);
                }
            }
            true
        }
        HirKind::Alternation(xs) => {
            let mut nullable = false;
            for x in xs {
                nullable |= first_bytes(x, set, depth + 1)?;
            }
            nullable
        }
    })
}

/// Copies the groups of one match into `dst`: groups 0..=`max` up to the highest group
/// that participated (PCRE's `rc`); a group in between that did not participate is empty.
fn push_groups(
    caps: &regex_automata::util::captures::Captures,
    input: &[u8],
    max: usize,
    dst: &mut super::Captures,
) {
    let group = |i: usize| caps.get_group(i).and_then(|sp| input.get(sp.range()));
    let last = (0..caps.group_len().min(max.saturating_add(1)))
        .rev()
        .find(|&i| group(i).is_some())
        .unwrap_or(0);
    for i in 0..=last {
        dst.push(group(i).unwrap_or_default());
    }
}

/// `@rx`: matches when the regex matches anywhere in the value; captures `TX:0..=9`.
#[derive(Debug)]
pub struct Rx {
    re: meta::Regex,
    /// Whether the pattern has groups (computed once: `captures_len` is not free).
    has_groups: bool,
    /// The pattern is `^.*$`, which (`.` matching every byte) matches every value whole:
    /// the regex engine's searches are skipped. CRS has it 16 times (920450 captures each
    /// request header name with it).
    whole: bool,
    /// Literals every match contains one of (see [`crate::prefilter`]), from the same parse.
    required: Option<Vec<Vec<u8>>>,
    /// Literals every match in a plain value contains one of, when `required` is no use
    /// ([`crate::prefilter::plain_literals_of`]).
    plain: Option<Vec<Vec<u8>>>,
    /// Rare bytes every match contains one of ([`crate::prefilter::required_bytes_of`]):
    /// a value with none of them is not handed to the regex engine.
    bytes: Option<crate::prefilter::RequiredBytes>,
    /// The shortest match's length (bytes: Unicode is off).
    min_len: usize,
    /// Classes a value needs to match ([`Operator::needs_classes`]), from `required`.
    needs: u32,
    /// Every match starts at a line start (`^` in multi-line mode, e.g. CRS 920330's `^$`
    /// on `User-Agent`): in a value without `\n`, that is its start only, and the search
    /// is anchored there rather than trying every position (for `^$` the lazy DFA walked the
    /// whole value: ~750 instructions for a browser's `User-Agent`).
    line_start: bool,
}

impl Rx {
    /// Compiles `@rx` with `pattern`.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let hir = parse_pattern("rx", pattern)?;
        let re = build_meta_from_hir("rx", pattern, &hir)?;
        let required = crate::prefilter::required_literals_of(&hir);
        let plain = match &required {
            Some(r) if crate::prefilter::useful(r) => None,
            _ => crate::prefilter::plain_literals_of(&hir),
        };
        Ok(Self {
            has_groups: re.captures_len() > 1,
            whole: pattern == "^.*$",
            plain,
            bytes: crate::prefilter::required_bytes_of(&hir),
            min_len: hir.properties().minimum_len().unwrap_or(0),
            line_start: hir
                .properties()
                .look_set_prefix()
                .contains(regex_syntax::hir::Look::StartLF),
            needs: required
                .as_deref()
                .map_or(0, crate::prefilter::classes_needed),
            required,
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
        if self.whole {
            // The whole value matched: `matched` stays `None`, which stands for it.
            if out.want_captures {
                out.captures.push(input);
            }
            return true;
        }
        if self.bytes.is_some_and(|b| !b.any_in(input)) || !self.is_match(input) {
            return false;
        }
        if !out.want_captures {
            return true;
        }
        self.capture(input, out)
    }

    fn required_literals(&self) -> Option<Vec<Vec<u8>>> {
        self.required.clone()
    }

    fn plain_literals(&self) -> Option<Vec<Vec<u8>>> {
        self.plain.clone()
    }

    fn min_len(&self) -> usize {
        self.min_len
    }

    fn needs_classes(&self) -> u32 {
        self.needs
    }
}

impl Rx {
    /// Whether the regex matches `input`; anchored at its start when every match starts at
    /// a line start and `input` has but one line (see [`Rx::line_start`]).
    fn is_match(&self, input: &[u8]) -> bool {
        if self.line_start && memchr::memchr(b'\n', input).is_none() {
            let anchored =
                regex_automata::Input::new(input).anchored(regex_automata::Anchored::Yes);
            return self.re.is_match(anchored);
        }
        self.re.is_match(input)
    }

    /// The match position and groups of a value `is_match` accepted (out of line: the hot
    /// path is `is_match` alone, which is then as lean as `regex::bytes::Regex::is_match`).
    #[inline(never)]
    fn capture(&self, input: &[u8], out: &mut OpOutput) -> bool {
        if self.has_groups {
            let mut caps = self.re.create_captures();
            self.re.captures(input, &mut caps);
            if !caps.is_match() {
                return false;
            }
            push_groups(&caps, input, MAX_GROUP, &mut out.captures);
            out.matched = caps
                .get_match()
                .and_then(|m| input.get(m.range()))
                .map(<[u8]>::to_vec);
            return true;
        }
        let Some(m) = self.re.find(input).and_then(|m| input.get(m.range())) else {
            return false;
        };
        out.captures.push(m);
        out.matched = Some(m.to_vec());
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
    re: meta::Regex,
}

impl RxGlobal {
    /// Compiles `@rxGlobal` with `pattern`.
    pub fn new(pattern: &str) -> Result<Self, String> {
        Ok(Self {
            re: build_meta("rxGlobal", pattern)?,
        })
    }
}

impl Operator for RxGlobal {
    fn matches(&self, input: &[u8], out: &mut OpOutput) -> bool {
        if !out.want_captures {
            return match self.re.find(input).and_then(|m| input.get(m.range())) {
                Some(m) => {
                    out.matched = Some(m.to_vec());
                    true
                }
                None => false,
            };
        }
        let mut found = false;
        for caps in self.re.captures_iter(input) {
            let Some(m0) = caps.get_match() else { continue };
            if found && m0.is_empty() {
                continue;
            }
            if !found {
                out.matched = input.get(m0.range()).map(<[u8]>::to_vec);
            }
            found = true;
            push_groups(&caps, input, usize::MAX, &mut out.captures);
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
    fn line_start_patterns_match_on_every_line() {
        // Anchored at the value's start when it has one line; every line start otherwise.
        let cases: [(&str, &[u8], bool); 8] = [
            ("^$", b"", true),
            ("^$", b"Mozilla/5.0", false),
            ("^$", b"a\n", true),
            ("^$", b"a\n\nb", true),
            ("^(?:GET|HEAD)$", b"GET", true),
            ("^(?:GET|HEAD)$", b"xGET", false),
            ("^b", b"a\nb", true),
            ("^b", b"ab", false),
        ];
        for (p, v, want) in cases {
            let rx = Rx::new(p).unwrap();
            assert!(rx.line_start, "{p}");
            assert_eq!(
                rx.matches(v, &mut OpOutput::default()),
                want,
                "{p} on {v:?}"
            );
            assert_eq!(
                build_regex("rx", p).unwrap().is_match(v),
                want,
                "{p} on {v:?}"
            );
        }
        assert!(!Rx::new("(?:^|a)b").unwrap().line_start);
    }

    #[test]
    fn reverse_inner_is_replaced_by_the_forward_lazy_dfa() {
        // CRS 941120: its inner literal `on` is in most English text.
        let p = r#"(?i)[\t-\r \"'\(,/-9;=`]on[a-z]{3,50}[\t-\r \(,;]*?=[^=]"#;
        let hir = parse_pattern("rx", p).unwrap();
        let default = meta::Builder::new()
            .configure(meta_config())
            .build_from_hir(&hir)
            .unwrap();
        assert!(
            uses_reverse_inner(&default),
            "regex-automata no longer picks (or no longer names) its reverse-inner strategy here"
        );
        let ours = build_meta_from_hir("rx", p, &hir).unwrap();
        assert!(!uses_reverse_inner(&ours));
        for s in [
            &b"A soft everyday shirt made of organic cotton. Ships within two days."[..],
            b"<img src=x onerror=alert(1)>",
            b"\" onmouseover =x",
            b"on",
            b"",
        ] {
            assert_eq!(
                ours.is_match(s),
                default.is_match(s),
                "{:?}",
                String::from_utf8_lossy(s)
            );
        }
    }

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
    fn match_all_pattern_captures_the_whole_value_as_the_engine_would() {
        // `^.*$` is answered without the regex engine: same verdict and capture as the
        // general `^.*$` and as the engine on a pattern it does not shortcut.
        let whole = Rx::new("^.*$").unwrap();
        let general = Rx::new("^(?:.*)$").unwrap();
        for v in [&b"x-request-id"[..], b"", b"two\nlines\n", b"\xff\x00bin"] {
            let mut a = OpOutput {
                want_captures: true,
                ..Default::default()
            };
            let mut b = a.clone();
            assert!(whole.matches(v, &mut a));
            assert!(general.matches(v, &mut b));
            assert_eq!(a.captures, b.captures, "{v:?}");
            assert_eq!(a.captures.to_vecs(), [v.to_vec()]);
            // `None` stands for the whole value.
            assert_eq!(
                a.matched.as_deref().unwrap_or(v),
                b.matched.as_deref().unwrap_or(v)
            );
        }
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
        assert_eq!(out.captures.get(9), Some(&b"i"[..]));
    }

    /// A CRS-style case-insensitive keyword list (`\b(?:…)`, 16 first letters, 96 branches),
    /// with one group (`m`); `case` is `(?i)` or empty.
    fn keywords(case: &str) -> String {
        let alts: Vec<String> = (b'a'..=b'p')
            .map(|c| match c {
                b'm' => "(m)(?:ax|in|od|id|onth)".to_owned(),
                _ => format!("{}(?:bs|cos|in|ax|ength)", char::from(c)),
            })
            .collect();
        format!(r"{case}\b(?:{})\W*\(", alts.join("|"))
    }

    #[test]
    fn keyword_lists_skip_literal_extraction_and_others_do_not() {
        let parse = |p: &str| {
            regex_automata::util::syntax::parse_with(&rewrite_hex_escapes(p), &syntax_config())
                .unwrap()
        };
        assert!(skip_literal_extraction(&parse(&keywords("(?i)"))));
        // Case-sensitive lists, short lists, few first bytes, or a leading class:
        // extraction stays on (these get prefix, reverse-suffix or reverse-inner prefilters).
        assert!(!skip_literal_extraction(&parse(&keywords(""))));
        assert!(!skip_literal_extraction(&parse(
            "(?i)(?:abs|bin|cos|date|exp|field|group|hex|instr|length|max|now|ord|pi)"
        )));
        assert!(!skip_literal_extraction(&parse("(?i)(?:select|union)")));
        assert!(!skip_literal_extraction(&parse(
            "(?:aa|ab|ac|ad|ae|af|ag|ah|ai)"
        )));
        assert!(!skip_literal_extraction(&parse(
            r"(?i)[a-z]+=(?:[^:=]+:[^;]+;)*?[^:=]+:url\(javascript"
        )));
        assert!(!skip_literal_extraction(&parse(
            r"(?:^|[^\x5c])\x5c[cdeghijklmpqwxyz]"
        )));
    }

    #[test]
    fn meta_build_matches_like_regex_bytes() {
        let kw = keywords("(?i)");
        let cases: &[(&str, &[&[u8]])] = &[
            (
                &kw,
                &[
                    b"x=CONCAT (1)",
                    b"xcos(",
                    b"Max(",
                    b"nothing",
                    b"a\nlength\n(",
                ],
            ),
            (r"^b$", &[b"a\nb\nc", b"ab"]),
            (r"a.b", &[b"a\nb", b"a\xffb", b"ab"]),
            (r"(?i)\x{c2}Z", &[b"\xc2z", "\u{c2}z".as_bytes()]),
            (r"([a-z]+)=(\d+)?", &[b"..key=1", b"key=", b"=1"]),
            ("", &[b"", b"abc"]),
        ];
        for (pattern, inputs) in cases {
            let old = build_regex("rx", pattern).unwrap();
            let new = build_meta("rx", pattern).unwrap();
            for &input in inputs.iter() {
                assert_eq!(
                    old.is_match(input),
                    new.is_match(input),
                    "{pattern} {input:?}"
                );
                let old_caps = old
                    .captures(input)
                    .map(|c| c.iter().map(|g| g.map(|m| m.range())).collect::<Vec<_>>());
                let mut caps = new.create_captures();
                new.captures(input, &mut caps);
                let new_caps = caps.is_match().then(|| {
                    (0..caps.group_len())
                        .map(|i| caps.get_group(i).map(|s| s.range()))
                        .collect::<Vec<_>>()
                });
                assert_eq!(old_caps, new_caps, "{pattern} {input:?}");
            }
        }
    }

    #[test]
    fn meta_build_errors_read_as_before() {
        for pattern in [
            "a(?!b)",
            "(abc",
            "[z-a]",
            r"\1",
            "a{2,1}",
            r"(?:\w{100}){1000}",
        ] {
            let old = build_regex("rxGlobal", pattern).unwrap_err();
            let new = build_meta("rxGlobal", pattern).unwrap_err();
            assert_eq!(old, new);
            assert!(
                new.starts_with("@rxGlobal: invalid regular expression"),
                "{new}"
            );
        }
    }

    #[test]
    fn keyword_list_capture_sets_groups() {
        let op = Rx::new(&keywords("(?i)")).unwrap();
        let mut out = OpOutput {
            want_captures: true,
            ..Default::default()
        };
        assert!(op.matches(b"id=1 or MAX (2)", &mut out));
        assert_eq!(
            out.captures.to_vecs(),
            vec![b"MAX (".to_vec(), b"M".to_vec()]
        );
        assert_eq!(out.matched.as_deref(), Some(&b"MAX ("[..]));
        let mut out = OpOutput {
            want_captures: true,
            ..Default::default()
        };
        assert!(op.matches(b"x=CIN(1)", &mut out));
        // Group 1 did not take part: only TX:0, as PCRE's `rc` says.
        assert_eq!(out.captures.to_vecs(), vec![b"CIN(".to_vec()]);
        assert!(!op.matches(b"maximum", &mut OpOutput::default()));
    }

    #[test]
    fn rx_global_numbers_every_match() {
        let op = RxGlobal::new("([a-z])([0-9])?").unwrap();
        let mut out = OpOutput {
            want_captures: true,
            ..Default::default()
        };
        assert!(op.matches(b"a1-b", &mut out));
        assert_eq!(
            out.captures.to_vecs(),
            vec![
                b"a1".to_vec(),
                b"a".to_vec(),
                b"1".to_vec(),
                b"b".to_vec(),
                b"b".to_vec()
            ]
        );
        assert_eq!(out.matched.as_deref(), Some(&b"a1"[..]));
    }

    /// The CRS `@rx` parameters, read through `RuleSet::compile` (`CRS_DIR`, or
    /// `shared/crs/v4.28.0` above the crate).
    fn crs_rx_params() -> Vec<String> {
        let dir = std::env::var("CRS_DIR").map_or_else(
            |_| {
                let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
                manifest
                    .ancestors()
                    .map(|a| a.join("shared/crs/v4.28.0"))
                    .find(|d| d.is_dir())
                    .expect("no shared/crs/v4.28.0 above the crate; set CRS_DIR")
            },
            std::path::PathBuf::from,
        );
        let mut files = crate::FileSet::new();
        files.insert(
            "crs/crs-setup.conf",
            std::fs::read(dir.join("crs-setup.conf.example")).expect("crs-setup"),
        );
        for entry in std::fs::read_dir(dir.join("rules"))
            .expect("rules dir")
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            files.insert(
                format!("crs/rules/{name}"),
                std::fs::read(entry.path()).unwrap(),
            );
        }
        let text = "Include crs/crs-setup.conf\nInclude crs/rules/*.conf\n";
        let set = crate::RuleSet::compile("main", text, &files).expect("CRS compiles");
        let mut params = Vec::new();
        for rule in &set.rules {
            let mut link = Some(rule);
            while let Some(r) = link {
                if let Some(op) = r.op.as_ref().filter(|op| op.name == "rx") {
                    params.push(op.param.clone());
                }
                link = r.chained.as_deref();
            }
        }
        params
    }

    /// On the CRS patterns the keyword-list rule selects, the engine built without literal
    /// extraction is the one built with it: same `Debug` dump (strategy, prefilters, NFAs),
    /// the prefilter setting aside. Guards that claim across regex-automata upgrades.
    #[test]
    fn crs_keyword_lists_build_the_same_engine_without_extraction() {
        let dump = |hir: &Hir, extract: bool| {
            let re = meta::Builder::new()
                .configure(meta_config().auto_prefilter(extract))
                .build_from_hir(hir)
                .unwrap();
            format!("{re:?}").replace(&format!("autopre: Some({extract})"), "")
        };
        let params = crs_rx_params();
        assert!(params.len() > 300, "{} CRS @rx", params.len());
        let mut selected = 0;
        for p in &params {
            let hir =
                regex_automata::util::syntax::parse_with(&rewrite_hex_escapes(p), &syntax_config())
                    .unwrap();
            if skip_literal_extraction(&hir) {
                selected += 1;
                assert!(
                    dump(&hir, true) == dump(&hir, false),
                    "engines differ for {p}"
                );
            }
        }
        assert!(selected >= 15, "{selected} CRS keyword lists");
    }
}
