//! `urlDecode`: decodes `%HH` and `+` (ModSecurity's `urldecode_nonstrict_inplace`).
//!
//! Invalid or truncated `%` sequences are copied as is (non-strict); `%u` is not special
//! here (that is `urlDecodeUni`).

use super::changed;

/// `t:urlDecode`: the same decoding as urlencoded arguments get
/// ([`crate::body::urlencoded::decode_nonstrict`]).
pub(super) fn url_decode(input: &[u8], out: &mut Vec<u8>) -> bool {
    // Nothing to decode without `%` or `+`.
    if memchr::memchr2(b'%', b'+', input).is_none() {
        return false;
    }
    crate::body::urlencoded::decode_nonstrict(input, out);
    changed(input, out)
}

#[cfg(test)]
mod tests {

    crate::transformations::under_test!(url_decode);

    #[test]
    fn truncated() {
        assert_eq!(url_decode(b"%4"), None);
        assert_eq!(url_decode(b"%41%").unwrap(), b"A%");
        assert_eq!(url_decode(b"%zz+").unwrap(), b"%zz ");
    }
}
