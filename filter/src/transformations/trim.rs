//! `trim`, `trimLeft` and `trimRight`: strip C `isspace` bytes (space, `\t`, `\n`, `\v`,
//! `\f`, `\r`) from the ends. NUL and NBSP are not whitespace here, as in v3.

use super::is_c_space;

/// `input[start..end]` into `out`; `false` when that is all of it.
fn sub(input: &[u8], start: usize, end: usize, out: &mut Vec<u8>) -> bool {
    if start == 0 && end == input.len() {
        return false;
    }
    out.extend_from_slice(input.get(start..end).unwrap_or_default());
    true
}

fn left(input: &[u8]) -> usize {
    input
        .iter()
        .position(|&c| !is_c_space(c))
        .unwrap_or(input.len())
}

fn right(input: &[u8]) -> usize {
    input
        .iter()
        .rposition(|&c| !is_c_space(c))
        .map_or(0, |p| p + 1)
}

/// `t:trim`.
pub(super) fn trim(input: &[u8], out: &mut Vec<u8>) -> bool {
    let end = right(input);
    let start = left(&input[..end]);
    sub(input, start, end, out)
}

/// `t:trimLeft`.
pub(super) fn trim_left(input: &[u8], out: &mut Vec<u8>) -> bool {
    sub(input, left(input), input.len(), out)
}

/// `t:trimRight`.
pub(super) fn trim_right(input: &[u8], out: &mut Vec<u8>) -> bool {
    sub(input, 0, right(input), out)
}

#[cfg(test)]
mod tests {

    crate::transformations::under_test!(trim, trim_left, trim_right);

    #[test]
    fn all_space() {
        assert_eq!(trim(b" \t ").unwrap(), b"");
        assert_eq!(trim_left(b"  ").unwrap(), b"");
        assert_eq!(trim_right(b"  ").unwrap(), b"");
        assert_eq!(trim(b"\0"), None);
        assert_eq!(trim(b""), None);
    }
}
