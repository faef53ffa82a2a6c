//! `removeNulls` and `replaceNulls`: delete NUL bytes, or turn them into spaces.

/// `t:removeNulls`.
pub(super) fn remove_nulls(input: &[u8]) -> Option<Vec<u8>> {
    if !input.contains(&0) {
        return None;
    }
    Some(super::kept(input, |c| c != 0))
}

/// `t:replaceNulls`.
pub(super) fn replace_nulls(input: &[u8]) -> Option<Vec<u8>> {
    if !input.contains(&0) {
        return None;
    }
    Some(
        input
            .iter()
            .map(|&c| if c == 0 { b' ' } else { c })
            .collect(),
    )
}
