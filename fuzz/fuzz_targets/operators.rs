//! Fuzz target `operators`: every operator compiled with an arbitrary parameter and run on
//! an arbitrary input.
//!
//! Layout: byte 0 picks the operator (index into the list below, which holds every name
//! `operators::compile` knows plus an unsupported and an unknown one); the rest is split at
//! the first NUL into the parameter (UTF-8, lossy) and the input. Compile errors are fine;
//! a compiled operator is evaluated with and without captures.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wafer::operators::{self, OpOutput};
use wafer::FileSet;

const NAMES: &[&str] = &[
    "rx",
    "rxGlobal",
    "pm",
    "pmFromFile",
    "streq",
    "strmatch",
    "contains",
    "containsWord",
    "beginsWith",
    "endsWith",
    "within",
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "ipMatch",
    "ipMatchFromFile",
    "detectSQLi",
    "detectXSS",
    "validateByteRange",
    "validateUrlEncoding",
    "validateUtf8Encoding",
    "verifyCC",
    "verifyCPF",
    "verifySSN",
    "verifySVNR",
    "unconditionalMatch",
    "noMatch",
    "geoLookup",
    "noSuchOperator",
];

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(which) % NAMES.len()];
    let (param, input) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (String::from_utf8_lossy(&rest[..i]), &rest[i + 1..]),
        None => (String::from_utf8_lossy(rest), &b""[..]),
    };
    let mut files = FileSet::new();
    files.insert("words.data", "alpha\nbeta\n# comment\n\ngamma delta\n");
    files.insert("ips.data", "10.0.0.0/8\n192.168.1.1\n::1\n2001:db8::/32\n");
    let Ok(op) = operators::compile(name, &param, &files) else {
        return;
    };
    let mut out = OpOutput::default();
    let _ = op.matches(input, &mut out);
    out.reset();
    out.want_captures = true;
    let _ = op.matches(input, &mut out);
    if name != "rxGlobal" {
        assert!(out.captures.len() <= 10, "@{name}: more than 10 captures");
    }
});
