//! `hexDecode` and `hexEncode`.
//!
//! `hexDecode` mirrors ModSecurity v3's `HexDecode`: every pair of bytes becomes one byte
//! through `x2c`, without validating the digits (so `"0z"` gives `0x23`, as in v3 and the
//! SecRules test set). An odd trailing byte is dropped: v3 computed `len - 2` on an
//! unsigned length and read out of bounds for one-byte input (CVE-2026-30923); here the
//! loop is bounded by `chunks_exact`. `hexEncode` writes lowercase hex.

use super::{x2c, HEX_LOWER};

/// `t:hexDecode`.
pub(super) fn hex_decode(input: &[u8], out: &mut Vec<u8>) -> bool {
    if input.is_empty() {
        return false;
    }
    out.extend(input.chunks_exact(2).map(|p| x2c(p[0], p[1])));
    true
}

/// `t:hexEncode`.
pub(super) fn hex_encode(input: &[u8], out: &mut Vec<u8>) -> bool {
    if input.is_empty() {
        return false;
    }
    out.reserve(input.len() * 2);
    for &c in input {
        out.push(HEX_LOWER[usize::from(c >> 4)]);
        out.push(HEX_LOWER[usize::from(c & 15)]);
    }
    true
}

#[cfg(test)]
mod tests {

    crate::transformations::under_test!(hex_decode, hex_encode);

    #[test]
    fn odd_length_does_not_panic() {
        assert_eq!(hex_decode(b"a").unwrap(), b"");
        assert_eq!(hex_decode(b"414").unwrap(), b"A");
        assert_eq!(hex_decode(b""), None);
    }

    #[test]
    fn encode_lowercase() {
        assert_eq!(hex_encode(b"\x00\xff<").unwrap(), b"00ff3c");
    }
}
