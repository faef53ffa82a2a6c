//! `htmlEntityDecode`: decodes HTML character references into single bytes.
//!
//! Port of ModSecurity v3's `HtmlEntityDecode` (after the GHSA-cxqf-vgrr-xxrv fix):
//! `&#DDD;` and `&#xHHH;` (semicolon optional, any number of digits, the value taken
//! as C `strtol` does — saturating at `LONG_MAX` — then truncated to one byte), and the
//! named entities of v3's table (only those that map into ASCII, plus `nbsp` → 0xA0),
//! matched case-insensitively on the whole name. Unknown entities are copied as is.
//! Not an HTML5 decoder: no multi-byte output, no UTF-8.

use super::changed;

/// Named entities v3 decodes (GHSA-cxqf-vgrr-xxrv table).
const NAMED: &[(&[u8], u8)] = &[
    (b"amp", b'&'),
    (b"apos", b'\''),
    (b"ast", b'*'),
    (b"bsol", b'\\'),
    (b"caret", b'^'),
    (b"colon", b':'),
    (b"comma", b','),
    (b"commat", b'@'),
    (b"dollar", b'$'),
    (b"equals", b'='),
    (b"grave", b'`'),
    (b"gt", b'>'),
    (b"hyphen", b'-'),
    (b"lbrace", b'{'),
    (b"lbrack", b'['),
    (b"lowbar", b'_'),
    (b"lpar", b'('),
    (b"lt", b'<'),
    (b"nbsp", 0xa0),
    (b"num", b'#'),
    (b"percnt", b'%'),
    (b"period", b'.'),
    (b"plus", b'+'),
    (b"quest", b'?'),
    (b"quot", b'"'),
    (b"rbrace", b'}'),
    (b"rbrack", b']'),
    (b"rpar", b')'),
    (b"semi", b';'),
    (b"sol", b'/'),
    (b"tilde", b'~'),
    (b"verbar", b'|'),
];

fn named(name: &[u8]) -> Option<u8> {
    NAMED
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, c)| c)
}

/// C `strtol` over a run of valid digits, saturating at `LONG_MAX` (64-bit), as a byte.
fn strtol_byte(digits: &[u8], radix: u32) -> u8 {
    let mut v: i64 = 0;
    for &d in digits {
        let x = i64::from(char::from(d).to_digit(radix).unwrap_or(0));
        v = v.saturating_mul(i64::from(radix)).saturating_add(x);
    }
    v as u8
}

/// `t:htmlEntityDecode`.
pub(super) fn html_entity_decode(input: &[u8], out: &mut Vec<u8>) -> bool {
    if !input.contains(&b'&') {
        return false;
    }
    let len = input.len();
    out.reserve(len);
    let mut i = 0;
    while i < len {
        // How many raw bytes to copy when no entity is decoded here.
        let mut copy = 1;
        if input[i] != b'&' {
            // The run up to the next `&` is copied as it is, at once.
            copy = memchr::memchr(b'&', &input[i..]).unwrap_or(len - i);
        } else if i + 1 < len {
            let mut j = i + 1;
            if input[j] == b'#' {
                copy += 1;
                if j + 1 < len {
                    j += 1;
                    let hex = input[j] == b'x' || input[j] == b'X';
                    let mut ok = true;
                    if hex {
                        copy += 1;
                        if j + 1 < len {
                            j += 1;
                        } else {
                            ok = false;
                        }
                    }
                    if ok {
                        let k = j;
                        while j < len
                            && (if hex {
                                input[j].is_ascii_hexdigit()
                            } else {
                                input[j].is_ascii_digit()
                            })
                        {
                            j += 1;
                        }
                        if j > k {
                            out.push(strtol_byte(&input[k..j], if hex { 16 } else { 10 }));
                            i = if j < len && input[j] == b';' {
                                j + 1
                            } else {
                                j
                            };
                            continue;
                        }
                    }
                }
            } else {
                let k = j;
                while j < len && input[j].is_ascii_alphanumeric() {
                    j += 1;
                }
                if j > k {
                    if let Some(c) = named(&input[k..j]) {
                        out.push(c);
                        i = if j < len && input[j] == b';' {
                            j + 1
                        } else {
                            j
                        };
                        continue;
                    }
                    copy = j - k + 1;
                }
            }
        }
        let end = (i + copy).min(len);
        out.extend_from_slice(&input[i..end]);
        i = end;
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {

    crate::transformations::under_test!(html_entity_decode);

    #[test]
    fn entities() {
        assert_eq!(
            html_entity_decode(b"&lt;&LT&#60;&#x3c&#X3C;").unwrap(),
            b"<<<<<"
        );
        // Whole-name match: no prefix collision (GHSA-cxqf-vgrr-xxrv).
        assert_eq!(html_entity_decode(b"&ltest;"), None);
        // Overflowing numbers saturate like strtol, then truncate.
        assert_eq!(
            html_entity_decode(b"&#99999999999999999999999;").unwrap(),
            vec![0xff]
        );
        assert_eq!(html_entity_decode(b"&#x100;").unwrap(), vec![0x00]);
    }

    #[test]
    fn truncated() {
        assert_eq!(html_entity_decode(b"&"), None);
        assert_eq!(html_entity_decode(b"&#"), None);
        assert_eq!(html_entity_decode(b"&#x"), None);
        assert_eq!(html_entity_decode(b"a&#;"), None);
    }
}
