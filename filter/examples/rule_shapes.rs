//! The engine's cost per rule for a few rule shapes CRS is full of (paranoia-level checks,
//! `setvar` bookkeeping, counts), to be run under callgrind: `rule_shapes SHAPE N` runs
//! `ITER` transactions through N rules of that shape; the difference between two runs with
//! different N or ITER gives instructions per rule (see the README's performance section).
use std::sync::Arc;
use wafer::{FileSet, RuleSet, Transaction};

fn main() {
    let shape = std::env::args().nth(1).unwrap_or_default();
    let n: usize = std::env::args()
        .nth(2)
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let mut text = String::from("SecRuleEngine On\nSecAction \"id:1,phase:1,pass,nolog,setvar:tx.detection_paranoia_level=1,setvar:tx.a=5\"\n");
    for i in 0..n {
        let id = 10 + i;
        let r = match shape.as_str() {
            "lt1" => format!("SecRule TX:DETECTION_PARANOIA_LEVEL \"@lt 1\" \"id:{id},phase:1,pass,nolog,skipAfter:M{id}\"\nSecMarker M{id}\n"),
            "lt2" => format!("SecRule TX:DETECTION_PARANOIA_LEVEL \"@lt 2\" \"id:{id},phase:1,pass,nolog,skipAfter:M{id}\"\nSecMarker M{id}\n"),
            "ge1set" => format!("SecRule TX:DETECTION_PARANOIA_LEVEL \"@ge 1\" \"id:{id},phase:1,pass,nolog,setvar:'tx.b=%{{tx.a}}'\"\n"),
            "setlit" => format!("SecAction \"id:{id},phase:1,pass,nolog,setvar:tx.c=0\"\n"),
            "add" => format!("SecAction \"id:{id},phase:1,pass,nolog,setvar:'tx.c=+%{{tx.a}}'\"\n"),
            "cnt" => format!("SecRule &TX:foo \"@eq 0\" \"id:{id},phase:1,pass,nolog\"\n"),
            "hdrnone" => format!("SecRule REQUEST_HEADERS:Content-Type \"@rx ^x\" \"id:{id},phase:1,pass,nolog\"\n"),
            "args" => format!("SecRule ARGS \"@rx ^zz\" \"id:{id},phase:1,pass,nolog,t:none,t:lowercase\"\n"),
            // No literal to prefilter on: the regex runs on all ten values (5 args, 5 names).
            "argsrx" => format!("SecRule ARGS|ARGS_NAMES \"@rx [a-z]{{30}}\" \"id:{id},phase:1,pass,nolog,t:none,t:urlDecodeUni,t:lowercase\"\n"),
            _ => String::new(),
        };
        text.push_str(&r);
    }
    let rs = Arc::new(RuleSet::compile("main", &text, &FileSet::new()).unwrap());
    let iters: usize = std::env::var("ITER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    for _ in 0..iters {
        let mut tx = Transaction::new(rs.clone(), "x");
        tx.set_request_line(
            "GET",
            b"/a?q=shoes&page=2&sort=price&color=red&size=42",
            "HTTP/1.1",
        );
        tx.add_request_header(b"Host", b"example.com");
        tx.add_request_header(b"User-Agent", b"Mozilla/5.0");
        tx.process_request_headers();
        std::hint::black_box(&tx);
    }
}
