//! The benchmark workload shared by the engine benches (`filter/benches/engine.rs`) and the
//! wasm benches (`host-test/benches/wasm.rs`, which includes this file by path): the plugin
//! configuration a user would write, the requests of issue 7, and a native driver that walks
//! a request through the engine the way the proxy-wasm adapter does.
//!
//! The request bodies and the benign GET's URI are data files in `bench/requests/`, which
//! `make bench` (wrk) sends too, so all three layers measure the same bytes.
//!
//! What it is not: a benchmark by itself (no timing here) nor a test of detection (the
//! outcome is printed by the benches so a reader can see that benign requests pass and
//! attacks are blocked, but nothing is asserted).

// Each bench target uses a different part of this module.
#![allow(dead_code)]

use std::sync::Arc;

use wafer::plugin_config::PluginConfig;
use wafer::{bundle, Connection, FileSet, RuleSet, Transaction};

/// URI of the benign GET with five query arguments.
pub const GET_URI: &str = include_str!("../../../bench/requests/get-5-args.uri");
/// Benign urlencoded form, 1 KB, 39 arguments.
pub const FORM_BODY: &[u8] = include_bytes!("../../../bench/requests/post-form-1k.body");
/// Benign JSON document, ~21 KB, 347 values.
pub const JSON_BODY: &[u8] = include_bytes!("../../../bench/requests/post-json-20k.body");
/// What the backend answers (wafer-backend's default body), `text/plain` so that response
/// body inspection of `@recommended-conf` applies, as it does behind Envoy.
pub const RESPONSE_BODY: &[u8] = b"Hello from wafer-backend\n";

/// The paranoia levels measured.
pub const PARANOIA_LEVELS: [u8; 2] = [1, 4];

/// One request of the workload.
#[derive(Clone, Debug)]
pub struct BenchRequest {
    /// Short name used in bench ids (`get_5_args`, `sqli`, …).
    pub name: &'static str,
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Request target (path and query), as sent on the wire.
    pub uri: String,
    /// Headers besides `Host` (which every request carries as `example.com`).
    pub headers: Vec<(&'static str, String)>,
    /// Body, empty for a GET.
    pub body: Vec<u8>,
    /// Whether CRS is expected to block it (printed next to the outcome, not asserted).
    pub attack: bool,
}

/// Headers a browser sends on every request.
fn browser_headers() -> Vec<(&'static str, String)> {
    vec![
        (
            "User-Agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0".into(),
        ),
        (
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8".into(),
        ),
        ("Accept-Language", "en-US,en;q=0.5".into()),
        ("Accept-Encoding", "gzip, deflate".into()),
    ]
}

fn get(name: &'static str, uri: &str, attack: bool) -> BenchRequest {
    BenchRequest {
        name,
        method: "GET",
        uri: uri.to_string(),
        headers: browser_headers(),
        body: Vec::new(),
        attack,
    }
}

fn post(name: &'static str, uri: &str, content_type: &str, body: &[u8]) -> BenchRequest {
    let mut headers = browser_headers();
    headers.push(("Content-Type", content_type.to_string()));
    headers.push(("Content-Length", body.len().to_string()));
    BenchRequest {
        name,
        method: "POST",
        uri: uri.to_string(),
        headers,
        body: body.to_vec(),
        attack: false,
    }
}

/// The workload: the three benign requests of issue 7, then one SQLi, one XSS and one RCE
/// attempt in a query argument.
pub fn requests() -> Vec<BenchRequest> {
    vec![
        get("get_5_args", GET_URI.trim(), false),
        post(
            "post_form_1k",
            "/account/profile",
            "application/x-www-form-urlencoded",
            FORM_BODY,
        ),
        post(
            "post_json_20k",
            "/api/orders",
            "application/json",
            JSON_BODY,
        ),
        get("sqli", "/products?id=1%27%20OR%201%3D1--%20-", true),
        get(
            "xss",
            "/search?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E",
            true,
        ),
        get("rce", "/ping?host=127.0.0.1%3Bcat%20%2Fetc%2Fpasswd", true),
    ]
}

/// The plugin configuration a user writes for CRS at paranoia level `pl` (rules/README.md:
/// recommended settings, CRS setup, the PL override, then the rules): `bench/wafer-config.json`
/// with `__PL__` replaced, the same file `make bench` gives Envoy.
pub fn plugin_config(pl: u8) -> String {
    include_str!("../../../bench/wafer-config.json").replace("__PL__", &pl.to_string())
}

/// Compiles [`plugin_config`] against the embedded bundle, as the filter's `on_configure`
/// does, and returns the default set.
pub fn compile(pl: u8) -> Arc<RuleSet> {
    compile_with(pl, &[])
}

/// [`compile`] with `extra` SecLang lines after the configuration's own (`SecRuleRemoveById
/// 934100` shows what one rule costs).
pub fn compile_with(pl: u8, extra: &[String]) -> Arc<RuleSet> {
    compile_from(pl, extra, &bundle::file_set().expect("embedded bundle"))
}

/// [`compile_with`] against `files` (the embedded bundle, read beforehand by `mem_peak`,
/// which counts the compile's allocations only).
pub fn compile_from(pl: u8, extra: &[String], files: &FileSet) -> Arc<RuleSet> {
    let mut config: serde_json::Value =
        serde_json::from_str(&plugin_config(pl)).expect("bench/wafer-config.json is JSON");
    if let Some(lines) = config["directives_map"]["default"].as_array_mut() {
        lines.extend(extra.iter().map(|l| serde_json::Value::from(l.as_str())));
    }
    let compiled = PluginConfig::parse(config.to_string().as_bytes())
        .expect("plugin configuration parses")
        .compile(files)
        .expect("CRS compiles");
    Arc::clone(compiled.for_authority("example.com"))
}

/// What a request came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NativeOutcome {
    /// Status of the interruption, if the request was blocked.
    pub blocked: Option<u16>,
    /// Rules that matched and are marked `log`.
    pub logged: usize,
}

/// Runs `req` through a fresh transaction like the adapter (`filter/src/adapter/http.rs`):
/// request line, `Host` then the other headers, phase 1, the body and phase 2; unless
/// interrupted, a `200 text/plain` response through phases 3 and 4; then phase 5 and the
/// audit record (which the adapter writes for relevant transactions).
pub fn run_native(rules: &Arc<RuleSet>, req: &BenchRequest) -> NativeOutcome {
    let (tx, blocked) = drive(rules, req);
    NativeOutcome {
        blocked,
        logged: tx.matches().iter().filter(|m| m.log).count(),
    }
}

/// One line saying what `req` came to: `passed` or `blocked 403`, and the ids of the
/// logged rules.
pub fn describe(rules: &Arc<RuleSet>, req: &BenchRequest) -> String {
    let (tx, blocked) = drive(rules, req);
    let ids: Vec<String> = tx
        .matches()
        .iter()
        .filter(|m| m.log)
        .map(|m| m.id.to_string())
        .collect();
    format!(
        "{}{}, logged rules [{}]",
        blocked.map_or("passed".to_string(), |s| format!("blocked {s}")),
        if req.attack { " (attack)" } else { "" },
        ids.join(" ")
    )
}

/// The transaction after `req` and the status of its interruption, if any.
pub fn drive(rules: &Arc<RuleSet>, req: &BenchRequest) -> (Transaction, Option<u16>) {
    let mut tx = Transaction::new(Arc::clone(rules), "bench");
    tx.set_connection(&Connection::default());
    tx.set_request_line(req.method, req.uri.as_bytes(), "HTTP/1.1");
    tx.add_request_header(b"Host", b"example.com");
    for (name, value) in &req.headers {
        tx.add_request_header(name.as_bytes(), value.as_bytes());
    }
    let mut iv = tx.process_request_headers();
    if iv.is_none() {
        if !req.body.is_empty() && tx.request_body_wanted() {
            iv = tx.append_request_body(&req.body);
        }
        if iv.is_none() {
            iv = tx.process_request_body();
        }
    }
    if iv.is_none() {
        tx.set_response_status(200, "HTTP/1.1");
        tx.add_response_header(b"Content-Type", b"text/plain");
        tx.add_response_header(b"Content-Length", b"25");
        iv = tx.process_response_headers();
        if iv.is_none() && tx.response_body_wanted() {
            iv = tx.append_response_body(RESPONSE_BODY);
            if iv.is_none() {
                iv = tx.process_response_body();
            }
        }
    }
    tx.process_logging();
    let _record = std::hint::black_box(tx.audit_record());
    (tx, iv.map(|i| i.status))
}
