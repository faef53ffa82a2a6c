//! `lowercase` and `uppercase`: ASCII case mapping (C locale `tolower` / `toupper`).
//!
//! Bytes outside A–Z / a–z are left alone; no Unicode case mapping.

/// `t:lowercase`.
pub(super) fn lowercase(input: &[u8]) -> Option<Vec<u8>> {
    if !input.iter().any(u8::is_ascii_uppercase) {
        return None;
    }
    Some(input.to_ascii_lowercase())
}

/// `t:uppercase`.
pub(super) fn uppercase(input: &[u8]) -> Option<Vec<u8>> {
    if !input.iter().any(u8::is_ascii_lowercase) {
        return None;
    }
    Some(input.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case() {
        assert_eq!(uppercase(b"aB\xe9").unwrap(), b"AB\xe9");
        assert_eq!(uppercase(b"AB"), None);
        assert_eq!(lowercase(b"aB\xc9").unwrap(), b"ab\xc9");
    }
}
