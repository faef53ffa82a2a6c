//! `@detectSQLi` and `@detectXSS`: the operator side of [`super::libinjection`].
//!
//! As in libmodsecurity (`src/operators/detect_sqli.cc`), a SQLi match reports the
//! libinjection fingerprint (e.g. `s&1`) as the matched data and, with `capture`, in `TX:0`.
//! `@detectXSS` reports no capture; the engine logs the whole value. Both take no parameter
//! (one given is ignored). Not here: the tokenizers themselves.

use super::{libinjection, OpOutput, Operator};

/// `@detectSQLi`.
#[derive(Debug)]
pub struct DetectSqli;

impl DetectSqli {
    /// The operator, with libinjection's keyword table built (at configure time).
    pub fn prepared() -> DetectSqli {
        libinjection::prepare_sqli();
        DetectSqli
    }
}

impl Operator for DetectSqli {
    fn matches(&self, input: &[u8], out: &mut OpOutput) -> bool {
        let Some(fp) = libinjection::detect_sqli(input) else {
            return false;
        };
        let fp = fp.into_bytes();
        if out.want_captures {
            out.captures.push(&fp);
        }
        out.matched = Some(fp);
        true
    }
}

/// `@detectXSS`.
#[derive(Debug)]
pub struct DetectXss;

impl Operator for DetectXss {
    fn matches(&self, input: &[u8], _out: &mut OpOutput) -> bool {
        libinjection::detect_xss(input)
    }
}
