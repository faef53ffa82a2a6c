//! Suite `modsec-regression`: libmodsecurity's regression cases (`regression/*.json`).
//!
//! Each case is compiled (rule lines joined with `\n`, named after the JSON file, with
//! `Include` and data files served from `data/` under the path the cases use,
//! `test-cases/data/…`) and run as one transaction. Mirrored from libmodsecurity's
//! `test/regression/regression_test.cc` and `regression.cc`: body lines are joined with a
//! `\n` after each line; the response status given to the engine is 200; `http_code`
//! defaults to 200; `error_log` and `parser_error` are regular expressions searched in the
//! error log / the parse error. Headers go to the engine as the case gives them, as that
//! runner does: the data predates `update_content_lengths` (regression_test.cc), which
//! rewrites the JSON files rather than the requests, and some cases depend on a
//! `Content-Length` that differs from the body (`operator-rx.json:1`).
//!
//! Portable expectations are `http_code`, `parser_error`, `redirect_url` and `error_log`;
//! `debug_log` and `audit_log` quote libmodsecurity internals and are ignored. As in
//! libmodsecurity's runner the status is always checked (default 200), so a case whose
//! only expectation is a debug-log one still runs: it checks that the rules compile and the
//! request goes through. The summary notes how many cases only had that implicit check.
//! Skipped from the data itself, with the reason: `enabled: 0` and cases needing Lua, GeoIP,
//! curl or ssdeep.
//! Not here: the engine's log-line format (the engine owns it).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use wafer::{Connection, FileSet, RuleSet};

use crate::engine::{self, Exchange, Response};
use crate::report::{clip, CaseResult, Outcome, SuiteReport};

/// Header pairs in file order (JSON objects may repeat a name; order matters).
#[derive(Debug, Clone, Default)]
pub struct Pairs(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of header names and values, or a string")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    let v = match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
            fn visit_str<E>(self, _: &str) -> Result<Pairs, E> {
                Ok(Pairs::default())
            }
            fn visit_unit<E>(self) -> Result<Pairs, E> {
                Ok(Pairs::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// A body: lines (each followed by `\n`) or one string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Body {
    /// Lines.
    Lines(Vec<String>),
    /// Whole text.
    Text(String),
}

impl Body {
    /// The body bytes.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Body::Lines(lines) => {
                let mut out = Vec::new();
                for l in lines {
                    out.extend_from_slice(l.as_bytes());
                    out.push(b'\n');
                }
                out
            }
            Body::Text(t) => t.as_bytes().to_vec(),
        }
    }
}

/// `client` / `server`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Addr {
    /// IP address.
    pub ip: Option<String>,
    /// Port.
    pub port: Option<u16>,
}

/// `request`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Request {
    /// Request target.
    pub uri: Option<String>,
    /// Method.
    pub method: Option<String>,
    /// Protocol version number (`1.1`).
    pub http_version: Option<serde_json::Number>,
    /// Headers.
    #[serde(default)]
    pub headers: Pairs,
    /// Body.
    pub body: Option<Body>,
}

/// `response`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResponseSpec {
    /// Headers.
    #[serde(default)]
    pub headers: Pairs,
    /// Body.
    pub body: Option<Body>,
    /// Status-line protocol.
    pub protocol: Option<String>,
}

/// `expected`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Expected {
    /// Status the client gets.
    pub http_code: Option<u16>,
    /// Regex over the error log.
    pub error_log: Option<String>,
    /// Regex over the parse error.
    pub parser_error: Option<String>,
    /// Redirect target.
    pub redirect_url: Option<String>,
    /// Not portable: ignored.
    pub debug_log: Option<String>,
    /// Not portable: ignored.
    pub audit_log: Option<String>,
}

/// One regression case.
///
/// Some files repeat a key (`issue-2000.json` has two `expected` objects); libmodsecurity's
/// loader walks every key in order, so later values win field by field. The manual
/// [`Deserialize`] below does the same.
#[derive(Debug, Clone)]
pub struct Case {
    /// 0 disables the case.
    pub enabled: i64,
    /// Title.
    pub title: String,
    /// Library the case needs (`lua`, `geoip`, …).
    pub resource: Option<String>,
    /// Client address.
    pub client: Addr,
    /// Server address.
    pub server: Addr,
    /// Request.
    pub request: Request,
    /// Response.
    pub response: ResponseSpec,
    /// Expectations.
    pub expected: Expected,
    /// Rule lines.
    pub rules: Vec<String>,
}

impl Expected {
    fn merge(&mut self, later: Expected) {
        macro_rules! take {
            ($($f:ident),*) => { $( if later.$f.is_some() { self.$f = later.$f; } )* };
        }
        take!(
            http_code,
            error_log,
            parser_error,
            redirect_url,
            debug_log,
            audit_log
        );
    }
}

impl<'de> Deserialize<'de> for Case {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Case;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a regression case object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Case, A::Error> {
                let mut c = Case {
                    enabled: 1,
                    title: String::new(),
                    resource: None,
                    client: Addr::default(),
                    server: Addr::default(),
                    request: Request::default(),
                    response: ResponseSpec::default(),
                    expected: Expected::default(),
                    rules: Vec::new(),
                };
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "enabled" => c.enabled = map.next_value()?,
                        "title" => c.title = map.next_value()?,
                        "resource" => c.resource = map.next_value()?,
                        "client" => c.client = map.next_value()?,
                        "server" => c.server = map.next_value()?,
                        "request" => c.request = map.next_value()?,
                        "response" => c.response = map.next_value()?,
                        "expected" => c.expected.merge(map.next_value()?),
                        "rules" => c.rules = map.next_value()?,
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(c)
            }
        }
        d.deserialize_map(V)
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// Why a case is skipped from its data alone, if it is.
pub fn data_skip(case: &Case) -> Option<String> {
    if case.enabled == 0 {
        return Some("disabled in the data (enabled: 0)".into());
    }
    match case.resource.as_deref() {
        Some("lua") => return Some("needs Lua (out of scope)".into()),
        Some("geoip") | Some("maxmind") => return Some("needs GeoIP (out of scope)".into()),
        Some("curl") => return Some("needs remote resources via curl (out of scope)".into()),
        Some("ssdeep") => return Some("needs ssdeep for @fuzzyHash (out of scope)".into()),
        _ => {}
    }
    None
}

/// Whether a case states a portable expectation itself (`http_code`, `error_log`,
/// `parser_error`, `redirect_url`). Cases without one still run: libmodsecurity's runner
/// always checks the status, defaulting to 200 (`regression_test.cc`: `http_code = 200`;
/// `regression.cc`: `r.status != t->http_code`), so such a case checks that the rules
/// compile and the request is not interrupted.
pub fn has_explicit_expectation(case: &Case) -> bool {
    let e = &case.expected;
    e.http_code.is_some()
        || non_empty(&e.error_log).is_some()
        || non_empty(&e.parser_error).is_some()
        || non_empty(&e.redirect_url).is_some()
}

/// Compiles an expectation regex (PCRE-style, byte-oriented).
fn expectation_regex(pattern: &str) -> Result<regex::bytes::Regex, String> {
    regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .build()
        .map_err(|e| format!("expectation regex {pattern:?} does not compile: {e}"))
}

/// Loads `data_dir` (recursively) into a file set under `test-cases/data/`.
pub fn data_files(data_dir: &Path) -> Result<FileSet, String> {
    let mut files = FileSet::new();
    let mut stack = vec![data_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(rel) = path.strip_prefix(data_dir) else {
                continue;
            };
            let name = format!(
                "test-cases/data/{}",
                rel.to_string_lossy().replace('\\', "/")
            );
            let content = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            files.insert(name, content);
        }
    }
    Ok(files)
}

fn pairs_bytes(p: &Pairs) -> Vec<(Vec<u8>, Vec<u8>)> {
    p.0.iter()
        .map(|(k, v)| (k.clone().into_bytes(), v.clone().into_bytes()))
        .collect()
}

/// Runs one (not skipped) case; `file` is the JSON file name, used as the rules' file name.
pub fn run_case(case: &Case, file: &str, files: &FileSet, verbose_log: bool) -> Outcome {
    let mut text = String::new();
    for line in &case.rules {
        text.push_str(line);
        text.push('\n');
    }
    let e = &case.expected;
    let rules = match RuleSet::compile(file, &text, files) {
        Err(err) => {
            let msg = err.to_string();
            return match non_empty(&e.parser_error) {
                None => Outcome::Fail(format!("parse failed: {msg}")),
                Some(p) => match expectation_regex(p) {
                    Err(x) => Outcome::Fail(x),
                    Ok(re) if re.is_match(msg.as_bytes()) => Outcome::Pass,
                    Ok(_) => Outcome::Fail(format!("parser error {msg:?} does not match {p:?}")),
                },
            };
        }
        Ok(r) => Arc::new(r),
    };
    if let Some(p) = non_empty(&e.parser_error) {
        return Outcome::Fail(format!(
            "expected a parser error matching {p:?}, the rules compiled"
        ));
    }

    let defaults = Connection::default();
    let req = &case.request;
    let body = req.body.as_ref().map(Body::bytes).unwrap_or_default();
    let headers = pairs_bytes(&req.headers);
    let version = req
        .http_version
        .as_ref()
        .map_or_else(|| "1.1".to_string(), |n| n.to_string());
    let ex = Exchange {
        conn: Connection {
            client_addr: case.client.ip.clone().unwrap_or(defaults.client_addr),
            client_port: case.client.port.unwrap_or(defaults.client_port),
            server_addr: case.server.ip.clone().unwrap_or(defaults.server_addr),
            server_port: case.server.port.unwrap_or(defaults.server_port),
        },
        method: req.method.clone().unwrap_or_else(|| "GET".into()),
        uri: req.uri.clone().unwrap_or_else(|| "/".into()).into_bytes(),
        protocol: format!("HTTP/{version}"),
        headers,
        body,
    };
    let resp_body = case
        .response
        .body
        .as_ref()
        .map(Body::bytes)
        .unwrap_or_default();
    let resp_headers = pairs_bytes(&case.response.headers);
    let response = Response {
        status: 200,
        protocol: case
            .response
            .protocol
            .clone()
            .unwrap_or_else(|| "HTTP/1.1".into()),
        headers: resp_headers,
        body: resp_body,
    };
    let result = engine::run(&rules, file, &ex, &response);

    let mut problems = Vec::new();
    let want_code = e.http_code.unwrap_or(200);
    if result.status != want_code {
        problems.push(format!(
            "http code: expected {want_code}, got {}",
            result.status
        ));
    }
    if let Some(url) = non_empty(&e.redirect_url) {
        if result.redirect.as_deref() != Some(url) {
            problems.push(format!(
                "redirect: expected {url:?}, got {:?}",
                result.redirect
            ));
        }
    }
    let log = result.log_lines.join("\n");
    if let Some(p) = non_empty(&e.error_log) {
        match expectation_regex(p) {
            Err(x) => problems.push(x),
            Ok(re) if re.is_match(log.as_bytes()) => {}
            Ok(_) => problems.push(format!("error log does not match {p:?}")),
        }
    }
    if problems.is_empty() {
        Outcome::Pass
    } else {
        if verbose_log {
            problems.push(format!("error log:\n{}", clip(&log, 4000)));
        }
        Outcome::Fail(problems.join("\n"))
    }
}

/// Runs every case in `dir` (`…/regression`) whose id or title contains `filter`.
/// Ids are `<file>:<index>`.
pub fn run(
    dir: &Path,
    files: &FileSet,
    filter: Option<&str>,
    verbose: bool,
) -> Result<SuiteReport, String> {
    let mut report = SuiteReport::new("modsec-regression", "engine");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    // (run, passed) among cases without an explicit portable expectation.
    let mut implicit = (0usize, 0usize);
    for path in paths {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let cases: Vec<Case> =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let file = path
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or("?")
            .to_string();
        for (i, case) in cases.iter().enumerate() {
            let id = format!("{file}:{i}");
            if filter.is_some_and(|f| !id.contains(f) && !case.title.contains(f)) {
                continue;
            }
            let outcome = match data_skip(case) {
                Some(why) => Outcome::Skip(why),
                None => {
                    let o = run_case(case, &file, files, verbose);
                    if !has_explicit_expectation(case) {
                        implicit.0 += 1;
                        implicit.1 += usize::from(o == Outcome::Pass);
                    }
                    o
                }
            };
            report.results.push(CaseResult {
                id,
                title: case.title.clone(),
                outcome,
            });
        }
    }
    report.notes.push(format!(
        "modsec-regression: {} of {} cases whose only expectations are debug-log / audit-log \
         ones passed the implicit checks (rules compile, status 200)",
        implicit.1, implicit.0
    ));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_keep_order_and_repeats() {
        let c: Case = serde_json::from_str(
            r#"{"title":"t","rules":[],"expected":{"http_code":200},
                "request":{"headers":{"B":"1","A":"2","B":"3"},"body":["a\r","b"]}}"#,
        )
        .unwrap();
        let names: Vec<&str> = c
            .request
            .headers
            .0
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(names, ["B", "A", "B"]);
        assert_eq!(c.request.body.unwrap().bytes(), b"a\r\nb\n");
    }

    #[test]
    fn debug_log_only_cases_run_with_the_implicit_status() {
        let c: Case =
            serde_json::from_str(r#"{"title":"t","expected":{"debug_log":"x"}}"#).unwrap();
        assert_eq!(data_skip(&c), None);
        assert!(!has_explicit_expectation(&c));
        let c: Case = serde_json::from_str(
            r#"{"title":"t","expected":{"debug_log":"x"},
                "rules":["SecRuleEngine On","SecAction \"id:1,phase:1,deny\""]}"#,
        )
        .unwrap();
        let out = run_case(&c, "t.json", &FileSet::new(), false);
        assert!(
            matches!(out, Outcome::Fail(ref m) if m.contains("expected 200")),
            "{out:?}"
        );
        let c: Case =
            serde_json::from_str(r#"{"title":"t","expected":{"debug_log":"x","http_code":403}}"#)
                .unwrap();
        assert_eq!(data_skip(&c), None);
        let c: Case =
            serde_json::from_str(r#"{"enabled":0,"title":"t","expected":{"http_code":403}}"#)
                .unwrap();
        assert!(data_skip(&c).unwrap().contains("enabled: 0"));
    }

    #[test]
    fn repeated_expected_objects_merge_like_libmodsecurity() {
        let c: Case = serde_json::from_str(
            r#"{"title":"t","expected":{"http_code":200},"expected":{"http_code":403,"audit_log":"x"}}"#,
        )
        .unwrap();
        assert_eq!(c.expected.http_code, Some(403));
        assert_eq!(c.expected.audit_log.as_deref(), Some("x"));
    }
}
