//! Transformations (`t:` actions): pure functions from bytes to bytes.
//!
//! Each transformation lives in this folder under its ModSecurity reference-manual name.
//! A transformation writes its result to a buffer the caller lends (empty on entry, kept
//! from value to value: no allocation per call once it has grown) and returns `false` when
//! the input is left unchanged (ModSecurity's "ret 0"), so the caller keeps the input and
//! ignores the buffer; `true` otherwise.
//! Not here: caching of transformed values (the transaction does that) and `t:none`'s
//! effect of clearing inherited transformations (the rule compiler does that).
//!
//! Semantics follow libmodsecurity v3 (`src/actions/transformations/*.cc`), byte for byte,
//! including its quirks where the SecRules test set pins them (for example `removeComments`
//! emitting a NUL when a comment closes at the very end). Where v3 reads out of bounds or
//! is otherwise undefined (odd-length `hexDecode`, CVE-2026-30923; truncated escapes), we
//! pick the bounded behaviour and say so in the file concerned.
//!
//! `true` is returned only when the result differs from the input: "changed" here means
//! the bytes changed, which is what `multiMatch` and the transformation cache need. (A few
//! v3 transformations report "changed" for identical output; see the test module.)
//!
//! Everything is hand-rolled except the digests (`md-5`, `sha1` crates): the decoders are
//! small state machines with ModSecurity-specific leniency that no general crate offers
//! (for example base64 decoders that stop at, or skip, invalid characters).
//!
//! Each transformation also names the byte classes a value needs for it to change anything
//! ([`triggers`], [`classes`]): the engine skips a chain none of whose steps a value can
//! trigger, without running or caching it.

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
pub(crate) mod tests;

pub use url_decode_uni::{url_decode_uni_mapped, UnicodeMap};

/// A transformation function: writes the transformed input to `out` (empty on entry) and
/// returns whether it differs from the input; when it returns `false`, what `out` holds
/// means nothing.
pub type TransformFn = fn(&[u8], &mut Vec<u8>) -> bool;

/// In a transformation's test module: the functions named, with their result as an
/// `Option` (through [`owned`]), under the same names.
#[cfg(test)]
macro_rules! under_test {
    ($($f:ident),*) => {
        $(
            fn $f(input: &[u8]) -> Option<Vec<u8>> {
                crate::transformations::owned(super::$f, input)
            }
        )*
    };
}
#[cfg(test)]
pub(crate) use under_test;

/// Applies `f` to `input` into a new vector: `None` when the input is unchanged (for tests
/// and tools; the engine lends buffers it keeps).
pub fn owned(f: TransformFn, input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    f(input, &mut out).then_some(out)
}

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

/// Byte classes of a value ([`classes`]), one bit each: a transformation changes a value
/// only if the value has one of its *trigger* classes ([`triggers`]), so a chain whose
/// triggers the value lacks leaves it as it is and need not run (nor its result be cached).
/// Bytes `[a-z0-9_]` are in no class: a value made only of them (most argument names and
/// many values, `page`, `42`, `red`) has none but [`class::ALWAYS`]. Pair classes (`--`,
/// two spaces, `/*`, `*/`, a space before `/` or `(`) narrow the triggers of the comment,
/// whitespace and `cmdLine` steps, whose single bytes (`t-shirt`, `a b`) are common in
/// benign text.
pub mod class {
    /// Set in every value: the trigger of a transformation that may change any value.
    pub const ALWAYS: u32 = 1;
    /// `A-Z`.
    pub const UPPER: u32 = 1 << 1;
    /// Bytes ≥ 0x80.
    pub const HIGH: u32 = 1 << 2;
    /// NUL.
    pub const NUL: u32 = 1 << 3;
    /// A space.
    pub const SPACE: u32 = 1 << 4;
    /// `\t`, `\n`, `\v`, `\f`, `\r`.
    pub const WS: u32 = 1 << 5;
    /// `%` or `+`.
    pub const URL: u32 = 1 << 6;
    /// `&`.
    pub const AMP: u32 = 1 << 7;
    /// `\\`.
    pub const BSLASH: u32 = 1 << 8;
    /// `"`, `'` or `^`.
    pub const QUOTE: u32 = 1 << 9;
    /// `,` or `;`.
    pub const COMMA: u32 = 1 << 10;
    /// `/`.
    pub const SLASH: u32 = 1 << 11;
    /// `#`.
    pub const HASH: u32 = 1 << 12;
    /// `-`.
    pub const DASH: u32 = 1 << 13;
    /// `*`.
    pub const STAR: u32 = 1 << 14;
    /// Any other byte outside `[a-z0-9_]` (`.`, `<`, `(`, `=`, `:`, …).
    pub const OTHER: u32 = 1 << 15;
    /// The value ends with `.`.
    pub const DOT_END: u32 = 1 << 16;
    /// `--`.
    pub const DASHES: u32 = 1 << 17;
    /// Two spaces in a row.
    pub const SPACES: u32 = 1 << 18;
    /// `/*`.
    pub const OPEN_COMMENT: u32 = 1 << 19;
    /// `*/`.
    pub const CLOSE_COMMENT: u32 = 1 << 20;
    /// A space followed by `/` or `(` (`cmdLine` drops such a space).
    pub const SPACE_BREAK: u32 = 1 << 21;
    /// Every class but [`ALWAYS`]: the triggers of a transformation that changes no
    /// value made only of `[a-z0-9_]` but whose finer triggers are not listed.
    pub const ANY_BYTE: u32 = (1 << 22) - 2;
}

/// The single-byte class of each byte ([`class`]).
static CLASS: [u32; 256] = {
    use class::*;
    let mut t = [0u32; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'a'..=b'z' | b'0'..=b'9' | b'_' => 0,
            b'A'..=b'Z' => UPPER,
            0x80..=0xff => HIGH,
            0 => NUL,
            b' ' => SPACE,
            b'\t' | b'\n' | 0x0b | 0x0c | b'\r' => WS,
            b'%' | b'+' => URL,
            b'&' => AMP,
            b'\\' => BSLASH,
            b'"' | b'\'' | b'^' => QUOTE,
            b',' | b';' => COMMA,
            b'/' => SLASH,
            b'#' => HASH,
            b'-' => DASH,
            b'*' => STAR,
            _ => OTHER,
        };
        b += 1;
    }
    t
};

/// The class of the single byte `b` ([`class`]; 0 for `[a-z0-9_]`): what a value holding
/// `b` has in [`classes`] for it.
pub fn byte_class(b: u8) -> u32 {
    CLASS[usize::from(b)]
}

/// The classes of `v` ([`class`]), [`class::ALWAYS`] included: one table load per byte,
/// and a search for the pair classes only when the value has their bytes.
pub fn classes(v: &[u8]) -> u32 {
    use class::*;
    let mut m = ALWAYS;
    for &b in v {
        m |= CLASS[usize::from(b)];
    }
    if v.last() == Some(&b'.') {
        m |= DOT_END;
    }
    // A pair needs its first byte: look for it with `memchr` and check the next byte.
    let pair = |a: u8, b: u8| memchr::memchr_iter(a, v).any(|i| v.get(i + 1) == Some(&b));
    if m & DASH != 0 && pair(b'-', b'-') {
        m |= DASHES;
    }
    if m & SPACE != 0 {
        if pair(b' ', b' ') {
            m |= SPACES;
        }
        // `/` and `(` are rarer than spaces: look for them and at the byte before.
        let after_space = |i: usize| i.checked_sub(1).and_then(|j| v.get(j)) == Some(&b' ');
        if memchr::memchr2_iter(b'/', b'(', v).any(after_space) {
            m |= SPACE_BREAK;
        }
    }
    if m & STAR != 0 {
        if pair(b'/', b'*') {
            m |= OPEN_COMMENT;
        }
        if pair(b'*', b'/') {
            m |= CLOSE_COMMENT;
        }
    }
    m
}

/// [`triggers`] for a case-insensitive reader of the result (the prefilter's scans): the
/// classes without which the transformation leaves a value as it is *up to ASCII case*.
/// `lowercase` and `cmdLine` only lower-case a value whose sole trigger is `A-Z`, so
/// [`class::UPPER`] is not one of theirs here; and a lower-cased value has no class the
/// value did not have, so later steps are not triggered by it either.
pub fn case_blind_triggers(name: &str) -> u32 {
    let t = triggers(name);
    if name.eq_ignore_ascii_case("lowercase")
        || name.eq_ignore_ascii_case("cmdLine")
        || name.eq_ignore_ascii_case("cmd_line")
    {
        t & !class::UPPER
    } else {
        t
    }
}

/// Appends the bytes of `input` that `keep` accepts to `out`, with room made for all of
/// them first (extending by a filtered iterator grows the buffer step by step).
fn kept(input: &[u8], out: &mut Vec<u8>, keep: impl Fn(u8) -> bool) {
    out.reserve(input.len());
    out.extend(input.iter().copied().filter(|&c| keep(c)));
}

/// The classes of which a value needs one for the transformation named `name` to change
/// it ([`class`]); [`class::ALWAYS`] when it may change any value. Each entry follows the
/// function's own early exit or loop (see its file); `tests.rs` applies every
/// transformation to random values without its triggers and checks that none changes.
pub fn triggers(name: &str) -> u32 {
    use class::*;
    match name.to_ascii_lowercase().as_str() {
        "none" => 0,
        // `"`, `'`, `\\`, `^` dropped; runs of space, `,`, `;`, `\t`, `\r`, `\n` squeezed
        // into one space (a lone space stays), a space before `/` or `(` dropped; letters
        // lower-cased.
        "cmdline" | "cmd_line" => QUOTE | BSLASH | SPACES | SPACE_BREAK | COMMA | WS | UPPER,
        // A run of whitespace (a space alone stays).
        "compresswhitespace" | "compress_whitespace" => WS | SPACES,
        "removewhitespace" => SPACE | WS | HIGH, // NBSP is 0xA0
        "trim" | "trimleft" | "trimright" => SPACE | WS,
        "cssdecode" | "escapeseqdecode" | "jsdecode" => BSLASH,
        "htmlentitydecode" => AMP,
        "lowercase" => UPPER,
        "normalisepath" | "normalizepath" => SLASH | DOT_END,
        "normalisepathwin" | "normalizepathwin" => SLASH | BSLASH | DOT_END,
        "parityzero7bit" | "utf8tounicode" => HIGH,
        // `/*`, `<!--` and `--` open a comment, `#` ends the value.
        "removecomments" => OPEN_COMMENT | DASHES | HASH,
        // `/*`, `*/`, `<!--`, `-->`, `--` and `#` are dropped.
        "removecommentschar" => OPEN_COMMENT | CLOSE_COMMENT | DASHES | HASH,
        "replacecomments" => OPEN_COMMENT,
        "removenulls" | "replacenulls" => NUL,
        "urldecode" | "urldecodeuni" => URL,
        "phpargsnames" => ANY_BYTE,
        _ => ALWAYS,
    }
}

/// Whether the transformation named `name` may return a value longer than its input:
/// the encoders and digests (`base64Encode`, `hexEncode`, `urlEncode`, `md5`, `sha1`),
/// `length` (the length as text) and `utf8toUnicode` (`%uXXXX` per character); and any
/// name not known to shrink. The decoders and filters only drop, merge or replace bytes
/// (`tests.rs` checks it on random values). A chain of steps that never grow turns a value
/// into nothing longer: an operator that needs more bytes cannot match it (see
/// `Operator::min_len`).
pub fn grows(name: &str) -> bool {
    !matches!(
        name.to_ascii_lowercase().as_str(),
        "none"
            | "base64decode"
            | "base64decodeext"
            | "cmdline"
            | "cmd_line"
            | "compresswhitespace"
            | "compress_whitespace"
            | "cssdecode"
            | "escapeseqdecode"
            | "hexdecode"
            | "htmlentitydecode"
            | "jsdecode"
            | "lowercase"
            | "uppercase"
            | "normalisepath"
            | "normalizepath"
            | "normalisepathwin"
            | "normalizepathwin"
            | "parityeven7bit"
            | "parityodd7bit"
            | "parityzero7bit"
            | "removecomments"
            | "removecommentschar"
            | "replacecomments"
            | "removenulls"
            | "replacenulls"
            | "removewhitespace"
            | "sqlhexdecode"
            | "trim"
            | "trimleft"
            | "trimright"
            | "urldecode"
            | "urldecodeuni"
    )
}

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
fn none(_input: &[u8], _out: &mut Vec<u8>) -> bool {
    false
}

/// Whether the result `out` differs from `input`.
#[inline]
fn changed(input: &[u8], out: &[u8]) -> bool {
    out != input
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
