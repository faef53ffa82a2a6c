//! `urlDecodeUni`: `urlDecode` plus IIS-style `%uHHHH`.
//!
//! Port of ModSecurity v3's `UrlDecodeUni`. A `%uHHHH` becomes one byte:
//! - with a [`UnicodeMap`] (what `SecUnicodeMapFile FILE CODEPAGE` loads), the byte the
//!   map gives for that code point, if it has one;
//! - otherwise ModSecurity's built-in fallback, which is what [`lookup`](super::lookup)'s
//!   `urlDecodeUni` uses (the `TransformFn` interface carries no configuration): the low
//!   byte of the code point, with full-width ASCII U+FF01–U+FF5E mapped to U+0021–U+007E
//!   (`%uff1c` → `<`). This is the behaviour of libmodsecurity v3 without a map file and
//!   what the SecRules test set expects.
//!
//! v3 keeps the last mapped byte across later unmapped `%u` escapes in the same value (its
//! `hmap` variable is never reset); we look every escape up on its own.
//! Invalid or truncated escapes are copied as is.

use super::{changed, is_hex, x2c};

/// A Unicode code point → byte map for one code page, as loaded from a
/// `SecUnicodeMapFile` (for example ModSecurity's `unicode.mapping`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnicodeMap {
    /// Sorted by code point, deduplicated (first entry wins).
    entries: Vec<(u16, u8)>,
}

impl UnicodeMap {
    /// Parses a mapping file for `codepage`.
    ///
    /// The format is whitespace-separated tokens: a bare decimal number starts the section
    /// of that code page (anything after it on the line, such as `(US-ASCII)`, is
    /// ignored); `HHHH:HH` tokens are mappings of the current section. Tokens that parse as
    /// neither are skipped. Returns `None` when the code page has no mapping at all.
    pub fn parse(text: &str, codepage: u32) -> Option<UnicodeMap> {
        let mut in_section = false;
        let mut entries = Vec::new();
        for tok in text.split_ascii_whitespace() {
            if let Some((k, v)) = tok.split_once(':') {
                if in_section {
                    if let (Ok(k), Ok(v)) = (u16::from_str_radix(k, 16), u8::from_str_radix(v, 16))
                    {
                        entries.push((k, v));
                    }
                }
            } else if let Ok(n) = tok.parse::<u32>() {
                in_section = n == codepage;
            }
        }
        if entries.is_empty() {
            return None;
        }
        entries.sort_by_key(|&(k, _)| k);
        entries.dedup_by_key(|&mut (k, _)| k);
        Some(UnicodeMap { entries })
    }

    /// The byte this map gives for code point `cp`, if any.
    pub fn get(&self, cp: u16) -> Option<u8> {
        self.entries
            .binary_search_by_key(&cp, |&(k, _)| k)
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(|&(_, v)| v)
    }
}

/// `t:urlDecodeUni` with ModSecurity's built-in fallback mapping (no map file).
pub(super) fn url_decode_uni(input: &[u8], out: &mut Vec<u8>) -> bool {
    url_decode_uni_mapped(input, None, out)
}

/// `urlDecodeUni` with an optional [`UnicodeMap`] (`SecUnicodeMapFile`).
///
/// Writes the result to `out` (empty on entry); `false` when the input is unchanged.
pub fn url_decode_uni_mapped(input: &[u8], map: Option<&UnicodeMap>, out: &mut Vec<u8>) -> bool {
    // Nothing to decode without `%` or `+`.
    if memchr::memchr2(b'%', b'+', input).is_none() {
        return false;
    }
    let len = input.len();
    out.reserve(len);
    let mut i = 0;
    while i < len {
        let c = input[i];
        if c == b'+' {
            out.push(b' ');
            i += 1;
        } else if c != b'%' {
            out.push(c);
            i += 1;
        } else if i + 1 < len && (input[i + 1] | 0x20) == b'u' {
            if i + 5 < len && input[i + 2..i + 6].iter().all(|&h| is_hex(h)) {
                let h = &input[i + 2..i + 6];
                let cp = (u16::from(x2c(h[0], h[1])) << 8) | u16::from(x2c(h[2], h[3]));
                let mapped = map.and_then(|m| m.get(cp));
                out.push(mapped.unwrap_or_else(|| {
                    let low = x2c(h[2], h[3]);
                    if low > 0x00 && low < 0x5f && h[0] | 0x20 == b'f' && h[1] | 0x20 == b'f' {
                        low + 0x20
                    } else {
                        low
                    }
                }));
                i += 6;
            } else {
                // Invalid or truncated: copy "%u" and go on.
                out.extend_from_slice(&input[i..i + 2]);
                i += 2;
            }
        } else if i + 2 < len && is_hex(input[i + 1]) && is_hex(input[i + 2]) {
            out.push(x2c(input[i + 1], input[i + 2]));
            i += 3;
        } else {
            out.push(b'%');
            i += 1;
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::transformations::under_test!(url_decode_uni);

    #[test]
    fn builtin_fallback() {
        assert_eq!(url_decode_uni(b"%u003c%uff1c%U0041").unwrap(), b"<<A");
        assert_eq!(url_decode_uni(b"%u04340").unwrap(), b"40");
        assert_eq!(url_decode_uni(b"%u12"), None);
        assert_eq!(url_decode_uni(b"%u00zz%"), None);
    }

    #[test]
    fn with_map_file() {
        // The content of the regression suite's `data/unicode.mapping-reduced`.
        let text = "1251 0434:64 043e:6f 0440:70";
        let map = UnicodeMap::parse(text, 1251).expect("code page 1251");
        let mut out = Vec::new();
        assert!(url_decode_uni_mapped(
            b"%u0434%u043e%u0440%u0441",
            Some(&map),
            &mut out
        ));
        assert_eq!(out, b"dopA");
        assert_eq!(UnicodeMap::parse(text, 20127), None);
    }

    #[test]
    fn map_sections() {
        let text = "(MAC - Roman)\n10000\n00a0:ca\n\n20127 (US-ASCII)\n00a0:20 ff01:21\n";
        let map = UnicodeMap::parse(text, 20127).expect("20127");
        assert_eq!(map.get(0x00a0), Some(0x20));
        assert_eq!(map.get(0x0041), None);
        let mac = UnicodeMap::parse(text, 10000).expect("10000");
        assert_eq!(mac.get(0x00a0), Some(0xca));
    }
}
