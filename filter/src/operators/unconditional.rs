//! `@unconditionalMatch` (always matches) and `@noMatch` (never matches). Their parameter is
//! ignored, as in libmodsecurity.

use super::{OpOutput, Operator};

/// `@unconditionalMatch`: always true.
#[derive(Debug)]
pub struct UnconditionalMatch;

impl Operator for UnconditionalMatch {
    fn matches(&self, _input: &[u8], _out: &mut OpOutput) -> bool {
        true
    }
}

/// `@noMatch`: always false.
#[derive(Debug)]
pub struct NoMatch;

impl Operator for NoMatch {
    fn matches(&self, _input: &[u8], _out: &mut OpOutput) -> bool {
        false
    }
}
