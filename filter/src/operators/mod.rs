//! Operators (`@rx`, `@pm`, `@eq`, …): the test a rule applies to each variable value.
//!
//! Operators are compiled once per configuration by [`compile`] and then evaluated per value.
//! Not here: negation (`!@rx`), macro expansion of parameters and variable selection: the
//! rule engine does those. When a parameter holds macros (`%{tx.foo}`), the engine expands
//! it per transaction and compiles the operator with the expanded text.
//!
//! One file per operator family, named as the ModSecurity reference manual names them:
//! [`rx`] (`@rx`, `@rxGlobal`), [`pm`] (`@pm`, `@pmFromFile`), [`strings`] (`@streq`,
//! `@strmatch`, `@contains`, `@containsWord`, `@beginsWith`, `@endsWith`, `@within`),
//! [`numeric`] (`@eq` … `@le`), [`ip_match`] (`@ipMatch`, `@ipMatchFromFile`), [`detect`]
//! (`@detectSQLi`, `@detectXSS`, on top of [`libinjection`]), [`validate`]
//! (`@validateByteRange`, `@validateUrlEncoding`, `@validateUtf8Encoding`), [`verify`]
//! (`@verifyCC`, `@verifyCPF`, `@verifySSN`, `@verifySVNR`) and [`unconditional`]
//! (`@unconditionalMatch`, `@noMatch`). The registry is [`compile`].
//!
//! Not supported (compiling them is an error that names the operator): `@geoLookup` (needs a
//! GeoIP database), `@rbl` and `@gsbLookup` (need DNS / network lookups from inside the
//! filter), `@inspectFile` (runs an external program), `@fuzzyHash` (ssdeep),
//! `@validateDTD`, `@validateSchema` (XML validation) and `@validateHash` (never implemented
//! by libmodsecurity 3 either).

pub mod detect;
pub mod ip_match;
pub mod libinjection;
pub mod numeric;
pub mod pm;
pub mod rx;
pub mod strings;
pub mod unconditional;
pub mod validate;
pub mod verify;

use std::fmt::Debug;

/// What an operator reports besides match / no match.
#[derive(Debug, Default, Clone)]
pub struct OpOutput {
    /// Set by the caller: whether the rule has `capture`, so captures should be filled.
    pub want_captures: bool,
    /// Capture groups: index 0 is the whole match (`TX:0`), then groups 1..=9.
    /// Operators that capture something else (libinjection's fingerprint) put it in 0.
    pub captures: Captures,
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

/// Capture groups in one buffer kept from evaluation to evaluation: a capturing match
/// (CRS 920450 captures every request header name) allocates nothing once the buffer has
/// grown, where a vector per group cost two allocations per match.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Captures {
    bytes: Vec<u8>,
    /// Where each group ends in `bytes` (it starts where the one before ends).
    ends: Vec<usize>,
}

impl Captures {
    /// Appends the next group.
    pub fn push(&mut self, group: &[u8]) {
        self.bytes.extend_from_slice(group);
        self.ends.push(self.bytes.len());
    }

    /// Appends every group of `other`.
    pub fn extend_from(&mut self, other: &Captures) {
        let base = self.bytes.len();
        self.bytes.extend_from_slice(&other.bytes);
        self.ends.extend(other.ends.iter().map(|e| base + e));
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no group.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Group `i`.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = match i.checked_sub(1) {
            Some(j) => *self.ends.get(j)?,
            None => 0,
        };
        self.bytes.get(start..end)
    }

    /// The groups in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Keeps the first `n` groups.
    pub fn truncate(&mut self, n: usize) {
        self.ends.truncate(n);
        self.bytes.truncate(self.ends.last().copied().unwrap_or(0));
    }

    /// Drops every group, keeping the buffers.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    /// The groups as vectors (for tests and logs).
    pub fn to_vecs(&self) -> Vec<Vec<u8>> {
        self.iter().map(<[u8]>::to_vec).collect()
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

    /// Strings of which every value this operator matches contains one, compared
    /// ASCII-case-insensitively, or `None` if there is no such set; lets the engine skip the
    /// operator (see [`crate::prefilter`]). `@rx` and `@pm` have one.
    fn required_literals(&self) -> Option<Vec<Vec<u8>>> {
        None
    }

    /// Like [`Operator::required_literals`], for values made only of common bytes
    /// ([`crate::prefilter::plain_literals_of`]); an empty set when no such value matches.
    /// `@rx` has one when it has no useful required set.
    fn plain_literals(&self) -> Option<Vec<Vec<u8>>> {
        None
    }

    /// The fewest bytes a value needs for the operator to match it (not negated); 0 when
    /// any value may. `@rx` knows it from its pattern (`Properties::minimum_len`), `@pm`
    /// from its shortest phrase. A rule skips shorter values without transforming them when
    /// its chain cannot lengthen them: it never grows a value
    /// ([`crate::rules::Rule::shrinks`]) or leaves this one as it is (no trigger of the
    /// chain in it). On CRS, most arguments of a benign GET are shorter than most attack
    /// patterns.
    fn min_len(&self) -> usize {
        0
    }

    /// Byte classes ([`crate::transformations::class`]) of which a value must hold at
    /// least one for the operator to match it (not negated); 0 when none can be named.
    /// `@rx` and `@pm` know them from the literals every match contains
    /// ([`crate::prefilter::classes_needed`]), `@validateByteRange` from the bytes it
    /// rejects, `@validateUtf8Encoding` is [`crate::transformations::class::HIGH`]. A rule
    /// skips a value with none of them, untransformed, when the value has none of its
    /// chain's triggers either (the chain leaves it as it is): on CRS, 920270's check for
    /// NUL, 920250's for bytes ≥ 0x80 and 920540's `\u` otherwise run on every argument and
    /// header.
    fn needs_classes(&self) -> u32 {
        0
    }
}

/// Operators that exist in SecLang but that Wafer does not implement, with the reason.
pub const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "geoLookup",
        "needs a GeoIP database, which the filter does not load",
    ),
    ("rbl", "needs DNS lookups from inside the filter"),
    (
        "gsbLookup",
        "needs Google Safe Browsing lookups from inside the filter",
    ),
    ("inspectFile", "runs an external program"),
    ("fuzzyHash", "needs ssdeep fuzzy hashing"),
    ("validateDTD", "XML DTD validation is not implemented"),
    ("validateSchema", "XML schema validation is not implemented"),
    (
        "validateHash",
        "not implemented (libmodsecurity 3 does not implement it either)",
    ),
];

/// The name libmodsecurity 3 logs for operator `name` (`rx` → `Rx`): the name each of its
/// operator classes passes to `Operator::Operator` (src/operators/*.cc), which its error
/// log prints as "Matched \"Operator `Rx' with parameter …". Unknown names stand as written.
pub fn display_name(name: &str) -> &str {
    const NAMES: &[&str] = &[
        "Rx",
        "RxGlobal",
        "Pm",
        "PmFromFile",
        "StrEq",
        "StrMatch",
        "Contains",
        "ContainsWord",
        "BeginsWith",
        "EndsWith",
        "Within",
        "Eq",
        "Ne",
        "Gt",
        "Ge",
        "Lt",
        "Le",
        "IpMatch",
        "IpMatchFromFile",
        "DetectSQLi",
        "DetectXSS",
        "ValidateByteRange",
        "ValidateUrlEncoding",
        "ValidateUtf8Encoding",
        "VerifyCC",
        "VerifyCPF",
        "VerifySSN",
        "VerifySVNR",
        "UnconditionalMatch",
        "NoMatch",
    ];
    let canonical = match name.to_ascii_lowercase().as_str() {
        "pmf" => "pmfromfile".to_string(),
        "ipmatchf" => "ipmatchfromfile".to_string(),
        other => other.to_string(),
    };
    NAMES
        .iter()
        .find(|n| n.eq_ignore_ascii_case(&canonical))
        .copied()
        .unwrap_or(name)
}

/// Compiles operator `name` (without `@`, e.g. `rx`) with parameter `param`.
///
/// Names are matched ASCII-case-insensitively, as SecLang does. An unknown or unsupported
/// operator, a bad parameter or a missing data file is an error message that names the
/// operator; the rule compiler adds the file and line.
pub fn compile(
    name: &str,
    param: &str,
    files: &dyn DataFiles,
) -> Result<Box<dyn Operator>, String> {
    let lower = name.to_ascii_lowercase();
    let op: Box<dyn Operator> = match lower.as_str() {
        "rx" => Box::new(rx::Rx::new(param)?),
        "rxglobal" => Box::new(rx::RxGlobal::new(param)?),
        "pm" => Box::new(pm::Pm::new(param)?),
        "pmfromfile" | "pmf" => Box::new(pm::Pm::from_files(param, files)?),
        "streq" => Box::new(strings::StrEq::new(param)),
        "strmatch" => Box::new(strings::StrMatch::new(param)),
        "contains" => Box::new(strings::Contains::new(param)),
        "containsword" => Box::new(strings::ContainsWord::new(param)),
        "beginswith" => Box::new(strings::BeginsWith::new(param)),
        "endswith" => Box::new(strings::EndsWith::new(param)),
        "within" => Box::new(strings::Within::new(param)),
        "eq" => Box::new(numeric::Compare::new(numeric::Cmp::Eq, param)),
        "ne" => Box::new(numeric::Compare::new(numeric::Cmp::Ne, param)),
        "gt" => Box::new(numeric::Compare::new(numeric::Cmp::Gt, param)),
        "ge" => Box::new(numeric::Compare::new(numeric::Cmp::Ge, param)),
        "lt" => Box::new(numeric::Compare::new(numeric::Cmp::Lt, param)),
        "le" => Box::new(numeric::Compare::new(numeric::Cmp::Le, param)),
        "ipmatch" => Box::new(ip_match::IpMatch::new(param)?),
        "ipmatchfromfile" | "ipmatchf" => Box::new(ip_match::IpMatch::from_files(param, files)?),
        "detectsqli" => Box::new(detect::DetectSqli::prepared()),
        "detectxss" => Box::new(detect::DetectXss),
        "validatebyterange" => Box::new(validate::ValidateByteRange::new(param)),
        "validateurlencoding" => Box::new(validate::ValidateUrlEncoding),
        "validateutf8encoding" => Box::new(validate::ValidateUtf8Encoding),
        "verifycc" => Box::new(verify::Verify::new(verify::Kind::Cc, param)?),
        "verifycpf" => Box::new(verify::Verify::new(verify::Kind::Cpf, param)?),
        "verifyssn" => Box::new(verify::Verify::new(verify::Kind::Ssn, param)?),
        "verifysvnr" => Box::new(verify::Verify::new(verify::Kind::Svnr, param)?),
        "unconditionalmatch" => Box::new(unconditional::UnconditionalMatch),
        "nomatch" => Box::new(unconditional::NoMatch),
        _ => {
            if let Some((n, why)) = UNSUPPORTED
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                return Err(format!("operator @{n} is not supported: {why}"));
            }
            return Err(format!("unknown operator @{name}"));
        }
    };
    Ok(op)
}

/// Splits a data file into its entries: one per line, without a trailing `\r`; lines that
/// are empty or blank, and lines whose first non-blank character is `#`, are skipped.
///
/// Mirrors libmodsecurity's `PmFromFile::isComment` (a line is a comment when only
/// whitespace precedes its `#`), except that blank lines are skipped too instead of becoming
/// patterns that match any run of spaces.
pub(crate) fn data_file_lines(content: &[u8]) -> impl Iterator<Item = &[u8]> {
    content.split(|&b| b == b'\n').filter_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let first = line.iter().find(|b| !b.is_ascii_whitespace())?;
        if *first == b'#' {
            None
        } else {
            Some(line)
        }
    })
}

/// Reads the space-separated data files named by `param` for operator `op`.
pub(crate) fn read_data_files(
    op: &str,
    param: &str,
    files: &dyn DataFiles,
) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for path in param.split_ascii_whitespace() {
        if path.starts_with("https://") || path.starts_with("http://") {
            return Err(format!(
                "@{op}: remote data files are not supported: {path}"
            ));
        }
        match files.read(path) {
            Some(c) => out.push(c),
            None => return Err(format!("@{op}: data file not found: {path}")),
        }
    }
    if out.is_empty() {
        return Err(format!("@{op}: no data file given"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
