//! The engine benches' workload (`filter/benches/common`: `bench/wafer-config.json` compiled
//! against the embedded bundle, the requests of issue 7 and the attacks, driven as the
//! adapter drives them) one request kind at a time, for profilers: `bench/instructions.sh`
//! counts the instructions of `one` under callgrind. Criterion (`filter/benches/engine.rs`)
//! gives the times; the rough µs printed here are only a sanity check.
//!
//! ```sh
//! cargo run --release -p wafer --example crs_bench [PL]
//! ONLY=post_form ITER=5000 cargo run --release -p wafer --example crs_bench 1
//! ```
//!
//! Environment: `ONLY` (prefix of the request names: `get_5_args`, `post_form_1k`,
//! `post_json_20k`, `sqli`, `xss`, `rce`), `ITER` (requests timed, 2,000), `EXTRA` (SecLang
//! lines appended to the configuration, `;`-separated), `SHOW` (print the logged matches),
//! `STATS` (print the engine's counters), `COLD` (KiB of memory written over between
//! requests, outside the timed part: a proxy worker runs its own code and the kernel's
//! between two requests of the filter, so the filter finds its code and data out of the
//! CPU caches; `COLD=16384` evicts them here, and `bench/instructions.sh` with `COLD=1`
//! counts the cache lines a request then has to fetch).

#[path = "../benches/common/mod.rs"]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wafer::RuleSet;

/// The system allocator, counting allocations (reported per request).
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// One whole transaction, dropped at the end (what callgrind counts).
#[inline(never)]
fn one(rules: &Arc<RuleSet>, req: &common::BenchRequest) {
    drop(common::drive(rules, req));
}

/// Writes one byte of every cache line of `junk`, evicting the caches (`COLD`).
#[inline(never)]
fn evict(junk: &mut [u8], round: usize) {
    for b in junk.iter_mut().step_by(64) {
        *b = b.wrapping_add(round as u8);
    }
    std::hint::black_box(junk);
}

/// [`evict`] (nothing without `COLD`: `junk` is empty), then [`one`], timed apart from the
/// eviction: what callgrind's cache simulation counts with `COLD=1` in
/// `bench/instructions.sh`, less `evict`'s own share.
#[inline(never)]
fn cold_one(
    junk: &mut [u8],
    round: usize,
    rules: &Arc<RuleSet>,
    req: &common::BenchRequest,
) -> Duration {
    evict(junk, round);
    let t = Instant::now();
    one(rules, req);
    t.elapsed()
}

fn main() {
    let pl: u8 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let extra: Vec<String> = std::env::var("EXTRA")
        .unwrap_or_default()
        .split(';')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let rules = common::compile_with(pl, &extra);
    if std::env::var_os("STATS").is_some() {
        println!(
            "replay: {} fixed rules replayable, {} TX members tracked",
            rules.replay.replayable(),
            rules.replay.keys_len()
        );
    }
    let n: usize = std::env::var("ITER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let only = std::env::var("ONLY").unwrap_or_default();
    let cold_kib: usize = std::env::var("COLD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    for req in common::requests() {
        if !req.name.starts_with(&only) {
            continue;
        }
        let (tx, _) = common::drive(&rules, &req);
        if std::env::var_os("SHOW").is_some() {
            for m in tx.matches().iter().filter(|m| m.log) {
                println!("  {} {}", m.id, m.msg());
            }
        }
        if std::env::var_os("STATS").is_some() {
            println!("  {:?}", tx.stats());
        }
        let matches = tx.matches().len();
        drop(tx);
        let before = ALLOCS.load(Ordering::Relaxed);
        one(&rules, &req);
        let allocs = ALLOCS.load(Ordering::Relaxed) - before;
        let mut junk = vec![0u8; cold_kib << 10];
        let mut timed = Duration::ZERO;
        for round in 0..n {
            timed += cold_one(&mut junk, round, &rules, &req);
        }
        println!(
            "{} PL{pl}: {:.1} µs/request{} ({matches} matches, {allocs} allocations)",
            req.name,
            timed.as_secs_f64() * 1e6 / n as f64,
            if cold_kib > 0 { ", caches evicted" } else { "" }
        );
    }
}
