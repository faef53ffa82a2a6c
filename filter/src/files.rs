//! An in-memory file set: the embedded bundle (`@recommended-conf`, `@owasp_crs/…`) plus
//! configuration given inline. `Include` and `@pmFromFile` read from here, never from disk.

use std::collections::BTreeMap;

use crate::operators::DataFiles;

/// Named files, in memory.
#[derive(Debug, Default, Clone)]
pub struct FileSet {
    files: BTreeMap<String, Vec<u8>>,
}

impl FileSet {
    /// An empty file set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces the file at `path`.
    pub fn insert(&mut self, path: impl Into<String>, content: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), content.into());
    }

    /// Returns the content of `path`.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// Paths matching a glob (`*` and `?` within one path segment), sorted.
    pub fn glob(&self, pattern: &str) -> Vec<&str> {
        self.files
            .keys()
            .filter(|k| glob_match(pattern.as_bytes(), k.as_bytes()))
            .map(String::as_str)
            .collect()
    }

    /// All paths, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }
}

impl DataFiles for FileSet {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.get(path).map(<[u8]>::to_vec)
    }
}

/// Shell-style glob match where `*` and `?` do not cross `/`: the pattern and the path
/// must have the same segments, each matched on its own.
fn glob_match(p: &[u8], s: &[u8]) -> bool {
    let mut ps = p.split(|&b| b == b'/');
    let mut ss = s.split(|&b| b == b'/');
    loop {
        match (ps.next(), ss.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if segment_match(a, b) => {}
            _ => return false,
        }
    }
}

/// Matches one segment with the usual greedy `*` and one-step backtracking to the last
/// star, which takes time linear in the product of the lengths at worst (no recursion).
fn segment_match(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(&c) if c == b'?' || c == s[si] => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_stays_within_a_segment() {
        let mut fs = FileSet::new();
        fs.insert("@owasp_crs/REQUEST-901.conf", "");
        fs.insert("@owasp_crs/x/REQUEST-902.conf", "");
        fs.insert("@owasp_crs/a.data", "");
        assert_eq!(
            fs.glob("@owasp_crs/*.conf"),
            vec!["@owasp_crs/REQUEST-901.conf"]
        );
        assert_eq!(fs.glob("@owasp_crs/REQUEST-90?.conf").len(), 1);
        assert_eq!(fs.glob("@owasp_crs/*").len(), 2);
        assert!(fs.glob("@owasp_crs/*x*y*").is_empty());
    }

    #[test]
    fn many_stars_do_not_explode() {
        let mut fs = FileSet::new();
        fs.insert("a".repeat(200), "");
        let pattern = format!("{}x", "*".repeat(64));
        // With backtracking recursion this pattern would not finish (fuzz finding).
        assert!(fs.glob(&pattern).is_empty());
        assert_eq!(fs.glob(&"*".repeat(64)).len(), 1);
    }
}
