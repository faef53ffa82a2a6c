//! Rule prefilter: rules whose operator cannot match any of their values are not evaluated.
//!
//! CRS runs hundreds of `@rx` and `@pm` rules over the same few values (arguments, headers,
//! cookies, the file name) with the same few transformation chains, and on benign traffic
//! nearly all of them fail. For each such operator we derive at configure time a set of
//! literals of which every match must contain at least one (compared ASCII-case-insensitively).
//! The rules of one section of a phase (up to the next marker or skipping rule, so a group's
//! rules are reached together, e.g. one CRS paranoia level of one file; sections behind equal
//! guards count as one, see `Section`) that share their transformation chain (up to a
//! trailing case mapping, see `scan_chain`) form a [`Group`] with one Aho-Corasick automaton
//! over all their literals. At run time, when the first rule of a group is reached, one pass
//! of the automaton over each value of the group's targets, transformed, marks the rules that
//! read that variable and may match; the others are skipped as non-matches. The scan also
//! records in which values (by slot) each rule's literals were found, and a marked rule's
//! operator then runs on those values only (plus values without a slot): on the 20 KB JSON
//! request, a literal in one of ~350 values no longer sends all of them through the rule
//! (measured, callgrind, PL1: −3.7 % instructions on the JSON request, −4 % on the form).
//! The groups of one section (different chains) form a [`Cluster`]: a value that a group's
//! chain leaves unchanged, which on benign traffic is most values for most chains, is
//! scanned once for all such groups with an automaton over all their literals (measured,
//! callgrind, PL1: −8 % instructions on the JSON request, −6 % on the form, +0.7 % on the
//! GET, whose few short values gain less than the gathering costs). A cluster is scanned
//! value by value over the union of its groups' targets ([`Cluster::targets`]): each value
//! is fetched and classified once and scanned at once, where gathering the raw values of
//! every group first (deduplicated in a hash map) cost more than the scans (measured,
//! callgrind, PL1: GET −8 %, form −9 %, JSON −6 %). Whether a chain leaves a value
//! unchanged is told by the value's byte classes ([`crate::transformations::classes`])
//! without running it, and up to ASCII case, which a case-insensitive scan does not see
//! ([`crate::transformations::case_blind_triggers`]: `cmdLine` on `Comfortable` only
//! lower-cases it). Measured (callgrind, PL1): 20 KB JSON −4.4 %, form −1.1 %.
//!
//! Why this is sound (no attack let through by the shortcut):
//! - A literal set is a necessary condition: [`required_literals_of`] follows the regex's
//!   syntax tree and only ever claims "every match contains one of these strings"
//!   (a literal is required, an alternation requires one of its branches' sets, a repetition
//!   with minimum ≥ 1 requires its body's set, consecutive fixed pieces of a concatenation
//!   form longer literals). Case folding only widens the set of haystacks that pass.
//! - A group scans a superset of the values each member sees: the union of the members'
//!   targets, without their exclusions (`!ARGS:x`, also from `SecRuleUpdateTargetById`, and
//!   `ctl:ruleRemoveTargetBy*` at run time only remove values), transformed with the very
//!   chain the rule uses.
//! - Only variables that no action can change during a phase are eligible (arguments,
//!   headers, cookies, bodies, URI parts, files, XML), and a group never spans phases; a rule
//!   reading `TX`, `MATCHED_VARS`, counts (`&ARGS`) and the like is always evaluated. So are
//!   negated operators and operators with macros in their parameter. A `multiMatch` rule
//!   also runs its operator on the chain's intermediate values: it is marked for every value
//!   the chain may change ([`Group::credit_multi`]).
//!   The one exception, a `ctl` that shows or hides `REQUEST_BODY` (`requestBodyProcessor`,
//!   `forceRequestBodyVariable`) mid-phase, makes every group scan again when next reached.
//! - A rule that does not match has no effect in the engine but clearing `MATCHED_VARS`,
//!   which the caller still does for a skipped rule; a value that does not match has none.
//!   A value's slot names the same member and the same transformed bytes for the scan and
//!   for the rule (the chain is the rule's, up to a trailing case mapping).
//!
//! Cargo feature `prefilter-check` evaluates every skipped rule and value anyway and panics
//! if one matches; `make conformance` runs the engine suites (CRS and ModSecurity's) that way.
//!
//! What pays (measured with callgrind on CRS 4.28): a group of one rule alone in its section
//! costs about what the rule itself does, so it is dissolved (see `MIN_GROUP`); literal sets
//! over `MAX_REQUIRED` are dropped (their automata cost more memory than they save time), and
//! so are sets with a lone letter or digit (CRS 932230's `7`, `a`, `b`…): nearly every value
//! contains one, so the rule runs anyway after the scan reported a match at most bytes (−7 %
//! instructions on the 20 KB JSON request, −2 % on the form; other single bytes, such as `-` or
//! `/`, and two-letter literals are selective enough to keep).
//!
//! Patterns whose every match needs only single letters (CRS's evasion-tolerant command
//! patterns, `c["'\\]*u["'\\]*r…`) get literals that hold for plain values, made only of
//! letters, digits, space and `.,-_/:` ([`plain_literals_of`]): such a value must hold a whole
//! word of the pattern, any other value marks the rule whatever it holds. 8 of CRS 4.28's
//! `@rx` gain a set so (932230, 932250, 932260, 941210…) and 2 never match a plain value;
//! one-byte sets (` `, `-`, 6 PL2+ rules) are left out, being in most plain values. A
//! cluster checks a value for other bytes once for all its groups. Measured (callgrind): PL1
//! GET −3 %, form −11 %, 20 KB JSON −7 %; PL4 form −5 %, JSON −2 %; configure +5 %
//! instructions, automata +0.2 MB.
//!
//! `REQUEST_BODY`, one large value read by few members of its groups (CRS 921110, 931110
//! among rules on arguments), is scanned per group with an automaton over the literals of
//! the members that read it ([`BodyScan`]), never in a cluster's shared scan. Measured
//! (callgrind, PL1, with the body borrowed rather than copied per read): 20 KB JSON −5.9 %.
//!
//! The idea is RE2's `FilteredRE2` and Hyperscan's literal factors. The `regex` crate's own
//! prefilter works per regex and per call; no maintained crate derives required literals for
//! many regexes to run them as one automaton, hence this module.

use std::collections::HashMap;

use aho_corasick::automaton::Automaton;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Anchored, MatchKind};
use regex_syntax::hir::{Class, Hir, HirKind};

use crate::rules::{Rule, RuleSet, Runs};
use crate::variables::{Selector, Target, Var};

/// Most strings an exact set (all strings a piece of a regex can match) may hold.
const MAX_EXACT: usize = 64;
/// Longest string an exact set may hold.
const MAX_LEN: usize = 32;
/// Most repetitions (`x{1,4}`) of an exact piece that still give an exact set.
const MAX_REPEAT: u32 = 4;
/// Most distinct bytes (after ASCII lower-casing) a class may have to count as exact.
const MAX_CLASS: usize = 8;
/// Fewest rules a group needs unless other groups share its section: scanning a lone
/// group's values costs about what running its one rule's regexes on them does, so a lone
/// rule gains nothing from it. In a [`Cluster`] a one-rule group costs little (its literals
/// join a scan done anyway wherever its chain leaves the value unchanged) and its rule then
/// runs only on the values holding a literal, if it has at most [`MAX_LONE`] literals.
/// Measured (callgrind, PL1): GET −1.5 %, form −5.7 %, JSON −4.7 %; +0.4 MB of automata and
/// +0.75 MiB of wasm linear memory after configure. Without the cap on literals, a little
/// more gain (JSON −5.1 %) cost +2.9 MiB of linear memory (building the bigger unions).
const MIN_GROUP: usize = 2;
/// Most literals a one-rule group in a cluster may have (see [`MIN_GROUP`]).
const MAX_LONE: usize = 64;
/// Most literals a required set may hold (larger sets give no requirement). Bigger sets
/// cost more automaton memory than they save: CRS's `@pmFromFile` lists alone took 0.9 MB
/// of automaton and ~5 MiB of wasm heap while being built.
const MAX_REQUIRED: usize = 512;

/// Groups whose literals add up to at most this many bytes get a DFA, the others a double
/// array ([`Walker`]). Measured on CRS 4.28 (callgrind, PL1, the bench workload) once the
/// double array replaced aho-corasick's contiguous NFA: 100 bytes against 1,000, GET −1.4 %,
/// form −0.8 %, 20 KB JSON +0.2 %, and 0.7 MiB less automata at PL4 (1.69 MiB); 40 bytes
/// the same as 100; 0 (no DFA) JSON +2.2 %; 3,000 bytes nothing gained for +3.3 MiB. (With
/// the NFA, 1,000 bytes had been the best trade: −2.7 % on the JSON request against 500.)
const DFA_MAX_BYTES: usize = 100;

/// A set of byte strings, lower-cased, without duplicates.
type Set = Vec<Vec<u8>>;

/// What one node of a regex's syntax tree tells about its matches.
#[derive(Debug, Default)]
struct Info {
    /// Every string the node can match, if there are few (lower-cased).
    exact: Option<Set>,
    /// Every match of the node contains one of these (non-empty) strings.
    required: Option<Set>,
}

/// Literals (ASCII lower-case) of which every match of a regex contains one, compared
/// ASCII-case-insensitively; `None` when no useful set exists. `hir` is the pattern as `@rx`
/// parses it ([`crate::operators::rx::parse_pattern`]: bytes, `(?sm)`, `\x{HH}` a byte).
pub fn required_literals_of(hir: &Hir) -> Option<Set> {
    best(analyse(hir))
}

/// Literals (ASCII lower-case) of which every match of a regex *in a plain value* contains
/// one, where a plain value holds only common bytes (letters, digits, space
/// and `.,-_/:`): `Some(empty)` when no plain value can match, `None` when there is no useful
/// set. A value with any other byte gives no such guarantee.
///
/// CRS's evasion-tolerant patterns interleave the letters of a word with optional quotes,
/// backslashes and `$var` pieces (932230's `b["')\[\x5c]*…u["')\[\x5c]*…s…`), so every
/// match needs one of many single letters ([`required_literals_of`] finds nothing useful);
/// without those bytes the optional pieces match nothing and the pattern needs whole words.
pub fn plain_literals_of(hir: &Hir) -> Option<Set> {
    use regex_syntax::hir::{ClassBytes, ClassBytesRange};
    let common = ClassBytes::new(
        (0..=255u8)
            .filter(|&b| COMMON.contains(b))
            .map(|b| ClassBytesRange::new(b, b)),
    );
    match restrict_to_common(hir, &common) {
        None => Some(Vec::new()),
        Some(h) => required_literals_of(&h),
    }
}

/// `hir` restricted to matches made only of [`COMMON`] bytes, or `None` if it has none:
/// classes lose their other bytes, literals and classes left with none cannot match, an
/// optional piece that cannot match matches the empty string, and alternation branches that
/// cannot match are dropped. Look-arounds stay (they only narrow matches).
fn restrict_to_common(h: &Hir, common: &regex_syntax::hir::ClassBytes) -> Option<Hir> {
    use regex_syntax::hir::{ClassBytes, ClassBytesRange, Repetition};
    Some(match h.kind() {
        HirKind::Empty | HirKind::Look(_) => h.clone(),
        HirKind::Literal(l) => {
            if has_uncommon(&l.0) {
                return None;
            }
            h.clone()
        }
        HirKind::Class(c) => {
            let mut bytes = match c {
                Class::Bytes(b) => b.clone(),
                Class::Unicode(u) => {
                    // Only ASCII members can be common bytes.
                    let ranges = u.ranges().iter().filter_map(|r| {
                        let (a, b) = (u32::from(r.start()), u32::from(r.end()).min(0x7f));
                        (a <= b).then(|| ClassBytesRange::new(a as u8, b as u8))
                    });
                    ClassBytes::new(ranges)
                }
            };
            bytes.intersect(common);
            if bytes.ranges().is_empty() {
                return None;
            }
            Hir::class(Class::Bytes(bytes))
        }
        HirKind::Capture(c) => restrict_to_common(&c.sub, common)?,
        HirKind::Repetition(r) => match restrict_to_common(&r.sub, common) {
            Some(sub) => Hir::repetition(Repetition {
                sub: Box::new(sub),
                ..r.clone()
            }),
            None if r.min == 0 => Hir::empty(),
            None => return None,
        },
        HirKind::Alternation(subs) => {
            let kept: Vec<Hir> = subs
                .iter()
                .filter_map(|s| restrict_to_common(s, common))
                .collect();
            if kept.is_empty() {
                return None;
            }
            Hir::alternation(kept)
        }
        HirKind::Concat(subs) => {
            let subs = subs.iter().map(|s| restrict_to_common(s, common));
            Hir::concat(subs.collect::<Option<Vec<_>>>()?)
        }
    })
}

/// A set of bytes, as a bit table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSet([u64; 4]);

impl ByteSet {
    const EMPTY: ByteSet = ByteSet([0; 4]);

    fn insert(&mut self, b: u8) {
        if let Some(w) = self.0.get_mut(usize::from(b >> 6)) {
            *w |= 1u64 << (b & 63);
        }
    }

    fn union(self, o: ByteSet) -> ByteSet {
        let [a, b, c, d] = self.0;
        let [e, f, g, h] = o.0;
        ByteSet([a | e, b | f, c | g, d | h])
    }

    /// Whether `b` is in the set.
    #[inline]
    pub fn contains(&self, b: u8) -> bool {
        self.0
            .get(usize::from(b >> 6))
            .is_some_and(|w| w >> (b & 63) & 1 == 1)
    }

    /// Whether some byte of `v` is in the set.
    #[inline]
    pub fn any_in(&self, v: &[u8]) -> bool {
        v.iter().any(|&b| self.contains(b))
    }

    /// How often benign text holds a byte of the set, roughly: letters, digits, space and
    /// `.,-_/:` are in most values, so a set with one of them tells little (1,000 per such
    /// byte, 1 per other byte).
    fn commonness(&self) -> u32 {
        let mut n = 0;
        for (w, c) in self.0.iter().zip(COMMON.0) {
            n += (w & c).count_ones() * 1000 + (w & !c).count_ones();
        }
        n
    }
}

/// The bytes [`ByteSet::commonness`] counts as common: `[0-9A-Za-z]`, space and `.,-_/:`.
const COMMON: ByteSet = {
    let mut w = [0u64; 4];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || matches!(c, b' ' | b'.' | b',' | b'-' | b'_' | b'/' | b':')
        {
            w[b >> 6] |= 1u64 << (b & 63);
        }
        b += 1;
    }
    ByteSet(w)
};

/// Rare bytes of which every match of a regex contains one (see [`required_bytes_of`]).
#[derive(Debug, Clone, Copy)]
pub struct RequiredBytes {
    set: ByteSet,
    /// The members when there are at most three (searched with `memchr`), else empty.
    few: [u8; 3],
    n: usize,
}

impl RequiredBytes {
    /// The check for `set`.
    fn of(set: ByteSet) -> RequiredBytes {
        let members: Vec<u8> = (0..=255u8).filter(|&b| set.contains(b)).collect();
        let mut few = [0u8; 3];
        for (f, &m) in few.iter_mut().zip(&members) {
            *f = m;
        }
        RequiredBytes {
            set,
            few,
            n: members.len(),
        }
    }

    /// Whether some byte of `v` is one of them (else the regex or phrase list cannot match
    /// `v`).
    #[inline]
    pub fn any_in(&self, v: &[u8]) -> bool {
        // `memchr` pays off on long values only; short ones take the table.
        if v.len() < 32 {
            return self.set.any_in(v);
        }
        let [a, b, c] = self.few;
        match self.n {
            1 => memchr::memchr(a, v).is_some(),
            2 => memchr::memchr2(a, b, v).is_some(),
            3 => memchr::memchr3(a, b, c, v).is_some(),
            _ => self.set.any_in(v),
        }
    }
}

/// Bytes of which every match of a regex contains one, when they are all rare in benign
/// text (no letter, digit, space or `.,-_/:`), or `None`. A value without any of them
/// cannot match, which a byte scan tells faster than the regex engine: CRS's command and
/// code injection patterns (`[;&|`$(]…`) need punctuation that benign values rarely hold,
/// and have no literal for [`required_literals_of`] (only single letters). 152 of the 318
/// `@rx` of CRS 4.28 get such a set (35 need `<`, 19 `(`, 12 `=`). Measured (callgrind,
/// PL1): −1 % instructions on the GET, −7 % on the form, −3 % on the 20 KB JSON request.
pub fn required_bytes_of(hir: &Hir) -> Option<RequiredBytes> {
    let set = required_bytes(hir)?;
    if set.commonness() >= 1000 {
        return None;
    }
    Some(RequiredBytes::of(set))
}

/// Most phrases of a `@pm` list that may hold none of its [`phrase_bytes`].
const MAX_UNGATED: usize = 4;

/// Bytes of which every phrase of a `@pm` list holds one, but for at most [`MAX_UNGATED`]
/// phrases (their positions are returned): a value without any of those bytes can only
/// hold one of these few phrases, which a small automaton looks for instead of the whole
/// list's. Each phrase gives its rarest byte: outside `COMMON`, else `/`, `:`, `_`, else
/// `.`, `,`, `-`; a phrase made only of letters, digits and spaces is one of the few. The
/// scan costs a table look-up per byte, far less than the big automaton's walk, so a
/// common byte such as `.` still pays on the many values without it. CRS's
/// `unix-shell.data` (932160, 709 paths and `$VAR`s) needs `/` or `$`; `lfi-os-files.data`
/// (930120, 1,082 paths) needs `.`, `/`, `-` or `_`, but for `program files`. Measured
/// (callgrind, PL1): rare bytes only (9 of CRS 4.28's `@pm` lists), form −1.3 %, 20 KB
/// JSON −2.4 %; then `.,-` and the few phrases (`lfi-os-files.data` too), form −1.7 %,
/// GET −0.2 %, JSON +0.1 %.
pub fn phrase_bytes(phrases: &[Vec<u8>]) -> Option<(RequiredBytes, Vec<usize>)> {
    // 0 rare, 1 `/:_`, 2 `.,-`, 3 space, letters and digits.
    let rank = |b: u8| match b {
        _ if !COMMON.contains(b) => 0,
        b'/' | b':' | b'_' => 1,
        b'.' | b',' | b'-' => 2,
        _ => 3,
    };
    let mut set = ByteSet::EMPTY;
    let mut ungated = Vec::new();
    for (i, p) in phrases.iter().enumerate() {
        match p.iter().copied().min_by_key(|&b| rank(b)) {
            Some(b) if rank(b) < 3 => set.insert(b),
            _ => ungated.push(i),
        }
        if ungated.len() > MAX_UNGATED {
            return None;
        }
    }
    (set != ByteSet::EMPTY).then(|| (RequiredBytes::of(set), ungated))
}

/// Bytes of which every match of `h` contains one (the least common such set found).
fn required_bytes(h: &Hir) -> Option<ByteSet> {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => None,
        HirKind::Literal(l) => {
            // Its rarest byte (the first rare one, else the first).
            let b = l.0.iter().find(|&&b| !COMMON.contains(b)).or(l.0.first())?;
            let mut s = ByteSet::EMPTY;
            s.insert(*b);
            Some(s)
        }
        HirKind::Class(c) => {
            let mut s = ByteSet::EMPTY;
            match c {
                Class::Bytes(b) => {
                    for r in b.ranges() {
                        for x in r.start()..=r.end() {
                            s.insert(x);
                        }
                    }
                }
                Class::Unicode(u) => {
                    for r in u.ranges() {
                        // A non-ASCII member is a multi-byte sequence: its lead byte is
                        // one of 0xC2..=0xF4.
                        for cp in u32::from(r.start())..=u32::from(r.end()).min(0x7f) {
                            s.insert(cp as u8);
                        }
                        if u32::from(r.end()) > 0x7f {
                            for x in 0xc2..=0xf4 {
                                s.insert(x);
                            }
                        }
                    }
                }
            }
            (s != ByteSet::EMPTY).then_some(s)
        }
        HirKind::Capture(c) => required_bytes(&c.sub),
        HirKind::Repetition(r) => {
            if r.min == 0 {
                None
            } else {
                required_bytes(&r.sub)
            }
        }
        HirKind::Alternation(subs) => subs
            .iter()
            .map(required_bytes)
            .try_fold(ByteSet::EMPTY, |acc, s| Some(acc.union(s?))),
        HirKind::Concat(subs) => subs
            .iter()
            .filter_map(required_bytes)
            .min_by_key(ByteSet::commonness),
    }
}

fn lower(b: &[u8]) -> Vec<u8> {
    b.to_ascii_lowercase()
}

/// The more selective of a node's required set and its exact set.
fn best(info: Info) -> Option<Set> {
    let exact = info
        .exact
        .filter(|e| !e.is_empty() && e.iter().all(|s| !s.is_empty()));
    pick(info.required, exact)
}

/// The more selective of two required sets: the longer shortest literal, then the fewer.
fn pick(a: Option<Set>, b: Option<Set>) -> Option<Set> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let score = |s: &Set| {
                let min = s.iter().map(Vec::len).min().unwrap_or(0);
                (min, usize::MAX - s.len())
            };
            Some(if score(&b) > score(&a) { b } else { a })
        }
        (a, b) => a.or(b),
    }
}

fn dedup(mut s: Set) -> Set {
    s.sort_unstable();
    s.dedup();
    s
}

fn analyse(h: &Hir) -> Info {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => Info {
            exact: Some(vec![Vec::new()]),
            required: None,
        },
        HirKind::Literal(l) => {
            let s = lower(&l.0);
            Info {
                exact: (s.len() <= MAX_LEN).then(|| vec![s.clone()]),
                required: (!s.is_empty()).then(|| vec![s]),
            }
        }
        HirKind::Class(c) => {
            let bytes = class_bytes(c);
            Info {
                exact: bytes.map(|b| b.into_iter().map(|x| vec![x]).collect()),
                required: None,
            }
        }
        HirKind::Capture(c) => analyse(&c.sub),
        HirKind::Repetition(r) => {
            let sub = analyse(&r.sub);
            if r.min == 0 {
                let exact = match (r.max, sub.exact) {
                    (Some(1), Some(mut e)) => {
                        e.push(Vec::new());
                        Some(dedup(e))
                    }
                    _ => None,
                };
                Info {
                    exact,
                    required: None,
                }
            } else {
                // `x{2,3}`: every match is two or three matches of `x` in a row, and any
                // match holds `min` of them (CRS 930110's `\.{2,3}` needs `..`).
                let power = |e: &Set, k: u32| {
                    (0..k).try_fold(vec![Vec::new()], |acc: Set, _| product(&acc, e))
                };
                let exact = match (&sub.exact, r.max) {
                    (Some(e), Some(max)) if max <= MAX_REPEAT => {
                        union((r.min..=max).map(|k| power(e, k)), MAX_EXACT)
                    }
                    _ => None,
                };
                let least = sub
                    .exact
                    .as_ref()
                    .and_then(|e| power(e, r.min))
                    .filter(|p| p.iter().all(|s| !s.is_empty()));
                Info {
                    exact,
                    required: pick(best(sub), least),
                }
            }
        }
        HirKind::Alternation(subs) => {
            let infos: Vec<Info> = subs.iter().map(analyse).collect();
            let exact = union(infos.iter().map(|i| i.exact.clone()), MAX_EXACT);
            let required = union(infos.into_iter().map(best), MAX_REQUIRED);
            Info { exact, required }
        }
        HirKind::Concat(subs) => concat(subs),
    }
}

/// Union of sets, or `None` if one is missing or the union exceeds `max`.
fn union(sets: impl Iterator<Item = Option<Set>>, max: usize) -> Option<Set> {
    let mut all = Vec::new();
    for s in sets {
        all.extend(s?);
        if all.len() > max * 4 {
            return None;
        }
    }
    let all = dedup(all);
    (all.len() <= max).then_some(all)
}

/// The distinct bytes (lower-cased) of a small class, or `None` if it has many.
fn class_bytes(c: &Class) -> Option<Vec<u8>> {
    // A Unicode class (not produced with Unicode off, but possible in the type) matches
    // UTF-8 sequences: only its ASCII members are single bytes.
    let (ranges, max): (Vec<(u32, u32)>, u32) = match c {
        Class::Bytes(b) => (
            b.ranges()
                .iter()
                .map(|r| (u32::from(r.start()), u32::from(r.end())))
                .collect(),
            0xff,
        ),
        Class::Unicode(u) => (
            u.ranges()
                .iter()
                .map(|r| (u32::from(r.start()), u32::from(r.end())))
                .collect(),
            0x7f,
        ),
    };
    let mut out = Vec::new();
    for (a, b) in ranges {
        // Beyond one byte, or too many members: no exact set.
        if b > max || b - a >= (MAX_CLASS * 2) as u32 {
            return None;
        }
        for x in a..=b {
            out.push((x as u8).to_ascii_lowercase());
        }
    }
    out.sort_unstable();
    out.dedup();
    (out.len() <= MAX_CLASS).then_some(out)
}

/// A concatenation: runs of exact pieces multiply into longer literals; the most selective
/// required set among the runs and the other pieces is the concatenation's.
fn concat(subs: &[Hir]) -> Info {
    let mut required: Option<Set> = None;
    let mut run: Set = vec![Vec::new()];
    let mut all_exact = true;
    // A finished run of exact pieces competes for the required set (moved, not copied).
    let close = |run: Set, required: &mut Option<Set>| {
        if run.iter().all(|s| !s.is_empty()) {
            *required = pick(required.take(), Some(run));
        }
    };
    for sub in subs {
        let info = analyse(sub);
        let extended = info.exact.as_ref().and_then(|e| product(&run, e));
        if let Some(p) = extended {
            run = p;
            continue;
        }
        all_exact = false;
        close(std::mem::take(&mut run), &mut required);
        let fresh = info.exact.as_ref().and_then(|e| product(&[Vec::new()], e));
        required = pick(required, best(info));
        run = fresh.unwrap_or_else(|| vec![Vec::new()]);
    }
    let exact = all_exact.then(|| run.clone());
    close(run, &mut required);
    Info { exact, required }
}

/// Every `a` followed by every `b`, or `None` if that is too many or too long.
fn product(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Set> {
    if a.len().saturating_mul(b.len()) > MAX_EXACT {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            if x.len() + y.len() > MAX_LEN {
                return None;
            }
            let mut s = x.clone();
            s.extend_from_slice(y);
            out.push(s);
        }
    }
    Some(dedup(out))
}

/// Whether no action can change the variable's values while a phase runs.
fn stable(var: Var) -> bool {
    matches!(
        var,
        Var::Args
            | Var::ArgsGet
            | Var::ArgsPost
            | Var::ArgsNames
            | Var::ArgsGetNames
            | Var::ArgsPostNames
            | Var::Files
            | Var::FilesNames
            | Var::MultipartFilename
            | Var::MultipartName
            | Var::MultipartPartHeaders
            | Var::PathInfo
            | Var::QueryString
            | Var::RequestBasename
            | Var::RequestBody
            | Var::RequestCookies
            | Var::RequestCookiesNames
            | Var::RequestFilename
            | Var::RequestHeaders
            | Var::RequestHeadersNames
            | Var::RequestLine
            | Var::RequestMethod
            | Var::RequestProtocol
            | Var::RequestUri
            | Var::RequestUriRaw
            | Var::ResponseBody
            | Var::ResponseHeaders
            | Var::ResponseHeadersNames
            | Var::Xml
    )
}

/// The literals a rule (chain starter) needs for any value to match, and whether they hold
/// for plain values only ([`plain_literals_of`]: another value marks the rule anyway), or
/// `None` if the rule must always be evaluated.
fn rule_literals(rule: &Rule) -> Option<(Set, bool)> {
    let op = rule.op.as_ref()?;
    let compiled = op.compiled.as_ref()?;
    if op.negated || rule.targets.is_empty() {
        return None;
    }
    // A `multiMatch` rule is marked for every value its chain may change (see
    // `Group::credit_multi`): one whose chain may change any value gains nothing.
    if rule.actions.multi_match && rule.triggers & crate::transformations::class::ALWAYS != 0 {
        return None;
    }
    if rule.targets.iter().any(|t| t.count || !stable(t.var)) {
        return None;
    }
    let normal = |set: Vec<Vec<u8>>| dedup(set.iter().map(|s| lower(s)).collect());
    if let Some(set) = compiled
        .required_literals()
        .map(normal)
        .filter(|s| useful(s))
    {
        return Some((set, false));
    }
    // A plain value is made of common bytes: a one-byte literal (` `, `-`) is in most.
    let plain = normal(compiled.plain_literals()?);
    let selective = useful(&plain) && plain.iter().all(|l| l.len() > 1);
    (plain.is_empty() || selective).then_some((plain, true))
}

/// The byte classes ([`crate::transformations::class`]) of which a value holds at least one
/// if it holds one of `set`'s literals (compared ASCII-case-insensitively), or 0 when a
/// literal has no byte outside letters, digits and `_` (or the set is empty). A letter says
/// nothing (it may be either case); any other byte is its own class whatever the case.
pub fn classes_needed(set: &[Vec<u8>]) -> u32 {
    let mut needs = 0;
    for lit in set {
        let own = lit
            .iter()
            .filter(|b| !b.is_ascii_alphabetic())
            .fold(0, |m, &b| m | crate::transformations::byte_class(b));
        if own == 0 {
            return 0;
        }
        needs |= own;
    }
    needs
}

/// Bytes of each literal a [`gate_for`] automaton keeps.
const GATE_PREFIX: usize = 4;

/// For a `multiMatch` rule that the prefilter leaves out because its chain may change any
/// value (`base64Decode`: CRS 934100, 934160), an automaton over the first [`GATE_PREFIX`]
/// bytes of the literals every match of its operator contains. Such a rule runs its
/// operator on the value and on every step of the chain that changed it, eight steps for
/// 934100; a value holding none of the prefixes cannot hold a literal, so the operator is
/// not called on it. The prefixes keep the automaton small (934100's 160 literals, 1.9 KB,
/// give 60 prefixes) and a DFA: a false hit only costs the call it would have made anyway.
pub fn gate_for(rule: &Rule) -> Option<Gate> {
    let op = rule.op.as_ref()?;
    if !rule.actions.multi_match
        || rule.triggers & crate::transformations::class::ALWAYS == 0
        || op.negated
    {
        return None;
    }
    let set = op.compiled.as_ref()?.required_literals()?;
    if !useful(&set) {
        return None;
    }
    let prefixes = dedup(
        set.iter()
            .map(|l| lower(l.get(..GATE_PREFIX).unwrap_or(l)))
            .collect(),
    );
    aho_corasick::dfa::Builder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .start_kind(aho_corasick::StartKind::Unanchored)
        .prefilter(false)
        .build(&prefixes)
        .ok()
        .map(|d| Gate(Box::new(d)))
}

/// A [`gate_for`] automaton, walked byte by byte to the first match state: the values it
/// sees are a chain's short intermediate ones, where `AhoCorasick::is_match`'s set-up per
/// call cost more than the walk (measured, callgrind, PL1 form: 40k instructions of the
/// gate's 60k).
/// Boxed: a DFA is over 500 bytes inline (its byte classes), and every rule's operator has a
/// place for a gate.
#[derive(Debug, Clone)]
pub struct Gate(Box<aho_corasick::dfa::DFA>);

impl Gate {
    /// Whether `hay` holds one of the prefixes (ASCII case ignored). Without an unanchored
    /// start state (never, for a DFA built so) the operator decides.
    pub fn is_match(&self, hay: &[u8]) -> bool {
        walk_until(&*self.0, hay, |_| true).unwrap_or(true)
    }
}

/// Whether a required literal set is worth scanning for: not empty, at most
/// `MAX_REQUIRED` (512) literals, and none empty or a lone letter or digit (those are in nearly
/// every value: the rule would be marked anyway, after its scan had reported a match at most
/// bytes of every value).
pub fn useful(set: &[Vec<u8>]) -> bool {
    let common = |s: &Vec<u8>| matches!(s.as_slice(), [b] if b.is_ascii_alphanumeric());
    !set.is_empty() && set.len() <= MAX_REQUIRED && set.iter().all(|s| !s.is_empty() && !common(s))
}

/// Whether `v` holds a byte outside [`COMMON`] (so that [`plain_literals_of`] says nothing
/// about it).
#[inline]
fn has_uncommon(v: &[u8]) -> bool {
    v.iter().any(|&b| !COMMON.contains(b))
}

/// The rules of one phase with the same transformation chain, the union of their targets,
/// and one automaton over the literals they need.
#[derive(Debug)]
pub struct Group {
    /// A member whose transformation chain the group applies.
    pub rep: usize,
    /// The union of the members' targets, without exclusions.
    pub targets: Vec<Target>,
    /// Member rules (indices into [`RuleSet::rules`]).
    pub rules: Vec<usize>,
    /// Per member, the variables it reads (bit `Var as u32`; all bits if beyond 127).
    vars: Vec<u128>,
    ac: Walker,
    /// Length of the shortest literal: a shorter value holds none (and is not scanned).
    min_len: usize,
    /// Per literal (pattern id), the positions in `rules` of the members that need it.
    users: Vec<Vec<u32>>,
    /// Positions in `rules` of the members whose literals hold for plain values only
    /// ([`plain_literals_of`]): a value with another byte marks them whatever it holds.
    plain_only: Vec<u32>,
    /// Positions in `rules` of the `multiMatch` members: their operator also sees every
    /// intermediate value of the chain, which the scan of the final value does not, so a
    /// value the chain may change marks them whatever it holds ([`Group::credit_multi`]).
    multi: Vec<u32>,
    /// The cluster of groups reached together that this group belongs to, and its
    /// position there (see [`Cluster`]).
    pub cluster: Option<(usize, u8)>,
    /// The value classes that can make the group's chain change a value other than by
    /// ASCII case ([`crate::transformations::case_blind_triggers`]): a value without any
    /// is scanned as it is.
    pub triggers: u32,
    /// For `REQUEST_BODY`, when not every member reads it: an automaton over the literals
    /// of the members that do (see [`BodyScan`]).
    pub body: Option<BodyScan>,
}

/// A group's automaton for `REQUEST_BODY`, over the literals of the members that read it.
///
/// The body is one large value (21 KB for CRS's JSON benchmark request) that few members
/// read: in CRS 4.28, 921110 among the 921 rules that read arguments, 931110 among the 931
/// ones. Scanned with the whole group's automaton, it reports every literal the other
/// members need (`\n` hundreds of times in an indented JSON document) only for the credit to
/// drop it, and a big literal set makes a slower automaton (not a DFA). It is always a DFA,
/// whatever `DFA_MAX_BYTES` says: few members give few literals (82 at most in CRS 4.28,
/// the 944 rules'), and a DFA with its prefilter scans the large value fastest. Measured
/// (callgrind, PL1): 20 KB JSON request −2.3 % instructions, +0.2 MB of automata; as a
/// double array it cost that request +5 %.
#[derive(Debug)]
pub struct BodyScan {
    ac: Walker,
    /// Per literal, the positions in the group's `rules` of the body readers that need it.
    users: Vec<Vec<u32>>,
    /// Length of the shortest literal.
    min_len: usize,
}

/// The groups of one section (same phase, reached together) with different transformation
/// chains, and one automaton over all their literals.
///
/// Most transformations leave most benign values unchanged (`urlDecodeUni` without `%` or
/// `+`, `htmlEntityDecode` without `&`…), so most groups of a section would scan the very
/// same bytes, the raw value, each with its own automaton. A cluster scans a raw value once
/// with the union automaton for all the groups whose transformed value is the raw one, and
/// credits each literal found to the members (of those groups only) that need it: what each
/// group's own scan would have marked. Values that a group's chain changes are still scanned
/// by that group alone.
#[derive(Debug)]
pub struct Cluster {
    /// Its groups (indices into [`Prefilter::groups`]); at most 64.
    pub groups: Vec<usize>,
    ac: Walker,
    /// Length of the shortest literal.
    min_len: usize,
    /// Per literal (pattern id), the (position in `groups`, position in that group's
    /// `rules`) of the members that need it.
    users: Vec<Vec<(u8, u32)>>,
    /// Bit per group (position in `groups`) with members whose literals hold for plain
    /// values only.
    plain_mask: u64,
    /// The targets of its groups, each once, with the bits (positions in `groups`) of
    /// the groups that read it: a cluster is scanned value by value. A target that selects
    /// some members of a collection (`REQUEST_HEADERS:User-Agent`) is not here when the
    /// whole collection is (`REQUEST_HEADERS`): it is in [`Cluster::within`], so that a
    /// value both select is walked once for both (on a benign GET, the `User-Agent` was
    /// walked twice in each phase, 140 of the 890 bytes the clusters walked).
    pub targets: Vec<(Target, u64)>,
    /// Per entry of [`Cluster::targets`], the member selectors of the same collection
    /// folded into it, with the bits of the groups that read them.
    pub within: Vec<Folded>,
}

impl Cluster {
    /// Calls `mark(rule)` for every member (rule index) of the groups whose bit (position
    /// in [`Cluster::groups`]) is set in `mask` that reads `var` and needs a literal found
    /// in `value`.
    pub fn scan(
        &self,
        groups: &[Group],
        var: Var,
        value: &[u8],
        mask: u64,
        mut mark: impl FnMut(usize),
    ) {
        let bit = var_bit(var);
        let mut plain = mask & self.plain_mask;
        if plain != 0 && has_uncommon(value) {
            while plain != 0 {
                let g = plain.trailing_zeros() as usize;
                plain &= plain - 1;
                if let Some(group) = self.groups.get(g).and_then(|&id| groups.get(id)) {
                    group.credit_plain_only(bit, &mut mark);
                }
            }
        }
        if value.len() < self.min_len {
            return;
        }
        self.ac.each_match(value, &mut |pattern| {
            for &(g, i) in self.users.get(pattern).into_iter().flatten() {
                if mask >> g & 1 == 0 {
                    continue;
                }
                if let Some(group) = self.groups.get(g as usize).and_then(|&id| groups.get(id)) {
                    group.credit(i as usize, bit, &mut mark);
                }
            }
        });
    }
}

/// A literal automaton, walked for every occurrence of every literal (the prefilter needs
/// all of them, not the leftmost). Two kinds, both ASCII-case-insensitive:
/// - `Dfa`: aho-corasick's DFA with its prefilter, for few literals (see [`DFA_MAX_BYTES`])
///   and for [`BodyScan`]: the fastest per byte, and its prefilter skips through long values
///   (walked without it, groups cost the 20 KB JSON request +7 %, measured);
/// - `DoubleArray`: daachorse's double-array Aho-Corasick, for large literal sets (clusters,
///   large groups), where aho-corasick's contiguous NFA was. It scans in fewer instructions
///   and takes less memory (12 bytes a state). Measured (callgrind, CRS 4.28 PL1, the bench
///   workload): GET −5.9 %, form −3.4 %, 20 KB JSON −6.0 %; at PL4 the prefilter's automata
///   went from 3.69 to 2.37 MiB and the heap held after configure from 26.55 to 25.29 MiB.
///   It has no case-insensitive mode: its literals are lower-cased when built, and each
///   byte of a value as it is walked. For a cluster with few literals a DFA was no faster,
///   so clusters always take it. Its own prefilter (2-grams, 64 KiB an automaton) gained
///   nothing here.
enum Walker {
    Dfa(AhoCorasick),
    DoubleArray(daachorse::DoubleArrayAhoCorasick<u32>),
}

impl std::fmt::Debug for Walker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Walker::Dfa(a) => a.fmt(f),
            Walker::DoubleArray(a) => write!(f, "DoubleArrayAhoCorasick({} bytes)", a.heap_bytes()),
        }
    }
}

impl Walker {
    /// aho-corasick's DFA over `patterns` (case-insensitive, every match).
    fn dfa(patterns: &[Vec<u8>]) -> Option<Walker> {
        AhoCorasickBuilder::new()
            .kind(Some(AhoCorasickKind::DFA))
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .ok()
            .map(Walker::Dfa)
    }

    /// A double array over `patterns`, lower-cased; `None` if two of them are then equal
    /// (never: literal sets are lower-cased and without duplicates).
    fn double_array(patterns: &[Vec<u8>]) -> Option<Walker> {
        daachorse::DoubleArrayAhoCorasickBuilder::new()
            .use_prefilter(false)
            .build(patterns.iter().map(|p| p.to_ascii_lowercase()))
            .ok()
            .map(Walker::DoubleArray)
    }

    /// A DFA when `patterns` add up to at most [`DFA_MAX_BYTES`], else a double array.
    fn for_group(patterns: &[Vec<u8>]) -> Option<Walker> {
        if fits_dfa(patterns) {
            Walker::dfa(patterns)
        } else {
            Walker::double_array(patterns)
        }
    }

    /// Calls `f(pattern)` for every occurrence of a literal in `hay`.
    ///
    /// Not inlined in the wasm build: inlined into the scans' large closures, the walk's
    /// state, position and the heap base were spilled to the stack and reloaded at every
    /// byte by Cranelift (`bench/wasm-hot.sh`). `f` is `dyn` so that one copy serves both
    /// scans: a generic copy per scan had one caller each, and wasm-opt inlined it back.
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn each_match(&self, hay: &[u8], f: &mut dyn FnMut(usize)) {
        match self {
            Walker::Dfa(a) => {
                for m in a.find_overlapping_iter(hay) {
                    f(m.pattern().as_usize());
                }
            }
            Walker::DoubleArray(a) => {
                let lower = hay.iter().map(u8::to_ascii_lowercase);
                for m in a.find_overlapping_iter_from_iter(lower) {
                    f(m.value() as usize);
                }
            }
        }
    }

    fn memory_usage(&self) -> usize {
        match self {
            Walker::Dfa(a) => a.memory_usage(),
            Walker::DoubleArray(a) => a.heap_bytes(),
        }
    }
}

/// Walks `a` (unanchored, without prefilter) over `hay` until `stop` is true for a pattern
/// of a match state reached: `Some(true)` then, `Some(false)` when none was, `None` when
/// `a` has no unanchored start state (never for the automata built here).
#[inline(always)]
fn walk_until<A: Automaton>(
    a: &A,
    hay: &[u8],
    mut stop: impl FnMut(usize) -> bool,
) -> Option<bool> {
    let mut sid = a.start_state(Anchored::No).ok()?;
    for &b in hay {
        sid = a.next_state(Anchored::No, sid, b);
        if a.is_special(sid) {
            if a.is_dead(sid) {
                return Some(false);
            }
            for i in 0..a.match_len(sid) {
                if stop(a.match_pattern(sid, i).as_usize()) {
                    return Some(true);
                }
            }
        }
    }
    Some(false)
}

impl BodyScan {
    /// The body automaton of a group with literals `patterns`, their `users` and the
    /// members' `vars`; `None` when every member reads `REQUEST_BODY` or none does.
    fn build(patterns: &[Vec<u8>], users: &[Vec<u32>], vars: &[u128]) -> Option<BodyScan> {
        let bit = var_bit(Var::RequestBody);
        let reads = |&i: &u32| vars.get(i as usize).is_some_and(|v| v & bit != 0);
        if vars.iter().all(|v| v & bit != 0) || !vars.iter().any(|v| v & bit != 0) {
            return None;
        }
        let (pats, users): (Vec<Vec<u8>>, Vec<Vec<u32>>) = patterns
            .iter()
            .zip(users)
            .map(|(p, u)| {
                (
                    p.clone(),
                    u.iter().copied().filter(reads).collect::<Vec<u32>>(),
                )
            })
            .filter(|(_, u)| !u.is_empty())
            .unzip();
        Some(BodyScan {
            ac: Walker::dfa(&pats)?,
            min_len: pats.iter().map(Vec::len).min().unwrap_or(usize::MAX),
            users,
        })
    }
}

/// Whether `patterns` add up to at most [`DFA_MAX_BYTES`] (they get a DFA).
fn fits_dfa(patterns: &[Vec<u8>]) -> bool {
    patterns.iter().map(Vec::len).sum::<usize>() <= DFA_MAX_BYTES
}

fn var_bit(var: Var) -> u128 {
    1u128.checked_shl(var as u32).unwrap_or(u128::MAX)
}

impl Group {
    /// Calls `mark(rule)` for every member (rule index) that reads `var` and needs a literal
    /// found in `value`.
    pub fn scan(&self, var: Var, value: &[u8], mut mark: impl FnMut(usize)) {
        let bit = var_bit(var);
        if !self.plain_only.is_empty() && has_uncommon(value) {
            self.credit_plain_only(bit, &mut mark);
        }
        let (ac, users, min_len) = match &self.body {
            Some(b) if var == Var::RequestBody => (&b.ac, &b.users, b.min_len),
            _ => (&self.ac, &self.users, self.min_len),
        };
        if value.len() < min_len {
            return;
        }
        ac.each_match(value, &mut |pattern| {
            for &i in users.get(pattern).into_iter().flatten() {
                self.credit(i as usize, bit, &mut mark);
            }
        });
    }

    /// Credits the `multiMatch` members, for a value that the group's chain may change
    /// other than by ASCII case (one whose classes meet [`Group::triggers`]).
    ///
    /// `multiMatch` runs the operator on the value before the chain and after each step
    /// that changed it (ModSecurity's `RuleWithOperator::executeOperatorAt` over
    /// `multiMatchValues`), and a literal may be in one of those and not in the final value
    /// the group scans. A value without the chain's triggers passes every step unchanged up
    /// to case, so all those values are the scanned one for a case-blind scan.
    pub fn credit_multi(&self, var: Var, mut mark: impl FnMut(usize)) {
        let bit = var_bit(var);
        for &i in &self.multi {
            self.credit(i as usize, bit, &mut mark);
        }
    }

    /// Whether the group has `multiMatch` members (see [`Group::credit_multi`]).
    pub fn has_multi(&self) -> bool {
        !self.multi.is_empty()
    }

    /// Credits the members whose literals hold for plain values only (for a value that is
    /// not plain).
    fn credit_plain_only(&self, var_bit: u128, mark: &mut impl FnMut(usize)) {
        for &i in &self.plain_only {
            self.credit(i as usize, var_bit, mark);
        }
    }

    /// Calls `mark(rule)` for member `i` (position in [`Group::rules`]) if it reads the
    /// variable of `var_bit` (a literal it needs was found in a value of that variable).
    fn credit(&self, i: usize, var_bit: u128, mark: &mut impl FnMut(usize)) {
        if self.vars.get(i).is_some_and(|v| v & var_bit != 0) {
            if let Some(&idx) = self.rules.get(i) {
                mark(idx);
            }
        }
    }
}

/// A rule's transformation chain as the prefilter sees it: without trailing `lowercase` or
/// `uppercase` (ASCII case mapping), which cannot change what an ASCII-case-insensitive
/// scan finds; rules whose chains differ only so (CRS's `t:lowercase` and plain rules of a
/// section) then share a group, scanned with the first member's chain. A case mapping
/// inside the chain stays: later steps may decode differently after it. Measured
/// (callgrind, PL1): −4.5 % instructions on the form, −3.6 % on the 20 KB JSON request.
fn scan_chain(rule: &Rule) -> String {
    let mut names: Vec<&str> = rule
        .actions
        .transforms
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    while names
        .last()
        .is_some_and(|n| n.eq_ignore_ascii_case("lowercase") || n.eq_ignore_ascii_case("uppercase"))
    {
        names.pop();
    }
    names.join(",")
}

/// Which sections of a phase share prefilter groups.
///
/// The rules after a skipping rule with a plain condition (`SecRule
/// TX:DETECTION_PARANOIA_LEVEL "@lt 2" "…,skipAfter:END-…"`, no chain) are reached when that
/// condition is false; every section behind the same condition in a phase is reached under
/// the same condition (in CRS: all files' paranoia-level-2 sections), so their rules form one
/// group per transformation chain and the values are scanned once for all of them
/// (measured, callgrind, PL1: −5 % instructions on the GET, −6.5 % on the form and −4 % on
/// the 20 KB JSON request). Any other section (after a marker, a chained or conditionless
/// skip) is its own. Grouping is a matter of cost only: a group is sound across any sections
/// of one phase, whose values no action changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Section {
    /// A section of its own (numbered).
    Unique(usize),
    /// Behind a skipping rule with this condition (targets, operator, parameter).
    Guard(String),
}

impl Section {
    /// The section starting after skipping rule `rule`; `unique` numbers the others.
    fn after(rule: &Rule, unique: &mut usize) -> Section {
        match (&rule.op, &rule.chained) {
            (Some(op), None) => {
                let mut sig = String::new();
                for t in rule.targets.iter().chain(&rule.exclusions) {
                    t.write_text(&mut sig);
                    sig.push('|');
                }
                let not = if op.negated { "!" } else { "" };
                sig.push_str(&format!(" {not}@{} {} t{}", op.name, op.param, rule.tchain));
                Section::Guard(sig)
            }
            _ => {
                *unique += 1;
                Section::Unique(*unique)
            }
        }
    }
}

/// The groups of a rule set, built once at configure time.
#[derive(Debug, Default)]
pub struct Prefilter {
    /// Per rule index, its group.
    group_of: Vec<Option<u32>>,
    /// All groups.
    pub groups: Vec<Group>,
    /// Clusters of two or more groups reached together.
    pub clusters: Vec<Cluster>,
    /// Runs of rules it may skip, passed over at once.
    pub(crate) skip_runs: Runs<SkipRun>,
}

/// Two or more consecutive rules of a phase's list that the prefilter may skip (none with
/// an outcome to replay, not across a marker): once their groups are scanned, a run none of
/// whose rules is a candidate is passed over at once, as many rules skipped one by one.
/// On a benign GET at PL1, 150 of the 387 rules reached are skipped.
#[derive(Debug, Default)]
pub struct SkipRun {
    /// The groups of its rules, each once.
    pub groups: Vec<u32>,
    /// The candidate-set words (index, bits) that hold its rules.
    pub words: Vec<(u32, u64)>,
}

/// Whether targets `u` and `t` select the same members (same variable and selector, as
/// written).
fn same_target(u: &Target, t: &Target) -> bool {
    u.var == t.var
        && std::mem::discriminant(&u.selector) == std::mem::discriminant(&t.selector)
        && u.selector.text() == t.selector.text()
}

/// Member selectors folded into a whole-collection target, with the bits (positions in
/// [`Cluster::groups`]) of the groups that read them.
pub type Folded = Vec<(Selector, u64)>;

/// Splits a cluster's targets into those walked ([`Cluster::targets`]) and, per walked
/// one, the member selectors of the same collection folded into it ([`Cluster::within`]):
/// a `Key` or `Regex` target of a collection that also has a whole-collection target.
/// (XPath targets of `XML` select by path, not by name, and stay as they are.)
fn fold_selected(all: Vec<(Target, u64)>) -> (Vec<(Target, u64)>, Vec<Folded>) {
    let whole_of = |u: &Target, var: Var| u.var == var && matches!(u.selector, Selector::All);
    let folded = |t: &Target| {
        matches!(t.selector, Selector::Key(..) | Selector::Regex(_))
            && all.iter().any(|(u, _)| whole_of(u, t.var))
    };
    let mut targets = Vec::new();
    let mut within = Vec::new();
    for (t, bits) in &all {
        if !folded(t) {
            targets.push((t.clone(), *bits));
            within.push(Vec::new());
        }
    }
    for (t, bits) in &all {
        if !folded(t) {
            continue;
        }
        let at = targets.iter().position(|(u, _)| whole_of(u, t.var));
        if let Some(list) = at.and_then(|i| within.get_mut(i)) {
            list.push((t.selector.clone(), *bits));
        }
    }
    (targets, within)
}

/// Adds `t` to a group's target union unless a target already there selects all it does.
fn add_target(union: &mut Vec<Target>, t: &Target) {
    let covers =
        |u: &Target| u.var == t.var && matches!(u.selector, Selector::All) || same_target(u, t);
    if union.iter().any(covers) {
        return;
    }
    if matches!(t.selector, Selector::All) && !matches!(t.var, Var::Xml) {
        union.retain(|u| u.var != t.var);
    }
    union.push(Target {
        exclude: false,
        count: false,
        ..t.clone()
    });
}

impl Prefilter {
    /// Groups the eligible rules of `set` by section of a phase and transformation chain;
    /// a group whose
    /// automaton cannot be built is left out (its rules are then always evaluated).
    pub fn build(set: &RuleSet) -> Prefilter {
        let mut group_of = vec![None; set.rules.len()];
        let mut keys: HashMap<(usize, Section, u32), usize> = HashMap::new();
        let mut scan_chains: HashMap<String, u32> = HashMap::new();
        let mut members: Vec<Vec<(usize, (Set, bool))>> = Vec::new();
        // A section ends at a marker or a rule that skips: a group stays within sections
        // reached together, so that the first member reached means the others are reached
        // too (CRS skips whole paranoia-level sections) and no work is done for rules that
        // will not run. Sections behind equal guards are reached together, see `Section`.
        let mut unique = 0;
        for (phase_no, phase) in set.phases.iter().enumerate() {
            // A group never spans phases: values change between them.
            unique += 1;
            let mut section = Section::Unique(unique);
            for item in phase {
                let Some(idx) = item.rule() else {
                    unique += 1;
                    section = Section::Unique(unique);
                    continue;
                };
                let Some(rule) = set.rules.get(idx) else {
                    continue;
                };
                if rule.actions.skip_after.is_some() || rule.actions.skip > 0 {
                    section = Section::after(rule, &mut unique);
                }
                let Some(lits) = rule_literals(rule) else {
                    continue;
                };
                let next = scan_chains.len() as u32;
                let chain = *scan_chains.entry(scan_chain(rule)).or_insert(next);
                let key = (phase_no, section.clone(), chain);
                let g = *keys.entry(key).or_insert_with(|| {
                    members.push(Vec::new());
                    members.len() - 1
                });
                members[g].push((idx, lits));
            }
        }
        let mut groups = Vec::new();
        // Per group: its section and its literals (for the clusters).
        let mut sections: Vec<(usize, Section)> = Vec::new();
        let mut literals: Vec<Set> = Vec::new();
        let mut group_keys: Vec<(usize, Section)> = vec![(0, Section::Unique(0)); members.len()];
        for ((phase_no, section, _), g) in keys {
            if let Some(k) = group_keys.get_mut(g) {
                *k = (phase_no, section);
            }
        }
        let mut per_section: HashMap<(usize, Section), usize> = HashMap::new();
        for key in &group_keys {
            *per_section.entry(key.clone()).or_default() += 1;
        }
        let kept = |m: &Vec<(usize, (Set, bool))>, key: &(usize, Section)| {
            m.len() >= MIN_GROUP
                || per_section.get(key).is_some_and(|&n| n >= 2)
                    && m.iter().map(|(_, (l, _))| l.len()).sum::<usize>() <= MAX_LONE
        };
        for (m, key) in members
            .into_iter()
            .zip(group_keys)
            .filter(|(m, key)| kept(m, key))
        {
            let mut pattern_ids: HashMap<Vec<u8>, usize> = HashMap::new();
            let mut patterns: Vec<Vec<u8>> = Vec::new();
            let mut users: Vec<Vec<u32>> = Vec::new();
            let mut targets = Vec::new();
            let mut vars = Vec::new();
            let mut plain_only = Vec::new();
            let mut multi = Vec::new();
            for (pos, (idx, (lits, plain))) in m.iter().enumerate() {
                let rule = &set.rules[*idx];
                if *plain {
                    plain_only.push(pos as u32);
                }
                if rule.actions.multi_match {
                    multi.push(pos as u32);
                }
                for t in &rule.targets {
                    add_target(&mut targets, t);
                }
                vars.push(rule.targets.iter().fold(0, |a, t| a | var_bit(t.var)));
                for lit in lits {
                    let id = *pattern_ids.entry(lit.clone()).or_insert_with(|| {
                        patterns.push(lit.clone());
                        users.push(Vec::new());
                        patterns.len() - 1
                    });
                    users[id].push(pos as u32);
                }
            }
            let Some(ac) = Walker::for_group(&patterns) else {
                continue;
            };
            let body = BodyScan::build(&patterns, &users, &vars);
            let gid = groups.len() as u32;
            for (idx, _) in &m {
                group_of[*idx] = Some(gid);
            }
            let triggers = set.rules[m[0].0].actions.transforms.iter().fold(0, |t, x| {
                t | crate::transformations::case_blind_triggers(&x.name)
            });
            groups.push(Group {
                triggers,
                rep: m[0].0,
                targets,
                rules: m.into_iter().map(|(idx, _)| idx).collect(),
                vars,
                ac,
                min_len: patterns.iter().map(Vec::len).min().unwrap_or(usize::MAX),
                users,
                plain_only,
                multi,
                cluster: None,
                body,
            });
            sections.push(key);
            literals.push(patterns);
        }
        let clusters = Self::cluster(&mut groups, &sections, &literals);
        Prefilter {
            group_of,
            groups,
            clusters,
            ..Prefilter::default()
        }
    }

    /// Gathers the groups of each section into a [`Cluster`] (when there are two or more)
    /// and links each group to its cluster.
    fn cluster(
        groups: &mut [Group],
        sections: &[(usize, Section)],
        literals: &[Set],
    ) -> Vec<Cluster> {
        let mut by_section: Vec<(&(usize, Section), Vec<usize>)> = Vec::new();
        for (g, key) in sections.iter().enumerate() {
            match by_section.iter_mut().find(|(k, _)| *k == key) {
                Some((_, list)) if list.len() < 64 => list.push(g),
                Some(_) => {}
                None => by_section.push((key, vec![g])),
            }
        }
        let mut clusters = Vec::new();
        for (_, list) in by_section.into_iter().filter(|(_, l)| l.len() >= 2) {
            let mut ids: HashMap<&[u8], usize> = HashMap::new();
            let mut patterns: Vec<Vec<u8>> = Vec::new();
            let mut users: Vec<Vec<(u8, u32)>> = Vec::new();
            for (pos, &g) in list.iter().enumerate() {
                let (Some(pats), Some(group)) = (literals.get(g), groups.get(g)) else {
                    continue;
                };
                for (pat, members) in pats.iter().zip(&group.users) {
                    let id = *ids.entry(pat.as_slice()).or_insert_with(|| {
                        patterns.push(pat.clone());
                        users.push(Vec::new());
                        patterns.len() - 1
                    });
                    if let Some(u) = users.get_mut(id) {
                        u.extend(members.iter().map(|&i| (pos as u8, i)));
                    }
                }
            }
            let Some(ac) = Walker::double_array(&patterns) else {
                continue;
            };
            let id = clusters.len();
            let mut targets: Vec<(Target, u64)> = Vec::new();
            for (pos, &g) in list.iter().enumerate() {
                for t in groups
                    .get(g)
                    .map(|g| g.targets.as_slice())
                    .unwrap_or_default()
                {
                    match targets.iter_mut().find(|(u, _)| same_target(u, t)) {
                        Some((_, bits)) => *bits |= 1 << pos,
                        None => targets.push((t.clone(), 1 << pos)),
                    }
                }
            }
            let (targets, within) = fold_selected(targets);
            let mut plain_mask = 0u64;
            for (pos, &g) in list.iter().enumerate() {
                if let Some(group) = groups.get_mut(g) {
                    group.cluster = Some((id, pos as u8));
                    if !group.plain_only.is_empty() {
                        plain_mask |= 1 << pos;
                    }
                }
            }
            clusters.push(Cluster {
                groups: list,
                ac,
                min_len: patterns.iter().map(Vec::len).min().unwrap_or(usize::MAX),
                users,
                plain_mask,
                targets,
                within,
            });
        }
        clusters
    }

    /// Heap bytes of the groups' and clusters' automata.
    pub fn memory_usage(&self) -> usize {
        let groups: usize = self
            .groups
            .iter()
            .map(|g| g.ac.memory_usage() + g.body.as_ref().map_or(0, |b| b.ac.memory_usage()))
            .sum();
        groups
            + self
                .clusters
                .iter()
                .map(|c| c.ac.memory_usage())
                .sum::<usize>()
    }

    /// The skip run starting at position `pos` of `phase`'s list, with the position after
    /// it.
    pub fn skip_run_at(&self, phase: usize, pos: usize) -> Option<(usize, &SkipRun)> {
        self.skip_runs.at(phase, pos)
    }

    /// Finds the skip runs of `set`'s phases (once the replay outcomes are known): rules
    /// in a group and without an outcome to replay.
    pub(crate) fn find_skip_runs(&self, set: &RuleSet) -> Runs<SkipRun> {
        Runs::find(&set.phases, |run: &mut SkipRun, idx| {
            let replayed = set.replay.outcomes.get(idx).is_some_and(Option::is_some);
            let Some(g) = self.group_of(idx).filter(|_| !replayed) else {
                return false;
            };
            if !run.groups.contains(&(g as u32)) {
                run.groups.push(g as u32);
            }
            let (word, bit) = ((idx / 64) as u32, 1u64 << (idx % 64));
            match run.words.iter_mut().find(|(w, _)| *w == word) {
                Some((_, m)) => *m |= bit,
                None => run.words.push((word, bit)),
            }
            true
        })
    }

    /// The group of rule `idx`, if the prefilter may skip it.
    pub fn group_of(&self, idx: usize) -> Option<usize> {
        self.group_of
            .get(idx)
            .copied()
            .flatten()
            .map(|g| g as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::operators::rx::{parse_pattern, rewrite_hex_escapes};

    fn required_literals(p: &str) -> Option<Set> {
        required_literals_of(&parse_pattern("rx", p).ok()?)
    }

    fn req(p: &str) -> Vec<String> {
        required_literals(p)
            .unwrap_or_default()
            .into_iter()
            .map(|s| String::from_utf8_lossy(&s).into_owned())
            .collect()
    }

    #[test]
    fn literals_and_alternations() {
        assert_eq!(req("foo"), ["foo"]);
        assert_eq!(req("(?i)SeLeCt"), ["select"]);
        // Both sets are required; the one whose shortest literal is longer is kept.
        assert_eq!(req("(?:union|select)\\s+from"), ["select", "union"]);
        assert_eq!(req("(?:or|and)\\s+select"), ["select"]);
        assert_eq!(req("a(?:b|c)d"), ["abd", "acd"]);
        assert_eq!(req("<script|javascript:"), ["<script", "javascript:"]);
        assert_eq!(req("\\x{3c}scr"), ["<scr"]);
    }

    #[test]
    fn counted_repetitions() {
        // CRS 930110: two or three dots between separators.
        let lfi = req(r"(?:^|[/;\x5c])\.{2,3}[/;\x5c]");
        assert!(lfi.iter().any(|l| l == "../") && lfi.iter().any(|l| l == ".../"));
        assert!(lfi.iter().all(|l| l.contains("..")), "{lfi:?}");
        // Unbounded: `min` copies are still needed.
        assert_eq!(req("x(?:ab){2,}"), ["abab"]);
        assert_eq!(req("-{2,}"), ["--"]);
    }

    #[test]
    fn optional_and_unbounded_pieces_give_no_requirement() {
        assert!(req("a*").is_empty());
        assert!(req("(?:foo)?").is_empty());
        assert!(req(".*").is_empty());
        assert!(req("").is_empty());
        assert!(req("[a-z]+").is_empty());
        // One branch without a literal: the alternation requires nothing.
        assert!(req("foo|\\d+").is_empty());
        assert_eq!(req("x(?:foo)+y"), ["foo"]);
        assert_eq!(req("ab?c"), ["abc", "ac"]);
    }

    fn bytes(p: &str) -> Option<String> {
        let set = required_bytes_of(&parse_pattern("rx", p).ok()?)?;
        Some(
            (0..=255u8)
                .filter(|&b| set.set.contains(b))
                .map(char::from)
                .collect(),
        )
    }

    #[test]
    fn required_rare_bytes() {
        assert_eq!(bytes("(?i)<script").as_deref(), Some("<"));
        assert_eq!(bytes("[;|&]\\s*cat").as_deref(), Some("&;|"));
        // The rarest byte of a concatenation: `(` rather than the letters.
        assert_eq!(bytes("(?i)eval\\s*\\(").as_deref(), Some("("));
        // Each branch must give one: `=` or `(`.
        assert_eq!(bytes("a=|b\\(").as_deref(), Some("(="));
        // A common byte in the set, an optional piece or a class of letters: no set.
        assert_eq!(bytes("<|a"), None);
        assert_eq!(bytes("x?<?"), None);
        assert_eq!(bytes("[a-z]+\\d"), None);
        // Long values are searched with memchr, short ones with the table: same answer.
        let set = required_bytes_of(&parse_pattern("rx", "[;|&]").unwrap()).unwrap();
        let long = "x".repeat(100);
        assert!(!set.any_in(long.as_bytes()));
        assert!(set.any_in(format!("{long};").as_bytes()));
        assert!(set.any_in(b"a|b"));
        assert!(!set.any_in(b"a b"));
    }

    fn plain(p: &str) -> Option<Vec<String>> {
        let set = plain_literals_of(&parse_pattern("rx", p).ok()?)?;
        Some(
            set.iter()
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .collect(),
        )
    }

    #[test]
    fn plain_literals_drop_the_pieces_that_need_uncommon_bytes() {
        // CRS 932230's shape: optional quotes, backslashes and `$var` between the letters.
        let evasive = r#"(?i)c["'\x5c]*(?:\$[a-z]*)?u["'\x5c]*r["'\x5c]*l[\s<>;|]"#;
        assert!(required_literals(evasive).is_none_or(|s| !useful(&s)));
        assert_eq!(plain(evasive), Some(vec!["curl ".to_string()]));
        // A pattern that always needs `<`: no plain value matches.
        assert_eq!(plain("(?i)<script"), Some(vec![]));
        // Branches needing uncommon bytes are dropped, the others kept.
        assert_eq!(
            plain(r"(?i)eval\(|system:"),
            Some(vec!["system:".to_string()])
        );
        // Plain matches with only single letters or anything: no useful set.
        assert!(plain("[a-z]+=").is_some_and(|s| s.is_empty()));
        assert!(plain("[a-z]").is_none_or(|s| s.iter().all(|l| l.len() == 1)));
    }

    /// `p` compiled by the `regex` crate as `@rx` reads it, to check the analyses against.
    fn reference_regex(p: &str) -> regex::bytes::Regex {
        regex::bytes::RegexBuilder::new(&rewrite_hex_escapes(p))
            .unicode(false)
            .dot_matches_new_line(true)
            .multi_line(true)
            .build()
            .unwrap()
    }

    #[test]
    fn plain_literals_never_miss_a_plain_match() {
        let patterns = [
            r#"(?i)c["'\x5c]*(?:\$[a-z]*)?u["'\x5c]*r["'\x5c]*l[\s<>;|]"#,
            r#"(?i)(?:^|[;|&]|\s)w["']*g["']*e["']*t(?:\s|$)"#,
            "(?i)javascript:|<script",
            r"(?i)on[a-z]+\s*=",
            r"\b(?:n|b)c(?:at)?\b",
        ];
        let samples = [
            "curl http",
            "c'u'rl;",
            "then wget ",
            "wget",
            "javascript:alert",
            "my onload=x",
            "nc -e",
            "bcat",
            "plain benign text, with 42 words.",
        ];
        for p in patterns {
            let re = reference_regex(p);
            let Some(lits) = plain_literals_of(&parse_pattern("rx", p).unwrap()) else {
                continue;
            };
            for s in samples {
                if has_uncommon(s.as_bytes()) || !re.is_match(s.as_bytes()) {
                    continue;
                }
                let lower = s.to_ascii_lowercase();
                assert!(
                    lits.iter()
                        .any(|l| lower.as_bytes().windows(l.len()).any(|w| w == &l[..])),
                    "{p:?} matches plain {s:?} but none of its plain literals {lits:?} is in it"
                );
            }
        }
    }

    #[test]
    fn phrase_lists_with_rare_bytes_skip_values_without_them() {
        let list = |l: &[&str]| l.iter().map(|p| p.as_bytes().to_vec()).collect::<Vec<_>>();
        let (shell, few) = phrase_bytes(&list(&["bin/bash", "/etc/shadow", "${IFS}", "$HOME"]))
            .expect("each phrase has `/` or `$`");
        assert!(few.is_empty());
        assert!(!shell.any_in(b"A soft everyday shirt, size M"));
        assert!(shell.any_in(b"x=$HOME"));
        assert!(shell.any_in(b"see /etc/shadow"));
        // Letters and dots: `.` is the gate; letters and spaces only: one of the few.
        let (files, few) = phrase_bytes(&list(&["bin/bash", "boot.ini", "program files"]))
            .expect("`/` or `.` but for one phrase");
        assert_eq!(few, [2]);
        assert!(!files.any_in(b"A soft everyday shirt size M"));
        assert!(files.any_in(b"boot.ini"));
        // Too many phrases without a gate byte, or none with one: no set.
        let words = ["wget", "curl", "bash", "nc", "perl", "bin/sh"];
        assert!(phrase_bytes(&list(&words)).is_none());
        assert!(phrase_bytes(&list(&["wget"])).is_none());
        assert!(phrase_bytes(&[]).is_none());
    }

    #[test]
    fn never_a_false_negative_on_samples() {
        // For each pattern, every sample the regex matches must contain a literal.
        let patterns = [
            "(?i)(?:\\b(?:union|select)\\b.{1,100}?\\bfrom\\b)",
            "(?i)<[^>]*?on[a-z]+\\s*=",
            "ab?c|d[ef]{2}g",
            "[;&|]\\s*cat\\b",
            "\\$\\{jndi:",
            "(?i)on[a-z]+\\s*=\\s*alert\\(",
            "(?i)\\$\\{[^}]*\\}",
            "(?:^|[\\s;])(?:cat|ls|id)(?:\\s|$)",
            "[\\x00-\\x08]",
            "\\.\\./",
        ];
        let samples = [
            "UNION all SELECT x FROM t",
            "<img src=x OnError = alert(1)>",
            "ac",
            "abc",
            "deeg",
            "dfeg",
            "${jndi:ldap}",
            "ls",
            "a;cat /etc",
            "\u{1}",
            "../../etc/passwd",
            "benign value",
        ];
        for p in patterns {
            let re = reference_regex(p);
            let lits = required_literals(p);
            let bytes = parse_pattern("rx", p)
                .ok()
                .and_then(|h| required_bytes_of(&h));
            for s in samples {
                if !re.is_match(s.as_bytes()) {
                    continue;
                }
                if let Some(b) = bytes {
                    assert!(
                        b.any_in(s.as_bytes()),
                        "{p:?} matches {s:?} without its bytes"
                    );
                }
                let Some(lits) = &lits else { continue };
                let lower = s.to_ascii_lowercase();
                assert!(
                    lits.iter()
                        .any(|l| lower.as_bytes().windows(l.len()).any(|w| w == &l[..])),
                    "{p:?} matches {s:?} but none of its literals {lits:?} is in it"
                );
            }
        }
    }
}
