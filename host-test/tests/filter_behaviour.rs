//! Behaviour of the real filter, `dist/wafer.wasm`, under the host in both personalities:
//! every behaviour the filter issue (issue 4, "Done means") lists, with small SecLang rule
//! sets so each test is fast. CRS-backed scenarios live in `filter_crs.rs`.
//!
//! Where the personalities differ, the test says why (the host's crate doc lists where each
//! modelled quirk comes from). Not here: the engine's rule semantics (the engine's own unit
//! tests and the conformance runner cover those).

mod filter_common;

use filter_common::*;
use wafer_host_test::{HostOptions, LogLevel, Outcome, Personality, Request, Response};

/// `@recommended-conf` plus test rules, one for each place a request or response can be
/// caught.
const RULES: &[&str] = &[
    "Include @recommended-conf",
    "SecRule REQUEST_HEADERS:x-attack \"@streq 1\" \"id:1001,phase:1,deny,log,msg:'header attack',severity:2\"",
    "SecRule ARGS_GET:q \"@contains evil\" \"id:1002,phase:2,deny,log,msg:'evil query'\"",
    "SecRule ARGS_POST:user \"@streq evil\" \"id:1003,phase:2,deny,log,msg:'evil form field'\"",
    "SecRule REQUEST_BODY \"@contains evilpayload\" \"id:1004,phase:2,deny,log,msg:'evil body'\"",
    "SecRule RESPONSE_HEADERS:x-leak \"@streq 1\" \"id:1005,phase:3,deny,log,msg:'leaky header'\"",
    "SecRule RESPONSE_BODY \"@contains secret-data\" \"id:1006,phase:4,deny,log,msg:'secret in body'\"",
    "SecRule ARGS_GET:go \"@streq away\" \"id:1007,phase:1,redirect:https://example.org/blocked,log,msg:'redirect'\"",
    "SecRule ARGS_GET:drop \"@streq 1\" \"id:1008,phase:1,drop,log,msg:'drop'\"",
    "SecRule &REQUEST_HEADERS:Host \"!@eq 1\" \"id:1009,phase:1,deny,status:400,log,msg:'not one Host'\"",
];

fn form(path: &str, body: &str) -> Request {
    Request::post(path, body).header("content-type", "application/x-www-form-urlencoded")
}

fn text(path: &str, body: &str) -> Request {
    Request::post(path, body).header("content-type", "text/plain")
}

fn ok() -> Response {
    Response::ok("hello")
}

/// The request was blocked before any of it reached the upstream, with this status.
#[track_caller]
fn assert_blocked(out: &Outcome, status: u32, rule: u64) {
    assert_eq!(out.status(), Some(status), "hooks {:?}", out.hooks);
    assert_nothing_of_the_body_upstream(out);
    assert!(
        logged_rule_ids(out).contains(&rule),
        "rule {rule} not logged: {:#?}",
        out.logs
    );
    assert!(out.logged("wafer: interrupted (phase"), "{:#?}", out.logs);
    assert!(!out.request_stalled && out.trap.is_none(), "{out:#?}");
}

/// The upstream got no body byte and no complete request. With a body to come, the
/// request headers may have gone on (Envoy: a Pause at the headers would stop the body
/// callbacks, see the adapter), but the request is never completed upstream.
#[track_caller]
fn assert_nothing_of_the_body_upstream(out: &Outcome) {
    if let Some(up) = &out.upstream {
        assert!(
            up.body.is_empty() && !up.complete,
            "upstream saw {up:?} (hooks {:?})",
            out.hooks
        );
    }
}

/// The exchange passed untouched.
#[track_caller]
fn assert_passed(out: &Outcome, body: &[u8]) {
    assert_eq!(out.status(), Some(200), "{:#?}", out.logs);
    let up = out.upstream.as_ref().expect("upstream saw the request");
    assert!(up.complete, "{up:?}");
    assert_eq!(up.body, body);
    assert!(out.client.as_ref().is_some_and(|c| c.complete));
    assert_eq!(client_body(out), b"hello");
    assert!(!out.logged("wafer: interrupted"), "{:#?}", out.logs);
}

#[test]
fn benign_traffic_passes_in_both() {
    for p in BOTH {
        let plugin = plugin();
        let mut vm = start(&plugin, p, &one_set(RULES));
        assert_passed(&vm.http(&Request::get("/?q=hello"), &ok()), b"");
        assert_passed(
            &vm.http(&form("/login", "user=alice"), &ok()),
            b"user=alice",
        );
        assert_passed(
            &vm.http(&text("/t", "just text").split_body_at(&[3]), &ok()),
            b"just text",
        );
    }
}

#[test]
fn the_engine_sees_exactly_the_clients_host_header() {
    // Envoy turns Host into :authority (the filter gives it back as Host); nginx keeps the
    // client's `Host` with its case and adds its own :authority (server_name:port).
    for p in BOTH {
        let plugin = plugin();
        let mut vm = start(&plugin, p, &one_set(RULES));
        let req = Request {
            headers: vec![("Host".into(), "shop.example.com".into())],
            ..Request::get("/")
        };
        let out = vm.http(&req, &ok());
        assert_passed(&out, b"");
    }
}

#[test]
fn blocks_on_request_headers_in_both() {
    for p in BOTH {
        let plugin = plugin();
        let mut vm = start(&plugin, p, &one_set(RULES));
        let out = vm.http(&Request::get("/").header("x-attack", "1"), &ok());
        assert_blocked(&out, 403, 1001);
        assert!(out.logged("phase 1"), "{:#?}", out.logs);
        // Nothing past the headers was called on the request side.
        assert!(!out.hooks.iter().any(|h| h.starts_with("on_request_body")));
    }
}

#[test]
fn headers_that_end_the_stream_get_phase_two_at_once() {
    // Envoy: the headers hook has end_of_stream; phase 2 runs there and the upstream never
    // sees the request (coraza-proxy-wasm runs it only at response headers).
    for p in BOTH {
        let plugin = plugin();
        let mut vm = start(&plugin, p, &one_set(RULES));
        let out = vm.http(&Request::get("/search?q=evil"), &ok());
        assert_blocked(&out, 403, 1002);
        assert!(out.logged("(phase 2"), "{:#?}", out.logs);
        assert_eq!(
            out.hooks.len(),
            5,
            "headers hook then done/log/delete: {:?}",
            out.hooks
        );
    }
}

#[test]
fn envoy_request_body_is_held_until_phase_two() {
    // Continue at the headers (a Pause there would be StopAllIteration: no body callbacks),
    // Pause on each body chunk until the last, so no body byte goes upstream uninspected.
    let plugin = plugin();
    let mut vm = start(&plugin, Personality::Envoy, &one_set(RULES));
    let out = vm.http(&form("/login", "user=alice").split_body_at(&[4]), &ok());
    assert!(
        out.hooks
            .first()
            .is_some_and(|h| h.starts_with("on_request_headers") && h.ends_with("Continue")),
        "{:?}",
        out.hooks
    );
    let body_hooks: Vec<&String> = out
        .hooks
        .iter()
        .filter(|h| h.starts_with("on_request_body"))
        .collect();
    assert_eq!(body_hooks.len(), 2, "{:?}", out.hooks);
    assert!(body_hooks[0].ends_with("Pause"), "{body_hooks:?}");
    assert!(body_hooks[1].ends_with("Continue"), "{body_hooks:?}");
    assert_passed(&out, b"user=alice");
}

#[test]
fn blocks_on_request_body_and_upstream_gets_nothing() {
    for p in BOTH {
        let plugin = plugin();
        let mut vm = start(&plugin, p, &one_set(RULES));
        let out = vm.http(&form("/login", "user=evil"), &ok());
        assert_blocked(&out, 403, 1003);
        let out = vm.http(&text("/upload", "xx evilpayload xx"), &ok());
        assert_blocked(&out, 403, 1004);
    }
}

#[test]
fn body_split_at_awkward_places_is_still_inspected() {
    // coraza-proxy-wasm #289: a body in several chunks must be inspected whole.
    let body = "aaaa=1&user=evil&zz=2";
    for p in BOTH {
        let plugin = plugin();
        let mut vm = start(&plugin, p, &one_set(RULES));
        for cuts in [
            vec![1],
            vec![13],
            vec![14, 15],
            (1..body.len()).collect::<Vec<_>>(),
        ] {
            let out = vm.http(&form("/login", body).split_body_at(&cuts), &ok());
            assert_blocked(&out, 403, 1003);
        }
        let raw = "--evil--evilpay";
        let out = vm.http(
            &text("/t", &format!("{raw}load--")).split_body_at(&[4, 11, 16, 20]),
            &ok(),
        );
        assert_blocked(&out, 403, 1004);
    }
}

#[test]
fn body_with_trailers_is_inspected_envoy() {
    // Envoy: the last chunk has no end_of_stream when trailers follow; phase 2 runs at the
    // trailers. (nginx never gives trailers to filters; its body is read whole.)
    let plugin = plugin();
    let mut vm = start(&plugin, Personality::Envoy, &one_set(RULES));
    let req = form("/login", "user=evil")
        .split_body_at(&[6])
        .trailer("x-checksum", "abc");
    let out = vm.http(&req, &ok());
    assert_blocked(&out, 403, 1003);
    assert!(out
        .hooks
        .iter()
        .any(|h| h.starts_with("on_request_trailers")));
    let req = form("/login", "user=alice")
        .split_body_at(&[6])
        .trailer("x-checksum", "abc");
    let out = vm.http(&req, &ok());
    assert_passed(&out, b"user=alice");
    assert_eq!(
        out.upstream.as_ref().map(|u| u.trailers.clone()),
        Some(vec![("x-checksum".to_string(), "abc".to_string())])
    );
}

#[test]
fn get_with_a_body_is_inspected() {
    for p in BOTH {
        let plugin = plugin();
        let mut vm = start(&plugin, p, &one_set(RULES));
        let out = vm.http(&form("/", "user=evil").method("GET"), &ok());
        assert_blocked(&out, 403, 1003);
    }
}

fn limited(action: &str) -> String {
    let mut lines = RULES.to_vec();
    lines.extend([
        "SecRequestBodyLimit 64",
        "SecRequestBodyNoFilesLimit 64",
        action,
    ]);
    one_set(&lines)
}

#[test]
fn oversize_body_with_reject_answers_413_without_a_stall() {
    let big = format!("user=alice&pad={}", "x".repeat(200));
    for p in BOTH {
        let plugin = plugin();
        let mut vm = start(&plugin, p, &limited("SecRequestBodyLimitAction Reject"));
        for cuts in [vec![], vec![10, 70, 100]] {
            let out = vm.http(&form("/up", &big).split_body_at(&cuts), &ok());
            assert_eq!(out.status(), Some(413), "{:#?}", out.logs);
            assert_nothing_of_the_body_upstream(&out);
            assert!(!out.request_stalled);
            assert!(
                out.logged("larger than the configured limit"),
                "{:#?}",
                out.logs
            );
        }
    }
}

#[test]
fn oversize_body_with_process_partial_passes_and_logs() {
    // The first 64 bytes are inspected; the rest goes through.
    let big = format!("user=alice&pad={}", "x".repeat(200));
    for p in BOTH {
        let plugin = plugin();
        let mut vm = start(
            &plugin,
            p,
            &limited("SecRequestBodyLimitAction ProcessPartial"),
        );
        let out = vm.http(&form("/up", &big).split_body_at(&[10, 70]), &ok());
        assert_passed(&out, big.as_bytes());
        assert!(
            filter_logs(&out)
                .iter()
                .any(|l| l.contains("ProcessPartial")),
            "{p:?}: the partial inspection is not logged: {:#?}",
            out.logs
        );
        // Inside the inspected part, a match still blocks.
        let evil = format!("user=evil&pad={}", "x".repeat(200));
        let out = vm.http(&form("/up", &evil).split_body_at(&[10, 70]), &ok());
        assert_blocked(&out, 403, 1003);
    }
}

#[test]
fn blocks_on_response_headers_in_both() {
    for p in BOTH {
        let plugin = plugin();
        let mut vm = start(&plugin, p, &one_set(RULES));
        let out = vm.http(&Request::get("/"), &ok().header("x-leak", "1"));
        assert_eq!(out.status(), Some(403), "{p:?} {:#?}", out.logs);
        assert!(logged_rule_ids(&out).contains(&1005));
        assert_ne!(client_body(&out), b"hello");
        assert!(out.logged("(phase 3"));
    }
}

#[test]
fn response_body_blocked_in_phase_four_envoy_resets_before_any_body() {
    // Envoy: a Pause at the response headers would stop the body callbacks
    // (StopAllIteration), so the headers go on and the body is held until phase 4. A match
    // then resets the stream: the client has the 200 headers but not one byte of the body.
    // (coraza-proxy-wasm sends 200 with a NUL-filled body instead.)
    let plugin = plugin();
    let mut vm = start(&plugin, Personality::Envoy, &one_set(RULES));
    let resp = Response::ok("some text with secret-data inside").split_body_at(&[5, 20, 21]);
    let out = vm.http(&Request::get("/"), &resp);
    assert!(
        out.hooks
            .iter()
            .any(|h| h.starts_with("on_response_body") && h.ends_with("Pause")),
        "{:?}",
        out.hooks
    );
    assert!(out.reset, "{out:#?}");
    let client = out.client.as_ref().expect("headers went out");
    assert!(!client.complete);
    assert!(client.body.is_empty(), "{:?}", client.body);
    assert!(logged_rule_ids(&out).contains(&1006));
    assert!(out.logged("(phase 4"));
    // A harmless body passes, headers and all.
    let out = vm.http(
        &Request::get("/"),
        &Response::ok("hello").split_body_at(&[2]),
    );
    assert_passed(&out, b"");
}

#[test]
fn response_body_blocked_in_phase_four_nginx_cuts_the_stream() {
    // ngx_wasm_module ignores Pause in response hooks and hands each body chunk on its own,
    // so the headers (and earlier chunks) are out when phase 4 matches: the stream is cut
    // and the chunk that completed the match never reaches the client.
    let plugin = plugin();
    let mut vm = start(&plugin, Personality::Nginx, &one_set(RULES));
    // The match straddles chunks: phase 4 still sees the body whole.
    let resp = Response::ok("some text with secret-data inside").split_body_at(&[5, 20, 21]);
    let out = vm.http(&Request::get("/"), &resp);
    assert!(logged_rule_ids(&out).contains(&1006), "{:#?}", out.logs);
    assert!(out.logged("(phase 4"));
    assert!(out.reset, "{out:#?}");
    let client = out.client.as_ref().expect("headers went out");
    assert!(!client.complete);
    assert_eq!(client.body, b"some text with secret");
    // In one chunk, nothing of the body is delivered.
    let out = vm.http(&Request::get("/"), &Response::ok("secret-data"));
    assert!(out.reset && client_body(&out).is_empty(), "{out:#?}");
    // A harmless chunked body passes whole.
    let out = vm.http(
        &Request::get("/"),
        &Response::ok("hello").split_body_at(&[1, 3]),
    );
    assert_passed(&out, b"");
}

#[test]
fn detection_only_passes_and_logs_the_would_be_block() {
    let mut lines = RULES.to_vec();
    lines.push("SecRuleEngine DetectionOnly");
    for p in BOTH {
        let plugin = plugin();
        let mut vm = start(&plugin, p, &one_set(&lines));
        let out = vm.http(&form("/login", "user=evil").header("x-attack", "1"), &ok());
        assert_passed(&out, b"user=evil");
        let ids = logged_rule_ids(&out);
        assert!(ids.contains(&1001) && ids.contains(&1003), "{ids:?}");
        let would = log_at(
            &out,
            LogLevel::Warn,
            "detection-only: would have interrupted",
        )
        .expect("would-be block logged");
        assert!(
            would.contains("phase 1") && would.contains("1001"),
            "{would}"
        );
        assert_eq!(
            plugin.metric("wafer.tx.detection_only_interruptions_phase=1"),
            Some(1)
        );
        assert_eq!(plugin.metric("wafer.tx.interruptions_phase=1"), None);
        let out = vm.http(&Request::get("/"), &Response::ok("secret-data"));
        assert_eq!(out.status(), Some(200));
        assert_eq!(client_body(&out), b"secret-data");
    }
}

#[test]
fn redirect_answers_302_with_location() {
    for p in BOTH {
        let plugin = plugin();
        let mut vm = start(&plugin, p, &one_set(RULES));
        let out = vm.http(&Request::get("/?go=away"), &ok());
        assert_eq!(out.status(), Some(302), "{:#?}", out.logs);
        assert_eq!(
            client_header(&out, "location").as_deref(),
            Some("https://example.org/blocked")
        );
        assert!(out.upstream.is_none());
    }
}

#[test]
fn drop_closes_the_stream_envoy() {
    let plugin = plugin();
    let mut vm = start(&plugin, Personality::Envoy, &one_set(RULES));
    let out = vm.http(&Request::get("/?drop=1"), &ok());
    assert!(out.reset, "{out:#?}");
    assert!(out.upstream.is_none() && out.client.is_none());
    assert!(logged_rule_ids(&out).contains(&1008));
}

#[test]
fn drop_never_reaches_the_upstream_nginx() {
    // ngx_wasm_module has no proxy_close_stream (NYI): the call fails and nginx answers
    // 500, still without forwarding anything.
    let plugin = plugin();
    let mut vm = start(&plugin, Personality::Nginx, &one_set(RULES));
    let out = vm.http(&Request::get("/?drop=1"), &ok());
    assert!(out.upstream.is_none(), "{out:#?}");
    assert_ne!(out.status(), Some(200));
}

#[test]
fn audit_record_has_the_prefix_and_the_messages() {
    for p in BOTH {
        let plugin = plugin();
        let mut vm = start(&plugin, p, &one_set(RULES));
        let out = vm.http(&Request::get("/").header("x-attack", "1"), &ok());
        let audit: Vec<&str> = out
            .logs
            .iter()
            .filter_map(|l| l.message.strip_prefix("wafer-audit: "))
            .collect();
        assert_eq!(audit.len(), 1, "{:#?}", out.logs);
        let record: String = audit[0].chars().filter(|c| !c.is_whitespace()).collect();
        assert!(record.starts_with('{') && record.ends_with('}'), "{record}");
        for needle in [
            "\"transaction\":",
            "\"messages\":[",
            "\"ruleId\":\"1001\"",
            "\"producer\":",
            "headerattack",
        ] {
            assert!(record.contains(needle), "{needle} missing in {record}");
        }
        // RelevantOnly (in @recommended-conf): a clean 200 writes no record.
        let out = vm.http(&Request::get("/"), &ok());
        assert!(!out.logged("wafer-audit: "), "{:#?}", out.logs);
    }
}

#[test]
fn metrics_count_transactions_interruptions_and_matches() {
    for p in BOTH {
        let plugin = plugin();
        let mut vm = start(&plugin, p, &one_set(RULES));
        vm.http(&Request::get("/"), &ok());
        vm.http(&Request::get("/").header("x-attack", "1"), &ok());
        vm.http(&Request::get("/").header("x-attack", "1"), &ok());
        vm.http(&form("/login", "user=evil"), &ok());
        let bad_json = Request::post("/api", "{\"a\":").header("content-type", "application/json");
        let out = vm.http(&bad_json, &ok());
        assert_eq!(out.status(), Some(400), "{:#?}", out.logs);
        assert_eq!(plugin.metric("wafer.tx.total"), Some(5), "{p:?}");
        assert_eq!(plugin.metric("wafer.tx.interruptions_phase=1"), Some(2));
        assert_eq!(plugin.metric("wafer.tx.interruptions_phase=2"), Some(2));
        assert_eq!(plugin.metric("wafer.rule.matches_ruleid=1001"), Some(2));
        assert_eq!(plugin.metric("wafer.rule.matches_ruleid=1003"), Some(1));
        assert_eq!(plugin.metric("wafer.tx.body_parse_errors"), Some(1));
    }
}

#[test]
fn metric_labels_are_appended() {
    let plugin = plugin();
    let cfg = config(
        &[("main", RULES)],
        "main",
        &[],
        "\"metric_labels\": {\"owner\": \"team-a\"}",
    );
    let mut vm = start(&plugin, Personality::Envoy, &cfg);
    vm.http(&Request::get("/").header("x-attack", "1"), &ok());
    assert_eq!(plugin.metric("wafer.tx.total_owner=team-a"), Some(1));
    assert_eq!(
        plugin.metric("wafer.rule.matches_ruleid=1001_owner=team-a"),
        Some(1)
    );
}

#[test]
fn block_response_settings_shape_the_answer() {
    let extra = r#""block_response": {"status": 429, "body": "go away\n",
        "content_type": "text/html", "headers": {"cache-control": "no-store"},
        "add_rule_id_header": true, "add_request_id_header": true}"#;
    for p in BOTH {
        let plugin = plugin();
        let mut vm = start(&plugin, p, &config(&[("main", RULES)], "main", &[], extra));
        let out = vm.http(
            &Request::get("/")
                .header("x-attack", "1")
                .header("x-request-id", "req-123"),
            &ok(),
        );
        assert_eq!(out.status(), Some(429), "{:#?}", out.logs);
        assert_eq!(client_body(&out), b"go away\n");
        assert_eq!(
            client_header(&out, "content-type").as_deref(),
            Some("text/html")
        );
        assert_eq!(
            client_header(&out, "cache-control").as_deref(),
            Some("no-store")
        );
        assert_eq!(
            client_header(&out, "x-wafer-rule-id").as_deref(),
            Some("1001")
        );
        assert_eq!(
            client_header(&out, "x-request-id").as_deref(),
            Some("req-123")
        );
        assert!(out.logged("[unique_id \"req-123\"]"), "{:#?}", out.logs);
        // A rule's own non-403 status is kept (the 413/400 of limits and parse errors too).
        let bad_json = Request::post("/api", "{").header("content-type", "application/json");
        assert_eq!(vm.http(&bad_json, &ok()).status(), Some(400));
    }
    // Envoy generates an x-request-id when the client sends none; the filter uses it.
    let plugin = plugin();
    let mut vm = start(
        &plugin,
        Personality::Envoy,
        &config(&[("main", RULES)], "main", &[], extra),
    );
    let out = vm.http(&Request::get("/").header("x-attack", "1"), &ok());
    let id = client_header(&out, "x-request-id").expect("request id header");
    assert!(id.starts_with("00000000-0000-4000-8000-"), "{id}");
    assert!(out.logged(&format!("[unique_id \"{id}\"]")));
}

#[test]
fn default_block_response_is_a_bare_403() {
    let plugin = plugin();
    let mut vm = start(&plugin, Personality::Envoy, &one_set(RULES));
    let out = vm.http(&Request::get("/").header("x-attack", "1"), &ok());
    assert_eq!(out.status(), Some(403));
    assert!(client_body(&out).is_empty());
    assert_eq!(client_header(&out, "x-wafer-rule-id"), None);
}

fn authority_config() -> String {
    let a: &[&str] = &[
        "SecRuleEngine On",
        "SecRule REQUEST_HEADERS:x-t \"@streq 1\" \"id:11,phase:1,deny,status:401,log\"",
    ];
    let b: &[&str] = &[
        "SecRuleEngine On",
        "SecRule REQUEST_HEADERS:x-t \"@streq 1\" \"id:12,phase:1,deny,status:402,log\"",
    ];
    let d: &[&str] = &[
        "SecRuleEngine On",
        "SecRule REQUEST_HEADERS:x-t \"@streq 1\" \"id:13,phase:1,deny,status:406,log\"",
    ];
    config(
        &[("a", a), ("b", b), ("d", d)],
        "d",
        &[("api.example.com:8443", "a"), ("API.example.com", "b")],
        "",
    )
}

#[test]
fn per_authority_selection_envoy() {
    let plugin = plugin();
    let mut vm = start(&plugin, Personality::Envoy, &authority_config());
    let status = |vm: &mut wafer_host_test::Vm, host: &str| {
        let req = Request {
            headers: vec![("host".into(), host.into()), ("x-t".into(), "1".into())],
            ..Request::get("/")
        };
        vm.http(&req, &ok()).status()
    };
    assert_eq!(
        status(&mut vm, "api.example.com:8443"),
        Some(401),
        "exact, with port"
    );
    assert_eq!(
        status(&mut vm, "api.example.com:9000"),
        Some(402),
        "host without port"
    );
    assert_eq!(status(&mut vm, "api.example.com"), Some(402), "host");
    assert_eq!(
        status(&mut vm, "Api.Example.COM"),
        Some(402),
        "case-insensitive"
    );
    assert_eq!(status(&mut vm, "other.example.com"), Some(406), "default");
    assert_eq!(status(&mut vm, "example.com:8443"), Some(406), "default");
}

#[test]
fn per_authority_selection_nginx_uses_server_name_and_port() {
    // ngx_wasm_module's :authority is `server_name:port`, not the Host header.
    let plugin = plugin();
    let status = |name: &str, port: u16| {
        let mut opts = HostOptions::new(Personality::Nginx);
        opts.nginx_server_name = name.into();
        opts.destination_port = port;
        let mut vm = start_with(&plugin, opts, &authority_config());
        let req = Request::get("/").header("x-t", "1");
        vm.http(&req, &ok()).status()
    };
    assert_eq!(status("api.example.com", 8443), Some(401));
    assert_eq!(status("api.example.com", 80), Some(402));
    assert_eq!(status("localhost", 8443), Some(406));
}

/// Starts the filter with `cfg`, expects configure to fail, and returns the filter's
/// (non-host) log lines.
fn configure_error(p: Personality, cfg: &str) -> Vec<String> {
    let plugin = plugin();
    let err = match plugin.start(HostOptions::new(p), cfg.as_bytes()) {
        Ok(_) => panic!("configuration {cfg} was accepted"),
        Err(e) => e,
    };
    assert!(
        err.message.contains("proxy_on_configure returned false"),
        "{err}"
    );
    err.logs
        .iter()
        .filter(|l| !l.message.starts_with("host: "))
        .map(|l| {
            assert_eq!(l.level, LogLevel::Critical, "{}", l.message);
            l.message.clone()
        })
        .collect()
}

#[test]
fn configure_errors_fail_with_one_line() {
    for p in BOTH {
        let one = |cfg: &str| {
            let lines = configure_error(p, cfg);
            assert_eq!(lines.len(), 1, "{lines:#?}");
            lines[0].clone()
        };
        let l = one("{\"directives_map\": ");
        assert!(
            l.contains("invalid plugin configuration") && l.contains("line 1"),
            "{l}"
        );
        let l = one(r#"{"directives_map": {"a": []}, "per_authority_directive": {}}"#);
        assert!(
            l.contains("unknown field") && l.contains("per_authority_directive"),
            "{l}"
        );
        let l = one(r#"{"directives_map": {"a": []}, "default_directives": "b"}"#);
        assert!(
            l.contains("default_directives") && l.contains("\"b\""),
            "{l}"
        );
        let l = one(r#"{"directives_map": {"a": []}, "default_directives": "a",
                "per_authority_directives": {"x.example": "nope"}}"#);
        assert!(l.contains("x.example") && l.contains("nope"), "{l}");
        let cfg = one_set(&[
            "SecRuleEngine On",
            "SecRule ARGS \"@streq x\" \"id:1,deny\"",
            "SecRule ARGS \"@nosuchop x\" \"id:2,deny\"",
        ]);
        let l = one(&cfg);
        assert!(l.contains("\"main\"") && l.contains("main:3"), "{l}");
        assert!(l.contains("nosuchop"), "{l}");
        let cfg = one_set(&["Include @owasp_crs/NO-SUCH-FILE.conf"]);
        let l = one(&cfg);
        assert!(l.contains("main:1") && l.contains("NO-SUCH-FILE"), "{l}");
    }
}

#[test]
fn configure_success_is_logged() {
    let plugin = plugin();
    let vm = start(&plugin, Personality::Envoy, &one_set(RULES));
    assert!(
        vm.logs().iter().any(
            |l| l.message.contains("wafer: configuration loaded") && l.message.contains("main")
        ),
        "{:#?}",
        vm.logs()
    );
}

#[test]
fn connection_addresses_are_asked_of_the_host_only_when_a_rule_reads_them() {
    // The host's client is 192.0.2.10:40000 (HostOptions); Envoy gives `ip:port`, nginx the
    // bare address with the port in `source.port`.
    let mut rules = RULES.to_vec();
    rules.push(
        "SecRule REMOTE_ADDR \"@ipMatch 192.0.2.0/24\" \"id:1010,phase:1,deny,status:401,log,msg:'client %{REMOTE_ADDR} port %{REMOTE_PORT}',chain\"",
    );
    rules.push("    SecRule ARGS_GET:who \"@streq me\" \"t:none\"");
    let addresses = |out: &Outcome| {
        out.properties_read
            .iter()
            .filter(|p| p.starts_with("source.") || p.starts_with("destination."))
            .count()
    };
    for p in BOTH {
        let plugin = plugin();
        let mut vm = start(&plugin, p, &one_set(&rules));
        // The chain starts on REMOTE_ADDR, so every request reads it: asked once per request.
        let out = vm.http(&Request::get("/?who=me"), &ok());
        assert_blocked(&out, 401, 1010);
        assert!(
            out.logged("client 192.0.2.10 port 40000"),
            "{p:?}: {:#?}",
            out.logs
        );
        let source = out
            .properties_read
            .iter()
            .filter(|r| *r == "source.address")
            .count();
        assert_eq!(source, 1, "{p:?}: {:?}", out.properties_read);

        // Without that rule, a clean request reads no address at all; a blocked one reads
        // them for its audit record.
        let mut vm = start(&plugin, p, &one_set(RULES));
        let out = vm.http(&Request::get("/?q=hello"), &ok());
        assert_passed(&out, b"");
        assert_eq!(addresses(&out), 0, "{p:?}: {:?}", out.properties_read);
        let out = vm.http(&Request::get("/").header("x-attack", "1"), &ok());
        assert_blocked(&out, 403, 1001);
        let audit = out
            .logs
            .iter()
            .find_map(|l| l.message.strip_prefix("wafer-audit: "))
            .expect("a 403 is audited");
        assert!(
            audit.contains("\"client_ip\":\"192.0.2.10\""),
            "{p:?}: {audit}"
        );
        assert!(audit.contains("\"client_port\":40000"), "{p:?}: {audit}");
        assert!(addresses(&out) >= 2, "{p:?}: {:?}", out.properties_read);
    }
}
