//! `length`: replaces the value with its length in bytes, in decimal.

/// `t:length`.
pub(super) fn length(input: &[u8]) -> Option<Vec<u8>> {
    Some(input.len().to_string().into_bytes())
}
