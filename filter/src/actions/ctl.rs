//! `ctl:` actions: per-transaction configuration changes (`ctl:ruleEngine=Off`,
//! `ctl:ruleRemoveTargetById=942100;ARGS:password`, …).

use crate::rules::EngineMode;
use crate::variables::{self, Target};

/// An id or id range (`942100` or `942100-942199`).
pub type IdRange = (u64, u64);

/// A parsed `ctl` action.
#[derive(Debug, Clone)]
pub enum Ctl {
    /// `ruleEngine=On|Off|DetectionOnly`.
    RuleEngine(EngineMode),
    /// `ruleRemoveById=1,2-5`.
    RuleRemoveById(Vec<IdRange>),
    /// `ruleRemoveByTag=tag`.
    RuleRemoveByTag(String),
    /// `ruleRemoveByMsg=msg`.
    RuleRemoveByMsg(String),
    /// `ruleRemoveTargetById=id;ARGS:x`.
    RuleRemoveTargetById(Vec<IdRange>, Vec<Target>),
    /// `ruleRemoveTargetByTag=tag;ARGS:x`.
    RuleRemoveTargetByTag(String, Vec<Target>),
    /// `ruleRemoveTargetByMsg=msg;ARGS:x`.
    RuleRemoveTargetByMsg(String, Vec<Target>),
    /// `requestBodyAccess=On|Off`.
    RequestBodyAccess(bool),
    /// `requestBodyLimit=n`.
    RequestBodyLimit(u64),
    /// `requestBodyProcessor=URLENCODED|MULTIPART|JSON|XML`.
    RequestBodyProcessor(String),
    /// `forceRequestBodyVariable=On|Off`.
    ForceRequestBodyVariable(bool),
    /// `responseBodyAccess=On|Off`.
    ResponseBodyAccess(bool),
    /// `responseBodyLimit=n`.
    ResponseBodyLimit(u64),
    /// `auditEngine=On|Off|RelevantOnly`.
    AuditEngine(String),
    /// `auditLogParts=ABZ` (or `+E`, `-E`).
    AuditLogParts(String),
    /// `debugLogLevel=n` and other settings accepted without effect.
    Ignored,
}

impl PartialEq for Ctl {
    fn eq(&self, other: &Self) -> bool {
        format!("{self:?}") == format!("{other:?}")
    }
}

impl Eq for Ctl {}

/// Parses `on`/`off` (case-insensitive).
pub fn parse_on_off(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("on") {
        Some(true)
    } else if v.eq_ignore_ascii_case("off") {
        Some(false)
    } else {
        None
    }
}

/// Parses `1,2,10-20` (spaces or commas between items).
pub fn parse_id_ranges(v: &str) -> Result<Vec<IdRange>, String> {
    let mut out = Vec::new();
    for item in v.split([',', ' ']).filter(|s| !s.is_empty()) {
        let range = match item.split_once('-') {
            Some((a, b)) => (a.trim().parse(), b.trim().parse()),
            None => (item.trim().parse(), item.trim().parse()),
        };
        match range {
            (Ok(a), Ok(b)) if a <= b => out.push((a, b)),
            _ => return Err(format!("bad rule id or range `{item}`")),
        }
    }
    if out.is_empty() {
        return Err("no rule ids given".into());
    }
    Ok(out)
}

impl Ctl {
    /// Parses the text after `ctl:`.
    pub fn parse(v: &str) -> Result<Ctl, String> {
        let (name, value) = v
            .split_once('=')
            .ok_or_else(|| format!("ctl `{v}` needs name=value"))?;
        let value = value.trim();
        let bool_of =
            |val: &str| parse_on_off(val).ok_or_else(|| format!("ctl {name}: expected On or Off"));
        let targets_of = |val: &str| -> Result<(String, Vec<Target>), String> {
            let (what, t) = val
                .split_once(';')
                .ok_or_else(|| format!("ctl {name}: expected `…;VARIABLE`"))?;
            Ok((what.to_string(), variables::parse_targets(t)?))
        };
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "ruleengine" => Ctl::RuleEngine(
                EngineMode::parse(value)
                    .ok_or_else(|| format!("ctl ruleEngine: bad value `{value}`"))?,
            ),
            "ruleremovebyid" => Ctl::RuleRemoveById(parse_id_ranges(value)?),
            "ruleremovebytag" => Ctl::RuleRemoveByTag(value.to_string()),
            "ruleremovebymsg" => Ctl::RuleRemoveByMsg(value.to_string()),
            "ruleremovetargetbyid" => {
                let (ids, t) = targets_of(value)?;
                Ctl::RuleRemoveTargetById(parse_id_ranges(&ids)?, t)
            }
            "ruleremovetargetbytag" => {
                let (tag, t) = targets_of(value)?;
                Ctl::RuleRemoveTargetByTag(tag, t)
            }
            "ruleremovetargetbymsg" => {
                let (msg, t) = targets_of(value)?;
                Ctl::RuleRemoveTargetByMsg(msg, t)
            }
            "requestbodyaccess" => Ctl::RequestBodyAccess(bool_of(value)?),
            "requestbodylimit" => Ctl::RequestBodyLimit(
                value
                    .parse()
                    .map_err(|_| format!("ctl requestBodyLimit: bad number `{value}`"))?,
            ),
            "requestbodyprocessor" => {
                let p = value.to_ascii_uppercase();
                if !matches!(p.as_str(), "URLENCODED" | "MULTIPART" | "JSON" | "XML") {
                    return Err(format!(
                        "ctl requestBodyProcessor: unknown processor `{value}`"
                    ));
                }
                Ctl::RequestBodyProcessor(p)
            }
            "forcerequestbodyvariable" => Ctl::ForceRequestBodyVariable(bool_of(value)?),
            "responsebodyaccess" => Ctl::ResponseBodyAccess(bool_of(value)?),
            "responsebodylimit" => Ctl::ResponseBodyLimit(
                value
                    .parse()
                    .map_err(|_| format!("ctl responseBodyLimit: bad number `{value}`"))?,
            ),
            "auditengine" => Ctl::AuditEngine(value.to_string()),
            "auditlogparts" => Ctl::AuditLogParts(value.to_string()),
            "debugloglevel" | "hashengine" | "hashenforcement" | "parsexmlintoargs" => Ctl::Ignored,
            other => return Err(format!("unknown ctl `{other}`")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_target_removal_and_ranges() {
        match Ctl::parse("ruleRemoveTargetById=942100-942199;ARGS:password").unwrap() {
            Ctl::RuleRemoveTargetById(ids, t) => {
                assert_eq!(ids, vec![(942100, 942199)]);
                assert_eq!(t.len(), 1);
            }
            other => panic!("{other:?}"),
        }
        assert!(Ctl::parse("ruleEngine=Sideways").is_err());
        assert!(Ctl::parse("requestBodyProcessor=YAML").is_err());
        assert!(parse_id_ranges("5-1").is_err());
    }
}
