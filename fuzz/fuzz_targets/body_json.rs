//! Fuzz target `body_json`: `body::json::parse` and `parse_partial` on arbitrary bytes.
//!
//! The first byte is the depth limit (0..=255), so both the depth error and deep documents
//! are reachable; the parser must not recurse, so deep nesting must never overflow the
//! stack. Checks that `parse` and `parse_partial` agree on whether the body is an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wafer::body::json;

fuzz_target!(|data: &[u8]| {
    let Some((&depth, body)) = data.split_first() else {
        return;
    };
    let depth = usize::from(depth);
    let full = json::parse(body, depth);
    let (partial, error) = json::parse_partial(body, depth);
    assert_eq!(
        full.is_err(),
        error.is_some(),
        "parse and parse_partial disagree"
    );
    if let Ok(args) = full {
        assert_eq!(args, partial, "a good body must give the same arguments");
    }
});
