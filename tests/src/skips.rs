//! Skip files: `tests/skips/<suite>.txt`, one `<test id> # reason` per line.
//!
//! A trailing `*` in the id matches every id with that prefix (`operators/geoLookup:*`).
//! Every entry needs a reason. Skipped cases still run: a skipped case that passes, and (in
//! an unfiltered run) an entry that matches no case, are reported as failures so the list
//! cannot rot.
//! Not here: skips decided from the data itself (`enabled: 0`, a library the case needs); the
//! suites mark those with their reason.

use std::path::Path;

use crate::report::{CaseResult, Outcome, SuiteReport};

/// One entry of a skip file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipEntry {
    /// Test id, or id prefix ending in `*`.
    pub pattern: String,
    /// Why it is skipped.
    pub reason: String,
    /// 1-based line in the file.
    pub line: usize,
}

impl SkipEntry {
    fn matches(&self, id: &str) -> bool {
        match self.pattern.strip_suffix('*') {
            Some(prefix) => id.starts_with(prefix),
            None => self.pattern == id,
        }
    }
}

/// A parsed skip file.
#[derive(Debug, Clone, Default)]
pub struct SkipList {
    /// File the entries came from (for messages).
    pub file: String,
    /// Entries in file order.
    pub entries: Vec<SkipEntry>,
}

impl SkipList {
    /// Reads `path`; a missing file is an empty list.
    pub fn load(path: &Path) -> Result<SkipList, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses skip-file text. Blank lines and lines starting with `#` are comments.
    pub fn parse(file: &str, text: &str) -> Result<SkipList, String> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((id, reason)) = line.split_once(" #") else {
                return Err(format!("{file}:{}: `<test id> # reason` expected", i + 1));
            };
            let (id, reason) = (id.trim(), reason.trim());
            if id.is_empty() || reason.is_empty() {
                return Err(format!(
                    "{file}:{}: both a test id and a reason are required",
                    i + 1
                ));
            }
            entries.push(SkipEntry {
                pattern: id.into(),
                reason: reason.into(),
                line: i + 1,
            });
        }
        Ok(SkipList {
            file: file.into(),
            entries,
        })
    }

    /// The entry for `id`, if any.
    pub fn lookup(&self, id: &str) -> Option<&SkipEntry> {
        self.entries.iter().find(|e| e.matches(id))
    }

    /// Applies the list to finished results. `complete` says whether every case of the
    /// suite ran (no `--filter`), so unused entries can be reported.
    pub fn apply(&self, report: &mut SuiteReport, complete: bool) {
        let mut used = vec![false; self.entries.len()];
        for r in &mut report.results {
            let Some(pos) = self.entries.iter().position(|e| e.matches(&r.id)) else {
                continue;
            };
            used[pos] = true;
            let entry = &self.entries[pos];
            r.outcome = match &r.outcome {
                Outcome::Pass => Outcome::Fail(format!(
                    "stale skip: this test passes now; remove line {} of {} (reason was: {})",
                    entry.line, self.file, entry.reason
                )),
                Outcome::Fail(_) => Outcome::Skip(entry.reason.clone()),
                Outcome::Skip(why) => Outcome::Skip(why.clone()),
            };
        }
        if complete {
            for (entry, used) in self.entries.iter().zip(used) {
                if !used {
                    report.results.push(CaseResult {
                        id: entry.pattern.clone(),
                        title: "skip entry".into(),
                        outcome: Outcome::Fail(format!(
                            "stale skip: line {} of {} matches no test",
                            entry.line, self.file
                        )),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(cases: &[(&str, Outcome)]) -> SuiteReport {
        let mut r = SuiteReport::new("s", "engine");
        for (id, o) in cases {
            r.results.push(CaseResult {
                id: (*id).into(),
                title: String::new(),
                outcome: o.clone(),
            });
        }
        r
    }

    #[test]
    fn reason_is_required() {
        assert!(SkipList::parse("f", "942100-1\n").is_err());
        assert!(SkipList::parse("f", "942100-1 # \n").is_err());
        let l =
            SkipList::parse("f", "# c\n\n942100-1 # needs GeoIP\nop:* # out of scope\n").unwrap();
        assert_eq!(l.entries.len(), 2);
        assert_eq!(l.lookup("op:3").map(|e| e.line), Some(4));
        assert!(l.lookup("942100-2").is_none());
    }

    #[test]
    fn failing_case_becomes_skip_and_passing_one_is_stale() {
        let l = SkipList::parse("f", "a # r1\nb # r2\nc # r3\n").unwrap();
        let mut r = report(&[("a", Outcome::Fail("x".into())), ("b", Outcome::Pass)]);
        l.apply(&mut r, true);
        assert_eq!(r.results[0].outcome, Outcome::Skip("r1".into()));
        assert!(matches!(&r.results[1].outcome, Outcome::Fail(m) if m.contains("stale")));
        // `c` matched nothing: reported in a complete run.
        assert_eq!(r.results.len(), 3);
        let mut r = report(&[("a", Outcome::Fail("x".into()))]);
        l.apply(&mut r, false);
        assert_eq!(r.results.len(), 1);
    }
}
