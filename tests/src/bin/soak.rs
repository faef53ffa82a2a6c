//! `soak`: many requests of mixed benign and attack traffic through one long-lived VM of the
//! real filter (`dist/wafer.wasm`) under host-test, with the embedded OWASP CRS.
//!
//! What it checks, and exits non-zero on:
//! - every request's result (client status, whether the request reached the upstream, the
//!   stream reset flag, and the sorted ids of the rules it logged) is identical to the result
//!   of the same request on a fresh VM (one fresh VM per distinct request, so no history);
//! - the wasm linear memory stays flat: after the warm-up (ten passes over the mix or 1 % of
//!   the run, whichever is longer) it never grows by more than `--growth-kib` (default 0).
//!
//! It prints requests, wall time, µs per request, and memory after configure, after warm-up
//! and at the end. Usage:
//! `soak [--requests N] [--paranoia 1-4] [--personality envoy|nginx] [--growth-kib K]`
//! (`make soak` runs the short CI version; the README gives the long run's figures).

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Instant;

use wafer_host_test::{HostOptions, Outcome, Personality, Plugin, Request, Response, Vm};
use wafer_tests::target_wasm::wasm_path;

/// What one exchange came to, without what legitimately differs (ids, times).
#[derive(Debug, PartialEq, Eq)]
struct Result {
    status: Option<u32>,
    reached_upstream: bool,
    reset: bool,
    trapped: bool,
    rule_ids: BTreeSet<u64>,
}

fn result_of(out: &Outcome) -> Result {
    let rule_ids = out
        .logs
        .iter()
        .flat_map(|l| wafer::audit::rule_ids(&l.message))
        .collect();
    Result {
        status: out.status(),
        reached_upstream: out.upstream.as_ref().is_some_and(|u| u.complete),
        reset: out.reset,
        trapped: out.trap.is_some(),
        rule_ids,
    }
}

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

fn browser(r: Request) -> Request {
    r.header("user-agent", UA)
        .header("accept", "text/html,application/xhtml+xml")
        .header("accept-language", "en-GB,en;q=0.8")
}

fn form(path: &str, body: &str) -> Request {
    browser(Request::post(path, body)).header("content-type", "application/x-www-form-urlencoded")
}

fn json(path: &str, body: &str) -> Request {
    browser(Request::post(path, body)).header("content-type", "application/json")
}

/// The traffic mix: (name, request, upstream answer). Roughly two thirds benign.
fn mix() -> Vec<(&'static str, Request, Response)> {
    let page = || Response::new(200, "text/html", "<html><body>hello</body></html>");
    let multipart = "--b0undary\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n\
                     holiday\r\n--b0undary\r\nContent-Disposition: form-data; name=\"file\"; \
                     filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nsome text\r\n\
                     --b0undary--\r\n";
    let big_json = format!(
        "{{\"items\": [{}]}}",
        (0..60)
            .map(|i| format!("{{\"id\": {i}, \"name\": \"item {i}\", \"tags\": [\"a\", \"b\"]}}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    vec![
        ("get-home", browser(Request::get("/")), page()),
        (
            "get-5-args",
            browser(Request::get(
                "/search?q=shoes&page=2&sort=price&lang=en&size=42",
            )),
            page(),
        ),
        (
            "get-cookie",
            browser(Request::get("/account")).header("cookie", "session=abc123; theme=dark"),
            page(),
        ),
        (
            "post-login",
            form("/login", "username=alice&password=correct+horse"),
            page(),
        ),
        (
            "post-comment",
            form("/comment", "text=Nice+article%2C+thanks%21&name=bob"),
            page(),
        ),
        ("post-json", json("/api/items", &big_json), page()),
        (
            "post-multipart",
            browser(Request::post("/upload", multipart))
                .header("content-type", "multipart/form-data; boundary=b0undary"),
            page(),
        ),
        (
            "get-static",
            browser(Request::get("/static/app.js?v=3")),
            Response::new(200, "application/javascript", "console.log(1)"),
        ),
        (
            "sqli-query",
            browser(Request::get("/item?id=1%27%20or%20%271%27%3D%271")),
            page(),
        ),
        (
            "sqli-login",
            form("/login", "username=admin%27+or+true+--+&password=x"),
            page(),
        ),
        (
            "xss-query",
            browser(Request::get("/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")),
            page(),
        ),
        (
            "xss-json",
            json(
                "/api/comment",
                "{\"text\": \"<img src=x onerror=alert(1)>\"}",
            ),
            page(),
        ),
        (
            "traversal",
            browser(Request::get("/download?file=..%2F..%2F..%2Fetc%2Fpasswd")),
            page(),
        ),
        (
            "rce",
            form("/ping", "host=127.0.0.1%3Bcat+%2Fetc%2Fpasswd"),
            page(),
        ),
        (
            "scanner-ua",
            Request::get("/").header("user-agent", "sqlmap/1.7"),
            page(),
        ),
        (
            "leak-response",
            browser(Request::get("/report")),
            Response::new(
                200,
                "text/html",
                "<html>Warning: mysql_fetch_array() expects parameter 1</html>",
            ),
        ),
    ]
}

struct Options {
    requests: u64,
    paranoia: u8,
    personality: Personality,
    growth_kib: usize,
}

fn parse_args() -> std::result::Result<Options, String> {
    let mut o = Options {
        requests: 20_000,
        paranoia: 1,
        personality: Personality::Envoy,
        growth_kib: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--requests" => o.requests = value()?.parse().map_err(|e| format!("{a}: {e}"))?,
            "--paranoia" => {
                o.paranoia = value()?.parse().map_err(|e| format!("{a}: {e}"))?;
                if !(1..=4).contains(&o.paranoia) {
                    return Err("--paranoia is 1 to 4".into());
                }
            }
            "--personality" => {
                o.personality = match value()?.as_str() {
                    "envoy" => Personality::Envoy,
                    "nginx" => Personality::Nginx,
                    other => return Err(format!("unknown personality {other}")),
                }
            }
            "--growth-kib" => o.growth_kib = value()?.parse().map_err(|e| format!("{a}: {e}"))?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

fn config(paranoia: u8) -> String {
    format!(
        r#"{{"directives_map": {{"default": ["Include @recommended-conf",
        "Include @crs-setup-conf",
        "SecAction \"id:900000,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level={paranoia}\"",
        "Include @owasp_crs/*.conf"]}}, "default_directives": "default"}}"#
    )
}

fn start(plugin: &Plugin, o: &Options) -> std::result::Result<Vm, String> {
    plugin
        .start(
            HostOptions::new(o.personality),
            config(o.paranoia).as_bytes(),
        )
        .map_err(|e| format!("configure: {e}"))
}

fn run(o: &Options) -> std::result::Result<(), String> {
    let path = wasm_path();
    let plugin = Plugin::load(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let traffic = mix();

    // Expected results: each request on a VM of its own.
    let mut expected = Vec::new();
    for (name, req, resp) in &traffic {
        let mut fresh = start(&plugin, o)?;
        let r = result_of(&fresh.http(req, resp));
        if r.trapped {
            return Err(format!("{name}: the filter trapped on a fresh VM"));
        }
        expected.push(r);
    }
    let blocked = expected
        .iter()
        .filter(|r| r.status == Some(403) || r.reset)
        .count();
    println!(
        "soak: {} distinct requests ({} blocked or reset on a fresh VM), PL{}, {:?}",
        traffic.len(),
        blocked,
        o.paranoia,
        o.personality
    );

    let mut vm = start(&plugin, o)?;
    let after_configure = vm.memory_size();
    let mut after_warmup = after_configure;
    let started = Instant::now();
    let mut mismatches = 0u64;
    let report_every = (o.requests / 10).clamp(1, 100_000);
    // Warm-up: ten passes over the mix or 1 % of the run, whichever is longer (the allocator
    // settles over the first few hundred requests).
    let warmup = (traffic.len() as u64 * 10).max(o.requests / 100);
    for i in 0..o.requests {
        let k = (i % traffic.len() as u64) as usize;
        let (name, req, resp) = &traffic[k];
        let got = result_of(&vm.http(req, resp));
        if got != expected[k] {
            mismatches += 1;
            if mismatches <= 5 {
                eprintln!(
                    "soak: request {i} ({name}) differs from a fresh VM:\n  got      {got:?}\n  \
                     expected {:?}",
                    expected[k]
                );
            }
        }
        if i + 1 == warmup {
            after_warmup = vm.memory_size();
        }
        if i % report_every == report_every - 1 {
            let done = i + 1;
            println!(
                "soak: {done} requests, {:.0} µs/request, memory {} KiB",
                started.elapsed().as_secs_f64() * 1e6 / done as f64,
                vm.memory_size() / 1024
            );
        }
    }
    let elapsed = started.elapsed();
    let end = vm.memory_size();
    println!(
        "soak: {} requests in {:.1} s ({:.0} µs/request); linear memory: {} KiB after \
         configure, {} KiB after warm-up, {} KiB at the end; {} results differ \
         from a fresh VM",
        o.requests,
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / o.requests.max(1) as f64,
        after_configure / 1024,
        after_warmup / 1024,
        end / 1024,
        mismatches
    );
    // Linear memory never shrinks, so the end is the peak.
    let growth = end.saturating_sub(after_warmup);
    if mismatches > 0 {
        return Err(format!("{mismatches} results differ from a fresh VM"));
    }
    if growth > o.growth_kib * 1024 {
        return Err(format!(
            "linear memory grew by {} KiB after the warm-up (allowed {} KiB)",
            growth / 1024,
            o.growth_kib
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&o) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("soak: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
