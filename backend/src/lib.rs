//! `wafer-backend`: the small HTTP/1.1 server that stands behind Envoy in the demo and in the
//! end-to-end tests. It answers like CRS's test backend albedo (coreruleset/albedo,
//! `server/server.go`):
//!
//! | request                      | answer                                                   |
//! |------------------------------|----------------------------------------------------------|
//! | `POST /reflect` (or `/reflect/`) | the status, headers and body the JSON body asks for (`status`, `headers`, `body`, `encodedBody`, `logMessage`) |
//! | any method `/status/NNN`     | status NNN (200–599), empty body: go-ftw's marker requests |
//! | anything else                | 200 with a short `text/plain` body                       |
//!
//! The server is hand-rolled on `std::net` and one thread per connection rather than built
//! on an HTTP crate: it must start in milliseconds, answer every request Envoy forwards
//! (CRS tests send odd but valid requests), and pull in nothing beyond `serde_json` and
//! `base64`. It is a test fixture, not a production server: no TLS, no HTTP/2, no pipelining
//! guarantees beyond keep-alive in order, bodies held in memory up to [`MAX_BODY`].
//!
//! Not here: command-line parsing and process lifetime (`main.rs`).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;

/// Largest request head (request line and headers) accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest request body accepted; larger bodies get 413.
pub const MAX_BODY: usize = 32 * 1024 * 1024;
/// Body of the default 200 answer.
pub const DEFAULT_BODY: &str = "Hello from wafer-backend\n";
/// How long an idle keep-alive connection is kept open.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method as sent (`GET`, `POST`, …).
    pub method: String,
    /// Request target as sent (path and query).
    pub target: String,
    /// `HTTP/1.0` or `HTTP/1.1` (anything else is answered as 1.1).
    pub version: String,
    /// Headers in order; names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl Request {
    /// The first header called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path part of the target (before `?`).
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// Whether the connection stays open after the answer (HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    pub fn keep_alive(&self) -> bool {
        let conn = self.header("connection").unwrap_or("").to_ascii_lowercase();
        let has = |t: &str| conn.split(',').any(|x| x.trim() == t);
        if self.version == "HTTP/1.0" {
            has("keep-alive")
        } else {
            !has("close")
        }
    }
}

/// An answer to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers besides `content-length` and `connection`, which the writer adds.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Response {
    fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![(
                "content-type".to_string(),
                "text/plain; charset=utf-8".to_string(),
            )],
            body: body.as_bytes().to_vec(),
        }
    }
}

/// Why a request could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The bytes are not an HTTP/1.x request; the connection is answered 400 and closed.
    Malformed(&'static str),
    /// The body is over [`MAX_BODY`]; answered 413.
    TooLarge,
    /// The socket failed or closed mid-request.
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Reads one line (up to and including `\n`), failing when the head budget runs out.
fn read_line<R: BufRead>(r: &mut R, budget: &mut usize) -> Result<Vec<u8>, ReadError> {
    let mut line = Vec::new();
    let limit = (*budget as u64).saturating_add(1);
    let n = r.by_ref().take(limit).read_until(b'\n', &mut line)?;
    if n > *budget {
        return Err(ReadError::Malformed("request head too large"));
    }
    *budget -= n;
    if n > 0 && line.last() != Some(&b'\n') {
        return Err(ReadError::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed mid-line",
        )));
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(line)
}

/// Reads one request. `Ok(None)`: the peer closed the connection between requests.
pub fn read_request<R: BufRead>(r: &mut R) -> Result<Option<Request>, ReadError> {
    let mut budget = MAX_HEAD;
    // Skip empty lines before the request line (RFC 9112 §2.2 allows one CRLF).
    let line = loop {
        if r.fill_buf()?.is_empty() {
            return Ok(None);
        }
        let line = read_line(r, &mut budget)?;
        if !line.is_empty() {
            break line;
        }
    };
    let line = String::from_utf8_lossy(&line).into_owned();
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Malformed("bad request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(ReadError::Malformed("not HTTP/1.x"));
    }
    let mut headers = Vec::new();
    loop {
        let h = read_line(r, &mut budget)?;
        if h.is_empty() {
            break;
        }
        let h = String::from_utf8_lossy(&h).into_owned();
        let Some((name, value)) = h.split_once(':') else {
            return Err(ReadError::Malformed("header line without colon"));
        };
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let mut req = Request {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
        body: Vec::new(),
    };
    let chunked = req
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    if chunked {
        req.body = read_chunked(r)?;
    } else if let Some(cl) = req.header("content-length") {
        let len: usize = cl
            .parse()
            .map_err(|_| ReadError::Malformed("bad content-length"))?;
        if len > MAX_BODY {
            return Err(ReadError::TooLarge);
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body)?;
        req.body = body;
    }
    Ok(Some(req))
}

/// Reads a chunked body (RFC 9112 §7.1), dropping extensions and trailers.
fn read_chunked<R: BufRead>(r: &mut R) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    let mut budget = MAX_HEAD;
    loop {
        let line = read_line(r, &mut budget)?;
        let line = String::from_utf8_lossy(&line);
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Malformed("bad chunk size"))?;
        if size == 0 {
            // Trailers up to the empty line.
            while !read_line(r, &mut budget)?.is_empty() {}
            return Ok(body);
        }
        if body.len().saturating_add(size) > MAX_BODY {
            return Err(ReadError::TooLarge);
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(body.get_mut(start..).unwrap_or_default())?;
        read_line(r, &mut budget)?; // CRLF after the data
    }
}

/// The JSON a `/reflect` request carries (albedo's `reflectionSpec`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ReflectSpec {
    status: i64,
    headers: std::collections::BTreeMap<String, String>,
    body: String,
    encoded_body: String,
    log_message: String,
}

/// Headers the writer owns; a reflected one would break the framing of the answer.
const FRAMING_HEADERS: [&str; 4] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

fn valid_header(name: &str, value: &str) -> bool {
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    !name.is_empty()
        && name.chars().all(tchar)
        && !value.contains(['\r', '\n', '\0'])
        && !FRAMING_HEADERS.iter().any(|f| name.eq_ignore_ascii_case(f))
}

/// A content type for a reflected body without one, a subset of Go's
/// `http.DetectContentType` (albedo is a Go `net/http` server, which sniffs): HTML tags,
/// `<?xml`, else `text/plain; charset=utf-8` unless the first 512 bytes hold binary bytes.
/// CRS's response rules only inspect bodies whose type is listed, so this matters.
pub fn sniff_content_type(body: &[u8]) -> &'static str {
    let head = body.get(..512).unwrap_or(body);
    let start = head
        .iter()
        .position(|b| !matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | b' '))
        .unwrap_or(head.len());
    let rest = head.get(start..).unwrap_or_default();
    const HTML: [&[u8]; 17] = [
        b"<!DOCTYPE HTML",
        b"<HTML",
        b"<HEAD",
        b"<SCRIPT",
        b"<IFRAME",
        b"<H1",
        b"<DIV",
        b"<FONT",
        b"<TABLE",
        b"<A",
        b"<STYLE",
        b"<TITLE",
        b"<B",
        b"<BODY",
        b"<BR",
        b"<P",
        b"<!--",
    ];
    for sig in HTML {
        if rest.len() > sig.len()
            && rest
                .get(..sig.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(sig))
            && matches!(rest.get(sig.len()), Some(b' ' | b'>'))
        {
            return "text/html; charset=utf-8";
        }
    }
    if rest.starts_with(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    let binary = head
        .iter()
        .any(|b| matches!(b, 0x00..=0x08 | 0x0b | 0x0e..=0x1a | 0x1c..=0x1f));
    if binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}

/// albedo's `/reflect`: answer with what the JSON asks for. Differences from albedo, both
/// so that the answer stays well-framed: a status below 200 is refused (albedo leaves it
/// undefined), and framing headers (`content-length`, `transfer-encoding`, `connection`)
/// are dropped like invalid ones.
fn reflect(req: &Request) -> Response {
    let spec: ReflectSpec = match serde_json::from_slice(&req.body) {
        Ok(s) => s,
        Err(_) => return Response::text(400, "Invalid JSON in request body"),
    };
    if !spec.log_message.is_empty() {
        eprintln!("{}", spec.log_message.replace(['\r', '\n'], " "));
    }
    let status = match spec.status {
        0 => 200,
        s @ 200..=599 => s as u16,
        s => return Response::text(400, &format!("Invalid status code: {s}")),
    };
    let body = if !spec.body.is_empty() {
        spec.body.into_bytes()
    } else if !spec.encoded_body.is_empty() {
        match base64::engine::general_purpose::STANDARD.decode(spec.encoded_body.trim()) {
            Ok(b) => b,
            Err(_) => return Response::text(400, "invalid base64 encoding of response body"),
        }
    } else {
        Vec::new()
    };
    let mut headers: Vec<(String, String)> = spec
        .headers
        .into_iter()
        .filter(|(n, v)| valid_header(n, v))
        .collect();
    let has_type = headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    if !body.is_empty() && !has_type {
        headers.push((
            "content-type".to_string(),
            sniff_content_type(&body).to_string(),
        ));
    }
    Response {
        status,
        headers,
        body,
    }
}

/// The answer to `req`.
pub fn respond(req: &Request) -> Response {
    let path = req.path();
    if req.method == "POST" && (path == "/reflect" || path == "/reflect/") {
        return reflect(req);
    }
    if let Some(code) = path.strip_prefix("/status/") {
        return match code.parse::<u16>() {
            Ok(s @ 200..=599) => Response {
                status: s,
                headers: Vec::new(),
                body: Vec::new(),
            },
            _ => Response::text(400, "Invalid status code\n"),
        };
    }
    Response::text(200, DEFAULT_BODY)
}

/// The reason phrase for the status line (the phrase is informative only).
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Content Too Large",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

/// Writes `resp`. No body for `HEAD`, 204 and 304 (RFC 9110 §6.4.1).
pub fn write_response<W: Write>(
    w: &mut W,
    resp: &Response,
    head_request: bool,
    keep_alive: bool,
) -> io::Result<()> {
    let mut out = Vec::with_capacity(256 + resp.body.len());
    out.extend_from_slice(
        format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status)).as_bytes(),
    );
    for (n, v) in &resp.headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    let bodyless = matches!(resp.status, 204 | 304);
    if !bodyless {
        out.extend_from_slice(format!("content-length: {}\r\n", resp.body.len()).as_bytes());
    }
    if !keep_alive {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !head_request && !bodyless {
        out.extend_from_slice(&resp.body);
    }
    w.write_all(&out)?;
    w.flush()
}

/// Serves one connection until the peer closes it, an error, or `Connection: close`.
pub fn handle_connection(stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut writer = write_half;
    let mut reader = BufReader::new(stream);
    loop {
        match read_request(&mut reader) {
            Ok(None) | Err(ReadError::Io(_)) => return,
            Ok(Some(req)) => {
                let resp = respond(&req);
                let keep = req.keep_alive();
                if write_response(&mut writer, &resp, req.method == "HEAD", keep).is_err() || !keep
                {
                    return;
                }
            }
            Err(ReadError::Malformed(why)) => {
                let _ = write_response(&mut writer, &Response::text(400, why), false, false);
                return;
            }
            Err(ReadError::TooLarge) => {
                let _ = write_response(
                    &mut writer,
                    &Response::text(413, "request body too large"),
                    false,
                    false,
                );
                return;
            }
        }
    }
}

/// Accepts connections forever, one thread each.
pub fn serve(listener: TcpListener) -> io::Result<()> {
    for stream in listener.incoming() {
        match stream {
            Ok(s) => {
                thread::spawn(move || handle_connection(s));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => eprintln!("wafer-backend: accept: {e}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<Option<Request>, ReadError> {
        read_request(&mut io::Cursor::new(raw.to_vec()))
    }

    fn req(raw: &str) -> Request {
        parse(raw.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn parses_content_length_body() {
        let r = req("POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcdef");
        assert_eq!(r.method, "POST");
        assert_eq!(r.path(), "/a");
        assert_eq!(r.header("host"), Some("x"));
        assert_eq!(r.body, b"abc");
    }

    #[test]
    fn parses_chunked_body_with_trailers() {
        let r = req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n");
        assert_eq!(r.body, b"abcde");
    }

    #[test]
    fn eof_between_requests_is_none_and_garbage_is_malformed() {
        assert!(parse(b"").unwrap().is_none());
        assert!(matches!(
            parse(b"hello\r\n\r\n"),
            Err(ReadError::Malformed(_))
        ));
        assert!(matches!(
            parse(b"GET / SPDY/3\r\n\r\n"),
            Err(ReadError::Malformed(_))
        ));
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\nnocolon\r\n\r\n"),
            Err(ReadError::Malformed(_))
        ));
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
            Err(ReadError::Malformed(_))
        ));
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n"),
            Err(ReadError::TooLarge)
        ));
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"),
            Err(ReadError::Io(_))
        ));
    }

    #[test]
    fn oversized_head_is_refused() {
        let mut raw = b"GET / HTTP/1.1\r\nX: ".to_vec();
        raw.extend(std::iter::repeat_n(b'a', MAX_HEAD));
        raw.extend_from_slice(b"\r\n\r\n");
        assert!(matches!(parse(&raw), Err(ReadError::Malformed(_))));
    }

    #[test]
    fn keep_alive_rules() {
        assert!(req("GET / HTTP/1.1\r\n\r\n").keep_alive());
        assert!(!req("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").keep_alive());
        assert!(!req("GET / HTTP/1.0\r\n\r\n").keep_alive());
        assert!(req("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive());
    }

    #[test]
    fn default_and_status_routes() {
        let r = respond(&req("GET /anything?x=1 HTTP/1.1\r\n\r\n"));
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, DEFAULT_BODY.as_bytes())
        );
        let r = respond(&req("GET /status/200 HTTP/1.1\r\n\r\n"));
        assert_eq!((r.status, r.body.len()), (200, 0));
        assert_eq!(
            respond(&req("GET /status/503 HTTP/1.1\r\n\r\n")).status,
            503
        );
        assert_eq!(respond(&req("GET /status/99 HTTP/1.1\r\n\r\n")).status, 400);
        assert_eq!(
            respond(&req("GET /status/abc HTTP/1.1\r\n\r\n")).status,
            400
        );
        // GET /reflect is not the reflect endpoint (albedo routes only POST).
        assert_eq!(
            respond(&req("GET /reflect HTTP/1.1\r\n\r\n")).body,
            DEFAULT_BODY.as_bytes()
        );
    }

    fn reflect_json(json: &str) -> Response {
        respond(&req(&format!(
            "POST /reflect HTTP/1.1\r\nContent-Length: {}\r\n\r\n{json}",
            json.len()
        )))
    }

    #[test]
    fn reflect_status_headers_body() {
        let r = reflect_json(
            r#"{"status": 418, "headers": {"X-A": "b", "Content-Length": "9", "Bad Name": "x"}, "body": "<?php echo 1; ?>"}"#,
        );
        assert_eq!(r.status, 418);
        assert_eq!(r.body, b"<?php echo 1; ?>");
        assert!(r.headers.contains(&("X-A".to_string(), "b".to_string())));
        assert!(!r
            .headers
            .iter()
            .any(|(n, _)| n == "Content-Length" || n == "Bad Name"));
        assert!(r.headers.contains(&(
            "content-type".to_string(),
            "text/plain; charset=utf-8".to_string()
        )));
    }

    #[test]
    fn reflect_encoded_body_and_errors() {
        let r = reflect_json(r#"{"encodedBody": "PGh0bWw+PC9odG1sPg=="}"#);
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, b"<html></html>".as_slice())
        );
        assert!(r.headers.contains(&(
            "content-type".to_string(),
            "text/html; charset=utf-8".to_string()
        )));
        assert_eq!(reflect_json(r#"{"encodedBody": "!!"}"#).status, 400);
        assert_eq!(reflect_json("not json").status, 400);
        assert_eq!(reflect_json(r#"{"status": 600}"#).status, 400);
        assert_eq!(reflect_json(r#"{"status": 101}"#).status, 400);
        let r = reflect_json(r#"{"headers": {"Content-Type": "application/json"}, "body": "{}"}"#);
        assert_eq!(
            r.headers,
            vec![("Content-Type".to_string(), "application/json".to_string())]
        );
        let r = reflect_json("{}");
        assert_eq!((r.status, r.body.len(), r.headers.len()), (200, 0, 0));
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff_content_type(b"  <HTML>x"), "text/html; charset=utf-8");
        assert_eq!(
            sniff_content_type(b"<title>500</title>"),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            sniff_content_type(b"<?xml version"),
            "text/xml; charset=utf-8"
        );
        assert_eq!(
            sniff_content_type(b"text=<title>"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(sniff_content_type(b"\x00\x01"), "application/octet-stream");
    }

    #[test]
    fn writes_framed_responses() {
        let resp = Response::text(200, "hi");
        let mut out = Vec::new();
        write_response(&mut out, &resp, false, true).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("content-length: 2\r\n"));
        assert!(text.ends_with("\r\n\r\nhi"));
        let mut out = Vec::new();
        write_response(&mut out, &resp, true, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("connection: close\r\n") && text.ends_with("\r\n\r\n"));
    }
}
