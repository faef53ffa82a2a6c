//! Validation operators: `@validateByteRange`, `@validateUrlEncoding`,
//! `@validateUtf8Encoding`. Each one *matches when the value is invalid*.
//!
//! Not here: `@validateDTD`, `@validateSchema`, `@validateHash` (unsupported, see
//! [`super::UNSUPPORTED`]).

use super::numeric::parse_leading;
use super::{OpOutput, Operator};

/// `@validateByteRange`: matches when a byte of the value is outside the allowed set.
///
/// The parameter is a comma-separated list of byte values and ranges (`9,10,13,32-126`).
/// Parsed like libmodsecurity's `ValidateByteRange::getRange` (numbers read by `stoi`):
/// an item that does not parse, or is out of 0–255, or an inverted range, is skipped —
/// libmodsecurity reports those but still loads the rule (its `init` returns true), so an
/// unusable list allows no byte and every non-empty value matches.
#[derive(Debug)]
pub struct ValidateByteRange {
    allowed: [bool; 256],
    /// Classes a value needs to match ([`Operator::needs_classes`]).
    needs: u32,
}

/// `stoi` that fails (like the C++ exception) when there are no digits or on overflow.
fn stoi_strict(s: &str) -> Option<i64> {
    match parse_leading(s.as_bytes()) {
        Some((v, false)) if i32::try_from(v).is_ok() => Some(v),
        _ => None,
    }
}

impl ValidateByteRange {
    /// Compiles `@validateByteRange`.
    pub fn new(param: &str) -> Self {
        let mut allowed = [false; 256];
        for item in param.split(',') {
            let (lo, hi) = match item.split_once('-') {
                Some((a, b)) => (stoi_strict(a), stoi_strict(b)),
                None => {
                    let v = stoi_strict(item);
                    (v, v)
                }
            };
            let (Some(lo), Some(hi)) = (lo, hi) else {
                continue;
            };
            let (Ok(lo), Ok(hi)) = (u8::try_from(lo), u8::try_from(hi)) else {
                continue;
            };
            for b in lo..=hi {
                allowed[usize::from(b)] = true;
            }
        }
        // A match is a byte outside the ranges: a value needs the class of one of them,
        // unless one is in `[a-z0-9_]` (class 0, in most values).
        let mut needs = 0;
        for b in (0..=255u8).filter(|&b| !allowed[usize::from(b)]) {
            match crate::transformations::byte_class(b) {
                0 => {
                    needs = 0;
                    break;
                }
                c => needs |= c,
            }
        }
        Self { allowed, needs }
    }
}

impl Operator for ValidateByteRange {
    fn matches(&self, input: &[u8], out: &mut OpOutput) -> bool {
        match input.iter().find(|&&b| !self.allowed[usize::from(b)]) {
            Some(&b) => {
                out.matched = Some(vec![b]);
                true
            }
            None => false,
        }
    }

    fn needs_classes(&self) -> u32 {
        self.needs
    }
}

/// `@validateUrlEncoding`: matches when a `%` is not followed by two hex digits.
///
/// Mirrors libmodsecurity's `validate_url_encoding`: an empty value is not checked; a `%`
/// with fewer than two bytes after it, or followed by non-hex characters, is invalid.
#[derive(Debug)]
pub struct ValidateUrlEncoding;

impl Operator for ValidateUrlEncoding {
    fn matches(&self, input: &[u8], _out: &mut OpOutput) -> bool {
        let mut i = 0;
        while i < input.len() {
            if input[i] == b'%' {
                match (input.get(i + 1), input.get(i + 2)) {
                    (Some(a), Some(b)) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => i += 3,
                    _ => return true,
                }
            } else {
                i += 1;
            }
        }
        false
    }
}

/// `@validateUtf8Encoding`: matches when the value is not well-formed UTF-8.
///
/// Mirrors libmodsecurity's `detect_utf8_character`: a bad lead or continuation byte, a
/// truncated sequence, an overlong form, or a surrogate (U+D800–U+DFFF) is invalid. Like
/// libmodsecurity, four-byte sequences are decoded by their bit pattern; code points above
/// U+10FFFF are invalid.
#[derive(Debug)]
pub struct ValidateUtf8Encoding;

/// Length of the valid UTF-8 character at the start of `s`, or `None` if it is invalid.
fn utf8_char_len(s: &[u8]) -> Option<usize> {
    let c = *s.first()?;
    let (len, init) = match c {
        _ if c & 0x80 == 0 => return Some(1),
        _ if c & 0xE0 == 0xC0 => (2, u32::from(c & 0x1F)),
        _ if c & 0xF0 == 0xE0 => (3, u32::from(c & 0x0F)),
        _ if c & 0xF8 == 0xF0 => (4, u32::from(c & 0x07)),
        _ => return None,
    };
    let cont = s.get(1..len)?;
    let mut d = init;
    for &b in cont {
        if b & 0xC0 != 0x80 {
            return None;
        }
        d = (d << 6) | u32::from(b & 0x3F);
    }
    let min = match len {
        2 => 0x80,
        3 => 0x800,
        _ => 0x10000,
    };
    // Beyond U+10FFFF is invalid too (RFC 3629); CRS's regression test 920250-3 expects
    // `%F5%80%BF%BF` to be flagged, on libmodsecurity as on Coraza.
    if (0xD800..=0xDFFF).contains(&d) || d < min || d > 0x10FFFF {
        return None;
    }
    Some(len)
}

impl Operator for ValidateUtf8Encoding {
    fn matches(&self, input: &[u8], _out: &mut OpOutput) -> bool {
        let mut rest = input;
        while !rest.is_empty() {
            match utf8_char_len(rest) {
                Some(n) => rest = rest.get(n..).unwrap_or_default(),
                None => return true,
            }
        }
        false
    }

    fn needs_classes(&self) -> u32 {
        // ASCII is valid UTF-8: an invalid sequence has a byte ≥ 0x80.
        crate::transformations::class::HIGH
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_range_lists() {
        let op = ValidateByteRange::new("9,10,13,32-126");
        let mut out = OpOutput::default();
        assert!(!op.matches(b"a b\t\r\n~", &mut out));
        assert!(op.matches(b"a\x7f", &mut out));
        assert_eq!(out.matched.as_deref(), Some(&[0x7f][..]));
        // Out-of-range and inverted items are skipped, valid ones kept.
        let op = ValidateByteRange::new("300,66-65,65");
        assert!(!op.matches(b"A", &mut out));
        assert!(op.matches(b"B", &mut out));
    }

    #[test]
    fn utf8_edge_cases() {
        let mut out = OpOutput::default();
        let v = ValidateUtf8Encoding;
        assert!(!v.matches("é€𝄞".as_bytes(), &mut out));
        assert!(v.matches(b"\xc0\xaf", &mut out)); // overlong '/'
        assert!(v.matches(b"\xed\xa0\x80", &mut out)); // surrogate
        assert!(v.matches(b"\xe2\x82", &mut out)); // truncated
        assert!(v.matches(b"\xf4\x90\x80\x80", &mut out)); // > U+10FFFF
        assert!(v.matches(b"\xf5\x80\xbf\xbf", &mut out));
        assert!(!v.matches(b"\xf4\x8f\xbf\xbf", &mut out)); // U+10FFFF itself
    }
}
