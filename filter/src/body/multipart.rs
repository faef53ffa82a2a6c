//! `multipart/form-data` bodies, with ModSecurity's strict-parsing flags.
//!
//! A line-by-line port of the state machine in libmodsecurity v3
//! `src/request_body_processor/multipart.cc` (`Multipart::init`, `process`,
//! `process_part_header`, `parse_content_disposition`, `process_part_data`,
//! `process_boundary`, `multipart_complete`), because the point of this parser is to
//! disagree with backends exactly where ModSecurity does (MODSEC-312 / CVE-2022-48279
//! class differentials) and to raise the same `MULTIPART_*` flags. A general multipart
//! crate (e.g. `multer`) would parse "correctly" and so hide those differentials.
//!
//! Behaviour worth knowing, all as in v3:
//! - lines are read into a 4096-byte buffer (`MULTIPART_BUF_SIZE`); a part header line
//!   that does not fit is a fatal error;
//! - fatal errors (boundary problems) stop parsing; part-header errors only set the error
//!   message and parsing goes on (v3 compares their `false` return with `< 0`), and the
//!   last message set wins — except that a missing final boundary replaces it;
//! - a form-data value loses the line break at the end of each of its lines (v3 assigns
//!   the reserved CRLF and then overwrites it: regression test
//!   `request-body-parser-multipart-crlf.json` expects `22.12.22.3`); file sizes keep them;
//! - a part without a name is dropped and sets `MULTIPART_INVALID_PART`.
//!
//! One deliberate difference from v3: a duplicate part header (two `Content-Disposition`
//! lines in one part) is an error, as in ModSecurity v2, where v3 silently ignores the
//! second line and so parses a different part than a backend that takes the last one.
//!
//! Not here: temporary files (Wafer never writes uploads to disk), and the
//! `Multipart parsing error: ` prefix of `REQBODY_ERROR_MSG` (the transaction adds it).

use super::Pair;

/// ModSecurity's `MULTIPART_BUF_SIZE`: the longest line handled at once.
const BUF_SIZE: usize = 4096;

/// Limits that apply while parsing multipart bodies.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Maximum number of file parts (`SecUploadFileLimit`, default 100); more sets
    /// `MULTIPART_FILE_LIMIT_EXCEEDED` and the error
    /// `Multipart: Upload file limit exceeded N. Use SecUploadFileLimit to change the limit.`
    ///
    /// libmodsecurity only counts files it extracts to disk (`SecUploadKeepFiles` or
    /// `SecTmpSaveUploadedFiles` on), so a transaction mirroring a configuration with both
    /// off should pass 0, which disables the check. Like v3, a file part counts once it has
    /// data; unlike v3, a file's second line does not count it again (v3 compares before
    /// knowing whether the part already has a file, a false positive we don't copy).
    pub max_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_files: 100 }
    }
}

/// A part that carried a `filename`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FilePart {
    /// The part's `name` (the key of `FILES`, `FILES_NAMES`, `FILES_SIZES`).
    pub name: Vec<u8>,
    /// The `filename` parameter as sent (the value of `FILES`).
    pub filename: Vec<u8>,
    /// The size of the part's content in bytes.
    pub size: usize,
}

/// The strict-parsing flags ModSecurity sets (each maps to a `MULTIPART_*` variable).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    /// `MULTIPART_BOUNDARY_QUOTED`: `boundary="..."` in the Content-Type.
    pub boundary_quoted: bool,
    /// `MULTIPART_BOUNDARY_WHITESPACE`: whitespace around `=` of the boundary parameter.
    pub boundary_whitespace: bool,
    /// `MULTIPART_DATA_BEFORE`: bytes before the first boundary.
    pub data_before: bool,
    /// `MULTIPART_DATA_AFTER`: bytes after the final boundary.
    pub data_after: bool,
    /// `MULTIPART_HEADER_FOLDING`: a folded part header.
    pub header_folding: bool,
    /// `MULTIPART_LF_LINE`: a line ended with a bare LF.
    pub lf_line: bool,
    /// A line ended with CRLF (see [`Flags::crlf_lf_lines`]).
    pub crlf_line: bool,
    /// `MULTIPART_MISSING_SEMICOLON`: no `;` before `boundary` in the Content-Type.
    pub missing_semicolon: bool,
    /// `MULTIPART_INVALID_QUOTING`: single quotes in Content-Disposition.
    pub invalid_quoting: bool,
    /// `MULTIPART_INVALID_PART`: a part without a name, or a boundary where data belongs.
    pub invalid_part: bool,
    /// `MULTIPART_INVALID_HEADER_FOLDING`: folding with whitespace other than SP / HTAB.
    pub invalid_header_folding: bool,
    /// `MULTIPART_FILE_LIMIT_EXCEEDED`: more file parts than [`Limits::max_files`].
    pub file_limit_exceeded: bool,
    /// `MULTIPART_UNMATCHED_BOUNDARY`: something like a boundary that is not ours. v3 sets
    /// the variable to 1 for this and to 2 once a real boundary followed a first one; both
    /// are "not 0" (see [`Multipart::unmatched_boundary`]).
    pub unmatched_boundary: bool,
}

impl Flags {
    /// `MULTIPART_CRLF_LF_LINES`: both CRLF and bare-LF line endings were seen.
    pub fn crlf_lf_lines(&self) -> bool {
        self.crlf_line && self.lf_line
    }
}

/// The result of parsing a multipart body.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Multipart {
    /// Non-file parts: name → content (`ARGS_POST`).
    pub args: Vec<Pair>,
    /// File parts.
    pub files: Vec<FilePart>,
    /// Every header line of every part, keyed by the part's name
    /// (`MULTIPART_PART_HEADERS:name`), the value being the whole `Name: value` line.
    pub part_headers: Vec<Pair>,
    /// Part names (`MULTIPART_NAME`) and file names (`MULTIPART_FILENAME`) as seen.
    pub names: Vec<Vec<u8>>,
    /// See [`Multipart::names`].
    pub filenames: Vec<Vec<u8>>,
    /// Strict-parsing flags.
    pub flags: Flags,
    /// A fatal parse error (`REQBODY_ERROR` / `MULTIPART_STRICT_ERROR`), with ModSecurity's
    /// message where it has one.
    pub error: Option<String>,
    /// Every error message set while parsing, in order (what v3 writes to its debug log).
    /// [`Multipart::error`] is the last of them, as in v3, where later messages overwrite
    /// earlier ones: after a part-header error the final boundary is usually not
    /// recognised, so `error` often ends as `Multipart: Final boundary missing.` while the
    /// root cause is here.
    pub messages: Vec<String>,
    /// The value of `MULTIPART_UNMATCHED_BOUNDARY` as v3 sets it: 0, 1 (a line looked like
    /// a boundary but was not ours) or 2 (a boundary matched after the first one; set even
    /// when nothing was unmatched, as v3 does).
    pub unmatched_boundary: u8,
    /// Bytes of the body that do not belong to a file part, for
    /// `SecRequestBodyNoFilesLimit`. Counted per byte as ModSecurity does
    /// (`multipart_process_chunk` in v2's `msc_multipart.c`, which libmodsecurity 3.0.13
    /// follows): a byte counts unless the part being read is a file, so the boundary line
    /// that ends a file part does not count either.
    pub no_files_len: usize,
}

impl Multipart {
    /// `MULTIPART_STRICT_ERROR`: any error or strict flag.
    pub fn strict_error(&self) -> bool {
        let f = &self.flags;
        self.error.is_some()
            || f.boundary_quoted
            || f.boundary_whitespace
            || f.data_before
            || f.data_after
            || f.header_folding
            || f.lf_line
            || f.missing_semicolon
            || f.invalid_quoting
            || f.invalid_part
            || f.invalid_header_folding
            || f.file_limit_exceeded
    }
}

/// Parses `body` given the request's whole `Content-Type` header value.
pub fn parse(content_type: &[u8], body: &[u8], limits: &Limits) -> Multipart {
    let mut p = Parser {
        limits: *limits,
        out: Multipart::default(),
        ..Parser::default()
    };
    // Transaction::processRequestBody: init, process if init succeeded, always complete.
    if p.init(content_type) {
        p.process(body);
    }
    p.complete();
    p.out.flags.unmatched_boundary = p.out.unmatched_boundary != 0;
    p.out
}

#[derive(Default, PartialEq, Eq, Clone, Copy)]
enum PartType {
    #[default]
    Unknown,
    FormData,
    File,
}

/// `MultipartPart`: the part being built.
#[derive(Default)]
struct Part {
    kind: PartType,
    name: Vec<u8>,
    filename: Vec<u8>,
    /// Headers by name: `(name, value)`, in arrival order.
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    last_header_name: Vec<u8>,
    last_header_line: Vec<u8>,
    header_lines: Vec<Vec<u8>>,
    value: Vec<u8>,
    file_size: usize,
    has_file: bool,
}

impl Part {
    fn header(&self, name: &[u8]) -> Option<&Vec<u8>> {
        // libmodsecurity keeps part headers in a case-insensitive map.
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

#[derive(Default)]
struct Parser {
    limits: Limits,
    out: Multipart,
    boundary: Vec<u8>,
    buf: Vec<u8>,
    buf_contains_line: bool,
    crlf_state: u8,
    crlf_state_buf_end: u8,
    mpp: Option<Part>,
    /// `m_mpp_state`: false while reading part headers, true while reading data.
    in_data: bool,
    /// `m_mpp_substate_part_data_read`.
    data_read: bool,
    /// `m_reserve[0]`: line-ending bytes held back from the previous data line.
    reserve: usize,
    seen_data: bool,
    is_complete: bool,
    boundary_count: usize,
    nfiles: usize,
    parts: Vec<Part>,
}

/// C `isspace` in the "C" locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `Multipart::is_token_char`.
fn is_token_char(c: u8) -> bool {
    !(c <= 32 || c >= 127 || b"()<>@,;:\\\"/[]?=".contains(&c))
}

/// `Multipart::boundary_characters_valid` (RFC 2046 bchars; space not last).
fn boundary_characters_valid(b: &[u8]) -> bool {
    b.iter().enumerate().all(|(i, &c)| {
        c.is_ascii_alphanumeric() || (c == b' ' && i + 1 != b.len()) || b"'()+_,-./:=?".contains(&c)
    })
}

/// `Multipart::count_boundary_params`: occurrences of `boundary` (any case) followed,
/// anywhere later, by an `=`.
fn count_boundary_params(s: &[u8]) -> usize {
    let lower = s.to_ascii_lowercase();
    let mut count = 0;
    let mut from = 0;
    while let Some(i) = find(lower.get(from..).unwrap_or_default(), b"boundary") {
        from += i + 8;
        if lower.get(from..).unwrap_or_default().contains(&b'=') {
            count += 1;
        }
    }
    count
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The C-string view of a buffer: up to the first NUL.
fn cstr(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// `utils::string::chomp`: drop trailing CR/LF.
fn chomp(mut v: &[u8]) -> &[u8] {
    while let [rest @ .., b'\r' | b'\n'] = v {
        v = rest;
    }
    v
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Parser {
    fn set_error(&mut self, msg: impl Into<String>) {
        let msg = msg.into();
        self.out.messages.push(msg.clone());
        self.out.error = Some(msg);
    }

    /// `Multipart::init`: validates the Content-Type and extracts the boundary.
    fn init(&mut self, header: &[u8]) -> bool {
        self.buf_contains_line = true;
        if header.is_empty() {
            self.set_error("Multipart: Content-Type header not available.");
            return false;
        }
        if header.len() > 1024 {
            self.set_error("Multipart: Invalid boundary in C-T (length).");
            return false;
        }
        let header = cstr(header);
        if header.len() < 19 || !header[..19].eq_ignore_ascii_case(b"multipart/form-data") {
            self.set_error("Multipart: Invalid MIME type.");
            return false;
        }
        if count_boundary_params(header) > 1 {
            self.set_error("Multipart: Multiple boundary parameters in C-T.");
            return false;
        }
        let Some(bpos) = find(header, b"boundary") else {
            if count_boundary_params(header) > 0 {
                self.set_error("Multipart: Invalid boundary in C-T (case sensitivity).");
            } else {
                self.set_error("Multipart: Boundary not found in C-T.");
            }
            return false;
        };
        // Only whitespace and one semicolon may come between the type and `boundary`.
        let mut seen_semicolon = false;
        for &c in header.get(19..bpos).unwrap_or_default() {
            if !is_space(c) {
                if !seen_semicolon && c == b';' {
                    seen_semicolon = true;
                } else {
                    self.set_error("Multipart: Invalid boundary in C-T (malformed).");
                    return false;
                }
            }
        }
        if !seen_semicolon {
            self.out.flags.missing_semicolon = true;
        }
        let after_name = header.get(bpos + 8..).unwrap_or_default();
        let Some(eq) = after_name.iter().position(|&c| c == b'=') else {
            self.set_error("Multipart: Invalid boundary in C-T (malformed).");
            return false;
        };
        for &c in &after_name[..eq] {
            if is_space(c) {
                self.out.flags.boundary_whitespace = true;
            } else {
                self.set_error("Multipart: Invalid boundary in C-T (parameter name).");
                return false;
            }
        }
        let b = after_name.get(eq + 1..).unwrap_or_default();
        if b.first().is_some_and(|&c| is_space(c)) {
            self.out.flags.boundary_whitespace = true;
        }
        if b.len() >= 2 && b[0] == b'"' && b[b.len() - 1] == b'"' {
            self.boundary = b[1..b.len() - 1].to_vec();
            self.out.flags.boundary_quoted = true;
        } else {
            if b.first() == Some(&b'"') || (b.len() >= 2 && b[b.len() - 1] == b'"') {
                self.set_error("Multipart: Invalid boundary in C-T (quote).");
                return false;
            }
            self.boundary = b.to_vec();
        }
        if self.boundary.is_empty() {
            // v3 returns false here without a message, which leaves the body unparsed and
            // REQBODY_ERROR at 0; we report it instead of silently skipping the body.
            self.set_error("Multipart: Invalid boundary in C-T (empty).");
            return false;
        }
        if count_boundary_params(&self.boundary) != 0 {
            self.set_error("Multipart: Invalid boundary in C-T (content).");
            return false;
        }
        // "Some frameworks are known to incorrectly include a charset= parameter after the
        // boundary": tolerated by cutting at the first ';'.
        if !boundary_characters_valid(&self.boundary) {
            if let Some(semi) = self.boundary.iter().position(|&c| c == b';') {
                self.boundary.truncate(semi);
            }
        }
        if !boundary_characters_valid(&self.boundary) {
            self.set_error("Multipart: Invalid boundary in C-T (characters).");
            return false;
        }
        if self.boundary.is_empty() {
            self.set_error("Multipart: Invalid boundary in C-T (empty).");
            return false;
        }
        true
    }

    /// `Multipart::process`: feeds the whole body, one byte at a time, into the line buffer.
    fn process(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.seen_data = true;
        let mut pos = 0;
        while let Some(&c) = data.get(pos) {
            let mut process_buffer = false;
            if c == b'\r' && BUF_SIZE - self.buf.len() == 1 {
                // Don't take '\r' as the last byte in the buffer.
                process_buffer = true;
            } else {
                pos += 1;
                self.buf.push(c);
                if self.mpp.as_ref().is_none_or(|m| m.kind != PartType::File) {
                    self.out.no_files_len += 1;
                }
            }
            if c == b'\n' || self.buf.len() == BUF_SIZE || process_buffer {
                if !self.handle_buffer(process_buffer) {
                    return;
                }
                self.buf.clear();
                self.buf_contains_line = c == b'\n';
                if c == b'\n' {
                    self.crlf_state = if self.crlf_state == 1 { 3 } else { 2 };
                }
                self.crlf_state_buf_end = self.crlf_state;
            }
            if c == b'\r' {
                self.crlf_state = 1;
            } else if c != b'\n' {
                self.crlf_state = 0;
            }
            if self.is_complete && pos < data.len() {
                self.out.flags.data_after = true;
                return;
            }
        }
    }

    /// The body of `process` for one full line (or full buffer). Returns false on a fatal
    /// error.
    fn handle_buffer(&mut self, process_buffer: bool) -> bool {
        let line = cstr(&self.buf).to_vec();
        let bsize = self.boundary.len();
        let mut processed_as_boundary = false;
        if self.buf_contains_line && line.len() > 3 && line.starts_with(b"--") {
            if line.len() >= bsize + 2 && line[2..].starts_with(&self.boundary) {
                if self.crlf_state_buf_end == 2 {
                    self.out.flags.lf_line = true;
                }
                if !self.data_read && self.boundary_count > 0 {
                    // The boundary sits where part data should begin.
                    self.out.flags.invalid_part = true;
                } else {
                    if self.boundary_count > 0 {
                        self.out.unmatched_boundary = 2;
                    }
                    let mut end = &line[2 + bsize..];
                    let is_final = end.starts_with(b"--");
                    if is_final {
                        end = &end[2..];
                        if self.is_complete {
                            self.set_error("Multipart: Invalid boundary (final duplicate).");
                            return false;
                        }
                    }
                    if end == b"\r\n" || end == b"\n" {
                        if end == b"\n" {
                            self.out.flags.lf_line = true;
                        } else {
                            self.out.flags.crlf_line = true;
                        }
                        self.process_boundary(is_final);
                        if is_final {
                            self.is_complete = true;
                        }
                        processed_as_boundary = true;
                        self.boundary_count += 1;
                    } else {
                        self.set_error(format!("Multipart: Invalid boundary: {}", lossy(&line)));
                        return false;
                    }
                }
            } else {
                // Looks like a boundary but is not ours.
                if self.out.flags.boundary_quoted
                    && line.len() >= bsize + 3
                    && line[2] == b'"'
                    && line[3..].starts_with(&self.boundary)
                {
                    self.set_error("Multipart: Invalid boundary (quotes).");
                    return false;
                }
                let ws = line[2..].iter().take_while(|&&c| is_space(c)).count();
                if ws > 0 && line[2 + ws..].starts_with(&self.boundary) {
                    self.set_error("Multipart: Invalid boundary (whitespace).");
                    return false;
                }
                self.out.unmatched_boundary = 1;
            }
        } else if self.buf_contains_line {
            // Anything in the line that resembles our boundary? (v3 scans the whole
            // buffer, but compares with C strings: stop at the first NUL after "--".)
            let buf = &self.buf;
            let hit = (0..buf.len()).any(|i| {
                buf.get(i) == Some(&b'-')
                    && buf.get(i + 1) == Some(&b'-')
                    && cstr(&buf[i + 2..]).starts_with(&self.boundary)
            });
            if hit {
                self.out.unmatched_boundary = 1;
            }
        }

        if !processed_as_boundary {
            if self.mpp.is_none() {
                self.out.flags.data_before = true;
            } else if !self.in_data {
                if self.buf.len() == BUF_SIZE || process_buffer {
                    self.set_error(format!(
                        "Multipart: Part header line over {BUF_SIZE} bytes long"
                    ));
                    return false;
                }
                self.process_part_header();
            } else {
                self.process_part_data();
            }
        }
        true
    }

    /// `Multipart::process_part_header`. Errors set the message but do not stop parsing.
    fn process_part_header(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        self.part_header_line(&buf);
        self.buf = buf;
    }

    fn part_header_line(&mut self, buf: &[u8]) {
        if buf.contains(&0) {
            self.set_error("Multipart: Nul byte in part headers.");
            return;
        }
        let len = buf.len();
        let mut len_without_termination = len.saturating_sub(1);
        if len > 1 {
            if buf[len - 2] == b'\r' {
                self.out.flags.crlf_line = true;
                len_without_termination -= 1;
            } else {
                self.out.flags.lf_line = true;
            }
        } else {
            self.out.flags.lf_line = true;
        }
        let Some(mpp) = self.mpp.as_mut() else {
            return;
        };

        if buf == b"\r\n" || buf == b"\n" {
            // End of the part headers.
            if !mpp.last_header_line.is_empty() {
                mpp.header_lines
                    .push(std::mem::take(&mut mpp.last_header_line));
            }
            let Some(cd) = mpp.header(b"Content-Disposition").cloned() else {
                self.set_error("Multipart: Part missing Content-Disposition header.");
                return;
            };
            let rc = self.parse_content_disposition(&cd);
            if rc < 0 {
                self.set_error(format!(
                    "Multipart: Invalid Content-Disposition header ({rc}): {}",
                    lossy(&cd)
                ));
                return;
            }
            let Some(mpp) = self.mpp.as_mut() else {
                return;
            };
            if mpp.name.is_empty() {
                self.set_error("Multipart: Content-Disposition header missing name field.");
                return;
            }
            if !mpp.filename.is_empty() {
                // "Some parsers use crude methods to extract the name and filename values
                // from the C-D header": insist on the literal `filename=`.
                if find(&cd, b"filename=").is_none() {
                    self.set_error("Multipart: Invalid Content-Disposition header (filename).");
                    return;
                }
                mpp.kind = PartType::File;
            } else {
                mpp.kind = PartType::FormData;
            }
            self.in_data = true;
            self.data_read = false;
            if let Some(mpp) = self.mpp.as_mut() {
                mpp.last_header_name.clear();
            }
            return;
        }

        if is_space(buf[0]) {
            // Header folding.
            self.out.flags.header_folding = true;
            if buf[0] != b'\t' && buf[0] != b' ' {
                self.out.flags.invalid_header_folding = true;
            }
            if mpp.last_header_name.is_empty() {
                self.set_error("Multipart: Invalid part header (folding error).");
                return;
            }
            let ws = buf.iter().take_while(|&&c| is_space(c)).count();
            if buf[..ws].iter().any(|&c| c != b'\t' && c != b' ') {
                self.out.flags.invalid_header_folding = true;
            }
            let data = chomp(&buf[ws..]);
            let name = mpp.last_header_name.clone();
            let mut too_long = false;
            if let Some((_, value)) = mpp.headers.iter_mut().find(|(n, _)| *n == name) {
                value.push(b' ');
                value.extend_from_slice(data);
                too_long = value.len() > BUF_SIZE;
                let mut line = name.clone();
                line.extend_from_slice(b": ");
                line.extend_from_slice(value);
                mpp.last_header_line = line;
            }
            if too_long {
                self.set_error("Multipart: Part header too long.");
            }
            return;
        }

        // A new header: record the previous completed one.
        if !mpp.last_header_line.is_empty() {
            mpp.header_lines
                .push(std::mem::take(&mut mpp.last_header_line));
        }
        let Some(colon) = buf.iter().position(|&c| c == b':') else {
            self.set_error(format!(
                "Multipart: Invalid part header (colon missing): {}",
                lossy(buf)
            ));
            return;
        };
        if colon == 0 {
            self.set_error("Multipart: Invalid part header (header name missing).");
            return;
        }
        let name = &buf[..colon];
        if name.iter().any(|&c| !(33..=126).contains(&c)) {
            self.set_error("Multipart: Invalid part header (contains invalid character).");
            return;
        }
        let rest = &buf[colon + 1..];
        let ws = rest
            .iter()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
        let value = chomp(&rest[ws..]).to_vec();
        if mpp.header(name).is_some() {
            // A repeated part header (two Content-Disposition lines) is a parsing
            // differential: v3 drops the second line without a message (its `false` is
            // compared with `< 0`), while a backend that takes the last one sees another
            // part, e.g. a file upload. ModSecurity v2 (`msc_multipart.c`) rejects it with
            // this message, and so do we: the body becomes a REQBODY_ERROR.
            let msg = format!("Multipart: Duplicate part header: {}.", lossy(name));
            self.set_error(msg);
            return;
        }
        mpp.last_header_name = name.to_vec();
        mpp.headers.push((name.to_vec(), value));
        mpp.last_header_line = buf[..len_without_termination].to_vec();
    }

    /// `Multipart::parse_content_disposition`: 1 on success, ModSecurity's negative code
    /// otherwise.
    fn parse_content_disposition(&mut self, v: &[u8]) -> i32 {
        // C-string access: 0 past the end.
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        if !v.starts_with(b"form-data") {
            return -1;
        }
        let mut p = 9;
        while at(p) == b'\t' || at(p) == b' ' {
            p += 1;
        }
        if at(p) == 0 {
            return 1;
        }
        if at(p) != b';' {
            return -2;
        }
        p += 1;
        let mut filename_star: Vec<u8> = Vec::new();
        while at(p) != 0 {
            while at(p) == b'\t' || at(p) == b' ' {
                p += 1;
            }
            if at(p) == 0 {
                return -3;
            }
            let start = p;
            while at(p) != 0 && at(p) != b'=' && at(p) != b'\t' && at(p) != b' ' {
                p += 1;
            }
            if at(p) == 0 {
                return -4;
            }
            let name = &v[start..p];
            while at(p) == b'\t' || at(p) == b' ' {
                p += 1;
            }
            if at(p) == 0 {
                return -5;
            }
            if at(p) != b'=' {
                return -13;
            }
            p += 1;
            while at(p) == b'\t' || at(p) == b' ' {
                p += 1;
            }
            if at(p) == 0 {
                return -6;
            }
            let mut quote = 0u8;
            let mut value = Vec::new();
            if name == b"filename*" {
                // filename*=charset'[language]'filename (RFC 5987).
                let charset_start = p;
                while at(p) != 0
                    && (at(p).is_ascii_alphanumeric() || b"!#$%&+-^_`{}~".contains(&at(p)))
                {
                    p += 1;
                }
                if at(p) != b'\'' || p == charset_start {
                    return -16;
                }
                p += 1;
                while at(p) != 0 && at(p) != b'\'' {
                    p += 1;
                }
                if at(p) != b'\'' {
                    return -17;
                }
                p += 1;
                let fstart = p;
                while at(p) != 0 && at(p) != b';' {
                    if at(p) == b'%' {
                        if !at(p + 1).is_ascii_hexdigit() || !at(p + 2).is_ascii_hexdigit() {
                            return -18;
                        }
                        p += 3;
                    } else if at(p).is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&at(p)) {
                        p += 1;
                    } else {
                        return -19;
                    }
                }
                value = v[fstart..p].to_vec();
            } else if at(p) == b'"' || at(p) == b'\'' {
                // Both quotes accepted; the single quote is flagged.
                quote = at(p);
                if quote == b'\'' {
                    self.out.flags.invalid_quoting = true;
                }
                p += 1;
                if at(p) == 0 {
                    return -7;
                }
                while at(p) != 0 {
                    if at(p) == b'\\' {
                        if at(p + 1) == 0 {
                            return -8;
                        }
                        // Only the quote and '\' can be escaped; other escapes are kept
                        // as-is ("IE sends improperly escaped content").
                        if at(p + 1) == quote || at(p + 1) == b'\\' {
                            p += 1;
                        }
                    } else if at(p) == quote {
                        break;
                    }
                    value.push(at(p));
                    p += 1;
                }
                p += 1; // over the closing quote (or past the end: at() reads 0)
            } else {
                let start = p;
                while at(p) != 0 && is_token_char(at(p)) {
                    p += 1;
                }
                value = v[start..p].to_vec();
            }

            let Some(mpp) = self.mpp.as_mut() else {
                return -99;
            };
            if name == b"name" {
                // validate_quotes: a single quote in a value not enclosed in '"'.
                if quote != b'"' && value.contains(&b'\'') {
                    self.out.flags.invalid_quoting = true;
                }
                self.out.names.push(value.clone());
                if !mpp.name.is_empty() {
                    return -14;
                }
                mpp.name = value;
            } else if name == b"filename" {
                if quote != b'"' && value.contains(&b'\'') {
                    self.out.flags.invalid_quoting = true;
                }
                self.out.filenames.push(value.clone());
                if !mpp.filename.is_empty() {
                    return -15;
                }
                mpp.filename = value;
            } else if name == b"filename*" {
                if !filename_star.is_empty() {
                    return -20;
                }
                filename_star = value;
            } else {
                return -11;
            }

            if at(p) != 0 {
                while at(p) == b'\t' || at(p) == b' ' {
                    p += 1;
                }
                if at(p) != 0 {
                    if at(p) != b';' {
                        let prev = p.checked_sub(1).map(at).unwrap_or(0);
                        if prev == b'\'' || prev == b'"' {
                            self.out.flags.invalid_quoting = true;
                        }
                        return -12;
                    }
                    p += 1;
                }
            }
        }
        if !filename_star.is_empty() && self.mpp.as_ref().is_some_and(|m| m.filename.is_empty()) {
            return -21;
        }
        1
    }

    /// `Multipart::process_part_data`.
    fn process_part_data(&mut self) {
        self.data_read = true;
        let buf = &self.buf;
        let reserved = if buf.ends_with(b"\r\n") {
            2
        } else if buf.ends_with(b"\n") {
            1
        } else {
            0
        };
        let chunk = &buf[..buf.len() - reserved];
        let Some(mpp) = self.mpp.as_mut() else {
            return;
        };
        match mpp.kind {
            PartType::File => {
                if !mpp.has_file {
                    if self.limits.max_files > 0 && self.nfiles >= self.limits.max_files {
                        if !self.out.flags.file_limit_exceeded {
                            self.out.flags.file_limit_exceeded = true;
                            let msg = format!(
                                "Multipart: Upload file limit exceeded {}. Use \
                                 SecUploadFileLimit to change the limit.",
                                self.limits.max_files
                            );
                            self.out.messages.push(msg.clone());
                            self.out.error = Some(msg);
                        }
                    } else {
                        mpp.has_file = true;
                        self.nfiles += 1;
                    }
                }
                mpp.file_size += chunk.len() + self.reserve;
            }
            PartType::FormData => {
                // v3: `d.assign(reserve); d.assign(buf)`: the held-back line ending is lost.
                mpp.value.extend_from_slice(chunk);
            }
            PartType::Unknown => {}
        }
        self.reserve = reserved;
    }

    /// `Multipart::process_boundary`: finish the current part, start a new one unless final.
    fn process_boundary(&mut self, last: bool) {
        if let Some(mpp) = self.mpp.take() {
            for line in &mpp.header_lines {
                self.out.part_headers.push((mpp.name.clone(), line.clone()));
            }
            if mpp.name.is_empty() {
                self.out.flags.invalid_part = true;
            } else {
                self.parts.push(mpp);
            }
        }
        if !last {
            self.mpp = Some(Part::default());
            self.in_data = false;
            self.data_read = false;
            self.reserve = 0;
        }
    }

    /// `Multipart::multipart_complete`.
    fn complete(&mut self) {
        if self.seen_data && !self.is_complete {
            if self.boundary_count > 0 {
                // The final boundary may still sit in the buffer, without a line ending.
                let b = &self.buf;
                let bsize = self.boundary.len();
                if self.buf_contains_line
                    && b.len() == 4 + bsize
                    && b.starts_with(b"--")
                    && b[2..].starts_with(&self.boundary)
                    && b[2 + bsize..] == *b"--"
                {
                    if self.crlf_state_buf_end == 2 {
                        self.out.flags.lf_line = true;
                    }
                    if !self.data_read {
                        self.out.flags.invalid_part = true;
                    }
                    self.process_boundary(true);
                    self.is_complete = true;
                }
                if !self.is_complete {
                    self.set_error("Multipart: Final boundary missing.");
                    return;
                }
            } else {
                self.set_error("Multipart: No boundaries found in payload.");
                return;
            }
        }
        for part in std::mem::take(&mut self.parts) {
            match part.kind {
                PartType::File => self.out.files.push(FilePart {
                    name: part.name,
                    filename: part.filename,
                    size: part.file_size,
                }),
                _ => self.out.args.push((part.name, part.value)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B69: &str = "---------------------------69343412719991675451336310646";

    /// Joins regression-test body lines as the libmodsecurity test runner sends them:
    /// each line followed by `\n` (lines carry their own `\r`).
    fn body(lines: &[&str]) -> Vec<u8> {
        lines
            .iter()
            .flat_map(|l| format!("{l}\n").into_bytes())
            .collect()
    }

    fn mp(ct: &str, lines: &[&str]) -> Multipart {
        parse(ct.as_bytes(), &body(lines), &Limits::default())
    }

    fn ct69() -> String {
        format!("multipart/form-data; boundary={B69}")
    }

    fn arg(m: &Multipart, name: &str) -> Option<String> {
        m.args
            .iter()
            .find(|(n, _)| n == name.as_bytes())
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    fn err(m: &Multipart) -> &str {
        m.error.as_deref().unwrap_or("")
    }

    /// All messages, joined, for `contains` checks on the root cause.
    fn msgs(m: &Multipart) -> String {
        m.messages.join(" | ")
    }

    fn brian(ct: &str) -> Multipart {
        mp(
            ct,
            &[
                "--0000\r",
                "Content-Disposition: form-data; name=\"name\"\r",
                "\r",
                "Brian Rectanus\r",
                "--0000\r",
                "Content-Disposition: form-data; name=\"email\"\r",
                "\r",
                "brian.rectanus@breach.com\r",
                "--0000\r",
                "Content-Disposition: form-data; name=\"image\"; filename=\"image.jpg\"\r",
                "Content-Type: image/jpeg\r",
                "\r",
                "BINARYDATA\r",
                "--0000--\r",
            ],
        )
    }

    // request-body-parser-multipart.json 0: the normal case.
    #[test]
    fn modsec_normal() {
        let m = brian("multipart/form-data; boundary=0000");
        assert_eq!(m.error, None);
        assert!(!m.strict_error());
        assert_eq!(m.unmatched_boundary, 2, "a second boundary matched");
        assert_eq!(arg(&m, "name").as_deref(), Some("Brian Rectanus"));
        assert_eq!(
            arg(&m, "email").as_deref(),
            Some("brian.rectanus@breach.com")
        );
        assert_eq!(
            m.files,
            vec![FilePart {
                name: b"image".to_vec(),
                filename: b"image.jpg".to_vec(),
                size: 10
            }]
        );
        assert_eq!(
            m.names,
            vec![b"name".to_vec(), b"email".to_vec(), b"image".to_vec()]
        );
        assert_eq!(m.filenames, vec![b"image.jpg".to_vec()]);
        assert!(m
            .part_headers
            .contains(&(b"image".to_vec(), b"Content-Type: image/jpeg".to_vec())));
        assert!(m.part_headers.contains(&(
            b"name".to_vec(),
            b"Content-Disposition: form-data; name=\"name\"".to_vec()
        )));
        assert!(m.flags.crlf_line && !m.flags.lf_line);
    }

    // Cases 1, 3, 4, 5: long boundaries, "boundary" inside the boundary, "--" in data.
    #[test]
    fn modsec_boundary_variants() {
        for b in [
            B69,
            "------------------------------------------------boundary",
            "--------0xKhTmLbOuNdArY",
        ] {
            let m = mp(
                &format!("multipart/form-data; boundary={b}"),
                &[
                    &format!("--{b}\r"),
                    "Content-Disposition: form-data; name=\"a\"\r",
                    "\r",
                    "--test\r",
                    &format!("--{b}\r"),
                    "Content-Disposition: form-data; name=\"b\"\r",
                    "\r",
                    "2\r",
                    &format!("--{b}--\r"),
                ],
            );
            assert_eq!(m.error, None, "{b}");
            assert!(!m.strict_error());
            assert_eq!(arg(&m, "a").as_deref(), Some("--test"));
            assert_eq!(arg(&m, "b").as_deref(), Some("2"));
        }
    }

    // Case 6: no final boundary.
    #[test]
    fn modsec_final_boundary_missing() {
        let m = mp(
            &ct69(),
            &[
                &format!("--{B69}\r"),
                "Content-Disposition: form-data; name=\"a\"\r",
                "\r",
                "1\r",
                &format!("--{B69}\r"),
                "Content-Disposition: form-data; name=\"b\"\r",
                "\r",
                "2\r",
            ],
        );
        assert_eq!(err(&m), "Multipart: Final boundary missing.");
        assert!(m.args.is_empty());
    }

    fn two_parts(cd_a: &str, cd_b: &str) -> Multipart {
        mp(
            &ct69(),
            &[
                &format!("--{B69}\r"),
                cd_a,
                "\r",
                "1\r",
                &format!("--{B69}\r"),
                cd_b,
                "\r",
                "2\r",
                &format!("--{B69}--\r"),
            ],
        )
    }

    // Cases 7, 8, 9, 10: header errors.
    #[test]
    fn duplicate_part_header_is_an_error() {
        // ModSecurity v2 `msc_multipart.c`: "Multipart: Duplicate part header: %s.".
        let m = mp(
            "multipart/form-data; boundary=b",
            &[
                "--b\r",
                "Content-Disposition: form-data; name=\"post\"\r",
                "Content-Disposition: form-data; name=\"f\"; filename=\"x.php\"\r",
                "\r",
                "<?php\r",
                "--b--\r",
            ],
        );
        assert_eq!(
            err(&m),
            "Multipart: Duplicate part header: Content-Disposition."
        );
        assert!(m.strict_error());
        // The first header still names the part, as in v2 and v3.
        assert_eq!(arg(&m, "post").as_deref(), Some("<?php"));
    }

    #[test]
    fn modsec_part_header_errors() {
        let m = mp(
            &ct69(),
            &[&format!("--{B69}\r"), "\r", "1\r", &format!("--{B69}--\r")],
        );
        // The message is set, parsing goes on (the data line then fails as a header).
        assert!(m.error.is_some());
        assert!(m.flags.invalid_part);
        assert!(m.args.is_empty());
        let m = mp(&ct69(), &[&format!("--{B69}\r"), "\r"]);
        assert!(msgs(&m).contains("Part missing Content-Disposition header"));

        let m = two_parts(
            "Content-Disposition: form-data name=\"a\"\r",
            "Content-Disposition: form-data name=\"b\"\r",
        );
        assert!(msgs(&m).starts_with("Multipart: Invalid Content-Disposition header (-2)"));
        // The header error keeps the final boundary from being recognised (v3).
        assert_eq!(err(&m), "Multipart: Final boundary missing.");
        let m = mp(
            &ct69(),
            &[
                &format!("--{B69}\r"),
                "Content-Disposition: form-data name=\"a\"\r",
                "\r",
            ],
        );
        assert_eq!(
            m.messages[0],
            "Multipart: Invalid Content-Disposition header (-2): form-data name=\"a\""
        );
        let m = mp(
            &ct69(),
            &[
                &format!("--{B69}\r"),
                "Content-Disposition: form-data;\r",
                "\r",
            ],
        );
        // Case 9: "form-data;" then nothing.
        assert_eq!(
            m.messages[0],
            "Multipart: Content-Disposition header missing name field."
        );
        let m = mp(
            &ct69(),
            &[
                &format!("--{B69}\r"),
                "Content-Disposition: form-data\r",
                "\r",
            ],
        );
        assert_eq!(
            m.messages[0],
            "Multipart: Content-Disposition header missing name field."
        );

        let m = mp(
            &ct69(),
            &[
                &format!("--{B69}\r"),
                "Content-Disposition: form-data; name=\"a\"\r",
                "\r",
                "1\r",
                &format!("--{B69}\r"),
                ":\r",
                &format!("--{B69}\r"),
                "Content-Disposition: form-data; name=\"b\"\r",
                "\r",
                "2\r",
                &format!("--{B69}--\r"),
            ],
        );
        assert!(
            msgs(&m).contains("nvalid part header (header name missing)"),
            "{}",
            err(&m)
        );
        assert_eq!(arg(&m, "a").as_deref(), Some("1"));
        assert_eq!(arg(&m, "b").as_deref(), Some("2"));
    }

    // Cases 11-15: header folding, valid and invalid.
    #[test]
    fn modsec_header_folding() {
        let m = two_parts(
            "Content-Disposition: form-data;\r\n name=\"a\"\r",
            "Content-Disposition: form-data;\r\n    name=\"b\"\r",
        );
        assert_eq!(m.error, None);
        assert!(m.flags.header_folding && !m.flags.invalid_header_folding);
        assert!(m.strict_error());
        assert_eq!(arg(&m, "a").as_deref(), Some("1"));
        assert!(m.part_headers.contains(&(
            b"a".to_vec(),
            b"Content-Disposition: form-data; name=\"a\"".to_vec()
        )));
        let m = two_parts(
            "Content-Disposition: form-data; name=\"a\"\r",
            "Content-Disposition: form-data;\r\n\tname=\"b\"\r",
        );
        assert!(m.flags.header_folding && !m.flags.invalid_header_folding);
        assert_eq!(arg(&m, "b").as_deref(), Some("2"));
        for fold in [
            "\x0cname=\"b\"\r",
            "\x0c\tname=\"b\"\r",
            "\t\x0cname=\"b\"\r",
        ] {
            let m = two_parts(
                "Content-Disposition: form-data; name=\"a\"\r",
                &format!("Content-Disposition: form-data;\r\n{fold}"),
            );
            assert!(m.flags.header_folding && m.flags.invalid_header_folding);
            assert_eq!(m.error, None);
        }
    }

    // config-body_limits.json 14/15: bytes outside file parts, per byte, so the boundary
    // line ending a file part does not count.
    #[test]
    fn no_files_len_skips_file_content() {
        let body = format!(
            "--0000\nContent-Disposition: form-data; name=\"a\"\n\n1\n--0000\n\
             Content-Disposition: form-data; name=\"b\"; filename=\"c.txt\"\n\n{}\n--0000--\n",
            "2".repeat(70)
        );
        let m = parse(
            b"multipart/form-data; boundary=0000",
            body.as_bytes(),
            &Limits::default(),
        );
        assert_eq!(body.len(), 198);
        // "--0000\n", part a (41 + 1 + 2), "--0000\n", part b headers (59 + 1).
        assert_eq!(m.no_files_len, 7 + 44 + 7 + 60);
    }

    // Case 16: data after the final boundary.
    #[test]
    fn modsec_data_after() {
        let m = mp(
            &ct69(),
            &[
                &format!("--{B69}\r"),
                "Content-Disposition: form-data; name=\"a\"\r",
                "\r",
                "1\r",
                &format!("--{B69}--\r"),
                &format!("--{B69}\r"),
                "Content-Disposition: form-data; name=\"b\"\r",
                "\r",
                "2\r",
                &format!("--{B69}--\r"),
            ],
        );
        assert!(m.flags.data_after);
        assert_eq!(m.error, None);
        assert_eq!(arg(&m, "a").as_deref(), Some("1"));
        assert_eq!(arg(&m, "b"), None);
    }

    // Case 17: C-D with single quotes (name=';filename="dummy';name=b;").
    #[test]
    fn modsec_single_quotes_duplicate_name() {
        let m = two_parts(
            "Content-Disposition: form-data; name=\"a\"\r",
            "Content-Disposition: form-data; name=';filename=\"dummy';name=b;\"\r",
        );
        assert!(m.flags.invalid_quoting);
        assert!(m.strict_error());
        // name=';filename="dummy' then name=b: duplicate name (-14).
        assert!(msgs(&m).contains("(-14)"), "{}", msgs(&m));
        assert!(m.names.contains(&b";filename=\"dummy".to_vec()));
    }

    // Cases 18-37: Content-Type boundary parsing.
    #[test]
    fn modsec_content_type_boundaries() {
        let cases: &[(&str, &str)] = &[
            (
                "multipart/form-data, boundary=0000",
                "Multipart: Invalid boundary in C-T (malformed).",
            ),
            (
                "multipart/form-data; bOundAry=0000",
                "Multipart: Invalid boundary in C-T (case sensitivity).",
            ),
            (
                "multipart/form-data; boundary123=0000",
                "Multipart: Invalid boundary in C-T (parameter name).",
            ),
            (
                "multipart/form-data; boundary=\"0000\"; boundary=1111",
                "Multipart: Multiple boundary parameters in C-T.",
            ),
            (
                "multipart/form-data; boundary=0000, boundary=1111",
                "Multipart: Multiple boundary parameters in C-T.",
            ),
            (
                "multipart/form-data; boundary=0000 ",
                "Multipart: Invalid boundary in C-T (characters).",
            ),
            (
                "multipart/form-data;boundary=0000 1111",
                "Multipart: No boundaries found in payload.",
            ),
            (
                "multipart/form-data;boundary=0000!1111",
                "Multipart: Invalid boundary in C-T (characters).",
            ),
            (
                "multipart/form-data;boundary=\" 0000\"",
                "Multipart: No boundaries found in payload.",
            ),
            (
                "multipart/form-data;boundary=\"0000 \"",
                "Multipart: Invalid boundary in C-T (characters).",
            ),
            (
                "multipart/form-data;boundary=\"00\"00\"",
                "Multipart: Invalid boundary in C-T (characters).",
            ),
            (
                "multipart/form-data;boundary=\"00\"\"00\"",
                "Multipart: Invalid boundary in C-T (characters).",
            ),
            (
                "multipart/form-data;boundary=\"0000",
                "Multipart: Invalid boundary in C-T (quote).",
            ),
            (
                "multipart/form-data;boundary=0000\"",
                "Multipart: Invalid boundary in C-T (quote).",
            ),
            ("text/plain; boundary=0000", "Multipart: Invalid MIME type."),
            (
                "multipart/form-data",
                "Multipart: Boundary not found in C-T.",
            ),
            (
                "multipart/form-data; boundary=",
                "Multipart: Invalid boundary in C-T (empty).",
            ),
            ("", "Multipart: Content-Type header not available."),
        ];
        for (ct, want) in cases {
            let m = brian(ct);
            assert_eq!(err(&m), *want, "{ct}");
            assert!(m.strict_error(), "{ct}");
        }
        // Case 19: missing separator only raises MISSING_SEMICOLON.
        let m = brian("multipart/form-data boundary=0000");
        assert!(m.flags.missing_semicolon && m.error.is_none() && m.strict_error());
        // Case 24/25: whitespace around '='.
        for ct in [
            "multipart/form-data; boundary =0000",
            "multipart/form-data; boundary= 0000",
        ] {
            let m = brian(ct);
            assert!(m.flags.boundary_whitespace, "{ct}");
        }
        assert_eq!(brian("multipart/form-data; boundary =0000").error, None);
        // Case 29, 33: quoted boundary works but is flagged.
        let m = brian("multipart/form-data;boundary=\"0000\"");
        assert!(m.flags.boundary_quoted && m.error.is_none());
        assert_eq!(arg(&m, "name").as_deref(), Some("Brian Rectanus"));
        assert!(
            brian("multipart/form-data;boundary=\"0000 1111\"")
                .flags
                .boundary_quoted
        );
        // Case 53: a parameter after the boundary is tolerated.
        let m = mp(
            "multipart/form-data; boundary=00000000; charset=UTF-8",
            &[
                "--00000000\r",
                "Content-Disposition: form-data; name=\"namea\"\r",
                "\r",
                "111\r",
                "--00000000--\r",
            ],
        );
        assert_eq!(m.error, None);
        assert_eq!(arg(&m, "namea").as_deref(), Some("111"));
    }

    // Cases 38, 39: nested multipart/mixed.
    #[test]
    fn modsec_multipart_mixed() {
        let m = brian("multipart/form-data; boundary=0000");
        assert_eq!(m.error, None);
        let m = mp(
            "multipart/form-data; boundary=0000",
            &[
                "--0000\r",
                "Content-Disposition: attachment\r",
                "Content-Type: multipart/mixed; boundary=BbC04y\r",
                "\r",
                "--BbC04y\r",
                "--0000--\r",
            ],
        );
        assert!(
            msgs(&m).contains("Invalid Content-Disposition header"),
            "{}",
            err(&m)
        );
        let m = mp(
            "multipart/form-data; boundary=0000",
            &[
                "--0000\r",
                "Content-Type: multipart/mixed; boundary=BbC04y\r",
                "\r",
                "--0000--\r",
            ],
        );
        assert!(
            msgs(&m).contains("Part missing Content-Disposition header"),
            "{}",
            err(&m)
        );
    }

    // Case 40: SecUploadFileLimit 2 with three files.
    #[test]
    fn modsec_file_limit() {
        let mut lines = vec![
            "--0000\r",
            "Content-Disposition: form-data; name=\"name\"\r",
            "\r",
            "Brian\r",
        ];
        let parts: Vec<String> = (1..=3)
            .flat_map(|i| {
                vec![
                    "--0000\r".to_string(),
                    format!("Content-Disposition: form-data; name=\"image{i}\"; filename=\"image{i}.jpg\"\r"),
                    "Content-Type: image/jpeg\r".to_string(),
                    "\r".to_string(),
                    format!("BINARYDATA{i}\r"),
                ]
            })
            .collect();
        lines.extend(parts.iter().map(String::as_str));
        lines.push("--0000--\r");
        let m = parse(
            b"multipart/form-data; boundary=0000",
            &body(&lines),
            &Limits { max_files: 2 },
        );
        assert!(m.flags.file_limit_exceeded);
        assert_eq!(
            err(&m),
            "Multipart: Upload file limit exceeded 2. Use SecUploadFileLimit to change the limit."
        );
        assert_eq!(m.files.len(), 3, "all files are still listed");
        assert!(m.files.iter().all(|f| f.size == 11));
        let m = parse(
            b"multipart/form-data; boundary=0000",
            &body(&lines),
            &Limits { max_files: 0 },
        );
        assert!(!m.flags.file_limit_exceeded && m.error.is_none());
    }

    fn foreign(lead: &str, sep: &str, fin: &str) -> Multipart {
        let b = "-----------------------------8842564605616207552020332273";
        mp(
            &format!("multipart/form-data; boundary={b}"),
            &[
                &format!("--{lead}\r"),
                "Content-Disposition: form-data; name=\"_token\"\r",
                "\r",
                "9e433de44c9e9b4ce19603269aa34edb\r",
                &format!("--{sep}\r"),
                "Content-Disposition: form-data; name=\"_attachments[]\"; filename=\"msg.txt\"\r",
                "Content-Type: text/plain\r",
                "\r",
                "----ea520cef1a2937d8e928e357992c8fdd\r",
                "Content-Type: text/plain; charset=US-ASCII;\r",
                " format=flowed\r",
                "\r",
                "--\r",
                "Ervin\r",
                &format!("--{fin}--\r"),
            ],
        )
    }

    // Cases 41-51: foreign boundaries and MULTIPART_UNMATCHED_BOUNDARY 0/1/2.
    #[test]
    fn modsec_unmatched_boundary() {
        let ok = "-----------------------------8842564605616207552020332273";
        let bad = "-----------------------------8842564605616207552020332274";
        let m = foreign(ok, ok, ok);
        assert_eq!(
            m.unmatched_boundary, 2,
            "permissive mode: @eq 1 must not match"
        );
        assert_eq!(m.error, None);
        assert_eq!(m.files.len(), 1);
        for (l, s, f) in [(bad, ok, ok), (ok, bad, ok), (ok, ok, bad)] {
            let m = foreign(l, s, f);
            assert_ne!(m.unmatched_boundary, 0);
            assert!(m.flags.unmatched_boundary);
        }
        // Wrong lead: permissive rule "@eq 1" must not fire (test 50): the flag ends at 2.
        assert_eq!(foreign(bad, ok, ok).unmatched_boundary, 2);
    }

    // Case 54: invalid character in a part header name.
    #[test]
    fn modsec_invalid_header_character() {
        let m = mp(
            "multipart/form-data; boundary=a",
            &[
                "--a\r",
                "\x0eContent-Disposition\x0e: form-data; name=\"file\"; filename=\"1.jsp\"\r",
                "Content-Disposition: form-data; name=\"post\";\r",
                "\r",
                "<%out.print(123)%>\r",
                "--a--\r",
            ],
        );
        assert!(m.error.is_some());
        let m = mp(
            "multipart/form-data; boundary=a",
            &[
                "--a\r",
                "\x0eContent-Disposition\x0e: form-data; name=\"file\"\r",
            ],
        );
        assert_eq!(err(&m), "Multipart: Final boundary missing.");
        let m = mp(
            "multipart/form-data; boundary=a",
            &["--a\r", "Con tent: x\r", "--a--\r"],
        );
        assert!(m.error.is_some());
    }

    // request-body-parser-multipart-crlf.json: LF boundary lines, CRLF elsewhere; values
    // lose their inner line breaks (v3 quirk) and both endings are flagged.
    #[test]
    fn modsec_crlf_lf_mixed() {
        let mut data = Vec::new();
        data.extend_from_slice(format!("--{B69}\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n1.1\r\n1.2\r\n1.3\r\n").as_bytes());
        data.extend_from_slice(format!("--{B69}\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n2.1\r\n2.2\r\n2.3\r\n").as_bytes());
        data.extend_from_slice(format!("--{B69}--").as_bytes());
        let m = parse(ct69().as_bytes(), &data, &Limits::default());
        assert_eq!(arg(&m, "b").as_deref(), Some("22.12.22.3"));
        assert!(m.flags.lf_line && m.flags.crlf_line && m.flags.crlf_lf_lines());
        assert!(m.strict_error());
        assert_eq!(m.error, None);
    }

    // CRS 920120 / 920121 / 922110 bodies (LF-only, as go-ftw sends the YAML text).
    #[test]
    fn crs_filenames_and_part_headers() {
        let ct = "multipart/form-data; boundary=--------397236876";
        let file = |cd: &str| {
            mp(
                ct,
                &[
                    "----------397236876",
                    cd,
                    "Content-Type: text/plain",
                    "",
                    "Some-file-text-here",
                    "----------397236876--",
                ],
            )
        };
        let m = file("Content-Disposition: form-data; name=\"fileRap\"; filename=\"te;st.txt\"");
        assert_eq!(m.files[0].filename, b"te;st.txt");
        assert!(m.flags.lf_line && !m.flags.crlf_line);
        let m = file("Content-Disposition: form-data; name=\"fileRap\"; filename=\"te'st.txt\"");
        assert_eq!(m.files[0].filename, b"te'st.txt");
        assert!(!m.flags.invalid_quoting, "a ' inside \"...\" is fine in v3");
        let m = file("Content-Disposition: form-data; name=\"fileRap\"; filename=\"te\\\"st.txt\"");
        assert_eq!(m.files[0].filename, b"te\"st.txt");
        let m = file("Content-Disposition: form-data; name=\"cv.pdf\"; filename=\"1.j\\s\\p\"");
        assert_eq!(
            m.files[0].filename, b"1.j\\s\\p",
            "only quote and \\ can be escaped"
        );
        let m = file("Content-Disposition: form-data; name=\"\"; filename=\"\"");
        assert!(m.files.is_empty() && m.flags.invalid_part);
        let m = file("Content-Disposition: form-data; name=fileRap; filename=te'st");
        assert!(m.flags.invalid_quoting, "unquoted value with '");

        let m = mp(
            "multipart/form-data; boundary=----WebKitFormBoundary",
            &[
                "------WebKitFormBoundary",
                "Content-Disposition: form-data; name=\"username\"",
                "Content-Type: text/plain; charset=utf-7",
                "",
                "+ADw-img+ACA-src+AD0-x+AD4-",
                "------WebKitFormBoundary",
                "Content-Disposition: form-data; name=\"username\"",
                "CoNtEnT-TyPe: text/plain; charset=utf-8",
                "",
                "legitimate",
                "------WebKitFormBoundary--",
            ],
        );
        assert_eq!(m.error, None);
        assert_eq!(m.args.len(), 2);
        assert!(m.part_headers.contains(&(
            b"username".to_vec(),
            b"Content-Type: text/plain; charset=utf-7".to_vec()
        )));
        assert!(m.part_headers.contains(&(
            b"username".to_vec(),
            b"CoNtEnT-TyPe: text/plain; charset=utf-8".to_vec()
        )));
        // 922130 test 8: parts without headers.
        let m = mp(
            "multipart/form-data; boundary=boundary123",
            &[
                "--boundary123",
                "test",
                "--boundary123",
                "yet another test",
                "--boundary123--",
            ],
        );
        assert!(m.part_headers.is_empty());
        assert!(m.error.is_some() && m.args.is_empty());
    }

    #[test]
    fn filename_star() {
        let ct = "multipart/form-data; boundary=x";
        let one = |cd: &str| mp(ct, &["--x\r", cd, "\r", "d\r", "--x--\r"]);
        let m = one("Content-Disposition: form-data; name=\"f\"; filename=\"a.txt\"; filename*=UTF-8''%e2%82%ac.txt\r");
        assert_eq!(m.error, None);
        assert_eq!(m.files[0].filename, b"a.txt");
        let m = one("Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''a.txt\r");
        assert!(msgs(&m).contains("(-21)"), "{}", msgs(&m));
        let m = one("Content-Disposition: form-data; name=\"f\"; filename=\"a\"; filename*=''a\r");
        assert!(msgs(&m).contains("(-16)"), "{}", msgs(&m));
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let ct = b"multipart/form-data; boundary=x";
        // Truncated everywhere.
        let full = body(&[
            "--x\r",
            "Content-Disposition: form-data; name=\"a\"; filename=\"f\"\r",
            " folded\r",
            "\r",
            "data\r",
            "--x--\r",
        ]);
        for cut in 0..full.len() {
            let m = parse(ct, &full[..cut], &Limits::default());
            if cut > 0 {
                assert!(m.error.is_some() || m.strict_error(), "cut {cut}");
            }
        }
        // A header line longer than the buffer is fatal.
        let mut long = b"--x\r\nContent-Disposition: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', 5000));
        long.extend_from_slice(b"\r\n\r\n--x--\r\n");
        assert_eq!(
            parse(ct, &long, &Limits::default()).messages[0],
            "Multipart: Part header line over 4096 bytes long"
        );
        // Long data lines are fine and keep their size.
        let mut big =
            b"--x\r\nContent-Disposition: form-data; name=\"a\"; filename=\"b\"\r\n\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'z', 10_000));
        big.extend_from_slice(b"\r\n--x--\r\n");
        let m = parse(ct, &big, &Limits::default());
        assert_eq!(m.error, None);
        assert_eq!(m.files[0].size, 10_000);
        // NUL in headers.
        let m = parse(ct, b"--x\r\nA: \0\r\n\r\n--x--\r\n", &Limits::default());
        assert!(m.error.is_some());
        // Random bytes.
        let mut s: u32 = 0x9e37_79b9;
        const ALPHABET: &[u8] =
            b"-x\r\n\"';=: \tabContent-Disposition form-data name filename\\\0\x0c";
        for len in 0..600 {
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 17;
                    s ^= s << 5;
                    ALPHABET[s as usize % ALPHABET.len()]
                })
                .collect();
            let _ = parse(ct, &buf, &Limits { max_files: 1 });
            let _ = parse(&buf, &full, &Limits::default());
        }
    }
}
