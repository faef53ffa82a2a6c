//! JSON bodies, flattened into arguments the way libmodsecurity v3 names them.
//!
//! libmodsecurity feeds the body to yajl and turns its callbacks into arguments
//! (`src/request_body_processor/json.cc`, `json.h`):
//! - the top-level container is named `json`; an object member is `<path>.<key>`, an array
//!   element `<path>.array_<n>` (`json.ops.array_3.eins.array_0`, regression test
//!   `issue-1576.json`); a top-level scalar is just `json`;
//! - an empty key inside an object is `empty-key` (`getCurrentKey`), a container inside an
//!   array has an empty name, so its members read `json.a.array_0.key`;
//! - strings are unescaped, numbers are kept as sent (`yajl_number` gets the raw text),
//!   `true`/`false` as such, `null` as the empty string;
//! - duplicate keys are all kept, in document order.
//!
//! Hand-rolled instead of `serde_json`: we need the raw number text (serde_json only gives
//! it with `arbitrary_precision`, which changes number handling crate-wide for every other
//! user in the workspace), every duplicate key in order, bytes instead of `String` for
//! yajl's lone-surrogate quirks, and no recursion at all. This parser is an explicit-stack
//! state machine, so depth is bounded only by `max_depth` (CVE-2021-42717 was unbounded
//! recursion in ModSecurity's JSON parser) and `SecRequestBodyJsonDepthLimit` values above
//! serde_json's fixed recursion limit of 128 keep working. Not here: the argument limit
//! (`SecArgumentsLimit`) and the `JSON parsing error: ` prefix of `REQBODY_ERROR_MSG`,
//! which the transaction adds.

use super::Pair;

/// Parses a JSON body into arguments, failing past `max_depth` nesting levels.
///
/// The error message becomes `REQBODY_ERROR_MSG`. An empty body is not an error
/// (libmodsecurity only reports a JSON error when the body is non-empty, issue #1822).
/// On error the arguments seen so far are dropped; see [`parse_partial`] to keep them.
pub fn parse(body: &[u8], max_depth: usize) -> Result<Vec<Pair>, String> {
    let (args, error) = parse_partial(body, max_depth);
    match error {
        Some(e) => Err(e),
        None => Ok(args),
    }
}

/// Like [`parse`], but also returns the arguments produced before an error, as
/// libmodsecurity does (it adds each argument from inside the yajl callbacks, so a body
/// that fails half-way still populates `ARGS` up to the failure).
pub fn parse_partial(body: &[u8], max_depth: usize) -> (Vec<Pair>, Option<String>) {
    parse_limited(body, max_depth, usize::MAX)
}

/// Like [`parse_partial`], but stops reading once more than `max_args` arguments were
/// produced (it returns `max_args + 1` of them, so the caller sees the limit was passed,
/// and no error of its own).
///
/// This is `SecArgumentsLimit` applied while parsing, as libmodsecurity 3.0.7+ does (its
/// `JSON::addArgument` cancels yajl once the limit is reached). Applying the limit only
/// afterwards is a memory amplification: every argument name repeats the whole container
/// path, so 121 KB of `[`×500 then `1,`×60 000 make 60 000 names of ~4 KB, 240 MB in all.
pub fn parse_limited(
    body: &[u8],
    max_depth: usize,
    max_args: usize,
) -> (Vec<Pair>, Option<String>) {
    parse_pooled(body, max_depth, max_args, &mut super::Spare::default())
}

/// [`parse_limited`], names and values built in vectors taken from `spare` while it has
/// some (emptied ones a finished transaction left: no allocation per argument), and the
/// keys' vectors given back to it once copied into the names.
pub fn parse_pooled(
    body: &[u8],
    max_depth: usize,
    max_args: usize,
    spare: &mut super::Spare,
) -> (Vec<Pair>, Option<String>) {
    if body.is_empty() {
        return (Vec::new(), None);
    }
    let mut p = Parser {
        input: body,
        pos: 0,
        containers: Vec::new(),
        path: Vec::new(),
        current_key: Vec::new(),
        args: Vec::new(),
        max_args,
        spare,
    };
    let error = p.run(max_depth).err();
    (p.args, error)
}

/// One open container: where its part of [`Parser::path`] starts, the length of its name
/// (`JSONContainer::m_name`) there and, for arrays, the index of the next element
/// (`JSONContainerArray::m_elementCounter`).
struct Container {
    base: usize,
    name_len: usize,
    /// `Some(counter)` for an array, `None` for an object.
    array: Option<usize>,
}

#[derive(Clone, Copy)]
enum Expect {
    /// Any value.
    Value,
    /// Right after `[`: a value or `]`.
    ArrayFirst,
    /// Right after `{`: a key or `}`.
    ObjectFirst,
    /// After `,` in an object: a key.
    ObjectKey,
    /// After a complete value: `,` or the closing bracket of the enclosing container.
    AfterValue,
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    containers: Vec<Container>,
    /// The open containers' names with their `.array_<n>` or `.` suffixes: the start of
    /// the next argument's name, kept up to date as containers open, count and close
    /// (rather than rebuilt for every argument).
    path: Vec<u8>,
    current_key: Vec<u8>,
    args: Vec<Pair>,
    /// Stop once `args` holds more than this (see [`parse_limited`]).
    max_args: usize,
    /// Emptied vectors for names and values (see [`parse_pooled`]).
    spare: &'a mut super::Spare,
}

const PREMATURE_EOF: &str = "parse error: premature EOF";

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn run(&mut self, max_depth: usize) -> Result<(), String> {
        let mut state = Expect::Value;
        loop {
            if self.args.len() > self.max_args {
                return Ok(());
            }
            self.skip_ws();
            match state {
                Expect::Value | Expect::ArrayFirst => {
                    let c = self.peek().ok_or(PREMATURE_EOF)?;
                    if matches!(state, Expect::ArrayFirst) && c == b']' {
                        self.pos += 1;
                        self.end_container();
                        state = Expect::AfterValue;
                        continue;
                    }
                    match c {
                        b'{' | b'[' => {
                            self.pos += 1;
                            // yajl_start_map / yajl_start_array: the new container is named
                            // by the current key.
                            let name = self.take_current_key();
                            let array = (c == b'[').then_some(0);
                            let base = self.path.len();
                            self.path.extend_from_slice(&name);
                            self.containers.push(Container {
                                base,
                                name_len: name.len(),
                                array,
                            });
                            self.write_suffix();
                            if self.containers.len() > max_depth {
                                return Err("JSON depth limit exceeded".into());
                            }
                            state = if c == b'[' {
                                Expect::ArrayFirst
                            } else {
                                Expect::ObjectFirst
                            };
                        }
                        b'"' => {
                            let s = self.string()?;
                            self.add_argument(s);
                            state = Expect::AfterValue;
                        }
                        b't' => {
                            self.literal(b"true")?;
                            let v = self.spare.copy_of(b"true");
                            self.add_argument(v);
                            state = Expect::AfterValue;
                        }
                        b'f' => {
                            self.literal(b"false")?;
                            let v = self.spare.copy_of(b"false");
                            self.add_argument(v);
                            state = Expect::AfterValue;
                        }
                        b'n' => {
                            self.literal(b"null")?;
                            self.add_argument(Vec::new());
                            state = Expect::AfterValue;
                        }
                        b'-' | b'0'..=b'9' => {
                            let n = self.number()?;
                            self.add_argument(n);
                            state = Expect::AfterValue;
                        }
                        b']' | b'}' | b',' | b':' => {
                            return Err(
                                "parse error: unallowed token at this point in JSON text".into()
                            )
                        }
                        _ => return Err("lexical error: invalid char in json text.".into()),
                    }
                }
                Expect::ObjectFirst | Expect::ObjectKey => {
                    let c = self.peek().ok_or(PREMATURE_EOF)?;
                    if matches!(state, Expect::ObjectFirst) && c == b'}' {
                        self.pos += 1;
                        self.end_container();
                        state = Expect::AfterValue;
                        continue;
                    }
                    if c != b'"' {
                        return Err("parse error: invalid object key (must be a string)".into());
                    }
                    // yajl_map_key
                    self.current_key = self.string()?;
                    self.skip_ws();
                    match self.peek() {
                        Some(b':') => self.pos += 1,
                        None => return Err(PREMATURE_EOF.into()),
                        Some(_) => {
                            return Err("parse error: object key and value must be separated \
                                        by a colon (':')"
                                .into())
                        }
                    }
                    state = Expect::Value;
                }
                Expect::AfterValue => {
                    let Some(top) = self.containers.last() else {
                        // The top-level value is complete; only whitespace may follow.
                        return match self.peek() {
                            None => Ok(()),
                            Some(_) => Err("parse error: trailing garbage".into()),
                        };
                    };
                    let is_array = top.array.is_some();
                    match (self.peek(), is_array) {
                        (None, _) => return Err(PREMATURE_EOF.into()),
                        (Some(b','), true) => {
                            self.pos += 1;
                            state = Expect::Value;
                        }
                        (Some(b','), false) => {
                            self.pos += 1;
                            state = Expect::ObjectKey;
                        }
                        (Some(b']'), true) | (Some(b'}'), false) => {
                            self.pos += 1;
                            self.end_container();
                        }
                        (Some(_), true) => {
                            return Err(
                                "parse error: after array element, I expect ',' or ']'".into()
                            )
                        }
                        (Some(_), false) => {
                            return Err("parse error: after key and value, inside map, I \
                                        expect ',' or '}'"
                                .into())
                        }
                    }
                }
            }
        }
    }

    /// `JSON::getCurrentKey`: `json` at the top level; an empty key is `""` inside an
    /// array and `empty-key` inside an object; reading a key consumes it.
    fn take_current_key(&mut self) -> Vec<u8> {
        let Some(top) = self.containers.last() else {
            return b"json".to_vec();
        };
        if self.current_key.is_empty() {
            if top.array.is_some() {
                return Vec::new();
            }
            return b"empty-key".to_vec();
        }
        std::mem::take(&mut self.current_key)
    }

    /// `JSON::addArgument`: the name is every container's name followed by `.array_<n>`
    /// (arrays) or `.` (objects), then the current key unless the innermost container is
    /// an array.
    fn add_argument(&mut self, value: Vec<u8>) {
        let in_array = matches!(
            self.containers.last(),
            Some(Container { array: Some(_), .. })
        );
        let key = if in_array {
            Vec::new()
        } else {
            self.take_current_key()
        };
        let mut name = self.spare.take();
        name.reserve(self.path.len() + key.len());
        name.extend_from_slice(&self.path);
        name.extend_from_slice(&key);
        self.spare.give(key);
        self.args.push((name, value));
        if in_array {
            self.count_element();
        }
    }

    /// Counts one more element of the innermost container, an array, and renumbers its
    /// suffix in [`Parser::path`].
    fn count_element(&mut self) {
        if let Some(Container { array: Some(n), .. }) = self.containers.last_mut() {
            *n += 1;
            self.write_suffix();
        }
    }

    /// Rewrites the innermost container's suffix in [`Parser::path`]: `.array_<n>` or `.`.
    fn write_suffix(&mut self) {
        let Some(c) = self.containers.last() else {
            return;
        };
        self.path.truncate(c.base + c.name_len);
        match c.array {
            Some(n) => {
                use std::io::Write;
                // Writing to a Vec cannot fail.
                let _ = write!(self.path, ".array_{n}");
            }
            None => self.path.push(b'.'),
        }
    }

    /// `yajl_end_map` / `yajl_end_array`: pop, then count the closed container as an
    /// element of an enclosing array.
    fn end_container(&mut self) {
        if let Some(c) = self.containers.pop() {
            self.path.truncate(c.base);
        }
        self.count_element();
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), String> {
        let end = self.pos + word.len();
        match self.input.get(self.pos..end) {
            Some(w) if w == word => {
                self.pos = end;
                Ok(())
            }
            _ if self.input.len() < end
                && word.starts_with(self.input.get(self.pos..).unwrap_or_default()) =>
            {
                Err(PREMATURE_EOF.into())
            }
            _ => Err("lexical error: invalid string in json text.".into()),
        }
    }

    /// A number as yajl lexes it: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`,
    /// returned as its source text.
    fn number(&mut self) -> Result<Vec<u8>, String> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.pos += 1;
            }
            p.pos - s
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => {
                return Err(
                    "lexical error: malformed number, a digit is required after the \
                            minus sign."
                        .into(),
                )
            }
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(
                    "lexical error: malformed number, a digit is required after the \
                            decimal point."
                        .into(),
                );
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(
                    "lexical error: malformed number, a digit is required after the \
                            exponent."
                        .into(),
                );
            }
        }
        let text = self.input.get(start..self.pos).unwrap_or_default();
        Ok(self.spare.copy_of(text))
    }

    /// A string token (the cursor is on the opening quote), unescaped as
    /// `yajl_string_decode` does; the raw bytes must be valid UTF-8 (yajl validates
    /// strings by default) and may not contain control characters.
    fn string(&mut self) -> Result<Vec<u8>, String> {
        self.pos += 1;
        let start = self.pos;
        // Find the closing quote first, so UTF-8 validation covers the raw token.
        let mut end = start;
        let mut escaped = false;
        loop {
            match self.input.get(end) {
                None => return Err(PREMATURE_EOF.into()),
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    end += 2;
                }
                Some(&c) if c < 0x20 => {
                    return Err("lexical error: invalid character inside string.".into())
                }
                Some(_) => end += 1,
            }
        }
        let raw = self.input.get(start..end).unwrap_or_default();
        if std::str::from_utf8(raw).is_err() {
            return Err("lexical error: invalid bytes in UTF8 string.".into());
        }
        self.pos = end + 1;
        if !escaped {
            return Ok(self.spare.copy_of(raw));
        }
        let mut out = self.spare.take();
        out.reserve(raw.len());
        let mut i = 0;
        while let Some(&c) = raw.get(i) {
            if c != b'\\' {
                out.push(c);
                i += 1;
                continue;
            }
            let esc = raw.get(i + 1).copied();
            i += 2;
            match esc {
                Some(b'"') => out.push(b'"'),
                Some(b'\\') => out.push(b'\\'),
                Some(b'/') => out.push(b'/'),
                Some(b'b') => out.push(0x08),
                Some(b'f') => out.push(0x0c),
                Some(b'n') => out.push(b'\n'),
                Some(b'r') => out.push(b'\r'),
                Some(b't') => out.push(b'\t'),
                Some(b'u') => {
                    let cp = hex4(raw.get(i..i + 4)).ok_or(
                        "lexical error: invalid (non-hex) character occurs after '\\u' inside \
                         string.",
                    )?;
                    i += 4;
                    if cp & 0xFC00 == 0xD800 {
                        // A high surrogate: combined with the next `\u` escape the way yajl
                        // does it, or `?` when none follows.
                        if raw.get(i) == Some(&b'\\') && raw.get(i + 1) == Some(&b'u') {
                            let lo = hex4(raw.get(i + 2..i + 6)).ok_or(
                                "lexical error: invalid (non-hex) character occurs after '\\u' \
                                 inside string.",
                            )?;
                            i += 6;
                            let combined = ((cp & 0x3F) << 10)
                                | ((((cp >> 6) & 0xF) + 1) << 16)
                                | (lo & 0x3FF);
                            utf32_to_utf8(combined, &mut out);
                        } else {
                            out.push(b'?');
                        }
                    } else {
                        utf32_to_utf8(cp, &mut out);
                    }
                }
                _ => {
                    return Err("lexical error: inside a string, '\\' occurs before a \
                                character which it may not."
                        .into())
                }
            }
        }
        Ok(out)
    }
}

fn hex4(s: Option<&[u8]>) -> Option<u32> {
    let s = s?;
    let mut v = 0u32;
    for &c in s {
        v = v << 4 | char::from(c).to_digit(16)?;
    }
    Some(v)
}

/// yajl's `Utf32toUtf8`: plain UTF-8 byte patterns, surrogates included, `?` past 21 bits.
fn utf32_to_utf8(cp: u32, out: &mut Vec<u8>) {
    // The `as u8` casts keep the low bits by design, as the C code does.
    if cp < 0x80 {
        out.push(cp as u8);
    } else if cp < 0x800 {
        out.push(0xC0 | (cp >> 6) as u8);
        out.push(0x80 | (cp & 0x3F) as u8);
    } else if cp < 0x10000 {
        out.push(0xE0 | (cp >> 12) as u8);
        out.push(0x80 | ((cp >> 6) & 0x3F) as u8);
        out.push(0x80 | (cp & 0x3F) as u8);
    } else if cp < 0x200000 {
        out.push(0xF0 | (cp >> 18) as u8);
        out.push(0x80 | ((cp >> 12) & 0x3F) as u8);
        out.push(0x80 | ((cp >> 6) & 0x3F) as u8);
        out.push(0x80 | (cp & 0x3F) as u8);
    } else {
        out.push(b'?');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_limit_stops_parsing_early() {
        let mut body = "[".repeat(500);
        body.push_str(&"1,".repeat(60_000));
        body.push('1');
        body.push_str(&"]".repeat(500));
        let (args, err) = parse_limited(body.as_bytes(), 512, 1000);
        assert_eq!((args.len(), err), (1001, None));
        let (args, _) = parse_limited(br#"{"a":1,"b":2}"#, 512, 2);
        assert_eq!(args.len(), 2);
        let (args, _) = parse_limited(br#"{"a":1,"b":2,"c":3}"#, 512, 1);
        assert_eq!(args.len(), 2, "one past the limit, then stop");
    }

    const DEPTH: usize = 10_000;

    fn args(body: &str) -> Vec<(String, String)> {
        parse(body.as_bytes(), DEPTH)
            .expect("valid JSON")
            .into_iter()
            .map(|(n, v)| {
                (
                    String::from_utf8(n).unwrap(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect()
    }

    fn p(n: &str, v: &str) -> (String, String) {
        (n.to_string(), v.to_string())
    }

    // request-body-parser-json.json 1/2 and 2/2.
    #[test]
    fn modsec_regression_objects() {
        assert_eq!(
            args("{\n       \"foo\":\"bar\",\n       \"mod\":\"sec\"\n}\n"),
            vec![p("json.foo", "bar"), p("json.mod", "sec")]
        );
        assert_eq!(
            args(
                "{\n\"first_level\":\n{\n       \"first_key\":\"bar\",\n       \
                 \"second_key\":\"sec\"\n}\n}\n"
            ),
            vec![
                p("json.first_level.first_key", "bar"),
                p("json.first_level.second_key", "sec")
            ]
        );
    }

    // issue-1576.json (1/3), (2/3) and (3/3): arrays, nested arrays, objects in arrays.
    #[test]
    fn modsec_regression_issue_1576_arrays() {
        let got = args(
            r#"{ "foo":"bar", "mod":"sec", "ops": [ ["um", "um e meio"], "dois", "tres",
                 { "eins": ["zwei", "drei"] } ], "whee": "lhebs" }"#,
        );
        assert_eq!(
            got,
            vec![
                p("json.foo", "bar"),
                p("json.mod", "sec"),
                p("json.ops.array_0.array_0", "um"),
                p("json.ops.array_0.array_1", "um e meio"),
                p("json.ops.array_1", "dois"),
                p("json.ops.array_2", "tres"),
                p("json.ops.array_3.eins.array_0", "zwei"),
                p("json.ops.array_3.eins.array_1", "drei"),
                p("json.whee", "lhebs"),
            ]
        );
        assert_eq!(
            args("[\n   \"one\",\n   \"two\",\n   \"three\"\n]\n"),
            vec![
                p("json.array_0", "one"),
                p("json.array_1", "two"),
                p("json.array_2", "three")
            ]
        );
        let got = args(
            r#"{"foo":"bar","ops":{"um":"um e meio","seis":{"dez":"onze","doze":"treze"}},
                "whee":"lhebs"}"#,
        );
        assert!(got.contains(&p("json.ops.seis.doze", "treze")));
        assert_eq!(got.last(), Some(&p("json.whee", "lhebs")));
    }

    // request-body-parser-json.json "depth not over limit" / "depth over limit".
    #[test]
    fn modsec_regression_depth_limit() {
        let body = br#"{ "key1": { "key2": { "key3": { "key4": { "key5":"thevalue" }}}}}"#;
        assert_eq!(
            parse(body, 5).unwrap(),
            vec![(
                b"json.key1.key2.key3.key4.key5".to_vec(),
                b"thevalue".to_vec()
            )]
        );
        assert!(parse(body, 4).is_err());
    }

    // request-body-parser-json.json issue #1822: empty body is no error, "a" is one.
    #[test]
    fn modsec_regression_issue_1822() {
        assert_eq!(parse(b"", DEPTH), Ok(vec![]));
        assert!(parse(b"a", DEPTH).is_err());
    }

    // secargumentslimit.json: five keys become five arguments, in order.
    #[test]
    fn modsec_regression_argument_count() {
        let got = args(r#"{"k1":"v1","k2":"v2","k3":"v3","k4":"v4","k5":"v5"}"#);
        assert_eq!(got.len(), 5);
        assert_eq!(got[4], p("json.k5", "v5"));
    }

    #[test]
    fn scalars_render_as_libmodsecurity() {
        assert_eq!(
            args(
                r#"{"t":true,"f":false,"n":null,"i":-0,"x":1.50e+3,"big":123456789012345678901234567890}"#
            ),
            vec![
                p("json.t", "true"),
                p("json.f", "false"),
                p("json.n", ""),
                p("json.i", "-0"),
                p("json.x", "1.50e+3"),
                p("json.big", "123456789012345678901234567890"),
            ]
        );
        assert_eq!(args("42"), vec![p("json", "42")]);
        assert_eq!(args(r#""top""#), vec![p("json", "top")]);
    }

    #[test]
    fn keys_duplicates_empty_and_escapes() {
        assert_eq!(
            args(r#"{"a":1,"a":2,"":3,"k\"ey":"v\u0041\n\/"}"#),
            vec![
                p("json.a", "1"),
                p("json.a", "2"),
                p("json.empty-key", "3"),
                p("json.k\"ey", "vA\n/"),
            ]
        );
        // Containers inside arrays have no name; an empty array/object adds nothing.
        assert_eq!(
            args(r#"{"a":[{"b":1},[],{},[2]],"c":{}}"#),
            vec![p("json.a.array_0.b", "1"), p("json.a.array_3.array_0", "2")]
        );
        // Surrogate pair, and yajl's '?' for a lone high surrogate.
        assert_eq!(args(r#"["\ud83d\ude00","\ud83dx"]"#)[0].1, "\u{1F600}");
        assert_eq!(args(r#"["\ud83d\ude00","\ud83dx"]"#)[1].1, "?x");
    }

    #[test]
    fn malformed_json_is_an_error() {
        for bad in [
            &b"{"[..],
            b"{\"a\"",
            b"{\"a\":}",
            b"{\"a\":1,}",
            b"[1,]",
            b"[1 2]",
            b"{\"a\" 1}",
            b"{1:2}",
            b"tru",
            b"nul",
            b"01",
            b"-",
            b"1.",
            b"1e",
            b"\"abc",
            b"\"a\\x\"",
            b"\"\\u12g4\"",
            b"\"a\x01\"",
            b"\"\xff\"",
            b"{} {}",
            b" ",
            b"]",
        ] {
            assert!(
                parse(bad, DEPTH).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn partial_keeps_arguments_before_the_error() {
        let (got, err) = parse_partial(br#"{"a":"1","b":[2,"#, DEPTH);
        assert_eq!(
            got,
            vec![
                (b"json.a".to_vec(), b"1".to_vec()),
                (b"json.b.array_0".to_vec(), b"2".to_vec())
            ]
        );
        assert_eq!(err.as_deref(), Some(PREMATURE_EOF));
    }

    #[test]
    fn hostile_deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(
            parse(deep.as_bytes(), 500),
            Err("JSON depth limit exceeded".to_string())
        );
        // Allowed when the limit is high enough, without recursion.
        assert_eq!(parse(deep.as_bytes(), 10_000), Ok(vec![]));
        let deep_obj = "{\"a\":".repeat(200_000);
        assert!(parse(deep_obj.as_bytes(), usize::MAX).is_err());
    }

    #[test]
    fn random_bytes_never_panic() {
        const ALPHABET: &[u8] = b"{}[]\",:\\u0tfn1-.eE \xff";
        let mut x: u32 = 0x1234_5678;
        for len in 0..400 {
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    ALPHABET[x as usize % ALPHABET.len()]
                })
                .collect();
            let _ = parse_partial(&buf, 64);
        }
    }
}
