//! `escapeSeqDecode`: decodes ANSI C escape sequences.
//!
//! Port of ModSecurity v3's `ansi_c_sequences_decode_inplace`: `\a \b \f \n \r \t \v \\
//! \? \' \"`, `\xHH` (exactly two hex digits) and `\OOO` (one to three octal digits, the
//! value truncated to a byte). A backslash before anything else is dropped and the next
//! byte kept; a lone trailing backslash stays.

use super::{changed, is_hex, is_odigit, x2c};

/// `t:escapeSeqDecode`.
pub(super) fn escape_seq_decode(input: &[u8], out: &mut Vec<u8>) -> bool {
    if !input.contains(&b'\\') {
        return false;
    }
    let len = input.len();
    out.reserve(len);
    let mut i = 0;
    while i < len {
        if input[i] != b'\\' || i + 1 >= len {
            out.push(input[i]);
            i += 1;
            continue;
        }
        let n = input[i + 1];
        let simple = match n {
            b'a' => Some(0x07),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(0x0b),
            b'\\' | b'?' | b'\'' | b'"' => Some(n),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            i += 2;
        } else if (n == b'x' || n == b'X')
            && i + 3 < len
            && is_hex(input[i + 2])
            && is_hex(input[i + 3])
        {
            out.push(x2c(input[i + 2], input[i + 3]));
            i += 4;
        } else if is_odigit(n) {
            let mut j = 0;
            let mut v: u32 = 0;
            while j < 3 && i + 1 + j < len && is_odigit(input[i + 1 + j]) {
                v = v * 8 + u32::from(input[i + 1 + j] - b'0');
                j += 1;
            }
            out.push(v as u8); // truncation to a byte, as the C code's `*d++ = c`
            i += 1 + j;
        } else {
            out.push(n);
            i += 2;
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {

    crate::transformations::under_test!(escape_seq_decode);

    #[test]
    fn sequences() {
        assert_eq!(escape_seq_decode(b"\\x41\\101\\n").unwrap(), b"AA\n");
        assert_eq!(escape_seq_decode(b"\\777").unwrap(), vec![0xff]);
        assert_eq!(escape_seq_decode(b"\\x4").unwrap(), b"x4");
        assert_eq!(escape_seq_decode(b"\\"), None);
        assert_eq!(escape_seq_decode(b"a\\"), None);
    }
}
