//! `sqlHexDecode`: decodes SQL hex literals `0xHHHH…` in place.
//!
//! Port of ModSecurity v3's `SqlHexDecode`: a `0x`/`0X` followed by at least two hex
//! digits becomes the decoded bytes (pairs, while both digits are hex); an odd trailing
//! digit stays. Everything else is copied.

use super::{changed, is_hex, x2c};

/// `t:sqlHexDecode`.
pub(super) fn sql_hex_decode(input: &[u8], out: &mut Vec<u8>) -> bool {
    let len = input.len();
    // Whether a `0x` run was decoded: until then nothing is copied to `out`.
    let mut decoding = false;
    let mut i = 0;
    while i < len {
        if i + 3 < len
            && input[i] == b'0'
            && (input[i + 1] | 0x20) == b'x'
            && is_hex(input[i + 2])
            && is_hex(input[i + 3])
        {
            if !decoding {
                decoding = true;
                out.reserve(len);
                out.extend_from_slice(&input[..i]);
            }
            i += 2;
            loop {
                out.push(x2c(input[i], input[i + 1]));
                i += 2;
                if !(i + 1 < len && is_hex(input[i]) && is_hex(input[i + 1])) {
                    break;
                }
            }
        } else {
            if decoding {
                out.push(input[i]);
            }
            i += 1;
        }
    }
    decoding && changed(input, out)
}

#[cfg(test)]
mod tests {

    crate::transformations::under_test!(sql_hex_decode);

    #[test]
    fn literals() {
        assert_eq!(sql_hex_decode(b"a 0x41424 b").unwrap(), b"a AB4 b");
        assert_eq!(sql_hex_decode(b"0x4"), None);
        assert_eq!(sql_hex_decode(b"0X4142").unwrap(), b"AB");
        assert_eq!(sql_hex_decode(b""), None);
    }
}
