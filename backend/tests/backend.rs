//! The `wafer-backend` binary over real sockets: routes, keep-alive, chunked bodies, and
//! process lifetime (SIGTERM, `--parent-pid`). Envoy is not involved here.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running backend, killed on drop.
struct Backend {
    child: Child,
    port: u16,
}

impl Backend {
    fn start(extra: &[&str]) -> Backend {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wafer-backend"))
            .args(["--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn wafer-backend");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read port line");
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Backend { child, port }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }

    /// Waits up to `limit` for the process to exit; true if it did.
    fn exits_within(&mut self, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.child.try_wait().expect("try_wait").is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads one response (Content-Length framed): (status, lowercased head, body).
fn read_response(r: &mut BufReader<TcpStream>) -> (u16, String, Vec<u8>) {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line).expect("read head");
        if line == "\r\n" || line.is_empty() {
            break;
        }
        head.push_str(&line.to_ascii_lowercase());
    }
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map(|v| v.trim().parse().expect("length"))
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).expect("body");
    (status, head, body)
}

#[test]
fn keep_alive_routes_and_reflect() {
    let b = Backend::start(&[]);
    let s = b.connect();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);

    w.write_all(b"GET /any/path?q=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (status, _, body) = read_response(&mut r);
    assert_eq!(status, 200);
    assert_eq!(body, wafer_backend::DEFAULT_BODY.as_bytes());

    w.write_all(b"GET /status/200 HTTP/1.1\r\nHost: x\r\nX-CRS-Test: abc\r\n\r\n")
        .unwrap();
    let (status, _, body) = read_response(&mut r);
    assert_eq!((status, body.len()), (200, 0));

    // Chunked request body on the same connection.
    let json = r#"{"status": 201, "headers": {"X-Reflected": "yes"}, "body": "<?php echo 1; ?>"}"#;
    let (a, c) = json.split_at(10);
    let req = format!(
        "POST /reflect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{c}\r\n0\r\n\r\n",
        a.len(),
        c.len()
    );
    w.write_all(req.as_bytes()).unwrap();
    let (status, head, body) = read_response(&mut r);
    assert_eq!(status, 201);
    assert!(head.contains("x-reflected: yes\r\n"), "{head}");
    assert!(head.contains("content-type: text/plain"), "{head}");
    assert_eq!(body, b"<?php echo 1; ?>");

    // Connection: close ends the connection after the answer.
    w.write_all(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (status, head, _) = read_response(&mut r);
    assert_eq!(status, 200);
    assert!(head.contains("connection: close"));
    let mut rest = Vec::new();
    assert_eq!(r.read_to_end(&mut rest).unwrap(), 0);
}

#[test]
fn malformed_request_gets_400() {
    let b = Backend::start(&[]);
    let s = b.connect();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    w.write_all(b"NOT HTTP AT ALL\r\n\r\n").unwrap();
    let (status, _, _) = read_response(&mut r);
    assert_eq!(status, 400);
}

#[test]
fn sigterm_ends_the_process() {
    let mut b = Backend::start(&[]);
    let ok = Command::new("kill")
        .args(["-TERM", &b.child.id().to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok);
    assert!(b.exits_within(Duration::from_secs(5)));
}

#[test]
fn exits_when_parent_dies() {
    let mut parent = Command::new("sleep").arg("30").spawn().expect("sleep");
    let pid = parent.id().to_string();
    let mut b = Backend::start(&["--parent-pid", &pid]);
    assert!(!b.exits_within(Duration::from_millis(600)));
    parent.kill().unwrap();
    parent.wait().unwrap();
    assert!(b.exits_within(Duration::from_secs(5)));
}

#[test]
fn bad_arguments_exit_2() {
    let st = Command::new(env!("CARGO_BIN_EXE_wafer-backend"))
        .args(["--port", "notaport"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(2));
}
