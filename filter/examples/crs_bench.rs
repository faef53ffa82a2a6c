//! Rough per-request timing of CRS on a few requests (criterion benches are the real ones).
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use wafer::{FileSet, RuleSet, Transaction};

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

fn load(dir: &str, pl: u8) -> Arc<RuleSet> {
    let mut fs = FileSet::new();
    fs.insert(
        "crs/crs-setup.conf",
        std::fs::read(format!("{dir}/crs-setup.conf.example")).unwrap(),
    );
    for e in std::fs::read_dir(format!("{dir}/rules")).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        fs.insert(format!("crs/rules/{n}"), std::fs::read(e.path()).unwrap());
    }
    let text = format!(
        "SecRuleEngine On\nSecRequestBodyAccess On\nSecAction \"id:900000,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level={pl}\"\nSecRule REQUEST_HEADERS:Content-Type \"@rx ^application/json\" \"id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON\"\nInclude crs/crs-setup.conf\nInclude crs/rules/*.conf\n{}",
        // EXTRA appends configuration (`SecRuleRemoveById 934100` shows what a rule costs).
        std::env::var("EXTRA").unwrap_or_default()
    );
    Arc::new(RuleSet::compile("main", &text, &fs).unwrap())
}

#[inline(never)]
fn one(rs: &Arc<RuleSet>, uri: &str, ctype: &str, body: &[u8]) -> usize {
    let mut tx = Transaction::new(rs.clone(), "x");
    tx.set_request_line(
        if body.is_empty() { "GET" } else { "POST" },
        uri.as_bytes(),
        "HTTP/1.1",
    );
    tx.add_request_header(b"Host", b"example.com");
    tx.add_request_header(
        b"User-Agent",
        b"Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
    );
    tx.add_request_header(b"Accept", b"text/html,application/xhtml+xml");
    if !body.is_empty() {
        tx.add_request_header(b"Content-Type", ctype.as_bytes());
        tx.add_request_header(b"Content-Length", body.len().to_string().as_bytes());
    }
    tx.process_request_headers();
    tx.append_request_body(body);
    tx.process_request_body();
    tx.set_response_status(200, "HTTP/1.1");
    tx.add_response_header(b"Content-Type", b"text/html");
    tx.process_response_headers();
    tx.append_response_body(b"<html>ok</html>");
    tx.process_response_body();
    tx.process_logging();
    if std::env::var("SHOW").is_ok() {
        for m in tx.matches().iter().filter(|m| m.log) {
            println!("  {} {}", m.id, m.msg);
        }
    }
    if std::env::var("STATS").is_ok() {
        println!("  {:?}", tx.stats());
    }
    tx.matches().len()
}

fn main() {
    let dir = std::env::var("CRS_DIR").unwrap_or_else(|_| "../shared/crs/v4.28.0".into());
    let pl: u8 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let rs = load(&dir, pl);
    if std::env::var("STATS").is_ok() {
        println!(
            "replay: {} fixed rules replayable, {} TX members tracked",
            rs.replay.replayable(),
            rs.replay.keys_len()
        );
    }
    let post: Vec<u8> = (0..40)
        .map(|i| format!("field{i}=value+number+{i}&"))
        .collect::<String>()
        .into_bytes();
    // The ~21 KB benign JSON document of the criterion benches (issue 7).
    let json = std::fs::read(
        std::env::var("JSON_BODY").unwrap_or_else(|_| "bench/requests/post-json-20k.body".into()),
    )
    .unwrap_or_default();
    const FORM: &str = "application/x-www-form-urlencoded";
    // GET_URI replaces the benign GET's URI (e.g. `/` to see the cost without arguments).
    let get_uri = std::env::var("GET_URI")
        .unwrap_or_else(|_| "/search?q=shoes&page=2&sort=price&color=red&size=42".into());
    for (name, uri, ctype, body) in [
        ("GET 5 args", get_uri.as_str(), FORM, &b""[..]),
        ("POST 1KB form", "/submit", FORM, &post[..]),
        ("GET sqli", "/?id=1%27%20or%201=1--", FORM, &b""[..]),
        ("JSON 20KB", "/api/orders", "application/json", &json[..]),
    ] {
        if std::env::var("ONLY").is_ok_and(|o| !name.starts_with(&o)) {
            continue;
        }
        let n: usize = std::env::var("ITER")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000);
        let m = one(&rs, uri, ctype, body);
        let before = ALLOCS.load(Ordering::Relaxed);
        one(&rs, uri, ctype, body);
        let allocs = ALLOCS.load(Ordering::Relaxed) - before;
        let t = Instant::now();
        for _ in 0..n {
            one(&rs, uri, ctype, body);
        }
        println!(
            "{name}: {:.1} µs/request ({m} matches, {allocs} allocations)",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    }
}
