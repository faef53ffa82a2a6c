//! `cssDecode`: decodes CSS 2 escapes (`\HHHHHH`, `\c`, `\` + newline).
//!
//! Port of ModSecurity v3's `css_decode_inplace`: 1–6 hex digits after a backslash give
//! one byte (the last two digits; with full-width ASCII U+FF01–U+FF5E mapped to ASCII),
//! one whitespace after a hex escape is swallowed, a backslash before a newline or at the
//! very end is dropped, and a backslash before any other byte yields that byte.
//! Not a CSS tokenizer.

use super::{changed, is_c_space, is_hex, x2c, xsingle2c};

/// `t:cssDecode`.
pub(super) fn css_decode(input: &[u8], out: &mut Vec<u8>) -> bool {
    if !input.contains(&b'\\') {
        return false;
    }
    let len = input.len();
    out.reserve(len);
    let mut i = 0;
    while i < len {
        if input[i] != b'\\' {
            out.push(input[i]);
            i += 1;
            continue;
        }
        if i + 1 >= len {
            // Backslash at the end: continuation to nothing.
            i += 1;
            continue;
        }
        i += 1; // skip the backslash
        let mut j = 0;
        while j < 6 && i + j < len && is_hex(input[i + j]) {
            j += 1;
        }
        if j > 0 {
            let h = &input[i..i + j];
            let byte = if j == 1 {
                xsingle2c(h[0])
            } else {
                x2c(h[j - 2], h[j - 1])
            };
            // Full-width check: exactly four significant digits "ffXX".
            let fullcheck = match j {
                4 => true,
                5 => h[0] == b'0',
                6 => h[0] == b'0' && h[1] == b'0',
                _ => false,
            };
            let mut b = byte;
            if fullcheck
                && b > 0x00
                && b < 0x5f
                && h[j - 3].eq_ignore_ascii_case(&b'f')
                && h[j - 4].eq_ignore_ascii_case(&b'f')
            {
                b += 0x20;
            }
            out.push(b);
            if i + j < len && is_c_space(input[i + j]) {
                j += 1;
            }
            i += j;
        } else if input[i] == b'\n' {
            i += 1;
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {

    crate::transformations::under_test!(css_decode);

    #[test]
    fn escapes() {
        assert_eq!(css_decode(b"\\3c script").unwrap(), b"<script");
        assert_eq!(css_decode(b"\\ff1c").unwrap(), b"<");
        assert_eq!(css_decode(b"\\00ff1c").unwrap(), b"<");
        assert_eq!(css_decode(b"\\10ff1c").unwrap(), b"\x1c");
        assert_eq!(css_decode(b"a\\\nb").unwrap(), b"ab");
        assert_eq!(css_decode(b"\\").unwrap(), b"");
        assert_eq!(css_decode(b"\\z").unwrap(), b"z");
        assert_eq!(css_decode(b"plain"), None);
    }
}
