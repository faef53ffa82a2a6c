//! The plugin configuration: the JSON string a proxy hands the filter (`configuration` of
//! the Envoy `wasm` filter or the Istio `WasmPlugin`), parsed, checked and compiled.
//!
//! It is a drop-in for coraza-proxy-wasm's configuration (its `config.go`): named directive
//! sets in `directives_map` (each a list of SecLang lines, joined with `\n`),
//! `default_directives` naming the set used when no authority matches,
//! `per_authority_directives` mapping an authority to a set, `metric_labels`, and the
//! deprecated top-level `rules` list. Unlike coraza-proxy-wasm, an unknown key is an error
//! (a misspelt `per_authority_directive` must not silently leave a host unprotected), and an
//! authority is matched exactly (with its port) first and then by host without the port
//! (coraza-proxy-wasm's `getWAFOrDefault` matches only the exact `:authority`, so
//! `example.com:443` falls through to the default set). Host names compare ASCII
//! case-insensitively.
//!
//! Our own addition is `block_response`: what a blocked client receives.
//!
//! ```json
//! {
//!   "directives_map": {
//!     "default": ["Include @recommended-conf", "Include @crs-setup-conf",
//!                 "Include @owasp_crs/*.conf"],
//!     "detect":  ["Include @recommended-conf", "SecRuleEngine DetectionOnly",
//!                 "Include @crs-setup-conf", "Include @owasp_crs/*.conf"]
//!   },
//!   "default_directives": "default",
//!   "per_authority_directives": { "legacy.example.com": "detect" },
//!   "metric_labels": { "owner": "team-a" },
//!   "block_response": {
//!     "status": 403, "body": "Request blocked.\n", "content_type": "text/plain",
//!     "headers": { "cache-control": "no-store" },
//!     "add_rule_id_header": true, "add_request_id_header": true
//!   }
//! }
//! ```
//!
//! Not here: proxy-wasm types (this module builds and tests natively), rule semantics
//! (`RuleSet::compile` does those), and the embedded files (`crate::bundle`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;

use crate::files::FileSet;
use crate::rules::{ConfigError, RuleSet};
use crate::transaction::{Action, Intervention};

/// Header carrying the id of the rule that caused a block (`add_rule_id_header`).
pub const RULE_ID_HEADER: &str = "x-wafer-rule-id";
/// Header carrying the request id (`add_request_id_header`).
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Name of the set built from the deprecated top-level `rules` list, and of the empty set
/// used when nothing is configured.
pub const DEFAULT_SET: &str = "default";

/// Why a plugin configuration was rejected. `Display` is the one log line the filter writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginConfigError {
    /// Not JSON, wrong types, or an unknown key (serde_json's message names line and column).
    Json(String),
    /// A set name that `directives_map` does not define; `referrer` says who named it.
    UnknownSet {
        /// `default_directives` or `per_authority_directives["host"]`.
        referrer: String,
        /// The missing name.
        name: String,
    },
    /// A setting with a bad value (`block_response.status`, a header name, …).
    Invalid(String),
    /// A directive set failed to compile.
    Compile {
        /// The set's name in `directives_map`.
        set: String,
        /// Where and what (`file:line: message`).
        error: ConfigError,
    },
}

impl fmt::Display for PluginConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginConfigError::Json(m) => write!(f, "invalid plugin configuration: {m}"),
            PluginConfigError::UnknownSet { referrer, name } => write!(
                f,
                "invalid plugin configuration: {referrer} names directive set {name:?}, \
                 which directives_map does not define"
            ),
            PluginConfigError::Invalid(m) => write!(f, "invalid plugin configuration: {m}"),
            PluginConfigError::Compile { set, error } => {
                write!(f, "directive set {set:?}: {error}")
            }
        }
    }
}

impl std::error::Error for PluginConfigError {}

/// What a blocked client receives; `block_response` in the JSON. All fields are optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlockResponse {
    /// Status for blocks that carry the engine's default 403 (a rule's own `status:` other
    /// than 403, the 413 of a body over the limit and the 400 of a body parse error keep
    /// theirs). `None`: 403.
    pub status: Option<u16>,
    /// Response body; empty by default.
    pub body: String,
    /// `content-type` of the body; sent only with a non-empty body. Default `text/plain`.
    pub content_type: Option<String>,
    /// Extra response headers (name → value).
    pub headers: BTreeMap<String, String>,
    /// Add [`RULE_ID_HEADER`] with the id of the rule that blocked.
    pub add_rule_id_header: bool,
    /// Add [`REQUEST_ID_HEADER`] with the request id.
    pub add_request_id_header: bool,
}

/// A local response for the proxy to send instead of the upstream's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// Body (may be empty).
    pub body: Vec<u8>,
}

impl BlockResponse {
    /// The response for `intervention`, or `None` for [`Action::Drop`] (close the stream).
    pub fn render(&self, intervention: &Intervention, request_id: &str) -> Option<LocalResponse> {
        let mut headers = Vec::new();
        let (status, body) = match &intervention.action {
            Action::Drop => return None,
            Action::Redirect(location) => {
                // ModSecurity: redirect answers 302 unless the rule's `status:` is a 3xx.
                let status = if (300..400).contains(&intervention.status) {
                    intervention.status
                } else {
                    302
                };
                headers.push(("location".to_string(), location.clone()));
                (status, Vec::new())
            }
            Action::Deny => {
                let status = match (intervention.status, self.status) {
                    (403, Some(s)) => s,
                    (s, _) => s,
                };
                if !self.body.is_empty() {
                    let ct = self.content_type.as_deref().unwrap_or("text/plain");
                    headers.push(("content-type".to_string(), ct.to_string()));
                }
                for (k, v) in &self.headers {
                    headers.push((k.clone(), v.clone()));
                }
                (status, self.body.as_bytes().to_vec())
            }
        };
        if self.add_rule_id_header {
            if let Some(id) = intervention.rule_id {
                headers.push((RULE_ID_HEADER.to_string(), id.to_string()));
            }
        }
        if self.add_request_id_header && !request_id.is_empty() {
            headers.push((REQUEST_ID_HEADER.to_string(), request_id.to_string()));
        }
        Some(LocalResponse {
            status,
            headers,
            body,
        })
    }

    fn validate(&self) -> Result<(), PluginConfigError> {
        if let Some(s) = self.status {
            if !(200..=599).contains(&s) {
                return Err(PluginConfigError::Invalid(format!(
                    "block_response.status {s} is not an HTTP status in 200..=599"
                )));
            }
        }
        if let Some(ct) = &self.content_type {
            check_header("block_response.content_type", "content-type", ct)?;
        }
        for (k, v) in &self.headers {
            check_header("block_response.headers", k, v)?;
        }
        Ok(())
    }
}

/// Rejects header names that are not RFC 9110 tokens, pseudo-headers and values with
/// CR, LF or NUL (response splitting).
fn check_header(what: &str, name: &str, value: &str) -> Result<(), PluginConfigError> {
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(tchar) {
        return Err(PluginConfigError::Invalid(format!(
            "{what}: {name:?} is not a valid header name"
        )));
    }
    if value.contains(['\r', '\n', '\0']) {
        return Err(PluginConfigError::Invalid(format!(
            "{what}: value of {name:?} contains CR, LF or NUL"
        )));
    }
    Ok(())
}

/// The JSON document as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    directives_map: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    default_directives: Option<String>,
    #[serde(default)]
    per_authority_directives: BTreeMap<String, String>,
    #[serde(default)]
    metric_labels: BTreeMap<String, String>,
    /// coraza-proxy-wasm's deprecated form: one list of lines, used when `directives_map`
    /// is empty.
    #[serde(default)]
    rules: Option<Vec<String>>,
    #[serde(default)]
    block_response: BlockResponse,
}

/// A parsed and checked plugin configuration, not yet compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginConfig {
    /// Directive sets: name → SecLang text (the JSON lines joined with `\n`).
    pub sets: BTreeMap<String, String>,
    /// The set used when no authority matches.
    pub default_set: String,
    /// Authority (lowercased, as written: with or without port) → set name.
    pub per_authority: BTreeMap<String, String>,
    /// Labels appended to every metric name (`_key=value`), as coraza-proxy-wasm does.
    pub metric_labels: BTreeMap<String, String>,
    /// What a blocked client receives.
    pub block_response: BlockResponse,
}

impl PluginConfig {
    /// Parses the configuration. Empty (or all-whitespace) input is an empty configuration:
    /// one empty set, which inspects nothing.
    pub fn parse(json: &[u8]) -> Result<PluginConfig, PluginConfigError> {
        let trimmed = json.trim_ascii();
        let raw: RawConfig = if trimmed.is_empty() {
            serde_json::from_str("{}")
        } else {
            serde_json::from_slice(trimmed)
        }
        .map_err(|e| PluginConfigError::Json(e.to_string()))?;

        let mut sets: BTreeMap<String, String> = raw
            .directives_map
            .into_iter()
            .map(|(name, lines)| (name, lines.join("\n")))
            .collect();
        if sets.is_empty() {
            sets.insert(
                DEFAULT_SET.to_string(),
                raw.rules.unwrap_or_default().join("\n"),
            );
        } else if raw.rules.is_some() {
            return Err(PluginConfigError::Invalid(
                "both directives_map and the deprecated rules are set; use directives_map".into(),
            ));
        }
        if let Some(empty) = sets.keys().find(|k| k.is_empty()) {
            return Err(PluginConfigError::Invalid(format!(
                "directives_map has an empty set name ({empty:?})"
            )));
        }

        let default_set = match raw.default_directives {
            Some(name) => {
                if !sets.contains_key(&name) {
                    return Err(PluginConfigError::UnknownSet {
                        referrer: "default_directives".into(),
                        name,
                    });
                }
                name
            }
            None if sets.len() == 1 => sets.keys().next().cloned().unwrap_or_default(),
            None => {
                return Err(PluginConfigError::Invalid(
                    "default_directives is required when directives_map has more than one set"
                        .into(),
                ))
            }
        };

        let mut per_authority = BTreeMap::new();
        for (authority, name) in raw.per_authority_directives {
            if authority.is_empty() {
                return Err(PluginConfigError::Invalid(
                    "per_authority_directives has an empty authority".into(),
                ));
            }
            if !sets.contains_key(&name) {
                return Err(PluginConfigError::UnknownSet {
                    referrer: format!("per_authority_directives[{authority:?}]"),
                    name,
                });
            }
            per_authority.insert(authority.to_ascii_lowercase(), name);
        }

        for (k, v) in &raw.metric_labels {
            let ok = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            };
            if !ok(k) || !(ok(v)) {
                return Err(PluginConfigError::Invalid(format!(
                    "metric_labels: {k:?}: {v:?}: keys and values must be non-empty and use \
                     only ASCII letters, digits, '-' and '.'"
                )));
            }
        }

        raw.block_response.validate()?;
        Ok(PluginConfig {
            sets,
            default_set,
            per_authority,
            metric_labels: raw.metric_labels,
            block_response: raw.block_response,
        })
    }

    /// Compiles every set with [`RuleSet::compile`] (the set's name is the file name in
    /// error positions), reading `Include` targets from `files`.
    pub fn compile(self, files: &FileSet) -> Result<CompiledConfig, PluginConfigError> {
        self.compile_with(files, RuleSet::compile)
    }

    /// [`PluginConfig::compile`] with the compiler passed in (tests use a fake).
    pub fn compile_with<F>(
        self,
        files: &FileSet,
        compile: F,
    ) -> Result<CompiledConfig, PluginConfigError>
    where
        F: Fn(&str, &str, &FileSet) -> Result<RuleSet, ConfigError>,
    {
        let mut compiled = BTreeMap::new();
        for (name, text) in &self.sets {
            let rules = compile(name, text, files).map_err(|error| PluginConfigError::Compile {
                set: name.clone(),
                error,
            })?;
            compiled.insert(name.clone(), Arc::new(rules));
        }
        let default = match compiled.get(&self.default_set) {
            Some(d) => Arc::clone(d),
            // `parse` checked it; keep the invariant without a panic path.
            None => {
                return Err(PluginConfigError::UnknownSet {
                    referrer: "default_directives".into(),
                    name: self.default_set,
                })
            }
        };
        Ok(CompiledConfig {
            sets: compiled,
            default_set: self.default_set,
            default,
            per_authority: self.per_authority,
            metric_labels: self.metric_labels,
            block_response: self.block_response,
        })
    }
}

/// A compiled configuration: one shared [`RuleSet`] per named set and the authority lookup.
#[derive(Debug)]
pub struct CompiledConfig {
    sets: BTreeMap<String, Arc<RuleSet>>,
    default_set: String,
    default: Arc<RuleSet>,
    per_authority: BTreeMap<String, String>,
    /// Labels appended to every metric name.
    pub metric_labels: BTreeMap<String, String>,
    /// What a blocked client receives.
    pub block_response: BlockResponse,
}

impl CompiledConfig {
    /// The rule set for a request's `:authority` (or `Host`).
    pub fn for_authority(&self, authority: &str) -> &Arc<RuleSet> {
        self.select(authority).1
    }

    /// The set's name and rule set for `authority`: an exact match (with port) first, then
    /// the host without its port, then the default set.
    pub fn select(&self, authority: &str) -> (&str, &Arc<RuleSet>) {
        let lower = authority.to_ascii_lowercase();
        let name = self.per_authority.get(&lower).or_else(|| {
            let host = host_without_port(&lower);
            (host.len() != lower.len())
                .then(|| self.per_authority.get(host))
                .flatten()
        });
        match name.and_then(|n| self.sets.get_key_value(n)) {
            Some((n, set)) => (n.as_str(), set),
            None => (self.default_set.as_str(), &self.default),
        }
    }

    /// Names of the compiled sets, sorted.
    pub fn set_names(&self) -> impl Iterator<Item = &str> {
        self.sets.keys().map(String::as_str)
    }
}

/// `host:port` → `host`; `[v6]:port` → `[v6]`; anything else unchanged (a bare IPv6
/// address has several colons and no port).
fn host_without_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(i) => authority.get(..=i).unwrap_or(authority),
            None => authority,
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port))
            if !host.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            host
        }
        _ => authority,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for `RuleSet::compile` that records what it was given and fails on a
    /// line containing `SecBroken`, as the real compiler reports a SecLang error.
    fn fake_compile(name: &str, text: &str, _: &FileSet) -> Result<RuleSet, ConfigError> {
        match text.lines().position(|l| l.contains("SecBroken")) {
            Some(i) => Err(ConfigError {
                file: name.to_string(),
                line: i + 1,
                message: "unknown directive SecBroken".into(),
            }),
            None => Ok(RuleSet::default()),
        }
    }

    fn compiled(json: &str) -> CompiledConfig {
        PluginConfig::parse(json.as_bytes())
            .unwrap()
            .compile_with(&FileSet::new(), fake_compile)
            .unwrap()
    }

    fn err(json: &str) -> String {
        match PluginConfig::parse(json.as_bytes())
            .and_then(|c| c.compile_with(&FileSet::new(), fake_compile))
        {
            Ok(_) => panic!("accepted: {json}"),
            Err(e) => e.to_string(),
        }
    }

    const THREE_SETS: &str = r#"{
        "directives_map": {
            "default": ["SecRuleEngine On"],
            "a": ["SecRuleEngine On"],
            "b": ["SecRuleEngine DetectionOnly"]
        },
        "default_directives": "default",
        "per_authority_directives": {
            "A.example.com": "a",
            "b.example.com:8443": "b",
            "[::1]": "b"
        }
    }"#;

    #[test]
    fn authority_lookup_exact_then_host_without_port_then_default() {
        let c = compiled(THREE_SETS);
        assert_eq!(c.select("a.example.com").0, "a");
        assert_eq!(c.select("a.EXAMPLE.com:443").0, "a");
        assert_eq!(c.select("b.example.com:8443").0, "b");
        assert_eq!(c.select("b.example.com").0, "default");
        assert_eq!(c.select("b.example.com:80").0, "default");
        assert_eq!(c.select("[::1]:8080").0, "b");
        assert_eq!(c.select("other.example.com").0, "default");
        assert_eq!(c.select("").0, "default");
        assert_eq!(c.select("a.example.com:").0, "default");
        assert!(Arc::ptr_eq(
            c.for_authority("a.example.com:1"),
            c.select("a.example.com").1
        ));
        assert!(!Arc::ptr_eq(
            c.for_authority("a.example.com"),
            c.for_authority("x")
        ));
        assert_eq!(c.set_names().collect::<Vec<_>>(), vec!["a", "b", "default"]);
    }

    #[test]
    fn lines_are_joined_with_newlines_and_each_set_compiled_once() {
        let seen = std::cell::RefCell::new(Vec::new());
        let c = PluginConfig::parse(THREE_SETS.as_bytes()).unwrap();
        assert_eq!(c.sets["a"], "SecRuleEngine On");
        let c = PluginConfig::parse(
            br#"{"directives_map":{"x":["SecRuleEngine On","Include @owasp_crs/*.conf\nSecAction \"id:1\""]}}"#,
        )
        .unwrap();
        assert_eq!(
            c.sets["x"],
            "SecRuleEngine On\nInclude @owasp_crs/*.conf\nSecAction \"id:1\""
        );
        assert_eq!(c.default_set, "x", "a single set is the default");
        c.compile_with(&FileSet::new(), |n, t, _| {
            seen.borrow_mut().push((n.to_string(), t.lines().count()));
            Ok(RuleSet::default())
        })
        .unwrap();
        assert_eq!(seen.into_inner(), vec![("x".to_string(), 3)]);
    }

    #[test]
    fn seclang_error_names_set_file_and_line() {
        let e = err(r#"{"directives_map":{"default":["SecRuleEngine On"],
            "strict":["SecRuleEngine On","SecRequestBodyAccess On","SecBroken 1"]},
            "default_directives":"default"}"#);
        assert_eq!(
            e,
            r#"directive set "strict": strict:3: unknown directive SecBroken"#
        );
    }

    #[test]
    fn broken_configurations_are_rejected_with_a_reason() {
        assert!(err("{").starts_with("invalid plugin configuration: EOF while parsing"));
        assert!(
            err(r#"{"directives_map":{"a":["x"]},"per_authority_directive":{}}"#)
                .contains("unknown field `per_authority_directive`")
        );
        assert!(err(r#"{"directives_map":{"a":"SecRuleEngine On"}}"#).contains("invalid type"));
        assert!(
            err(r#"{"directives_map":{"a":[]},"default_directives":"b"}"#)
                .contains(r#"default_directives names directive set "b""#)
        );
        assert!(
            err(r#"{"directives_map":{"a":[]},"per_authority_directives":{"h":"zz"}}"#)
                .contains(r#"per_authority_directives["h"] names directive set "zz""#)
        );
        assert!(
            err(r#"{"directives_map":{"a":[],"b":[]}}"#).contains("default_directives is required")
        );
        assert!(err(r#"{"block_response":{"status":99}}"#).contains("block_response.status 99"));
        assert!(
            err(r#"{"block_response":{"headers":{"x-a":"1\r\nSet-Cookie: y"}}}"#)
                .contains("CR, LF or NUL")
        );
        assert!(err(r#"{"block_response":{"headers":{"bad name":"1"}}}"#)
            .contains("not a valid header name"));
        assert!(err(r#"{"block_response":{"colour":"red"}}"#).contains("unknown field `colour`"));
        assert!(err(r#"{"metric_labels":{"a_b":"c"}}"#).contains("metric_labels"));
        assert!(err(r#"{"directives_map":{"a":[]},"rules":["x"]}"#).contains("deprecated"));
    }

    #[test]
    fn empty_and_deprecated_rules_configurations() {
        let c = PluginConfig::parse(b"  \n").unwrap();
        assert_eq!(c.sets.get(DEFAULT_SET).map(String::as_str), Some(""));
        let c =
            PluginConfig::parse(br#"{"rules":["SecRuleEngine On","SecAction \"id:1\""]}"#).unwrap();
        assert_eq!(c.default_set, DEFAULT_SET);
        assert_eq!(c.sets[DEFAULT_SET], "SecRuleEngine On\nSecAction \"id:1\"");
    }

    fn deny(status: u16, rule: Option<u64>) -> Intervention {
        Intervention {
            status,
            action: Action::Deny,
            rule_id: rule,
            phase: 2,
            log: String::new(),
        }
    }

    #[test]
    fn block_response_defaults_to_a_bare_status() {
        let r = BlockResponse::default()
            .render(&deny(403, Some(942100)), "req-1")
            .unwrap();
        assert_eq!(
            r,
            LocalResponse {
                status: 403,
                headers: vec![],
                body: vec![]
            }
        );
    }

    #[test]
    fn block_response_settings_apply() {
        let c = compiled(
            r#"{"block_response":{"status":406,"body":"blocked\n","headers":{"cache-control":"no-store"},
                "add_rule_id_header":true,"add_request_id_header":true}}"#,
        );
        let br = &c.block_response;
        let r = br.render(&deny(403, Some(942100)), "req-1").unwrap();
        assert_eq!(r.status, 406);
        assert_eq!(r.body, b"blocked\n");
        assert_eq!(
            r.headers,
            vec![
                ("content-type".to_string(), "text/plain".to_string()),
                ("cache-control".to_string(), "no-store".to_string()),
                ("x-wafer-rule-id".to_string(), "942100".to_string()),
                ("x-request-id".to_string(), "req-1".to_string()),
            ]
        );
        // Body limit (413, no rule) and body errors (400) keep their status.
        let r = br.render(&deny(413, None), "req-2").unwrap();
        assert_eq!(r.status, 413);
        assert!(!r.headers.iter().any(|(k, _)| k == RULE_ID_HEADER));
        assert_eq!(br.render(&deny(400, Some(200002)), "").unwrap().status, 400);
    }

    #[test]
    fn redirect_and_drop() {
        let br = BlockResponse {
            body: "ignored for redirects".into(),
            ..BlockResponse::default()
        };
        let mut iv = deny(403, Some(5));
        iv.action = Action::Redirect("https://example.com/blocked".into());
        let r = br.render(&iv, "r").unwrap();
        assert_eq!(r.status, 302);
        assert_eq!(
            r.headers,
            vec![(
                "location".to_string(),
                "https://example.com/blocked".to_string()
            )]
        );
        assert!(r.body.is_empty());
        iv.status = 307;
        assert_eq!(br.render(&iv, "r").unwrap().status, 307);
        iv.action = Action::Drop;
        assert_eq!(br.render(&iv, "r"), None);
    }

    #[test]
    fn host_without_port_cases() {
        assert_eq!(host_without_port("a.b:80"), "a.b");
        assert_eq!(host_without_port("a.b"), "a.b");
        assert_eq!(host_without_port("a.b:x"), "a.b:x");
        assert_eq!(host_without_port("[::1]:80"), "[::1]");
        assert_eq!(host_without_port("[::1"), "[::1");
        assert_eq!(host_without_port("::1"), "::1");
    }

    #[test]
    fn recommended_crs_configuration_compiles_with_the_real_engine() {
        let files = crate::bundle::file_set().unwrap();
        let c = PluginConfig::parse(
            br#"{"directives_map":{"default":["Include @recommended-conf",
                "Include @crs-setup-conf","Include @owasp_crs/*.conf"]}}"#,
        )
        .unwrap();
        if let Err(e) = c.compile(&files) {
            panic!("{e}");
        }
    }

    // Needs the SecLang compiler that is on main (this branch still has the stub
    // `RuleSet::compile`, which accepts anything). Run with `--ignored` after the merge.
    #[test]
    #[ignore = "needs the real RuleSet::compile from main"]
    fn seclang_error_from_the_real_engine_names_set_file_and_line() {
        let files = crate::bundle::file_set().unwrap();
        let c = PluginConfig::parse(
            br#"{"directives_map":{"strict":["SecRuleEngine On","Include @owasp_crs/*.conf",
                "SecRule ARGS \"@rx (\" \"id:1\""]}}"#,
        )
        .unwrap();
        let e = c.compile(&files).unwrap_err().to_string();
        assert!(
            e.starts_with(r#"directive set "strict": strict:3: "#),
            "{e}"
        );
    }
}
