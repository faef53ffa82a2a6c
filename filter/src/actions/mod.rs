//! Actions: the third argument of `SecRule` / the argument of `SecAction`
//! (`id:1,phase:2,deny,status:403,t:lowercase,setvar:tx.x=+1,ctl:…`).
//!
//! This module parses action lists into [`Actions`]; the transaction executes them.
//! Disruptive, flow, metadata, data and `ctl` actions are all named as in the
//! ModSecurity reference manual.

pub mod ctl;

use std::sync::Arc;

use crate::macros::Template;
use crate::transformations::{self, TransformFn, UnicodeMap};

pub use ctl::Ctl;

/// Disruptive actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disruptive {
    /// Continue with the next rule.
    Pass,
    /// Whatever `SecDefaultAction` of the phase says.
    Block,
    /// Stop and answer with the status (403 by default).
    Deny,
    /// Close the connection.
    Drop,
    /// Stop inspecting (see [`AllowScope`]).
    Allow(AllowScope),
    /// Answer with a redirect to the (expanded) URL.
    Redirect(Template),
}

/// What `allow` lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowScope {
    /// `allow`: the rest of the transaction (but logging).
    All,
    /// `allow:phase`: the rest of the current phase.
    Phase,
    /// `allow:request`: the rest of the request phases.
    Request,
}

/// `setvar` operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    /// `=value`
    Set,
    /// `=+value`
    Add,
    /// `=-value`
    Sub,
    /// `!name`
    Delete,
}

/// A parsed `setvar`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetVar {
    /// Collection, lower-case (`tx`, `ip`, `session`, …).
    pub collection: String,
    /// Key template (may contain macros); expanded keys are lower-cased.
    pub key: Template,
    /// The key, lower-cased, when it has no macros (the common case).
    pub key_lit: Option<Arc<str>>,
    /// Operation.
    pub op: SetOp,
    /// Value template.
    pub value: Template,
    /// The value, when it has no macros (the common case), so setting it copies no template.
    pub value_lit: Option<Vec<u8>>,
}

/// Actions executed per match, in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunAction {
    /// `setvar`.
    SetVar(SetVar),
    /// `setenv:name=value`.
    SetEnv(Template, Template),
    /// `ctl:…`.
    Ctl(Ctl),
    /// `sanitiseArg` / `sanitiseMatched` / `sanitiseMatchedBytes` / `sanitiseRequestHeader`
    /// / `sanitiseResponseHeader`: names and values to mask in the audit log.
    Sanitise(SanitiseKind, String),
}

/// Which `sanitise*` action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SanitiseKind {
    /// `sanitiseArg:name`.
    Arg,
    /// `sanitiseMatched`.
    Matched,
    /// `sanitiseMatchedBytes[:a/b]`.
    MatchedBytes,
    /// `sanitiseRequestHeader:name`.
    RequestHeader,
    /// `sanitiseResponseHeader:name`.
    ResponseHeader,
}

/// A transformation in a rule's `t:` chain.
#[derive(Debug, Clone)]
pub struct Transform {
    /// Name as written.
    pub name: String,
    /// The function.
    pub func: TransformFn,
    /// Which function (its registry position, [`transformations::lookup_indexed`]): two
    /// transforms with equal ids give equal results.
    pub id: u8,
    /// For `urlDecodeUni`, the `SecUnicodeMapFile` map (set by the rule compiler).
    pub unicode_map: Option<Arc<UnicodeMap>>,
    /// The value classes of which a value needs one for the transformation to change it
    /// ([`transformations::triggers`]).
    pub triggers: u32,
}

impl Transform {
    /// Applies the transformation into `out` (empty on entry): `false` when the value is
    /// unchanged (what `out` holds then means nothing).
    #[inline]
    pub fn apply(&self, input: &[u8], out: &mut Vec<u8>) -> bool {
        match &self.unicode_map {
            Some(map) => transformations::url_decode_uni_mapped(input, Some(map), out),
            None => (self.func)(input, out),
        }
    }
}

/// Everything a rule's action list says (`repr(C)`: what evaluation reads first, the texts
/// last; see [`crate::rules::Rule`]).
#[derive(Debug, Clone, Default)]
#[repr(C)]
pub struct Actions {
    /// `t:` transformations, in order.
    pub transforms: Vec<Transform>,
    /// Per-match actions in order.
    pub run: Vec<RunAction>,
    /// `skip:n`.
    pub skip: u32,
    /// `status`.
    pub status: Option<u16>,
    /// `severity` as a number 0–7.
    pub severity: Option<u8>,
    /// `capture`.
    pub capture: bool,
    /// `multiMatch`.
    pub multi_match: bool,
    /// `chain`.
    pub chain: bool,
    /// `t:none` seen: inherited transformations are dropped.
    pub t_none: bool,
    /// `log` (true) / `nolog` (false).
    pub log: Option<bool>,
    /// `auditlog` / `noauditlog`.
    pub auditlog: Option<bool>,
    /// `phase` (1–5).
    pub phase: Option<u8>,
    /// The disruptive action, if the list names one.
    pub disruptive: Option<Disruptive>,
    /// `skipAfter:marker`.
    pub skip_after: Option<String>,
    /// `id`.
    pub id: Option<u64>,
    /// `msg`.
    pub msg: Option<Template>,
    /// `logdata`.
    pub logdata: Option<Template>,
    /// `tag`s (expanded at log time).
    pub tags: Vec<Template>,
    /// `ver`.
    pub ver: Option<String>,
    /// `rev`.
    pub rev: Option<String>,
    /// `maturity`.
    pub maturity: Option<String>,
    /// `accuracy`.
    pub accuracy: Option<String>,
}

/// Splits an action list on commas outside single quotes; yields (name, value).
pub fn split(text: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quote = false;
    let mut chars = text.chars().peekable();
    let mut pieces = Vec::new();
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_quote && chars.peek() == Some(&'\'') => {
                cur.push('\'');
                chars.next();
            }
            '\'' => {
                in_quote = !in_quote;
                cur.push(c);
            }
            ',' if !in_quote => pieces.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if in_quote {
        return Err(format!("unterminated quote in actions `{text}`"));
    }
    pieces.push(cur);
    for p in pieces {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        match p.find(':') {
            Some(i) => {
                let name = p[..i].trim().to_string();
                let value = unquote(p[i + 1..].trim());
                out.push((name, Some(value)));
            }
            None => out.push((p.to_string(), None)),
        }
    }
    Ok(out)
}

fn unquote(v: &str) -> String {
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        v[1..v.len() - 1].to_string()
    } else {
        v.to_string()
    }
}

/// Parses a severity name or number (`CRITICAL` → 2).
pub fn parse_severity(v: &str) -> Option<u8> {
    const NAMES: [&str; 8] = [
        "EMERGENCY",
        "ALERT",
        "CRITICAL",
        "ERROR",
        "WARNING",
        "NOTICE",
        "INFO",
        "DEBUG",
    ];
    if let Ok(n) = v.parse::<u8>() {
        return (n <= 7).then_some(n);
    }
    NAMES
        .iter()
        .position(|n| n.eq_ignore_ascii_case(v))
        .map(|p| p as u8)
}

/// Parses a phase number or name (`request` → 2, `response` → 4, `logging` → 5).
pub fn parse_phase(v: &str) -> Option<u8> {
    match v.to_ascii_lowercase().as_str() {
        "request" => Some(2),
        "response" => Some(4),
        "logging" => Some(5),
        n => n.parse::<u8>().ok().filter(|p| (1..=5).contains(p)),
    }
}

/// Validates an `xmlns:prefix=uri` value as libmodsecurity 3's `XmlNS::init` does (same
/// messages); `https://` is accepted too.
fn check_xmlns(v: &str) -> Result<(), String> {
    let Some((scope, href)) = v.split_once('=') else {
        return Err("XMLS: Bad format, missing equals sign.".into());
    };
    if scope.is_empty() || href.is_empty() {
        return Err("XMLS: XMLNS is invalid. Expecting a name=value format.".into());
    }
    let href = match href.strip_prefix('\'') {
        Some(inner) if href.len() > 3 => inner.strip_suffix('\'').unwrap_or(inner),
        _ => href,
    };
    if !(href.starts_with("http://") || href.starts_with("https://")) {
        return Err(format!("XMLS: Missing xmlns href for prefix: `{href}'."));
    }
    Ok(())
}

impl Actions {
    /// Parses an action list.
    pub fn parse(text: &str) -> Result<Actions, String> {
        let mut a = Actions::default();
        for (name, value) in split(text)? {
            a.apply(&name, value)?;
        }
        Ok(a)
    }

    fn apply(&mut self, name: &str, value: Option<String>) -> Result<(), String> {
        let need = |v: Option<String>| v.ok_or_else(|| format!("action `{name}` needs a value"));
        match name.to_ascii_lowercase().as_str() {
            "id" => {
                let v = need(value)?;
                let id = v.parse::<u64>().map_err(|_| format!("bad rule id `{v}`"))?;
                if id == 0 {
                    return Err("rule id 0 is not allowed".into());
                }
                self.id = Some(id);
            }
            "phase" => {
                let v = need(value)?;
                self.phase = Some(parse_phase(&v).ok_or_else(|| format!("bad phase `{v}`"))?);
            }
            "msg" => self.msg = Some(Template::parse(&need(value)?)),
            "logdata" => self.logdata = Some(Template::parse(&need(value)?)),
            "severity" => {
                let v = need(value)?;
                self.severity =
                    Some(parse_severity(&v).ok_or_else(|| format!("bad severity `{v}`"))?);
            }
            "tag" => self.tags.push(Template::parse(&need(value)?)),
            "ver" => self.ver = Some(need(value)?),
            "rev" => self.rev = Some(need(value)?),
            "maturity" => self.maturity = Some(need(value)?),
            "accuracy" => self.accuracy = Some(need(value)?),
            "chain" => self.chain = true,
            "skip" => {
                let v = need(value)?;
                self.skip = v.parse().map_err(|_| format!("bad skip count `{v}`"))?;
            }
            "skipafter" => self.skip_after = Some(need(value)?),
            "pass" => self.disruptive = Some(Disruptive::Pass),
            // `block` does not replace an explicit disruptive action: libmodsecurity keeps it
            // apart (`m_containsStaticBlockAction`, rule_with_actions.cc), so
            // `SecDefaultAction "phase:2,deny,block"` still denies and `pass,block` passes.
            "block" => {
                if self.disruptive.is_none() {
                    self.disruptive = Some(Disruptive::Block);
                }
            }
            "deny" => self.disruptive = Some(Disruptive::Deny),
            "drop" => self.disruptive = Some(Disruptive::Drop),
            "allow" => {
                let scope = match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
                    None => AllowScope::All,
                    Some("phase") => AllowScope::Phase,
                    Some("request") => AllowScope::Request,
                    Some(v) => return Err(format!("bad allow scope `{v}`")),
                };
                self.disruptive = Some(Disruptive::Allow(scope));
            }
            "redirect" => {
                self.disruptive = Some(Disruptive::Redirect(Template::parse(&need(value)?)))
            }
            "status" => {
                let v = need(value)?;
                self.status = Some(
                    v.parse::<u16>()
                        .ok()
                        .filter(|s| (100..=999).contains(s))
                        .ok_or_else(|| format!("bad status `{v}`"))?,
                );
            }
            "t" => {
                let v = need(value)?;
                if v.eq_ignore_ascii_case("none") {
                    self.t_none = true;
                    self.transforms.clear();
                } else {
                    let (id, func) = transformations::lookup_indexed(&v)
                        .ok_or_else(|| format!("unknown transformation `{v}`"))?;
                    self.transforms.push(Transform {
                        triggers: transformations::triggers(&v),
                        name: v,
                        func,
                        id,
                        unicode_map: None,
                    });
                }
            }
            "capture" => self.capture = true,
            "multimatch" => self.multi_match = true,
            "log" => self.log = Some(true),
            "nolog" => self.log = Some(false),
            "auditlog" => self.auditlog = Some(true),
            "noauditlog" => self.auditlog = Some(false),
            "setvar" => self
                .run
                .push(RunAction::SetVar(parse_setvar(&need(value)?)?)),
            "setenv" => {
                let v = need(value)?;
                let (k, val) = v.split_once('=').unwrap_or((v.as_str(), ""));
                self.run
                    .push(RunAction::SetEnv(Template::parse(k), Template::parse(val)));
            }
            "ctl" => self.run.push(RunAction::Ctl(Ctl::parse(&need(value)?)?)),
            "sanitisearg" | "sanitizearg" => self
                .run
                .push(RunAction::Sanitise(SanitiseKind::Arg, need(value)?)),
            "sanitisematched" | "sanitizematched" => self
                .run
                .push(RunAction::Sanitise(SanitiseKind::Matched, String::new())),
            "sanitisematchedbytes" | "sanitizematchedbytes" => self.run.push(RunAction::Sanitise(
                SanitiseKind::MatchedBytes,
                value.unwrap_or_default(),
            )),
            "sanitiserequestheader" | "sanitizerequestheader" => self.run.push(
                RunAction::Sanitise(SanitiseKind::RequestHeader, need(value)?),
            ),
            "sanitiseresponseheader" | "sanitizeresponseheader" => self.run.push(
                RunAction::Sanitise(SanitiseKind::ResponseHeader, need(value)?),
            ),
            // Accepted, with no effect here: persistent collections live outside a proxy
            // filter's request scope (documented in README), and these only configure them
            // or are informational.
            "initcol" | "expirevar" | "setsid" | "setuid" | "setrsc" | "deprecatevar"
            | "append" | "prepend" | "proxy" | "pause" => {}
            // Namespaces are not used by our XPath subset, but a malformed one is refused as
            // libmodsecurity 3 does (`XmlNS::init`, regression action-xmlns.json).
            "xmlns" => check_xmlns(&need(value)?)?,
            "exec" => {
                return Err("action `exec` is not supported (no scripts in a proxy filter)".into())
            }
            other => return Err(format!("unknown action `{other}`")),
        }
        Ok(())
    }
}

/// Parses `setvar` arguments: `tx.x=1`, `tx.x=+%{tx.y}`, `!tx.x`, `tx.flag`.
pub fn parse_setvar(v: &str) -> Result<SetVar, String> {
    let (delete, v) = match v.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    let (name, op, value) = match v.split_once('=') {
        Some((n, val)) if !delete => {
            if let Some(r) = val.strip_prefix('+') {
                (n, SetOp::Add, r)
            } else if let Some(r) = val.strip_prefix('-') {
                (n, SetOp::Sub, r)
            } else {
                (n, SetOp::Set, val)
            }
        }
        Some(_) => return Err(format!("bad setvar `!{v}`")),
        None if delete => (v, SetOp::Delete, ""),
        None => (v, SetOp::Set, "1"),
    };
    let (coll, key) = name
        .split_once('.')
        .ok_or_else(|| format!("setvar `{v}` needs collection.name"))?;
    let key = Template::parse(key.trim());
    let value = Template::parse(value);
    Ok(SetVar {
        collection: coll.trim().to_ascii_lowercase(),
        key_lit: (!key.has_macros()).then(|| key.literal().to_ascii_lowercase().into()),
        key,
        op,
        value_lit: (!value.has_macros()).then(|| value.literal().into_bytes()),
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quoted_values() {
        let parts = split("id:1,msg:'a, b',setvar:'tx.x=+%{tx.y}',t:none,deny").unwrap();
        assert_eq!(parts[1], ("msg".into(), Some("a, b".into())));
        assert_eq!(parts[2].1.as_deref(), Some("tx.x=+%{tx.y}"));
        assert_eq!(parts[4], ("deny".into(), None));
    }

    #[test]
    fn block_does_not_replace_an_explicit_disruptive_action() {
        let d = |t: &str| Actions::parse(t).unwrap().disruptive;
        assert_eq!(d("deny,block"), Some(Disruptive::Deny));
        assert_eq!(d("pass,block"), Some(Disruptive::Pass));
        assert_eq!(d("block,deny"), Some(Disruptive::Deny));
        assert_eq!(d("block"), Some(Disruptive::Block));
    }

    #[test]
    fn parses_setvar_forms() {
        assert_eq!(parse_setvar("!tx.a").unwrap().op, SetOp::Delete);
        assert_eq!(parse_setvar("tx.a=-5").unwrap().op, SetOp::Sub);
        let s = parse_setvar("TX.flag").unwrap();
        assert_eq!((s.collection.as_str(), s.op), ("tx", SetOp::Set));
        assert!(parse_setvar("nodot").is_err());
    }

    #[test]
    fn unknown_actions_and_bad_values_are_errors() {
        assert!(Actions::parse("id:1,frobnicate").is_err());
        assert!(Actions::parse("phase:9").is_err());
        assert!(Actions::parse("id:x").is_err());
        let a = Actions::parse("id:5,phase:request,severity:CRITICAL,status:404,deny").unwrap();
        assert_eq!(
            (a.id, a.phase, a.severity, a.status),
            (Some(5), Some(2), Some(2), Some(404))
        );
    }
}
