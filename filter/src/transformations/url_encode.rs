//! `urlEncode`: percent-encodes everything but ASCII letters, digits and `*`; space
//! becomes `+`. Lowercase hex, as ModSecurity v3's `UrlEncode`.

use super::HEX_LOWER;

/// `t:urlEncode`.
pub(super) fn url_encode(input: &[u8], out: &mut Vec<u8>) -> bool {
    let keep = |c: u8| c == b'*' || c.is_ascii_alphanumeric();
    let Some(first) = input.iter().position(|&c| !keep(c)) else {
        return false;
    };
    out.reserve(input.len() + (input.len() - first) * 2);
    out.extend_from_slice(&input[..first]);
    for &c in &input[first..] {
        if c == b' ' {
            out.push(b'+');
        } else if keep(c) {
            out.push(c);
        } else {
            out.extend_from_slice(&[
                b'%',
                HEX_LOWER[usize::from(c >> 4)],
                HEX_LOWER[usize::from(c & 15)],
            ]);
        }
    }
    true
}
