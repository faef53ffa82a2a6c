//! Results of a suite run: one outcome per case, the summary line, failure details.
//!
//! Not here: running anything. Suites fill a [`SuiteReport`]; the binary prints it.

use std::fmt::Write as _;

/// What happened to one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every expectation held.
    Pass,
    /// At least one expectation failed; the text says which and what was seen.
    Fail(String),
    /// Not run (or not counted), with the reason.
    Skip(String),
}

/// One case's result.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Stable id, used by `--filter` and the skip files (`942100-1`, `action-allow.json:0`).
    pub id: String,
    /// Human title (test description, operator and input, …).
    pub title: String,
    /// The outcome.
    pub outcome: Outcome,
}

/// All results of one suite on one target.
#[derive(Debug, Clone)]
pub struct SuiteReport {
    /// Suite name (`secrules`, `modsec-regression`, `crs`).
    pub suite: String,
    /// Target name (`engine`, …).
    pub target: String,
    /// Results in run order.
    pub results: Vec<CaseResult>,
    /// Lines printed before the summary (rule versions, load times).
    pub notes: Vec<String>,
}

impl SuiteReport {
    /// An empty report.
    pub fn new(suite: &str, target: &str) -> Self {
        SuiteReport {
            suite: suite.into(),
            target: target.into(),
            results: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// `(passed, failed, skipped)`.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for r in &self.results {
            match r.outcome {
                Outcome::Pass => c.0 += 1,
                Outcome::Fail(_) => c.1 += 1,
                Outcome::Skip(_) => c.2 += 1,
            }
        }
        c
    }

    /// Whether any case failed.
    pub fn failed(&self) -> bool {
        self.counts().1 > 0
    }

    /// `<suite>/<target>: N passed, N failed, N skipped`.
    pub fn summary_line(&self) -> String {
        let (p, f, s) = self.counts();
        format!(
            "{}/{}: {p} passed, {f} failed, {s} skipped",
            self.suite, self.target
        )
    }

    /// Every failure with its details, one block per case.
    pub fn failure_details(&self) -> String {
        let mut out = String::new();
        for r in &self.results {
            if let Outcome::Fail(why) = &r.outcome {
                let _ = writeln!(
                    out,
                    "FAIL {}/{} {} — {}",
                    self.suite, self.target, r.id, r.title
                );
                for line in why.lines() {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
        out
    }

    /// Every skip with its reason, one line per case.
    pub fn skip_list(&self) -> String {
        let mut out = String::new();
        for r in &self.results {
            if let Outcome::Skip(why) = &r.outcome {
                let _ = writeln!(out, "SKIP {}/{} {} # {why}", self.suite, self.target, r.id);
            }
        }
        out
    }
}

/// Shortens `s` to at most `max` characters for failure messages, marking the cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

/// Shows bytes as text, escaping non-printable bytes as `\xHH`.
pub fn show_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(c as char),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_each_outcome() {
        let mut r = SuiteReport::new("crs", "engine");
        for (i, o) in [
            Outcome::Pass,
            Outcome::Fail("x".into()),
            Outcome::Skip("y".into()),
        ]
        .into_iter()
        .enumerate()
        {
            r.results.push(CaseResult {
                id: i.to_string(),
                title: String::new(),
                outcome: o,
            });
        }
        assert_eq!(
            r.summary_line(),
            "crs/engine: 1 passed, 1 failed, 1 skipped"
        );
        assert!(r.failed());
        assert!(r.failure_details().contains("FAIL crs/engine 1"));
    }

    #[test]
    fn show_bytes_escapes_binary() {
        assert_eq!(show_bytes(b"a\x00\xff\\"), "a\\x00\\xff\\\\");
    }
}
