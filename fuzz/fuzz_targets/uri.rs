//! Fuzz target `uri`: the request line, headers and cookies with arbitrary bytes.
//!
//! Drives `Transaction::set_request_line` (absolute-form and `//` targets, path / query
//! split, percent-decoding of the path, `ARGS_GET` parsing) and `add_request_header`
//! (cookie splitting), then phase 1 with rules that read every URI-derived variable, so
//! their extraction and logging run on the fuzzed bytes. Input format: see
//! `common/http.rs`; the request body is sent as one more `Cookie` header. Not here:
//! bodies (see `transaction`).
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use wafer::{FileSet, RuleSet, Transaction};

#[path = "common/http.rs"]
#[allow(dead_code)]
mod http;

const RULES: &str = r#"
SecRuleEngine DetectionOnly
SecRule REQUEST_URI|REQUEST_URI_RAW|REQUEST_FILENAME|REQUEST_BASENAME|QUERY_STRING|REQUEST_LINE "@rx (?i)(\.\./|%2e|select|<script)" "id:1,phase:1,pass,log,capture,t:none,t:urlDecodeUni,t:normalisePath,msg:'uri %{MATCHED_VAR_NAME}',logdata:'%{TX.0} %{MATCHED_VAR}'"
SecRule ARGS_GET|ARGS_GET_NAMES|ARGS|ARGS_NAMES "@rx [<>'\"]" "id:2,phase:1,pass,log,t:htmlEntityDecode,t:lowercase,logdata:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule REQUEST_COOKIES|REQUEST_COOKIES_NAMES|!REQUEST_COOKIES:/^_ga/ "@detectSQLi" "id:3,phase:1,pass,log,capture,logdata:'%{TX.0}'"
SecRule REQUEST_HEADERS|REQUEST_HEADERS_NAMES "@detectXSS" "id:4,phase:1,pass,log,t:urlDecode"
SecRule REQUEST_METHOD "!@within GET HEAD POST OPTIONS" "id:5,phase:1,pass,log,msg:'method %{REQUEST_METHOD}'"
SecRule REQUEST_PROTOCOL "!@pm HTTP/1.0 HTTP/1.1 HTTP/2" "id:6,phase:1,pass,log"
SecRule URLENCODED_ERROR "@eq 1" "id:7,phase:1,pass,log"
SecRule &ARGS "@gt 5" "id:8,phase:1,pass,log,setvar:tx.many=%{ARGS_COMBINED_SIZE}"
SecRule REQUEST_URI "@validateUrlEncoding" "id:9,phase:1,pass,log"
SecRule REQUEST_FILENAME "@validateUtf8Encoding" "id:10,phase:1,pass,log"
SecRule ARGS_GET "@validateByteRange 32-126" "id:11,phase:1,pass,log"
SecRule REQUEST_HEADERS:Host "@rx ^[\d.]+$" "id:12,phase:1,pass,log"
"#;

fn rules() -> Arc<RuleSet> {
    static RULES_SET: OnceLock<Arc<RuleSet>> = OnceLock::new();
    RULES_SET
        .get_or_init(|| {
            Arc::new(RuleSet::compile("uri.conf", RULES, &FileSet::new()).expect("rules compile"))
        })
        .clone()
}

fuzz_target!(|data: &[u8]| {
    let req = http::exchange(data).request;
    let mut tx = Transaction::new(rules(), "fuzz-uri");
    let uri = req.start.get(1).copied().unwrap_or_default();
    tx.set_request_line(&http::field(&req, 0, "GET"), uri, &http::field(&req, 2, ""));
    for (k, v) in &req.headers {
        tx.add_request_header(k, v);
    }
    // The body, if any, is one more Cookie header (cookie parsing is a target here).
    tx.add_request_header(b"Cookie", req.body);
    let _ = tx.process_request_headers();
    let _ = tx.process_request_body();
    tx.process_logging();
    for m in tx.matches() {
        assert!(!m.line().is_empty());
    }
});
