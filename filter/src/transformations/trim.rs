//! `trim`, `trimLeft` and `trimRight`: strip C `isspace` bytes (space, `\t`, `\n`, `\v`,
//! `\f`, `\r`) from the ends. NUL and NBSP are not whitespace here, as in v3.

use super::is_c_space;

fn sub(input: &[u8], start: usize, end: usize) -> Option<Vec<u8>> {
    if start == 0 && end == input.len() {
        None
    } else {
        Some(input.get(start..end).unwrap_or_default().to_vec())
    }
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
pub(super) fn trim(input: &[u8]) -> Option<Vec<u8>> {
    let end = right(input);
    let start = left(&input[..end]);
    sub(input, start, end)
}

/// `t:trimLeft`.
pub(super) fn trim_left(input: &[u8]) -> Option<Vec<u8>> {
    sub(input, left(input), input.len())
}

/// `t:trimRight`.
pub(super) fn trim_right(input: &[u8]) -> Option<Vec<u8>> {
    sub(input, 0, right(input))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_space() {
        assert_eq!(trim(b" \t ").unwrap(), b"");
        assert_eq!(trim_left(b"  ").unwrap(), b"");
        assert_eq!(trim_right(b"  ").unwrap(), b"");
        assert_eq!(trim(b"\0"), None);
        assert_eq!(trim(b""), None);
    }
}
