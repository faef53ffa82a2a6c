//! libinjection in pure Rust: SQL injection and XSS detection by tokenising the input
//! (`@detectSQLi`, `@detectXSS`).
//!
//! libinjection is BSD-3-Clause, Copyright (c) 2012-2016 Nick Galbreath. Both detectors must
//! build for `wasm32-wasip1` (no C, no `unsafe`), which rules out the crates that bind the C
//! library (`libinjection`, `libinjection-rs`).
//!
//! - SQLi (`@detectSQLi`) is our own port of libinjection's `libinjection_sqli.c`, in
//!   `sqli`: the crate we used before, [`libinjectionrs`] 0.1.1 (BSD-3-Clause, a pure Rust
//!   port of libinjection's 4.0 development line), allocates a `String` per word token and was
//!   the most expensive operator on benign traffic; ours gives exactly its answers (verdict and
//!   fingerprint, checked by differential tests in `tests.rs`) about 10 to 13 times faster on
//!   benign values (4 to 11 times on attacks), without allocating (numbers in `sqli`).
//!   Semantics are mirrored from libinjection and that crate; no code is copied verbatim, and
//!   the keyword / fingerprint table and character map are the crate's public data
//!   (`libinjectionrs::sqli::sqli_data`), not copies.
//! - XSS (`@detectXSS`) is a thin wrapper around [`libinjectionrs`]. No code of libinjection
//!   is copied into this repository for it.
//!
//! What we know about the crate, and how we checked it:
//! - Its README calls it an AI-assisted translation; its authors run libinjection's own
//!   test files and a differential fuzzer against the C code. We add the ModSecurity
//!   operator cases, the CRS 942100 / 941100 payloads, fingerprints from libinjection's test
//!   data, and a random-input loop (see `tests.rs`). Offline we also ran 2 million random
//!   inputs with overflow checks on: no panic, run time linear in the input length.
//! - Its fingerprint table has 8,367 entries, the size of upstream's `fingerprints.txt`
//!   (within a few lines). It predates upstream's newest change that reads SQLite's `==`
//!   as one operator (`tests/test-sqli-051.txt`, `' or 1==1;--` → `s&1;c`), so that input
//!   is not flagged here (by the crate or by our port, which follows it).
//! - Cost: like C, libinjection walks the whole value once per quote context tried, so
//!   token-dense input such as `a=a=a=…` costs time linear in its length; bodies are bounded
//!   by the request body limits, not here.
//!
//! - Most benign values are plain words or phrases (`shoes`, `42`, `json.items.0.sku`,
//!   `value number 7`); for those the answer is known without tokenising (see
//!   `plain_word`, `plain_phrase` and `no_markup`), which saves about a tenth of the
//!   engine's time on a benign GET or form. `tests.rs` checks the shortcuts against the
//!   crate on every keyword of its SQL table and on random inputs.
//!
//! What this module is for: the two operator primitives with ModSecurity v3 semantics
//! (`src/operators/detect_sqli.cc`: `libinjection_sqli(input, len, fingerprint)` with the
//! default flags, i.e. all quote contexts and ANSI/MySQL; the fingerprint becomes `TX:0`;
//! `src/operators/detect_xss.cc`: `libinjection_xss(input, len)`).
//! What it is not: it does not apply transformations, fill captures or log; the operator
//! registry in `operators/` does that.

mod sqli;

/// Builds the SQLi keyword table now rather than in the first request that reaches
/// [`detect_sqli`]: ~13 M instructions under wasm (a few ms), which every worker VM's first
/// request would otherwise pay. Called when a rule with `@detectSQLi` is compiled.
pub fn prepare_sqli() {
    sqli::prepare();
}

/// Returns the SQLi fingerprint (e.g. `s&1`) if `input` looks like SQL injection.
///
/// Mirrors ModSecurity v3's `DetectSQLi::evaluate`, which calls `libinjection_sqli` with
/// `FLAG_NONE` (libinjection then tries the input as-is, after a single quote and after a
/// double quote, in ANSI and MySQL comment modes) and reports the fingerprint of the context
/// that matched.
pub fn detect_sqli(input: &[u8]) -> Option<String> {
    if plain_word(input) || plain_phrase(input) {
        return None;
    }
    let verdict = sqli::detect(input);
    verdict
        .is_injection()
        .then(|| verdict.fingerprint().to_owned())
}

/// Returns true if `input` looks like cross-site scripting.
///
/// Mirrors ModSecurity v3's `DetectXSS::evaluate` (`libinjection_xss`): the input is parsed
/// by libinjection's HTML5 tokenizer in each of its starting contexts (data, unquoted,
/// single- and double-quoted attribute value) and flagged when a dangerous tag, attribute,
/// URL scheme or comment shows up.
pub fn detect_xss(input: &[u8]) -> bool {
    if no_markup(input) {
        return false;
    }
    libinjectionrs::detect_xss(input).is_injection()
}

/// Whether libinjection's SQL tokenizer reads `input` as one token that no fingerprint
/// flags: a word (`[A-Za-z][A-Za-z0-9_.]*`, such as the JSON argument name
/// `json.items.0.sku`) none of whose parts before a `.` is an SQL keyword, or a number
/// (`[0-9]+`, `[0-9]+.[0-9]+`), with nothing else.
///
/// Why that is safe (libinjection `libinjection_sqli.c`): without a quote only the
/// as-is context is tried, and without a comment it is not re-parsed as MySQL. A word
/// starting with a letter has no delimiter or quote inside, so `parse_word` (or the string
/// parsers for `b`, `e`, `n`, `q`, `u`, `x`, which fall back to it when no quote follows)
/// takes all of it, and splits it at a `.` only when what comes before is a keyword
/// (`select.1`), which we rule out; `parse_number` takes digits with one decimal part. A
/// one-token fingerprint is that token's type (or nothing, for a skipped leading type or
/// unary operator), and the only one-character fingerprint in the table is `X`, a type the
/// keyword table never gives a word. (A digit followed by letters, `1union`, is two
/// tokens, `1U`, and is left to libinjection.)
fn plain_word(input: &[u8]) -> bool {
    match input.first() {
        Some(c) if c.is_ascii_alphabetic() => {
            input
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
                && !input
                    .iter()
                    .enumerate()
                    .any(|(i, &b)| b == b'.' && is_keyword(&input[..i]))
        }
        Some(_) => {
            let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
            match input.iter().position(|&b| b == b'.') {
                Some(dot) => digits(&input[..dot]) && digits(&input[dot + 1..]),
                None => digits(input),
            }
        }
        None => true,
    }
}

/// Whether `input` is words (`[A-Za-z][A-Za-z0-9_]*`) and integers separated by spaces
/// (`value number 7`, `John Smith`), where no word is an SQL keyword and no two adjacent
/// words make one (`group by`, `double precision`).
///
/// Why that is safe (libinjection `libinjection_sqli.c`): as for [`plain_word`], only the
/// as-is context is tried and each word or integer is one token, a bareword (`n`) or a
/// number (`1`); spaces are skipped. Folding changes such tokens only through a parenthesis,
/// an operator, a dot or a comma, or by merging two adjacent words that together are a
/// keyword, all ruled out here, so the fingerprint is made of `n` and `1`, and the
/// fingerprint table has no entry of those alone.
fn plain_phrase(input: &[u8]) -> bool {
    // The bytes first (cheap), the keyword table only for what can pass.
    if !input
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b' ')
    {
        return false;
    }
    let mut last_word: Option<&[u8]> = None;
    for part in input.split(|&b| b == b' ').filter(|p| !p.is_empty()) {
        if part.iter().all(u8::is_ascii_digit) {
            last_word = None;
            continue;
        }
        let word = part[0].is_ascii_alphabetic()
            && part.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_');
        if !word || is_keyword(part) {
            return false;
        }
        if last_word.is_some_and(|prev| sqli::is_keyword_pair(prev, part)) {
            return false;
        }
        last_word = Some(part);
    }
    true
}

/// Whether libinjection's keyword table gives `w` a type other than bareword (ASCII case is
/// ignored; the table is ASCII, so bytes that are not are no keyword, as in the crate).
fn is_keyword(w: &[u8]) -> bool {
    sqli::is_keyword(w)
}

/// Whether `input` has neither `<` nor `=`, so libinjection's XSS check cannot flag it.
///
/// Why (libinjection `libinjection_xss.c`, `libinjection_html5.c`): a document type, a tag
/// and a comment all start at `<`; the only other way to be flagged is an attribute value
/// after a dangerous attribute name, and in every starting context a value follows a
/// name only through `=` (the quoted contexts start inside a value that has no name).
fn no_markup(input: &[u8]) -> bool {
    memchr::memchr2(b'<', b'=', input).is_none()
}

#[cfg(test)]
mod tests;
