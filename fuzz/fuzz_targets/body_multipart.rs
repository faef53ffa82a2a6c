//! Fuzz target `body_multipart`: `body::multipart::parse` with an arbitrary `Content-Type`
//! value, body and file limit.
//!
//! The input is split at the first `\n`: the bytes before it are the Content-Type header
//! value, the rest is the body, so seeds stay readable (`multipart/form-data; boundary=x`
//! then a body). The first byte selects the file limit. Checks only "no panic / no hang".
#![no_main]

use libfuzzer_sys::fuzz_target;
use wafer::body::multipart::{self, Limits};

fuzz_target!(|data: &[u8]| {
    let Some((&limit, rest)) = data.split_first() else {
        return;
    };
    let (content_type, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &b""[..]),
    };
    let limits = Limits {
        max_files: usize::from(limit % 8),
    };
    let parsed = multipart::parse(content_type, body, &limits);
    let _ = parsed.strict_error();
    let _ = parsed.flags.crlf_lf_lines();
});
