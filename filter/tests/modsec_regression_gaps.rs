//! Engine behaviours that libmodsecurity 3's own regression suite
//! (`test/test-cases/regression/*.json`) pins down, one test per behaviour, each failing
//! without the change that made the matching regression case pass. Not here: the suite
//! itself (the `wafer-tests` conformance runner runs it).

use std::sync::Arc;

use wafer::{FileSet, RuleSet, Transaction};

fn rules(text: &str) -> Arc<RuleSet> {
    Arc::new(RuleSet::compile("gaps.conf", text, &FileSet::new()).expect("rules compile"))
}

fn compile_error(text: &str) -> String {
    match RuleSet::compile("gaps.conf", text, &FileSet::new()) {
        Ok(_) => panic!("expected a configuration error"),
        Err(e) => e.to_string(),
    }
}

/// Runs a request (and a 200 text/html response); returns the transaction and the status
/// the client got (200 when nothing interrupted).
fn run(rs: &Arc<RuleSet>, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> (Transaction, u16) {
    let mut tx = Transaction::new(rs.clone(), "gaps-1");
    let method = if body.is_empty() { "GET" } else { "POST" };
    tx.set_request_line(method, uri.as_bytes(), "HTTP/1.1");
    for (k, v) in headers {
        tx.add_request_header(k.as_bytes(), v.as_bytes());
    }
    let status = (|| {
        if let Some(i) = tx.process_request_headers() {
            return i.status;
        }
        if let Some(i) = tx.append_request_body(body) {
            return i.status;
        }
        if let Some(i) = tx.process_request_body() {
            return i.status;
        }
        tx.set_response_status(200, "HTTP/1.1");
        tx.add_response_header(b"Content-Type", b"text/html");
        if let Some(i) = tx.process_response_headers() {
            return i.status;
        }
        if let Some(i) = tx.append_response_body(b"<html>hello</html>") {
            return i.status;
        }
        tx.process_response_body().map_or(200, |i| i.status)
    })();
    tx.process_logging();
    (tx, status)
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

// request-body-parser-multipart.json and others run phase-2 body rules without
// `SecRequestBodyAccess`: libmodsecurity 3 inspects the body unless the directive says Off.
#[test]
fn body_is_inspected_without_sec_request_body_access() {
    let rs = rules("SecRule ARGS_POST:a \"@streq 1\" \"id:1,phase:2,deny,status:403\"");
    assert_eq!(run(&rs, "/", &[FORM], b"a=1").1, 403);
    let rs = rules(
        "SecRequestBodyAccess Off\nSecRule ARGS_POST:a \"@streq 1\" \"id:1,phase:2,deny,status:403\"",
    );
    assert_eq!(run(&rs, "/", &[FORM], b"a=1").1, 200);
}
