//! Suite `crs`: the OWASP CRS go-ftw regression tests (`tests/regression/tests/**/*.yaml`).
//!
//! The CRS is configured as its test suite asks (`tests/regression/README.md`): the
//! `crs-setup.conf.example`, the 900005 rule (DetectionOnly, paranoia level 4, test limits),
//! response body access for `text/plain text/html text/xml application/json`, then every
//! `rules/*.conf` with its `.data` files, behind the request-body settings of ModSecurity's
//! recommended configuration (XML and JSON body processors by Content-Type, body limits,
//! the REQBODY_ERROR and multipart-strictness rules 200002/200003). Rules are compiled once.
//!
//! Each stage's request is built as go-ftw builds it ([`crate::http::build_ftw_request`], or
//! the decoded `encoded_request`), handed to a [`Backend`], and judged as go-ftw judges:
//! `expect_error`, `status`, `response_contains`, `log.expect_ids` / `no_expect_ids`
//! (`[id "N"]` in the log), `log.match_regex` / `no_match_regex`. Test ids are
//! `<rule_id>-<test_id>` as CRS names them.
//! Not here: go-ftw's marker requests (the `envoy` target will need them) and overrides.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use serde::Deserialize;
use wafer::{Connection, FileSet, RuleSet};

use crate::engine::{self, Exchange, Response};
use crate::http::{build_ftw_request, parse_request, FtwInput, Rejection};
use crate::report::{clip, CaseResult, Outcome, SuiteReport};

/// One YAML file.
#[derive(Debug, Clone, Deserialize)]
pub struct TestFile {
    /// The rule the file tests.
    pub rule_id: u64,
    /// Its tests.
    #[serde(default)]
    pub tests: Vec<Test>,
}

/// One test.
#[derive(Debug, Clone, Deserialize)]
pub struct Test {
    /// Number within the file.
    pub test_id: u64,
    /// Description.
    pub desc: Option<String>,
    /// Requests, each with its expectations.
    pub stages: Vec<Stage>,
}

/// One request and its expectations.
#[derive(Debug, Clone, Deserialize)]
pub struct Stage {
    /// The request.
    pub input: Input,
    /// The expectations.
    #[serde(default)]
    pub output: Output,
}

/// go-ftw `input`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Input {
    /// Server address.
    pub dest_addr: Option<String>,
    /// Server port.
    pub port: Option<u16>,
    /// Method.
    pub method: Option<String>,
    /// Request target.
    pub uri: Option<String>,
    /// Protocol.
    pub version: Option<String>,
    /// Headers (a mapping; order kept, values may be numbers).
    pub headers: Option<serde_yaml_ng::Mapping>,
    /// Body data.
    pub data: Option<serde_yaml_ng::Value>,
    /// A whole raw request, base64.
    pub encoded_request: Option<String>,
    /// Whether go-ftw completes headers (default true).
    pub autocomplete_headers: Option<bool>,
}

/// go-ftw `output`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Output {
    /// Expected status.
    pub status: Option<u16>,
    /// Log expectations.
    pub log: Option<LogExpect>,
    /// Text the full response must contain.
    pub response_contains: Option<String>,
    /// The request must fail at the HTTP level.
    pub expect_error: Option<bool>,
}

/// One entry of a go-ftw overrides file (`test_overrides`): for tests whose expected
/// output depends on the platform in front of the WAF (Apache, nginx, Envoy), the output
/// this platform is expected to give, and why.
#[derive(Debug, Clone, Deserialize)]
pub struct Override {
    /// Rule whose tests are overridden.
    pub rule_id: u64,
    /// Which of its tests.
    pub test_ids: Vec<u64>,
    /// Why the platform differs (required).
    pub reason: String,
    /// The output expected instead.
    pub output: Output,
}

#[derive(Debug, Deserialize)]
struct OverrideFile {
    test_overrides: Vec<Override>,
}

/// Loads `tests/overrides/crs-<target>.yaml` (go-ftw's overrides format) if it exists.
pub fn load_overrides(target: &str) -> Result<Vec<Override>, String> {
    let path = crate::paths::overrides_dir().join(format!("crs-{target}.yaml"));
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Vec::new());
    };
    let file: OverrideFile =
        serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(o) = file
        .test_overrides
        .iter()
        .find(|o| o.reason.trim().is_empty())
    {
        return Err(format!(
            "{}: override of {} has no reason",
            path.display(),
            o.rule_id
        ));
    }
    Ok(file.test_overrides)
}

/// go-ftw `output.log`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LogExpect {
    /// Rule ids that must be logged.
    #[serde(default)]
    pub expect_ids: Vec<u64>,
    /// Rule ids that must not be logged.
    #[serde(default)]
    pub no_expect_ids: Vec<u64>,
    /// Regex the log must match.
    pub match_regex: Option<String>,
    /// Regex the log must not match.
    pub no_match_regex: Option<String>,
}

/// What a backend observed for one request.
#[derive(Debug, Clone, Default)]
pub struct StageResult {
    /// HTTP-level failure (no response).
    pub error: Option<String>,
    /// Response status.
    pub status: u16,
    /// The full response (status line, headers, body).
    pub response: Vec<u8>,
    /// The WAF's log lines for this request.
    pub log: Vec<String>,
    /// Extra detail for `--verbose` (why a proxy rejected it, …).
    pub note: Option<String>,
}

/// A way to run one raw request through Wafer: the in-process engine, the `.wasm` under host-test, or real Envoy.
pub trait Backend {
    /// Target name for the summary line.
    fn name(&self) -> &str;
    /// Sends `raw` (one HTTP/1.1 request as go-ftw writes it) and reports what happened.
    fn send(&mut self, unique_id: &str, raw: &[u8], conn: &Connection) -> StageResult;
}

/// ModSecurity's recommended request-body settings, in our words (the parts CRS relies on).
const BASE_CONF: &str = r#"
SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecRule REQBODY_ERROR "!@eq 0" "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" "id:200003,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation.'"
SecResponseBodyLimit 524288
SecResponseBodyLimitAction ProcessPartial
"#;

/// The 900005 rule from `tests/regression/README.md`, plus response body access.
const TEST_CONF: &str = r#"
SecAction "id:900005,phase:1,nolog,pass,ctl:ruleEngine=DetectionOnly,ctl:ruleRemoveById=910000,setvar:tx.blocking_paranoia_level=4,setvar:tx.crs_validate_utf8_encoding=1,setvar:tx.arg_name_length=100,setvar:tx.arg_length=400,setvar:tx.total_arg_length=64000,setvar:tx.max_num_args=255,setvar:tx.max_file_size=64100,setvar:tx.combined_file_sizes=65535"
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml application/json
"#;

/// The CRS configuration: the file set and the top-level text.
pub struct CrsConfig {
    /// Setup, rules and data files.
    pub files: FileSet,
    /// Top-level configuration text (includes the rest).
    pub text: String,
    /// `OWASP_CRS/x.y.z` as REQUEST-901 declares it.
    pub version: String,
}

/// Reads the CRS release in `crs_dir` into a configuration.
pub fn load_config(crs_dir: &Path) -> Result<CrsConfig, String> {
    let mut files = FileSet::new();
    let setup_path = crs_dir.join("crs-setup.conf.example");
    let setup = std::fs::read(&setup_path).map_err(|e| format!("{}: {e}", setup_path.display()))?;
    files.insert("crs-setup.conf", setup);
    let rules_dir = crs_dir.join("rules");
    let mut names: Vec<String> = std::fs::read_dir(&rules_dir)
        .map_err(|e| format!("{}: {e}", rules_dir.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".conf") || n.ends_with(".data"))
        .collect();
    names.sort();
    let mut text = String::from(BASE_CONF);
    text.push_str("Include crs-setup.conf\n");
    text.push_str(TEST_CONF);
    let mut version = String::from("unknown");
    for name in &names {
        let path = rules_dir.join(name);
        let content = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if name.starts_with("REQUEST-901") {
            if let Some(v) = declared_version(&String::from_utf8_lossy(&content)) {
                version = v;
            }
        }
        files.insert(format!("@owasp_crs/{name}"), content);
        if name.ends_with(".conf") {
            text.push_str(&format!("Include @owasp_crs/{name}\n"));
        }
    }
    Ok(CrsConfig {
        files,
        text,
        version,
    })
}

/// The `SecComponentSignature` value (`OWASP_CRS/4.28.0`).
fn declared_version(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("SecComponentSignature")?;
        Some(rest.trim().trim_matches('"').to_string())
    })
}

/// What CRS's test backend (albedo) answers: `/reflect` returns the status, headers and body
/// the request's JSON asks for (`body`, or base64 `encodedBody`); any other path 200 and no body.
pub fn albedo_response(method: &str, target: &[u8], body: &[u8]) -> Response {
    let path = target.split(|&c| c == b'?').next().unwrap_or(b"");
    if method != "POST" || path != b"/reflect" {
        return Response {
            headers: vec![(b"Content-Length".to_vec(), b"0".to_vec())],
            ..Response::default()
        };
    }
    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Reflect {
        status: Option<u16>,
        #[serde(default)]
        headers: std::collections::BTreeMap<String, String>,
        body: Option<String>,
        encoded_body: Option<String>,
    }
    let Ok(spec) = serde_json::from_slice::<Reflect>(body) else {
        let msg = b"invalid JSON in /reflect request\n".to_vec();
        return Response {
            status: 400,
            headers: vec![
                (
                    b"Content-Type".to_vec(),
                    b"text/plain; charset=utf-8".to_vec(),
                ),
                (
                    b"Content-Length".to_vec(),
                    msg.len().to_string().into_bytes(),
                ),
            ],
            body: msg,
            ..Response::default()
        };
    };
    let out_body = match (&spec.encoded_body, &spec.body) {
        (Some(b64), _) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap_or_default(),
        (None, Some(b)) => b.as_bytes().to_vec(),
        (None, None) => Vec::new(),
    };
    let mut headers: Vec<(Vec<u8>, Vec<u8>)> = spec
        .headers
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(b"content-type"))
        && !out_body.is_empty()
    {
        headers.push((
            b"Content-Type".to_vec(),
            wafer_backend::sniff_content_type(&out_body)
                .as_bytes()
                .to_vec(),
        ));
    }
    headers.push((
        b"Content-Length".to_vec(),
        out_body.len().to_string().into_bytes(),
    ));
    Response {
        status: spec.status.unwrap_or(200),
        headers,
        body: out_body,
        ..Response::default()
    }
}

/// Target `engine`: a strict HTTP front end, the in-process engine, and albedo's answers.
pub struct EngineBackend {
    rules: Arc<RuleSet>,
}

impl EngineBackend {
    /// A backend running `rules`.
    pub fn new(rules: Arc<RuleSet>) -> Self {
        EngineBackend { rules }
    }
}

fn response_bytes(status: u16, headers: &[(Vec<u8>, Vec<u8>)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n").into_bytes();
    for (n, v) in headers {
        out.extend_from_slice(n);
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

impl Backend for EngineBackend {
    fn name(&self) -> &str {
        "engine"
    }

    fn send(&mut self, unique_id: &str, raw: &[u8], conn: &Connection) -> StageResult {
        let req = match parse_request(raw) {
            Ok(r) => r,
            Err(Rejection::Status(status, why)) => {
                return StageResult {
                    status,
                    response: response_bytes(status, &[], b""),
                    note: Some(format!("the proxy rejected the request: {why}")),
                    ..StageResult::default()
                }
            }
            Err(Rejection::ConnectionError(why)) => {
                return StageResult {
                    error: Some(why),
                    ..StageResult::default()
                };
            }
        };
        let response = albedo_response(&req.method, &req.target, &req.body);
        let ex = Exchange {
            conn: conn.clone(),
            method: req.method,
            uri: req.target,
            protocol: req.version,
            headers: req.headers,
            body: req.body,
        };
        let r = engine::run(&self.rules, unique_id, &ex, &response);
        let full = match &r.intervention {
            Some(i) => response_bytes(i.status, &[], b""),
            None => response_bytes(response.status, &response.headers, &response.body),
        };
        StageResult {
            error: None,
            status: r.status,
            response: full,
            log: r.log_lines,
            note: None,
        }
    }
}

fn yaml_text(v: &serde_yaml_ng::Value) -> String {
    use serde_yaml_ng::Value;
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        Value::Sequence(items) => items.iter().map(yaml_text).collect::<Vec<_>>().join("\n"),
        other => serde_yaml_ng::to_string(other).unwrap_or_default(),
    }
}

/// The raw request bytes of a stage.
pub fn stage_request(input: &Input) -> Result<Vec<u8>, String> {
    if let Some(enc) = input.encoded_request.as_deref().filter(|e| !e.is_empty()) {
        let clean: String = enc.chars().filter(|c| !c.is_whitespace()).collect();
        return base64::engine::general_purpose::STANDARD
            .decode(clean)
            .map_err(|e| format!("encoded_request is not base64: {e}"));
    }
    let headers = input
        .headers
        .iter()
        .flatten()
        .map(|(k, v)| (yaml_text(k), yaml_text(v)))
        .collect();
    Ok(build_ftw_request(&FtwInput {
        method: input.method.clone(),
        uri: input.uri.clone(),
        version: input.version.clone(),
        headers,
        data: expand_template(&input.data.as_ref().map(yaml_text).unwrap_or_default())?
            .into_bytes(),
        autocomplete: input.autocomplete_headers.unwrap_or(true),
    }))
}

/// go-ftw runs `data` through Go's text/template with sprig functions. CRS 4.28's tests use
/// one form, `{{ "1" | repeat 64200 }}`; this expands it and `{{ repeat N "s" }}`, and
/// refuses any other action rather than sending it as literal text.
pub fn expand_template(data: &str) -> Result<String, String> {
    let mut out = String::with_capacity(data.len());
    let mut rest = data;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .ok_or_else(|| format!("unterminated template action in data: {rest:?}"))?;
        let action = rest[start + 2..start + end].trim();
        out.push_str(&eval_action(action)?);
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn eval_action(action: &str) -> Result<String, String> {
    let unsupported = || format!("unsupported template action {{{{ {action} }}}}");
    let quoted = |t: &str| {
        t.strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .map(str::to_string)
    };
    let (text, count) = match action.split_once('|') {
        // `"s" | repeat N`
        Some((lhs, rhs)) => {
            let mut words = rhs.split_whitespace();
            if words.next() != Some("repeat") {
                return Err(unsupported());
            }
            (
                quoted(lhs.trim()),
                words.next().and_then(|n| n.parse().ok()),
            )
        }
        // `repeat N "s"`
        None => {
            let mut words = action.splitn(3, ' ');
            if words.next() != Some("repeat") {
                return Err(unsupported());
            }
            let n = words.next().and_then(|n| n.parse().ok());
            (words.next().and_then(|t| quoted(t.trim())), n)
        }
    };
    match (text, count) {
        (Some(t), Some(n)) if n <= 16 << 20 => Ok(t.repeat(n)),
        _ => Err(unsupported()),
    }
}

fn regex(pattern: &str) -> Result<regex::bytes::Regex, String> {
    regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .build()
        .map_err(|e| format!("regex {pattern:?} does not compile: {e}"))
}

/// Judges one stage's result against its `output`, as go-ftw does. Returns the problems.
pub fn check(output: &Output, r: &StageResult) -> Vec<String> {
    let mut problems = Vec::new();
    if output.expect_error == Some(true) {
        if r.error.is_none() {
            problems.push(format!("expected an HTTP error, got status {}", r.status));
        }
        return problems;
    }
    if let Some(err) = &r.error {
        problems.push(format!("unexpected HTTP error: {err}"));
        return problems;
    }
    if let Some(s) = output.status {
        if r.status != s {
            problems.push(format!("status: expected {s}, got {}", r.status));
        }
    }
    if let Some(text) = &output.response_contains {
        match regex(text) {
            Ok(re) if re.is_match(&r.response) => {}
            Ok(_) => problems.push(format!("response does not contain {text:?}")),
            Err(e) => problems.push(e),
        }
    }
    let log = r.log.join("\n");
    if let Some(l) = &output.log {
        for id in &l.expect_ids {
            if !log.contains(&format!("[id \"{id}\"]")) {
                problems.push(format!("expected rule {id} in the log"));
            }
        }
        for id in &l.no_expect_ids {
            if log.contains(&format!("[id \"{id}\"]")) {
                problems.push(format!("rule {id} is in the log but must not be"));
            }
        }
        if let Some(p) = &l.match_regex {
            match regex(p) {
                Ok(re) if re.is_match(log.as_bytes()) => {}
                Ok(_) => problems.push(format!("log does not match {p:?}")),
                Err(e) => problems.push(e),
            }
        }
        if let Some(p) = &l.no_match_regex {
            match regex(p) {
                Ok(re) if !re.is_match(log.as_bytes()) => {}
                Ok(_) => problems.push(format!("log matches {p:?} but must not")),
                Err(e) => problems.push(e),
            }
        }
    }
    problems
}

/// All YAML test files under `dir`, sorted.
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)
            .map_err(|e| format!("{}: {e}", d.display()))?
            .flatten()
        {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Compiles the CRS in `crs_dir`; returns the rules and notes for the report header.
pub fn compile(crs_dir: &Path) -> Result<(Arc<RuleSet>, Vec<String>), String> {
    let conf = load_config(crs_dir)?;
    let start = Instant::now();
    let rules = RuleSet::compile("crs-test.conf", &conf.text, &conf.files)
        .map_err(|e| format!("CRS does not compile: {e}"))?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let notes = vec![format!(
        "crs: rules {} from {} (compiled in {ms:.0} ms)",
        conf.version,
        crs_dir.display()
    )];
    Ok((Arc::new(rules), notes))
}

/// Runs every test under `crs_dir/tests/regression/tests` whose id or description contains
/// `filter`, through `backend`.
pub fn run(
    crs_dir: &Path,
    backend: &mut dyn Backend,
    filter: Option<&str>,
    verbose: bool,
) -> Result<SuiteReport, String> {
    let mut report = SuiteReport::new("crs", backend.name());
    let overrides = load_overrides(backend.name())?;
    let mut overridden = 0;
    let conn = |input: &Input| Connection {
        client_addr: "127.0.0.1".into(),
        client_port: 40000,
        server_addr: input
            .dest_addr
            .clone()
            .filter(|a| a.parse::<std::net::IpAddr>().is_ok())
            .unwrap_or_else(|| "127.0.0.1".into()),
        server_port: input.port.unwrap_or(80),
    };
    for path in yaml_files(&crs_dir.join("tests").join("regression").join("tests"))? {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        // A file may be all comments (920539.yaml): no tests.
        let file: Option<TestFile> =
            serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let Some(file) = file else { continue };
        for test in &file.tests {
            let id = format!("{}-{}", file.rule_id, test.test_id);
            let title = test
                .desc
                .clone()
                .unwrap_or_default()
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            if filter.is_some_and(|f| !id.contains(f) && !title.contains(f)) {
                continue;
            }
            let mut problems = Vec::new();
            let replaced = overrides
                .iter()
                .find(|o| o.rule_id == file.rule_id && o.test_ids.contains(&test.test_id));
            overridden += usize::from(replaced.is_some());
            for (n, stage) in test.stages.iter().enumerate() {
                let raw = match stage_request(&stage.input) {
                    Ok(r) => r,
                    Err(e) => {
                        problems.push(format!("stage {}: {e}", n + 1));
                        continue;
                    }
                };
                let result = backend.send(&format!("{id}-{}", n + 1), &raw, &conn(&stage.input));
                let found = check(replaced.map_or(&stage.output, |o| &o.output), &result);
                if !found.is_empty() {
                    let prefix = if test.stages.len() > 1 {
                        format!("stage {}: ", n + 1)
                    } else {
                        String::new()
                    };
                    problems.extend(found.into_iter().map(|p| format!("{prefix}{p}")));
                    if verbose {
                        if let Some(note) = &result.note {
                            problems.push(note.clone());
                        }
                        problems.push(format!(
                            "request:\n{}",
                            clip(&String::from_utf8_lossy(&raw), 2000)
                        ));
                        problems.push(format!("log:\n{}", clip(&result.log.join("\n"), 4000)));
                    }
                }
            }
            let outcome = if problems.is_empty() {
                Outcome::Pass
            } else {
                Outcome::Fail(problems.join("\n"))
            };
            report.results.push(CaseResult { id, title, outcome });
        }
    }
    if overridden > 0 {
        report.notes.push(format!(
            "crs/{}: {overridden} test(s) judged by tests/overrides/crs-{}.yaml (platform differences, each with its reason)",
            backend.name(),
            backend.name()
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_ftw_repeat_templates_expand() {
        assert_eq!(
            expand_template("a{{ \"1\" | repeat 3 }}b").unwrap(),
            "a111b"
        );
        assert_eq!(expand_template("{{ repeat 2 \"xy\" }}").unwrap(), "xyxy");
        assert_eq!(expand_template("no templates").unwrap(), "no templates");
        assert!(expand_template("{{ env \"HOME\" }}").is_err());
        assert!(expand_template("{{ \"1\" | repeat 3").is_err());
    }

    #[test]
    fn albedo_reflects_and_sniffs() {
        let r = albedo_response(
            "POST",
            b"/reflect",
            br#"{"body": "<html><body>x</body></html>"}"#,
        );
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"<html><body>x</body></html>");
        assert!(r
            .headers
            .iter()
            .any(|(n, v)| n == b"Content-Type" && v.starts_with(b"text/html")));
        let r = albedo_response(
            "POST",
            b"/reflect",
            br#"{"status": 500, "headers": {"Content-Type": "application/json"}, "body": "{}"}"#,
        );
        assert_eq!(r.status, 500);
        let r = albedo_response("GET", b"/get?x=1", b"");
        assert!(r.body.is_empty());
        assert_eq!(
            wafer_backend::sniff_content_type(b"<?php echo 1; ?>"),
            "text/plain; charset=utf-8"
        );
    }

    #[test]
    fn checks_follow_go_ftw() {
        let out: Output = serde_yaml_ng::from_str(
            "log:\n  expect_ids: [942100]\n  no_expect_ids: [942101]\nstatus: 200\n",
        )
        .unwrap();
        let mut r = StageResult {
            status: 200,
            log: vec![r#"[id "942100"] [msg "x"]"#.into()],
            ..StageResult::default()
        };
        assert!(check(&out, &r).is_empty());
        r.log = vec![r#"[id "942101"]"#.into()];
        assert_eq!(check(&out, &r).len(), 2);
        let err: Output = serde_yaml_ng::from_str("expect_error: true\n").unwrap();
        assert!(!check(&err, &r).is_empty());
        r.error = Some("eof".into());
        assert!(check(&err, &r).is_empty());
    }

    #[test]
    fn stage_headers_keep_numbers_and_encoded_requests_decode() {
        let s: Stage = serde_yaml_ng::from_str(
            "input:\n  method: POST\n  headers:\n    Host: localhost\n    Content-Length: 3\n  data: abc\n  autocomplete_headers: false\noutput: {}\n",
        )
        .unwrap();
        let raw = stage_request(&s.input).unwrap();
        assert_eq!(
            raw,
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\nHost: localhost\r\n\r\nabc"
        );
        let s: Stage = serde_yaml_ng::from_str(
            "input:\n  encoded_request: 'R0VUIC8g\n    SFRUUC8xLjANCg0K'\noutput: {}\n",
        )
        .unwrap();
        assert_eq!(stage_request(&s.input).unwrap(), b"GET / HTTP/1.0\r\n\r\n");
    }

    #[test]
    fn version_comes_from_the_component_signature() {
        assert_eq!(
            declared_version("# x\nSecComponentSignature \"OWASP_CRS/4.28.0\"\n").as_deref(),
            Some("OWASP_CRS/4.28.0")
        );
    }
}
