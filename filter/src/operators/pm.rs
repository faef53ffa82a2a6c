//! `@pm` and `@pmFromFile` (alias `@pmf`): case-insensitive multi-phrase match on
//! Aho-Corasick (the `aho-corasick` crate, ASCII case folding, as libmodsecurity's `acmp`
//! folds with `tolower`).
//!
//! `@pm` takes space-separated phrases, parsed like libmodsecurity's `parse_pm_content`
//! (`src/utils/acmp.cc`): leading blanks dropped, one pair of surrounding `"` stripped,
//! `|41 42|` hex byte blocks, and `\` escaping `:` `;` `\` `"`. When that parse fails (an
//! unsupported escape), the raw parameter is used, as libmodsecurity does; the result is
//! split on whitespace. (libmodsecurity's hex-block parser compares against the bytes 0–9
//! instead of the characters `0`–`9`; we accept all hex digits as ModSecurity 2 did.)
//! `@pmFromFile` reads one phrase per line from each space-separated file (see
//! `data_file_lines` in `operators`); a phrase may contain spaces there.
//!
//! The match reported (and captured into `TX:0`) is the phrase as written in the rule or
//! file, for the first occurrence that ends earliest in the value, as `acmp_process_quick`
//! returns it. Not here: remote (`https://`) phrase files.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::{data_file_lines, read_data_files, DataFiles, OpOutput, Operator};

/// A compiled phrase set.
#[derive(Debug)]
pub struct Pm {
    /// `None` when there are no phrases: matches nothing (libmodsecurity's empty tree).
    ac: Option<AhoCorasick>,
    phrases: Vec<Vec<u8>>,
    /// Bytes every phrase but a few holds one of ([`crate::prefilter::phrase_bytes`]): a
    /// value with none of them is scanned for those few phrases only (`ungated`).
    bytes: Option<crate::prefilter::RequiredBytes>,
    /// The phrases without any of `bytes`, when there are some, and whether each of
    /// them holds a space (then a value without one holds none of them).
    ungated: Option<(bool, AhoCorasick)>,
    /// The shortest phrase's length.
    min_len: usize,
    /// Classes a value needs to hold a phrase ([`Operator::needs_classes`]).
    needs: u32,
}

/// Parses a `@pm` parameter into its bytes (hex blocks and escapes resolved), or `None`
/// when libmodsecurity's parser would fail.
fn parse_pm_content(param: &str) -> Option<Vec<u8>> {
    let p = param.trim_start_matches([' ', '\t']).as_bytes();
    let p = if p.len() >= 2 && p.first() == Some(&b'"') && p.last() == Some(&b'"') {
        &p[1..p.len() - 1]
    } else {
        p
    };
    if p.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(p.len());
    let (mut bin, mut esc) = (false, false);
    let mut hex: Option<u8> = None;
    for &c in p {
        if c == b'|' {
            bin = !bin;
            hex = None;
        } else if !esc && c == b'\\' {
            esc = true;
        } else if bin {
            if let Some(v) = (c as char).to_digit(16) {
                // `to_digit(16)` is < 16, so the cast and shift cannot overflow.
                let v = v as u8;
                match hex.take() {
                    Some(hi) => out.push((hi << 4) | v),
                    None => hex = Some(v),
                }
            }
        } else if esc {
            if matches!(c, b':' | b';' | b'\\' | b'"') {
                out.push(c);
            } else {
                return None;
            }
            esc = false;
        } else {
            out.push(c);
        }
    }
    Some(out)
}

impl Pm {
    /// Compiles `@pm` with a space-separated phrase list.
    pub fn new(param: &str) -> Result<Self, String> {
        let content = parse_pm_content(param).unwrap_or_else(|| param.as_bytes().to_vec());
        let phrases = content
            .split(|b| b.is_ascii_whitespace())
            .filter(|p| !p.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        Self::build("pm", phrases)
    }

    /// Compiles `@pmFromFile` with space-separated file names read from `files`.
    pub fn from_files(param: &str, files: &dyn DataFiles) -> Result<Self, String> {
        let mut phrases = Vec::new();
        for content in read_data_files("pmFromFile", param, files)? {
            phrases.extend(data_file_lines(&content).map(<[u8]>::to_vec));
        }
        Self::build("pmFromFile", phrases)
    }

    fn build(op: &str, phrases: Vec<Vec<u8>>) -> Result<Self, String> {
        if phrases.is_empty() {
            return Ok(Self {
                ac: None,
                phrases,
                bytes: None,
                ungated: None,
                min_len: 0,
                needs: 0,
            });
        }
        let automaton = |phrases: &[&[u8]]| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(phrases)
                .map_err(|e| format!("@{op}: cannot build the phrase automaton: {e}"))
        };
        let all: Vec<&[u8]> = phrases.iter().map(Vec::as_slice).collect();
        let ac = automaton(&all)?;
        let (bytes, ungated) = match crate::prefilter::phrase_bytes(&phrases) {
            Some((bytes, few)) if few.is_empty() => (Some(bytes), None),
            Some((bytes, few)) => {
                let few: Vec<&[u8]> = few.iter().filter_map(|&i| all.get(i).copied()).collect();
                let space = few.iter().all(|p| p.contains(&b' '));
                (Some(bytes), Some((space, automaton(&few)?)))
            }
            None => (None, None),
        };
        Ok(Self {
            ac: Some(ac),
            bytes,
            ungated,
            min_len: phrases.iter().map(Vec::len).min().unwrap_or(0),
            needs: crate::prefilter::classes_needed(&phrases),
            phrases,
        })
    }
}

impl Operator for Pm {
    fn matches(&self, input: &[u8], out: &mut OpOutput) -> bool {
        if self.bytes.is_some_and(|b| !b.any_in(input))
            && !self.ungated.as_ref().is_some_and(|(space, few)| {
                (!space || memchr::memchr(b' ', input).is_some()) && few.is_match(input)
            })
        {
            return false;
        }
        let Some(m) = self.ac.as_ref().and_then(|ac| ac.find(input)) else {
            return false;
        };
        let phrase = self
            .phrases
            .get(m.pattern().as_usize())
            .cloned()
            .unwrap_or_default();
        if out.want_captures {
            out.captures.push(&phrase);
        }
        out.matched = Some(phrase);
        true
    }

    fn required_literals(&self) -> Option<Vec<Vec<u8>>> {
        // A match is a phrase found case-insensitively; no phrase matches nothing, which we
        // leave to the operator itself.
        (!self.phrases.is_empty()).then(|| self.phrases.clone())
    }

    fn min_len(&self) -> usize {
        self.min_len
    }

    fn needs_classes(&self) -> u32 {
        self.needs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pm_content_parsing() {
        assert_eq!(parse_pm_content(r#""a|41 42|c""#).unwrap(), b"aABc");
        assert_eq!(parse_pm_content(r"a\;b").unwrap(), b"a;b");
        assert_eq!(parse_pm_content(r"a\qb"), None);
        assert_eq!(parse_pm_content("  "), None);
    }

    #[test]
    fn pm_is_case_insensitive_and_reports_phrase() {
        let op = Pm::new("Foo bar").unwrap();
        let mut out = OpOutput {
            want_captures: true,
            ..Default::default()
        };
        assert!(op.matches(b"xxFOOxx", &mut out));
        assert_eq!(out.captures.to_vecs(), vec![b"Foo".to_vec()]);
        assert_eq!(out.matched.as_deref(), Some(&b"Foo"[..]));
        assert!(!Pm::new("").unwrap().matches(b"anything", &mut out));
    }

    #[test]
    fn phrases_without_the_gate_bytes_are_still_found() {
        // Every phrase but `program files` and `boot` holds `.` or `/`: a value without
        // either is searched for those two only, and they are still found there.
        let mut list = crate::FileSet::new();
        list.insert(
            "l.data",
            b".htaccess\netc/passwd\nprogram files\nboot\n".to_vec(),
        );
        let op = Pm::from_files("l.data", &list).unwrap();
        assert!(op.bytes.is_some() && op.ungated.is_some());
        let mut out = OpOutput::default();
        for (value, phrase) in [
            (&b"c: Program Files x"[..], Some(&b"program files"[..])),
            (b"BOOT", Some(b"boot")),
            (b"x.HTACCESS", Some(b".htaccess")),
            (b"/etc/passwd", Some(b"etc/passwd")),
            (b"programfiles", None),
            (b"htaccess etc passwd", None),
        ] {
            out.matched = None;
            assert_eq!(op.matches(value, &mut out), phrase.is_some(), "{value:?}");
            assert_eq!(out.matched.as_deref(), phrase);
        }
    }
}
