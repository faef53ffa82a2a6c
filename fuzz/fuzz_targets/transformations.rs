//! Fuzz target `transformations`: every `t:` function on arbitrary bytes, then a chain.
//!
//! Layout: byte 0 is the chain length (mod 9), the next that many bytes pick
//! transformations by index into `names()`, the rest is the value. Every transformation is
//! run on the value alone, then the chain is applied in order as a rule would.
//! Checks the module's contract: `Some(v)` is returned only when `v` differs from the input,
//! and `lookup` finds every name `names()` lists, whatever its case.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wafer::transformations::{lookup, names, owned, TransformFn};

fuzz_target!(|data: &[u8]| {
    let all: Vec<(&str, TransformFn)> = names()
        .map(|n| (n, lookup(n).expect("names() lists only known names")))
        .collect();
    let Some((&len, rest)) = data.split_first() else {
        return;
    };
    let len = usize::from(len % 9).min(rest.len());
    let (picks, value) = rest.split_at(len);

    for (name, f) in &all {
        if let Some(out) = owned(*f, value) {
            assert_ne!(
                out.as_slice(),
                value,
                "t:{name} reported a change but kept the bytes"
            );
        }
        assert!(
            lookup(&name.to_ascii_uppercase()).is_some(),
            "{name} not case-insensitive"
        );
    }

    let mut current = value.to_vec();
    for &p in picks {
        let (name, f) = all[usize::from(p) % all.len()];
        if let Some(out) = owned(f, &current) {
            assert_ne!(
                out, current,
                "t:{name} reported a change but kept the bytes"
            );
            current = out;
        }
    }
});
