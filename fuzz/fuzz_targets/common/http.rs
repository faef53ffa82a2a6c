//! Splits fuzz input into an HTTP-ish request and response, so seeds are readable HTTP
//! messages and libFuzzer's mutations stay close to real traffic.
//!
//! Format (everything is optional; any bytes parse):
//! ```text
//! METHOD SP URI SP PROTOCOL LF        request line (URI is raw bytes, may hold anything but SP/LF)
//! Name: value LF                      request headers, until an empty line
//! LF
//! body                                request body, until the response separator
//! LF "=====" LF                       response separator
//! STATUS LF                           response status (digits; anything else is 200)
//! Name: value LF                      response headers, until an empty line
//! LF
//! body                                response body
//! ```
//! A trailing CR is stripped from header lines. Not here: any engine call.

/// One message's header block and body.
#[derive(Debug, Default)]
pub struct Message<'a> {
    /// The first line, split on spaces into at most three fields.
    pub start: Vec<&'a [u8]>,
    /// Header name / value pairs, in order.
    pub headers: Vec<(&'a [u8], &'a [u8])>,
    /// Everything after the empty line.
    pub body: &'a [u8],
}

/// Request and response parsed from one fuzz input.
#[derive(Debug, Default)]
pub struct Exchange<'a> {
    pub request: Message<'a>,
    pub response: Message<'a>,
}

const SEPARATOR: &[u8] = b"\n=====\n";

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split_line(input: &[u8]) -> (&[u8], &[u8]) {
    match input.iter().position(|&b| b == b'\n') {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => (input, &[]),
    }
}

fn message(input: &[u8]) -> Message<'_> {
    let (start, mut rest) = split_line(input);
    let mut msg = Message {
        start: start.splitn(3, |&b| b == b' ').collect(),
        ..Message::default()
    };
    loop {
        if rest.is_empty() {
            break;
        }
        let (line, next) = split_line(rest);
        rest = next;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => (&line[..i], line[i + 1..].trim_ascii_start()),
            None => (line, &b""[..]),
        };
        msg.headers.push((name, value));
    }
    msg.body = rest;
    msg
}

/// Parses `input` as described in the module documentation.
pub fn exchange(input: &[u8]) -> Exchange<'_> {
    let (req, resp) = match find(input, SEPARATOR) {
        Some(i) => (&input[..i], &input[i + SEPARATOR.len()..]),
        None => (input, &b""[..]),
    };
    Exchange {
        request: message(req),
        response: if resp.is_empty() {
            Message::default()
        } else {
            message(resp)
        },
    }
}

/// The `i`-th field of the start line, lossily as text, or `default`.
pub fn field(msg: &Message<'_>, i: usize, default: &str) -> String {
    msg.start
        .get(i)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .unwrap_or_else(|| default.to_string())
}

/// Splits `body` into chunks of `size` bytes (the whole body when `size` is 0).
pub fn chunks(body: &[u8], size: usize) -> Vec<&[u8]> {
    if size == 0 || body.is_empty() {
        vec![body]
    } else {
        body.chunks(size).collect()
    }
}
