//! Scenarios that prove the host with the probe filter (`fixtures/probe`), in both
//! personalities. The probe is built for wasm32-wasip1 on first use.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use wafer_host_test::{
    HostOptions, HttpCallResponse, LogLevel, Outcome, Personality, Plugin, Request, Response,
};

const BOTH: [Personality; 2] = [Personality::Envoy, Personality::Nginx];

fn probe() -> Plugin {
    static PLUGIN: OnceLock<Plugin> = OnceLock::new();
    PLUGIN
        .get_or_init(|| {
            let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            let fixture = here.join("fixtures/probe");
            let target = here.join("../target/probe");
            let status = Command::new(env!("CARGO"))
                .args(["build", "--target", "wasm32-wasip1", "--release", "--quiet"])
                .arg("--target-dir")
                .arg(&target)
                .current_dir(&fixture)
                .env_remove("RUSTFLAGS")
                .env_remove("CARGO_ENCODED_RUSTFLAGS")
                .status()
                .expect("run cargo for the probe");
            assert!(status.success(), "probe build failed");
            Plugin::load(target.join("wasm32-wasip1/release/probe.wasm")).expect("load probe")
        })
        .with_fresh_state()
}

fn vm(p: Personality) -> (Plugin, wafer_host_test::Vm) {
    let plugin = probe();
    let vm = plugin.start(HostOptions::new(p), b"ok").expect("configure");
    (plugin, vm)
}

fn upstream_header(out: &Outcome, name: &str) -> Option<String> {
    out.upstream
        .as_ref()?
        .headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn hook_names(out: &Outcome) -> Vec<String> {
    out.hooks
        .iter()
        .map(|h| h.split(['[', ' ']).next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn configure_succeeds_and_fails_with_logs() {
    for p in BOTH {
        let plugin = probe();
        let vm = plugin.start(HostOptions::new(p), b"ok").unwrap();
        assert!(vm
            .logs()
            .iter()
            .any(|l| l.message == "configured root_id=wafer"));
        let e = plugin
            .start(HostOptions::new(p), b"fail please")
            .err()
            .expect("configure must fail");
        assert!(e.message.contains("proxy_on_configure returned false"));
        assert!(e
            .logs
            .iter()
            .any(|l| l.level == LogLevel::Error && l.message == "bad config: fail please"));
    }
}

#[test]
fn get_properties_and_headers_per_personality() {
    let (_, mut envoy) = vm(Personality::Envoy);
    let out = envoy.http(
        &Request::get("/a%41?b=1").header("User-Agent", "curl"),
        &Response::ok("hi"),
    );
    assert_eq!(out.status(), Some(200));
    assert_eq!(upstream_header(&out, "x-probe-path").unwrap(), "/a%41?b=1");
    assert_eq!(upstream_header(&out, "x-probe-url-path").unwrap(), "/a%41");
    assert_eq!(
        upstream_header(&out, "x-probe-source").unwrap(),
        "192.0.2.10:40000"
    );
    assert_eq!(
        upstream_header(&out, "x-probe-source-port").unwrap(),
        "i64:40000"
    );
    assert_eq!(
        upstream_header(&out, "x-probe-authority").unwrap(),
        "example.com"
    );
    assert_eq!(
        upstream_header(&out, "x-probe-host").unwrap(),
        "example.com"
    );
    assert_eq!(upstream_header(&out, "x-probe-root").unwrap(), "wafer");
    assert_eq!(upstream_header(&out, "x-probe-ua").unwrap(), "curl");
    assert_eq!(upstream_header(&out, "x-probe-eos").unwrap(), "1");
    assert!(upstream_header(&out, "x-request-id").is_some());
    assert_eq!(upstream_header(&out, ":method").unwrap(), "GET");
    let c = out.client.as_ref().unwrap();
    assert!(c.complete);
    assert_eq!(c.body, b"hi");
    assert!(c
        .headers
        .iter()
        .any(|(k, v)| k == "x-probe-seen" && v == "1"));
    assert_eq!(
        hook_names(&out)[hook_names(&out).len() - 3..],
        ["on_done", "on_log", "on_delete"]
    );

    let (_, mut nginx) = vm(Personality::Nginx);
    let out = nginx.http(
        &Request::get("/a%41?b=1").header("User-Agent", "curl"),
        &Response::ok("hi"),
    );
    assert_eq!(out.status(), Some(200));
    assert_eq!(upstream_header(&out, "x-probe-path").unwrap(), "/a%41?b=1");
    assert_eq!(upstream_header(&out, "x-probe-url-path").unwrap(), "/aA");
    assert_eq!(
        upstream_header(&out, "x-probe-source").unwrap(),
        "192.0.2.10"
    );
    assert_eq!(
        upstream_header(&out, "x-probe-source-port").unwrap(),
        "40000"
    );
    assert_eq!(
        upstream_header(&out, "x-probe-authority").unwrap(),
        "localhost:8080"
    );
    assert_eq!(
        upstream_header(&out, "x-probe-host").unwrap(),
        "wafer-test-host"
    );
    assert_eq!(upstream_header(&out, "x-probe-ua").unwrap(), "curl");
    assert!(
        upstream_header(&out, ":method").is_none(),
        "pseudo-headers stay in nginx"
    );
    assert!(
        upstream_header(&out, "User-Agent").is_some(),
        "nginx keeps header case"
    );
    assert_eq!(
        hook_names(&out)[hook_names(&out).len() - 3..],
        ["on_log", "on_done", "on_delete"]
    );
    assert!(out.logged("on_log ctx="));
}

#[test]
fn end_of_stream_on_headers_differs() {
    let body = Request::post("/p", "a=1");
    let (_, mut envoy) = vm(Personality::Envoy);
    let out = envoy.http(&body, &Response::ok(""));
    assert_eq!(upstream_header(&out, "x-probe-eos").unwrap(), "0");
    assert_eq!(out.upstream_body(), b"a=1");
    // Nginx passes end_of_stream = 1 even with a body (NGX_HTTP_PROXY_WASM_EOF).
    let (_, mut nginx) = vm(Personality::Nginx);
    let out = nginx.http(&body, &Response::ok(""));
    assert_eq!(upstream_header(&out, "x-probe-eos").unwrap(), "1");
    assert_eq!(out.upstream_body(), b"a=1");
    assert!(out
        .hooks
        .iter()
        .any(|h| h == "on_request_body[3, 1] = Continue"));
}

#[test]
fn block_at_headers_goes_through_response_hooks() {
    for p in BOTH {
        let (_, mut vm) = vm(p);
        let out = vm.http(
            &Request::post("/x", "body").header("x-probe-block", "418"),
            &Response::ok("never"),
        );
        assert!(out.upstream.is_none(), "{p:?}");
        let local = out.local_response.as_ref().unwrap();
        assert_eq!(local.status, 418);
        let c = out.client.as_ref().unwrap();
        assert_eq!(c.status, 418);
        assert_eq!(c.body, b"blocked");
        assert!(c
            .headers
            .iter()
            .any(|(k, v)| k == "x-probe" && v == "blocked"));
        assert!(c.headers.iter().any(|(k, _)| k == "x-probe-seen"), "{p:?}");
        assert!(!hook_names(&out).contains(&"on_request_body".to_string()));
        assert!(out.logged("blocked=true"));
    }
}

#[test]
fn paused_body_split_at_awkward_places() {
    let req = || {
        Request::post("/up", "xxEVILyy")
            .header("x-probe-body", "hold")
            .split_body_at(&[1, 3, 4, 7])
    };
    let (_, mut envoy) = vm(Personality::Envoy);
    let out = envoy.http(&req(), &Response::ok("ok"));
    assert_eq!(out.status(), Some(403));
    let up = out.upstream.as_ref().expect("the headers went on");
    assert!(
        up.body.is_empty() && !up.complete,
        "held body never reaches upstream"
    );
    let bodies: Vec<&String> = out
        .hooks
        .iter()
        .filter(|h| h.starts_with("on_request_body"))
        .collect();
    // Cumulative buffered sizes, end of stream only on the last chunk.
    assert_eq!(
        bodies,
        [
            "on_request_body[1, 0] = Pause",
            "on_request_body[3, 0] = Pause",
            "on_request_body[4, 0] = Pause",
            "on_request_body[7, 0] = Pause",
            "on_request_body[8, 1] = Pause",
        ]
    );

    let (_, mut nginx) = vm(Personality::Nginx);
    let out = nginx.http(&req(), &Response::ok("ok"));
    assert_eq!(out.status(), Some(403));
    assert_eq!(
        out.hooks
            .iter()
            .filter(|h| h.starts_with("on_request_body"))
            .count(),
        1
    );

    for p in BOTH {
        let (_, mut vm) = vm(p);
        let out = vm.http(
            &Request::post("/up", "benign body")
                .header("x-probe-body", "hold")
                .split_body_at(&[5, 6]),
            &Response::ok("ok"),
        );
        assert_eq!(out.status(), Some(200), "{p:?}");
        let up = out.upstream.as_ref().unwrap();
        assert!(up.complete);
        assert_eq!(up.body, b"benign body");
    }
}

#[test]
fn headers_ending_the_stream_with_hold() {
    for p in BOTH {
        let (_, mut vm) = vm(p);
        let out = vm.http(
            &Request::get("/").header("x-probe-body", "hold"),
            &Response::ok("ok"),
        );
        assert_eq!(out.status(), Some(200), "{p:?}");
        assert!(out.upstream.as_ref().unwrap().complete);
        assert!(!out.request_stalled);
    }
}

#[test]
fn trailers_envoy_only() {
    let req = Request::post("/t", "abc")
        .split_body_at(&[1])
        .trailer("x-verdict", "deny");
    let (_, mut envoy) = vm(Personality::Envoy);
    let out = envoy.http(&req, &Response::ok("ok"));
    assert_eq!(out.status(), Some(403));
    assert!(out
        .hooks
        .contains(&"on_request_body[2, 0] = Continue".to_string()));
    assert!(out
        .hooks
        .contains(&"on_request_trailers[1] = Pause".to_string()));
    // Body was streamed (Continue) before the trailers blocked: the upstream saw it, incomplete.
    let up = out.upstream.as_ref().unwrap();
    assert_eq!(up.body, b"abc");
    assert!(!up.complete);

    let ok = Request::post("/t", "abc").trailer("x-verdict", "fine");
    let out = envoy.http(&ok, &Response::ok("ok").trailer("grpc-status", "0"));
    let up = out.upstream.as_ref().unwrap();
    assert!(up.complete);
    assert_eq!(up.trailers, [("x-verdict".to_string(), "fine".to_string())]);
    assert_eq!(out.client.as_ref().unwrap().trailers.len(), 1);

    // ngx_wasm_module never calls the trailer hooks.
    let (_, mut nginx) = vm(Personality::Nginx);
    let out = nginx.http(&req, &Response::ok("ok"));
    assert_eq!(out.status(), Some(200));
    assert!(!hook_names(&out).contains(&"on_request_trailers".to_string()));
    assert!(out.upstream.as_ref().unwrap().trailers.is_empty());
}

#[test]
fn envoy_headers_pause_with_a_body_stalls_without_body_callbacks() {
    // proxy-wasm-cpp-host turns a headers Pause into StopAllIterationAndWatermark: Envoy
    // buffers the body and never calls the body hook.
    let (_, mut envoy) = vm(Personality::Envoy);
    let req = Request::post("/up", "xxEVILyy").header("x-probe-body", "pause-headers");
    let out = envoy.http(&req, &Response::ok("ok"));
    assert!(out.request_stalled, "{out:#?}");
    assert!(out.upstream.is_none());
    assert!(!out.hooks.iter().any(|h| h.starts_with("on_request_body")));
}

#[test]
fn response_body_hold_replace_and_block() {
    let req = || Request::get("/r").header("x-probe-resp", "hold");
    let (_, mut envoy) = vm(Personality::Envoy);
    let out = envoy.http(&req(), &Response::ok("hello world").split_body_at(&[3, 7]));
    let c = out.client.as_ref().unwrap();
    assert_eq!(c.status, 200);
    assert_eq!(c.body, b"HELLO WORLD");
    assert!(c.complete);
    let out = envoy.http(&req(), &Response::ok("top SECRET data").split_body_at(&[5]));
    // The headers went out before the body was judged: a phase-4 block resets the stream
    // and not one body byte reaches the client.
    assert!(out.reset, "{out:#?}");
    let c = out.client.as_ref().unwrap();
    assert_eq!(c.status, 200);
    assert!(c.body.is_empty() && !c.complete);

    // Nginx cannot pause response phases: chunks pass as they come, a late block resets.
    let (_, mut nginx) = vm(Personality::Nginx);
    let out = nginx.http(&req(), &Response::ok("hello world").split_body_at(&[3, 7]));
    // Only the last chunk is still in the filter's hands when it replaces "the" body.
    assert_eq!(out.client.as_ref().unwrap().body, b"hello wORLD");
    assert!(out.logged("not supported in response phases"));
    let out = nginx.http(&req(), &Response::ok("top SECRET data").split_body_at(&[2]));
    assert!(out.reset);
    assert_eq!(out.local_response.as_ref().unwrap().status, 403);
    assert_eq!(out.status(), Some(200));
}

#[test]
fn http_call_answered_by_the_test() {
    for p in BOTH {
        let (_, mut vm) = vm(p);
        vm.on_http_call(|call| {
            assert_eq!(call.upstream, "auth");
            Some(HttpCallResponse {
                headers: vec![(":status".into(), "200".into())],
                body: b"yes".to_vec(),
                trailers: vec![],
            })
        });
        let out = vm.http(
            &Request::get("/c").header("x-probe-call", "1"),
            &Response::ok("ok"),
        );
        assert_eq!(out.http_calls.len(), 1, "{p:?}");
        assert!(out.logged("answered 200 body=yes"));
        assert_eq!(out.status(), Some(200), "{p:?}");

        vm.on_http_call(|_| {
            Some(HttpCallResponse {
                headers: vec![(":status".into(), "403".into())],
                ..Default::default()
            })
        });
        let out = vm.http(
            &Request::get("/c").header("x-probe-call", "1"),
            &Response::ok("ok"),
        );
        assert_eq!(out.status(), Some(401));

        vm.on_http_call(|_| None);
        let out = vm.http(
            &Request::get("/c").header("x-probe-call", "1"),
            &Response::ok("ok"),
        );
        assert!(out.request_stalled);
        assert!(out.client.is_none());
    }
}

#[test]
fn close_stream_and_traps() {
    let (_, mut envoy) = vm(Personality::Envoy);
    let out = envoy.http(
        &Request::get("/").header("x-probe-close", "1"),
        &Response::ok(""),
    );
    assert!(out.reset);
    assert!(out.upstream.is_none());
    // proxy_close_stream is not implemented by ngx_wasm_module: the call traps → 500.
    let (_, mut nginx) = vm(Personality::Nginx);
    let out = nginx.http(
        &Request::get("/").header("x-probe-close", "1"),
        &Response::ok(""),
    );
    assert!(out.trap.as_deref().unwrap_or_default().contains("NYI"));
    assert_eq!(out.status(), Some(500));

    let out = envoy.http(
        &Request::get("/").header("x-probe-panic", "1"),
        &Response::ok(""),
    );
    assert!(out.trap.is_some());
    assert_eq!(out.status(), Some(503));
    assert!(
        out.logged("probe asked to panic"),
        "panic message reaches the log via stderr"
    );
}

#[test]
fn metrics_shared_data_queues_and_tick() {
    for p in BOTH {
        let plugin = probe();
        let mut a = plugin.start(HostOptions::new(p), b"tick").unwrap();
        let mut b = plugin.start(HostOptions::new(p), b"tick").unwrap();
        a.http(&Request::get("/1"), &Response::ok(""));
        b.http(&Request::get("/2"), &Response::ok(""));
        a.http(&Request::get("/3"), &Response::ok(""));
        assert_eq!(plugin.metric("probe_requests"), Some(3), "{p:?}");
        assert_eq!(
            plugin.shared_data(b"probe_count").as_deref(),
            Some(&b"3"[..])
        );
        assert_eq!(a.tick_period_ms(), 1000);
        assert!(a.tick().unwrap());
        assert!(a.logs().iter().any(|l| l.message == "tick dequeued=3"));
    }
}

#[test]
fn buffer_limits() {
    let mut opts = HostOptions::new(Personality::Envoy);
    opts.buffer_limit = 10;
    let plugin = probe();
    let mut vm = plugin.start(opts, b"ok").unwrap();
    let out = vm.http(
        &Request::post("/big", vec![b'a'; 30])
            .header("x-probe-body", "hold")
            .split_body_at(&[8, 16]),
        &Response::ok(""),
    );
    assert_eq!(out.status(), Some(413));
    let up = out.upstream.as_ref().expect("the headers went on");
    assert!(up.body.is_empty() && !up.complete);

    // Nginx: a body beyond client_body_buffer_size is in a temp file, unreadable.
    let mut opts = HostOptions::new(Personality::Nginx);
    opts.nginx_client_body_buffer_size = 4;
    let mut vm = plugin.start(opts, b"ok").unwrap();
    let out = vm.http(
        &Request::post("/big", "hello EVIL").header("x-probe-body", "hold"),
        &Response::ok(""),
    );
    assert!(out.logged("request body read=None"));
    assert_eq!(out.status(), Some(200));
}
