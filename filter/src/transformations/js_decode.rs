//! `jsDecode`: decodes JavaScript escape sequences.
//!
//! Port of ModSecurity v3's `JsDecode`: `\uHHHH` (lower byte only, full-width ASCII
//! U+FF01–U+FF5E mapped to ASCII), `\xHH`, `\OOO` (at most one byte: a three-digit group
//! starting above `3` uses two digits), `\a \b \f \n \r \t \v`, and `\c` → `c` for any
//! other byte. A trailing lone backslash stays. Not a JavaScript parser.

use super::{changed, is_hex, is_odigit, x2c};

/// `t:jsDecode`.
pub(super) fn js_decode(input: &[u8], out: &mut Vec<u8>) -> bool {
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
        if i + 5 < len && input[i + 1] == b'u' && input[i + 2..i + 6].iter().all(|&c| is_hex(c)) {
            let mut b = x2c(input[i + 4], input[i + 5]);
            if b > 0x00
                && b < 0x5f
                && input[i + 2].eq_ignore_ascii_case(&b'f')
                && input[i + 3].eq_ignore_ascii_case(&b'f')
            {
                b += 0x20;
            }
            out.push(b);
            i += 6;
        } else if i + 3 < len
            && input[i + 1] == b'x'
            && is_hex(input[i + 2])
            && is_hex(input[i + 3])
        {
            out.push(x2c(input[i + 2], input[i + 3]));
            i += 4;
        } else if i + 1 < len && is_odigit(input[i + 1]) {
            let mut j = 0;
            while j < 3 && i + 1 + j < len && is_odigit(input[i + 1 + j]) {
                j += 1;
            }
            if j == 3 && input[i + 1] > b'3' {
                j = 2;
            }
            let v = input[i + 1..i + 1 + j]
                .iter()
                .fold(0u32, |v, &d| v * 8 + u32::from(d - b'0'));
            out.push(v as u8); // at most 0o377 by construction
            i += 1 + j;
        } else if i + 1 < len {
            let c = match input[i + 1] {
                b'a' => 0x07,
                b'b' => 0x08,
                b'f' => 0x0c,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'v' => 0x0b,
                other => other,
            };
            out.push(c);
            i += 2;
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {

    crate::transformations::under_test!(js_decode);

    #[test]
    fn escapes() {
        assert_eq!(js_decode(b"\\u003c\\x3e\\74\\uff1c").unwrap(), b"<><<");
        assert_eq!(js_decode(b"\\777").unwrap(), b"?7");
        assert_eq!(js_decode(b"\\u00").unwrap(), b"u00");
        assert_eq!(js_decode(b"\\"), None);
    }
}
