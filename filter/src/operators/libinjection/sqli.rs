//! Our port of libinjection's SQL injection detector (`libinjection_sqli.c`), used by
//! `@detectSQLi`.
//!
//! What it is: a hand-written Rust version of libinjection's SQLi algorithm (libinjection is
//! BSD-3-Clause, Copyright (c) 2012-2016 Nick Galbreath): the tokenizer with its character-type
//! dispatch table, the folding of up to five tokens, the fingerprint look-up, the
//! `libinjection_sqli_not_whitelist` heuristics and the retries over quote contexts (as-is,
//! after a single quote, after a double quote) and ANSI / MySQL comment modes of
//! `libinjection_is_sqli`. Its semantics are mirrored from libinjection and from the Rust
//! crate [`libinjectionrs`] 0.1.1 (BSD-3-Clause), which is the oracle, including that crate's
//! deviations from upstream C (for example, a variable token keeps its `@`, `INTO` is matched
//! case-sensitively in the three-token heuristic, and non-UTF-8 input never matches
//! `sp_password`). No code is copied verbatim. The data tables are not copied either: the
//! keyword / fingerprint table and the character map are the crate's public
//! `sqli_data::SQL_KEYWORDS` and `sqli_data::CHAR_MAP`, turned into a hash map at first use.
//!
//! Why it is hand-written: the crate allocates a `String` for every word it looks up
//! (upper-casing, then a binary search by string compare over 9,352 entries), formats a new
//! `String` whenever it tries to merge two words, and clones its tokens through `SmallVec`s.
//! `@detectSQLi` was the most expensive operator on benign traffic (about 27 % of the engine's
//! time on a 20 KB JSON request). Measured with the `#[ignore]`d `bench_sqli_port_vs_crate` in
//! `tests.rs` (native, release, best of 5 x 100,000 calls on a shared 2-core VM, so absolute
//! times are high; ratios were stable across runs), crate vs this port, per call:
//! `Comfortable cotton t-shirt, model 17` 7,130 ns vs 575 ns (12x); a 173-byte product
//! description 6,330 ns vs 475 ns (13x); `SKU-00017-BLUE-M` 3,410 ns vs 320 ns (11x);
//! `jane.doe@example.com` 1,510 ns vs 140 ns (11x); a 97-byte browser user agent 4,100 ns vs
//! 420 ns (10x); attacks `1' or '1'='1` 1,690 ns vs 440 ns (3.8x) and
//! `1 union select password from users--` 5,480 ns vs 485 ns (11x). No heap allocation.
//!
//! How it is checked: `tests.rs` compares [`detect`] with `libinjectionrs::detect_sqli`
//! (verdict and fingerprint) on every input of the other tests, on every keyword of the table
//! alone and in templates, on 200,000 pseudo-random SQL-heavy inputs, and on the CRS 942xxx
//! regression payloads when `CRS_DIR` is set. An `#[ignore]`d test runs millions more: offline
//! we compared 35 million random inputs (and 2 million more with overflow checks on), all
//! equal.

use std::sync::OnceLock;

use libinjectionrs::sqli::sqli_data::{CharType, CHAR_MAP, SQL_KEYWORDS};
use rustc_hash::FxHashMap;

// Token types: the characters of a fingerprint (`TYPE_*` in libinjection_sqli.h).
const NONE: u8 = 0;
const KEYWORD: u8 = b'k';
const UNION: u8 = b'U';
const GROUP: u8 = b'B';
const EXPRESSION: u8 = b'E';
const SQLTYPE: u8 = b't';
const FUNCTION: u8 = b'f';
const BAREWORD: u8 = b'n';
const NUMBER: u8 = b'1';
const VARIABLE: u8 = b'v';
const STRING: u8 = b's';
const OPERATOR: u8 = b'o';
const LOGIC_OPERATOR: u8 = b'&';
const COMMENT: u8 = b'c';
const COLLATE: u8 = b'A';
const LEFTPARENS: u8 = b'(';
const RIGHTPARENS: u8 = b')';
const LEFTBRACE: u8 = b'{';
const RIGHTBRACE: u8 = b'}';
const DOT: u8 = b'.';
const COMMA: u8 = b',';
const COLON: u8 = b':';
const SEMICOLON: u8 = b';';
const TSQL: u8 = b'T';
const UNKNOWN: u8 = b'?';
const EVIL: u8 = b'X';
const FINGERPRINT: u8 = b'F';
const BACKSLASH: u8 = b'\\';

/// `LIBINJECTION_SQLI_TOKEN_SIZE`: a token keeps at most 31 bytes of its value.
const TOKEN_SIZE: usize = 32;
/// `LIBINJECTION_SQLI_MAX_TOKENS`.
const MAX_TOKENS: usize = 5;
/// Longest word the look-up upper-cases (the table's longest is 29 bytes; a test checks).
const LOOKUP_BUF: usize = 64;

/// A set of bytes as a table (for the `strlencspn` stop sets of libinjection_sqli.c).
const fn byte_set(bytes: &[u8]) -> [bool; 256] {
    let mut set = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        set[bytes[i] as usize] = true;
        i += 1;
    }
    set
}

/// Bytes that end a word (parse_word in libinjection_sqli.c; the crate's set).
static WORD_STOP: [bool; 256] = byte_set(b" []{}<>:\\?=@!#~+-*/&|^%(),';\t\n\x0B\x0C\r\"\xA0\x00");
/// Bytes that end a variable name (parse_var; the crate's set, without NUL unlike C).
static VAR_STOP: [bool; 256] = byte_set(b" <>:\\?=@!#~+-*/&|^%(),;'\t\n\x0B\x0C\r`\"");

/// `char_is_white` in libinjection_sqli.c.
fn is_white(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | 0xA0 | 0x00)
}

/// The keyword and fingerprint table, built at first use from the crate's `SQL_KEYWORDS`.
struct Table {
    /// Upper-case word to token type, for the entries the crate's `lookup_word` can return as
    /// something other than a bareword.
    types: FxHashMap<&'static [u8], u8>,
    /// The longest word in `types`: longer words need no look-up.
    max_len: usize,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut types = FxHashMap::default();
        types.reserve(SQL_KEYWORDS.len());
        for kw in SQL_KEYWORDS {
            // The crate upper-cases the word and binary-searches the table: an entry with a
            // lower-case letter is never found, and the entry found decides the type.
            if kw.word.bytes().any(|b| b.is_ascii_lowercase()) {
                continue;
            }
            let Ok(found) = SQL_KEYWORDS.binary_search_by(|k| k.word.cmp(kw.word)) else {
                continue;
            };
            let ty = SQL_KEYWORDS
                .get(found)
                .map_or(BAREWORD, |k| match k.token_type {
                    t @ (KEYWORD | FUNCTION | UNION | EXPRESSION | TSQL | SQLTYPE | OPERATOR
                    | LOGIC_OPERATOR | VARIABLE | NUMBER | COLLATE | GROUP | FINGERPRINT) => t,
                    _ => BAREWORD,
                });
            if ty != BAREWORD {
                types.insert(kw.word.as_bytes(), ty);
            }
        }
        let max_len = types.keys().map(|k| k.len()).max().unwrap_or(0);
        Table { types, max_len }
    })
}

/// Builds the keyword table if it is not built yet.
pub fn prepare() {
    table();
}

/// The type of `word` (ASCII case ignored) in the keyword table, [`BAREWORD`] if it is none
/// (the crate's `sqli_data::lookup_word`; libinjection's `libinjection_sqli_lookup_word`).
fn lookup(word: &[u8]) -> u8 {
    let table = table();
    if word.len() > table.max_len {
        return BAREWORD;
    }
    let mut buf = [0u8; LOOKUP_BUF];
    let Some(dst) = buf.get_mut(..word.len()) else {
        return BAREWORD;
    };
    for (d, s) in dst.iter_mut().zip(word) {
        *d = s.to_ascii_uppercase();
    }
    table.types.get(&*dst).copied().unwrap_or(BAREWORD)
}

/// Whether the keyword table gives `word` (ASCII case ignored) a type other than bareword.
pub fn is_keyword(word: &[u8]) -> bool {
    lookup(word) != BAREWORD
}

/// Whether the two words `a b` (joined by one space, as libinjection's `syntax_merge_words`
/// joins them) are a keyword, such as `group by`; no allocation.
pub fn is_keyword_pair(a: &[u8], b: &[u8]) -> bool {
    let mut buf = [0u8; LOOKUP_BUF];
    let n = a.len() + 1 + b.len();
    let Some(dst) = buf.get_mut(..n) else {
        return false;
    };
    for (d, s) in dst.iter_mut().zip(a.iter().chain(b" ").chain(b)) {
        *d = *s;
    }
    is_keyword(dst)
}

/// A token (`stoken_t`): its type, at most 31 bytes of its value, and for strings the
/// opening and closing quote (NUL when absent).
#[derive(Clone, Copy)]
struct Token {
    ty: u8,
    str_open: u8,
    str_close: u8,
    len: u8,
    val: [u8; TOKEN_SIZE],
}

const EMPTY: Token = Token {
    ty: NONE,
    str_open: 0,
    str_close: 0,
    len: 0,
    val: [0; TOKEN_SIZE],
};

impl Token {
    /// st_assign in libinjection_sqli.c: the value is cut to 31 bytes.
    fn new(ty: u8, value: &[u8]) -> Token {
        let mut t = EMPTY;
        t.ty = ty;
        let n = value.len().min(TOKEN_SIZE - 1);
        if let (Some(d), Some(s)) = (t.val.get_mut(..n), value.get(..n)) {
            d.copy_from_slice(s);
            t.len = n as u8;
        }
        t
    }

    /// st_assign_char.
    fn char(ty: u8, c: u8) -> Token {
        let mut t = EMPTY;
        t.ty = ty;
        t.val[0] = c;
        t.len = 1;
        t
    }

    fn value(&self) -> &[u8] {
        self.val.get(..usize::from(self.len)).unwrap_or(&[])
    }

    fn first(&self) -> u8 {
        self.val[0]
    }
}

/// Whether `t` is a unary operator (st_is_unary_op in libinjection_sqli.c).
fn is_unary_op(t: &Token) -> bool {
    t.ty == OPERATOR
        && match t.value() {
            [c] => matches!(c, b'+' | b'-' | b'!' | b'~'),
            v @ [_, _] => v == b"!!",
            v @ [_, _, _] => v.eq_ignore_ascii_case(b"NOT"),
            _ => false,
        }
}

/// st_is_arithmetic_op in libinjection_sqli.c.
fn is_arithmetic_op(t: &Token) -> bool {
    t.ty == OPERATOR && matches!(t.value(), [b'*' | b'/' | b'-' | b'+' | b'%'])
}

/// The parsing mode of one pass: the quote the input is assumed to start inside (NUL for
/// none), and whether `--x` is a comment (ANSI) and `#` starts one (MySQL).
#[derive(Clone, Copy)]
struct Flags {
    quote: u8,
    ansi: bool,
    mysql: bool,
}

const QUOTE_NONE_ANSI: Flags = Flags {
    quote: 0,
    ansi: true,
    mysql: false,
};
const QUOTE_NONE_MYSQL: Flags = Flags {
    quote: 0,
    ansi: false,
    mysql: true,
};
const QUOTE_SINGLE_ANSI: Flags = Flags {
    quote: b'\'',
    ansi: true,
    mysql: false,
};
const QUOTE_SINGLE_MYSQL: Flags = Flags {
    quote: b'\'',
    ansi: false,
    mysql: true,
};
const QUOTE_DOUBLE_MYSQL: Flags = Flags {
    quote: b'"',
    ansi: false,
    mysql: true,
};

/// The tokenizer (libinjection_sqli_tokenize and the `parse_*` functions it dispatches to
/// through `char_parse_map`). Each parser takes the position of its first byte and returns
/// the token and the position after it.
struct Tokenizer<'a> {
    s: &'a [u8],
    pos: usize,
    flags: Flags,
    /// `stats_comment_ddx`: `--` not followed by white space.
    stats_ddx: usize,
    /// `stats_comment_hash`: `#` (counted twice in MySQL mode, as in the crate).
    stats_hash: usize,
}

impl<'a> Tokenizer<'a> {
    fn new(s: &'a [u8], flags: Flags) -> Self {
        Tokenizer {
            s,
            pos: 0,
            flags,
            stats_ddx: 0,
            stats_hash: 0,
        }
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.s.get(i).copied()
    }

    fn slice(&self, from: usize, to: usize) -> &'a [u8] {
        self.s.get(from..to).unwrap_or(&[])
    }

    fn rest(&self, from: usize) -> &'a [u8] {
        self.s.get(from..).unwrap_or(&[])
    }

    /// The next token, or `None` at the end (libinjection_sqli_tokenize).
    fn next_token(&mut self) -> Option<Token> {
        let len = self.s.len();
        if self.pos >= len {
            return None;
        }
        if self.pos == 0 && self.flags.quote != 0 {
            let (t, next) = self.parse_quoted_start();
            self.pos = next;
            return Some(t);
        }
        while let Some(c) = self.at(self.pos) {
            let pos = self.pos;
            let (t, next) = match CHAR_MAP[usize::from(c)] {
                CharType::White => {
                    self.pos += 1;
                    continue;
                }
                CharType::Bang | CharType::Op2 => self.parse_operator2(pos),
                CharType::String => self.parse_string(pos),
                CharType::Hash => self.parse_hash(pos),
                CharType::Money => self.parse_money(pos),
                CharType::Op1 | CharType::Unary => (Token::char(OPERATOR, c), pos + 1),
                CharType::LeftParens
                | CharType::RightParens
                | CharType::Comma
                | CharType::Semicolon
                | CharType::LeftBrace
                | CharType::RightBrace => (Token::char(c, c), pos + 1),
                CharType::Dash => self.parse_dash(pos),
                CharType::Number => self.parse_number(pos),
                CharType::Slash => self.parse_slash(pos),
                CharType::Variable => self.parse_var(pos),
                CharType::Word => self.parse_word(pos),
                CharType::BString => self.parse_bstring(pos),
                CharType::EString => self.parse_estring(pos),
                CharType::NQString => self.parse_nqstring(pos),
                CharType::QString => self.parse_qstring_core(pos, 0),
                CharType::UString => self.parse_ustring(pos),
                CharType::XString => self.parse_xstring(pos),
                CharType::BWord => self.parse_bword(pos),
                CharType::Backslash => self.parse_backslash(pos),
                CharType::Tick => self.parse_tick(pos),
                CharType::Other => (Token::char(UNKNOWN, c), pos + 1),
            };
            self.pos = next;
            return Some(t);
        }
        None
    }

    /// The first token when the input is taken to start inside a quote: the string up to
    /// the first unescaped closing quote (parse_string_core with offset 0, called from
    /// libinjection_sqli_tokenize).
    fn parse_quoted_start(&self) -> (Token, usize) {
        let q = self.flags.quote;
        let mut found = memchr::memchr(q, self.s);
        while let Some(qpos) = found {
            if qpos > 0 && self.backslash_escaped(qpos - 1) {
                found = memchr::memchr(q, self.rest(qpos + 1)).map(|i| i + qpos + 1);
                continue;
            }
            if self.at(qpos + 1) == Some(q) {
                found = memchr::memchr(q, self.rest(qpos + 2)).map(|i| i + qpos + 2);
                continue;
            }
            let mut t = Token::new(STRING, self.slice(0, qpos));
            t.str_close = q;
            return (t, qpos + 1);
        }
        (Token::new(STRING, self.s), self.s.len())
    }

    /// Whether the byte after `end` is escaped: an odd run of backslashes ends at `end`
    /// (is_backslash_escaped).
    fn backslash_escaped(&self, end: usize) -> bool {
        let run = self
            .s
            .get(..=end)
            .map_or(0, |s| s.iter().rev().take_while(|&&b| b == b'\\').count());
        run % 2 == 1
    }

    /// parse_operator2: `<=>`, a two-byte operator of the table, `:`, or parse_operator1.
    fn parse_operator2(&self, pos: usize) -> (Token, usize) {
        let c = self.at(pos).unwrap_or(0);
        if pos + 1 >= self.s.len() {
            return (Token::char(OPERATOR, c), pos + 1);
        }
        if self.slice(pos, pos + 3) == b"<=>" {
            return (Token::new(OPERATOR, b"<=>"), pos + 3);
        }
        let two = self.slice(pos, pos + 2);
        match lookup(two) {
            BAREWORD => {}
            LOGIC_OPERATOR => return (Token::new(LOGIC_OPERATOR, two), pos + 2),
            _ => return (Token::new(OPERATOR, two), pos + 2),
        }
        if c == b':' {
            (Token::char(COLON, c), pos + 1)
        } else {
            (Token::char(OPERATOR, c), pos + 1)
        }
    }

    /// parse_hash: a comment in MySQL mode, an operator otherwise.
    fn parse_hash(&mut self, pos: usize) -> (Token, usize) {
        self.stats_hash += 1;
        if self.flags.mysql {
            self.stats_hash += 1;
            self.parse_eol_comment(pos)
        } else {
            (Token::char(OPERATOR, b'#'), pos + 1)
        }
    }

    /// parse_dash: `--` then white space or the end is a comment; `--x` is one in ANSI mode.
    fn parse_dash(&mut self, pos: usize) -> (Token, usize) {
        if self.at(pos + 1) == Some(b'-') {
            match self.at(pos + 2) {
                None => return self.parse_eol_comment(pos),
                Some(c) if is_white(c) => return self.parse_eol_comment(pos),
                Some(_) => {
                    self.stats_ddx += 1;
                    if self.flags.ansi {
                        return self.parse_eol_comment(pos);
                    }
                }
            }
        }
        (Token::char(OPERATOR, b'-'), pos + 1)
    }

    /// parse_eol_comment: up to the end of the line (the newline is consumed).
    fn parse_eol_comment(&self, pos: usize) -> (Token, usize) {
        let rest = self.rest(pos);
        match memchr::memchr(b'\n', rest) {
            Some(i) => (Token::new(COMMENT, self.slice(pos, pos + i)), pos + i + 1),
            None => (Token::new(COMMENT, rest), self.s.len()),
        }
    }

    /// parse_slash: `/*` comment (evil when nested or MySQL's `/*!`), else an operator.
    fn parse_slash(&self, pos: usize) -> (Token, usize) {
        if self.at(pos + 1) != Some(b'*') {
            return (Token::char(OPERATOR, b'/'), pos + 1);
        }
        let inner = self.rest(pos + 2);
        let close = memchr::memmem::find(inner, b"*/");
        let clen = close.map_or(self.s.len() - pos, |c| c + 4);
        let mut ty = COMMENT;
        if let Some(c) = close {
            // As in C, the search for a nested `/*` runs one byte too far.
            let region = inner.get(..c + 1).unwrap_or(inner);
            if memchr::memmem::find(region, b"/*").is_some() {
                ty = EVIL;
            }
        }
        if self.at(pos + 2) == Some(b'!') {
            ty = EVIL;
        }
        (Token::new(ty, self.slice(pos, pos + clen)), pos + clen)
    }

    /// parse_backslash: MySQL's `\N` (NULL) is a number.
    fn parse_backslash(&self, pos: usize) -> (Token, usize) {
        if self.at(pos + 1) == Some(b'N') {
            (Token::new(NUMBER, self.slice(pos, pos + 2)), pos + 2)
        } else {
            (Token::char(BACKSLASH, b'\\'), pos + 1)
        }
    }

    /// parse_string: a string opened by the quote at `pos`.
    fn parse_string(&self, pos: usize) -> (Token, usize) {
        let delim = self.at(pos).unwrap_or(0);
        self.parse_string_core(pos, delim, 1)
    }

    /// parse_string_core: the string from `pos + offset` to the first `delim` not escaped
    /// by a backslash or doubled; unterminated strings run to the end.
    fn parse_string_core(&self, pos: usize, delim: u8, offset: usize) -> (Token, usize) {
        let start = pos + offset;
        let mut from = start;
        while let Some(i) = memchr::memchr(delim, self.rest(from)) {
            let q = from + i;
            if q > 0 && self.backslash_escaped(q - 1) {
                from = q + 1;
            } else if self.at(q + 1) == Some(delim) {
                from = q + 2;
            } else {
                let mut t = Token::new(STRING, self.slice(start, q));
                t.str_open = delim;
                t.str_close = delim;
                return (t, q + 1);
            }
        }
        let mut t = Token::new(STRING, self.rest(start));
        t.str_open = delim;
        (t, self.s.len())
    }

    /// parse_estring: `E'...'` (PostgreSQL escape string), else a word.
    fn parse_estring(&self, pos: usize) -> (Token, usize) {
        if pos + 2 >= self.s.len() || self.at(pos + 1) != Some(b'\'') {
            return self.parse_word(pos);
        }
        self.parse_string_core(pos, b'\'', 2)
    }

    /// parse_ustring: `U&'...'` (Unicode string), else a word.
    fn parse_ustring(&self, pos: usize) -> (Token, usize) {
        if self.slice(pos + 1, pos + 3) == b"&'" {
            let (mut t, next) = self.parse_string(pos + 2);
            t.str_open = b'u';
            if t.str_close == b'\'' {
                t.str_close = b'u';
            }
            (t, next)
        } else {
            self.parse_word(pos)
        }
    }

    /// parse_nqstring: `N'...'` (national string) or `nq'...'`, else a word.
    fn parse_nqstring(&self, pos: usize) -> (Token, usize) {
        if pos + 2 < self.s.len() && self.at(pos + 1) == Some(b'\'') {
            return self.parse_estring(pos);
        }
        self.parse_qstring_core(pos, 1)
    }

    /// parse_qstring_core: Oracle's `q'<delim>...<delim>'`, else a word.
    fn parse_qstring_core(&self, pos: usize, offset: usize) -> (Token, usize) {
        let p = pos + offset;
        let len = self.s.len();
        if !matches!(self.at(p), Some(b'q' | b'Q')) || p + 2 >= len || self.at(p + 1) != Some(b'\'')
        {
            return self.parse_word(pos);
        }
        let open = self.at(p + 2).unwrap_or(0);
        // C compares a signed char: bytes >= 0x80 count as below 33 too.
        if (open as i8) < 33 {
            return self.parse_word(pos);
        }
        let close = match open {
            b'(' => b')',
            b'[' => b']',
            b'{' => b'}',
            b'<' => b'>',
            c => c,
        };
        let start = p + 3;
        let end = self
            .rest(start)
            .windows(2)
            .position(|w| w == [close, b'\''])
            .map(|i| i + start);
        let mut t;
        let next;
        match end {
            Some(e) => {
                t = Token::new(STRING, self.slice(start, e));
                t.str_close = b'q';
                next = e + 2;
            }
            None => {
                t = Token::new(STRING, self.rest(start));
                next = len;
            }
        }
        t.str_open = b'q';
        (t, next)
    }

    /// parse_bstring (`b'0101'`) and parse_xstring (`x'beef'`): a number, else a word.
    fn parse_digit_string(&self, pos: usize, digit: fn(&u8) -> bool) -> (Token, usize) {
        if pos + 2 >= self.s.len() || self.at(pos + 1) != Some(b'\'') {
            return self.parse_word(pos);
        }
        let end = pos + 2 + self.rest(pos + 2).iter().take_while(|b| digit(b)).count();
        if self.at(end) != Some(b'\'') {
            return self.parse_word(pos);
        }
        (Token::new(NUMBER, self.slice(pos, end + 1)), end + 1)
    }

    fn parse_bstring(&self, pos: usize) -> (Token, usize) {
        self.parse_digit_string(pos, |b| matches!(b, b'0' | b'1'))
    }

    fn parse_xstring(&self, pos: usize) -> (Token, usize) {
        self.parse_digit_string(pos, u8::is_ascii_hexdigit)
    }

    /// parse_bword: SQL Server's `[name]`.
    fn parse_bword(&self, pos: usize) -> (Token, usize) {
        let rest = self.rest(pos);
        match memchr::memchr(b']', rest) {
            Some(i) => (
                Token::new(BAREWORD, self.slice(pos, pos + i + 1)),
                pos + i + 1,
            ),
            None => (Token::new(BAREWORD, rest), self.s.len()),
        }
    }

    /// parse_word: a word, typed by the keyword table; if the part before a `.` or `` ` ``
    /// is a keyword (`select.1`), just that part.
    fn parse_word(&self, pos: usize) -> (Token, usize) {
        let rest = self.rest(pos);
        let wlen = rest
            .iter()
            .position(|&b| WORD_STOP[usize::from(b)])
            .unwrap_or(rest.len());
        let word = rest.get(..wlen).unwrap_or(rest);
        for i in memchr::memchr2_iter(b'.', b'`', word) {
            let head = word.get(..i).unwrap_or(word);
            let ty = lookup(head);
            if ty != BAREWORD {
                return (Token::new(ty, head), pos + i);
            }
        }
        let mut t = Token::new(BAREWORD, word);
        if wlen < TOKEN_SIZE {
            t.ty = lookup(word);
        }
        (t, pos + wlen)
    }

    /// parse_tick: MySQL's `` `name` ``, a function if the name is one, else a bareword.
    fn parse_tick(&self, pos: usize) -> (Token, usize) {
        let (mut t, next) = self.parse_string_core(pos, b'`', 1);
        t.ty = if lookup(t.value()) == FUNCTION {
            FUNCTION
        } else {
            BAREWORD
        };
        (t, next)
    }

    /// parse_var: `@name`, `@@name`, ``@`name` `` or `@'name'` (the value keeps the `@`s, as
    /// in the crate).
    fn parse_var(&self, pos: usize) -> (Token, usize) {
        let mut start = pos + 1;
        if self.at(start) == Some(b'@') {
            start += 1;
        }
        let quoted = match self.at(start) {
            Some(b'`') => Some(self.parse_tick(start)),
            Some(b'\'' | b'"') => Some(self.parse_string(start)),
            _ => None,
        };
        if let Some((mut t, next)) = quoted {
            t.ty = VARIABLE;
            return (t, next);
        }
        let end = start
            + self
                .rest(start)
                .iter()
                .take_while(|&&b| !VAR_STOP[usize::from(b)])
                .count();
        (Token::new(VARIABLE, self.slice(pos, end)), end)
    }

    /// parse_money: `$1,000.00`, PostgreSQL's `$$...$$` and `$tag$...$tag$`, or a `$`.
    fn parse_money(&self, pos: usize) -> (Token, usize) {
        let len = self.s.len();
        if pos + 1 == len {
            return (Token::char(BAREWORD, b'$'), len);
        }
        let digits = self
            .rest(pos + 1)
            .iter()
            .take_while(|b| matches!(b, b'0'..=b'9' | b'.' | b','))
            .count();
        if digits > 0 {
            if digits == 1 && self.at(pos + 1) == Some(b'.') {
                return self.parse_word(pos);
            }
            let end = pos + 1 + digits;
            return (Token::new(NUMBER, self.slice(pos, end)), end);
        }
        if self.at(pos + 1) == Some(b'$') {
            return self.parse_dollar_string(pos + 2, b"$$");
        }
        let tag = self
            .rest(pos + 1)
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        let tag_end = pos + 1 + tag;
        if tag > 0 && self.at(tag_end) == Some(b'$') {
            return self.parse_dollar_string(tag_end + 1, self.slice(pos, tag_end + 1));
        }
        (Token::char(BAREWORD, b'$'), pos + 1)
    }

    /// The `$$` / `$tag$` string whose content starts at `start` and ends at `close`.
    fn parse_dollar_string(&self, start: usize, close: &[u8]) -> (Token, usize) {
        let rest = self.rest(start);
        let (mut t, next) = match memchr::memmem::find(rest, close) {
            Some(i) => {
                let mut t = Token::new(STRING, self.slice(start, start + i));
                t.str_close = b'$';
                (t, start + i + close.len())
            }
            None => (Token::new(STRING, rest), self.s.len()),
        };
        t.str_open = b'$';
        (t, next)
    }

    /// parse_number: decimal (with fraction, exponent and Oracle's `d`/`f` suffix), `0x..`
    /// and `0b..`; a lone `.` is a dot and `1e` a bareword.
    fn parse_number(&self, pos: usize) -> (Token, usize) {
        let len = self.s.len();
        if self.at(pos) == Some(b'0') && pos + 1 < len {
            let digit: Option<fn(&u8) -> bool> = match self.at(pos + 1) {
                Some(b'x' | b'X') => Some(u8::is_ascii_hexdigit),
                Some(b'b' | b'B') => Some(|b| matches!(b, b'0' | b'1')),
                _ => None,
            };
            if let Some(digit) = digit {
                let n = self.rest(pos + 2).iter().take_while(|b| digit(b)).count();
                let ty = if n == 0 { BAREWORD } else { NUMBER };
                let end = pos + 2 + n;
                return (Token::new(ty, self.slice(pos, end)), end);
            }
        }
        let count_digits = |from: usize| {
            self.rest(from)
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        };
        let mut end = pos + count_digits(pos);
        if self.at(end) == Some(b'.') {
            end += 1;
            end += count_digits(end);
            if end - pos == 1 {
                return (Token::char(DOT, b'.'), end);
            }
        }
        let mut have_e = false;
        let mut have_exp = false;
        if matches!(self.at(end), Some(b'e' | b'E')) {
            have_e = true;
            end += 1;
            if matches!(self.at(end), Some(b'+' | b'-')) {
                end += 1;
            }
            let n = count_digits(end);
            have_exp = n > 0;
            end += n;
        }
        if matches!(self.at(end), Some(b'd' | b'D' | b'f' | b'F')) {
            match self.at(end + 1) {
                None => end += 1,
                Some(c) if is_white(c) || matches!(c, b';' | b'u' | b'U') => end += 1,
                Some(_) => {}
            }
        }
        let ty = if have_e && !have_exp {
            BAREWORD
        } else {
            NUMBER
        };
        (Token::new(ty, self.slice(pos, end)), end)
    }
}

/// One pass over the input in one parsing mode: the tokens after folding and the
/// fingerprint (libinjection_sqli_fold and libinjection_sqli_fingerprint).
struct Pass {
    /// `tokenvec`; after folding, its first `ntok` entries are the fingerprint's tokens.
    vec: [Token; MAX_TOKENS + 3],
    ntok: usize,
    fp: [u8; 8],
    fp_len: usize,
    /// Tokens the tokenizer produced (`stats_tokens`).
    stats_tokens: usize,
    stats_ddx: usize,
    stats_hash: usize,
}

/// TSQL functions common enough to be column names, MySQL functions, and words that act
/// as a variable and a function: a bareword or variable before `(` is then a function
/// (libinjection_sqli_fold).
const FUNCTION_WORDS: &[&[u8]] = &[
    b"USER_ID",
    b"USER_NAME",
    b"DATABASE",
    b"PASSWORD",
    b"USER",
    b"CURRENT_USER",
    b"CURRENT_DATE",
    b"CURRENT_TIME",
    b"CURRENT_TIMESTAMP",
    b"LOCALTIME",
    b"LOCALTIMESTAMP",
];

impl Pass {
    fn run(s: &[u8], flags: Flags) -> Pass {
        let mut p = Pass {
            vec: [EMPTY; MAX_TOKENS + 3],
            ntok: 0,
            fp: [0; 8],
            fp_len: 0,
            stats_tokens: 0,
            stats_ddx: 0,
            stats_hash: 0,
        };
        let count = p.fold(s, flags);
        p.make_fingerprint(count);
        p
    }

    fn tok(&self, i: usize) -> &Token {
        self.vec.get(i).unwrap_or(&EMPTY)
    }

    fn ty(&self, i: usize) -> u8 {
        self.tok(i).ty
    }

    fn set_ty(&mut self, i: usize, ty: u8) {
        if let Some(t) = self.vec.get_mut(i) {
            t.ty = ty;
        }
    }

    fn put(&mut self, i: usize, t: Token) {
        if let Some(d) = self.vec.get_mut(i) {
            *d = t;
        }
    }

    fn copy(&mut self, dst: usize, src: usize) {
        let t = *self.tok(src);
        self.put(dst, t);
    }

    fn value_is(&self, i: usize, words: &[&[u8]]) -> bool {
        let v = self.tok(i).value();
        words.iter().any(|w| v.eq_ignore_ascii_case(w))
    }

    /// Reads tokens into `vec[pos..]` until `pos - left` reaches `want` (comments are kept
    /// aside as `last_comment`); the loops of libinjection_sqli_fold.
    fn fetch(
        &mut self,
        tz: &mut Tokenizer<'_>,
        more: &mut bool,
        pos: &mut usize,
        left: usize,
        want: usize,
        last_comment: &mut Token,
    ) {
        while *more && *pos <= MAX_TOKENS && pos.saturating_sub(left) < want {
            match tz.next_token() {
                Some(t) => {
                    self.stats_tokens += 1;
                    if t.ty == COMMENT {
                        *last_comment = t;
                    } else {
                        last_comment.ty = NONE;
                        self.put(*pos, t);
                        *pos += 1;
                    }
                }
                None => *more = false,
            }
        }
    }

    /// The five-token patterns after which folding starts over (libinjection_sqli_fold).
    fn five_token_restart(&self) -> bool {
        let t: [u8; 5] = std::array::from_fn(|i| self.ty(i));
        matches!(
            t,
            [NUMBER, OPERATOR | COMMA, LEFTPARENS, NUMBER, RIGHTPARENS]
                | [
                    BAREWORD,
                    OPERATOR,
                    LEFTPARENS,
                    BAREWORD | NUMBER,
                    RIGHTPARENS
                ]
                | [NUMBER, RIGHTPARENS, COMMA, LEFTPARENS, NUMBER]
                | [BAREWORD, RIGHTPARENS, OPERATOR, LEFTPARENS, BAREWORD]
        )
    }

    /// syntax_merge_words: two adjacent words that together are a keyword (`group by`)
    /// become one token.
    fn merge_words(&mut self, a: usize, b: usize) -> bool {
        let (ta, tb) = (self.ty(a), self.ty(b));
        let word = |t| {
            matches!(
                t,
                KEYWORD | BAREWORD | OPERATOR | UNION | FUNCTION | EXPRESSION | TSQL | SQLTYPE
            )
        };
        if !word(ta) || !(word(tb) || tb == LOGIC_OPERATOR) {
            return false;
        }
        let (va, vb) = (self.tok(a).value(), self.tok(b).value());
        let n = va.len() + 1 + vb.len();
        if n >= TOKEN_SIZE {
            return false;
        }
        let mut merged = [0u8; TOKEN_SIZE];
        for (d, s) in merged.iter_mut().zip(va.iter().chain(b" ").chain(vb)) {
            *d = *s;
        }
        let merged = merged.get(..n).unwrap_or(&[]);
        let ty = lookup(merged);
        if ty == BAREWORD {
            return false;
        }
        let mut t = Token::new(ty, merged);
        let old = self.tok(a);
        t.str_open = old.str_open;
        t.str_close = old.str_close;
        self.put(a, t);
        true
    }

    /// libinjection_sqli_fold: reads tokens and folds them until five are left; returns
    /// how many make the fingerprint.
    fn fold(&mut self, s: &[u8], flags: Flags) -> usize {
        let mut tz = Tokenizer::new(s, flags);
        let mut last_comment = EMPTY;
        let mut more = true;

        // Skip leading comments, `(`, SQL types and unary operators.
        loop {
            match tz.next_token() {
                Some(t) => {
                    self.stats_tokens += 1;
                    self.put(0, t);
                    if !(t.ty == COMMENT
                        || t.ty == LEFTPARENS
                        || t.ty == SQLTYPE
                        || is_unary_op(&t))
                    {
                        break;
                    }
                }
                None => {
                    more = false;
                    break;
                }
            }
        }
        if !more {
            self.stats_ddx = tz.stats_ddx;
            self.stats_hash = tz.stats_hash;
            return 0;
        }

        let mut pos = 1usize;
        let mut left = 0usize;
        loop {
            if pos >= MAX_TOKENS && self.five_token_restart() {
                if pos > MAX_TOKENS {
                    self.copy(1, MAX_TOKENS);
                    pos = 2;
                } else {
                    pos = 1;
                }
                left = 0;
            }
            if !more || left >= MAX_TOKENS {
                left = pos;
                break;
            }

            // Two tokens (apply the two-token folds of libinjection_sqli_fold).
            self.fetch(&mut tz, &mut more, &mut pos, left, 2, &mut last_comment);
            if pos.saturating_sub(left) < 2 {
                left = pos;
                continue;
            }
            let (a, b) = (left, left + 1);
            let (ta, tb) = (self.ty(a), self.ty(b));
            if (ta == STRING && tb == STRING) || (ta == SEMICOLON && tb == SEMICOLON) {
                pos = pos.saturating_sub(1);
                continue;
            } else if (ta == OPERATOR || ta == LOGIC_OPERATOR)
                && (is_unary_op(self.tok(b)) || tb == SQLTYPE)
            {
                pos = pos.saturating_sub(1);
                left = 0;
                continue;
            } else if (ta == LEFTPARENS && is_unary_op(self.tok(b)))
                // syntax_merge_words runs (and merges) only when the rule before fails.
                || self.merge_words(a, b)
            {
                pos = pos.saturating_sub(1);
                left = left.saturating_sub(1);
                continue;
            } else if ta == SEMICOLON
                && tb == FUNCTION
                && self
                    .tok(b)
                    .value()
                    .get(..2)
                    .is_some_and(|v| v.eq_ignore_ascii_case(b"IF"))
            {
                // T-SQL's `; IF ...` is control flow, not the function.
                self.set_ty(b, TSQL);
                continue;
            } else if (ta == BAREWORD || ta == VARIABLE)
                && tb == LEFTPARENS
                && self.value_is(a, FUNCTION_WORDS)
            {
                self.set_ty(a, FUNCTION);
                continue;
            } else if ta == KEYWORD && self.value_is(a, &[b"IN", b"NOT IN"]) {
                self.set_ty(a, if tb == LEFTPARENS { OPERATOR } else { BAREWORD });
                continue;
            } else if ta == OPERATOR && self.value_is(a, &[b"LIKE", b"NOT LIKE"]) {
                // `LIKE(` is a function; no fold either way (falls through as in C).
                if tb == LEFTPARENS {
                    self.set_ty(a, FUNCTION);
                }
            } else if ta == SQLTYPE
                && matches!(
                    tb,
                    BAREWORD | NUMBER | SQLTYPE | LEFTPARENS | FUNCTION | VARIABLE | STRING
                )
            {
                self.copy(a, b);
                pos = pos.saturating_sub(1);
                left = 0;
                continue;
            } else if ta == COLLATE && tb == BAREWORD {
                // A collation name with `_` is a type. The crate reads the value as UTF-8
                // (anything else is "<binary>", without `_`). Falls through.
                if std::str::from_utf8(self.tok(b).value()).is_ok_and(|v| v.contains('_')) {
                    self.set_ty(b, SQLTYPE);
                    left = 0;
                }
            } else if ta == BACKSLASH {
                if is_arithmetic_op(self.tok(b)) {
                    // T-SQL reads `\%1` as `0 % 1`.
                    self.set_ty(a, NUMBER);
                } else {
                    self.copy(a, b);
                    pos = pos.saturating_sub(1);
                }
                left = 0;
                continue;
            } else if (ta == LEFTPARENS && tb == LEFTPARENS)
                || (ta == RIGHTPARENS && tb == RIGHTPARENS)
            {
                pos = pos.saturating_sub(1);
                left = 0;
                continue;
            } else if ta == LEFTBRACE && tb == BAREWORD {
                // MySQL's `{ ``.``.id }` is blacklisted outright; ODBC's `{foo expr}` is expr.
                if self.tok(b).len == 0 {
                    self.set_ty(b, EVIL);
                    self.ntok = left + 2;
                    return left + 2;
                }
                left = 0;
                pos = pos.saturating_sub(2);
                continue;
            } else if tb == RIGHTBRACE {
                pos = pos.saturating_sub(1);
                left = 0;
                continue;
            }

            // Three tokens (the three-token folds).
            self.fetch(&mut tz, &mut more, &mut pos, left, 3, &mut last_comment);
            if pos.saturating_sub(left) < 3 {
                left = pos;
                continue;
            }
            let (a, b, c) = (left, left + 1, left + 2);
            let (ta, tb, tc) = (self.ty(a), self.ty(b), self.ty(c));
            let unary_b = is_unary_op(self.tok(b));
            if (ta == NUMBER && tb == OPERATOR && tc == NUMBER)
                || (ta == OPERATOR && tb != LEFTPARENS && tc == OPERATOR)
                || (ta == LOGIC_OPERATOR && tc == LOGIC_OPERATOR)
                || (ta == VARIABLE && tb == OPERATOR && matches!(tc, VARIABLE | NUMBER | BAREWORD))
                || (matches!(ta, BAREWORD | NUMBER)
                    && tb == OPERATOR
                    && matches!(tc, NUMBER | BAREWORD))
                || (matches!(ta, BAREWORD | NUMBER | VARIABLE | STRING)
                    && tb == OPERATOR
                    && self.tok(b).value() == b"::"
                    && tc == SQLTYPE)
                || (matches!(ta, BAREWORD | NUMBER | STRING | VARIABLE)
                    && tb == COMMA
                    && matches!(tc, NUMBER | BAREWORD | STRING | VARIABLE))
                || (ta == BAREWORD && tb == DOT && tc == BAREWORD)
            {
                // `1+1`, `a,b`, `db.table`...: keep the first.
                pos = pos.saturating_sub(2);
                left = 0;
                continue;
            } else if (matches!(ta, EXPRESSION | GROUP | COMMA) && unary_b && tc == LEFTPARENS)
                || (matches!(ta, KEYWORD | EXPRESSION | GROUP)
                    && unary_b
                    && matches!(tc, NUMBER | BAREWORD | VARIABLE | STRING | FUNCTION))
            {
                // Drop the unary operator: `SELECT - 1`, `LIMIT + (`.
                self.copy(b, c);
                pos = pos.saturating_sub(1);
                left = 0;
                continue;
            } else if ta == COMMA && unary_b && matches!(tc, NUMBER | BAREWORD | VARIABLE | STRING)
            {
                // `, -1` becomes `,1`, then back up: `1,-1` folds to `1`.
                self.copy(b, c);
                left = 0;
                pos = pos.saturating_sub(3);
                continue;
            } else if (ta == COMMA && unary_b && tc == FUNCTION)
                || (ta == EXPRESSION && tb == DOT && tc == BAREWORD)
            {
                self.copy(b, c);
                pos = pos.saturating_sub(1);
                left = 0;
                continue;
            } else if ta == FUNCTION
                && tb == LEFTPARENS
                && tc != RIGHTPARENS
                && self.value_is(a, &[b"USER"])
            {
                // `USER()` takes no argument: `user(foo)` is no function.
                self.set_ty(a, BAREWORD);
            }
            left += 1;
        }

        left = left.min(MAX_TOKENS);
        // PHP's magic backquote comment: an unclosed, empty `` ` `` at the end.
        if left > 2 {
            let t = self.tok(left - 1);
            if t.ty == BAREWORD && t.str_open == b'`' && t.len == 0 && t.str_close == 0 {
                self.set_ty(left - 1, COMMENT);
            }
        }
        let mut n = 0;
        for i in 0..left {
            let t = *self.tok(i);
            if t.ty != NONE {
                self.put(n, t);
                n += 1;
            }
        }
        self.stats_ddx = tz.stats_ddx;
        self.stats_hash = tz.stats_hash;
        if left < MAX_TOKENS && last_comment.ty == COMMENT {
            self.put(n, last_comment);
            n += 1;
            left += 1;
        }
        self.ntok = n;
        left
    }

    /// The fingerprint of the first `count` tokens; any evil token makes it `X`
    /// (libinjection_sqli_fingerprint).
    fn make_fingerprint(&mut self, count: usize) {
        let n = count.min(self.ntok).min(self.fp.len());
        for (f, t) in self.fp.iter_mut().zip(&self.vec).take(n) {
            *f = if t.ty == NONE { UNKNOWN } else { t.ty };
        }
        self.fp_len = n;
        if self.fp.contains(&EVIL) {
            self.fp = [0; 8];
            self.fp[0] = EVIL;
            self.fp_len = 1;
            if self.ntok > 0 {
                self.put(0, Token::char(EVIL, b'X'));
                self.ntok = 1;
            }
        }
    }

    fn fingerprint(&self) -> &[u8] {
        self.fp.get(..self.fp_len).unwrap_or(&[])
    }

    /// reparse_as_mysql: the input has `--x` or `#`, which MySQL reads differently.
    fn reparse_as_mysql(&self) -> bool {
        self.stats_ddx != 0 || self.stats_hash != 0
    }

    /// libinjection_sqli_check_fingerprint: the fingerprint is in the table and the
    /// heuristics do not clear it.
    fn is_sqli(&self, input: &[u8]) -> bool {
        self.is_blacklisted() && self.is_not_whitelist(input)
    }

    /// libinjection_sqli_blacklist: `0` and the upper-cased fingerprint is a table entry
    /// of type fingerprint.
    fn is_blacklisted(&self) -> bool {
        let fp = self.fingerprint();
        if fp.is_empty() {
            return false;
        }
        let mut key = [0u8; 9];
        key[0] = b'0';
        for (k, c) in key[1..].iter_mut().zip(fp) {
            *k = *c;
        }
        key.get(..fp.len() + 1)
            .is_some_and(|k| lookup(k) == FINGERPRINT)
    }

    /// libinjection_sqli_not_whitelist: false for fingerprints that are too often benign.
    fn is_not_whitelist(&self, input: &[u8]) -> bool {
        let fp = self.fingerprint();
        if fp.len() > 1 && fp.last() == Some(&COMMENT) && contains_sp_password(input) {
            return true;
        }
        match fp.len() {
            2 => self.two_token_ok(input),
            3 => self.three_token_ok(),
            _ => true,
        }
    }

    /// The two-token case of libinjection_sqli_not_whitelist.
    fn two_token_ok(&self, input: &[u8]) -> bool {
        if self.ntok < 2 {
            return true;
        }
        let (t0, t1) = (self.tok(0), self.tok(1));
        if self.fp.get(1) == Some(&UNION) {
            // `1U` is SQLi only if folding or more tokens were involved.
            return self.stats_tokens != 2;
        }
        if t1.first() == b'#' {
            return false;
        }
        if t0.ty == BAREWORD && t1.ty == COMMENT && t1.first() != b'/' {
            return false;
        }
        if t0.ty == NUMBER && t1.ty == COMMENT {
            if t1.first() == b'/' || self.stats_tokens > 2 {
                return true;
            }
            // As in C (and the crate), the byte after the number is read at its length,
            // not at its position; C's signed char makes bytes >= 0x80 white space too.
            let end = usize::from(t0.len);
            return match input.get(end) {
                Some(&ch) if (ch as i8) <= 32 => true,
                Some(b'/') => input.get(end + 1) == Some(&b'*'),
                Some(b'-') => input.get(end + 1) == Some(&b'-'),
                _ => false,
            };
        }
        // `1--` is a scan, `1-- foo` is not.
        !(t1.len > 2 && t1.first() == b'-')
    }

    /// The three-token case of libinjection_sqli_not_whitelist.
    fn three_token_ok(&self) -> bool {
        if self.ntok < 3 {
            return true;
        }
        let fp = self.fingerprint();
        if fp == b"sos" || fp == b"s&s" {
            // `...foo" + "bar...` is SQLi, other string concatenations are not.
            let (t0, t2) = (self.tok(0), self.tok(2));
            return t0.str_open == 0 && t2.str_close == 0 && t0.str_close == t2.str_open;
        }
        if matches!(fp, b"s&n" | b"n&1" | b"1&1" | b"1&v" | b"1&s") && self.stats_tokens == 3 {
            // `sexy and 17`.
            return false;
        }
        let t1 = self.tok(1);
        // Only `INTO OUTFILE` / `INTO DUMPFILE` (case-sensitive in the crate) stay SQLi.
        !(t1.ty == KEYWORD && (t1.len < 5 || !t1.val.starts_with(b"INTO")))
    }
}

/// Whether `input` mentions `sp_password` (ASCII case ignored); as in the crate, only
/// UTF-8 input can.
fn contains_sp_password(input: &[u8]) -> bool {
    std::str::from_utf8(input).is_ok()
        && input
            .windows(11)
            .any(|w| w.eq_ignore_ascii_case(b"sp_password"))
}

/// What [`detect`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    injection: bool,
    fingerprint: [u8; 8],
    len: usize,
}

impl Verdict {
    /// Whether the input is SQL injection.
    pub fn is_injection(&self) -> bool {
        self.injection
    }

    /// The fingerprint (e.g. `s&1`) of the context that matched, or of the last context
    /// tried when none did (what `libinjectionrs::detect_sqli` reports).
    pub fn fingerprint(&self) -> &str {
        self.fingerprint
            .get(..self.len)
            .and_then(|f| std::str::from_utf8(f).ok())
            .unwrap_or("")
    }
}

/// Whether `input` is SQL injection, as `libinjection_sqli(input, len, fp)` with
/// `FLAG_NONE` (libinjection_is_sqli): the input as-is, then as if after a single quote,
/// then as if after a double quote, re-parsed in MySQL mode where comments differ.
pub fn detect(input: &[u8]) -> Verdict {
    let verdict = |p: &Pass, injection: bool| Verdict {
        injection,
        fingerprint: p.fp,
        len: p.fp_len,
    };
    if input.is_empty() {
        return Verdict {
            injection: false,
            fingerprint: [0; 8],
            len: 0,
        };
    }
    let mut p = Pass::run(input, QUOTE_NONE_ANSI);
    if p.is_sqli(input) {
        return verdict(&p, true);
    }
    if p.reparse_as_mysql() {
        p = Pass::run(input, QUOTE_NONE_MYSQL);
        if p.is_sqli(input) {
            return verdict(&p, true);
        }
    }
    if memchr::memchr(b'\'', input).is_some() {
        p = Pass::run(input, QUOTE_SINGLE_ANSI);
        if p.is_sqli(input) {
            return verdict(&p, true);
        }
        if p.reparse_as_mysql() {
            p = Pass::run(input, QUOTE_SINGLE_MYSQL);
            if p.is_sqli(input) {
                return verdict(&p, true);
            }
        }
    }
    if memchr::memchr(b'"', input).is_some() {
        p = Pass::run(input, QUOTE_DOUBLE_MYSQL);
        if p.is_sqli(input) {
            return verdict(&p, true);
        }
    }
    verdict(&p, false)
}

/// The longest word of the crate's table, which must fit the look-up's buffer (tests).
#[cfg(test)]
pub(super) fn longest_keyword() -> usize {
    SQL_KEYWORDS.iter().map(|k| k.word.len()).max().unwrap_or(0)
}

/// The size of the look-up's upper-casing buffer (tests).
#[cfg(test)]
pub(super) const LOOKUP_BUF_LEN: usize = LOOKUP_BUF;
