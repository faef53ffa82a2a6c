//! The issue-7 requests through `dist/wafer.wasm` under host-test (wasmtime, Envoy
//! personality), side by side with the native engine **in the same run**, plus what the
//! filter costs to start and how much linear memory it holds.
//!
//! ```sh
//! make wasm
//! cargo bench -p wafer-host-test --bench wasm            # ~1 minute
//! WAFER_WASM=path/to/other.wasm BENCH_MEMORY_REQUESTS=1000000 cargo bench -p wafer-host-test --bench wasm
//! # profiling: one request through wasm only, for ~10 s, functions named by perf
//! WAFER_WASM_PERFMAP=1 BENCH_PROFILE=get_5_args perf record -g cargo bench -p wafer-host-test --bench wasm
//! # instructions per request by wasm function: callgrind on the profile mode, with
//! # BENCH_PROFILE_REQUESTS=N for a fixed number of requests
//! bench/wasm-instructions.sh get_5_args
//! ```
//!
//! Per paranoia level (1 and 4) it prints: configure time (`Plugin::start`: instantiate and
//! `proxy_on_configure` with CRS, compiled by wasmtime beforehand), linear memory after
//! configure, then per request µs/request in wasm and natively, the ratio wasm ÷ native and
//! the floor (the same request through the module with the engine on and no rules: what
//! host-test and the adapter cost by themselves), and finally linear memory after
//! `BENCH_MEMORY_REQUESTS` (default 2,000) more requests cycling through the whole workload.
//! Each request is measured in alternating batches (wasm, native, floor, wasm, …) and the
//! median batch is reported, so all sides see the same machine load. The native side is
//! `common::run_native` (the engine driven as the adapter drives it, with the two headers
//! Envoy adds, `x-forwarded-proto` and `x-request-id`); the wasm side also pays for the
//! adapter (header maps, buffering, log lines and audit records of attacks) and for
//! host-test's own bookkeeping (it records every hook call), so the ratio is an upper bound
//! of the wasm penalty, and the floor shows how much of it is not the engine's.
//!
//! A harness-less bench (`harness = false`), not criterion: one VM is reused across
//! requests, as a proxy worker does, and memory and configure time are part of the report.
//! Nothing is asserted. Not here: the engine benchmarks (`filter/benches/engine.rs`) and the
//! whole proxy path (`make bench`).

#[path = "../../filter/benches/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use wafer_host_test::{HostOptions, LogLevel, Personality, Plugin, Request, Response, Vm};

/// The floor's plugin configuration: the engine on, no rules. A request through it pays for
/// host-test (hook calls, header maps, its records of each hook) and the adapter (reading the
/// request, the transaction, the log hook), not for rules.
const FLOOR_CONFIG: &[u8] =
    br#"{"directives_map":{"default":["SecRuleEngine On"]},"default_directives":"default"}"#;

/// Alternating batches per request and side.
const ROUNDS: usize = 5;
/// Target duration of one batch.
const BATCH: Duration = Duration::from_millis(150);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `req` with the headers host-test's Envoy personality adds, as Envoy does
/// (`x-forwarded-proto`, a generated `x-request-id`), so that the native side inspects the
/// same headers as the filter (two more values for every `REQUEST_HEADERS` rule).
fn as_envoy_forwards(req: &common::BenchRequest) -> common::BenchRequest {
    let mut r = req.clone();
    r.headers.push(("x-forwarded-proto", "http".to_string()));
    r.headers.push((
        "x-request-id",
        "00000000-0000-4000-8000-000000000001".to_string(),
    ));
    r
}

/// The host-test request for a workload request.
fn to_host(req: &common::BenchRequest) -> Request {
    let mut r = if req.body.is_empty() {
        Request::get(&req.uri)
    } else {
        Request::post(&req.uri, req.body.clone())
    };
    r = r.method(req.method);
    for (name, value) in &req.headers {
        // Request::post already set it.
        if !name.eq_ignore_ascii_case("content-length") {
            r = r.header(name, value);
        }
    }
    r
}

/// Median of `ROUNDS` batch means, in µs, for each closure, the closures taking turns.
fn alternate(fs: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    // Size batches from one timed call of each (after one warm-up call).
    let per = |f: &mut dyn FnMut()| {
        f();
        let t = Instant::now();
        f();
        t.elapsed().max(Duration::from_nanos(100))
    };
    let n: Vec<usize> = fs
        .iter_mut()
        .map(|f| (BATCH.as_nanos() / per(&mut **f).as_nanos()).clamp(1, 100_000) as usize)
        .collect();
    let mut times = vec![Vec::new(); fs.len()];
    for _ in 0..ROUNDS {
        for ((f, &n), t_f) in fs.iter_mut().zip(&n).zip(&mut times) {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            t_f.push(t.elapsed().as_secs_f64() * 1e6 / n as f64);
        }
    }
    times.iter_mut().map(|t| median(t)).collect()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn status_of(out: &wafer_host_test::Outcome) -> String {
    match &out.local_response {
        Some(l) => format!("blocked {}", l.status),
        None => match out.status() {
            Some(200) | None => "passed".into(),
            Some(s) => format!("status {s}"),
        },
    }
}

fn bench_pl(plugin: &Plugin, pl: u8, memory_requests: usize) {
    let mut opts = HostOptions::new(Personality::Envoy);
    // envoyctl runs Envoy with `--component-log-level wasm:info`.
    opts.log_level = LogLevel::Info;
    let config = common::plugin_config(pl);
    let t = Instant::now();
    let mut vm: Vm = match plugin.start(opts.clone(), config.as_bytes()) {
        Ok(vm) => vm,
        Err(e) => {
            eprintln!("PL{pl}: configure failed: {e:?}");
            return;
        }
    };
    let configure = t.elapsed();
    let after_configure = vm.memory_size();
    let t = Instant::now();
    let rules = common::compile(pl);
    let native_configure = t.elapsed();
    println!(
        "\nPL{pl}: configure {:.0} ms in wasm (instantiate + proxy_on_configure), {:.0} ms natively; \
         linear memory after configure {}",
        configure.as_secs_f64() * 1e3,
        native_configure.as_secs_f64() * 1e3,
        mib(after_configure)
    );
    // The same module and host options with no rules: what host-test and the adapter cost
    // by themselves.
    let Ok(mut floor) = plugin.start(opts, FLOOR_CONFIG) else {
        eprintln!("PL{pl}: the floor configuration failed");
        return;
    };
    println!(
        "  {:<15} {:>12} {:>12} {:>13} {:>9}  outcome (wasm / native)",
        "request", "wasm µs/req", "native µs", "wasm÷native", "floor µs"
    );
    let response = Response::ok(common::RESPONSE_BODY);
    let workload = common::requests();
    let mut served = 0usize;
    for req in &workload {
        let host_req = to_host(req);
        let out = vm.http(&host_req, &response);
        let native_req = as_envoy_forwards(req);
        let req = &native_req;
        let native = common::describe(&rules, req);
        let t = alternate(&mut [
            &mut || {
                black_box(vm.http(black_box(&host_req), &response));
                served += 1;
            },
            &mut || {
                black_box(common::run_native(black_box(&rules), black_box(req)));
            },
            &mut || {
                black_box(floor.http(black_box(&host_req), &response));
            },
        ]);
        let (wasm_us, native_us, floor_us) = (t[0], t[1], t[2]);
        println!(
            "  {:<15} {:>12.1} {:>12.1} {:>13.2} {:>9.1}  {} / {}",
            req.name,
            wasm_us,
            native_us,
            wasm_us / native_us,
            floor_us,
            status_of(&out),
            native,
        );
    }
    let before = vm.memory_size();
    let t = Instant::now();
    let hosts: Vec<Request> = workload.iter().map(to_host).collect();
    for i in 0..memory_requests {
        if let Some(r) = hosts.get(i % hosts.len()) {
            black_box(vm.http(r, &response));
        }
    }
    served += memory_requests;
    println!(
        "  linear memory: {} after configure, {} after the timed requests, {} after {} more \
         ({} requests in all; the extra ones took {:.1} s)",
        mib(after_configure),
        mib(before),
        mib(vm.memory_size()),
        memory_requests,
        served + workload.len(),
        t.elapsed().as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported (the run is short).
    let wasm = std::env::var_os("WAFER_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist/wafer.wasm"));
    if !wasm.exists() {
        eprintln!("{} not found: run `make wasm` first", wasm.display());
        std::process::exit(1);
    }
    let memory_requests = env_usize("BENCH_MEMORY_REQUESTS", 2_000);
    let size = std::fs::metadata(&wasm).map(|m| m.len()).unwrap_or(0);
    let t = Instant::now();
    let plugin = match Plugin::load(&wasm) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("loading {}: {e:?}", wasm.display());
            std::process::exit(1);
        }
    };
    println!(
        "{} ({} bytes) compiled by wasmtime/cranelift in {:.0} ms",
        wasm.display(),
        size,
        t.elapsed().as_secs_f64() * 1e3
    );
    if let Ok(name) = std::env::var("BENCH_PROFILE") {
        profile(&plugin, &name, env_usize("BENCH_PROFILE_PL", 1) as u8);
        return;
    }
    for pl in common::PARANOIA_LEVELS {
        bench_pl(&plugin, pl, memory_requests);
    }
}

/// Profiling mode (`BENCH_PROFILE=<request name>`, optional `BENCH_PROFILE_PL`): only that
/// request, only through wasm, for ~10 s, and nothing else, so that a sampling profiler
/// (`perf record` with `WAFER_WASM_PERFMAP=1`) sees the filter's own functions.
/// `BENCH_PROFILE_PL=0` runs it through the floor's configuration (no rules) instead.
fn profile(plugin: &Plugin, name: &str, pl: u8) {
    let config = match pl {
        0 => FLOOR_CONFIG.to_vec(),
        _ => common::plugin_config(pl).into_bytes(),
    };
    let mut vm = plugin
        .start(HostOptions::new(Personality::Envoy), &config)
        .unwrap_or_else(|e| panic!("configure failed: {e:?}"));
    let Some(req) = common::requests().into_iter().find(|r| r.name == name) else {
        eprintln!("no request named {name}");
        std::process::exit(2);
    };
    let (req, response) = (to_host(&req), Response::ok(common::RESPONSE_BODY));
    // `BENCH_PROFILE_REQUESTS=N`: exactly N requests instead of ~10 s (for callgrind).
    let count = env_usize("BENCH_PROFILE_REQUESTS", 0) as u64;
    let (t, mut n) = (Instant::now(), 0u64);
    while if count > 0 {
        n < count
    } else {
        t.elapsed() < Duration::from_secs(10)
    } {
        black_box(vm.http(black_box(&req), &response));
        n += 1;
    }
    println!(
        "{name} PL{pl}: {n} requests, {:.1} µs each",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}
