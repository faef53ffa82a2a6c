//! Operators (`@rx`, `@pm`, `@eq`, …): the test a rule applies to each variable value.
//!
//! Operators are compiled once per configuration by [`compile`] and then evaluated per value.
//! Not here: negation (`!@rx`), macro expansion of parameters and variable selection: the
//! rule engine does those. When a parameter holds macros (`%{tx.foo}`), the engine expands
//! it per transaction and compiles the operator with the expanded text.

pub mod libinjection;

use std::fmt::Debug;

/// What an operator reports besides match / no match.
#[derive(Debug, Default, Clone)]
pub struct OpOutput {
    /// Set by the caller: whether the rule has `capture`, so captures should be filled.
    pub want_captures: bool,
    /// Capture groups: index 0 is the whole match (`TX:0`), then groups 1..=9.
    /// Operators that capture something else (libinjection's fingerprint) put it in 0.
    pub captures: Vec<Vec<u8>>,
    /// The part of the input that matched, for the log line's "Matched Data"; when left
    /// `None`, the engine logs the whole value.
    pub matched: Option<Vec<u8>>,
}

impl OpOutput {
    /// Clears the outputs, keeping allocations, before the next evaluation.
    pub fn reset(&mut self) {
        self.captures.clear();
        self.matched = None;
    }
}

/// Files that `@pmFromFile` / `@ipMatchFromFile` may read: an in-memory file set.
pub trait DataFiles {
    /// Returns the content of `path` (resolved relative to the rule's file by the caller),
    /// or `None` if there is no such file.
    fn read(&self, path: &str) -> Option<Vec<u8>>;
}

/// A compiled operator.
pub trait Operator: Send + Sync + Debug {
    /// Evaluates the operator on one (already transformed) value.
    fn matches(&self, input: &[u8], out: &mut OpOutput) -> bool;
}

/// Compiles operator `name` (without `@`, e.g. `rx`) with parameter `param`.
///
/// An unknown operator, a bad parameter or a missing data file is an error message that
/// names the operator; the rule compiler adds the file and line.
pub fn compile(name: &str, param: &str, files: &dyn DataFiles) -> Result<Box<dyn Operator>, String> {
    let _ = (param, files);
    Err(format!("unknown operator @{name}"))
}
