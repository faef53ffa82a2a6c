//! `lowercase` and `uppercase`: ASCII case mapping (C locale `tolower` / `toupper`).
//!
//! Bytes outside A–Z / a–z are left alone; no Unicode case mapping.

/// `t:lowercase`.
pub(super) fn lowercase(input: &[u8], out: &mut Vec<u8>) -> bool {
    if !input.iter().any(u8::is_ascii_uppercase) {
        return false;
    }
    out.extend_from_slice(input);
    out.make_ascii_lowercase();
    true
}

/// `t:uppercase`.
pub(super) fn uppercase(input: &[u8], out: &mut Vec<u8>) -> bool {
    if !input.iter().any(u8::is_ascii_lowercase) {
        return false;
    }
    out.extend_from_slice(input);
    out.make_ascii_uppercase();
    true
}

#[cfg(test)]
mod tests {

    crate::transformations::under_test!(lowercase, uppercase);

    #[test]
    fn case() {
        assert_eq!(uppercase(b"aB\xe9").unwrap(), b"AB\xe9");
        assert_eq!(uppercase(b"AB"), None);
        assert_eq!(lowercase(b"aB\xc9").unwrap(), b"ab\xc9");
    }
}
