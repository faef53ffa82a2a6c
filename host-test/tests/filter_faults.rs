//! The fault policy and configuration reload, on the real module.
//!
//! A panic inside the filter is injected with the fault-injection build
//! (`dist/wafer-fault.wasm`, feature `fault-injection`: a request header
//! `x-wafer-fault: <hook>` panics in that hook). What must hold: the request is refused
//! (never passed on uninspected), the fault is logged at critical with the request's id,
//! and what follows is the host's failure policy (Envoy `failure_policy`; Nginx recycles the
//! instance). The production build must ignore the header.
//! Reload: a broken configuration delivered to a running plugin is refused with one clear
//! line and the previous rules stay in force; a good one replaces them.

mod filter_common;

use filter_common::{fault_wasm_path, filter_logs, one_set, plugin, start, start_with, BOTH};
use std::sync::OnceLock;
use wafer_host_test::{
    FailurePolicy, HostOptions, LogLevel, Outcome, Personality, Plugin, Request, Response, Vm,
};

/// Blocks `attack` in any argument; inspects request and response bodies.
const RULES: &[&str] = &[
    "SecRuleEngine On",
    "SecRequestBodyAccess On",
    "SecResponseBodyAccess On",
    "SecResponseBodyMimeType text/plain",
    "SecRule ARGS \"@contains attack\" \"id:10,phase:2,deny,status:403,log\"",
];

fn fault_plugin() -> Plugin {
    static PLUGIN: OnceLock<Plugin> = OnceLock::new();
    PLUGIN
        .get_or_init(|| {
            let path = fault_wasm_path();
            Plugin::load(&path).unwrap_or_else(|e| panic!("load {}: {e}", path.display()))
        })
        .with_fresh_state()
}

fn faulty(hook: &str, id: &str) -> Request {
    Request::post("/form", "name=alice")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-request-id", id)
        .header("x-wafer-fault", hook)
}

fn benign() -> Request {
    Request::get("/?q=hello")
}

fn attack() -> Request {
    Request::get("/?q=attack")
}

fn ok() -> Response {
    Response::ok("fine")
}

fn vm(p: Personality, policy: FailurePolicy) -> Vm {
    let mut opts = HostOptions::new(p);
    opts.failure_policy = policy;
    start_with(&fault_plugin(), opts, &one_set(RULES))
}

/// The critical fault line, if the filter logged one.
fn fault_line(out: &Outcome) -> Option<String> {
    out.logs
        .iter()
        .find(|l| l.level == LogLevel::Critical && l.message.starts_with("wafer: internal fault"))
        .map(|l| l.message.clone())
}

#[test]
fn a_fault_in_any_request_hook_refuses_the_request_and_logs_its_id() {
    for p in BOTH {
        for hook in ["request_headers", "request_body"] {
            let mut vm = vm(p, FailurePolicy::FailClosed);
            let id = format!("fault-{hook}-{p:?}");
            let out = vm.http(&faulty(hook, &id), &ok());
            let refused = if p == Personality::Envoy { 503 } else { 500 };
            assert_eq!(out.status(), Some(refused), "{p:?} {hook}: {out:?}");
            assert!(out.trap.is_some(), "{p:?} {hook}: the VM traps");
            let body_reached = out.upstream.as_ref().is_some_and(|u| u.complete);
            assert!(
                !body_reached,
                "{p:?} {hook}: nothing complete reached the upstream"
            );
            let line = fault_line(&out).unwrap_or_else(|| panic!("{p:?} {hook}: {out:?}"));
            assert!(
                line.contains(&format!("internal fault in {hook}")),
                "{line}"
            );
            assert!(line.contains("injected fault"), "{line}");
            assert!(line.contains(&format!("[unique_id \"{id}\"]")), "{line}");
            assert!(line.contains("fail closed"), "{line}");
        }
    }
}

#[test]
fn a_fault_in_the_response_hooks_keeps_the_response_from_the_client() {
    for p in BOTH {
        for hook in ["response_headers", "response_body"] {
            let mut vm = vm(p, FailurePolicy::FailClosed);
            let req = benign()
                .header("x-request-id", "resp-fault")
                .header("x-wafer-fault", hook);
            let out = vm.http(&req, &Response::ok("secret response body"));
            assert!(out.trap.is_some(), "{p:?} {hook}");
            let got_body = out
                .client
                .as_ref()
                .is_some_and(|c| c.complete && c.body == b"secret response body");
            assert!(!got_body, "{p:?} {hook}: the response passed: {out:?}");
            let line = fault_line(&out).unwrap_or_else(|| panic!("{p:?} {hook}: {out:?}"));
            assert!(line.contains("[unique_id \"resp-fault\"]"), "{line}");
        }
    }
}

#[test]
fn envoy_fail_closed_refuses_everything_after_a_fault() {
    let mut vm = vm(Personality::Envoy, FailurePolicy::FailClosed);
    assert_eq!(vm.http(&benign(), &ok()).status(), Some(200));
    vm.http(&faulty("request_headers", "f1"), &ok());
    assert!(vm.failed());
    vm.advance_time(60_000_000_000);
    for req in [benign(), attack()] {
        let out = vm.http(&req, &ok());
        assert_eq!(out.status(), Some(503), "{out:?}");
        assert!(out.upstream.is_none());
    }
    assert_eq!(vm.restarts(), 0);
}

#[test]
fn envoy_fail_reload_refuses_during_the_backoff_then_serves_with_the_same_rules() {
    let mut vm = vm(Personality::Envoy, FailurePolicy::FailReload);
    vm.http(&faulty("request_body", "f2"), &ok());
    assert_eq!(
        vm.http(&benign(), &ok()).status(),
        Some(503),
        "within the backoff"
    );
    vm.advance_time(1_000_000_000);
    let out = vm.http(&benign(), &ok());
    assert_eq!(out.status(), Some(200), "{out:?}");
    assert_eq!(vm.restarts(), 1);
    let out = vm.http(&attack(), &ok());
    assert_eq!(
        out.status(),
        Some(403),
        "the fresh VM has the rules: {out:?}"
    );
    assert!(!vm.failed());
}

#[test]
fn envoy_fail_open_lets_attacks_through_which_is_why_our_configs_never_use_it() {
    let mut vm = vm(Personality::Envoy, FailurePolicy::FailOpen);
    vm.http(&faulty("request_headers", "f3"), &ok());
    let out = vm.http(&attack(), &ok());
    assert_eq!(out.status(), Some(200));
    assert!(out.upstream.is_some());
}

#[test]
fn nginx_gives_the_next_request_a_fresh_instance() {
    let mut vm = vm(Personality::Nginx, FailurePolicy::FailClosed);
    assert_eq!(
        vm.http(&faulty("request_body", "f4"), &ok()).status(),
        Some(500)
    );
    assert_eq!(vm.http(&attack(), &ok()).status(), Some(403));
    assert_eq!(vm.http(&benign(), &ok()).status(), Some(200));
    assert_eq!(vm.restarts(), 1);
}

#[test]
fn without_a_fault_the_test_build_behaves_as_the_product() {
    for p in BOTH {
        let mut vm = vm(p, FailurePolicy::FailClosed);
        assert_eq!(vm.http(&benign(), &ok()).status(), Some(200));
        assert_eq!(vm.http(&attack(), &ok()).status(), Some(403));
        let out = vm.http(&benign().header("x-wafer-fault", "no_such_hook"), &ok());
        assert_eq!(out.status(), Some(200));
        assert!(fault_line(&out).is_none() && out.trap.is_none());
    }
}

#[test]
fn the_product_ignores_the_fault_header() {
    for p in BOTH {
        let mut vm = start(&plugin(), p, &one_set(RULES));
        for hook in ["request_headers", "request_body", "response_headers", "log"] {
            let out = vm.http(&faulty(hook, "prod"), &ok());
            assert_eq!(out.status(), Some(200), "{p:?} {hook}: {out:?}");
            assert!(out.trap.is_none() && fault_line(&out).is_none());
        }
    }
}

#[test]
fn a_broken_reload_keeps_the_previous_rules_and_a_good_one_replaces_them() {
    for p in BOTH {
        let mut vm = start(&plugin(), p, &one_set(RULES));
        let broken = one_set(&["SecRuleEngine On", "SecRule ARGS \"@rx (\" \"id:20,deny\""]);
        assert_eq!(vm.reconfigure(broken.as_bytes()).ok(), Some(false), "{p:?}");
        let line = vm
            .logs()
            .iter()
            .rev()
            .find(|l| l.message.starts_with("wafer: configuration rejected"))
            .map(|l| l.message.clone())
            .unwrap_or_else(|| panic!("{p:?}: no rejection line"));
        assert!(line.contains("main:2"), "names the set and line: {line}");
        assert!(line.ends_with("unclosed group"), "one line: {line}");
        let out = vm.http(&attack(), &ok());
        assert_eq!(out.status(), Some(403), "{p:?}: old rules still in force");

        let replacement = one_set(&[
            "SecRuleEngine On",
            "SecRule ARGS \"@contains intrusion\" \"id:30,phase:1,deny,status:418\"",
        ]);
        assert_eq!(vm.reconfigure(replacement.as_bytes()).ok(), Some(true));
        assert_eq!(vm.http(&attack(), &ok()).status(), Some(200), "{p:?}");
        let out = vm.http(&Request::get("/?q=intrusion"), &ok());
        assert_eq!(out.status(), Some(418), "{p:?}: {:?}", filter_logs(&out));
    }
}
