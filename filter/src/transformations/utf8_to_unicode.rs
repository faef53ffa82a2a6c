//! `utf8toUnicode`: replaces each UTF-8 multi-byte sequence with `%uHHHH`.
//!
//! Follows ModSecurity v3's `Utf8ToUnicode`: a well-formed two-, three- or four-byte
//! sequence becomes `%u` and the code point in lowercase hex, at least four digits
//! (`%u1f600` for U+1F600). As in v3, an overlong form or a surrogate (U+D800–U+DFFF)
//! is still converted and then followed by its raw lead byte. Any other byte (ASCII,
//! a stray continuation byte, an invalid lead byte, a truncated sequence) is copied.
//! Divergences from v3, whose code reads past the end of the value and drops NUL bytes
//! through a pointer slip: we check bounds against the bytes actually left, keep NULs,
//! and treat lead bytes F5–F7 as invalid rather than emitting them twice.

use super::HEX_LOWER;

fn push_u(out: &mut Vec<u8>, cp: u32) {
    out.extend_from_slice(b"%u");
    let digits = if cp > 0xffff {
        (32 - cp.leading_zeros()).div_ceil(4)
    } else {
        4
    };
    for k in (0..digits).rev() {
        out.push(HEX_LOWER[((cp >> (4 * k)) & 15) as usize]);
    }
}

/// `t:utf8toUnicode`.
pub(super) fn utf8_to_unicode(input: &[u8], out: &mut Vec<u8>) -> bool {
    if input.is_ascii() {
        return false;
    }
    let len = input.len();
    out.reserve(len * 2);
    let mut changed = false;
    let mut i = 0;
    while i < len {
        let c = input[i];
        let need = match c {
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => 1,
        };
        let seq = input.get(i..i + need);
        let valid = need > 1 && seq.is_some_and(|s| s[1..].iter().all(|&b| b & 0xc0 == 0x80));
        if !valid {
            out.push(c);
            i += 1;
            continue;
        }
        let s = seq.unwrap_or_default();
        let lead_bits = u32::from(c) & (0x7f >> need);
        let cp = s[1..]
            .iter()
            .fold(lead_bits, |acc, &b| (acc << 6) | u32::from(b & 0x3f));
        push_u(out, cp);
        changed = true;
        let overlong = match need {
            2 => cp < 0x80,
            3 => cp < 0x800,
            _ => cp < 0x10000,
        };
        if (0xd800..=0xdfff).contains(&cp) {
            out.push(c);
        }
        if overlong {
            out.push(c);
        }
        i += need;
    }
    changed
}

#[cfg(test)]
mod tests {

    crate::transformations::under_test!(utf8_to_unicode);

    #[test]
    fn sequences() {
        assert_eq!(
            utf8_to_unicode("é€😀".as_bytes()).unwrap(),
            b"%u00e9%u20ac%u1f600"
        );
        assert_eq!(utf8_to_unicode(b"a\xc3"), None); // truncated
        assert_eq!(utf8_to_unicode(b"\x80\xff"), None); // stray bytes
        assert_eq!(utf8_to_unicode(b"\xc0\xbc").unwrap(), b"%u003c\xc0"); // overlong
        assert_eq!(utf8_to_unicode(b"a\0\xc3\xa9").unwrap(), b"a\0%u00e9");
        assert_eq!(utf8_to_unicode(b"plain"), None);
    }
}
