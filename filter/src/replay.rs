//! Replaying the rules whose outcome the configuration fixes.
//!
//! A large part of CRS's work on a benign request is bookkeeping that reads nothing of the
//! request: 901's defaults (`SecRule &TX:inbound_anomaly_score_threshold "@eq 0"
//! "setvar:tx.inbound_anomaly_score_threshold=5"`), every file's paranoia-level checks
//! (`SecRule TX:DETECTION_PARANOIA_LEVEL "@lt 2" "skipAfter:…"`), the score sums of 949,
//! 959 and 980. Such a rule reads `TX` members only, so its outcome is a function of them.
//!
//! At configure time the rule set runs once on an empty transaction in which every rule
//! that is not *fixed* (below) is taken not to match: the *benign path*, what a request
//! that no rule matches goes through. Each fixed rule reached records its outcome there
//! (`Outcome`): whether it matched and, if so, the `TX` members it wrote (their values
//! afterwards), `MATCHED_VAR`, and its match record. (`MATCHED_VARS` is not kept: every
//! rule reached next clears it before anything can read it.) At run time a fixed
//! rule is not evaluated but replayed from its outcome while the members it reads still
//! hold their benign-path values. The transaction tracks that (`ReplayState` in the transaction):
//! - every `TX` write that is not a replay (`setvar`, `capture`) marks its member *dirty*;
//!   a fixed rule that reads a dirty member is evaluated, and its own writes mark theirs;
//! - whatever leaves the benign path's flow ends replay for the transaction: a rule
//!   evaluated (not replayed) that matches and jumps (`skip`, `skipAfter`) over a fixed
//!   rule that matched on the benign path, a disruptive action that stops the phases or
//!   `allow`s, a `ctl` that removes a fixed rule or a `TX` target, a phase run without the
//!   one before it.
//!
//! Why this is exact: until replay ends, the transaction has run the benign path's rules,
//! in its order, except rules that matched where the benign path has them not match, and
//! the rules their jumps passed over, none of which matched on the benign path (so they
//! had no effect there). The only effects of those matches on later fixed rules are `TX`
//! writes, which are dirty, and `MATCHED_VAR(S)`, which fixed rules do not read; removing
//! other rules by `ctl` removes rules that do not match on the benign path, and
//! `ctl:ruleEngine` changes nothing a replayed `pass` does (`Off` stops all rules). So a
//! fixed rule whose members are clean sees what it saw on the benign path and does the
//! same: its `TX` writes (absolute values; a `+=`/`-=` reads its member, which is clean),
//! its flow, its record. A fixed rule is one that, in each link of its chain:
//! - has only `TX` targets (or none: `SecAction`), any operator (all are pure functions
//!   of their input), macros naming only `TX` members or constant `RULE` fields;
//! - runs only `setvar`s on `TX` (no `ctl`, `setenv`, `sanitise*`, other collections);
//!
//! and whose outcome on the benign path is no match, or a match that is `pass` (or names
//! no disruptive action) and neither logged nor audit-logged (its record holds nothing
//! that depends on the request). Other rules reached are evaluated as before.
//!
//! Measured (callgrind, CRS 4.28): 166 fixed rules have an outcome at PL1 (259 at PL4),
//! reading 39 `TX` members; on the benign GET 165 of 235 rule evaluations become replays,
//! for −15 % instructions (PL1 and PL4), the 1 KB form −3.5 % (PL4 −6 %); the 20 KB JSON
//! request gains little (its cost is per value, not per rule).
//!
//! Consecutive replayable rules of a phase form a [`Run`], replayed at once when the
//! members all of them read are clean: their combined `TX` writes (the last value of each
//! member), the last `MATCHED_VAR`, their records. Nothing a replay does changes what the
//! next one is admitted on (dirty members, the flow), so a run admitted as a whole does what
//! its rules replayed one by one do. A run ends before a marker (a `skipAfter` may land
//! there) and before a rule that matched and jumps (`skip`, `skipAfter`), which is
//! replayed on its own.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use smallvec::SmallVec;

use crate::actions::{RunAction, SetOp};
use crate::collection::{Collection, Value};
use crate::macros::Template;
use crate::rules::{Rule, RuleSet, Runs};
use crate::variables::{Selector, Var};

/// A set of interned `TX` member names (bit per [`Replay::keys`] entry).
pub(crate) type Bits = SmallVec<[u64; 4]>;

/// What a fixed rule reads: `TX` members by name, or any member (`TX`, `TX:/re/`).
#[derive(Debug, Default)]
struct Reads {
    keys: Vec<String>,
    any: bool,
}

/// The benign-path outcome of a fixed rule (see the module doc).
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The members it reads (including those a `+=`/`-=` changes).
    pub(crate) reads: Bits,
    /// Whether it reads every member (a whole-collection or regex target or macro).
    pub(crate) reads_any: bool,
    /// Whether it matched.
    pub(crate) matched: bool,
    /// The members it wrote, with their values afterwards (`None`: removed).
    pub(crate) writes: Vec<(Arc<str>, Option<Value>)>,
    /// `MATCHED_VAR` (name, value) afterwards.
    pub(crate) matched_var: (String, Vec<u8>),
    /// The match it recorded, if any (a silent one: neither logged nor audit-logged): id,
    /// phase, severity, kept here so that a replay does not read the rule itself.
    pub(crate) record: Option<(u64, u8, Option<u8>)>,
}

/// Consecutive replayable rules of one phase's list, replayed at once (see the module doc).
#[derive(Debug, Default)]
pub(crate) struct Run {
    /// The members its rules read, and whether one reads every member.
    pub(crate) reads: Bits,
    pub(crate) reads_any: bool,
    /// The members its rules write, with their values after the run (`None`: removed).
    pub(crate) writes: Vec<(Arc<str>, Option<Value>)>,
    /// `MATCHED_VAR` after the run, if one of its rules matched.
    pub(crate) matched_var: Option<(String, Vec<u8>)>,
    /// The silent records of the rules that record one: (id, phase, severity).
    pub(crate) records: Vec<(u64, u8, Option<u8>)>,
    /// For a run of many writes (CRS's setup, the first run of phase 1: 44 members),
    /// the `TX` collection it leaves when it starts from an empty one: copied as a whole
    /// (one table, no hashing) rather than written member by member.
    pub(crate) from_empty: Option<Collection>,
}

/// The fixed rules of a rule set and their benign-path outcomes.
#[derive(Debug, Default)]
pub struct Replay {
    /// Per rule index: whether the rule is fixed (what it reads), until outcomes are known.
    reads: Vec<Option<Reads>>,
    /// Per rule index: the outcome to replay, for fixed rules the benign path reached.
    pub(crate) outcomes: Vec<Option<Box<Outcome>>>,
    /// The `TX` members fixed rules read, by name, with their bit.
    pub(crate) keys: FxHashMap<Arc<str>, u32>,
    /// Runs of replayable rules, replayed at once.
    pub(crate) runs: Runs<Run>,
}

impl Replay {
    /// Finds the fixed rules of `rules` (chain starters); their outcomes come from
    /// `transaction::benign_path`.
    pub fn fixed(rules: &[Rule]) -> Replay {
        let mut replay = Replay::default();
        for rule in rules {
            let reads = reads_of(rule);
            for k in reads.iter().flat_map(|r| &r.keys) {
                let next = replay.keys.len() as u32;
                replay.keys.entry(Arc::from(k.as_str())).or_insert(next);
            }
            replay.reads.push(reads);
        }
        replay
    }

    /// Finds the runs of replayable rules of `set`'s phases (once the outcomes are
    /// known): rules with an outcome, but not one that matched and jumps.
    pub(crate) fn find_runs(&self, set: &RuleSet) -> Runs<Run> {
        let mut runs = Runs::find(&set.phases, |run: &mut Run, idx| {
            let (Some(o), Some(rule)) = (
                self.outcomes.get(idx).and_then(Option::as_deref),
                set.rules.get(idx),
            ) else {
                return false;
            };
            // A rule that matched and jumps is replayed on its own, jump included.
            let jumps = set.skip_to.get(idx).copied().flatten().is_some() || rule.actions.skip > 0;
            if o.matched && jumps {
                return false;
            }
            run.add(o);
            true
        });
        for run in runs.iter_mut() {
            if run.writes.len() >= FROM_EMPTY_WRITES {
                let mut tx = Collection::with_capacity(run.writes.len());
                for (k, v) in &run.writes {
                    match v {
                        Some(v) => tx.set(k, v, || k.clone()),
                        None => tx.remove(k),
                    }
                }
                run.from_empty = Some(tx);
            }
        }
        runs
    }

    /// Whether rule `idx` is fixed (evaluated on the benign path).
    pub(crate) fn is_fixed(&self, idx: usize) -> bool {
        self.reads.get(idx).is_some_and(Option::is_some)
    }

    /// The bit of member `key`, if a fixed rule reads it.
    pub(crate) fn bit(&self, key: &str) -> Option<u32> {
        self.keys.get(key).copied()
    }

    /// Number of `u64` words of a member set.
    pub(crate) fn words(&self) -> usize {
        self.keys.len().div_ceil(64)
    }

    /// The members rule `idx` reads, as bits, and whether it reads all.
    pub(crate) fn read_bits(&self, idx: usize) -> Option<(Bits, bool)> {
        let reads = self.reads.get(idx)?.as_ref()?;
        let mut bits: Bits = SmallVec::from_elem(0, self.words());
        for k in &reads.keys {
            if let Some(b) = self.bit(k) {
                set_bit(&mut bits, b);
            }
        }
        Some((bits, reads.any))
    }

    /// The rules of `rules` (the set's) that have an outcome to replay.
    pub(crate) fn with_outcome<'a>(&'a self, rules: &'a [Rule]) -> impl Iterator<Item = &'a Rule> {
        rules
            .iter()
            .zip(&self.outcomes)
            .filter_map(|(r, o)| o.as_ref().map(|_| r))
    }

    /// Number of `TX` members fixed rules read by name.
    pub fn keys_len(&self) -> usize {
        self.keys.len()
    }

    /// Number of fixed rules with an outcome to replay.
    pub fn replayable(&self) -> usize {
        self.outcomes.iter().flatten().count()
    }
}

impl Run {
    /// Appends the rule whose outcome is `o` to the run.
    fn add(&mut self, o: &Outcome) {
        if self.reads.len() < o.reads.len() {
            self.reads.resize(o.reads.len(), 0);
        }
        for (acc, w) in self.reads.iter_mut().zip(&o.reads) {
            *acc |= w;
        }
        self.reads_any |= o.reads_any;
        if !o.matched {
            return;
        }
        for (k, v) in &o.writes {
            match self.writes.iter_mut().find(|(w, _)| w == k) {
                Some((_, cur)) => cur.clone_from(v),
                None => self.writes.push((k.clone(), v.clone())),
            }
        }
        self.matched_var = Some(o.matched_var.clone());
        self.records.extend(o.record);
    }
}

/// Writes from which a run keeps the collection it leaves in an empty `TX`
/// ([`Run::from_empty`]).
const FROM_EMPTY_WRITES: usize = 32;

/// Sets bit `b` of `bits`.
pub(crate) fn set_bit(bits: &mut Bits, b: u32) {
    if let Some(w) = bits.get_mut(b as usize / 64) {
        *w |= 1 << (b % 64);
    }
}

/// What `rule` (with its chain) reads, if it is fixed (see the module doc).
fn reads_of(rule: &Rule) -> Option<Reads> {
    let mut reads = Reads::default();
    let mut link = Some(rule);
    while let Some(r) = link {
        for t in &r.targets {
            if t.var != Var::Tx {
                return None;
            }
            match &t.selector {
                Selector::Key(_, lower) => reads.keys.push(lower.clone()),
                _ => reads.any = true,
            }
        }
        if let Some(t) = r.op.as_ref().and_then(|op| op.dynamic.as_ref()) {
            template_reads(t, &mut reads)?;
        }
        for act in &r.actions.run {
            let RunAction::SetVar(sv) = act else {
                return None;
            };
            if sv.collection != "tx" {
                return None;
            }
            template_reads(&sv.key, &mut reads)?;
            template_reads(&sv.value, &mut reads)?;
            if matches!(sv.op, SetOp::Add | SetOp::Sub) {
                match &sv.key_lit {
                    Some(k) => reads.keys.push(k.to_string()),
                    None => reads.any = true,
                }
            }
        }
        link = r.chained.as_deref();
    }
    Some(reads)
}

/// Adds what the macros of `t` read to `reads`; `None` if one names anything but a `TX`
/// member or a constant `RULE` field.
fn template_reads(t: &Template, reads: &mut Reads) -> Option<()> {
    for m in t.refs() {
        match m.var_id {
            Some(Var::Tx) => match (&m.key, &m.key_regex) {
                (Some(k), None) => reads.keys.push(k.clone()),
                _ => reads.any = true,
            },
            Some(Var::Rule)
                if matches!(
                    m.key.as_deref(),
                    Some("id" | "phase" | "severity" | "rev" | "ver")
                ) => {}
            _ => return None,
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::{RuleSet, Transaction};

    /// CRS at PL1 from the embedded bundle, with a rule before it that sets the paranoia
    /// level from a request header (a `TX` write that makes the fixed rules reading it
    /// evaluated); `replay` false drops the outcomes, so every rule is evaluated.
    fn crs(replay: bool) -> Arc<RuleSet> {
        let files = crate::bundle::file_set().expect("embedded bundle");
        let text = r#"Include @recommended-conf
SecRule REQUEST_HEADERS:x-pl "@rx ^([1-4])$" "id:100,phase:1,pass,nolog,capture,setvar:tx.blocking_paranoia_level=%{tx.1},setvar:tx.detection_paranoia_level=%{tx.1}"
Include @crs-setup-conf
Include @owasp_crs/*.conf
"#;
        let mut rs = RuleSet::compile("crs.conf", text, &files).expect("CRS compiles");
        if !replay {
            rs.replay.outcomes.clear();
        }
        Arc::new(rs)
    }

    /// Method, URI, headers and body.
    type Request<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a str);

    /// What a request leaves that a user or a later rule can observe.
    type Observed = (
        Option<u16>,
        Vec<(u64, String, String, bool, bool)>,
        Vec<(String, Vec<u8>)>,
    );

    fn run(rs: &Arc<RuleSet>, req: &Request<'_>) -> (Observed, u32) {
        let (method, uri, headers, body) = *req;
        let mut tx = Transaction::new(rs.clone(), "diff-1");
        tx.set_request_line(method, uri.as_bytes(), "HTTP/1.1");
        tx.add_request_header(b"Host", b"example.com");
        for (k, v) in headers {
            tx.add_request_header(k.as_bytes(), v.as_bytes());
        }
        let mut status = tx.process_request_headers().map(|iv| iv.status);
        if status.is_none() {
            status = tx.append_request_body(body.as_bytes()).map(|iv| iv.status);
        }
        if status.is_none() {
            status = tx.process_request_body().map(|iv| iv.status);
        }
        if status.is_none() {
            tx.set_response_status(200, "HTTP/1.1");
            tx.add_response_header(b"Content-Type", b"text/html");
            status = tx.process_response_headers().map(|iv| iv.status);
            let _ = tx.append_response_body(b"<html>ok</html>");
            status = status.or(tx.process_response_body().map(|iv| iv.status));
        }
        tx.process_logging();
        let matches = tx
            .matches()
            .iter()
            .map(|m| {
                (
                    m.id,
                    m.msg().to_string(),
                    m.line().to_string(),
                    m.log,
                    m.auditlog,
                )
            })
            .collect();
        ((status, matches, tx.tx_members()), tx.stats().replayed)
    }

    #[test]
    fn replay_changes_nothing_observable() {
        let (with, without) = (crs(true), crs(false));
        // Runs of rules replayed at once are part of what is compared.
        assert!(
            with.replay.runs.len() > 10,
            "{} runs",
            with.replay.runs.len()
        );
        let form = [("Content-Type", "application/x-www-form-urlencoded")];
        let json = [("Content-Type", "application/json")];
        let pl4 = [("x-pl", "4")];
        let pl2_form = [
            ("x-pl", "2"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        let requests: &[Request<'_>] = &[
            ("GET", "/search?q=shoes&page=2&sort=price", &[], ""),
            ("GET", "/", &[], ""),
            ("GET", "/search?q=shoes", &pl4, ""),
            ("GET", "/?id=1%27%20or%201=1--", &[], ""),
            ("GET", "/?id=1%27%20or%201=1--", &pl4, ""),
            ("GET", "/?q=%3Cscript%3Ealert(1)%3C/script%3E", &[], ""),
            ("GET", "/?f=../../../../etc/passwd", &[], ""),
            ("GET", "/?cmd=;cat%20/etc/passwd", &pl4, ""),
            ("POST", "/submit", &form, "a=1&b=hello+world&c=x"),
            ("POST", "/submit", &pl2_form, "a=1&b=hello+world&c=x"),
            (
                "POST",
                "/submit",
                &form,
                "q=select+1+from+users+union+select+2",
            ),
            (
                "POST",
                "/api",
                &json,
                r#"{"name":"jane","tags":["a","b"],"n":3}"#,
            ),
            (
                "POST",
                "/api",
                &json,
                r#"{"q":"<img src=x onerror=alert(1)>"}"#,
            ),
            ("POST", "/api", &json, r#"{"broken":"#),
            ("GET", "/index.php?x=%00", &[], ""),
            ("GET", "/.env", &[], ""),
            ("PROPFIND", "/", &[], ""),
        ];
        let mut replayed = 0;
        for req in requests {
            let (a, n) = run(&with, req);
            let (b, none) = run(&without, req);
            assert_eq!(none, 0);
            replayed += n;
            assert_eq!(a, b, "{req:?}");
        }
        assert!(replayed > 1000, "replay was exercised: {replayed} replays");
    }
}
