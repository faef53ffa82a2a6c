//! Number verification operators: `@verifyCC` (Luhn), `@verifyCPF` (Brazilian CPF),
//! `@verifySSN` (US social security number), `@verifySVNR` (Austrian social insurance
//! number). The parameter is a regex (compiled as for `@rx`) that finds candidates; a
//! candidate (the whole match, non-digits ignored) that passes the check is a match,
//! reported as matched data and, with `capture`, in `TX:0`.
//!
//! Checks mirror libmodsecurity (`src/operators/verify_*.cc`): `luhnVerify`; CPF takes the
//! first 11 digits, rejects the 11 repeated / sequential "bad" numbers and checks both check
//! digits; SSN needs exactly 9 digits, rejects all-sequential / all-repeated numbers, zero
//! fields, areas 666 and ≥ 740; SVNR takes the first 10 digits, rejects the "bad" list
//! (all 12 entries — libmodsecurity's loop only reads the first 10) and checks the weighted
//! digit. An empty parameter never matches.
//!
//! Deviation, for linear time: candidates are the regex's successive non-overlapping
//! matches. libmodsecurity re-runs the regex from every offset (every suffix), which is
//! quadratic in the value's length and only differs when a longer candidate hides a valid
//! shorter one inside it.

use regex::bytes::Regex;

use super::rx::build_regex;
use super::{OpOutput, Operator};

/// Which check a [`Verify`] operator applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `@verifyCC`
    Cc,
    /// `@verifyCPF`
    Cpf,
    /// `@verifySSN`
    Ssn,
    /// `@verifySVNR`
    Svnr,
}

/// A compiled `@verify*` operator.
#[derive(Debug)]
pub struct Verify {
    kind: Kind,
    /// `None` for an empty parameter: never matches.
    re: Option<Regex>,
}

impl Verify {
    /// Compiles the operator with its candidate regex.
    pub fn new(kind: Kind, param: &str) -> Result<Self, String> {
        let name = match kind {
            Kind::Cc => "verifyCC",
            Kind::Cpf => "verifyCPF",
            Kind::Ssn => "verifySSN",
            Kind::Svnr => "verifySVNR",
        };
        let re = if param.is_empty() {
            None
        } else {
            Some(build_regex(name, param)?)
        };
        Ok(Self { kind, re })
    }

    fn check(&self, candidate: &[u8]) -> bool {
        match self.kind {
            Kind::Cc => luhn(candidate),
            Kind::Cpf => cpf(candidate),
            Kind::Ssn => ssn(candidate),
            Kind::Svnr => svnr(candidate),
        }
    }
}

impl Operator for Verify {
    fn matches(&self, input: &[u8], out: &mut OpOutput) -> bool {
        let Some(re) = &self.re else { return false };
        let Some(m) = re.find_iter(input).find(|m| self.check(m.as_bytes())) else {
            return false;
        };
        if out.want_captures {
            out.captures.push(m.as_bytes());
        }
        out.matched = Some(m.as_bytes().to_vec());
        true
    }
}

/// The decimal digits of `s`, as numbers 0–9.
fn digits(s: &[u8]) -> impl Iterator<Item = u32> + '_ {
    s.iter()
        .filter(|b| b.is_ascii_digit())
        .map(|b| u32::from(b - b'0'))
}

/// Luhn mod-10 over the digits of `s` (false when there are none).
pub fn luhn(s: &[u8]) -> bool {
    let ds: Vec<u32> = digits(s).collect();
    if ds.is_empty() {
        return false;
    }
    let sum: u32 = ds
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Brazilian CPF check digits over the first 11 digits of `s`.
pub fn cpf(s: &[u8]) -> bool {
    let d: Vec<u32> = digits(s).take(11).collect();
    if d.len() != 11 {
        return false;
    }
    // The "bad" numbers: all digits equal, and 01234567890.
    if d.iter().all(|&x| x == d[0]) || d == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0] {
        return false;
    }
    let check = |n: usize| {
        let sum: u32 = d
            .iter()
            .take(n)
            .enumerate()
            .map(|(i, &x)| x * (n as u32 + 1 - i as u32))
            .sum();
        let f = sum % 11;
        if f < 2 {
            0
        } else {
            11 - f
        }
    };
    check(9) == d[9] && check(10) == d[10]
}

/// US social security number plausibility: exactly 9 digits, see the module doc.
pub fn ssn(s: &[u8]) -> bool {
    let d: Vec<u32> = digits(s).collect();
    if d.len() != 9 {
        return false;
    }
    let sequential = d.windows(2).filter(|w| w[0] + 1 == w[1]).count();
    let repeated = d.windows(2).filter(|w| w[0] == w[1]).count();
    if sequential == 8 || repeated == 8 {
        return false;
    }
    let area = d[0] * 100 + d[1] * 10 + d[2];
    let group = d[3] * 10 + d[4];
    let serial = d[5] * 1000 + d[6] * 100 + d[7] * 10 + d[8];
    !(area == 0 || group == 0 || serial == 0 || area >= 740 || area == 666)
}

/// Austrian social insurance number check digit over the first 10 digits of `s`.
pub fn svnr(s: &[u8]) -> bool {
    let d: Vec<u32> = digits(s).take(10).collect();
    if d.len() != 10 {
        return false;
    }
    if d.iter().all(|&x| x == d[0])
        || d == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        || d == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]
    {
        return false;
    }
    let sum = d[0] * 3
        + d[1] * 7
        + d[2] * 9
        + d[4] * 5
        + d[5] * 8
        + d[6] * 4
        + d[7] * 2
        + d[8]
        + d[9] * 6;
    let sum = match sum % 11 {
        10 => 0,
        x => x,
    };
    sum == d[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        assert!(luhn(b"4111-1111-1111-1111"));
        assert!(!luhn(b"4111111111111112"));
        assert!(!luhn(b"abc"));
        assert!(cpf(b"010.817.514-60"));
        assert!(!cpf(b"111.111.111-11"));
        assert!(ssn(b"574-57-8065"));
        assert!(!ssn(b"666-57-8065"));
        assert!(svnr(b"1237 010180"));
        assert!(!svnr(b"1111111111"));
    }

    #[test]
    fn capture_is_the_candidate() {
        let op = Verify::new(Kind::Cc, r"\d{13,16}").unwrap();
        let mut out = OpOutput {
            want_captures: true,
            ..Default::default()
        };
        assert!(op.matches(b"card 4111111111111111 x", &mut out));
        assert_eq!(out.captures.to_vecs(), vec![b"4111111111111111".to_vec()]);
        assert!(!Verify::new(Kind::Cc, "")
            .unwrap()
            .matches(b"4111111111111111", &mut out));
    }
}
