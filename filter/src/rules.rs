//! The compiled rule set: everything expensive done once per configuration.
//!
//! [`RuleSet::compile`] reads directives ([`crate::seclang`]), applies engine settings,
//! resolves `SecDefaultAction` per phase, compiles operators (regexes, `@pm` automata,
//! data files), applies removals (`SecRuleRemoveBy*`) and target/action updates, and lays
//! rules out per phase with their `SecMarker`s. The result is immutable and shared.
//! Not here: evaluating rules (see [`crate::transaction`]).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::actions::{self, Actions, Disruptive};
use crate::files::FileSet;
use crate::macros::Template;
use crate::operators::{self, Operator};
use crate::prefilter::Prefilter;
use crate::replay::Replay;
use crate::seclang::{self, Directive};
use crate::transformations::UnicodeMap;
use crate::variables::{self, Target};

/// A configuration error: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// File the error is in (`inline`, `@owasp_crs/REQUEST-942….conf`, …).
    pub file: String,
    /// 1-based line of the directive.
    pub line: usize,
    /// What was wrong or expected.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// `SecRuleEngine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineMode {
    /// Rules run and disruptive actions are carried out.
    On,
    /// Rules run and log; nothing is blocked.
    DetectionOnly,
    /// No rules run.
    Off,
}

impl EngineMode {
    /// Parses `On`, `Off`, `DetectionOnly` (case-insensitive).
    pub fn parse(v: &str) -> Option<EngineMode> {
        match v.to_ascii_lowercase().as_str() {
            "on" => Some(EngineMode::On),
            "off" => Some(EngineMode::Off),
            "detectiononly" => Some(EngineMode::DetectionOnly),
            _ => None,
        }
    }
}

/// `SecRequestBodyLimitAction` / `SecResponseBodyLimitAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitAction {
    /// Refuse the transaction (413 for requests, 500 for responses).
    Reject,
    /// Inspect up to the limit and let the rest through uninspected.
    ProcessPartial,
}

/// `SecAuditEngine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEngine {
    /// Audit every transaction.
    On,
    /// Audit none.
    Off,
    /// Audit transactions with a logged match or a status matching
    /// `SecAuditLogRelevantStatus`.
    RelevantOnly,
}

impl AuditEngine {
    /// Parses `On`, `Off`, `RelevantOnly`.
    pub fn parse(v: &str) -> Option<AuditEngine> {
        match v.to_ascii_lowercase().as_str() {
            "on" => Some(AuditEngine::On),
            "off" => Some(AuditEngine::Off),
            "relevantonly" => Some(AuditEngine::RelevantOnly),
            _ => None,
        }
    }
}

/// Engine settings from configuration directives.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `SecRuleEngine`. Without the directive the engine is `On`: a rule set given to a
    /// WAF is meant to be enforced (`@recommended-conf` says `On` explicitly too).
    pub engine: EngineMode,
    /// `SecRequestBodyAccess`. Without the directive the body is inspected, as in
    /// libmodsecurity 3: `Transaction::processRequestBody` only skips the body when the
    /// property is explicitly `Off` (an unset property is neither `On` nor `Off`).
    pub request_body_access: bool,
    /// `SecResponseBodyAccess`.
    pub response_body_access: bool,
    /// `SecRequestBodyLimit` in bytes.
    pub request_body_limit: u64,
    /// `SecRequestBodyNoFilesLimit` in bytes.
    pub request_body_no_files_limit: u64,
    /// `SecRequestBodyLimitAction`.
    pub request_body_limit_action: LimitAction,
    /// Whether `SecRequestBodyLimitAction` was given. Only an explicit `Reject` refuses a
    /// body over `SecRequestBodyNoFilesLimit` with 413 (ModSecurity v2); otherwise that is
    /// a REQBODY_ERROR, as in libmodsecurity 3 where the action is unset by default.
    pub request_body_limit_action_set: bool,
    /// `SecResponseBodyLimit` in bytes.
    pub response_body_limit: u64,
    /// `SecResponseBodyLimitAction`.
    pub response_body_limit_action: LimitAction,
    /// `SecResponseBodyMimeType` (lower-case).
    pub response_body_mime_types: Vec<String>,
    /// `SecArgumentsLimit`.
    pub arguments_limit: usize,
    /// `SecArgumentSeparator`.
    pub argument_separator: u8,
    /// `SecRequestBodyJsonDepthLimit`.
    pub json_depth_limit: usize,
    /// `SecAuditEngine`.
    pub audit_engine: AuditEngine,
    /// `SecAuditLogParts`.
    pub audit_log_parts: String,
    /// `SecAuditLogRelevantStatus`.
    pub audit_relevant_status: Option<fancy_regex::Regex>,
    /// `SecComponentSignature`s.
    pub component_signatures: Vec<String>,
    /// `SecWebAppId`.
    pub web_app_id: String,
    /// `SecServerSignature` (accepted, reported in the audit record).
    pub server_signature: Option<String>,
    /// `SecUnicodeMapFile FILE CODEPAGE`: the map `t:urlDecodeUni` uses for `%uHHHH`.
    pub unicode_map: Option<Arc<UnicodeMap>>,
}

impl Default for Settings {
    fn default() -> Self {
        // Defaults of libmodsecurity 3 where it has one.
        Settings {
            engine: EngineMode::On,
            request_body_access: true,
            response_body_access: false,
            request_body_limit: 134_217_728,
            request_body_no_files_limit: 1_048_576,
            request_body_limit_action: LimitAction::Reject,
            request_body_limit_action_set: false,
            response_body_limit: 524_288,
            response_body_limit_action: LimitAction::ProcessPartial,
            response_body_mime_types: vec!["text/plain".into(), "text/html".into()],
            arguments_limit: 1000,
            argument_separator: b'&',
            json_depth_limit: 512,
            audit_engine: AuditEngine::Off,
            audit_log_parts: "ABCFHZ".into(),
            audit_relevant_status: None,
            component_signatures: Vec::new(),
            web_app_id: "default".into(),
            server_signature: None,
            unicode_map: None,
        }
    }
}

/// The operator of a rule (`repr(C)`: what evaluation reads first, see [`Rule`]).
#[derive(Debug)]
#[repr(C)]
pub struct RuleOperator {
    /// Compiled operator when the parameter is constant; shared by the rules whose
    /// operator, parameter and data-file directory are the same (see `Compiler::operators`).
    pub compiled: Option<Arc<dyn Operator>>,
    /// `!@…`.
    pub negated: bool,
    /// The parameter template when it holds macros (compiled per transaction).
    pub dynamic: Option<Template>,
    /// For a `multiMatch` rule the prefilter leaves out: a small automaton over the first
    /// bytes of the literals every match contains ([`crate::prefilter::gate_for`]); a value
    /// without any is not handed to the operator.
    pub gate: Option<crate::prefilter::Gate>,
    /// Name without `@` (`rx`).
    pub name: String,
    /// Parameter as written.
    pub param: String,
    /// The last parameter a dynamic operator was compiled for, with the result: CRS's
    /// `@within %{tx.allowed_methods}` expands to the same text on every request, and a
    /// `@rx %{…}` would otherwise build its regex per request.
    pub last_dynamic: Mutex<Option<(String, Arc<dyn Operator>)>>,
}

impl RuleOperator {
    /// The operator compiled for `param` (the expanded [`RuleOperator::dynamic`]),
    /// reusing the last compilation when the text is the same; `None` if it does not
    /// compile.
    pub fn compile_dynamic(&self, param: &str) -> Option<Arc<dyn Operator>> {
        // A poisoned lock (a panic elsewhere while it was held) cannot hold a half-written
        // entry: an entry is replaced in one assignment, after compiling.
        let mut last = self.last_dynamic.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((p, op)) = last.as_ref() {
            if p == param {
                return Some(op.clone());
            }
        }
        let op: Arc<dyn Operator> = operators::compile(&self.name, param, &NoFiles).ok()?.into();
        *last = Some((param.to_string(), op.clone()));
        Some(op)
    }
}

/// Operators compiled at run time (from macro-expanded parameters) read no files.
struct NoFiles;

impl operators::DataFiles for NoFiles {
    fn read(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
}

/// A compiled rule (a `SecRule` or `SecAction`, with its chain).
///
/// `repr(C)`, fields in the order evaluation reads them, the texts last (likewise
/// [`RuleOperator`] and [`Actions`]): a rule reached on cold caches then costs fewer cache
/// lines (`COLD=1 bench/instructions.sh`: GET 6,122 → 5,996, SQLi 8,145 → 7,968).
#[derive(Debug)]
#[repr(C)]
pub struct Rule {
    /// Rule id (0 for chained rules).
    pub id: u64,
    /// The [`tag_bit`]s of `tag_texts`: a tag whose bit is not set is not the rule's
    /// without comparing strings (CRS 941010's `ctl:ruleRemoveTargetByTag` is checked
    /// against every rule evaluated after it, on every request).
    pub tag_bits: u64,
    /// Bit per transformation of the chain (`Transform::id`; all bits if one is beyond 63):
    /// when each leaves a value unchanged, so does the chain.
    pub tmask: u64,
    /// Targets (exclusions are in [`Rule::exclusions`]).
    pub targets: Vec<Target>,
    /// The operator; `None` for `SecAction`.
    pub op: Option<RuleOperator>,
    /// Id of the rule's transformation chain (equal chains share an id), for the
    /// per-transaction cache of transformed values.
    pub tchain: u32,
    /// The value classes of which a value needs one for the chain to change it: the union
    /// of its steps' [`crate::transformations::triggers`].
    pub triggers: u32,
    /// Phase 1–5.
    pub phase: u8,
    /// Whether no step of the chain makes a value longer
    /// ([`crate::transformations::grows`]): then neither the value nor any step of it is
    /// longer than the value itself.
    pub shrinks: bool,
    /// The next rule of the chain.
    pub chained: Option<Box<Rule>>,
    /// Actions, with `SecDefaultAction` merged in.
    pub actions: Actions,
    /// `!VAR:key` exclusions.
    pub exclusions: Vec<Target>,
    /// Status to answer with when `block` resolves to `deny`/`redirect`.
    pub block_status: Option<u16>,
    /// The disruptive action `block` resolves to (from `SecDefaultAction`).
    pub block_action: Disruptive,
    /// File the rule came from.
    pub file: Arc<str>,
    /// Line of the rule.
    pub line: usize,
    /// Tags as written, for removal by tag.
    pub tag_texts: Vec<String>,
    /// `msg` as written, for removal by msg.
    pub msg_text: String,
}

/// The bit of `tag` in [`Rule::tag_bits`] (one of 64, by hash).
pub fn tag_bit(tag: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let h = BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(tag);
    1 << (h >> 58)
}

impl Rule {
    /// Whether a tag of the rule equals `tag`. libmodsecurity 3 compares tags for equality
    /// (`RuleWithActions::containsTag`), not as regexes as ModSecurity 2 did.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.has_tag_bit(tag, tag_bit(tag))
    }

    /// [`Rule::has_tag`] with the tag's [`tag_bit`] computed beforehand.
    pub fn has_tag_bit(&self, tag: &str, bit: u64) -> bool {
        self.tag_bits & bit != 0 && self.tag_texts.iter().any(|t| t == tag)
    }

    /// Whether the rule's `msg` equals `msg` (libmodsecurity 3's `containsMsg`).
    pub fn msg_matches(&self, msg: &str) -> bool {
        self.msg_text == msg
    }
}

/// An entry of a phase's rule list: 8 bytes, so that walking a phase's list touches few
/// cache lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// Index into [`RuleSet::rules`].
    Rule(u32),
    /// A `SecMarker` (index into the marker names).
    Marker(u32),
}

impl Item {
    /// The rule's index into [`RuleSet::rules`], for a rule entry.
    pub fn rule(self) -> Option<usize> {
        match self {
            Item::Rule(i) => Some(i as usize),
            Item::Marker(_) => None,
        }
    }
}

/// Runs of two or more consecutive rules of a phase's list, never across a marker, found
/// once at configure time: the rules replayed at once ([`crate::replay::Run`]) and those
/// passed over at once ([`crate::prefilter::SkipRun`]).
#[derive(Debug)]
pub struct Runs<R> {
    /// Per phase, per position in its list: the run starting there (index into `runs`,
    /// `u32::MAX` for none).
    at: [Vec<u32>; 6],
    /// Each run with the position after its last rule.
    runs: Vec<(usize, R)>,
}

impl<R> Default for Runs<R> {
    fn default() -> Self {
        Runs {
            at: Default::default(),
            runs: Vec::new(),
        }
    }
}

impl<R: Default> Runs<R> {
    /// The maximal runs of `phases`: `join(run, rule index)` adds a rule to the run being
    /// built, or says `false` when the rule ends it (and is not part of it).
    pub fn find(phases: &[Vec<Item>; 6], mut join: impl FnMut(&mut R, usize) -> bool) -> Self {
        let mut out = Runs::default();
        for (list, at_out) in phases.iter().zip(out.at.iter_mut()) {
            let mut at = vec![u32::MAX; list.len()];
            let mut pos = 0;
            while pos < list.len() {
                let mut run = R::default();
                let mut end = pos;
                while let Some(idx) = list.get(end).and_then(|it| it.rule()) {
                    if !join(&mut run, idx) {
                        break;
                    }
                    end += 1;
                }
                if end - pos >= 2 {
                    if let Some(slot) = at.get_mut(pos) {
                        *slot = out.runs.len() as u32;
                    }
                    out.runs.push((end, run));
                }
                pos = end.max(pos + 1);
            }
            *at_out = at;
        }
        out
    }
}

impl<R> Runs<R> {
    /// The run starting at position `pos` of `phase`'s list, with the position after it.
    pub fn at(&self, phase: usize, pos: usize) -> Option<(usize, &R)> {
        let r = *self.at.get(phase)?.get(pos)?;
        self.runs.get(r as usize).map(|(end, run)| (*end, run))
    }

    /// Number of runs.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// Every run, to complete once all are found.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut R> {
        self.runs.iter_mut().map(|(_, r)| r)
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }
}

/// A compiled, immutable rule set shared by all transactions.
#[derive(Debug, Default)]
pub struct RuleSet {
    /// Engine settings.
    pub settings: Settings,
    /// All rules in configuration order.
    pub rules: Vec<Rule>,
    /// Per phase (index 1–5), the rules and markers in order.
    pub phases: [Vec<Item>; 6],
    /// Marker names.
    pub markers: Vec<String>,
    /// Per phase, marker name → position in that phase's list.
    pub marker_pos: [HashMap<String, usize>; 6],
    /// Per rule with `skipAfter`, where its phase's list resumes after a match: just past
    /// the marker, or the list's end when the phase has no such marker (resolved once here
    /// rather than looked up by name on every match).
    pub skip_to: Vec<Option<usize>>,
    /// Which rules may be skipped when none of their literals occurs (see [`Prefilter`]).
    pub prefilter: Prefilter,
    /// Number of distinct transformation chains: `Rule::tchain` ids run from 1 to this.
    pub chain_count: u32,
    /// The rules whose outcome the configuration fixes, replayed rather than evaluated
    /// while a request stays on the benign path (see [`Replay`]).
    pub replay: Replay,
}

/// Defaults from `SecDefaultAction` for one phase.
#[derive(Debug, Clone)]
struct Defaults {
    actions: Actions,
}

impl Default for Defaults {
    fn default() -> Self {
        // ModSecurity's implicit default: "phase:2,log,auditlog,pass".
        Defaults {
            actions: Actions {
                disruptive: Some(Disruptive::Pass),
                log: Some(true),
                auditlog: Some(true),
                ..Actions::default()
            },
        }
    }
}

struct Compiler<'a> {
    files: &'a FileSet,
    set: RuleSet,
    defaults: [Defaults; 6],
    /// Phases a `SecDefaultAction` was given for.
    default_set: [bool; 6],
    ids: HashSet<u64>,
    /// The rule whose chain is still open, and the chain links so far.
    open_chain: Option<Vec<Rule>>,
    /// Deferred updates, applied after all rules are read.
    updates: Vec<(Directive, Update)>,
    /// Transformation chains seen so far → id.
    chains: HashMap<String, u32>,
    /// Operators compiled so far, by lower-case name, parameter and the directory data
    /// files are read from: CRS repeats some (`@pmFromFile lfi-os-files.data` and
    /// `unix-shell.data` twice, a few long `@rx`), which are then built once, and their
    /// automata and regex caches held once.
    operators: HashMap<(String, String, String), Arc<dyn Operator>>,
}

enum Update {
    RemoveById(Vec<actions::ctl::IdRange>),
    RemoveByTag(String),
    RemoveByMsg(String),
    TargetById(Vec<actions::ctl::IdRange>, Vec<Target>, Option<String>),
    TargetByTag(String, Vec<Target>),
    TargetByMsg(String, Vec<Target>),
    ActionById(u64, String),
}

impl RuleSet {
    /// Parses and compiles configuration text named `name`; `Include` and data files are
    /// read from `files`.
    pub fn compile(name: &str, text: &str, files: &FileSet) -> Result<RuleSet, ConfigError> {
        let directives = seclang::parse(name, text, files)?;
        let mut c = Compiler {
            files,
            set: RuleSet::default(),
            defaults: Default::default(),
            default_set: [false; 6],
            ids: HashSet::new(),
            open_chain: None,
            updates: Vec::new(),
            chains: HashMap::new(),
            operators: HashMap::new(),
        };
        for d in &directives {
            c.directive(d)?;
        }
        if let Some(chain) = c.open_chain.take() {
            let first = &chain[0];
            return Err(ConfigError {
                file: first.file.to_string(),
                line: first.line,
                message: "chain without a following rule".into(),
            });
        }
        c.apply_updates()?;
        c.retag_transform_chains();
        c.set.chain_count = c.chains.len() as u32;
        c.layout();
        if let Some(map) = c.set.settings.unicode_map.clone() {
            // Like libmodsecurity 3, the map applies to every `t:urlDecodeUni`, wherever
            // the directive sits.
            for rule in &mut c.set.rules {
                let mut link = Some(rule);
                while let Some(r) = link {
                    for t in &mut r.actions.transforms {
                        if t.name.eq_ignore_ascii_case("urlDecodeUni") {
                            t.unicode_map = Some(Arc::clone(&map));
                        }
                    }
                    link = r.chained.as_deref_mut();
                }
            }
        }
        c.set.prefilter = Prefilter::build(&c.set);
        for rule in &mut c.set.rules {
            let mut link = Some(rule);
            while let Some(r) = link {
                let gate = crate::prefilter::gate_for(r);
                if let Some(op) = r.op.as_mut() {
                    op.gate = gate;
                }
                link = r.chained.as_deref_mut();
            }
        }
        c.set.replay = Replay::fixed(&c.set.rules);
        // The benign path runs on the finished set, then its outcomes join it.
        let set = Arc::new(std::mem::take(&mut c.set));
        let outcomes = crate::transaction::benign_path(&set);
        let mut set = Arc::try_unwrap(set).map_err(|_| ConfigError {
            file: name.to_string(),
            line: 0,
            message: "internal error: the rule set is still shared after its benign path".into(),
        })?;
        set.replay.outcomes = outcomes;
        set.replay.runs = set.replay.find_runs(&set);
        set.prefilter.skip_runs = set.prefilter.find_skip_runs(&set);
        Ok(set)
    }

    /// Looks a rule up by id.
    pub fn rule_by_id(&self, id: u64) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

fn parse_size(d: &Directive, v: &str) -> Result<u64, ConfigError> {
    v.parse()
        .map_err(|_| d.error(format!("{}: expected a number of bytes, got `{v}`", d.name)))
}

fn on_off(d: &Directive, v: &str) -> Result<bool, ConfigError> {
    actions::ctl::parse_on_off(v).ok_or_else(|| d.error(format!("{}: expected On or Off", d.name)))
}

fn limit_action(d: &Directive, v: &str) -> Result<LimitAction, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "reject" => Ok(LimitAction::Reject),
        "processpartial" => Ok(LimitAction::ProcessPartial),
        _ => Err(d.error(format!("{}: expected Reject or ProcessPartial", d.name))),
    }
}

impl Compiler<'_> {
    fn directive(&mut self, d: &Directive) -> Result<(), ConfigError> {
        let name = d.name.to_ascii_lowercase();
        let arg = |i: usize| d.args.get(i).map(String::as_str);
        let one = || -> Result<&str, ConfigError> {
            match d.args.as_slice() {
                [a] => Ok(a.as_str()),
                _ => Err(d.error(format!("{} expects one argument", d.name))),
            }
        };
        let s = &mut self.set.settings;
        match name.as_str() {
            "secrule" => {
                let (vars, op) = match (arg(0), arg(1)) {
                    (Some(v), Some(o)) => (v, o),
                    _ => return Err(d.error("SecRule expects VARIABLES OPERATOR [ACTIONS]")),
                };
                if d.args.len() > 3 {
                    return Err(d.error("SecRule has too many arguments (quote the actions)"));
                }
                self.rule(d, Some((vars, op)), arg(2).unwrap_or(""))?;
            }
            "secaction" => self.rule(d, None, one()?)?,
            "secmarker" => {
                self.close_chain_check(d)?;
                let idx = u32::try_from(self.set.markers.len())
                    .map_err(|_| d.error("too many SecMarker directives"))?;
                self.set.markers.push(one()?.to_string());
                self.set.phases[0].push(Item::Marker(idx));
            }
            "secdefaultaction" => {
                let a = Actions::parse(one()?).map_err(|e| d.error(e))?;
                let Some(phase) = a.phase else {
                    return Err(d.error("SecDefaultAction must specify a phase."));
                };
                match a.disruptive {
                    None | Some(Disruptive::Block) => {
                        return Err(d.error("SecDefaultAction must specify a disruptive action."))
                    }
                    _ => {}
                }
                if a.id.is_some() {
                    return Err(d.error("SecDefaultAction must not specify an id."));
                }
                // libmodsecurity 3 (seclang-parser.yy) refuses a second SecDefaultAction
                // for a phase rather than silently replacing the first.
                if self.default_set[phase as usize] {
                    return Err(d.error(format!(
                        "SecDefaultActions can only be placed once per phase and \
                         configuration context. Phase {phase} was informed already."
                    )));
                }
                self.default_set[phase as usize] = true;
                let mut actions = a;
                actions.log.get_or_insert(true);
                actions.auditlog.get_or_insert(true);
                self.defaults[phase as usize] = Defaults { actions };
            }
            "secruleengine" => {
                s.engine = EngineMode::parse(one()?)
                    .ok_or_else(|| d.error("SecRuleEngine: expected On, Off or DetectionOnly"))?
            }
            "secrequestbodyaccess" => s.request_body_access = on_off(d, one()?)?,
            "secresponsebodyaccess" => s.response_body_access = on_off(d, one()?)?,
            "secrequestbodylimit" => s.request_body_limit = parse_size(d, one()?)?,
            "secrequestbodynofileslimit" => s.request_body_no_files_limit = parse_size(d, one()?)?,
            "secrequestbodyinmemorylimit" => {
                // Accepted: bodies live in memory in a proxy filter.
                parse_size(d, one()?)?;
            }
            "secrequestbodylimitaction" => {
                s.request_body_limit_action = limit_action(d, one()?)?;
                s.request_body_limit_action_set = true;
            }
            "secresponsebodylimit" => s.response_body_limit = parse_size(d, one()?)?,
            "secresponsebodylimitaction" => {
                s.response_body_limit_action = limit_action(d, one()?)?
            }
            "secresponsebodymimetype" => {
                s.response_body_mime_types = d.args.iter().map(|m| m.to_ascii_lowercase()).collect()
            }
            "secresponsebodymimetypesclear" => s.response_body_mime_types.clear(),
            "secargumentslimit" => s.arguments_limit = parse_size(d, one()?)? as usize,
            "secrequestbodyjsondepthlimit" => s.json_depth_limit = parse_size(d, one()?)? as usize,
            "secuploadfilelimit" => {
                // Accepted: libmodsecurity counts files against it only when it keeps them
                // (SecUploadKeepFiles / SecTmpSaveUploadedFiles), which a filter never does.
                parse_size(d, one()?)?;
            }
            "secargumentseparator" => {
                let v = one()?;
                let &[b] = v.as_bytes() else {
                    return Err(d.error("SecArgumentSeparator expects one character"));
                };
                s.argument_separator = b;
            }
            "seccomponentsignature" => s.component_signatures.push(one()?.to_string()),
            "secwebappid" => s.web_app_id = one()?.to_string(),
            "secserversignature" => s.server_signature = Some(one()?.to_string()),
            "secauditengine" => {
                s.audit_engine = AuditEngine::parse(one()?)
                    .ok_or_else(|| d.error("SecAuditEngine: expected On, Off or RelevantOnly"))?
            }
            "secauditlogparts" => {
                let v = one()?;
                if !v.bytes().all(|b| b"ABCDEFGHIJKZ".contains(&b)) {
                    return Err(d.error(format!("SecAuditLogParts: bad parts `{v}`")));
                }
                s.audit_log_parts = v.to_string();
            }
            "secauditlogrelevantstatus" => {
                let v = one()?;
                // PCRE syntax with look-around, as ModSecurity's recommended configuration
                // writes it (`^(?:5|4(?!04))`).
                s.audit_relevant_status = Some(
                    fancy_regex::Regex::new(v)
                        .map_err(|e| d.error(format!("SecAuditLogRelevantStatus: {e}")))?,
                );
            }
            "secauditlogformat" => {
                let v = one()?;
                if !v.eq_ignore_ascii_case("json") && !v.eq_ignore_ascii_case("native") {
                    return Err(d.error("SecAuditLogFormat: expected JSON or Native"));
                }
            }
            // Accepted without effect: where logs go is the proxy's business, and
            // persistent collections are not kept by a filter (see README).
            "secauditlog" | "secauditlog2" | "secauditlogtype" | "secauditlogstoragedir"
            | "secauditlogdirmode" | "secauditlogfilemode" | "secdebuglog" | "secdebugloglevel"
            | "seccollectiontimeout" | "sectmpdir" | "secdatadir" | "secuploaddir"
            | "secuploadkeepfiles" | "secuploadfilemode" | "secpcrematchlimit"
            | "secpcrematchlimitrecursion" | "secstatusengine" | "sectmpsaveuploadedfiles"
            | "secxmlexternalentity" | "seccookieformat" | "secunicodecodepage"
            | "secconnengine" | "sechttpblkey" | "secgeolookupdb" | "secgsblookupdb"
            | "secsensorid" | "secargumentslimitaction" => {}
            "secunicodemapfile" => {
                // SecUnicodeMapFile FILE CODEPAGE; the path may contain spaces (messages
                // as libmodsecurity 3's parser, regression issue-1941.json).
                let (Some((cp, path)), true) = (d.args.split_last(), d.args.len() >= 2) else {
                    return Err(d.error("SecUnicodeMapFile expects FILE CODEPAGE"));
                };
                let path = path.join(" ");
                let Ok(codepage) = cp.parse::<u32>() else {
                    return Err(d.error(format!(
                        "Invalid input:  SecUnicodeMapFile {path} {cp} (the code page must be a number)"
                    )));
                };
                let base = seclang::resolve_path(&d.file, "");
                let files = RelativeFiles {
                    files: self.files,
                    base: base.trim_end_matches('/'),
                };
                let Some(text) = operators::DataFiles::read(&files, &path) else {
                    return Err(d.error(format!(
                        "Failed to locate the unicode map file from: {path}"
                    )));
                };
                let map = UnicodeMap::parse(&String::from_utf8_lossy(&text), codepage)
                    .ok_or_else(|| {
                        d.error(format!(
                            "SecUnicodeMapFile: code page {codepage} has no mapping in {path}"
                        ))
                    })?;
                self.set.settings.unicode_map = Some(Arc::new(map));
            }
            "secruleremovebyid" => {
                let ids = actions::ctl::parse_id_ranges(&d.args.join(" "))
                    .map_err(|e| d.error(format!("SecRuleRemoveById: {e}")))?;
                self.updates.push((d.clone(), Update::RemoveById(ids)));
            }
            "secruleremovebytag" => {
                self.updates
                    .push((d.clone(), Update::RemoveByTag(one()?.to_string())));
            }
            "secruleremovebymsg" => {
                self.updates
                    .push((d.clone(), Update::RemoveByMsg(one()?.to_string())));
            }
            "secruleupdatetargetbyid" | "secruleupdatetargetbytag" | "secruleupdatetargetbymsg" => {
                let (Some(what), Some(targets)) = (arg(0), arg(1)) else {
                    return Err(d.error(format!("{} expects WHAT TARGETS [REPLACED]", d.name)));
                };
                let targets = variables::parse_targets(targets).map_err(|e| d.error(e))?;
                let upd = match name.as_str() {
                    "secruleupdatetargetbyid" => Update::TargetById(
                        actions::ctl::parse_id_ranges(what).map_err(|e| d.error(e))?,
                        targets,
                        arg(2).map(String::from),
                    ),
                    "secruleupdatetargetbytag" => Update::TargetByTag(what.to_string(), targets),
                    _ => Update::TargetByMsg(what.to_string(), targets),
                };
                self.updates.push((d.clone(), upd));
            }
            "secruleupdateactionbyid" => {
                let (Some(id), Some(acts)) = (arg(0), arg(1)) else {
                    return Err(d.error("SecRuleUpdateActionById expects ID ACTIONS"));
                };
                let id = id
                    .split(':')
                    .next()
                    .and_then(|i| i.parse().ok())
                    .ok_or_else(|| d.error(format!("SecRuleUpdateActionById: bad id `{id}`")))?;
                self.updates
                    .push((d.clone(), Update::ActionById(id, acts.to_string())));
            }
            "secrulescript" => {
                return Err(d.error("SecRuleScript is not supported (no Lua in a proxy filter)"))
            }
            "secremoterules" | "secremoterulesfailaction" => {
                return Err(d.error(format!(
                    "{} is not supported: a proxy filter does not fetch rules; put them in the plugin configuration",
                    d.name
                )))
            }
            _ => return Err(d.error(format!("unknown directive `{}`", d.name))),
        }
        Ok(())
    }

    fn close_chain_check(&self, d: &Directive) -> Result<(), ConfigError> {
        if self.open_chain.is_some() {
            return Err(d.error("a chained rule must be followed by a SecRule"));
        }
        Ok(())
    }

    fn rule(
        &mut self,
        d: &Directive,
        vars_op: Option<(&str, &str)>,
        actions_text: &str,
    ) -> Result<(), ConfigError> {
        let mut a = Actions::parse(actions_text).map_err(|e| d.error(e))?;
        let in_chain = self.open_chain.is_some();
        if vars_op.is_none() && in_chain {
            return Err(d.error("a chained rule must be followed by a SecRule"));
        }
        let phase = if in_chain {
            self.open_chain
                .as_ref()
                .and_then(|c| c.first())
                .map_or(2, |r| r.phase)
        } else {
            a.phase.unwrap_or(2)
        };
        if in_chain {
            for (what, bad) in [
                ("phase", a.phase.is_some()),
                ("a disruptive action", a.disruptive.is_some()),
                ("skipAfter", a.skip_after.is_some()),
            ] {
                if bad {
                    return Err(d.error(format!("a chained rule cannot have {what}")));
                }
            }
        } else {
            // libmodsecurity requires an id of a SecRule only (Driver::addSecRule); a chained
            // rule's id is ignored (above) and a SecAction may have none.
            match a.id {
                None if vars_op.is_some() => return Err(d.error("Rules must have an ID.")),
                Some(id) if !self.ids.insert(id) => {
                    return Err(d.error(format!("Rule id: {id} is duplicated")))
                }
                _ => {}
            }
        }
        let defaults = &self.defaults[phase as usize].actions;
        // SecDefaultAction: inherited transformations (unless t:none), disruptive action,
        // status and logging flags (ModSecurity reference manual, SecDefaultAction).
        if !a.t_none {
            let mut t = defaults.transforms.clone();
            t.append(&mut a.transforms);
            a.transforms = t;
        }
        if !in_chain {
            if a.disruptive.is_none() {
                a.disruptive = defaults.disruptive.clone();
            }
            if a.log.is_none() {
                a.log = defaults.log;
            }
            if a.auditlog.is_none() {
                a.auditlog = a.log.filter(|l| !l).or(defaults.auditlog);
            }
        }
        let block_action = defaults.disruptive.clone().unwrap_or(Disruptive::Pass);
        let block_status = defaults.status;
        let (targets, exclusions, op) = match vars_op {
            Some((vars, op)) => {
                let all = variables::parse_targets(vars).map_err(|e| d.error(e))?;
                let (exclusions, targets): (Vec<_>, Vec<_>) =
                    all.into_iter().partition(|t| t.exclude);
                (targets, exclusions, Some(self.operator(d, op)?))
            }
            None => (Vec::new(), Vec::new(), None),
        };
        let chain = a.chain;
        let tag_texts: Vec<String> = a.tags.iter().map(Template::literal).collect();
        let tag_bits = tag_texts.iter().fold(0, |b, t| b | tag_bit(t));
        let msg_text = a.msg.as_ref().map(Template::literal).unwrap_or_default();
        let rule = Rule {
            // Assigned once all rules are read (`retag_transform_chains`).
            tchain: 0,
            triggers: crate::transformations::class::ALWAYS,
            tmask: 0,
            shrinks: false,
            tag_texts,
            tag_bits,
            msg_text,
            id: if in_chain { 0 } else { a.id.unwrap_or(0) },
            phase,
            file: d.file.clone(),
            line: d.line,
            targets,
            exclusions,
            op,
            actions: a,
            block_action,
            block_status,
            chained: None,
        };
        let mut links = self.open_chain.take().unwrap_or_default();
        links.push(rule);
        if chain {
            self.open_chain = Some(links);
        } else {
            // Fold the links into one rule with nested chain.
            let mut next: Option<Box<Rule>> = None;
            while let Some(mut r) = links.pop() {
                r.chained = next;
                next = Some(Box::new(r));
            }
            if let Some(r) = next {
                let idx =
                    u32::try_from(self.set.rules.len()).map_err(|_| d.error("too many rules"))?;
                self.set.phases[0].push(Item::Rule(idx));
                self.set.rules.push(*r);
            }
        }
        Ok(())
    }

    fn operator(&mut self, d: &Directive, text: &str) -> Result<RuleOperator, ConfigError> {
        let (negated, rest) = match text.trim_start().strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, text.trim_start()),
        };
        let (name, param) = match rest.strip_prefix('@') {
            Some(r) => match r.find(|c: char| c.is_whitespace()) {
                Some(i) => (r[..i].to_string(), r[i + 1..].to_string()),
                None => (r.to_string(), String::new()),
            },
            // An operator without `@` is a regex (ModSecurity reference manual).
            None => ("rx".to_string(), rest.to_string()),
        };
        let template = Template::parse(&param);
        let base = seclang::resolve_path(&d.file, "");
        let files = RelativeFiles {
            files: self.files,
            base: base.trim_end_matches('/'),
        };
        // Operators that read files never expand macros; others may.
        let dynamic = template.has_macros() && !name.to_ascii_lowercase().ends_with("fromfile");
        let compiled = if dynamic {
            // Check the name now so a typo fails at configure time.
            let _ = operators::compile(&name, "", &files).map_err(|e| d.error(e))?;
            None
        } else {
            let key = (
                name.to_ascii_lowercase(),
                param.clone(),
                files.base.to_string(),
            );
            Some(match self.operators.get(&key) {
                Some(op) => Arc::clone(op),
                None => {
                    let op: Arc<dyn Operator> = operators::compile(&name, &param, &files)
                        .map_err(|e| d.error(e))?
                        .into();
                    self.operators.insert(key, Arc::clone(&op));
                    op
                }
            })
        };
        Ok(RuleOperator {
            name,
            negated,
            param,
            compiled,
            dynamic: dynamic.then_some(template),
            last_dynamic: Mutex::new(None),
            gate: None,
        })
    }

    /// Gives every rule the id of its transformation chain, once `SecRuleUpdateActionById`
    /// can no longer change the chain: rules with the same id share cached transformation
    /// results and prefilter groups.
    fn retag_transform_chains(&mut self) {
        for rule in &mut self.set.rules {
            let mut link = Some(rule);
            while let Some(r) = link {
                let key: Vec<&str> = r
                    .actions
                    .transforms
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect();
                let next_id = self.chains.len() as u32 + 1;
                r.tchain = *self.chains.entry(key.join(",")).or_insert(next_id);
                r.triggers = r.actions.transforms.iter().fold(0, |m, t| m | t.triggers);
                r.shrinks = r
                    .actions
                    .transforms
                    .iter()
                    .all(|t| !crate::transformations::grows(&t.name));
                r.tmask = r.actions.transforms.iter().fold(0, |m, t| {
                    m | 1u64.checked_shl(u32::from(t.id)).unwrap_or(u64::MAX)
                });
                link = r.chained.as_deref_mut();
            }
        }
    }

    fn apply_updates(&mut self) -> Result<(), ConfigError> {
        let updates = std::mem::take(&mut self.updates);
        let mut removed = vec![false; self.set.rules.len()];
        for (d, u) in updates {
            let rules = &mut self.set.rules;
            match u {
                Update::RemoveById(ids) => {
                    for (i, r) in rules.iter().enumerate() {
                        if ids.iter().any(|&(a, b)| (a..=b).contains(&r.id)) {
                            removed[i] = true;
                        }
                    }
                }
                Update::RemoveByTag(tag) => {
                    for (i, r) in rules.iter().enumerate() {
                        removed[i] |= r.has_tag(&tag);
                    }
                }
                Update::RemoveByMsg(msg) => {
                    for (i, r) in rules.iter().enumerate() {
                        removed[i] |= r.msg_matches(&msg);
                    }
                }
                Update::TargetById(ids, targets, replaced) => {
                    for r in rules.iter_mut() {
                        if ids.iter().any(|&(a, b)| (a..=b).contains(&r.id)) {
                            if let Some(rep) = &replaced {
                                let rep = variables::parse_targets(rep).map_err(|e| d.error(e))?;
                                r.targets.retain(|t| {
                                    !rep.iter().any(|x| {
                                        x.var == t.var && x.selector.text() == t.selector.text()
                                    })
                                });
                            }
                            add_targets(r, &targets);
                        }
                    }
                }
                Update::TargetByTag(tag, targets) => {
                    for r in rules.iter_mut().filter(|r| r.has_tag(&tag)) {
                        add_targets(r, &targets);
                    }
                }
                Update::TargetByMsg(msg, targets) => {
                    for r in rules.iter_mut().filter(|r| r.msg_matches(&msg)) {
                        add_targets(r, &targets);
                    }
                }
                Update::ActionById(id, text) => {
                    let upd = Actions::parse(&text).map_err(|e| d.error(e))?;
                    let Some(r) = rules.iter_mut().find(|r| r.id == id) else {
                        continue;
                    };
                    merge_actions(&mut r.actions, upd);
                }
            }
        }
        // Drop removed rules, keeping indices in phases[0] consistent.
        let mut new_index = vec![None; removed.len()];
        let mut kept = Vec::new();
        for (i, r) in std::mem::take(&mut self.set.rules).into_iter().enumerate() {
            if !removed[i] {
                // Fewer than before, each of which had a `u32` index.
                new_index[i] = u32::try_from(kept.len()).ok();
                kept.push(r);
            }
        }
        self.set.rules = kept;
        self.set.phases[0] = self.set.phases[0]
            .iter()
            .filter_map(|it| match *it {
                Item::Rule(i) => new_index[i as usize].map(Item::Rule),
                m => Some(m),
            })
            .collect();
        Ok(())
    }

    /// Distributes rules to their phases; markers go to every phase.
    fn layout(&mut self) {
        let order = std::mem::take(&mut self.set.phases[0]);
        for it in order {
            match it {
                Item::Rule(i) => {
                    let p = self.set.rules[i as usize].phase as usize;
                    self.set.phases[p].push(it);
                }
                Item::Marker(m) => {
                    for p in 1..=5 {
                        let pos = self.set.phases[p].len();
                        self.set.marker_pos[p]
                            .entry(self.set.markers[m as usize].clone())
                            .or_insert(pos);
                        self.set.phases[p].push(it);
                    }
                }
            }
        }
        self.set.skip_to = self
            .set
            .rules
            .iter()
            .map(|r| {
                let p = r.phase as usize;
                let marker = r.actions.skip_after.as_ref()?;
                let list = self.set.phases.get(p)?;
                Some(
                    self.set.marker_pos[p]
                        .get(marker)
                        .map_or(list.len(), |&pos| pos + 1),
                )
            })
            .collect();
    }
}

fn add_targets(r: &mut Rule, targets: &[Target]) {
    for t in targets {
        if t.exclude {
            r.exclusions.push(t.clone());
        } else {
            r.targets.push(t.clone());
        }
    }
}

/// `SecRuleUpdateActionById`: the new actions replace those of the same kind.
fn merge_actions(a: &mut Actions, u: Actions) {
    if u.msg.is_some() {
        a.msg = u.msg;
    }
    if u.logdata.is_some() {
        a.logdata = u.logdata;
    }
    if u.severity.is_some() {
        a.severity = u.severity;
    }
    if !u.tags.is_empty() {
        a.tags.extend(u.tags);
    }
    if u.disruptive.is_some() {
        a.disruptive = u.disruptive;
    }
    if u.status.is_some() {
        a.status = u.status;
    }
    if u.t_none {
        a.transforms.clear();
    }
    if !u.transforms.is_empty() || u.t_none {
        a.transforms.extend(u.transforms);
    }
    if u.log.is_some() {
        a.log = u.log;
    }
    if u.auditlog.is_some() {
        a.auditlog = u.auditlog;
    }
    if u.capture {
        a.capture = true;
    }
    if u.skip_after.is_some() {
        a.skip_after = u.skip_after;
    }
    a.run.extend(u.run);
}

/// Data files seen from a rule's file: relative paths resolve against its directory.
struct RelativeFiles<'a> {
    files: &'a FileSet,
    base: &'a str,
}

impl operators::DataFiles for RelativeFiles<'_> {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        let p = if path.starts_with('/') || path.starts_with('@') || self.base.is_empty() {
            path.to_string()
        } else {
            format!("{}/{}", self.base, path)
        };
        self.files
            .get(&p)
            .or_else(|| self.files.get(path))
            .map(<[u8]>::to_vec)
    }
}
