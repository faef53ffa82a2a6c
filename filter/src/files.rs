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

/// Shell-style glob match where `*` and `?` do not cross `/`.
fn glob_match(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob_match(&p[1..], s) || (!s.is_empty() && s[0] != b'/' && glob_match(p, &s[1..]))
        }
        (Some(b'?'), Some(c)) if *c != b'/' => glob_match(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob_match(&p[1..], &s[1..]),
        _ => false,
    }
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
        assert_eq!(fs.glob("@owasp_crs/*.conf"), vec!["@owasp_crs/REQUEST-901.conf"]);
        assert_eq!(fs.glob("@owasp_crs/REQUEST-90?.conf").len(), 1);
    }
}
