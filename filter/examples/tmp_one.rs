use std::sync::Arc;
use wafer::{FileSet, RuleSet, Transaction};
fn main() {
    let id = std::env::args().nth(1).unwrap();
    let dir = "/work/shared/crs/v4.28.0/rules";
    let mut rule = String::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let t = std::fs::read_to_string(e.path()).unwrap();
        let Some(p) = t.find(&format!("id:{id},")) else {
            continue;
        };
        let start = t[..p].rfind("SecRule ").unwrap();
        let end = p + t[p..].find("\n\n").unwrap_or(t.len() - p);
        rule = t[start..end].to_string();
    }
    let setup =
        std::fs::read_to_string("/work/shared/crs/v4.28.0/rules/REQUEST-901-INITIALIZATION.conf")
            .unwrap();
    let setup = if std::env::var("INIT").is_ok() {
        setup
    } else {
        String::new()
    };
    let text = format!("SecRuleEngine On\nSecAction \"id:900990,phase:1,pass,nolog,setvar:tx.crs_setup_version=4280\"\n{setup}\nSecRequestBodyAccess On\nSecRule REQUEST_HEADERS:Content-Type \"@rx ^application/json\" \"id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON\"\n{rule}\n");
    let rs = Arc::new(RuleSet::compile("main", &text, &FileSet::new()).unwrap());
    let body = std::fs::read("bench/requests/post-json-20k.body").unwrap();
    let n: usize = std::env::var("ITER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    for _ in 0..n {
        let mut tx = Transaction::new(rs.clone(), "x");
        tx.set_request_line("POST", b"/api/orders", "HTTP/1.1");
        tx.add_request_header(b"Host", b"example.com");
        tx.add_request_header(b"Content-Type", b"application/json");
        tx.add_request_header(
            b"User-Agent",
            b"Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
        );
        tx.add_request_header(b"Accept", b"text/html,application/xhtml+xml");
        tx.add_request_header(b"x-forwarded-proto", b"http");
        tx.add_request_header(b"x-request-id", b"00000000-0000-4000-8000-000000000001");
        tx.process_request_headers();
        tx.append_request_body(&body);
        tx.process_request_body();
        std::hint::black_box(tx.matches().len());
        if std::env::var("STATS").is_ok() {
            eprintln!("{:?}", tx.stats());
        }
    }
}
