//! `urlDecode`: decodes `%HH` and `+` (ModSecurity's `urldecode_nonstrict_inplace`).
//!
//! Invalid or truncated `%` sequences are copied as is (non-strict); `%u` is not special
//! here (that is `urlDecodeUni`).

use super::if_changed;

/// `t:urlDecode`: the same decoding as urlencoded arguments get
/// ([`crate::body::urlencoded::decode_nonstrict`]).
pub(super) fn url_decode(input: &[u8]) -> Option<Vec<u8>> {
    // Nothing to decode without `%` or `+`.
    memchr::memchr2(b'%', b'+', input)?;
    let (out, _invalid) = crate::body::urlencoded::decode_nonstrict(input);
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
