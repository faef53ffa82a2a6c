//! Fuzz target `body_urlencoded`: `body::urlencoded::parse` with an arbitrary separator and
//! input, and `decode_nonstrict` on the same bytes.
//!
//! Besides "no panic", checks a cheap invariant: decoding never makes a value longer.
//! Not here: argument limits and collections (the transaction owns those).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wafer::body::urlencoded;

fuzz_target!(|data: &[u8]| {
    let Some((&sep, input)) = data.split_first() else {
        return;
    };
    let parsed = urlencoded::parse(input, sep);
    let total: usize = parsed.pairs.iter().map(|(k, v)| k.len() + v.len()).sum();
    assert!(total <= input.len(), "decoded pairs longer than the input");
    let mut decoded = Vec::new();
    urlencoded::decode_nonstrict(input, &mut decoded);
    assert!(decoded.len() <= input.len());
});
