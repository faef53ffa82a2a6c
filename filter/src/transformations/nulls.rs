//! `removeNulls` and `replaceNulls`: delete NUL bytes, or turn them into spaces.

/// `t:removeNulls`.
pub(super) fn remove_nulls(input: &[u8], out: &mut Vec<u8>) -> bool {
    if !input.contains(&0) {
        return false;
    }
    super::kept(input, out, |c| c != 0);
    true
}

/// `t:replaceNulls`.
pub(super) fn replace_nulls(input: &[u8], out: &mut Vec<u8>) -> bool {
    if !input.contains(&0) {
        return false;
    }
    out.extend(input.iter().map(|&c| if c == 0 { b' ' } else { c }));
    true
}
