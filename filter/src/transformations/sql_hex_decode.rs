//! `sqlHexDecode`: decodes SQL hex literals `0xHHHH…` in place.
//!
//! Port of ModSecurity v3's `SqlHexDecode`: a `0x`/`0X` followed by at least two hex
//! digits becomes the decoded bytes (pairs, while both digits are hex); an odd trailing
//! digit stays. Everything else is copied.

use super::{if_changed, is_hex, x2c};

/// `t:sqlHexDecode`.
pub(super) fn sql_hex_decode(input: &[u8]) -> Option<Vec<u8>> {
    let len = input.len();
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    while i < len {
        if i + 3 < len
            && input[i] == b'0'
            && (input[i + 1] | 0x20) == b'x'
            && is_hex(input[i + 2])
            && is_hex(input[i + 3])
        {
            let o = out.get_or_insert_with(|| {
                let mut v = Vec::with_capacity(len);
                v.extend_from_slice(&input[..i]);
                v
            });
            i += 2;
            loop {
                o.push(x2c(input[i], input[i + 1]));
                i += 2;
                if !(i + 1 < len && is_hex(input[i]) && is_hex(input[i + 1])) {
                    break;
                }
            }
        } else {
            if let Some(o) = out.as_mut() {
                o.push(input[i]);
            }
            i += 1;
        }
    }
    if_changed(input, out?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(sql_hex_decode(b"a 0x41424 b").unwrap(), b"a AB4 b");
        assert_eq!(sql_hex_decode(b"0x4"), None);
        assert_eq!(sql_hex_decode(b"0X4142").unwrap(), b"AB");
        assert_eq!(sql_hex_decode(b""), None);
    }
}
