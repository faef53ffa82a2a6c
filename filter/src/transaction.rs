//! A transaction: one HTTP request/response pair run through phases 1–5.
//!
//! The API mirrors the HTTP lifecycle (and libmodsecurity's): connection, request line,
//! request headers, request body chunks, end of request, response headers, response body
//! chunks, end of response, logging. Each `process_*` call runs the phase it ends and
//! returns what the host must do. A transaction never calls the host, except through the
//! connection source a host may hand it ([`Transaction::set_connection_source`]).

use std::borrow::Cow;
use std::cell::{Cell, OnceCell};
use std::ops::Range;

use rustc_hash::{FxHashMap, FxHashSet};
use smallvec::SmallVec;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::actions::{AllowScope, Ctl, Disruptive, RunAction, SanitiseKind, SetOp};
use crate::audit;
use crate::body::{self, multipart::Multipart, xml::XmlDoc, Pair};
use crate::collection::{Collection, Value};
use crate::macros::{MacroRef, Template};
use crate::operators::{self, OpOutput};
use crate::replay::{set_bit, Bits, Outcome};
use crate::rules::{AuditEngine, EngineMode, Item, LimitAction, Rule, RuleSet};
use crate::transformations::classes;
use crate::variables::{Selector, Target, Var};

/// Addresses of the connection a request came on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Client address (`REMOTE_ADDR`).
    pub client_addr: String,
    /// Client port (`REMOTE_PORT`).
    pub client_port: u16,
    /// Server address (`SERVER_ADDR`).
    pub server_addr: String,
    /// Server port (`SERVER_PORT`).
    pub server_port: u16,
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            client_addr: "127.0.0.1".into(),
            client_port: 0,
            server_addr: "127.0.0.1".into(),
            server_port: 80,
        }
    }
}

/// Gives one end of a connection, address and port, when first needed
/// ([`Transaction::set_connection_source`]); `None` keeps the default (`127.0.0.1`).
pub type EndpointSource = Box<dyn FnOnce() -> Option<(String, u16)> + Send>;

/// One end of a transaction's connection: given up front, or asked of its source the first
/// time a rule or the audit record reads it.
struct LazyEndpoint {
    value: OnceCell<(String, u16)>,
    source: Cell<Option<EndpointSource>>,
    default_port: u16,
}

impl LazyEndpoint {
    fn known(addr: &str, port: u16) -> Self {
        LazyEndpoint {
            value: OnceCell::from((addr.to_string(), port)),
            source: Cell::new(None),
            default_port: port,
        }
    }

    fn asked_of(source: EndpointSource, default_port: u16) -> Self {
        LazyEndpoint {
            value: OnceCell::new(),
            source: Cell::new(Some(source)),
            default_port,
        }
    }

    fn get(&self) -> (&str, u16) {
        let (addr, port) = self.value.get_or_init(|| {
            self.source
                .take()
                .and_then(|f| f())
                .unwrap_or_else(|| ("127.0.0.1".to_string(), self.default_port))
        });
        (addr, *port)
    }
}

impl std::fmt::Debug for LazyEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.value.get() {
            Some((addr, port)) => write!(f, "{addr}:{port}"),
            None => f.write_str("(not read yet)"),
        }
    }
}

/// The client and server ends of a transaction's connection.
#[derive(Debug)]
struct LazyConnection {
    client: LazyEndpoint,
    server: LazyEndpoint,
}

impl LazyConnection {
    fn known(c: &Connection) -> Self {
        LazyConnection {
            client: LazyEndpoint::known(&c.client_addr, c.client_port),
            server: LazyEndpoint::known(&c.server_addr, c.server_port),
        }
    }

    /// All four fields (for the audit record).
    fn get(&self) -> Connection {
        let (client_addr, client_port) = self.client.get();
        let (server_addr, server_port) = self.server.get();
        Connection {
            client_addr: client_addr.to_string(),
            client_port,
            server_addr: server_addr.to_string(),
            server_port,
        }
    }
}

impl Default for LazyConnection {
    fn default() -> Self {
        LazyConnection::known(&Connection::default())
    }
}

/// Feature `prefilter-check`: `value` of `name`, which a shortcut (`why`) skipped for rule
/// `rule`, must not match; panics if it does.
#[cfg(feature = "prefilter-check")]
fn assert_no_match(
    why: &str,
    compiled: &dyn operators::Operator,
    negated: bool,
    value: &[u8],
    name: &Name<'_>,
    rule: u64,
    request: &str,
) {
    if compiled.matches(value, &mut operators::OpOutput::default()) != negated {
        let mut n = String::new();
        name.render_into(&mut n);
        panic!("{why}: rule {rule} skipped {n} but it matches (request {request})");
    }
}

/// What a disruptive action asks the host to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Answer with `status` (and no upstream).
    Deny,
    /// Close the connection without an answer.
    Drop,
    /// Answer with `status` (302 unless the rule set one) and a `Location` header.
    Redirect(String),
}

/// An interruption of the transaction: the host must stop the request and act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intervention {
    /// HTTP status to answer with (403 by default, 413 for a body over the limit).
    pub status: u16,
    /// What to do.
    pub action: Action,
    /// The rule that caused it, if a rule did (`None` for a body limit).
    pub rule_id: Option<u64>,
    /// The phase it happened in (1–5).
    pub phase: u8,
    /// A one-line, ModSecurity-style log message describing the interruption.
    pub log: String,
}

/// A rule that matched.
///
/// A match that is neither logged nor audit-logged (CRS's setup and scoring rules: ~85 of
/// them on every request) keeps no text, so its record is a few bytes and a request
/// touches fewer cache lines. In a proxy, whose own work between two requests evicts the
/// filter's data, each line is fetched from memory (`COLD=1 bench/instructions.sh get`:
/// 6,544 → 6,390 lines; −1.8 % instructions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMatch {
    /// Rule id.
    pub id: u64,
    /// Phase the rule ran in.
    pub phase: u8,
    /// Severity number 0–7, if the rule has one.
    pub severity: Option<u8>,
    /// Whether the rule is marked `log` (goes to the error log).
    pub log: bool,
    /// Whether the rule is marked `auditlog`.
    pub auditlog: bool,
    /// The texts, for a logged or audit-logged match.
    text: Option<Box<MatchText>>,
}

/// The texts of a logged or audit-logged [`RuleMatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct MatchText {
    msg: String,
    data: String,
    tags: Vec<String>,
    line: String,
    matched_var: (String, Vec<u8>),
}

impl RuleMatch {
    /// The record of a match that is neither logged nor audit-logged: nothing will print
    /// it, so it holds no text.
    fn silent(id: u64, phase: u8, severity: Option<u8>) -> RuleMatch {
        RuleMatch {
            id,
            phase,
            severity,
            log: false,
            auditlog: false,
            text: None,
        }
    }

    /// Expanded `msg` (empty for a silent match).
    pub fn msg(&self) -> &str {
        self.text.as_ref().map_or("", |t| &t.msg)
    }

    /// Expanded `logdata` (empty for a silent match).
    pub fn data(&self) -> &str {
        self.text.as_ref().map_or("", |t| &t.data)
    }

    /// Tags (none recorded for a silent match).
    pub fn tags(&self) -> &[String] {
        self.text.as_ref().map_or(&[], |t| &t.tags)
    }

    /// The whole ModSecurity-format log line (`ModSecurity: Warning. … [id "…"] …`; empty
    /// for a silent match).
    pub fn line(&self) -> &str {
        self.text.as_ref().map_or("", |t| &t.line)
    }

    /// The variable that matched last (`ARGS:x`) and its value (empty for a silent match).
    pub fn matched_var(&self) -> (&str, &[u8]) {
        self.text
            .as_ref()
            .map_or(("", &[]), |t| (&t.matched_var.0, &t.matched_var.1))
    }
}

/// A variable value produced for a rule: its name and bytes, borrowed where possible.
#[derive(Debug)]
struct Val<'a> {
    name: Name<'a>,
    value: Cow<'a, [u8]>,
    /// Where the value lives, for the transformation cache (0: not cacheable). Values of
    /// the request and response never change once set, so (slot, chain) identifies a
    /// transformed value without hashing its bytes.
    slot: u32,
}

/// Emits the members of `list` (collection `kind`, see [`slot`]) that target `t` selects,
/// their names (`names`) or values, under `label`: all of them, or those in `only` (sorted
/// slots of the candidate values of the rule being evaluated) and those without a slot.
#[inline(always)]
fn pairs_of<'a, F: FnMut(Val<'a>) + ?Sized>(
    t: &Target,
    only: Option<&[u64]>,
    out: &mut F,
    list: &'a [Pair],
    names: bool,
    label: &'static str,
    kind: u32,
) {
    let kind = kind * 2 + u32::from(names);
    let all = matches!(t.selector, Selector::All);
    let mut emit = |i: usize, (k, v): &'a Pair| {
        if all || t.selector.selects(k) {
            out(Val {
                name: Name::Keyed(label, Cow::Borrowed(k)),
                value: Cow::Borrowed(if names { k } else { v }),
                slot: slot(kind, i),
            });
        }
    };
    match only {
        Some(hits) => candidate_members(list, kind, hits, &mut emit),
        None => {
            for (i, pair) in list.iter().enumerate() {
                emit(i, pair);
            }
        }
    }
}

/// Calls `emit` with the members of `list` (collection `kind`, see [`slot`]) whose slot is
/// in `hits` (sorted slots of one rule's candidate values), in list order, and with the
/// members too far down the list for a slot, which are never ruled out.
#[inline(never)]
fn candidate_members<'a>(
    list: &'a [Pair],
    kind: u32,
    hits: &[u64],
    emit: &mut impl FnMut(usize, &'a Pair),
) {
    let first = slot(kind, 0);
    let from = hits.partition_point(|&h| (h as u32) < first);
    for &h in hits.get(from..).unwrap_or_default() {
        match slot_member(h as u32) {
            Some((k, i)) if k == kind => {
                if let Some(pair) = list.get(i) {
                    emit(i, pair);
                }
            }
            _ => break,
        }
    }
    for (i, pair) in list.iter().enumerate().skip(NO_SLOT) {
        emit(i, pair);
    }
}

/// Whether `TX` member `key` is one of `TX:0`–`TX:9` (see [`Transaction::tx_digits`]).
fn is_digit_key(key: &str) -> bool {
    matches!(key.as_bytes(), [b'0'..=b'9'])
}

/// Members of a collection from this index on get no slot (see [`slot`]).
const NO_SLOT: usize = (1 << SLOT_BITS) - 1;
/// Bits of a slot that number the member (the rest name the collection kind).
const SLOT_BITS: u32 = 20;

/// Slot of member `i` of collection `kind` (see [`Val::slot`]).
fn slot(kind: u32, i: usize) -> u32 {
    if i >= NO_SLOT {
        return 0;
    }
    kind << SLOT_BITS | (i as u32 + 1)
}

/// The collection kind and member index a slot stands for; `None` for slot 0 (no slot).
fn slot_member(slot: u32) -> Option<(u32, usize)> {
    let i = (slot & ((1 << SLOT_BITS) - 1)) as usize;
    Some((slot >> SLOT_BITS, i.checked_sub(1)?))
}

/// A value's name, rendered (`ARGS:id`) only when a rule matches it.
#[derive(Debug)]
enum Name<'a> {
    /// A scalar (`REQUEST_URI`).
    Plain(&'static str),
    /// A collection member (`ARGS`, `id`).
    Keyed(&'static str, Cow<'a, [u8]>),
    /// A member of a stored collection (`TX`, `blocking_paranoia_level`), whose name is
    /// text already (rendered without a UTF-8 check).
    Stored(&'static str, &'a str),
    /// A name built already (`MATCHED_VARS` members).
    Full(&'a str),
    /// A count (`&ARGS`, `&TX:foo`): the counted target.
    Count(&'a Target),
}

impl Name<'_> {
    /// The member key (what exclusions select on).
    fn key(&self) -> &[u8] {
        match self {
            Name::Plain(_) => b"",
            Name::Keyed(_, k) => k,
            Name::Stored(_, k) => k.as_bytes(),
            Name::Full(n) => n.split_once(':').map_or(&b""[..], |(_, k)| k.as_bytes()),
            Name::Count(_) => b"",
        }
    }

    /// Appends the name as logs show it (`ARGS:id`, `&TX:foo`) to `out`.
    fn render_into(&self, out: &mut String) {
        match self {
            Name::Plain(n) => out.push_str(n),
            Name::Keyed(n, k) => {
                out.push_str(n);
                out.push(':');
                push_lossy(out, k);
            }
            Name::Stored(n, k) => {
                out.push_str(n);
                out.push(':');
                out.push_str(k);
            }
            Name::Full(n) => out.push_str(n),
            Name::Count(t) => t.write_text(out),
        }
    }
}

/// Appends `b` to `out` as `String::from_utf8_lossy` would render it.
fn push_lossy(out: &mut String, b: &[u8]) {
    if let Ok(s) = std::str::from_utf8(b) {
        out.push_str(s);
        return;
    }
    for chunk in b.utf8_chunks() {
        out.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            out.push(char::REPLACEMENT_CHARACTER);
        }
    }
}

/// One value a rule matched: its name's range in [`Scratch::names`], its value's range in
/// [`Scratch::values`] and the range of its groups in [`Scratch::captures`].
type Hit = (Range<usize>, Range<usize>, Range<usize>);

/// The values a rule matched, kept in reused buffers until the rule's actions run:
/// names and values are appended to two strings and referred to by range.
#[derive(Debug, Default)]
struct Scratch {
    names: String,
    values: Vec<u8>,
    captures: operators::Captures,
    hits: Vec<Hit>,
}

impl Scratch {
    fn clear(&mut self) {
        self.names.clear();
        self.values.clear();
        self.captures.clear();
        self.hits.clear();
    }

    fn push(&mut self, name: &Name<'_>, value: &[u8], captures: &operators::Captures) {
        let n0 = self.names.len();
        name.render_into(&mut self.names);
        let v0 = self.values.len();
        self.values.extend_from_slice(value);
        let c0 = self.captures.len();
        self.captures.extend_from(captures);
        self.hits.push((
            n0..self.names.len(),
            v0..self.values.len(),
            c0..self.captures.len(),
        ));
    }
}

/// What a rule evaluation needs besides the values: operator outputs, the transaction's
/// transformation cache and the hits of the rule.
#[derive(Debug, Default)]
struct Work {
    out: OpOutput,
    cache: TransformCache,
    scratch: Scratch,
}

/// `MATCHED_VARS` of the chain being evaluated; entries keep their buffers across rules.
#[derive(Debug, Default)]
struct MatchedVars {
    items: Vec<(String, Vec<u8>)>,
    len: usize,
}

impl MatchedVars {
    fn clear(&mut self) {
        self.len = 0;
    }

    fn push(&mut self, name: &str, value: &[u8]) {
        if let Some((n, v)) = self.items.get_mut(self.len) {
            n.clear();
            n.push_str(name);
            v.clear();
            v.extend_from_slice(value);
        } else {
            self.items.push((name.to_string(), value.to_vec()));
        }
        self.len += 1;
    }

    fn iter(&self) -> impl Iterator<Item = &(String, Vec<u8>)> {
        self.items.iter().take(self.len)
    }
}

/// Transformed values, cached per transaction: CRS applies the same `t:` chains to the
/// same values hundreds of times, and its chains share steps (`urlDecodeUni` starts a dozen
/// of them) most of which leave a benign value unchanged.
///
/// Each step is cached on its own, per value (by slot, see [`Val::slot`]) and *effective*
/// sequence of transformations that led to its input, i.e. the steps that changed the
/// value: `utf8toUnicode,urlDecodeUni,removeWhitespace` and `urlDecodeUni,removeWhitespace`
/// on an ASCII value without `%` share one `removeWhitespace` result. On top, a chain's
/// result is recorded by chain id (interned at compile time), so that a rule repeating a
/// chain costs one search. Measured (callgrind, CRS 4.28 PL1, 20 KB JSON request): 30,800
/// transformation calls per request became 8,000. Results are lent out, not shared (no
/// reference count per lookup). Before any of that, a value without a trigger of the chain
/// ([`crate::transformations::triggers`], its classes computed once per slot) is the raw
/// value, without a lookup (JSON request −12 %).
#[derive(Debug, Default)]
struct TransformCache {
    slots: FxHashMap<u32, SlotCache>,
    /// Number of chain ids (`RuleSet::chain_count`).
    chains: u32,
    /// Per slot, `chains + 1` entries from its [`SlotCache::base`]: where each chain's
    /// result is, 0 not known yet, 1 the raw value, `k + 2` `steps[k]`. One table for
    /// every slot, kept with its capacity from transaction to transaction ([`Buffers`]),
    /// rather than a vector allocated per slot.
    chain_tab: Vec<u32>,
    /// Emptied step lists of earlier slots, reused by new ones.
    spare_steps: Vec<Vec<Step>>,
    /// Result buffers of earlier steps (of this transaction's unchanged ones, and of an
    /// earlier transaction's), lent to the next transformations: a step allocates nothing
    /// once the buffers have grown (form: 190 of 380 allocations per request were results).
    spare_bufs: body::Spare,
    /// The result for a value without a slot, of a chain too long to cache, or of a
    /// `multiMatch` step not cached; and the buffer it alternates with, step by step.
    scratch: Vec<u8>,
    scratch2: Vec<u8>,
    /// Per collection kind and member (see [`slot`]), the value's [`classes`]; 0 when not
    /// known yet (every value has [`crate::transformations::class::ALWAYS`]).
    classes: Vec<Vec<u32>>,
}

/// The cached transformations of one value.
#[derive(Debug, Default)]
struct SlotCache {
    /// Bit per transformation id: applied to the raw value, it changes nothing.
    noop: u64,
    /// Where the slot's entries start in [`TransformCache::chain_tab`].
    base: usize,
    /// Raw-value no-ops are in `noop` instead.
    steps: Vec<Step>,
}

/// (Effective sequence, its result); `None` when the last step changed nothing (the value
/// is then the parent sequence's).
type Step = (u64, Option<Vec<u8>>);

/// Effective sequences are packed 6 bits per step (transformation id + 1), 0 being the
/// raw value; a sequence of more than `MAX_STEPS` changing steps is not cached.
const MAX_STEPS: u32 = 10;

/// The effective sequence `seq` followed by step `t`, or `None` when it is too long to
/// pack (see [`MAX_STEPS`]).
fn next_seq(seq: u64, t: &crate::actions::Transform) -> Option<u64> {
    if seq >> (6 * (MAX_STEPS - 1)) != 0 || t.id >= 63 {
        return None;
    }
    Some(seq << 6 | (u64::from(t.id) + 1))
}

impl SlotCache {
    /// Where effective sequence `seq` is (see [`TransformCache::chain_tab`]), if known.
    fn find(&self, seq: u64) -> Option<u32> {
        if seq == 0 {
            return Some(1);
        }
        let k = self.steps.iter().position(|s| s.0 == seq)?;
        u32::try_from(k + 2).ok()
    }

    /// The value at position `at` (see [`TransformCache::chain_tab`]); `None` for the raw
    /// value.
    fn at(&self, at: u32) -> Option<&[u8]> {
        self.steps.get(at.checked_sub(2)? as usize)?.1.as_deref()
    }
}

impl TransformCache {
    /// `raw` after rule `r`'s transformation chain. An empty chain, or a value without
    /// any of the chain's trigger classes ([`classes`], [`Rule::triggers`]), is `raw`
    /// itself, without a lookup.
    #[inline(always)]
    fn value<'a>(&'a mut self, r: &Rule, raw: &'a [u8], slot: u32) -> &'a [u8] {
        if r.actions.transforms.is_empty() {
            return raw;
        }
        let classes = self.classes_of(raw, slot);
        if r.triggers & classes == 0 {
            return raw;
        }
        self.lookup(r, raw, slot, classes).unwrap_or(raw)
    }

    /// Forgets every value, keeping the tables' room, the slots' step lists and (within
    /// [`body::Spare`]'s budget) their result buffers.
    fn clear(&mut self) {
        for (_, rec) in self.slots.drain() {
            let mut steps = rec.steps;
            for buf in steps.drain(..).filter_map(|(_, b)| b) {
                self.spare_bufs.give(buf);
            }
            if steps.capacity() != 0 && self.spare_steps.len() < 256 {
                self.spare_steps.push(steps);
            }
        }
        self.chain_tab.clear();
        self.scratch.clear();
        self.classes.iter_mut().for_each(Vec::clear);
    }

    /// The [`classes`] of `raw`, the value in `slot`: computed once per slot (a value is
    /// read by dozens of rules), each time for a value without one.
    #[inline(always)]
    fn classes_of(&mut self, raw: &[u8], slot: u32) -> u32 {
        let Some((kind, i)) = slot_member(slot) else {
            return classes(raw);
        };
        let kind = kind as usize;
        match self.classes.get(kind).and_then(|list| list.get(i)) {
            Some(&c) if c != 0 => c,
            _ => self.learn_classes(raw, kind, i),
        }
    }

    /// Computes and records the classes of the value of member `i` of collection `kind`.
    #[inline(never)]
    fn learn_classes(&mut self, raw: &[u8], kind: usize, i: usize) -> u32 {
        let c = classes(raw);
        if self.classes.len() <= kind {
            self.classes.resize_with(kind + 1, Vec::new);
        }
        if let Some(list) = self.classes.get_mut(kind) {
            if list.len() <= i {
                list.resize((i + 1).max(32), 0);
            }
            if let Some(slot) = list.get_mut(i) {
                *slot = c;
            }
        }
        c
    }

    /// The value after the chain, or `None` when the chain leaves it unchanged; cached
    /// unless the value has no slot. `raw_classes` are the value's [`classes`].
    fn lookup(&mut self, r: &Rule, raw: &[u8], slot: u32, raw_classes: u32) -> Option<&[u8]> {
        let chain = r.actions.transforms.as_slice();
        if slot == 0 || r.tchain > self.chains {
            return Self::apply_rest(&mut self.scratch, &mut self.scratch2, chain, raw);
        }
        let chains = self.chains as usize + 1;
        let tab = &mut self.chain_tab;
        let spare = &mut self.spare_steps;
        let bufs = &mut self.spare_bufs;
        let rec = self.slots.entry(slot).or_insert_with(|| {
            let base = tab.len();
            tab.resize(base + chains, 0);
            SlotCache {
                noop: 0,
                base,
                steps: spare.pop().unwrap_or_default(),
            }
        });
        let entry = rec.base + r.tchain as usize;
        let known = tab.get(entry).copied().unwrap_or(0);
        if known != 0 {
            return rec.at(known);
        }
        // Every step known to leave the raw value unchanged (learnt from other chains).
        if r.tmask & !rec.noop == 0 {
            if let Some(c) = tab.get_mut(entry) {
                *c = 1;
            }
            return None;
        }
        // Walk the chain, reusing and recording each step's result.
        let mut seq = 0u64;
        let mut at = 1u32;
        for (k, t) in chain.iter().enumerate() {
            let bit = 1u64.checked_shl(u32::from(t.id)).unwrap_or(0);
            // On the raw value, a step known to change nothing, or whose triggers the
            // value lacks, is passed over.
            if seq == 0 && (rec.noop & bit != 0 || t.triggers & raw_classes == 0) {
                rec.noop |= bit;
                continue;
            }
            let Some(next) = next_seq(seq, t) else {
                // Too long to pack: the rest of the chain is not cached.
                let rest = chain.get(k..).unwrap_or_default();
                let input = rec.at(at).unwrap_or(raw);
                if Self::apply_rest(&mut self.scratch, &mut self.scratch2, rest, input).is_none() {
                    self.scratch.clear();
                    self.scratch.extend_from_slice(input);
                }
                return Some(&self.scratch);
            };
            match rec.find(next) {
                Some(pos) => {
                    if rec.at(pos).is_some() {
                        seq = next;
                        at = pos;
                    }
                }
                None => {
                    let mut buf = bufs.take();
                    let changed = t.apply(rec.at(at).unwrap_or(raw), &mut buf);
                    let out = if changed {
                        Some(buf)
                    } else {
                        bufs.give(buf);
                        None
                    };
                    if !changed && seq == 0 {
                        rec.noop |= bit;
                        continue;
                    }
                    rec.steps.push((next, out));
                    if changed {
                        seq = next;
                        at = u32::try_from(rec.steps.len() + 1).unwrap_or(1);
                    }
                }
            }
        }
        if let Some(c) = tab.get_mut(entry) {
            *c = at;
        }
        rec.at(at)
    }

    /// multiMatch: the first of `raw` and of the values each step of rule `r`'s chain
    /// changes it into that `test` accepts. Steps already in the cache (other rules'
    /// chains share their prefixes) are reused; the others are computed here and not
    /// recorded: on short values recording them cost more than it saved (measured).
    fn first_step_matching<'a>(
        &'a mut self,
        r: &Rule,
        raw: &'a [u8],
        slot: u32,
        test: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Option<&'a [u8]> {
        if test(raw) {
            return Some(raw);
        }
        let chain = r.actions.transforms.as_slice();
        let raw_classes = self.classes_of(raw, slot);
        if chain.is_empty() || r.triggers & raw_classes == 0 {
            return None;
        }
        let rec = (slot != 0).then(|| self.slots.get(&slot)).flatten();
        // The cached part: `from` is the first step not found.
        let (mut seq, mut from) = (0u64, 0usize);
        let mut at: Option<&[u8]> = None;
        if let Some(rec) = rec {
            for t in chain {
                let bit = 1u64.checked_shl(u32::from(t.id)).unwrap_or(0);
                if seq == 0 && rec.noop & bit != 0 {
                    from += 1;
                    continue;
                }
                let Some(next) = next_seq(seq, t) else { break };
                let Some(pos) = rec.find(next) else { break };
                from += 1;
                if let Some(v) = rec.at(pos) {
                    seq = next;
                    at = Some(v);
                    if test(v) {
                        return Some(v);
                    }
                }
            }
        }
        // The rest, computed in the two scratch buffers by turns (`scratch` holds the
        // current value once a step changed it). A step whose triggers the value lacks
        // leaves it as it is and is not run.
        let mut classes = if at.is_none() { raw_classes } else { 0 };
        let (cur, next) = (&mut self.scratch, &mut self.scratch2);
        let mut computed = false;
        for t in chain.get(from..).unwrap_or_default() {
            let input: &[u8] = if computed { cur } else { at.unwrap_or(raw) };
            if classes == 0 {
                classes = crate::transformations::classes(input);
            }
            if t.triggers & classes == 0 {
                continue;
            }
            next.clear();
            if t.apply(input, next) {
                classes = 0;
                std::mem::swap(cur, next);
                computed = true;
                if test(cur) {
                    return Some(cur);
                }
            }
        }
        None
    }

    /// Applies `chain` to `input`, the result in `scratch` (`other` is the buffer it
    /// alternates with); `None` when nothing changed.
    fn apply_rest<'s>(
        scratch: &'s mut Vec<u8>,
        other: &mut Vec<u8>,
        chain: &[crate::actions::Transform],
        input: &[u8],
    ) -> Option<&'s [u8]> {
        let mut computed = false;
        for t in chain {
            other.clear();
            let cur: &[u8] = if computed { scratch } else { input };
            if t.apply(cur, other) {
                std::mem::swap(scratch, other);
                computed = true;
            }
        }
        computed.then_some(scratch.as_slice())
    }
}

/// Work counters of a transaction, for benchmarks and tuning.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Rules (chain starters) evaluated.
    pub rules: u32,
    /// Operator evaluations.
    pub op_calls: u32,
    /// Rules (chain starters) skipped because the prefilter found none of their literals.
    pub skipped: u32,
    /// Fixed rules (chain starters) replayed from their benign-path outcome rather than
    /// evaluated (see [`crate::replay`]).
    pub replayed: u32,
    /// Steps of a `multiMatch` chain whose value was not handed to the operator: shorter
    /// than any match, or without a prefix of its literals ([`crate::prefilter::gate_for`]).
    pub gated: u32,
}

/// Per-transaction state of replay ([`crate::replay`]).
#[derive(Debug, Default)]
struct ReplayState {
    /// `TX` members written otherwise than by replay (bits of [`crate::replay::Replay`]).
    dirty: Bits,
    /// Whether a member no fixed rule reads by name was written so.
    untracked: bool,
    /// Whether the transaction left the benign path's flow: nothing is replayed any more.
    off: bool,
}

impl ReplayState {
    /// Whether `o` may be replayed: the members it reads hold their benign-path values.
    fn admits(&self, o: &Outcome) -> bool {
        self.admits_reads(&o.reads, o.reads_any)
    }

    /// Whether what reads the members `reads` (every member if `reads_any`) may be
    /// replayed.
    fn admits_reads(&self, reads: &[u64], reads_any: bool) -> bool {
        !self.off
            && !(reads_any && (self.untracked || self.dirty.iter().any(|&w| w != 0)))
            && reads.iter().zip(&self.dirty).all(|(r, d)| r & d == 0)
    }
}

/// The benign path being recorded at configure time ([`benign_path`]).
#[derive(Debug, Default)]
struct Sim {
    /// Per rule index, the outcome recorded.
    outcomes: Vec<Option<Box<Outcome>>>,
    /// `TX` members the rule being evaluated wrote.
    written: Vec<Arc<str>>,
}

/// Per-transaction state of the rule prefilter ([`crate::prefilter`]).
#[derive(Debug, Default)]
struct PrefilterState {
    /// Per group: whether its candidates are known.
    done: Vec<bool>,
    /// Bit per rule index: may match (set when a group's scan found one of its literals).
    cand: Vec<u64>,
    /// Sorted `rule index << 32 | slot` of every value (with a slot) in which a group's
    /// scan found one of the rule's literals: a candidate rule is only evaluated on those
    /// values (and on values without a slot, which cannot be told apart).
    hits: Vec<u64>,
    /// Rule index + 1 of the chain starter being evaluated with per-value candidates.
    current: usize,
    /// While a chain starter with per-value candidates is evaluated, their range in
    /// `hits`: its collections' values are gathered from them only (see
    /// [`Transaction::members`]).
    restrict: Option<(usize, usize)>,
}

/// Per-request state and phase driver.
#[derive(Debug)]
pub struct Transaction {
    rules: Arc<RuleSet>,
    id: String,
    started: Instant,
    conn: LazyConnection,
    // Request.
    method: String,
    uri_raw: Vec<u8>,
    request_line: Vec<u8>,
    uri: Vec<u8>,
    protocol: String,
    filename: Vec<u8>,
    query: Vec<u8>,
    headers: Vec<Pair>,
    cookies: Vec<Pair>,
    args_get: Vec<Pair>,
    args_post: Vec<Pair>,
    urlencoded_error: bool,
    body: Vec<u8>,
    body_seen: u64,
    body_truncated: bool,
    multipart: Option<Multipart>,
    xml: Option<XmlDoc>,
    reqbody_processor: Option<String>,
    reqbody_error: Option<String>,
    // Response.
    status: u16,
    resp_protocol: String,
    resp_headers: Vec<Pair>,
    resp_body: Vec<u8>,
    /// Emptied name and value vectors of an earlier transaction's headers and arguments,
    /// for this one's (see [`Buffers::bytes`]).
    spare_bytes: body::Spare,
    resp_seen: u64,
    // Runtime state.
    /// `TX`, the collection CRS uses most, outside the map of the others.
    tx: Collection,
    /// `TX:0`–`TX:9` from this digit on are absent: a capture that sets fewer groups
    /// removes (and marks written) only those that may exist. Any other write of a digit
    /// member raises it to 10.
    tx_digits: u8,
    /// The other stored collections (`ENV`, `IP`, …) by lower-case name.
    colls: FxHashMap<String, Collection>,
    engine: EngineMode,
    request_body_access: bool,
    response_body_access: bool,
    request_body_limit: u64,
    response_body_limit: u64,
    force_body_var: bool,
    audit_engine: AuditEngine,
    audit_parts: String,
    /// Rules removed by `ctl:ruleRemoveById/ByTag/ByMsg`.
    removed: Vec<RuleSel>,
    removed_targets: Vec<(RuleSel, Target)>,
    matched_var: (String, Vec<u8>),
    matched_vars: MatchedVars,
    highest_severity: u8,
    matches: Vec<RuleMatch>,
    intervention: Option<Intervention>,
    would: Option<Intervention>,
    allow: Option<AllowScope>,
    phases_done: u8,
    sanitise: Vec<String>,
    sanitise_seen: FxHashSet<String>,
    /// Buffers reused by every rule evaluation, taken out while in use (`None` then);
    /// boxed, so that taking and putting back moves one pointer.
    work: Option<Box<Work>>,
    /// Reused buffer for expanded `setvar` values.
    expand_buf: Vec<u8>,
    stats: Stats,
    prefilter: PrefilterState,
    replay: ReplayState,
    /// Set only while [`benign_path`] records.
    sim: Option<Box<Sim>>,
}

/// Which rules a runtime removal (`ctl:ruleRemove*`) applies to.
#[derive(Debug, Clone)]
enum RuleSel {
    Ids(Vec<(u64, u64)>),
    /// A tag and its [`crate::rules::tag_bit`].
    Tag(String, u64),
    Msg(String),
}

impl RuleSel {
    /// The rules tagged `tag`.
    fn tag(tag: &str) -> RuleSel {
        RuleSel::Tag(tag.to_string(), crate::rules::tag_bit(tag))
    }

    /// The rules `ctl:ruleRemoveById/ByTag/ByMsg` removes; `None` for another `ctl`.
    fn removal(c: &Ctl) -> Option<RuleSel> {
        match c {
            Ctl::RuleRemoveById(ids) => Some(RuleSel::Ids(ids.clone())),
            Ctl::RuleRemoveByTag(t) => Some(RuleSel::tag(t)),
            Ctl::RuleRemoveByMsg(m) => Some(RuleSel::Msg(m.clone())),
            _ => None,
        }
    }

    /// Whether `rule` (a chain's starter) is one of the rules selected.
    fn selects(&self, rule: &Rule) -> bool {
        match self {
            RuleSel::Ids(ids) => ids.iter().any(|&(a, b)| (a..=b).contains(&rule.id)),
            RuleSel::Tag(tag, bit) => rule.has_tag_bit(tag, *bit),
            RuleSel::Msg(m) => rule.msg_matches(m),
        }
    }
}

fn lower(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_ascii_lowercase(),
        Err(_) => String::from_utf8_lossy(b).to_ascii_lowercase(),
    }
}

fn percent_decode(input: &[u8]) -> Vec<u8> {
    // libmodsecurity's uri_decode: %XX only, `+` kept, invalid escapes left as they are.
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%' && i + 2 < input.len() {
            let h = (input[i + 1] as char).to_digit(16);
            let l = (input[i + 2] as char).to_digit(16);
            if let (Some(h), Some(l)) = (h, l) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

fn num(v: impl ToString) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// `n` in decimal: borrowed from a static table below 100 (counts such as CRS's
/// `&TX:xxx "@eq 0"`, ~30 per request, then cost no allocation), owned above.
fn count_text(n: usize) -> Cow<'static, [u8]> {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";
    match n {
        0..=9 => Cow::Borrowed(&PAIRS[2 * n + 1..2 * n + 2]),
        10..=99 => Cow::Borrowed(&PAIRS[2 * n..2 * n + 2]),
        _ => Cow::Owned(num(n)),
    }
}

/// `cur + d` for `setvar:x=+d`, `cur - d` for `setvar:x=-d` (saturating).
fn add_sub(op: SetOp, cur: i64, d: i64) -> i64 {
    if op == SetOp::Add {
        cur.saturating_add(d)
    } else {
        cur.saturating_sub(d)
    }
}

/// Parses a setvar value as ModSecurity does (`std::stoi`): leading whitespace (C
/// `isspace`), an optional sign and the digits that follow; 0 when there are none or the
/// number overflows. Works on the bytes, without a copy.
fn to_int(v: &[u8]) -> i64 {
    let start = v
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
        .unwrap_or(v.len());
    let s = &v[start..];
    let sign = usize::from(matches!(s.first(), Some(b'-' | b'+')));
    let end = sign + s[sign..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&s[..end])
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0)
}

/// Whether the jump of rule `idx` (matched and evaluated, not replayed), from position
/// `next` of phase list `list`, passes over a fixed rule that matched on the benign path:
/// its effects would then be missing (see [`crate::replay`]). Passing over rules that did
/// not match there changes nothing.
fn skips_benign_matches(rules: &RuleSet, list: &[Item], next: usize, idx: usize) -> bool {
    let (end, mut left) = match (
        rules.skip_to.get(idx).copied().flatten(),
        rules.rules.get(idx),
    ) {
        (Some(to), _) => (to, usize::MAX),
        (None, Some(r)) if r.actions.skip > 0 => (list.len(), r.actions.skip as usize),
        _ => return false,
    };
    for item in list.get(next..end).unwrap_or_default() {
        let Some(j) = item.rule() else {
            continue;
        };
        if left == 0 {
            break;
        }
        left -= 1;
        if rules
            .replay
            .outcomes
            .get(j)
            .and_then(Option::as_deref)
            .is_some_and(|o| o.matched)
        {
            return true;
        }
    }
    false
}

/// Runs `rules` on an empty transaction in which only fixed rules may match, and returns
/// the outcomes of the fixed rules it reached, per rule index (see [`crate::replay`]).
pub(crate) fn benign_path(rules: &Arc<RuleSet>) -> Vec<Option<Box<Outcome>>> {
    if !(0..rules.rules.len()).any(|i| rules.replay.is_fixed(i)) {
        return Vec::new();
    }
    let mut tx = Transaction::new(rules.clone(), "benign-path");
    tx.sim = Some(Box::new(Sim {
        outcomes: (0..rules.rules.len()).map(|_| None).collect(),
        written: Vec::new(),
    }));
    tx.set_request_line("GET", b"/", "HTTP/1.1");
    let _ = tx.process_request_headers();
    let _ = tx.process_request_body();
    tx.set_response_status(200, "HTTP/1.1");
    let _ = tx.process_response_headers();
    let _ = tx.process_response_body();
    tx.process_logging();
    tx.sim.take().map(|s| s.outcomes).unwrap_or_default()
}

/// The buffers a finished transaction leaves to the next one on its thread: `TX` sized
/// for CRS, the match list, the transformation cache, the prefilter's bit sets. Without
/// them every transaction allocated and freed a dozen large blocks and grew its vectors
/// again (glibc's `malloc` sorts its bins on the first large request after a free: ~8,000
/// instructions for `TX` alone on a benign GET). Everything is emptied when it is put back,
/// so nothing of a request reaches the next but capacity; a buffer that grew beyond
/// [`Buffers::KEEP`] entries (a request with thousands of arguments) is freed instead.
#[derive(Debug)]
struct Buffers {
    tx: Collection,
    matches: Vec<RuleMatch>,
    work: Box<Work>,
    matched_vars: MatchedVars,
    expand_buf: Vec<u8>,
    done: Vec<bool>,
    cand: Vec<u64>,
    hits: Vec<u64>,
    /// The name and value vectors of the headers and arguments, emptied (within
    /// [`body::Spare`]'s budget): a benign GET allocated 27 of its 97 blocks for them, the
    /// 1 KB form 94 of 205.
    bytes: body::Spare,
}

thread_local! {
    /// Spare [`Buffers`]; a thread runs a few transactions at once at most (one per
    /// stream in a proxy-wasm VM), so a few are kept.
    static SPARE: std::cell::RefCell<Vec<Buffers>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Buffers {
    /// Entries beyond which a buffer is not kept.
    const KEEP: usize = 4096;
    /// Spare sets kept per thread.
    const SPARE: usize = 8;

    /// A spare set from this thread, or new ones sized for CRS.
    fn take() -> Buffers {
        SPARE
            .try_with(|s| s.borrow_mut().pop())
            .ok()
            .flatten()
            .unwrap_or_else(|| Buffers {
                // CRS keeps ~150 `TX` members: room for them up front, not rehashing
                // through every power of two.
                tx: Collection::with_capacity(192),
                // CRS records ~90 matches per request, most of them `nolog` bookkeeping.
                matches: Vec::with_capacity(128),
                work: Box::new(Work {
                    out: OpOutput::default(),
                    // CRS caches a few hundred values per request: sized once rather than
                    // grown (and rehashed) through every power of two.
                    cache: TransformCache {
                        slots: FxHashMap::with_capacity_and_hasher(64, Default::default()),
                        chains: 0,
                        chain_tab: Vec::new(),
                        spare_steps: Vec::new(),
                        scratch: Vec::new(),
                        scratch2: Vec::new(),
                        spare_bufs: body::Spare::default(),
                        classes: Vec::new(),
                    },
                    scratch: Scratch::default(),
                }),
                matched_vars: MatchedVars::default(),
                expand_buf: Vec::new(),
                done: Vec::new(),
                cand: Vec::new(),
                hits: Vec::new(),
                bytes: body::Spare::default(),
            })
    }

    /// Empties the buffers and keeps them for the next transaction of this thread, unless
    /// one grew too large or enough are kept.
    fn put_back(mut self) {
        let large = self.tx.capacity() > Self::KEEP
            || self.matches.capacity() > Self::KEEP
            || self.work.cache.slots.capacity() > Self::KEEP
            || self.work.cache.chain_tab.capacity() > 64 * Self::KEEP
            || self.hits.capacity() > 16 * Self::KEEP
            || self.expand_buf.capacity() > 16 * Self::KEEP
            || self.work.cache.scratch.capacity() > 16 * Self::KEEP
            || self.work.cache.scratch2.capacity() > 16 * Self::KEEP;
        if large {
            return;
        }
        self.tx.clear();
        self.matches.clear();
        let w = &mut *self.work;
        w.out.reset();
        w.cache.clear();
        w.scratch.clear();
        self.matched_vars.clear();
        self.expand_buf.clear();
        self.done.clear();
        self.cand.clear();
        self.hits.clear();
        let _ = SPARE.try_with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < Self::SPARE {
                s.push(self);
            }
        });
    }
}

/// Hands the transaction's large buffers to the next one on this thread ([`Buffers`]).
impl Drop for Transaction {
    fn drop(&mut self) {
        let Some(work) = self.work.take() else {
            return;
        };
        use std::mem::take;
        let mut bytes = take(&mut self.spare_bytes);
        for list in [
            &mut self.headers,
            &mut self.cookies,
            &mut self.args_get,
            &mut self.args_post,
            &mut self.resp_headers,
        ] {
            for (k, v) in list.drain(..) {
                bytes.give(k);
                bytes.give(v);
            }
        }
        Buffers {
            tx: take(&mut self.tx),
            matches: take(&mut self.matches),
            work,
            matched_vars: take(&mut self.matched_vars),
            expand_buf: take(&mut self.expand_buf),
            done: take(&mut self.prefilter.done),
            cand: take(&mut self.prefilter.cand),
            hits: take(&mut self.prefilter.hits),
            bytes,
        }
        .put_back();
    }
}

impl Transaction {
    /// Starts a transaction for `rules`; `id` becomes `UNIQUE_ID`.
    pub fn new(rules: Arc<RuleSet>, id: impl Into<String>) -> Self {
        let s = &rules.settings;
        let mut b = Buffers::take();
        b.work.cache.chains = rules.chain_count;
        b.done.resize(rules.prefilter.groups.len(), false);
        b.cand.resize(rules.rules.len().div_ceil(64), 0);
        Transaction {
            id: id.into(),
            started: Instant::now(),
            conn: LazyConnection::default(),
            method: String::new(),
            uri_raw: Vec::new(),
            request_line: Vec::new(),
            uri: Vec::new(),
            protocol: String::new(),
            filename: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            cookies: Vec::new(),
            args_get: Vec::new(),
            args_post: Vec::new(),
            urlencoded_error: false,
            body: Vec::new(),
            body_seen: 0,
            body_truncated: false,
            multipart: None,
            xml: None,
            reqbody_processor: None,
            reqbody_error: None,
            status: 0,
            resp_protocol: String::new(),
            resp_headers: Vec::new(),
            spare_bytes: b.bytes,
            resp_body: Vec::new(),
            resp_seen: 0,
            tx: b.tx,
            tx_digits: 0,
            colls: FxHashMap::default(),
            engine: s.engine,
            request_body_access: s.request_body_access,
            response_body_access: s.response_body_access,
            request_body_limit: s.request_body_limit,
            response_body_limit: s.response_body_limit,
            force_body_var: false,
            audit_engine: s.audit_engine,
            audit_parts: s.audit_log_parts.clone(),
            removed: Vec::new(),
            removed_targets: Vec::new(),
            matched_var: (String::new(), Vec::new()),
            matched_vars: b.matched_vars,
            highest_severity: 255,
            matches: b.matches,
            intervention: None,
            would: None,
            allow: None,
            phases_done: 0,
            sanitise: Vec::new(),
            sanitise_seen: FxHashSet::default(),
            work: Some(b.work),
            expand_buf: b.expand_buf,
            stats: Stats::default(),
            prefilter: PrefilterState {
                done: b.done,
                cand: b.cand,
                hits: b.hits,
                current: 0,
                restrict: None,
            },
            replay: ReplayState {
                dirty: SmallVec::from_elem(0, rules.replay.words()),
                untracked: false,
                off: rules.replay.outcomes.is_empty(),
            },
            sim: None,
            rules,
        }
    }

    /// Work counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The rule set this transaction runs.
    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// The transaction id (`UNIQUE_ID`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The engine mode in force (after any `ctl:ruleEngine`).
    pub fn engine_mode(&self) -> EngineMode {
        self.engine
    }

    /// Sets connection addresses (before phase 1).
    pub fn set_connection(&mut self, conn: &Connection) {
        self.conn = LazyConnection::known(conn);
    }

    /// Sets where the connection's ends come from when they are not known up front: the
    /// transaction calls `client` once, the first time a rule reads `REMOTE_ADDR`,
    /// `REMOTE_HOST` or `REMOTE_PORT`, and `server` once, the first time one reads
    /// `SERVER_ADDR`, `SERVER_PORT` (or `SERVER_NAME` without a `Host`); both when the
    /// audit record is written; neither when nothing reads them. For hosts where asking
    /// costs: under Envoy each end is a `get_property` call, about 2 µs of proxy CPU, and
    /// CRS reads only `REMOTE_ADDR` on every request (905110).
    pub fn set_connection_source(&mut self, client: EndpointSource, server: EndpointSource) {
        let defaults = Connection::default();
        self.conn = LazyConnection {
            client: LazyEndpoint::asked_of(client, defaults.client_port),
            server: LazyEndpoint::asked_of(server, defaults.server_port),
        };
    }

    /// Sets the request line: method, the raw request target (path and query, as sent),
    /// and protocol (`HTTP/1.1`).
    pub fn set_request_line(&mut self, method: &str, uri: &[u8], protocol: &str) {
        self.method = method.to_string();
        self.protocol = protocol.to_string();
        self.uri_raw = uri.to_vec();
        // REQUEST_LINE, built once (CRS reads it in several rules).
        self.request_line = [method.as_bytes(), b" ", uri, b" ", protocol.as_bytes()].concat();
        // A `#fragment` stays only in REQUEST_URI_RAW and REQUEST_LINE (libmodsecurity 3
        // `Transaction::processURI`); REQUEST_URI, QUERY_STRING and ARGS_GET go without it.
        let uri = uri.split(|&b| b == b'#').next().unwrap_or_default();
        // Absolute form (`http://host/path`): REQUEST_URI is the path and query. A target
        // starting with `//` is a path, not an authority (CVE-2025-29914).
        let mut target = uri;
        if let Some(p) = uri.windows(3).position(|w| w == b"://") {
            let scheme_ok = p > 0 && uri[..p].iter().all(|b| b.is_ascii_alphabetic());
            if scheme_ok {
                let rest = &uri[p + 3..];
                target = match rest.iter().position(|&b| b == b'/' || b == b'?') {
                    Some(i) => &rest[i..],
                    None => b"/",
                };
            }
        }
        self.uri = target.to_vec();
        // Split path and query on the raw bytes before any decoding (CVE-2024-1019).
        let (path, query) = match target.iter().position(|&b| b == b'?') {
            Some(i) => (&target[..i], &target[i + 1..]),
            None => (target, &b""[..]),
        };
        self.filename = percent_decode(path);
        self.query = query.to_vec();
        let parsed = body::urlencoded::parse_pooled(
            query,
            self.rules.settings.argument_separator,
            &mut self.spare_bytes,
        );
        self.urlencoded_error |= parsed.invalid_encoding;
        self.args_get = parsed.pairs;
    }

    /// Adds one request header (repeat for repeated headers).
    pub fn add_request_header(&mut self, name: &[u8], value: &[u8]) {
        if name.eq_ignore_ascii_case(b"cookie") {
            // libmodsecurity splits cookies on `;` and trims leading spaces.
            for part in value.split(|&b| b == b';') {
                let part = part.trim_ascii_start();
                if part.is_empty() {
                    continue;
                }
                let (k, v) = match part.iter().position(|&b| b == b'=') {
                    Some(i) => (&part[..i], &part[i + 1..]),
                    None => (part, &b""[..]),
                };
                let pair = self.spare_bytes.pair(k, v);
                self.cookies.push(pair);
            }
        }
        if name.eq_ignore_ascii_case(b"content-type") {
            // libmodsecurity picks the body processor as the header arrives, so
            // REQBODY_PROCESSOR is already set in phase 1 (CRS 920400 relies on it).
            let v = lower(value);
            if v.starts_with("multipart/form-data") {
                self.reqbody_processor = Some("MULTIPART".into());
            } else if v.starts_with("application/x-www-form-urlencoded") {
                self.reqbody_processor = Some("URLENCODED".into());
            }
        }
        let pair = self.spare_bytes.pair(name, value);
        self.headers.push(pair);
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }

    fn resp_header(&self, name: &str) -> Option<&[u8]> {
        self.resp_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }

    /// Runs phase 1 (request headers).
    pub fn process_request_headers(&mut self) -> Option<Intervention> {
        self.run_phase(1)
    }

    /// Whether the host should buffer the request body for inspection
    /// (`SecRequestBodyAccess`, possibly changed by `ctl`).
    pub fn request_body_wanted(&self) -> bool {
        self.request_body_access && self.engine != EngineMode::Off && self.intervention.is_none()
    }

    /// Appends a request body chunk. Over `SecRequestBodyLimit` with `Reject` this returns a
    /// 413 intervention; with `ProcessPartial` the excess is dropped from inspection.
    pub fn append_request_body(&mut self, chunk: &[u8]) -> Option<Intervention> {
        if !self.request_body_wanted() {
            return None;
        }
        self.body_seen += chunk.len() as u64;
        let limit = self.request_body_limit;
        let room = limit.saturating_sub(self.body.len() as u64) as usize;
        if chunk.len() > room {
            self.body.extend_from_slice(&chunk[..room]);
            self.body_truncated = true;
            if self.rules.settings.request_body_limit_action == LimitAction::Reject {
                return self.limit_intervention(
                    413,
                    2,
                    format!("Request body is larger than the configured limit ({limit})."),
                );
            }
        } else {
            self.body.extend_from_slice(chunk);
        }
        None
    }

    fn limit_intervention(&mut self, status: u16, phase: u8, why: String) -> Option<Intervention> {
        let iv = Intervention {
            status,
            action: Action::Deny,
            rule_id: None,
            phase,
            log: format!(
                "ModSecurity: Access denied with code {status} (phase {phase}). {why} [hostname \"{}\"] [uri \"{}\"] [unique_id \"{}\"]",
                self.hostname(),
                String::from_utf8_lossy(&self.uri),
                self.id
            ),
        };
        match self.engine {
            EngineMode::On => {
                self.intervention = Some(iv.clone());
                Some(iv)
            }
            EngineMode::DetectionOnly => {
                self.would.get_or_insert(iv);
                None
            }
            EngineMode::Off => None,
        }
    }

    /// Runs the body processor and phase 2 (request body). Call it even without a body.
    pub fn process_request_body(&mut self) -> Option<Intervention> {
        if self.intervention.is_some() {
            return None;
        }
        if self.request_body_access && self.engine != EngineMode::Off {
            if let Some(iv) = self.parse_request_body() {
                return Some(iv);
            }
        }
        self.run_phase(2)
    }

    fn parse_request_body(&mut self) -> Option<Intervention> {
        // Chosen by Content-Type as the header arrived, or by ctl:requestBodyProcessor.
        let processor = self.reqbody_processor.clone();
        let body = std::mem::take(&mut self.body);
        let s = &self.rules.settings;
        // SecRequestBodyNoFilesLimit. With an explicit `SecRequestBodyLimitAction Reject`
        // a body over it is refused before any parser runs (ModSecurity v2: 413); otherwise
        // it is a body-processor error (libmodsecurity 3.0.13+, PR #2686, regression
        // config-body_limits.json), for the usual rule 200002 to deny. Unlike v3 we still
        // parse such a body, so its arguments stay inspectable when no rule checks
        // REQBODY_ERROR (the parse is bounded by SecRequestBodyLimit). Multipart counts
        // only what is not file content, so it is checked after parsing.
        let reject_no_files =
            s.request_body_limit_action_set && s.request_body_limit_action == LimitAction::Reject;
        let no_files_limit = s.request_body_no_files_limit;
        if reject_no_files
            && processor.as_deref() != Some("MULTIPART")
            && body.len() as u64 > no_files_limit
        {
            self.body = body;
            return self.no_files_limit_exceeded(true);
        }
        let mut no_files_len = None;
        match processor.as_deref() {
            Some("URLENCODED") => {
                let p = body::urlencoded::parse_pooled(
                    &body,
                    s.argument_separator,
                    &mut self.spare_bytes,
                );
                self.urlencoded_error |= p.invalid_encoding;
                self.add_post_args(p.pairs);
            }
            Some("MULTIPART") => {
                // No file limit: see SecUploadFileLimit in rules.rs.
                let limits = body::multipart::Limits { max_files: 0 };
                let ct_raw = self.header("content-type").unwrap_or_default().to_vec();
                let mut m = body::multipart::parse(&ct_raw, &body, &limits);
                no_files_len = Some(m.no_files_len);
                if let Some(e) = &m.error {
                    self.reqbody_error = Some(format!("Multipart parsing error: {e}"));
                }
                let args = std::mem::take(&mut m.args);
                self.add_post_args(args);
                self.multipart = Some(m);
            }
            Some("JSON") => {
                // libmodsecurity keeps the arguments read before a JSON error.
                // Stop parsing one argument past SecArgumentsLimit: every JSON name repeats
                // its container path, so an unbounded parse can expand a small body into
                // hundreds of megabytes (libmodsecurity 3.0.7+ cancels at the limit too).
                let room = s
                    .arguments_limit
                    .saturating_sub(self.args_get.len() + self.args_post.len());
                let (args, err) = body::json::parse_pooled(
                    &body,
                    s.json_depth_limit,
                    room,
                    &mut self.spare_bytes,
                );
                if let Some(e) = err {
                    self.reqbody_error = Some(format!("JSON parsing error: {e}"));
                }
                self.add_post_args(args);
            }
            Some("XML") => match body::xml::parse(&body) {
                Ok(doc) => self.xml = Some(doc),
                Err(e) => self.reqbody_error = Some(format!("XML parsing error: {e}")),
            },
            _ => {}
        }
        self.reqbody_processor = processor;
        self.body = body;
        if no_files_len.unwrap_or(self.body.len()) as u64 > no_files_limit {
            return self.no_files_limit_exceeded(reject_no_files);
        }
        None
    }

    /// A body over SecRequestBodyNoFilesLimit: a 413 when `reject`, else REQBODY_ERROR.
    fn no_files_limit_exceeded(&mut self, reject: bool) -> Option<Intervention> {
        let why = "Request body excluding files is bigger than the maximum expected.";
        if reject {
            return self.limit_intervention(413, 2, why.into());
        }
        self.reqbody_error = Some(why.into());
        None
    }

    fn add_post_args(&mut self, args: Vec<Pair>) {
        let limit = self.rules.settings.arguments_limit;
        let room = limit.saturating_sub(self.args_get.len() + self.args_post.len());
        if args.len() > room {
            // SecArgumentsLimit: arguments past the limit are not kept, and the body counts
            // as not fully parsed (libmodsecurity 3.0.7+).
            self.reqbody_error
                .get_or_insert_with(|| format!("Arguments limit ({limit}) exceeded"));
        }
        self.args_post.extend(args.into_iter().take(room));
    }

    /// Sets the response status line.
    pub fn set_response_status(&mut self, status: u16, protocol: &str) {
        self.status = status;
        self.resp_protocol = protocol.to_string();
    }

    /// Adds one response header.
    pub fn add_response_header(&mut self, name: &[u8], value: &[u8]) {
        let pair = self.spare_bytes.pair(name, value);
        self.resp_headers.push(pair);
    }

    /// Runs phase 3 (response headers).
    pub fn process_response_headers(&mut self) -> Option<Intervention> {
        self.run_phase(3)
    }

    /// Whether the host should buffer the response body for inspection
    /// (`SecResponseBodyAccess` and the MIME type in `SecResponseBodyMimeType`).
    pub fn response_body_wanted(&self) -> bool {
        if !self.response_body_access
            || self.engine == EngineMode::Off
            || self.intervention.is_some()
        {
            return false;
        }
        let ct = self
            .resp_header("content-type")
            .map(lower)
            .unwrap_or_default();
        let mime = ct.split(';').next().unwrap_or("").trim();
        self.rules
            .settings
            .response_body_mime_types
            .iter()
            .any(|m| m == mime)
    }

    /// Appends a response body chunk (limits as for the request body).
    pub fn append_response_body(&mut self, chunk: &[u8]) -> Option<Intervention> {
        if !self.response_body_wanted() {
            return None;
        }
        self.resp_seen += chunk.len() as u64;
        let limit = self.response_body_limit;
        let room = limit.saturating_sub(self.resp_body.len() as u64) as usize;
        if chunk.len() > room {
            self.resp_body.extend_from_slice(&chunk[..room]);
            if self.rules.settings.response_body_limit_action == LimitAction::Reject {
                return self.limit_intervention(
                    500,
                    4,
                    format!("Response body is larger than the configured limit ({limit})."),
                );
            }
        } else {
            self.resp_body.extend_from_slice(chunk);
        }
        None
    }

    /// Runs phase 4 (response body). Call it even without a body.
    pub fn process_response_body(&mut self) -> Option<Intervention> {
        self.run_phase(4)
    }

    /// Runs phase 5 (logging).
    pub fn process_logging(&mut self) {
        let _ = self.run_phase(5);
    }

    /// The interruption, if one happened.
    pub fn intervention(&self) -> Option<&Intervention> {
        self.intervention.as_ref()
    }

    /// In DetectionOnly, the first interruption that would have happened.
    pub fn would_interrupt(&self) -> Option<&Intervention> {
        self.would.as_ref()
    }

    /// Rules that matched, in order, including non-logged ones (see [`RuleMatch::log`]).
    pub fn matches(&self) -> &[RuleMatch] {
        &self.matches
    }

    /// A `TX` variable's value (keys are case-insensitive).
    pub fn tx(&self, key: &str) -> Option<&[u8]> {
        self.tx.get(&key.to_ascii_lowercase())
    }

    /// Every `TX` member, in name order (for tests comparing whole transactions).
    #[cfg(test)]
    pub(crate) fn tx_members(&self) -> Vec<(String, Vec<u8>)> {
        self.tx
            .sorted(|_| true)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_vec()))
            .collect()
    }

    /// Whether this transaction is to be written to the audit log (`SecAuditEngine`,
    /// `ctl:auditEngine`, `SecAuditLogRelevantStatus`).
    pub fn audit_wanted(&self) -> bool {
        match self.audit_engine {
            AuditEngine::On => true,
            AuditEngine::Off => false,
            AuditEngine::RelevantOnly => {
                let status = self
                    .intervention
                    .as_ref()
                    .map(|i| i.status)
                    .unwrap_or(self.status);
                let relevant_status = self
                    .rules
                    .settings
                    .audit_relevant_status
                    .as_ref()
                    // An error (the backtracking limit, unreachable on a status code) audits
                    // rather than losing the record.
                    .is_some_and(|r| r.is_match(&status.to_string()).unwrap_or(true));
                relevant_status || self.matches.iter().any(|m| m.auditlog && m.log)
            }
        }
    }

    /// The audit log parts in force (`SecAuditLogParts`, `ctl:auditLogParts`).
    pub fn audit_parts(&self) -> &str {
        &self.audit_parts
    }

    fn hostname(&self) -> String {
        match self.header("host") {
            Some(h) => {
                let h = String::from_utf8_lossy(h);
                match h.rfind(':') {
                    Some(i)
                        if !h.ends_with(']') && h[i + 1..].bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        h[..i].to_string()
                    }
                    _ => h.to_string(),
                }
            }
            None => self.conn.server.get().0.to_string(),
        }
    }

    // ---- phases -------------------------------------------------------------------

    fn run_phase(&mut self, phase: u8) -> Option<Intervention> {
        if self.phases_done >= phase {
            return None;
        }
        // A phase run without the one before it, or after an intervention, is off the
        // benign path.
        if phase > self.phases_done + 1 || self.intervention.is_some() {
            self.replay.off = true;
        }
        self.phases_done = phase;
        if self.engine == EngineMode::Off {
            return None;
        }
        if phase < 5 && self.intervention.is_some() {
            return None;
        }
        match self.allow {
            Some(AllowScope::All) if phase < 5 => return None,
            Some(AllowScope::Request) if phase <= 2 => return None,
            Some(AllowScope::Phase) => self.allow = None,
            _ => {}
        }
        let rules = self.rules.clone();
        let list = &rules.phases[phase as usize];
        let mut i = 0;
        let mut skip = 0u32;
        while i < list.len() {
            let Some(idx) = list[i].rule() else {
                i += 1;
                continue;
            };
            i += 1;
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let rule = &rules.rules[idx];
            if self.engine == EngineMode::Off {
                break;
            }
            // A run of replayable rules starting here, replayed at once when all of it is
            // admitted and no runtime removal may concern its rules.
            if let Some((end, run)) = rules.replay.runs.at(phase as usize, i - 1) {
                if self.sim.is_none()
                    && self.removed.is_empty()
                    && self.replay.admits_reads(&run.reads, run.reads_any)
                {
                    self.stats.replayed += (end + 1 - i) as u32;
                    self.replay_run(run);
                    i = end;
                    continue;
                }
            }
            // A run of rules the prefilter may skip, none of them a candidate. (With
            // `prefilter-check` every skipped rule is evaluated: one by one, then.)
            if let Some((end, run)) = rules.prefilter.skip_run_at(phase as usize, i - 1) {
                if !cfg!(feature = "prefilter-check")
                    && self.sim.is_none()
                    && self.removed.is_empty()
                    && self.none_candidate(run)
                {
                    self.stats.skipped += (end + 1 - i) as u32;
                    self.matched_vars.clear();
                    i = end;
                    continue;
                }
            }
            if self.is_removed(rule) {
                continue;
            }
            let outcome = rules.replay.outcomes.get(idx).and_then(Option::as_deref);
            let matched = match outcome.filter(|o| self.replay.admits(o)) {
                Some(o) => self.replay_outcome(o),
                // On the benign path, a rule that is not fixed does not match.
                None if self.sim.is_some() && !rules.replay.is_fixed(idx) => {
                    self.matched_vars.clear();
                    false
                }
                None => {
                    if let Some(g) = rules.prefilter.group_of(idx) {
                        if !self.may_match(g, idx) {
                            self.skip_rule(rule);
                            continue;
                        }
                        self.prefilter.current = idx + 1;
                    }
                    self.stats.rules += 1;
                    let matched = self.eval_chain(rule);
                    self.prefilter.current = 0;
                    if self.sim.is_some() {
                        self.record_outcome(idx, rule, matched);
                    } else if matched && !self.replay.off {
                        self.replay.off = skips_benign_matches(&rules, list, i, idx);
                    }
                    matched
                }
            };
            if !matched {
                continue;
            }
            // Flow actions apply whatever the engine mode.
            if let Some(to) = rules.skip_to.get(idx).copied().flatten() {
                i = to;
            } else if rule.actions.skip > 0 {
                skip = rule.actions.skip;
            }
            if let Some(iv) = self.disrupt(rule, phase) {
                self.replay.off = true;
                return Some(iv);
            }
            if matches!(self.allow, Some(AllowScope::All | AllowScope::Phase))
                || (self.allow == Some(AllowScope::Request) && phase <= 2)
            {
                self.replay.off = true;
                if self.allow == Some(AllowScope::Phase) {
                    self.allow = None;
                }
                break;
            }
        }
        None
    }

    fn is_removed(&self, rule: &Rule) -> bool {
        self.removed.iter().any(|sel| sel.selects(rule))
    }

    /// Carries out the disruptive action of a fully matched rule; returns an intervention
    /// when the host must act.
    fn disrupt(&mut self, rule: &Rule, phase: u8) -> Option<Intervention> {
        let a = &rule.actions;
        // A chained rule's `status` counts too: libmodsecurity runs it when its link
        // matches, before the starter's `deny` (which keeps a status already set).
        let chain = std::iter::successors(rule.chained.as_deref(), |r| r.chained.as_deref());
        let own = a
            .status
            .or(chain.into_iter().find_map(|r| r.actions.status));
        let (action, status) = match a.disruptive.as_ref()? {
            Disruptive::Block => (&rule.block_action, own.or(rule.block_status)),
            d => (d, own),
        };
        let (act, status) = match action {
            Disruptive::Pass | Disruptive::Block => return None,
            Disruptive::Allow(scope) => {
                if self.engine == EngineMode::On {
                    self.allow = Some(*scope);
                }
                return None;
            }
            Disruptive::Deny => (Action::Deny, status.unwrap_or(403)),
            Disruptive::Drop => (Action::Drop, status.unwrap_or(403)),
            Disruptive::Redirect(t) => {
                let url = self.expand_string(t, Some(rule));
                // libmodsecurity 3 `Redirect::evaluate` keeps a status in 301..=307
                // (regression actions.json: status:306) and uses 302 otherwise.
                let st = status.filter(|s| (301..=307).contains(s)).unwrap_or(302);
                (Action::Redirect(url), st)
            }
        };
        let m = self.matches.iter().rev().find(|m| m.id == rule.id);
        let log = match m {
            Some(m) => m.line().replacen(
                "ModSecurity: Warning.",
                &format!("ModSecurity: Access denied with code {status} (phase {phase})."),
                1,
            ),
            None => format!(
                "ModSecurity: Access denied with code {status} (phase {phase}). [id \"{}\"] [unique_id \"{}\"]",
                rule.id, self.id
            ),
        };
        let iv = Intervention {
            status,
            action: act,
            rule_id: Some(rule.id),
            phase,
            log,
        };
        match self.engine {
            EngineMode::On => {
                self.intervention = Some(iv.clone());
                Some(iv)
            }
            _ => {
                self.would.get_or_insert(iv);
                None
            }
        }
    }

    /// Whether rule `idx` of prefilter group `g` may match; scans the group's values on
    /// the first call in a transaction (the group's rules all run in one phase, whose
    /// values no action changes).
    fn may_match(&mut self, g: usize, idx: usize) -> bool {
        if !self.prefilter.done.get(g).copied().unwrap_or(true) {
            self.scan_group(g);
        }
        self.prefilter
            .cand
            .get(idx / 64)
            .is_some_and(|w| w >> (idx % 64) & 1 == 1)
    }

    /// Whether none of the rules of skip run `run` is a candidate, its groups scanned. The
    /// first rule's group is scanned now, as that rule would have it; a group of a later
    /// rule not scanned yet (outside that group's cluster) sends the run one rule at a
    /// time, so that no group is scanned earlier than it would be.
    fn none_candidate(&mut self, run: &crate::prefilter::SkipRun) -> bool {
        if let Some(&g) = run.groups.first() {
            if !self.prefilter.done.get(g as usize).copied().unwrap_or(true) {
                self.scan_group(g as usize);
            }
        }
        let done = &self.prefilter.done;
        let cand = &self.prefilter.cand;
        run.groups
            .iter()
            .all(|&g| done.get(g as usize).copied().unwrap_or(false))
            && run
                .words
                .iter()
                .all(|&(w, bits)| cand.get(w as usize).is_some_and(|c| c & bits == 0))
    }

    /// Marks the rules of group `g` to which one of the group's values (its targets without
    /// exclusions, transformed by its chain) gives a literal, and records which values did
    /// (see [`PrefilterState::hits`]). A group in a cluster is scanned with the rest of its
    /// cluster: values that a group's chain leaves unchanged are gathered and scanned once
    /// with the cluster's automaton for all the groups that share them.
    fn scan_group(&mut self, g: usize) {
        let rules = self.rules.clone();
        let pf = &rules.prefilter;
        let Some((group, rep)) = pf
            .groups
            .get(g)
            .and_then(|group| Some((group, rules.rules.get(group.rep)?)))
        else {
            return;
        };
        let cluster = group.cluster.and_then(|(c, _)| pf.clusters.get(c));
        let members: &[usize] = match cluster {
            Some(c) => &c.groups,
            None => std::slice::from_ref(&g),
        };
        let mut work = self.work.take().unwrap_or_default();
        let cache = &mut work.cache;
        let mut cand = std::mem::take(&mut self.prefilter.cand);
        let mut hits = std::mem::take(&mut self.prefilter.hits);
        let before = hits.len();
        let mut mark = |idx: usize, slot: u32| {
            if let Some(w) = cand.get_mut(idx / 64) {
                *w |= 1u64 << (idx % 64);
            }
            let hit = (idx as u64) << 32 | u64::from(slot);
            if slot != 0 && hits.last() != Some(&hit) {
                hits.push(hit);
            }
        };
        match cluster {
            // Value by value: each group of the cluster not scanned yet that reads it
            // transforms it; where its chain leaves the value unchanged the group joins
            // one scan of the raw value with the cluster's automaton, the others scan
            // their transformed value themselves.
            Some(c) => {
                let mut pending = 0u64;
                for (pos, gi) in c.groups.iter().enumerate() {
                    if self.prefilter.done.get(*gi) == Some(&false) {
                        pending |= 1 << pos;
                    }
                }
                let group_at = |pos: u32| {
                    let group = pf.groups.get(*c.groups.get(pos as usize)?)?;
                    Some((group, rules.rules.get(group.rep)?))
                };
                for ((t, groups), within) in c.targets.iter().zip(&c.within) {
                    let folded = within.iter().fold(0, |m, (_, g)| m | g) & pending;
                    if (groups | folded) & pending == 0 {
                        continue;
                    }
                    // The body, one large value, is scanned by each group with its own
                    // automaton for it (see `prefilter::BodyScan`).
                    let body = t.var == Var::RequestBody;
                    // Any member's rule reads the values (it matters only for `RULE`).
                    self.values(t, rep, &mut |val| {
                        let raw: &[u8] = &val.value;
                        let mut readers = groups & pending;
                        if folded != 0 {
                            if let Name::Keyed(_, key) = &val.name {
                                for (sel, g) in within {
                                    if sel.selects(key) {
                                        readers |= g & pending;
                                    }
                                }
                            }
                        }
                        if readers == 0 {
                            return;
                        }
                        let classes = cache.classes_of(raw, val.slot);
                        let mut shared = 0u64;
                        let mut left = readers;
                        while left != 0 {
                            let pos = left.trailing_zeros();
                            left &= left - 1;
                            let Some((group, group_rep)) = group_at(pos) else {
                                continue;
                            };
                            let v = if group.triggers & classes == 0 {
                                raw
                            } else {
                                cache.value(group_rep, raw, val.slot)
                            };
                            if group.triggers & classes != 0 && group.has_multi() {
                                group.credit_multi(t.var, |idx| mark(idx, val.slot));
                            }
                            if std::ptr::eq(v, raw) && !body {
                                shared |= 1 << pos;
                            } else {
                                group.scan(t.var, v, |idx| mark(idx, val.slot));
                            }
                        }
                        if shared != 0 {
                            c.scan(&pf.groups, t.var, raw, shared, |idx| mark(idx, val.slot));
                        }
                    });
                }
            }
            None => {
                for t in &group.targets {
                    self.values(t, rep, &mut |val| {
                        if group.has_multi()
                            && group.triggers & cache.classes_of(&val.value, val.slot) != 0
                        {
                            group.credit_multi(t.var, |idx| mark(idx, val.slot));
                        }
                        let v = cache.value(rep, &val.value, val.slot);
                        group.scan(t.var, v, |idx| mark(idx, val.slot));
                    });
                }
            }
        }
        if hits.len() > before {
            hits.sort_unstable();
            hits.dedup();
        }
        self.work = Some(work);
        self.prefilter.cand = cand;
        self.prefilter.hits = hits;
        for &gi in members {
            if let Some(d) = self.prefilter.done.get_mut(gi) {
                *d = true;
            }
        }
    }

    /// After a `ctl` that may show or hide `REQUEST_BODY` (which was there before when
    /// `before`): if it did, the prefilter scans its groups again when next reached, as a
    /// scan done earlier in the phase did not see the body it now has.
    fn body_var_changed(&mut self, before: bool) {
        if self.request_body_var().is_some() != before {
            self.prefilter.done.fill(false);
        }
    }

    /// The values (sorted `slot`s in [`PrefilterState::hits`]) in which the prefilter found
    /// a literal of the chain starter being evaluated, or `None` if it is evaluated on all:
    /// their range in the hits.
    fn candidate_range(&self) -> Option<(usize, usize)> {
        let idx = self.prefilter.current.checked_sub(1)? as u64;
        let hits = &self.prefilter.hits;
        let lo = hits.partition_point(|&h| h >> 32 < idx);
        let hi = lo + hits.get(lo..)?.partition_point(|&h| h >> 32 == idx);
        Some((lo, hi))
    }

    /// Replays a fixed rule's benign-path outcome (see [`crate::replay`]); returns whether
    /// it matched.
    fn replay_outcome(&mut self, o: &Outcome) -> bool {
        self.stats.replayed += 1;
        self.matched_vars.clear();
        if !o.matched {
            return false;
        }
        self.replay_effects(&o.writes, Some(&o.matched_var));
        // MATCHED_VARS stays empty: the next rule reached clears it before anything reads
        // it (`eval_chain`, `skip_rule`, a replay), so the rule's own list is not rebuilt.
        if let Some((id, phase, severity)) = o.record {
            self.matches.push(RuleMatch::silent(id, phase, severity));
        }
        true
    }

    /// The `TX` writes (`None`: removal) and `MATCHED_VAR` of a replayed match.
    fn replay_effects(
        &mut self,
        writes: &[(Arc<str>, Option<Value>)],
        matched_var: Option<&(String, Vec<u8>)>,
    ) {
        for (k, v) in writes {
            match v {
                Some(v) => self.tx.set(k, v, || k.clone()),
                None => self.tx.remove(k),
            }
            if is_digit_key(k) {
                self.tx_digits = 10;
            }
        }
        if let Some((name, value)) = matched_var {
            self.matched_var.0.clear();
            self.matched_var.0.push_str(name);
            self.matched_var.1.clear();
            self.matched_var.1.extend_from_slice(value);
        }
    }

    /// Replays a run of fixed rules admitted as a whole: what [`Transaction::replay_outcome`]
    /// does for each of them in turn.
    fn replay_run(&mut self, run: &crate::replay::Run) {
        self.matched_vars.clear();
        match &run.from_empty {
            Some(tx) if self.tx.is_empty() => {
                self.tx.copy_from(tx);
                if run.writes.iter().any(|(k, _)| is_digit_key(k)) {
                    self.tx_digits = 10;
                }
                self.replay_effects(&[], run.matched_var.as_ref());
            }
            _ => self.replay_effects(&run.writes, run.matched_var.as_ref()),
        }
        self.matches.extend(
            run.records
                .iter()
                .map(|&(id, phase, severity)| RuleMatch::silent(id, phase, severity)),
        );
    }

    /// On the benign path, records the outcome of fixed rule `idx` just evaluated, if it
    /// can be replayed: a match must be silent `pass`, and a non-match must have left no
    /// trace (a chain whose first links matched wrote `MATCHED_VARS`, maybe `TX`).
    fn record_outcome(&mut self, idx: usize, rule: &Rule, matched: bool) {
        let rules = self.rules.clone();
        let Some(mut sim) = self.sim.take() else {
            return;
        };
        let written = std::mem::take(&mut sim.written);
        let record = matched
            && self
                .matches
                .last()
                .is_some_and(|m| m.id == rule.id && !m.log && !m.auditlog);
        let silent_pass =
            record && matches!(rule.actions.disruptive, None | Some(Disruptive::Pass));
        let traceless = !matched && written.is_empty() && self.matched_vars.iter().next().is_none();
        if let (true, Some((reads, reads_any))) =
            (silent_pass || traceless, rules.replay.read_bits(idx))
        {
            let mut writes: Vec<(Arc<str>, Option<Value>)> = Vec::new();
            for k in written {
                if writes.iter().all(|(w, _)| *w != k) {
                    let v = self.tx.get(&k).map(Value::from_slice);
                    writes.push((k, v));
                }
            }
            if let Some(slot) = sim.outcomes.get_mut(idx) {
                *slot = Some(Box::new(Outcome {
                    reads,
                    reads_any,
                    matched,
                    writes,
                    matched_var: self.matched_var.clone(),
                    record: record.then_some((rule.id, rule.phase, rule.actions.severity)),
                }));
            }
        }
        self.sim = Some(sim);
    }

    /// Ends replay if `ctl` `c` changes a fixed rule that has an outcome: removes it (the
    /// rules `removal` selects), or removes a `TX` target (fixed rules have no other).
    /// Removing other rules changes nothing on the benign path, where they do not match.
    fn ctl_leaves_benign_path(&mut self, c: &Ctl, removal: Option<&RuleSel>) {
        if self.replay.off {
            return;
        }
        match (c, removal) {
            (
                Ctl::RuleRemoveTargetById(_, ts)
                | Ctl::RuleRemoveTargetByTag(_, ts)
                | Ctl::RuleRemoveTargetByMsg(_, ts),
                _,
            ) => {
                self.replay.off |= ts.iter().any(|t| t.var == Var::Tx);
            }
            (_, Some(sel)) => {
                let rules = self.rules.clone();
                self.replay.off |= rules
                    .replay
                    .with_outcome(&rules.rules)
                    .any(|r| sel.selects(r));
            }
            _ => {}
        }
    }

    /// Notes that `TX` member `key` was written by an evaluated rule: on the benign path it
    /// is recorded, at run time it is dirty (see [`crate::replay`]).
    fn tx_written(&mut self, key: &str) {
        if is_digit_key(key) {
            self.tx_digits = 10;
        }
        if let Some(sim) = self.sim.as_mut() {
            sim.written.push(Arc::from(key));
            return;
        }
        if self.replay.off {
            return;
        }
        match self.rules.replay.bit(key) {
            Some(b) => set_bit(&mut self.replay.dirty, b),
            None => self.replay.untracked = true,
        }
    }

    /// What evaluating a rule that cannot match would have done: clear `MATCHED_VARS`.
    /// With feature `prefilter-check` the rule is evaluated anyway and a match panics.
    fn skip_rule(&mut self, rule: &Rule) {
        self.stats.skipped += 1;
        #[cfg(feature = "prefilter-check")]
        if self.eval_rule(rule, rule) {
            panic!(
                "prefilter: rule {} was skipped but matches (request {})",
                rule.id, self.id
            );
        }
        #[cfg(not(feature = "prefilter-check"))]
        let _ = rule;
        self.matched_vars.clear();
    }

    /// Evaluates a rule and its chain; on a full match, records the log entry.
    fn eval_chain(&mut self, rule: &Rule) -> bool {
        self.matched_vars.clear();
        let mut link = Some(rule);
        let mut last = rule;
        while let Some(r) = link {
            if !self.eval_rule(r, rule) {
                return false;
            }
            last = r;
            link = r.chained.as_deref();
        }
        self.record_match(rule, last);
        true
    }

    /// Records a match of `rule` (a chain starter); the `Matched "Operator …"` text is
    /// that of `last`, the chain's last link, with its parameter macro-expanded, as in
    /// libmodsecurity 3, where each link overwrites it (regression tests issue-1528.json,
    /// issue-2296.json).
    fn record_match(&mut self, rule: &Rule, last: &Rule) {
        let a = &rule.actions;
        if let Some(sev) = a.severity {
            if a.log != Some(false) {
                self.highest_severity = self.highest_severity.min(sev);
            }
        }
        let log = a.log.unwrap_or(true);
        let auditlog = a.auditlog.unwrap_or(true);
        if !log && !auditlog {
            // Nothing will print this match: skip expanding and formatting it.
            self.matches
                .push(RuleMatch::silent(rule.id, rule.phase, a.severity));
            return;
        }
        let msg = a
            .msg
            .as_ref()
            .map(|t| self.expand_string(t, Some(rule)))
            .unwrap_or_default();
        let data = a
            .logdata
            .as_ref()
            .map(|t| self.expand_string(t, Some(rule)))
            .unwrap_or_default();
        let tags: Vec<String> = a
            .tags
            .iter()
            .map(|t| self.expand_string(t, Some(rule)))
            .collect();
        let matched = match &last.op {
            Some(op) if !self.matched_var.0.is_empty() => format!(
                "Matched \"Operator `{}' with parameter `{}' against variable `{}' (Value: `{}' )\"",
                operators::display_name(&op.name),
                audit::escape_field(&match &op.dynamic {
                    Some(t) => Cow::Owned(self.expand(t, Some(last))),
                    None => Cow::Borrowed(op.param.as_bytes()),
                }),
                self.matched_var.0,
                audit::escape_field(&self.matched_var.1[..self.matched_var.1.len().min(200)])
            ),
            _ => String::new(),
        };
        let hostname = self.hostname();
        let uri = String::from_utf8_lossy(&self.uri).into_owned();
        let line = audit::format_line(&audit::LineFields {
            prefix: "Warning.",
            matched: &matched,
            file: &rule.file,
            line: rule.line,
            id: rule.id,
            rev: a.rev.as_deref().unwrap_or(""),
            msg: &msg,
            data: &data,
            severity: a.severity,
            ver: a.ver.as_deref().unwrap_or(""),
            maturity: a.maturity.as_deref().unwrap_or(""),
            accuracy: a.accuracy.as_deref().unwrap_or(""),
            tags: &tags,
            hostname: &hostname,
            uri: &uri,
            unique_id: &self.id,
        });
        self.matches.push(RuleMatch {
            id: rule.id,
            phase: rule.phase,
            severity: a.severity,
            log,
            auditlog,
            text: Some(Box::new(MatchText {
                msg,
                data,
                tags,
                line,
                matched_var: self.matched_var.clone(),
            })),
        });
    }

    /// Evaluates one rule (one link of a chain); runs its per-match actions.
    fn eval_rule(&mut self, r: &Rule, starter: &Rule) -> bool {
        let Some(op) = &r.op else {
            // SecAction: unconditional.
            self.run_actions(r);
            return true;
        };
        let dynamic;
        let compiled: &dyn operators::Operator = match (&op.compiled, &op.dynamic) {
            (Some(c), _) => c.as_ref(),
            (None, Some(t)) => {
                let param = self.expand_string(t, Some(r));
                match op.compile_dynamic(&param) {
                    Some(c) => {
                        dynamic = c;
                        dynamic.as_ref()
                    }
                    None => return false,
                }
            }
            (None, None) => return false,
        };
        if let Some(matched) = self.eval_single(r, starter, compiled, op.negated) {
            return matched;
        }
        let a = &r.actions;
        let mut work = self.work.take().unwrap_or_default();
        let Work {
            out,
            cache,
            scratch,
        } = &mut *work;
        scratch.clear();
        out.want_captures = a.capture;
        // Evaluate against borrowed values first; act on the hits afterwards, so that
        // nothing is copied for values that do not match. Names and values of the hits go
        // to reused buffers (no allocation per rule on the hot path).
        let mut tested = 0u32;
        // A candidate chain starter runs on the values that hold one of its literals
        // (and on values without a slot, which the prefilter cannot tell apart).
        // The collections' members are then gathered from the candidates directly (with
        // `prefilter-check`, all are, to test the others).
        let range = if std::ptr::eq(r, starter) {
            self.candidate_range()
        } else {
            None
        };
        self.prefilter.restrict = range.filter(|_| !cfg!(feature = "prefilter-check"));
        // A value shorter than any match cannot match if the chain cannot lengthen it: a
        // chain that never grows a value, or one that leaves this value as it is (it has
        // none of the chain's triggers). It is neither transformed nor tested (see
        // `Operator::min_len`).
        let min_len = if op.negated { 0 } else { compiled.min_len() };
        // Likewise a value with none of the classes every match needs, when the chain leaves
        // it as it is (see `Operator::needs_classes`).
        let needs = if op.negated {
            0
        } else {
            compiled.needs_classes()
        };
        let cands = range.and_then(|(lo, hi)| self.prefilter.hits.get(lo..hi));
        // Values come in slot order within a target: a cursor into the candidates walks
        // them once, found again by binary search when the next target starts over.
        let mut gated = 0u32;
        let mut cursor = 0usize;
        let mut ruled_out = |c: &[u64], slot: u32| {
            if slot == 0 {
                return false;
            }
            if c.get(cursor.wrapping_sub(1))
                .is_some_and(|&h| h as u32 >= slot)
            {
                cursor = c.partition_point(|&h| (h as u32) < slot);
            }
            while c.get(cursor).is_some_and(|&h| (h as u32) < slot) {
                cursor += 1;
            }
            c.get(cursor).is_none_or(|&h| h as u32 != slot)
        };
        self.collect(r, starter, &mut |val| {
            if val.value.len() < min_len
                && (r.shrinks || r.triggers & cache.classes_of(&val.value, val.slot) == 0)
            {
                return;
            }
            // Skipped: no literal of the rule's in it (prefilter), or none of the classes
            // a match needs while the chain leaves it as it is. With feature
            // `prefilter-check` the value is tested anyway and a match panics.
            let skipped = if cands.is_some_and(|c| ruled_out(c, val.slot)) {
                Some("prefilter")
            } else if needs != 0
                && cache.classes_of(&val.value, val.slot) & (needs | r.triggers) == 0
            {
                Some("needs_classes")
            } else {
                None
            };
            if let Some(_why) = skipped {
                #[cfg(feature = "prefilter-check")]
                assert_no_match(
                    _why,
                    compiled,
                    op.negated,
                    cache.value(r, &val.value, val.slot),
                    &val.name,
                    r.id,
                    &self.id,
                );
                return;
            }
            tested += 1;
            let raw: &[u8] = &val.value;
            let mut hit: Option<Cow<'_, [u8]>> = None;
            if a.multi_match {
                // multiMatch: the operator runs on the value before and after each
                // transformation that changed it (ModSecurity reference manual).
                let mut test = |v: &[u8]| {
                    out.reset();
                    // A step's value shorter than any match, or without the gate's
                    // literals, cannot match.
                    if v.len() < min_len || op.gate.as_ref().is_some_and(|g| !g.is_match(v)) {
                        gated += 1;
                        // With feature `prefilter-check` the operator runs anyway and a
                        // match panics.
                        #[cfg(feature = "prefilter-check")]
                        assert_no_match("gate", compiled, op.negated, v, &val.name, r.id, &self.id);
                        return false;
                    }
                    compiled.matches(v, out) != op.negated
                };
                hit = cache
                    .first_step_matching(r, raw, val.slot, &mut test)
                    .map(Cow::Borrowed);
            } else {
                let v = cache.value(r, raw, val.slot);
                out.reset();
                if compiled.matches(v, out) != op.negated {
                    hit = Some(Cow::Borrowed(v));
                }
            }
            if let Some(v) = hit {
                scratch.push(&val.name, &v, &out.captures);
            }
        });
        self.prefilter.restrict = None;
        self.stats.op_calls += tested;
        self.stats.gated += gated;
        let matched_any = !scratch.hits.is_empty();
        for (name, value, captures) in scratch.hits.drain(..) {
            let name = scratch.names.get(name).unwrap_or_default();
            let value = scratch.values.get(value).unwrap_or_default();
            if a.capture && !op.negated {
                const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
                // TX:0..9 are replaced as a whole: groups this match has are set (in
                // place after the first capture), the others removed where they may exist.
                // On the benign path all ten count as written, so that a replayed capture
                // removes what an evaluated one would, whatever TX holds.
                let set = captures.len().min(DIGITS.len());
                let groups = captures.filter_map(|i| scratch.captures.get(i));
                let upto = if self.sim.is_some() {
                    DIGITS.len()
                } else {
                    set.max(usize::from(self.tx_digits))
                };
                for (d, c) in DIGITS.iter().zip(groups) {
                    self.tx.set(d, c, || Arc::from(*d));
                }
                for d in DIGITS.get(set..upto).unwrap_or_default() {
                    self.tx.remove(d);
                }
                for d in DIGITS.get(..upto).unwrap_or_default() {
                    self.tx_written(d);
                }
                self.tx_digits = set as u8;
            }
            self.matched_var.0.clear();
            self.matched_var.0.push_str(name);
            self.matched_var.1.clear();
            self.matched_var.1.extend_from_slice(value);
            self.matched_vars.push(name, value);
            self.run_actions(r);
        }
        self.work = Some(work);
        matched_any
    }

    /// [`Transaction::eval_rule`] for a rule of [`Transaction::single_member`]'s shape
    /// (`TX:detection_paranoia_level`, `&TX:foo`: most of CRS's bookkeeping) without
    /// `capture`: the member is looked up and tested in place, and only a match copies its
    /// name and value (to `MATCHED_VAR`, `MATCHED_VAR_NAME` and `MATCHED_VARS`, as the
    /// general path does). `None` when the rule is not of that shape. Measured (callgrind, `rule_shapes`):
    /// a paranoia-level check costs 323 instructions instead of 432 when it does not match
    /// and 809 instead of 1,071 when it does; `&TX:x "@eq 0"` 856 instead of 1,278. CRS PL1
    /// GET −1.7 %.
    fn eval_single(
        &mut self,
        r: &Rule,
        starter: &Rule,
        compiled: &dyn operators::Operator,
        negated: bool,
    ) -> Option<bool> {
        let (t, key) = self.single_member(r, starter)?;
        if r.actions.capture {
            // TX:0..9 are set by the general path.
            return None;
        }
        // The collection through its field, so that `matched_var` can be written while
        // the member is borrowed.
        let coll = match t.var {
            Var::Tx => Some(&self.tx),
            var => self.colls.get(var.coll_name()),
        };
        let member = coll.and_then(|c| c.get_key_value(key));
        let mut out = OpOutput::default();
        let (name, value) = (&mut self.matched_var.0, &mut self.matched_var.1);
        if t.count {
            let n = count_text(usize::from(member.is_some()));
            self.stats.op_calls += 1;
            if compiled.matches(&n, &mut out) == negated {
                return Some(false);
            }
            name.clear();
            t.write_text(name);
            value.clear();
            value.extend_from_slice(&n);
        } else {
            let Some((k, v)) = member else {
                return Some(false);
            };
            self.stats.op_calls += 1;
            if compiled.matches(v, &mut out) == negated {
                return Some(false);
            }
            name.clear();
            Name::Stored(t.var.name(), k).render_into(name);
            value.clear();
            value.extend_from_slice(v);
        }
        self.matched_vars
            .push(&self.matched_var.0, &self.matched_var.1);
        self.run_actions(r);
        Some(true)
    }

    /// The target and lower-case key of a rule whose only target is one member of a stored
    /// collection or its count (`TX:key`, `&TX:key`; no transformation, no exclusion, no
    /// `multiMatch`): what [`Transaction::collect`] and [`Transaction::values`] would
    /// reduce to.
    fn single_member<'r>(&self, r: &'r Rule, starter: &Rule) -> Option<(&'r Target, &'r str)> {
        let [t] = r.targets.as_slice() else {
            return None;
        };
        let Selector::Key(_, key) = &t.selector else {
            return None;
        };
        let plain = r.actions.transforms.is_empty()
            && !r.actions.multi_match
            && r.exclusions.is_empty()
            && self.runtime_removals(starter).next().is_none();
        (plain && t.var.is_stored()).then_some((t, key.as_str()))
    }

    /// Emits the values of a rule's targets, minus exclusions, to `sink`.
    fn collect<'a>(&'a self, r: &'a Rule, starter: &'a Rule, sink: &mut impl FnMut(Val<'a>)) {
        // CRS 941010's `ctl:ruleRemoveTargetByTag` on every benign request names a tag few
        // rules carry: the rules it does not select keep the plain path.
        let mut runtime = self.runtime_removals(starter).peekable();
        if r.exclusions.is_empty() && runtime.peek().is_none() {
            for t in &r.targets {
                self.values(t, starter, sink);
            }
            return;
        }
        let runtime: Vec<&Target> = runtime.collect();
        for t in &r.targets {
            if r.exclusions.is_empty() && runtime.is_empty() {
                self.values(t, starter, sink);
                continue;
            }
            let excluded = |key: &[u8], ex: &Target| -> bool {
                // libmodsecurity 3 (`Variables::contains`) matches a regex exclusion against
                // the key alone, so `!ARGS:/re/` drops ARGS_NAMES members too (regression
                // config-update-target-by-id.json:3); we follow it for an argument
                // collection and its names only.
                let var_ok = ex.var == t.var
                    || (matches!(ex.selector, Selector::Regex(_))
                        && ex.var.names_collection() == Some(t.var));
                var_ok
                    && match &ex.selector {
                        Selector::All => true,
                        s => s.selects(key),
                    }
            };
            self.values(t, starter, &mut |val| {
                let key = val.name.key();
                if !(r.exclusions.iter().any(|e| excluded(key, e))
                    || runtime.iter().any(|e| excluded(key, e)))
                {
                    sink(val);
                }
            });
        }
    }

    /// The targets a `ctl:ruleRemoveTarget*` of this transaction removes from the chain
    /// `starter` starts.
    fn runtime_removals<'s>(&'s self, starter: &'s Rule) -> impl Iterator<Item = &'s Target> {
        self.removed_targets
            .iter()
            .filter(|(sel, _)| sel.selects(starter))
            .map(|(_, t)| t)
    }

    /// Emits the values of target `t` (one count value for `&VAR`) to `sink`.
    ///
    /// `dyn`: one copy of this large function for all its callers. With a copy per caller
    /// (five, ~19 KB of machine code each), a request ran through more distinct code:
    /// `COLD=1 bench/instructions.sh get`, 6,303 → 6,122 cache lines fetched on cold
    /// caches, for +1.1 % instructions (the sink is called, not inlined). A proxy's request
    /// starts on cold caches, so the lines weigh more there.
    fn values<'a>(&'a self, t: &'a Target, rule: &Rule, sink: &mut dyn FnMut(Val<'a>)) {
        if t.count {
            let mut n = 0;
            self.members(t, rule, &mut |_| n += 1);
            sink(Val {
                name: Name::Count(t),
                value: count_text(n),
                slot: 0,
            });
        } else {
            self.members(t, rule, sink);
        }
    }

    /// Emits the values target `t` selects (not counted) to `out`.
    fn members<'a, F: FnMut(Val<'a>) + ?Sized>(&'a self, t: &'a Target, rule: &Rule, out: &mut F) {
        let vname = t.var.name();
        // While a chain starter with per-value candidates is evaluated, only the members
        // in which the prefilter found one of its literals are visited (the others would
        // be ruled out one by one): the candidates of this collection are a run of the
        // sorted hits.
        let only = match (self.prefilter.restrict, t.count) {
            (Some((lo, hi)), false) => self.prefilter.hits.get(lo..hi),
            _ => None,
        };
        let pairs = |out: &mut F, list: &'a [Pair], names: bool, label: &'static str, kind: u32| {
            pairs_of(t, only, out, list, names, label, kind)
        };
        let scalar = |out: &mut F, v: Cow<'a, [u8]>, slot: u32| {
            out(Val {
                name: Name::Plain(vname),
                value: v,
                slot,
            })
        };
        match t.var {
            Var::Args => {
                pairs(out, &self.args_get, false, "ARGS", 1);
                pairs(out, &self.args_post, false, "ARGS", 2);
            }
            Var::ArgsGet => pairs(out, &self.args_get, false, "ARGS_GET", 1),
            Var::ArgsPost => pairs(out, &self.args_post, false, "ARGS_POST", 2),
            Var::ArgsNames => {
                pairs(out, &self.args_get, true, "ARGS_NAMES", 1);
                pairs(out, &self.args_post, true, "ARGS_NAMES", 2);
            }
            Var::ArgsGetNames => pairs(out, &self.args_get, true, "ARGS_GET_NAMES", 1),
            Var::ArgsPostNames => pairs(out, &self.args_post, true, "ARGS_POST_NAMES", 2),
            Var::RequestHeaders => pairs(out, &self.headers, false, "REQUEST_HEADERS", 3),
            Var::RequestHeadersNames => pairs(out, &self.headers, true, "REQUEST_HEADERS_NAMES", 3),
            Var::RequestCookies => pairs(out, &self.cookies, false, "REQUEST_COOKIES", 4),
            Var::RequestCookiesNames => pairs(out, &self.cookies, true, "REQUEST_COOKIES_NAMES", 4),
            Var::ResponseHeaders => pairs(out, &self.resp_headers, false, "RESPONSE_HEADERS", 5),
            Var::ResponseHeadersNames => {
                pairs(out, &self.resp_headers, true, "RESPONSE_HEADERS_NAMES", 5)
            }
            Var::Files | Var::FilesNames | Var::FilesSizes | Var::FilesTmpNames => {
                if let Some(m) = &self.multipart {
                    for f in &m.files {
                        if !t.selector.selects(&f.name) {
                            continue;
                        }
                        let v: Cow<'a, [u8]> = match t.var {
                            Var::Files => Cow::Borrowed(&f.filename),
                            Var::FilesNames => Cow::Borrowed(&f.name),
                            Var::FilesSizes => Cow::Owned(num(f.size)),
                            _ => Cow::Borrowed(&[]),
                        };
                        out(Val {
                            name: Name::Keyed(vname, Cow::Borrowed(&f.name)),
                            value: v,
                            slot: 0,
                        });
                    }
                }
            }
            Var::MultipartPartHeaders => {
                if let Some(m) = &self.multipart {
                    pairs(out, &m.part_headers, false, "MULTIPART_PART_HEADERS", 6);
                }
            }
            Var::MultipartFilename | Var::MultipartName => {
                if let Some(m) = &self.multipart {
                    let list = if t.var == Var::MultipartName {
                        &m.names
                    } else {
                        &m.filenames
                    };
                    for v in list {
                        scalar(out, Cow::Borrowed(v), 0);
                    }
                }
            }
            Var::Xml => {
                if let Some(doc) = &self.xml {
                    let expr = match &t.selector {
                        Selector::XPath(x) => x.as_str(),
                        _ => "/*",
                    };
                    for v in doc.xpath(expr) {
                        scalar(out, Cow::Owned(v), 0);
                    }
                }
            }
            Var::Tx
            | Var::Env
            | Var::Ip
            | Var::Global
            | Var::Session
            | Var::User
            | Var::Resource
            | Var::Geo => {
                if let Some(c) = self.coll(t.var) {
                    match &t.selector {
                        Selector::Key(_, lower) => {
                            if let Some((k, v)) = c.get_key_value(lower) {
                                out(Val {
                                    name: Name::Stored(vname, k),
                                    value: Cow::Borrowed(v),
                                    slot: 0,
                                });
                            }
                        }
                        sel => {
                            // Stored names are lower-case: a literal pattern (CRS 920450's
                            // `TX:/^header_name_920450_/`, over ~150 members per header)
                            // is a plain byte comparison, and a prefix's first byte rules
                            // out most names before a `memcmp` is called.
                            let literal = match sel {
                                Selector::Regex(kp) => kp.literal(),
                                _ => None,
                            };
                            let members = match literal {
                                Some((p, true)) => c.sorted(|k| {
                                    let k = k.as_bytes();
                                    k.first() == p.first() && k.starts_with(p)
                                }),
                                Some((p, false)) => {
                                    c.sorted(|k| k.as_bytes().windows(p.len()).any(|w| w == p))
                                }
                                None => c.sorted(|k| sel.selects(k.as_bytes())),
                            };
                            for (k, v) in members {
                                out(Val {
                                    name: Name::Stored(vname, k),
                                    value: Cow::Borrowed(v),
                                    slot: 0,
                                });
                            }
                        }
                    }
                }
            }
            Var::MatchedVars => {
                for (n, v) in self.matched_vars.iter() {
                    out(Val {
                        name: Name::Full(n),
                        value: Cow::Borrowed(v),
                        slot: 0,
                    });
                }
            }
            Var::MatchedVarsNames => {
                for (n, _) in self.matched_vars.iter() {
                    out(Val {
                        name: Name::Full(n),
                        value: Cow::Borrowed(n.as_bytes()),
                        slot: 0,
                    });
                }
            }
            Var::Rule => {
                for key in ["id", "msg", "phase", "severity", "rev", "ver", "logdata"] {
                    if t.selector.selects(key.as_bytes()) {
                        if let Some(v) = self.rule_field(rule, key) {
                            out(Val {
                                name: Name::Keyed("RULE", Cow::Borrowed(key.as_bytes())),
                                value: Cow::Owned(v),
                                slot: 0,
                            });
                        }
                    }
                }
            }
            _ => {
                if let Some(v) = self.scalar_ref(t.var) {
                    // Borrowed scalars never change once set; computed ones may.
                    let s = match v {
                        Cow::Borrowed(_) => slot(64 + t.var as u32, 0),
                        Cow::Owned(_) => 0,
                    };
                    scalar(out, v, s);
                }
            }
        }
    }

    /// The first value of target `t`, copied.
    fn first_value(&self, t: &Target, rule: &Rule) -> Option<Vec<u8>> {
        let mut first = None;
        self.values(t, rule, &mut |v| {
            if first.is_none() {
                first = Some(v.value.into_owned());
            }
        });
        first
    }

    /// A scalar variable, borrowed where the transaction holds it.
    fn scalar_ref(&self, var: Var) -> Option<Cow<'_, [u8]>> {
        Some(Cow::Borrowed(match var {
            Var::RequestMethod => self.method.as_bytes(),
            Var::RequestProtocol => self.protocol.as_bytes(),
            Var::RequestUri => &self.uri,
            Var::RequestUriRaw => &self.uri_raw,
            Var::RequestLine => &self.request_line,
            Var::RequestFilename | Var::PathInfo => &self.filename,
            Var::QueryString => &self.query,
            Var::ResponseBody => &self.resp_body,
            Var::RequestBody => self.request_body_var()?,
            Var::RemoteAddr => self.conn.client.get().0.as_bytes(),
            Var::UniqueId => self.id.as_bytes(),
            _ => return self.scalar(var).map(Cow::Owned),
        }))
    }

    /// `REQUEST_BODY`: the raw body unless a structured processor (XML, MULTIPART) took it
    /// over; `ctl:forceRequestBodyVariable` forces it (as Coraza does; CRS's tests expect
    /// JSON bodies in REQUEST_BODY and XML ones not).
    fn request_body_var(&self) -> Option<&[u8]> {
        let structured = matches!(
            self.reqbody_processor.as_deref(),
            Some("XML") | Some("MULTIPART")
        );
        (!structured || self.force_body_var).then_some(&self.body[..])
    }

    fn rule_field(&self, rule: &Rule, key: &str) -> Option<Vec<u8>> {
        let a = &rule.actions;
        match key {
            "id" => Some(num(rule.id)),
            "phase" => Some(num(rule.phase)),
            "severity" => a.severity.map(num),
            "rev" => a.rev.clone().map(String::into_bytes),
            "ver" => a.ver.clone().map(String::into_bytes),
            "msg" => a.msg.as_ref().map(|t| self.expand(t, None)),
            "logdata" => a.logdata.as_ref().map(|t| self.expand(t, None)),
            _ => None,
        }
    }

    /// Scalars the transaction computes; the ones it holds as they are come from
    /// [`Transaction::scalar_ref`], which falls back to this.
    fn scalar(&self, var: Var) -> Option<Vec<u8>> {
        let now = || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs()
        };
        let flag = |b: bool| Some(num(u8::from(b)));
        let mflag = |f: fn(&Multipart) -> bool| flag(self.multipart.as_ref().is_some_and(f));
        Some(match var {
            Var::RequestBasename => {
                let f = &self.filename;
                let start = f
                    .iter()
                    .rposition(|&b| b == b'/' || b == b'\\')
                    .map_or(0, |i| i + 1);
                f[start..].to_vec()
            }
            Var::RequestLine => self.request_line.clone(),
            Var::RequestBodyLength => num(self.body.len()),
            Var::ArgsCombinedSize => num(self
                .args_get
                .iter()
                .chain(&self.args_post)
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()),
            Var::FilesCombinedSize => num(self
                .multipart
                .as_ref()
                .map_or(0, |m| m.files.iter().map(|f| f.size).sum::<usize>())),
            Var::FullRequestLength => num(self.body.len() + self.uri_raw.len()),
            Var::RemotePort => num(self.conn.client.get().1),
            Var::ServerAddr => self.conn.server.get().0.as_bytes().to_vec(),
            Var::ServerPort => num(self.conn.server.get().1),
            Var::ServerName => self.hostname().into_bytes(),
            Var::ReqbodyProcessor => self.reqbody_processor.clone()?.into_bytes(),
            Var::ReqbodyError | Var::ReqbodyProcessorError => {
                return flag(self.reqbody_error.is_some())
            }
            Var::ReqbodyErrorMsg | Var::ReqbodyProcessorErrorMsg => {
                self.reqbody_error.clone().unwrap_or_default().into_bytes()
            }
            Var::UrlencodedError => return flag(self.urlencoded_error),
            Var::InboundDataError => return flag(self.body_truncated),
            Var::OutboundDataError => return flag(self.resp_seen > self.response_body_limit),
            Var::MultipartStrictError => return mflag(Multipart::strict_error),
            Var::MultipartUnmatchedBoundary => {
                num(self.multipart.as_ref().map_or(0, |m| m.unmatched_boundary))
            }
            Var::MultipartBoundaryQuoted => return mflag(|m| m.flags.boundary_quoted),
            Var::MultipartBoundaryWhitespace => return mflag(|m| m.flags.boundary_whitespace),
            Var::MultipartDataBefore => return mflag(|m| m.flags.data_before),
            Var::MultipartDataAfter => return mflag(|m| m.flags.data_after),
            Var::MultipartHeaderFolding => return mflag(|m| m.flags.header_folding),
            Var::MultipartLfLine => return mflag(|m| m.flags.lf_line),
            Var::MultipartCrlfLfLines => return mflag(|m| m.flags.crlf_lf_lines()),
            Var::MultipartMissingSemicolon => return mflag(|m| m.flags.missing_semicolon),
            Var::MultipartInvalidQuoting => return mflag(|m| m.flags.invalid_quoting),
            Var::MultipartInvalidPart => return mflag(|m| m.flags.invalid_part),
            Var::MultipartInvalidHeaderFolding => return mflag(|m| m.flags.invalid_header_folding),
            Var::MultipartFileLimitExceeded => return mflag(|m| m.flags.file_limit_exceeded),
            Var::ResponseStatus | Var::Status => num(self.status),
            Var::ResponseProtocol => self.resp_protocol.clone().into_bytes(),
            Var::ResponseContentType => self.resp_header("content-type")?.to_vec(),
            Var::ResponseContentLength => self.resp_header("content-length")?.to_vec(),
            Var::StatusLine => format!("{} {}", self.resp_protocol, self.status).into_bytes(),
            Var::HighestSeverity => num(self.highest_severity),
            Var::MatchedVar => self.matched_var.1.clone(),
            Var::MatchedVarName => self.matched_var.0.clone().into_bytes(),
            Var::Duration => num(self.started.elapsed().as_millis()),
            Var::WebappId => self.rules.settings.web_app_id.clone().into_bytes(),
            Var::ModsecBuild => b"030015".to_vec(),
            Var::FullRequest => {
                let mut v = self.scalar(Var::RequestLine)?;
                for (k, val) in &self.headers {
                    v.extend_from_slice(b"\n");
                    v.extend_from_slice(k);
                    v.extend_from_slice(b": ");
                    v.extend_from_slice(val);
                }
                v.extend_from_slice(b"\n\n");
                v.extend_from_slice(&self.body);
                v
            }
            Var::RemoteHost => self.conn.client.get().0.as_bytes().to_vec(),
            Var::TimeEpoch => num(now()),
            Var::Time
            | Var::TimeDay
            | Var::TimeHour
            | Var::TimeMin
            | Var::TimeMon
            | Var::TimeSec
            | Var::TimeWday
            | Var::TimeYear => {
                let t = civil(now());
                match var {
                    Var::Time => format!("{:02}:{:02}:{:02}", t.hour, t.min, t.sec).into_bytes(),
                    Var::TimeDay => num(t.day),
                    Var::TimeHour => num(t.hour),
                    Var::TimeMin => num(t.min),
                    Var::TimeMon => num(t.mon),
                    Var::TimeSec => num(t.sec),
                    Var::TimeWday => num(t.wday),
                    _ => num(t.year),
                }
            }
            _ => return None,
        })
    }

    /// Expands a macro template against the transaction.
    fn expand(&self, t: &Template, rule: Option<&Rule>) -> Vec<u8> {
        t.expand(|r, out| self.resolve_into(r, rule, out))
    }

    /// [`Transaction::expand`] as text, invalid UTF-8 replaced (`U+FFFD`); valid text (all
    /// but a hostile request's) keeps the expansion's buffer, checked by the fast
    /// validator rather than the lossy one (CRS 920450's `@within
    /// %{tx.restricted_headers_basic}`: 150 bytes per request header).
    fn expand_string(&self, t: &Template, rule: Option<&Rule>) -> String {
        String::from_utf8(self.expand(t, rule))
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Appends the value of `%{r}` to `out`; a member of a stored collection (`%{tx.x}`,
    /// the common case in CRS `setvar`s) is copied straight from it, anything else goes
    /// through [`Transaction::resolve`].
    fn resolve_into(&self, r: &MacroRef, rule: Option<&Rule>, out: &mut Vec<u8>) {
        if let (Some(var), Some(key), None) = (r.var_id, &r.key, &r.key_regex) {
            if var.is_collection() && var != Var::Rule {
                if let Some(c) = self.coll(var) {
                    if let Some(v) = c.get(key) {
                        out.extend_from_slice(v);
                    }
                    return;
                }
            }
        }
        if let Some(v) = self.resolve(r, rule) {
            out.extend_from_slice(&v);
        }
    }

    fn resolve(&self, r: &MacroRef, rule: Option<&Rule>) -> Option<Vec<u8>> {
        let var = r.var_id?;
        if var == Var::Rule {
            return rule.and_then(|rule| self.rule_field(rule, r.key.as_deref()?));
        }
        if let (Some(re), true) = (&r.key_regex, var.is_collection()) {
            // `%{TX:/re/}`: the first member whose name matches (see macros.rs).
            if let Some(c) = self.coll(var) {
                return c
                    .sorted(|k| re.is_match(k.as_bytes()))
                    .first()
                    .map(|(_, v)| v.to_vec());
            }
            let target = Target {
                var,
                selector: Selector::Regex(re.clone()),
                count: false,
                exclude: false,
            };
            return self.first_value(&target, rule?);
        }
        if let Some(key) = &r.key {
            if var.is_collection() {
                if let Some(c) = self.coll(var) {
                    return c.get(key).map(<[u8]>::to_vec);
                }
                let target = Target {
                    var,
                    selector: Selector::Key(key.clone(), key.to_ascii_lowercase()),
                    count: false,
                    exclude: false,
                };
                return self.first_value(&target, rule?);
            }
        }
        self.scalar_ref(var).map(Cow::into_owned)
    }

    /// The stored collection behind a variable, if it exists yet (`TX` always does).
    fn coll(&self, var: Var) -> Option<&Collection> {
        match var {
            Var::Tx => Some(&self.tx),
            _ => self.colls.get(var.coll_name()),
        }
    }

    /// A collection by lower-case name, created on first use.
    fn coll_mut(&mut self, name: &str) -> &mut Collection {
        if name == "tx" {
            return &mut self.tx;
        }
        if !self.colls.contains_key(name) {
            self.colls.insert(name.to_string(), Collection::default());
        }
        self.colls.get_mut(name).expect("inserted above")
    }

    /// Runs a rule's per-match actions (`setvar`, `ctl`, …).
    fn run_actions(&mut self, r: &Rule) {
        for act in &r.actions.run {
            match act {
                RunAction::SetVar(sv) => {
                    // Keys and values without macros are borrowed from the rule; expanded
                    // ones go to a buffer kept across setvars (key, then value); an existing
                    // entry is overwritten in place (no allocation on the common path).
                    let mut buf = std::mem::take(&mut self.expand_buf);
                    buf.clear();
                    if sv.key_lit.is_none() {
                        sv.key
                            .expand_into(&mut buf, |m, out| self.resolve_into(m, Some(r), out));
                        buf.make_ascii_lowercase();
                    }
                    let key_len = buf.len();
                    if sv.value_lit.is_none() {
                        sv.value
                            .expand_into(&mut buf, |m, out| self.resolve_into(m, Some(r), out));
                    }
                    let (key_bytes, value_bytes) = buf.split_at(key_len);
                    let key: Cow<'_, str> = match &sv.key_lit {
                        Some(k) => Cow::Borrowed(k),
                        // Valid UTF-8 (every name but a hostile request's) is checked by
                        // the fast validator, not the lossy one's chunk iterator.
                        None => match std::str::from_utf8(key_bytes) {
                            Ok(k) => Cow::Borrowed(k),
                            Err(_) => String::from_utf8_lossy(key_bytes),
                        },
                    };
                    let value: &[u8] = sv.value_lit.as_deref().unwrap_or(value_bytes);
                    // The rule's own name is shared; an expanded one is copied.
                    let new_key = || -> Arc<str> {
                        match (&sv.key_lit, &key) {
                            (Some(k), _) => k.clone(),
                            (None, k) => Arc::from(k.as_ref()),
                        }
                    };
                    let coll = self.coll_mut(&sv.collection);
                    match sv.op {
                        SetOp::Set => coll.set(&key, value, new_key),
                        SetOp::Delete => coll.remove(&key),
                        SetOp::Add | SetOp::Sub => {
                            let d = to_int(value);
                            let mut digits = itoa::Buffer::new();
                            match coll.get_mut(&key) {
                                Some(cur) => {
                                    let n = add_sub(sv.op, to_int(cur), d);
                                    cur.clear();
                                    cur.extend_from_slice(digits.format(n).as_bytes());
                                }
                                None => {
                                    let n = add_sub(sv.op, 0, d);
                                    coll.set(&key, digits.format(n).as_bytes(), new_key);
                                }
                            }
                        }
                    }
                    if sv.collection == "tx" {
                        self.tx_written(&key);
                    }
                    drop(key);
                    self.expand_buf = buf;
                }
                RunAction::SetEnv(k, v) => {
                    let key = lower(&self.expand(k, Some(r)));
                    let value = self.expand(v, Some(r));
                    self.coll_mut("env")
                        .set(&key, &value, || Arc::from(key.as_str()));
                }
                RunAction::Ctl(c) => self.ctl(c),
                RunAction::Sanitise(kind, name) => {
                    // sanitiseMatched / sanitiseMatchedBytes name the variable that matched.
                    let name = match kind {
                        SanitiseKind::Matched | SanitiseKind::MatchedBytes => {
                            let n = &self.matched_var.0;
                            n.split_once(':').map_or(n.as_str(), |(_, k)| k).to_string()
                        }
                        _ => name.clone(),
                    };
                    // Each name once: a rule matching many arguments must not grow the
                    // list per match (CVE-2025-47947).
                    if self.sanitise_seen.insert(name.clone()) {
                        self.sanitise.push(name);
                    }
                }
            }
        }
    }

    fn ctl(&mut self, c: &Ctl) {
        let removal = RuleSel::removal(c);
        self.ctl_leaves_benign_path(c, removal.as_ref());
        match c {
            Ctl::RuleEngine(m) => self.engine = *m,
            Ctl::RuleRemoveById(_) | Ctl::RuleRemoveByTag(_) | Ctl::RuleRemoveByMsg(_) => {
                self.removed.extend(removal)
            }
            Ctl::RuleRemoveTargetById(ids, ts) => {
                for t in ts {
                    self.removed_targets
                        .push((RuleSel::Ids(ids.clone()), t.clone()));
                }
            }
            Ctl::RuleRemoveTargetByTag(tag, ts) => {
                let sel = RuleSel::tag(tag);
                for t in ts {
                    self.removed_targets.push((sel.clone(), t.clone()));
                }
            }
            Ctl::RuleRemoveTargetByMsg(m, ts) => {
                for t in ts {
                    self.removed_targets
                        .push((RuleSel::Msg(m.clone()), t.clone()));
                }
            }
            Ctl::RequestBodyAccess(b) => self.request_body_access = *b,
            Ctl::RequestBodyLimit(n) => self.request_body_limit = *n,
            Ctl::RequestBodyProcessor(p) => {
                let before = self.request_body_var().is_some();
                self.reqbody_processor = Some(p.clone());
                self.body_var_changed(before);
            }
            Ctl::ForceRequestBodyVariable(b) => {
                let before = self.request_body_var().is_some();
                self.force_body_var = *b;
                self.body_var_changed(before);
            }
            Ctl::ResponseBodyAccess(b) => self.response_body_access = *b,
            Ctl::ResponseBodyLimit(n) => self.response_body_limit = *n,
            Ctl::AuditEngine(v) => {
                if let Some(e) = AuditEngine::parse(v) {
                    self.audit_engine = e;
                }
            }
            Ctl::AuditLogParts(p) => {
                if let Some(add) = p.strip_prefix('+') {
                    self.audit_parts.push_str(add);
                } else if let Some(del) = p.strip_prefix('-') {
                    self.audit_parts.retain(|c| !del.contains(c));
                } else {
                    self.audit_parts = p.clone();
                }
            }
            Ctl::Ignored => {}
        }
    }

    /// The request body parse error (`REQBODY_ERROR_MSG`), if the body processor failed.
    pub fn request_body_error(&self) -> Option<&str> {
        self.reqbody_error.as_deref()
    }

    /// Names given to `sanitiseArg` and friends, to mask in the audit record.
    pub fn sanitised(&self) -> &[String] {
        &self.sanitise
    }

    /// The JSON audit record (ModSecurity v3 JSON layout) if `SecAuditEngine` says this
    /// transaction is to be audited; call after [`Transaction::process_logging`].
    pub fn audit_record(&self) -> Option<String> {
        if !self.audit_wanted() {
            return None;
        }
        Some(crate::audit::record::json(self))
    }

    /// Read access for the audit record builder.
    pub(crate) fn audit_view(&self) -> crate::audit::record::View<'_> {
        crate::audit::record::View {
            id: &self.id,
            conn: self.conn.get(),
            method: &self.method,
            uri: &self.uri_raw,
            protocol: &self.protocol,
            headers: &self.headers,
            body: &self.body,
            status: self.intervention.as_ref().map_or(self.status, |i| i.status),
            resp_headers: &self.resp_headers,
            resp_body: &self.resp_body,
            matches: &self.matches,
            args: [&self.args_get, &self.args_post],
            parts: &self.audit_parts,
            sanitise: &self.sanitise,
            intervention: self.intervention.as_ref(),
            server_signature: self.rules.settings.server_signature.as_deref(),
            components: &self.rules.settings.component_signatures,
        }
    }
}

struct Civil {
    year: i64,
    mon: u32,
    day: u32,
    hour: u64,
    min: u64,
    sec: u64,
    wday: u64,
}

/// UTC calendar fields from a Unix time (Howard Hinnant's days-from-civil inverse).
fn civil(secs: u64) -> Civil {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let mon = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(mon <= 2);
    Civil {
        year,
        mon,
        day,
        hour: rem / 3600,
        min: (rem % 3600) / 60,
        sec: rem % 60,
        wday: ((days + 4).rem_euclid(7)) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_time() {
        let c = civil(1_700_000_000); // 2023-11-14 22:13:20 UTC, a Tuesday
        assert_eq!(
            (c.year, c.mon, c.day, c.hour, c.min, c.sec, c.wday),
            (2023, 11, 14, 22, 13, 20, 2)
        );
    }

    #[test]
    fn count_text_is_decimal() {
        for n in (0..=130).chain([999, 12_345]) {
            assert_eq!(&*count_text(n), n.to_string().as_bytes(), "{n}");
        }
        assert!(matches!(count_text(99), Cow::Borrowed(_)));
    }

    #[test]
    fn setvar_integers() {
        assert_eq!(to_int(b"12abc"), 12);
        assert_eq!(to_int(b"-3"), -3);
        assert_eq!(to_int(b"x"), 0);
        assert_eq!(to_int(b" \t+7 "), 7);
        assert_eq!(to_int(b"-"), 0);
        assert_eq!(to_int(b"99999999999999999999"), 0);
    }
}
