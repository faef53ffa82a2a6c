//! `base64Decode`, `base64DecodeExt` and `base64Encode`.
//!
//! Not a general base64 library: the decoders reproduce ModSecurity's leniency, which
//! strict crates (such as `base64`) reject, so they are hand-rolled here.
//! - `base64Decode` decodes the standard alphabet up to the first byte outside it (the
//!   first `=`, NUL, space, …) and drops a trailing partial byte, as ModSecurity v2 (APR's
//!   `apr_base64_decode`) and Coraza do. libmodsecurity v3 hands the whole value to
//!   mbedTLS and yields an empty string when anything is invalid; we prefer not to let one
//!   stray byte blank out an attack payload.
//! - `base64DecodeExt` mirrors v3's `Base64::decode_forgiven_engine`: it skips every byte
//!   outside the alphabet (also accepting the URL-safe `-` and `_`), and yields an empty
//!   string when a lone `=` follows a single leftover character.

use super::changed;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Value of a standard-alphabet base64 character.
#[inline]
fn std_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Value in `decode_forgiven_engine`'s table: standard plus `-` (62) and `_` (63).
#[inline]
fn ext_value(c: u8) -> Option<u8> {
    match c {
        b'-' => Some(62),
        b'_' => Some(63),
        _ => std_value(c),
    }
}

/// Accumulates 6-bit groups into bytes of `out`, dropping a trailing partial byte.
struct Sextets<'a> {
    out: &'a mut Vec<u8>,
    acc: u32,
    bits: u32,
}

impl<'a> Sextets<'a> {
    /// Decodes into `out`, with room for what `n` characters give.
    fn new(out: &'a mut Vec<u8>, n: usize) -> Self {
        out.reserve(n / 4 * 3 + 3);
        Sextets {
            out,
            acc: 0,
            bits: 0,
        }
    }

    #[inline]
    fn push(&mut self, v: u8) {
        self.acc = (self.acc << 6) | u32::from(v);
        self.bits += 6;
        if self.bits >= 8 {
            self.bits -= 8;
            self.out.push((self.acc >> self.bits) as u8);
            self.acc &= (1 << self.bits) - 1;
        }
    }
}

/// Sextet of each byte in the standard alphabet; [`NOT_B64`] for the others.
static STD_TABLE: [u8; 256] = {
    let mut t = [NOT_B64; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// [`STD_TABLE`]'s mark of a byte outside the alphabet.
const NOT_B64: u8 = 0xff;

/// `t:base64Decode`: four characters at a time through [`STD_TABLE`] (what [`Sextets`]
/// does one by one, at a third of the instructions on CRS 934100's chains).
pub(super) fn base64_decode(input: &[u8], out: &mut Vec<u8>) -> bool {
    if input.is_empty() {
        return false;
    }
    let sextet = |c: &u8| STD_TABLE[usize::from(*c)];
    let end = input
        .iter()
        .position(|c| sextet(c) == NOT_B64)
        .unwrap_or(input.len());
    let valid = &input[..end];
    out.reserve(end / 4 * 3 + 2);
    let mut quads = valid.chunks_exact(4);
    for q in &mut quads {
        let n = q.iter().fold(0u32, |n, c| n << 6 | u32::from(sextet(c)));
        out.extend_from_slice(&n.to_be_bytes()[1..]);
    }
    // Two leftover characters carry one byte, three carry two; one carries none.
    let rest = quads.remainder();
    let n =
        rest.iter().fold(0u32, |n, c| n << 6 | u32::from(sextet(c))) << (6 * (4 - rest.len()) % 24);
    out.extend_from_slice(&n.to_be_bytes()[1..rest.len().max(1)]);
    changed(input, out)
}

/// `t:base64DecodeExt`.
pub(super) fn base64_decode_ext(input: &[u8], out: &mut Vec<u8>) -> bool {
    if input.is_empty() {
        return false;
    }
    let mut s = Sextets::new(out, input.len());
    // `i` counts accepted characters, as in the C engine.
    let mut i: usize = 0;
    for (idx, &c) in input.iter().enumerate() {
        if c == b'=' {
            // The C code peeks at the next byte, which is the NUL terminator at the end.
            let next = input.get(idx + 1).copied().unwrap_or(0);
            if next != b'=' && i % 4 == 1 {
                // The result is empty (the input is not).
                s.out.clear();
                return true;
            }
            continue;
        }
        if let Some(v) = ext_value(c) {
            s.push(v);
            i += 1;
        }
    }
    changed(input, s.out)
}

/// `t:base64Encode`: standard alphabet with `=` padding.
pub(super) fn base64_encode(input: &[u8], out: &mut Vec<u8>) -> bool {
    if input.is_empty() {
        return false;
    }
    out.reserve(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sym = |shift: u32| ALPHABET[((n >> shift) & 63) as usize];
        out.push(sym(18));
        out.push(sym(12));
        out.push(if chunk.len() > 1 { sym(6) } else { b'=' });
        out.push(if chunk.len() > 2 { sym(0) } else { b'=' });
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::transformations::under_test!(base64_decode, base64_decode_ext, base64_encode);

    /// `base64Decode` one sextet at a time, as it was written first.
    fn reference(input: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut s = Sextets::new(&mut out, input.len());
        for v in input.iter().map_while(|&c| std_value(c)) {
            s.push(v);
        }
        (!input.is_empty() && out != input).then_some(out)
    }

    #[test]
    fn decode_by_table_equals_decode_by_sextet() {
        // Every string of up to 6 bytes over an alphabet with valid, padding and other bytes.
        let alphabet = b"Qa9+/=. ";
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..6 {
            let longer: Vec<Vec<u8>> = inputs
                .iter()
                .filter(|v| v.len() == inputs.last().map_or(0, Vec::len))
                .flat_map(|v| {
                    alphabet.iter().map(move |&c| {
                        let mut w = v.clone();
                        w.push(c);
                        w
                    })
                })
                .collect();
            inputs.extend(longer);
        }
        assert!(inputs.len() > 250_000);
        for input in &inputs {
            assert_eq!(base64_decode(input), reference(input), "{input:?}");
        }
    }

    #[test]
    fn decode_stops_at_first_invalid_byte() {
        assert_eq!(base64_decode(b"VGVzdA==junk").unwrap(), b"Test");
        assert_eq!(base64_decode(b"VGVzdA!VGVz").unwrap(), b"Test");
        // A single leftover character carries no full byte.
        assert_eq!(base64_decode(b"VGVzd").unwrap(), b"Tes");
        assert_eq!(base64_decode(b"!!").unwrap(), b"");
    }

    #[test]
    fn decode_ext_skips_invalid_and_accepts_url_safe() {
        assert_eq!(base64_decode_ext(b"V G\nV.z dA").unwrap(), b"Test");
        assert_eq!(base64_decode_ext(b"-_-_").unwrap(), vec![0xfb, 0xff, 0xbf]);
        // "VGVzd" leaves one character (i % 4 == 1) before a lone '='.
        assert_eq!(base64_decode_ext(b"VGVzd=").unwrap(), b"");
        assert_eq!(base64_decode_ext(b"=").unwrap(), b"");
    }

    #[test]
    fn encode_pads() {
        assert_eq!(base64_encode(b"a").unwrap(), b"YQ==");
        assert_eq!(base64_encode(b"ab").unwrap(), b"YWI=");
        assert_eq!(base64_encode(b"abc").unwrap(), b"YWJj");
        assert_eq!(base64_encode(b""), None);
    }
}
