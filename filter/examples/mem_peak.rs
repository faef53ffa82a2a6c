//! Heap held after compiling CRS and the peak reached while compiling it, natively
//! (`mem_peak [PL]`, default 4). A wasm module's linear memory never shrinks, so the peak
//! is what configure costs the filter for good; the live figure is what stays in use.
//! Used to weigh prefilter changes against the ≤ 32 MiB goal (issue 7). The rules are the
//! benches' (`filter/benches/common`): `bench/wafer-config.json` compiled against the
//! embedded bundle, as `on_configure` does (the bundle's files are read before counting
//! starts).

#[path = "../benches/common/mod.rs"]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use wafer::bundle;

/// The system allocator, tracking bytes in use and their peak.
struct Tracking;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size);
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

fn main() {
    let pl: u8 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(4);
    let files = bundle::file_set().expect("embedded bundle");
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let rs = common::compile_from(pl, &[], &files);
    let mib = |b: usize| b as f64 / 1_048_576.0;
    println!(
        "PL{pl}: {:.2} MiB held after compiling CRS, {:.2} MiB at the peak while compiling; prefilter automata {:.2} MiB",
        mib(LIVE.load(Relaxed) - base),
        mib(PEAK.load(Relaxed) - base),
        mib(rs.prefilter.memory_usage())
    );
}
