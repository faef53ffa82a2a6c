//! Engine benchmarks (criterion): CRS 4.28 loaded the way a user loads it
//! (`@recommended-conf`, `@crs-setup-conf`, the paranoia level, `@owasp_crs/*.conf`) and the
//! requests of issue 7 (benign GET with five query arguments, 1 KB urlencoded POST, ~21 KB
//! JSON POST with 347 values) plus SQLi, XSS and RCE attempts, at paranoia levels 1 and 4.
//! One iteration is one whole transaction, phases 1 to 5 (see `common::run_native`).
//!
//! ```sh
//! cargo bench -p wafer --bench engine                 # everything (~1 minute)
//! cargo bench -p wafer --bench engine -- pl1/get      # a filter on the bench id
//! ```
//!
//! Criterion prints the time per iteration, i.e. µs per request. Before measuring, each
//! request's outcome (blocked or not, rules matched) is printed to stderr so a reader sees
//! that benign requests pass and attacks are blocked (CRS at PL4 does block some benign
//! requests: that is CRS, and ModSecurity does the same); nothing is asserted.
//!
//! Not here: the wasm build (`host-test/benches/wasm.rs`) and the whole proxy path
//! (`make bench`).

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

fn requests(c: &mut Criterion) {
    for pl in common::PARANOIA_LEVELS {
        let start = Instant::now();
        let rules = common::compile(pl);
        eprintln!(
            "CRS at PL{pl} compiled natively in {:.0} ms",
            start.elapsed().as_secs_f64() * 1e3
        );
        let mut group = c.benchmark_group(format!("pl{pl}"));
        group
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for req in common::requests() {
            eprintln!("  pl{pl}/{}: {}", req.name, common::describe(&rules, &req));
            group.bench_function(req.name, |b| {
                b.iter(|| common::run_native(black_box(&rules), black_box(&req)))
            });
        }
        group.finish();
    }
}

fn configure(c: &mut Criterion) {
    let mut group = c.benchmark_group("configure");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(5));
    for pl in common::PARANOIA_LEVELS {
        group.bench_function(format!("crs_pl{pl}"), |b| {
            b.iter(|| common::compile(black_box(pl)))
        });
    }
    group.finish();
}

criterion_group!(benches, requests, configure);
criterion_main!(benches);
