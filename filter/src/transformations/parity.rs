//! `parityEven7bit`, `parityOdd7bit` and `parityZero7bit`: set the high bit of each byte
//! from the parity of its low seven bits (or clear it).

/// Applies `f` to every byte into `out`; `false` when nothing changes.
fn map_bytes(input: &[u8], out: &mut Vec<u8>, f: impl Fn(u8) -> u8) -> bool {
    let Some(first) = input.iter().position(|&c| f(c) != c) else {
        return false;
    };
    out.reserve(input.len());
    out.extend_from_slice(&input[..first]);
    out.extend(input[first..].iter().map(|&c| f(c)));
    true
}

/// `t:parityEven7bit`: high bit set so the byte has an even number of one bits.
pub(super) fn parity_even_7bit(input: &[u8], out: &mut Vec<u8>) -> bool {
    map_bytes(input, out, |c| {
        let low = c & 0x7f;
        if low.count_ones() % 2 == 1 {
            low | 0x80
        } else {
            low
        }
    })
}

/// `t:parityOdd7bit`: high bit set so the byte has an odd number of one bits.
pub(super) fn parity_odd_7bit(input: &[u8], out: &mut Vec<u8>) -> bool {
    map_bytes(input, out, |c| {
        let low = c & 0x7f;
        if low.count_ones() % 2 == 0 {
            low | 0x80
        } else {
            low
        }
    })
}

/// `t:parityZero7bit`: high bit cleared.
pub(super) fn parity_zero_7bit(input: &[u8], out: &mut Vec<u8>) -> bool {
    map_bytes(input, out, |c| c & 0x7f)
}
