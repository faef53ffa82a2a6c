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

// config-body_limits.json 8-15: over SecRequestBodyNoFilesLimit is a REQBODY_ERROR (for
// rule 200002 to act on), not an interruption; multipart file content does not count.
#[test]
fn no_files_limit_sets_reqbody_error() {
    let conf = |limit: u32| {
        rules(&format!(
            "SecRequestBodyNoFilesLimit {limit}\n\
             SecRule REQBODY_ERROR \"!@eq 0\" \"id:200002,phase:2,deny,status:400,\
             logdata:'%{{reqbody_error_msg}}'\""
        ))
    };
    let (tx, status) = run(
        &conf(20),
        "/",
        &[FORM],
        b"param1=value1&param2=value2&param3=x",
    );
    assert_eq!(status, 400);
    assert_eq!(
        tx.request_body_error(),
        Some("Request body excluding files is bigger than the maximum expected.")
    );
    assert_eq!(run(&conf(60), "/", &[FORM], b"param1=value1").1, 200);

    let mp = ("Content-Type", "multipart/form-data; boundary=0000");
    let body = format!(
        "--0000\nContent-Disposition: form-data; name=\"a\"\n\n1\n--0000\n\
         Content-Disposition: form-data; name=\"b\"; filename=\"c.txt\"\n\n{}\n--0000--\n",
        "2".repeat(70)
    );
    assert_eq!(run(&conf(80), "/", &[mp], body.as_bytes()).1, 400);
    assert_eq!(run(&conf(120), "/", &[mp], body.as_bytes()).1, 200);
    // An explicit `SecRequestBodyLimitAction Reject` refuses it outright (ModSecurity v2).
    let rs = rules("SecRequestBodyNoFilesLimit 20\nSecRequestBodyLimitAction Reject");
    assert_eq!(
        run(&rs, "/", &[FORM], b"param1=value1&param2=value2").1,
        413
    );
}

// variable-REQUEST_URI.json 1-2, variable-QUERY_STRING.json 1, variable-ARGS_GET.json 5.
#[test]
fn fragment_is_cut_from_request_uri_and_query_string() {
    let rs = rules(
        "SecRule REQUEST_URI \"@contains urifrag\" \"id:1,phase:1,deny,status:403\"\n\
         SecRule QUERY_STRING \"@contains urifrag\" \"id:2,phase:1,deny,status:403\"\n\
         SecRule ARGS_GET:k \"!@streq v\" \"id:3,phase:1,deny,status:403\"\n\
         SecRule REQUEST_URI_RAW \"@contains urifrag\" \"id:4,phase:1,pass,log\"",
    );
    let (tx, status) = run(&rs, "/a?k=v#urifrag", &[], b"");
    assert_eq!(status, 200);
    let ids: Vec<u64> = tx.matches().iter().map(|m| m.id).collect();
    assert_eq!(ids, vec![4], "only REQUEST_URI_RAW keeps the fragment");
}

// config-secdefaultaction.json 5.
#[test]
fn second_sec_default_action_for_a_phase_is_an_error() {
    let e = compile_error(
        "SecDefaultAction \"phase:2,log,auditlog,pass\"\nSecDefaultAction \"phase:2,log,auditlog,deny\"",
    );
    assert!(e.contains("Phase 2 was informed already"), "{e}");
    rules("SecDefaultAction \"phase:1,log,auditlog,pass\"\nSecDefaultAction \"phase:2,log,auditlog,pass\"");
}

// issue-2296.json 2, 3, 5: a macro key may be a regex; it expands to the first match.
#[test]
fn macros_with_a_regex_key_expand_to_the_first_match() {
    let rs = rules(
        "SecAction \"id:1,phase:1,pass,nolog,setvar:'TX.restricted_headers=/name1/'\"\n\
         SecRule ARGS:/^ThIs$/ \"test\" \"id:2,phase:1,pass,log,msg:'Testing %{ARGS:/^ThIs$/}'\"\n\
         SecRule REQUEST_HEADERS:name1 \"@within %{TX:/esTrictEd_headers/}\" \
         \"id:3,phase:1,deny,status:437,t:none,t:lowercase\"",
    );
    let (tx, status) = run(&rs, "/?THIS=is+a+simple+test", &[("Name1", "/NAME1/")], b"");
    assert_eq!(status, 437);
    let m = tx
        .matches()
        .iter()
        .find(|m| m.id == 2)
        .expect("rule 2 matched");
    assert_eq!(m.msg(), "Testing is a simple test");
}

// issue-1528.json, issue-2296.json 5/6: the log line of a chain quotes the last link's
// operator, with its parameter macro-expanded.
#[test]
fn chain_log_line_quotes_the_last_link_with_expanded_parameter() {
    let rs = rules(
        "SecAction \"id:1,phase:1,pass,nolog,setvar:tx.bad_value=attack\"\n\
         SecRule ARGS:param \"@rx ^.*$\" \"id:2,phase:1,deny,chain\"\n\
         SecRule ARGS:param \"@rx ^%{tx.bad_value}$\" \"t:none\"",
    );
    let (tx, status) = run(&rs, "/?param=attack", &[], b"");
    assert_eq!(status, 403);
    let line = tx
        .matches()
        .iter()
        .find(|m| m.id == 2)
        .expect("matched")
        .line();
    assert!(
        line.contains("Operator `Rx' with parameter `^attack$' against variable `ARGS:param'"),
        "{line}"
    );
}

// actions.json 2: `redirect` keeps a status in 301..=307 (libmodsecurity 3), else 302.
#[test]
fn redirect_keeps_any_3xx_status_from_301_to_307() {
    for (status, want) in [(306, 306), (304, 304), (301, 301), (308, 302), (403, 302)] {
        let rs = rules(&format!(
            "SecRule ARGS \"@contains test\" \
             \"id:1,phase:1,status:{status},redirect:'http://www.example.com'\""
        ));
        assert_eq!(run(&rs, "/?p=test", &[], b"").1, want, "status:{status}");
    }
}

// config-update-target-by-id.json 3/4: `!ARGS:/re/` also drops ARGS_NAMES members whose
// name matches (libmodsecurity 3 matches regex exclusions on the key alone).
#[test]
fn regex_exclusion_on_args_covers_args_names() {
    let rs = rules(
        "SecRuleUpdateTargetById 1 \"!ARGS:/xxx/\"\n\
         SecRule ARGS_NAMES \"@contains yyy\" \"id:1,phase:2,deny,status:403\"",
    );
    assert_eq!(run(&rs, "/?xxxyyy=value", &[], b"").1, 200);
    assert_eq!(run(&rs, "/?xxyyy=value", &[], b"").1, 403);
    // A plain key exclusion stays on its own collection, as in libmodsecurity 3.
    let rs = rules(
        "SecRuleUpdateTargetById 1 \"!ARGS:xxxyyy\"\n\
         SecRule ARGS_NAMES \"@contains yyy\" \"id:1,phase:2,deny,status:403\"",
    );
    assert_eq!(run(&rs, "/?xxxyyy=value", &[], b"").1, 403);
}

// action-xmlns.json 0-3: malformed `xmlns` values are configuration errors.
#[test]
fn malformed_xmlns_is_a_configuration_error() {
    let rule = |x: &str| format!("SecRule REQUEST_HEADERS:User-Agent \"^(.*)$\" \"id:123,{x}\"");
    for (x, want) in [
        (
            "xmlns:soap'http://schemas.xmlsoap.org/soap/envelope/'",
            "XMLS: Bad format, missing equals sign.",
        ),
        (
            "xmlns:=",
            "XMLS: XMLNS is invalid. Expecting a name=value format.",
        ),
        (
            "xmlns:soap='schemas.xmlsoap.org/soap/envelope/'",
            "XMLS: Missing xmlns href for prefix: `schemas.xmlsoap.org/soap/envelope/'.",
        ),
    ] {
        let e = compile_error(&rule(x));
        assert!(e.contains(want), "{x}: {e}");
    }
    rules(&rule(
        "xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'",
    ));
}

// variable-WEBSERVER_ERROR_LOG.json: refused at configure time, as by libmodsecurity 3.
#[test]
fn webserver_error_log_is_a_configuration_error() {
    let e = compile_error("SecRule WEBSERVER_ERROR_LOG \"@contains test\" \"id:1\"");
    assert!(
        e.contains("VARIABLE_WEBSERVER_ERROR_LOG is not supported"),
        "{e}"
    );
}

// issue-1941.json: SecUnicodeMapFile is loaded (from the in-memory file set, relative to
// the configuration file) and used by t:urlDecodeUni; a missing file or a non-numeric
// code page is a configuration error.
#[test]
fn sec_unicode_map_file_is_loaded_and_used() {
    let mut files = FileSet::new();
    files.insert("conf/unicode.mapping", "1251 0434:64 043e:6f 0440:70\n");
    let rule = "SecRule ARGS \"@contains dop\" \
                \"phase:1,id:999,deny,t:none,t:utf8toUnicode,t:urlDecodeUni,multiMatch\"";
    let uri = "/?p=\u{434}\u{43e}\u{440}";
    let with_map = format!("SecUnicodeMapFile unicode.mapping 1251\n{rule}");
    let rs = Arc::new(RuleSet::compile("conf/main.conf", &with_map, &files).expect("compiles"));
    assert_eq!(run(&rs, uri, &[], b"").1, 403);
    // Without the map, %u0434 is its low byte ('4'), so nothing matches.
    assert_eq!(run(&rules(rule), uri, &[], b"").1, 200);

    let err = |text: &str| match RuleSet::compile("conf/main.conf", text, &files) {
        Ok(_) => panic!("expected an error for {text}"),
        Err(e) => e.to_string(),
    };
    let e = err("SecUnicodeMapFile um dois does-not-exist.mapping 20127");
    assert!(
        e.contains("Failed to locate the unicode map file from: um dois does-not-exist.mapping"),
        "{e}"
    );
    let e = err("SecUnicodeMapFile unicode.mapping eita");
    assert!(
        e.contains("Invalid input:  SecUnicodeMapFile unicode.mapping eita"),
        "{e}"
    );
    let e = err("SecUnicodeMapFile unicode.mapping 20127");
    assert!(e.contains("code page 20127"), "{e}");
}
