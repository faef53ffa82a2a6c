//! Transformations (`t:` actions): pure functions from bytes to bytes.
//!
//! Each transformation lives in this folder under its ModSecurity reference-manual name.
//! A transformation returns `None` when the input is left unchanged (ModSecurity's
//! "ret 0"), so the caller can skip copying; `Some(new)` otherwise.
//! Not here: caching of transformed values (the transaction does that) and `t:none`'s
//! effect of clearing inherited transformations (the rule compiler does that).
//!
//! Semantics follow libmodsecurity v3 (`src/actions/transformations/*.cc`), byte for byte,
//! including its quirks where the SecRules test set pins them (for example `removeComments`
//! emitting a NUL when a comment closes at the very end). Where v3 reads out of bounds or
//! is otherwise undefined (odd-length `hexDecode`, CVE-2026-30923; truncated escapes), we
//! pick the bounded behaviour and say so in the file concerned.
//!
//! `Some(v)` is returned only when `v` differs from the input: "changed" here means the
//! bytes changed, which is what `multiMatch` and the transformation cache need. (A few
//! v3 transformations report "changed" for identical output; see the test module.)
//!
//! Everything is hand-rolled except the digests (`md-5`, `sha1` crates): the decoders are
//! small state machines with ModSecurity-specific leniency that no general crate offers
//! (for example base64 decoders that stop at, or skip, invalid characters).

mod base64;
mod cmd_line;
mod comments;
mod css_decode;
mod digest;
mod escape_seq_decode;
mod hex;
mod html_entity_decode;
mod js_decode;
mod length;
mod lowercase;
mod normalise_path;
mod nulls;
mod parity;
mod php_args_names;
mod sql_hex_decode;
mod trim;
mod url_decode;
mod url_decode_uni;
mod url_encode;
mod utf8_to_unicode;
mod whitespace;

#[cfg(test)]
mod tests;

pub use url_decode_uni::{url_decode_uni_mapped, UnicodeMap};

/// A transformation function: `None` means the input is unchanged.
pub type TransformFn = fn(&[u8]) -> Option<Vec<u8>>;

/// Every transformation by its SecLang name, as `Transformation::instantiate` in
/// libmodsecurity v3 knows them (including the `normalize*` spellings and the
/// `cmd_line` / `compress_whitespace` aliases it accepts).
const REGISTRY: &[(&str, TransformFn)] = &[
    ("base64Decode", base64::base64_decode),
    ("base64DecodeExt", base64::base64_decode_ext),
    ("base64Encode", base64::base64_encode),
    ("cmdLine", cmd_line::cmd_line),
    ("cmd_line", cmd_line::cmd_line),
    ("compressWhitespace", whitespace::compress_whitespace),
    ("compress_whitespace", whitespace::compress_whitespace),
    ("cssDecode", css_decode::css_decode),
    ("escapeSeqDecode", escape_seq_decode::escape_seq_decode),
    ("hexDecode", hex::hex_decode),
    ("hexEncode", hex::hex_encode),
    ("htmlEntityDecode", html_entity_decode::html_entity_decode),
    ("jsDecode", js_decode::js_decode),
    ("length", length::length),
    ("lowercase", lowercase::lowercase),
    ("uppercase", lowercase::uppercase),
    ("md5", digest::md5),
    ("sha1", digest::sha1),
    ("none", none),
    ("normalisePath", normalise_path::normalise_path),
    ("normalizePath", normalise_path::normalise_path),
    ("normalisePathWin", normalise_path::normalise_path_win),
    ("normalizePathWin", normalise_path::normalise_path_win),
    ("parityEven7bit", parity::parity_even_7bit),
    ("parityOdd7bit", parity::parity_odd_7bit),
    ("parityZero7bit", parity::parity_zero_7bit),
    ("phpArgsNames", php_args_names::php_args_names),
    ("removeComments", comments::remove_comments),
    ("removeCommentsChar", comments::remove_comments_char),
    ("replaceComments", comments::replace_comments),
    ("removeNulls", nulls::remove_nulls),
    ("replaceNulls", nulls::replace_nulls),
    ("removeWhitespace", whitespace::remove_whitespace),
    ("sqlHexDecode", sql_hex_decode::sql_hex_decode),
    ("trim", trim::trim),
    ("trimLeft", trim::trim_left),
    ("trimRight", trim::trim_right),
    ("urlDecode", url_decode::url_decode),
    ("urlDecodeUni", url_decode_uni::url_decode_uni),
    ("urlEncode", url_encode::url_encode),
    ("utf8toUnicode", utf8_to_unicode::utf8_to_unicode),
];

/// Transformations that leave every [plain](is_plain) value as it is: each acts only on
/// bytes a plain value does not have (`%`, `+`, `&`, `\\`, `/`, `.`, quotes, comment
/// markers, whitespace, NUL, upper-case letters, bytes ≥ 0x80). `sqlHexDecode` (`0x41`),
/// `hexDecode`, the `base64*`, hashing, encoding, even and odd parity, `length` and
/// `uppercase` change plain values and are not here. `tests.rs` applies every
/// transformation to random plain values and checks this list both ways.
const KEEP_PLAIN: &[&str] = &[
    "cmdLine",
    "cmd_line",
    "compressWhitespace",
    "compress_whitespace",
    "cssDecode",
    "escapeSeqDecode",
    "htmlEntityDecode",
    "jsDecode",
    "lowercase",
    "none",
    "normalisePath",
    "normalizePath",
    "normalisePathWin",
    "normalizePathWin",
    "parityZero7bit",
    "phpArgsNames",
    "removeComments",
    "removeCommentsChar",
    "replaceComments",
    "removeNulls",
    "replaceNulls",
    "removeWhitespace",
    "trim",
    "trimLeft",
    "trimRight",
    "urlDecode",
    "urlDecodeUni",
    "utf8toUnicode",
];

/// The bytes of `input` that `keep` accepts, in a buffer sized for all of them (collecting
/// a filtered iterator grows one from 8 bytes, reallocating on the way).
fn kept(input: &[u8], keep: impl Fn(u8) -> bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    out.extend(input.iter().copied().filter(|&c| keep(c)));
    out
}

/// Whether the transformation named `name` leaves every plain value unchanged (so a chain
/// of such transformations need not run, nor its result be cached, for a plain value).
pub fn keeps_plain(name: &str) -> bool {
    KEEP_PLAIN.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Whether `v` is plain: only `[a-z0-9_]` (most argument names and many values, `page`,
/// `42`, `red`).
#[inline]
pub fn is_plain(v: &[u8]) -> bool {
    v.iter().all(|&b| PLAIN[usize::from(b)])
}

/// The bytes of a plain value ([`is_plain`]), one load per byte.
static PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_';
        b += 1;
    }
    t
};

/// Looks a transformation up by its SecLang name (`lowercase`, `urlDecodeUni`, …).
///
/// The name is matched case-insensitively. Returns `None` for an unknown name; the rule
/// compiler turns that into a configuration error.
pub fn lookup(name: &str) -> Option<TransformFn> {
    lookup_indexed(name).map(|(_, f)| f)
}

/// [`lookup`], with the transformation's position in the registry: equal positions mean
/// the same function (the engine's transformation cache shares results by it).
pub fn lookup_indexed(name: &str) -> Option<(u8, TransformFn)> {
    REGISTRY
        .iter()
        .position(|(n, _)| n.eq_ignore_ascii_case(name))
        .and_then(|i| Some((u8::try_from(i).ok()?, REGISTRY.get(i)?.1)))
}

/// The SecLang names [`lookup`] knows, in registry order (aliases included).
pub fn names() -> impl Iterator<Item = &'static str> {
    REGISTRY.iter().map(|&(n, _)| n)
}

/// `t:none`: never changes the value (its chain-clearing effect is the compiler's job).
fn none(_input: &[u8]) -> Option<Vec<u8>> {
    None
}

/// Returns `Some(out)` when `out` differs from `input`, else `None`.
#[inline]
fn if_changed(input: &[u8], out: Vec<u8>) -> Option<Vec<u8>> {
    if out.as_slice() == input {
        None
    } else {
        Some(out)
    }
}

/// `VALID_HEX` in ModSecurity: an ASCII hex digit.
#[inline]
fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

/// `ISODIGIT`: an ASCII octal digit.
#[inline]
fn is_odigit(c: u8) -> bool {
    (b'0'..=b'7').contains(&c)
}

/// C `isspace` in the "C" locale: space, `\t`, `\n`, `\v`, `\f`, `\r`.
#[inline]
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// ModSecurity's `xsingle2c`: one "hex" digit without validation (wrapping byte math,
/// as the C code does on `unsigned char`), so non-hex input gives ModSecurity's bytes.
#[inline]
fn xsingle2c(c: u8) -> u8 {
    if c >= b'A' {
        (c & 0xdf).wrapping_sub(b'A').wrapping_add(10)
    } else {
        c.wrapping_sub(b'0')
    }
}

/// ModSecurity's `x2c`: two "hex" digits to a byte, without validation.
#[inline]
fn x2c(hi: u8, lo: u8) -> u8 {
    xsingle2c(hi).wrapping_mul(16).wrapping_add(xsingle2c(lo))
}

/// Lowercase hex digits, as ModSecurity's `c2x` writes them.
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
