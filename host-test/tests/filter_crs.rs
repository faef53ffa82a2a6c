//! The seed tutorial through the real filter with the embedded OWASP CRS, in both
//! personalities: `@recommended-conf`, `@crs-setup-conf` and `@owasp_crs/*.conf` at PL1; a
//! login POST with `' or true -- ` is blocked with 942100 in the log, a benign one passes.
//!
//! Also notes (printed with `--nocapture`) the cost figures issue 4 and 5 ask for: configure
//! time with the full CRS under wasmtime, linear memory after configure and after traffic,
//! and microseconds per benign GET. The timings are printed, not asserted (shared machines
//! vary); memory has a generous ceiling. Not here: the CRS regression suite (the
//! conformance runner's `--target wasm` runs it).

mod filter_common;

use std::time::Instant;

use filter_common::*;
use wafer_host_test::{Personality, Request, Response};

const TUTORIAL: &str = r#"{"directives_map": {"default": ["Include @recommended-conf",
    "Include @crs-setup-conf", "Include @owasp_crs/*.conf"]}, "default_directives": "default"}"#;

fn login(user: &str) -> Request {
    let body = format!("username={user}&password=hunter2");
    Request::post("/login", body.as_str())
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
        )
        .header("accept", "text/html")
}

#[test]
fn seed_tutorial_sqli_login_is_blocked_and_benign_passes() {
    for p in BOTH {
        let plugin = plugin();
        let t = Instant::now();
        let mut vm = start(&plugin, p, TUTORIAL);
        let configure = t.elapsed();
        let after_configure = vm.memory_size();

        let out = vm.http(&login("admin%27+or+true+--+"), &Response::ok("welcome"));
        assert_eq!(out.status(), Some(403), "{p:?} {:#?}", out.logs);
        // The headers may have gone on (Envoy, see the adapter); the body never did.
        assert!(
            out.upstream
                .as_ref()
                .is_none_or(|u| u.body.is_empty() && !u.complete),
            "{p:?}: the upstream saw {:?}",
            out.upstream
        );
        let ids = logged_rule_ids(&out);
        assert!(ids.contains(&942100), "{p:?}: {ids:?}");
        assert!(
            ids.contains(&949110),
            "{p:?}: inbound anomaly score: {ids:?}"
        );
        assert!(out.logged("wafer-audit: "), "{p:?}: audit record");
        assert_eq!(plugin.metric("wafer.rule.matches_ruleid=942100"), Some(1));

        let out = vm.http(&login("alice"), &Response::ok("welcome"));
        assert_eq!(out.status(), Some(200), "{p:?} {:#?}", out.logs);
        assert_eq!(client_body(&out), b"welcome");
        assert!(logged_rule_ids(&out).is_empty(), "{p:?} {:#?}", out.logs);

        // Benign GETs: cost per request, and memory after traffic.
        let get = Request::get("/products?id=42&sort=price")
            .header(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
            )
            .header("accept", "text/html");
        let n = 50;
        let t = Instant::now();
        for _ in 0..n {
            let out = vm.http(&get, &Response::ok("<html>ok</html>"));
            assert_eq!(out.status(), Some(200));
        }
        let per_request = t.elapsed() / n;
        let after_traffic = vm.memory_size();
        eprintln!(
            "{p:?}: full CRS PL1 configure {:.0} ms, linear memory {:.1} MiB after configure, \
             {:.1} MiB after traffic, benign GET {} µs",
            configure.as_secs_f64() * 1000.0,
            after_configure as f64 / 1048576.0,
            after_traffic as f64 / 1048576.0,
            per_request.as_micros()
        );
        assert!(
            after_traffic < 256 << 20,
            "{after_traffic} bytes of linear memory"
        );
    }
}

#[test]
fn detection_only_crs_passes_the_sqli_and_logs_it() {
    let cfg = r#"{"directives_map": {"d": ["Include @recommended-conf",
        "SecRuleEngine DetectionOnly", "Include @crs-setup-conf",
        "Include @owasp_crs/*.conf"]}}"#;
    let plugin = plugin();
    let mut vm = start(&plugin, Personality::Envoy, cfg);
    let out = vm.http(&login("admin%27+or+true+--+"), &Response::ok("welcome"));
    assert_eq!(out.status(), Some(200), "{:#?}", out.logs);
    assert!(logged_rule_ids(&out).contains(&942100));
    assert!(out.logged("detection-only: would have interrupted"));
}
