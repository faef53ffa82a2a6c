//! `urlDecode`: decodes `%HH` and `+` (ModSecurity's `urldecode_nonstrict_inplace`).
//!
//! Invalid or truncated `%` sequences are copied as is (non-strict); `%u` is not special
//! here (that is `urlDecodeUni`).

use super::{if_changed, is_hex, x2c};

/// `t:urlDecode`.
pub(super) fn url_decode(input: &[u8]) -> Option<Vec<u8>> {
    if !input.iter().any(|&c| c == b'%' || c == b'+') {
        return None;
    }
    let len = input.len();
    let mut out = Vec::with_capacity(len);
    let mut i = 0;
    while i < len {
        match input[i] {
            b'%' if i + 2 < len && is_hex(input[i + 1]) && is_hex(input[i + 2]) => {
                out.push(x2c(input[i + 1], input[i + 2]));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    if_changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated() {
        assert_eq!(url_decode(b"%4"), None);
        assert_eq!(url_decode(b"%41%").unwrap(), b"A%");
        assert_eq!(url_decode(b"%zz+").unwrap(), b"%zz ");
    }
}
