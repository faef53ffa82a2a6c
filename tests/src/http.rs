//! HTTP/1.1 as the CRS tests put it on the wire and as a front-end proxy reads it.
//!
//! [`build_ftw_request`] mirrors go-ftw's `ftwhttp.BuildRequest` (`ftwhttp/request.go`):
//! headers from the YAML map sorted by name, and with `autocomplete_headers` (the default) a
//! `Content-Type: application/x-www-form-urlencoded` for data, form data URL-encoded
//! pair by pair when it holds no `%` or `+`, `Connection: close`, and `Content-Length` for
//! data or body methods; multipart data gets its LFs turned into CRLFs.
//! [`parse_request`] is the proxy side: it reads those bytes the way an RFC 9112 server does
//! and answers 400 (or drops the connection, for an HTTP/0.9 request line) where Apache,
//! the server the CRS tests are written against, would, so the WAF never sees such a
//! request. It de-chunks chunked bodies and drops `Content-Length` beside
//! `Transfer-Encoding` (RFC 9112 §6.3); without either, a request has no body.
//! Not here: any socket.

/// A request as the WAF gets it from the proxy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedRequest {
    /// Method.
    pub method: String,
    /// Raw request target.
    pub target: Vec<u8>,
    /// Protocol (`HTTP/1.1`).
    pub version: String,
    /// Headers in wire order.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Body, de-chunked.
    pub body: Vec<u8>,
}

/// Why the proxy did not forward a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The proxy answers with this status (400).
    Status(u16, String),
    /// No HTTP response at all (HTTP/0.9 request line).
    ConnectionError(String),
}

/// go-ftw's input for one request.
#[derive(Debug, Clone, Default)]
pub struct FtwInput {
    /// Method (default `GET`).
    pub method: Option<String>,
    /// Request target (default `/`).
    pub uri: Option<String>,
    /// Protocol (default `HTTP/1.1`).
    pub version: Option<String>,
    /// Headers as given (go-ftw sorts them by name).
    pub headers: Vec<(String, String)>,
    /// Body data.
    pub data: Vec<u8>,
    /// Whether go-ftw completes headers (default true).
    pub autocomplete: bool,
}

fn has(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// go's `url.QueryEscape`.
fn query_escape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(c),
            b' ' => out.push(b'+'),
            _ => out.extend_from_slice(format!("%{c:02X}").as_bytes()),
        }
    }
    out
}

/// go-ftw's `encodeDataParameters` for form data. Data that `url.QueryUnescape` would change
/// or reject (any `%` or `+`) is taken as already encoded.
fn encode_form(data: &[u8]) -> Vec<u8> {
    if data.contains(&b'%') || data.contains(&b'+') {
        return data.to_vec();
    }
    let mut out = Vec::new();
    for token in data.split(|&c| c == b'&') {
        match token.iter().position(|&c| c == b'=') {
            None => out.extend(query_escape(token)),
            Some(eq) => {
                out.extend(query_escape(&token[..eq]));
                out.push(b'=');
                out.extend(query_escape(&token[eq + 1..]));
            }
        }
        out.push(b'&');
    }
    // go-ftw splits with a loop that ignores a trailing empty token; `split` yields it.
    if data.ends_with(b"&") {
        out.pop();
    }
    out.pop();
    out
}

/// The bytes go-ftw sends for `input`.
pub fn build_ftw_request(input: &FtwInput) -> Vec<u8> {
    let method = input.method.as_deref().unwrap_or("GET");
    let uri = input.uri.as_deref().unwrap_or("/");
    let version = input.version.as_deref().unwrap_or("HTTP/1.1");
    let mut headers = input.headers.clone();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let mut data = input.data.clone();
    if !data.is_empty() && input.autocomplete {
        if !has(&headers, "Content-Type") {
            headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
        }
        let form = headers.iter().any(|(n, v)| {
            n.eq_ignore_ascii_case("Content-Type")
                && v.eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
        if form {
            data = encode_form(&data);
        }
    }
    let multipart = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("Content-Type")
            && v.to_ascii_lowercase().contains("multipart/form-data;")
    });
    if multipart {
        let mut out = Vec::with_capacity(data.len() + 16);
        for &c in &data {
            if c == b'\n' {
                out.push(b'\r');
            }
            out.push(c);
        }
        data = out;
    }
    if input.autocomplete {
        if !has(&headers, "Connection") {
            headers.push(("Connection".into(), "close".into()));
        }
        // go-ftw's `^POST|PUT|PATCH|DELETE$`, precedence included.
        let body_method = method.starts_with("POST")
            || method.contains("PUT")
            || method.contains("PATCH")
            || method.ends_with("DELETE");
        if !has(&headers, "Content-Length") && (!data.is_empty() || body_method) {
            headers.push(("Content-Length".into(), data.len().to_string()));
        }
    }
    let mut out = format!("{method} {uri} {version}\r\n").into_bytes();
    for (n, v) in &headers {
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&data);
    out
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

fn bad(why: impl Into<String>) -> Rejection {
    Rejection::Status(400, why.into())
}

/// Splits off one line ending in LF (a CR before it is dropped).
fn take_line(buf: &[u8]) -> Option<(&[u8], &[u8])> {
    let nl = buf.iter().position(|&c| c == b'\n')?;
    let line = &buf[..nl];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, &buf[nl + 1..]))
}

fn valid_version(v: &str) -> bool {
    let Some(num) = v.strip_prefix("HTTP/") else {
        return false;
    };
    let b = num.as_bytes();
    match b {
        [major] => major.is_ascii_digit() && *major >= b'1',
        [major, b'.', minor] => major.is_ascii_digit() && *major >= b'1' && minor.is_ascii_digit(),
        _ => false,
    }
}

fn valid_target(method: &str, t: &[u8]) -> bool {
    if t.is_empty() || t.iter().any(|&c| c <= 0x20 || c == 0x7f || c == b'#') {
        return false;
    }
    if method == "CONNECT" {
        // authority-form: host:port
        return match t.iter().rposition(|&c| c == b':') {
            Some(p) => p > 0 && p + 1 < t.len() && t[p + 1..].iter().all(u8::is_ascii_digit),
            None => false,
        };
    }
    t[0] == b'/' || t == b"*" || t.starts_with(b"http://") || t.starts_with(b"https://")
}

fn valid_host(h: &[u8]) -> bool {
    let (host, port) = if h.first() == Some(&b'[') {
        let Some(end) = h.iter().position(|&c| c == b']') else {
            return false;
        };
        let inner = &h[1..end];
        if inner.is_empty()
            || !inner
                .iter()
                .all(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        {
            return false;
        }
        (&h[..=end], &h[end + 1..])
    } else {
        match h.iter().position(|&c| c == b':') {
            Some(p) => (&h[..p], &h[p..]),
            None => (h, &h[h.len()..]),
        }
    };
    let host_ok = host.first() == Some(&b'[')
        || (!host.is_empty()
            && host
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || b"-._".contains(&c)));
    let port_ok = port.is_empty() || (port.len() > 1 && port[1..].iter().all(u8::is_ascii_digit));
    host_ok && port_ok
}

/// Decodes a chunked body; stops at the last chunk or where the data ends.
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, Rejection> {
    let mut out = Vec::new();
    while let Some((line, after)) = take_line(rest) {
        let size_text = line.split(|&c| c == b';').next().unwrap_or(b"");
        let size_text = std::str::from_utf8(size_text)
            .map_err(|_| bad("bad chunk size"))?
            .trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| bad("bad chunk size"))?;
        if size == 0 {
            break;
        }
        let chunk = after.get(..size).unwrap_or(after);
        out.extend_from_slice(chunk);
        rest = after.get(size..).unwrap_or(&[]);
        rest = rest
            .strip_prefix(b"\r\n")
            .or_else(|| rest.strip_prefix(b"\n"))
            .unwrap_or(rest);
    }
    Ok(out)
}

/// Reads one request the way a strict HTTP/1.1 front end does.
pub fn parse_request(raw: &[u8]) -> Result<ParsedRequest, Rejection> {
    let Some((line, mut rest)) = take_line(raw) else {
        return Err(bad("no complete request line"));
    };
    let parts: Vec<&[u8]> = line.split(|&c| c == b' ').collect();
    let (method, target, version) = match parts.as_slice() {
        [m, t] if !m.is_empty() && !t.is_empty() => {
            return Err(Rejection::ConnectionError(format!(
                "HTTP/0.9 request line {:?}",
                String::from_utf8_lossy(line)
            )))
        }
        [m, t, v] if !v.is_empty() => (*m, *t, *v),
        [m, t, _] if !m.is_empty() && !t.is_empty() => {
            return Err(Rejection::ConnectionError(format!(
                "HTTP/0.9 request line {:?}",
                String::from_utf8_lossy(line)
            )))
        }
        _ => {
            return Err(bad(format!(
                "malformed request line {:?}",
                String::from_utf8_lossy(line)
            )))
        }
    };
    if method.is_empty() || !method.iter().all(|&c| is_tchar(c)) {
        return Err(bad("method is not a token"));
    }
    let method = String::from_utf8_lossy(method).into_owned();
    let version = String::from_utf8_lossy(version).into_owned();
    if !valid_version(&version) {
        return Err(bad(format!("unsupported protocol {version:?}")));
    }
    if !valid_target(&method, target) {
        return Err(bad("invalid request target"));
    }
    let mut headers: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    loop {
        let Some((hline, after)) = take_line(rest) else {
            return Err(bad("headers do not end"));
        };
        rest = after;
        if hline.is_empty() {
            break;
        }
        let Some(colon) = hline.iter().position(|&c| c == b':') else {
            return Err(bad("header line without colon"));
        };
        let name = &hline[..colon];
        if name.is_empty() || !name.iter().all(|&c| is_tchar(c)) {
            return Err(bad("header name is not a token"));
        }
        let value = hline[colon + 1..].trim_ascii();
        if value.iter().any(|&c| c == 0 || c == b'\r') {
            return Err(bad("NUL or CR in a header value"));
        }
        headers.push((name.to_vec(), value.to_vec()));
    }
    let values = |name: &str| -> Vec<Vec<u8>> {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.clone())
            .collect()
    };
    let hosts = values("host");
    if hosts.len() > 1 {
        return Err(bad("more than one Host"));
    }
    match hosts.first() {
        Some(h) if !h.is_empty() && !valid_host(h) => return Err(bad("invalid Host")),
        Some(h) if h.is_empty() && version == "HTTP/1.1" => {
            return Err(bad("empty Host in HTTP/1.1"))
        }
        None if version == "HTTP/1.1" => return Err(bad("no Host in HTTP/1.1")),
        _ => {}
    }
    let chunked = values("transfer-encoding").iter().any(|v| {
        v.split(|&c| c == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"))
    });
    let body = if chunked {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(b"content-length"));
        dechunk(rest)?
    } else {
        let lengths = values("content-length");
        let mut len: Option<usize> = None;
        for l in &lengths {
            if l.is_empty() || !l.iter().all(u8::is_ascii_digit) {
                return Err(bad("Content-Length is not a number"));
            }
            let n: usize = std::str::from_utf8(l)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad("Content-Length too large"))?;
            if len.is_some_and(|prev| prev != n) {
                return Err(bad("conflicting Content-Length"));
            }
            len = Some(n);
        }
        let n = len.unwrap_or(0);
        rest.get(..n).unwrap_or(rest).to_vec()
    };
    Ok(ParsedRequest {
        method,
        target: target.to_vec(),
        version,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(method: &str, headers: &[(&str, &str)], data: &str) -> FtwInput {
        FtwInput {
            method: Some(method.into()),
            headers: headers
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            data: data.as_bytes().to_vec(),
            autocomplete: true,
            ..FtwInput::default()
        }
    }

    #[test]
    fn ftw_autocompletes_like_go_ftw() {
        let raw = build_ftw_request(&input(
            "POST",
            &[("User-Agent", "x"), ("Host", "localhost")],
            "a=b c&d=<e>",
        ));
        let text = String::from_utf8(raw).unwrap();
        assert_eq!(
            text,
            "POST / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Connection: close\r\nContent-Length: 15\r\n\r\na=b+c&d=%3Ce%3E"
        );
        // Already encoded data is left alone.
        let raw = build_ftw_request(&input("POST", &[("Host", "h")], "a=%27"));
        assert!(raw.ends_with(b"\r\n\r\na=%27"));
    }

    #[test]
    fn multipart_lf_becomes_crlf() {
        let raw = build_ftw_request(&input(
            "POST",
            &[
                ("Host", "h"),
                ("Content-Type", "multipart/form-data; boundary=b"),
            ],
            "--b\nx\n",
        ));
        assert!(raw.ends_with(b"\r\n\r\n--b\r\nx\r\n"));
    }

    #[test]
    fn proxy_parses_and_dechunks() {
        let raw = b"POST /p?q=1 HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n3\r\nHi \r\n3\r\nCRS\r\n0\r\n\r\n";
        let r = parse_request(raw).unwrap();
        assert_eq!(r.body, b"Hi CRS");
        assert!(r.headers.iter().all(|(n, _)| n != b"Content-Length"));
        let r = parse_request(b"GET / HTTP/1.1\r\nHost: h\r\n\r\nignored").unwrap();
        assert!(r.body.is_empty());
    }

    #[test]
    fn proxy_rejects_what_apache_rejects() {
        let rejects = |raw: &[u8]| matches!(parse_request(raw), Err(Rejection::Status(400, _)));
        assert!(rejects(b"     GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
        assert!(rejects(b"GET /#frag HTTP/1.1\r\nHost: h\r\n\r\n"));
        assert!(rejects(b"GET / HTTP/0.9\r\nHost: h\r\n\r\n"));
        assert!(rejects(b"GET / HTTP/1.1\r\nHost: \r\n\r\n"));
        assert!(rejects(b"GET / HTTP/1.1\r\nHost: localhost%00\r\n\r\n"));
        assert!(rejects(
            b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3;\r\n\r\n"
        ));
        assert!(rejects(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n"));
        assert!(rejects(
            b"CONNECT www.example.org HTTP/1.1\r\nHost: h\r\n\r\n"
        ));
        assert!(matches!(
            parse_request(b"GET / \r\nHost: h\r\n\r\n"),
            Err(Rejection::ConnectionError(_))
        ));
        assert!(parse_request(b"GET / HTTP/1.0\r\nHost:\r\n\r\n").is_ok());
        assert!(parse_request(b"CONNECT 1.2.3.4:80 HTTP/1.1\r\nHost: [::1]:80\r\n\r\n").is_ok());
        assert!(parse_request(b"GET / HTTP/3.0\r\nHost: h\r\n\r\n").is_ok());
    }
}
