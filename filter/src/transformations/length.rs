//! `length`: replaces the value with its length in bytes, in decimal.

/// `t:length`.
///
/// A one-digit value equal to its own length (`"1"`) is left unchanged (`None`), keeping
/// the module's contract that `Some` means the bytes changed (found by the
/// `transformations` fuzz target).
pub(super) fn length(input: &[u8], out: &mut Vec<u8>) -> bool {
    out.extend_from_slice(itoa::Buffer::new().format(input.len()).as_bytes());
    super::changed(input, out)
}

#[cfg(test)]
mod tests {
    crate::transformations::under_test!(length);

    #[test]
    fn replaces_the_value_with_its_length() {
        assert_eq!(length(b""), Some(b"0".to_vec()));
        assert_eq!(length(b"abc"), Some(b"3".to_vec()));
        assert_eq!(length(b"0123456789"), Some(b"10".to_vec()));
    }

    #[test]
    fn a_value_equal_to_its_length_is_unchanged() {
        assert_eq!(length(b"1"), None);
        assert_eq!(length(b"2"), Some(b"1".to_vec()));
    }
}
