//! `compressWhitespace` and `removeWhitespace`.
//!
//! Whitespace is C `isspace` in the "C" locale (space, `\t`, `\n`, `\v`, `\f`, `\r`);
//! `removeWhitespace` also removes the non-breaking space byte 0xA0, as ModSecurity v3's
//! `RemoveWhitespace` does. Not Unicode-aware.

use super::{changed, is_c_space};

const NBSP: u8 = 0xa0;

/// `t:compressWhitespace`: each run of whitespace becomes one space.
pub(super) fn compress_whitespace(input: &[u8], out: &mut Vec<u8>) -> bool {
    // Fast path: nothing to do unless there is a non-space whitespace byte or two
    // whitespace bytes in a row.
    let needs_work = input.iter().enumerate().any(|(i, &c)| {
        is_c_space(c) && (c != b' ' || input.get(i + 1).is_some_and(|&n| is_c_space(n)))
    });
    if !needs_work {
        return false;
    }
    out.reserve(input.len());
    let mut in_ws = false;
    for &c in input {
        if is_c_space(c) {
            if !in_ws {
                out.push(b' ');
                in_ws = true;
            }
        } else {
            in_ws = false;
            out.push(c);
        }
    }
    changed(input, out)
}

/// `t:removeWhitespace`: deletes whitespace and NBSP bytes.
pub(super) fn remove_whitespace(input: &[u8], out: &mut Vec<u8>) -> bool {
    let drop = |c: u8| is_c_space(c) || c == NBSP;
    if !input.iter().any(|&c| drop(c)) {
        return false;
    }
    super::kept(input, out, |c| !drop(c));
    true
}

#[cfg(test)]
mod tests {

    crate::transformations::under_test!(compress_whitespace, remove_whitespace);

    #[test]
    fn compress() {
        assert_eq!(compress_whitespace(b"a\tb").unwrap(), b"a b");
        assert_eq!(compress_whitespace(b" a \r\n b ").unwrap(), b" a b ");
        assert_eq!(compress_whitespace(b"a b"), None);
    }

    #[test]
    fn remove() {
        assert_eq!(remove_whitespace(b" a\xa0b\x0b").unwrap(), b"ab");
        assert_eq!(remove_whitespace(b"ab"), None);
    }
}
