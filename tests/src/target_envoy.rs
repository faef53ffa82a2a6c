//! Target `envoy`: the CRS suite through real Envoy (V8) running `dist/wafer.wasm`, over HTTP
//! on 127.0.0.1, judged from Envoy's log as go-ftw judges a WAF from its error log.
//!
//! One Envoy and one `wafer-backend` serve the whole run: `envoy/envoyctl.py run
//! envoy/crs-e2e.yaml --json --parent-pid <ours>` starts both on free ports and prints where
//! they listen and where Envoy logs. [`EnvoyBackend`] owns that `envoyctl` process: dropping it
//! (normal end or panic) sends SIGTERM, which stops Envoy and the backend; Ctrl-C reaches
//! `envoyctl` directly (same process group); if this process dies any other way, `envoyctl`
//! sees `--parent-pid` gone within half a second, and Envoy and the backend die with it
//! (PR_SET_PDEATHSIG). So no process survives a run.
//!
//! Each stage's raw bytes (built by [`crate::crs::stage_request`], exactly as the `engine`
//! target builds them: go-ftw's request, or the decoded `encoded_request`) go out on a new
//! connection; the response is read by its framing (`Content-Length`, chunked, or close;
//! interim 1xx answers skipped). Around each stage a marker request carrying
//! `X-CRS-Test: <token>` goes out on one keep-alive connection, as go-ftw brackets a test
//! with marker requests (`ftw/waflog`); crs-e2e.yaml's rule 999999 logs the header, so the
//! filter's lines between two marker lines in Envoy's log are the stage's. The end marker of
//! one stage is the start marker of the next (the run is sequential, so that is unambiguous),
//! and lines tagged with a marker's own `[unique_id "…"]` are left out. Only the filter's
//! `wafer: ` lines count (rule matches, interruptions); audit records (`wafer-audit:`) do not,
//! as go-ftw reads the error log and not the audit log.
//!
//! For `--verbose`, each stage's note is the request as the filter saw it (from its audit
//! record in the same region: method, target, protocol, headers, body size), and after the run,
//! when Envoy is stopped and has flushed its access log (crs-e2e.yaml logs one line per
//! request with `%RESPONSE_CODE_DETAILS%` and the `X-CRS-Test` header), each failing case is
//! annotated with the stages Envoy answered by itself (`http1.codec_error`,
//! `missing_host_header`, …; the access lines between two marker lines belong to the stage
//! between them). That is the evidence for `tests/skips/crs-envoy.txt`.
//!
//! Not here: building requests or judging outputs (`crs`), Envoy's configuration
//! (`envoy/crs-e2e.yaml`), process management beyond owning `envoyctl` (`envoy/envoyctl.py`).
//! The HTTP client is hand-rolled on `std::net` because the requests must go out byte for
//! byte as the tests give them (malformed ones included), which HTTP client crates do not do.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wafer::Connection;

use crate::crs::{self, Backend, StageResult};
use crate::report::{Outcome, SuiteReport};

/// How long one stage may take to answer (go-ftw's read timeout is of this order).
const STAGE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for a marker's line in Envoy's log.
const MARKER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long Envoy and the backend may take to start (the first run creates `.venv`).
const START_TIMEOUT: Duration = Duration::from_secs(600);

/// The repository root (this crate lives in `<root>/tests`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs the CRS suite in `crs_dir` through Envoy; `filter` and `verbose` as for `crs::run`.
/// Adds a note with the number of stages and the run time.
pub fn run_crs(crs_dir: &Path, filter: Option<&str>, verbose: bool) -> Result<SuiteReport, String> {
    let root = repo_root();
    let mut backend = EnvoyBackend::start(&root)?;
    let start = Instant::now();
    let report = crs::run(crs_dir, &mut backend, filter, verbose);
    let elapsed = start.elapsed().as_secs_f64();
    let stages = backend.stages.len();
    let mut report = report?;
    backend.finish(&mut report);
    report.notes.push(format!(
        "crs/envoy: {stages} stages through Envoy in {elapsed:.0} s (envoy/crs-e2e.yaml, dist/wafer.wasm)"
    ));
    Ok(report)
}

/// A marker request whose line has been seen in the log.
#[derive(Debug, Clone)]
struct Marker {
    /// The `X-CRS-Test` value.
    token: String,
    /// Envoy's request id for the marker (`[unique_id "…"]`).
    unique_id: String,
}

/// Target `envoy`: Envoy + Wafer + wafer-backend, started by `envoyctl`.
pub struct EnvoyBackend {
    ctl: Option<Child>,
    listen: SocketAddr,
    log_path: PathBuf,
    log: Option<std::fs::File>,
    /// Log bytes read but not yet consumed.
    pending: Vec<u8>,
    marker_conn: Option<TcpStream>,
    start_marker: Option<Marker>,
    seq: u64,
    /// `(stage id, token of the marker before it)` for every stage sent, in order.
    stages: Vec<(String, String)>,
}

impl EnvoyBackend {
    /// Starts `envoyctl run envoy/crs-e2e.yaml` from `root` and waits until Envoy is ready.
    pub fn start(root: &Path) -> Result<EnvoyBackend, String> {
        let wasm = root.join("dist").join("wafer.wasm");
        if !wasm.is_file() {
            return Err(format!("{} is missing (run `make wasm`)", wasm.display()));
        }
        let mut child = Command::new("python3")
            .current_dir(root)
            .args([
                "envoy/envoyctl.py",
                "run",
                "envoy/crs-e2e.yaml",
                "--listen-port",
                "0",
                "--admin-port",
                "0",
                "--backend-port",
                "0",
                "--json",
                "--parent-pid",
            ])
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot run python3 envoy/envoyctl.py: {e}"))?;
        let ready = child
            .stdout
            .take()
            .ok_or_else(|| "envoyctl: no stdout".to_string())
            .and_then(read_ready_line);
        let mut backend = EnvoyBackend {
            ctl: Some(child),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            log_path: PathBuf::new(),
            log: None,
            pending: Vec::new(),
            marker_conn: None,
            start_marker: None,
            seq: 0,
            stages: Vec::new(),
        };
        // From here on, `backend` is dropped (and envoyctl stopped) on every error path.
        let (port, log_path) = ready?;
        backend.listen = SocketAddr::from(([127, 0, 0, 1], port));
        backend.log = Some(
            std::fs::File::open(&log_path)
                .map_err(|e| format!("Envoy log {}: {e}", log_path.display()))?,
        );
        backend.log_path = log_path;
        Ok(backend)
    }

    /// Stops Envoy (flushing its access log) and notes, on each failing case, the stages
    /// Envoy answered by itself and how.
    pub fn finish(mut self, report: &mut SuiteReport) {
        self.stop();
        let text = std::fs::read(&self.log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let answered = envoy_answers(&text);
        let mut own: HashMap<String, Vec<String>> = HashMap::new();
        for (stage, token) in &self.stages {
            let Some(lines) = answered.get(token) else {
                continue;
            };
            let case = stage.rsplit_once('-').map_or(stage.as_str(), |(c, _)| c);
            let n = stage.rsplit('-').next().unwrap_or("?");
            for (status, details) in lines {
                own.entry(case.to_string()).or_default().push(format!(
                    "Envoy answered stage {n} itself: {status} {details}"
                ));
            }
        }
        for r in &mut report.results {
            if let (Outcome::Fail(why), Some(notes)) = (&mut r.outcome, own.get(&r.id)) {
                for n in notes {
                    why.push('\n');
                    why.push_str(n);
                }
            }
        }
    }

    /// Sends SIGTERM to envoyctl (it stops Envoy and the backend) and waits for it.
    fn stop(&mut self) {
        let Some(mut child) = self.ctl.take() else {
            return;
        };
        self.marker_conn = None;
        if matches!(child.try_wait(), Ok(None)) {
            // std only sends SIGKILL; SIGTERM lets envoyctl stop its children gracefully.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            // Envoy and the backend die with envoyctl (PR_SET_PDEATHSIG, --parent-pid).
            let _ = child.kill();
        }
        let _ = child.wait();
    }

    fn ctl_alive(&mut self) -> bool {
        self.ctl
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Sends a marker request and waits for its line; returns the region of log lines that
    /// came before it (since the previous marker) and the marker.
    fn marker(&mut self) -> Result<(String, Marker), String> {
        self.seq += 1;
        let token = format!("wafer-{}-{}", std::process::id(), self.seq);
        let raw = format!(
            "GET /status/200 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: wafer-conformance\r\nX-CRS-Test: {token}\r\n\r\n"
        );
        let mut sent = false;
        for _ in 0..2 {
            if self.marker_conn.is_none() {
                self.marker_conn = TcpStream::connect(self.listen).ok();
            }
            let Some(conn) = self.marker_conn.as_mut() else {
                continue;
            };
            match exchange_on(conn, raw.as_bytes(), false) {
                Ok(resp) if resp.keep_alive => {
                    sent = true;
                    break;
                }
                Ok(_) => {
                    self.marker_conn = None;
                    sent = true;
                    break;
                }
                Err(_) => self.marker_conn = None,
            }
        }
        if !sent {
            return Err(format!("marker request {token} failed"));
        }
        let needle = format!("X-CRS-Test {token}\"");
        let deadline = Instant::now() + MARKER_TIMEOUT;
        loop {
            if let Some((line_start, line_end)) = find_line(&self.pending, needle.as_bytes()) {
                let region = String::from_utf8_lossy(&self.pending[..line_start]).into_owned();
                let line = String::from_utf8_lossy(&self.pending[line_start..line_end]);
                let unique_id = unique_id(&line).unwrap_or_default().to_string();
                self.pending.drain(..line_end);
                return Ok((region, Marker { token, unique_id }));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "marker {token} not seen in {} within {MARKER_TIMEOUT:?}",
                    self.log_path.display()
                ));
            }
            if !self.read_log()? {
                if !self.ctl_alive() {
                    return Err("envoyctl (and so Envoy) exited".into());
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    /// Appends new log bytes to `pending`; whether there were any.
    fn read_log(&mut self) -> Result<bool, String> {
        let Some(f) = self.log.as_mut() else {
            return Err("Envoy log not open".into());
        };
        let mut buf = [0u8; 65536];
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("reading {}: {e}", self.log_path.display()))?;
        self.pending.extend_from_slice(buf.get(..n).unwrap_or(&[]));
        Ok(n > 0)
    }
}

impl Drop for EnvoyBackend {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Backend for EnvoyBackend {
    fn name(&self) -> &str {
        "envoy"
    }

    fn send(&mut self, unique_id: &str, raw: &[u8], _conn: &Connection) -> StageResult {
        let start = match self.start_marker.take() {
            Some(m) => m,
            None => match self.marker() {
                Ok((_, m)) => m,
                Err(e) => return setup_failure(e),
            },
        };
        let response = exchange(self.listen, raw);
        self.stages
            .push((unique_id.to_string(), start.token.clone()));
        let (region, end) = match self.marker() {
            Ok(x) => x,
            Err(e) => return setup_failure(e),
        };
        let ids = [start.unique_id.as_str(), end.unique_id.as_str()];
        let log = region_lines(&region, &ids);
        let note = audit_request(&region, &ids).map(|r| format!("the filter saw: {r}"));
        self.start_marker = Some(end);
        match response {
            Ok(r) => StageResult {
                error: None,
                status: r.status,
                response: r.bytes,
                log,
                note,
            },
            Err(e) => StageResult {
                error: Some(e),
                log,
                note,
                ..StageResult::default()
            },
        }
    }
}

fn setup_failure(e: String) -> StageResult {
    StageResult {
        error: Some(format!("envoy target: {e}")),
        note: Some(e),
        ..StageResult::default()
    }
}

/// Reads envoyctl's stdout until its JSON ready line; returns the listener port and log path.
fn read_ready_line(stdout: std::process::ChildStdout) -> Result<(u16, PathBuf), String> {
    let (tx, rx) = std::sync::mpsc::channel();
    // A thread, so that a hanging envoyctl cannot hang the runner past START_TIMEOUT.
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(Err("envoyctl exited before Envoy was ready".to_string()));
                    return;
                }
                Ok(_) => {
                    if let Some(ready) = parse_ready(&line) {
                        let _ = tx.send(Ok(ready));
                        // Keep draining so envoyctl never blocks on a full pipe.
                        let mut sink = Vec::new();
                        let _ = reader.read_to_end(&mut sink);
                        return;
                    }
                }
            }
        }
    });
    rx.recv_timeout(START_TIMEOUT)
        .map_err(|_| format!("Envoy not ready within {START_TIMEOUT:?}"))?
}

fn parse_ready(line: &str) -> Option<(u16, PathBuf)> {
    let v: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
    let port = u16::try_from(v.get("listen_port")?.as_u64()?).ok()?;
    let log = PathBuf::from(v.get("log")?.as_str()?);
    Some((port, log))
}

/// A response as read off the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct WireResponse {
    /// Final status.
    status: u16,
    /// The final response's bytes (status line, headers, body).
    bytes: Vec<u8>,
    /// Whether the connection may carry another request.
    keep_alive: bool,
}

/// Sends `raw` on a new connection and reads the response.
fn exchange(addr: SocketAddr, raw: &[u8]) -> Result<WireResponse, String> {
    let mut conn =
        TcpStream::connect_timeout(&addr, STAGE_TIMEOUT).map_err(|e| format!("connect: {e}"))?;
    exchange_on(&mut conn, raw, raw.starts_with(b"HEAD "))
}

/// Writes `raw` and reads one complete response (errors: nothing came back).
fn exchange_on(conn: &mut TcpStream, raw: &[u8], head: bool) -> Result<WireResponse, String> {
    // A write error is not final: Envoy may answer (400) before reading the whole request.
    let write_error = conn.write_all(raw).err();
    let deadline = Instant::now() + STAGE_TIMEOUT;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        if let Some(r) = parse_response(&buf, head, false) {
            return Ok(r);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return parse_response(&buf, head, true).ok_or_else(|| {
                format!(
                    "no complete response within {STAGE_TIMEOUT:?} ({} bytes)",
                    buf.len()
                )
            });
        }
        let _ = conn.set_read_timeout(Some(left));
        match conn.read(&mut chunk) {
            Ok(0) => {
                return parse_response(&buf, head, true).ok_or_else(|| match &write_error {
                    Some(e) => format!("connection closed without a response (write: {e})"),
                    None => "connection closed without a response".to_string(),
                })
            }
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or(&[])),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(e) => {
                return parse_response(&buf, head, true)
                    .ok_or_else(|| format!("connection error: {e}"))
            }
        }
    }
}

/// Finds `needle` (case-insensitive ASCII) in `hay`.
fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (0..=hay.len() - needle.len()).find(|&i| {
        hay.get(i..i + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
    })
}

/// A header's value in a response head (`name` lower-case).
fn header<'a>(head: &'a [u8], name: &str) -> Option<&'a [u8]> {
    head.split(|&c| c == b'\n').skip(1).find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&c| c == b':')?;
        let (n, v) = line.split_at(colon);
        n.eq_ignore_ascii_case(name.as_bytes())
            .then(|| v.get(1..).unwrap_or(&[]).trim_ascii())
    })
}

/// Parses one response from `buf`, skipping interim 1xx answers. `None` while incomplete;
/// with `eof`, a response whose head is complete is taken as it is (body up to the close).
fn parse_response(buf: &[u8], head_request: bool, eof: bool) -> Option<WireResponse> {
    let mut start = 0;
    loop {
        let rest = buf.get(start..)?;
        let head_len = find_ci(rest, b"\r\n\r\n")? + 4;
        let head = rest.get(..head_len)?;
        let status_line = head.split(|&c| c == b'\n').next().unwrap_or(b"");
        let status: u16 = std::str::from_utf8(status_line)
            .ok()?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        if (100..200).contains(&status) && status != 101 {
            start += head_len;
            continue;
        }
        let body = rest.get(head_len..).unwrap_or(&[]);
        let close = header(head, "connection").is_some_and(|v| v.eq_ignore_ascii_case(b"close"))
            || status_line.starts_with(b"HTTP/1.0");
        let body_len = if head_request || status == 204 || status == 304 {
            Some(0)
        } else if header(head, "transfer-encoding")
            .is_some_and(|v| find_ci(v, b"chunked").is_some())
        {
            chunked_len(body)
        } else if let Some(cl) = header(head, "content-length") {
            let n: usize = std::str::from_utf8(cl).ok()?.trim().parse().ok()?;
            (body.len() >= n).then_some(n)
        } else {
            // Delimited by the close.
            eof.then_some(body.len())
        };
        let body_len = match body_len {
            Some(n) => n,
            None if eof => body.len(),
            None => return None,
        };
        let end = head_len + body_len;
        return Some(WireResponse {
            status,
            bytes: rest.get(..end).unwrap_or(rest).to_vec(),
            keep_alive: !close && body_len <= body.len(),
        });
    }
}

/// Length of a complete chunked body at the start of `body` (through the last chunk and the
/// trailers), or `None` while incomplete.
fn chunked_len(body: &[u8]) -> Option<usize> {
    let mut pos = 0;
    loop {
        let rest = body.get(pos..)?;
        let nl = rest.iter().position(|&c| c == b'\n')?;
        let line = rest.get(..nl)?;
        let size_text = line.split(|&c| c == b';').next().unwrap_or(b"");
        let size = usize::from_str_radix(std::str::from_utf8(size_text).ok()?.trim(), 16).ok()?;
        pos += nl + 1;
        if size == 0 {
            // Trailers end with an empty line.
            loop {
                let rest = body.get(pos..)?;
                let nl = rest.iter().position(|&c| c == b'\n')?;
                pos += nl + 1;
                if rest.get(..nl).is_some_and(|l| l.is_empty() || l == b"\r") {
                    return Some(pos);
                }
            }
        }
        pos = pos.checked_add(size)?.checked_add(2)?;
        if pos > body.len() {
            return None;
        }
    }
}

/// The complete line of `buf` holding `needle`: `(start, end after its newline)`.
fn find_line(buf: &[u8], needle: &[u8]) -> Option<(usize, usize)> {
    let at = buf.windows(needle.len()).position(|w| w == needle)?;
    let start = buf
        .get(..at)?
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    let nl = buf.get(at..)?.iter().position(|&c| c == b'\n')?;
    Some((start, at + nl + 1))
}

/// The `[unique_id "…"]` of a filter line.
fn unique_id(line: &str) -> Option<&str> {
    let rest = line.rsplit_once("[unique_id \"")?.1;
    rest.split_once('"').map(|(id, _)| id)
}

/// The filter's lines in `region` (Envoy log text between two markers): records (a line
/// starting with Envoy's `[YYYY-` timestamp plus any continuation lines) holding `wafer: `,
/// not audit records, and not tagged with one of the `exclude` request ids.
fn region_lines(region: &str, exclude: &[&str]) -> Vec<String> {
    let mut records: Vec<String> = Vec::new();
    for line in region.lines() {
        let starts_record =
            line.starts_with('[') && line.as_bytes().get(1).is_some_and(u8::is_ascii_digit);
        match records.last_mut() {
            Some(last) if !starts_record => {
                last.push('\n');
                last.push_str(line);
            }
            _ => records.push(line.to_string()),
        }
    }
    let tags: Vec<String> = exclude
        .iter()
        .filter(|id| !id.is_empty())
        .map(|id| format!("[unique_id \"{id}\"]"))
        .collect();
    records
        .into_iter()
        .filter(|r| r.contains("wafer: ") && !r.contains("wafer-audit: "))
        .filter(|r| !tags.iter().any(|t| r.contains(t.as_str())))
        .collect()
}

/// The request line and headers of the audit record (`wafer-audit: {JSON}`) in `region`
/// that belongs to no marker: what Envoy handed the filter, for failure notes.
fn audit_request(region: &str, markers: &[&str]) -> Option<String> {
    region.lines().find_map(|line| {
        let (_, json) = line.split_once("wafer-audit: ")?;
        let v: serde_json::Value = serde_json::from_str(json).ok()?;
        let t = &v["transaction"];
        if markers.contains(&t["unique_id"].as_str().unwrap_or("")) {
            return None;
        }
        let r = &t["request"];
        let headers = r["headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .unwrap_or_default();
        Some(format!(
            "{} {} HTTP/{} [{}] body {} bytes",
            r["method"].as_str().unwrap_or("?"),
            r["uri"].as_str().unwrap_or("?"),
            r["http_version"].as_str().unwrap_or("?"),
            crate::report::clip(&headers, 600),
            r["body"].as_str().map_or(0, str::len)
        ))
    })
}

/// Envoy's access lines (crs-e2e.yaml's format) for requests it did not pass on
/// (`%RESPONSE_CODE_DETAILS%` other than `via_upstream`), as `(status, details)`, keyed by the
/// `X-CRS-Test` token of the marker line before them. Envoy writes access lines in the order
/// requests end, and the run is sequential, so a stage's lines follow its start marker's.
fn envoy_answers(log: &str) -> HashMap<String, Vec<(String, String)>> {
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut token = String::new();
    for line in log.lines() {
        let Some(rest) = line.strip_prefix("[access] ") else {
            continue;
        };
        let marker = rest
            .split_once(" x-crs-test=")
            .and_then(|(_, t)| t.split_whitespace().next())
            .filter(|t| *t != "-");
        if let Some(t) = marker {
            token = t.to_string();
            continue;
        }
        let mut words = rest.split_whitespace();
        let (Some(status), Some(details)) = (words.next(), words.next()) else {
            continue;
        };
        if details != "via_upstream" {
            out.entry(token.clone())
                .or_default()
                .push((status.to_string(), details.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_framed_by_length_chunks_or_close() {
        let r = b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabcEXTRA";
        let got = parse_response(r, false, false).unwrap();
        assert_eq!(got.status, 200);
        assert!(got.bytes.ends_with(b"\r\n\r\nabc"));
        assert!(got.keep_alive);
        assert!(parse_response(
            b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nab",
            false,
            false
        )
        .is_none());
        // HEAD: no body whatever Content-Length says.
        let h = b"HTTP/1.1 200 OK\r\ncontent-length: 30\r\n\r\n";
        assert_eq!(parse_response(h, true, false).unwrap().status, 200);
        let c = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        assert_eq!(
            parse_response(c, false, false).unwrap().bytes.len(),
            c.len()
        );
        assert!(parse_response(&c[..c.len() - 2], false, false).is_none());
        let close = b"HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\nno";
        assert!(parse_response(close, false, false).is_none());
        let got = parse_response(close, false, true).unwrap();
        assert_eq!((got.status, got.keep_alive), (403, false));
        assert!(parse_response(b"", false, true).is_none());
        assert!(parse_response(b"garbage\r\n\r\n", false, true).is_none());
    }

    #[test]
    fn interim_responses_are_skipped() {
        let r = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n";
        let got = parse_response(r, false, false).unwrap();
        assert_eq!(got.status, 201);
        assert!(got.bytes.starts_with(b"HTTP/1.1 201"));
    }

    #[test]
    fn region_keeps_the_stage_lines_only() {
        let region = "\
[2026-01-01 00:00:00.000][info][wasm] wasm log wafer wafer wafer: wafer-audit: {\"x\":1}\n\
[2026-01-01 00:00:00.001][error][wasm] wasm log wafer wafer wafer: wafer: ModSecurity: Warning. [id \"942100\"] [unique_id \"b\"]\n\
[2026-01-01 00:00:00.001][warn][wasm] wasm log wafer wafer wafer: wafer: late line of the marker [unique_id \"a\"]\n\
[2026-01-01 00:00:00.002][warn][main] something else\n\
[2026-01-01 00:00:00.003][error][wasm] wasm log wafer wafer wafer: wafer: value with\n\
a newline [id \"941100\"] [unique_id \"b\"]\n";
        let lines = region_lines(region, &["a", "c"]);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains("[id \"942100\"]"));
        assert!(lines[1].ends_with("[id \"941100\"] [unique_id \"b\"]"));
    }

    #[test]
    fn marker_lines_are_found_whole() {
        let log = b"x\n[t] wafer: [msg \"X-CRS-Test wafer-1-12\"] [unique_id \"u12\"]\n[t] rest";
        assert!(find_line(log, b"X-CRS-Test wafer-1-1\"").is_none());
        let (s, e) = find_line(log, b"X-CRS-Test wafer-1-12\"").unwrap();
        let line = std::str::from_utf8(&log[s..e]).unwrap();
        assert!(line.starts_with("[t] wafer:"));
        assert_eq!(unique_id(line), Some("u12"));
        // A line still being written is not found.
        assert!(find_line(
            b"[t] X-CRS-Test wafer-1-3\" [uniq",
            b"X-CRS-Test wafer-1-3\""
        )
        .is_none());
    }

    #[test]
    fn envoy_answers_follow_their_marker() {
        let log = "[access] 200 via_upstream - \"GET /status/200 HTTP/1.1\" x-crs-test=wafer-1-1 request-id=a client-port=1\n\
[access] 400 http1.codec_error DPE \"- - HTTP/1.1\" x-crs-test=- request-id=- client-port=2\n\
[access] 200 via_upstream - \"GET /status/200 HTTP/1.1\" x-crs-test=wafer-1-2 request-id=b client-port=1\n\
[access] 200 via_upstream - \"GET / HTTP/1.1\" x-crs-test=- request-id=x client-port=3\n";
        let by = envoy_answers(log);
        assert_eq!(
            by["wafer-1-1"],
            vec![("400".into(), "http1.codec_error".into())]
        );
        assert!(!by.contains_key("wafer-1-2"));
    }

    #[test]
    fn audit_note_skips_marker_records() {
        let region = "[t] wafer-audit: {\"transaction\":{\"unique_id\":\"m\",\"request\":{\"method\":\"GET\"}}}\n\
[t] wafer-audit: {\"transaction\":{\"unique_id\":\"s\",\"request\":{\"method\":\"POST\",\"uri\":\"/x\",\"http_version\":\"1.1\",\"headers\":{\"host\":\"h\"},\"body\":\"ab\"}}}\n";
        assert_eq!(
            audit_request(region, &["m"]).as_deref(),
            Some("POST /x HTTP/1.1 [host: h] body 2 bytes")
        );
        assert_eq!(audit_request(region, &["m", "s"]), None);
    }

    #[test]
    fn ready_line_names_port_and_log() {
        let l = r#"{"listen_port": 41000, "admin_port": 1, "backend_port": 2, "envoy_pid": 3, "log": "/tmp/e.log"}"#;
        assert_eq!(parse_ready(l), Some((41000, PathBuf::from("/tmp/e.log"))));
        assert_eq!(parse_ready("envoyctl: starting"), None);
    }
}
