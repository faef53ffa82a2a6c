//! The embedded rule bundle: the files `Include` can name without a filesystem.
//!
//! | path                  | content                                                        |
//! |-----------------------|----------------------------------------------------------------|
//! | `@recommended-conf`   | `rules/recommended.conf`: engine settings (blocking, limits)   |
//! | `@crs-setup-conf`     | `rules/crs-setup.conf`: CRS setup for a proxy                  |
//! | `@owasp_crs/*.conf`   | OWASP CRS 4.28.0 rule files (`rules/*.conf`, no `.example`)    |
//! | `@owasp_crs/*.data`   | CRS data files, for `@pmFromFile` and friends                  |
//!
//! `build.rs` packs them into one container and deflates it (the CRS text is ~0.9 MB, the
//! deflated container ~0.18 MB, which keeps the `.wasm` small); [`file_set`] inflates it with
//! `miniz_oxide` (pure Rust) once per configuration. This module is not a general archive
//! reader: the container format is private to `build.rs` and this file.
//!
//! Container (before deflate): the magic `WAFERB1\n`, then per file a little-endian `u32`
//! name length, the name, a `u32` content length, the content.

use std::fmt;

use crate::files::FileSet;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/bundle_gen.rs"));
}

/// The OWASP CRS release embedded as `@owasp_crs/`.
pub const CRS_VERSION: &str = "4.28.0";

const MAGIC: &[u8] = b"WAFERB1\n";

/// The embedded bundle could not be read (a build problem, never an input problem).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleError(String);

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "embedded rule bundle is corrupt: {}", self.0)
    }
}

impl std::error::Error for BundleError {}

/// Size of the embedded bundle: (deflated bytes in the binary, inflated bytes).
pub fn embedded_size() -> (usize, usize) {
    (generated::DEFLATED.len(), generated::RAW_LEN)
}

/// Inflates the bundle into a new [`FileSet`].
pub fn file_set() -> Result<FileSet, BundleError> {
    let mut files = FileSet::new();
    add_to(&mut files)?;
    Ok(files)
}

/// Inflates the bundle and adds its files to `files` (replacing files of the same path).
pub fn add_to(files: &mut FileSet) -> Result<(), BundleError> {
    let raw =
        miniz_oxide::inflate::decompress_to_vec_with_limit(generated::DEFLATED, generated::RAW_LEN)
            .map_err(|e| BundleError(format!("inflate: {e:?}")))?;
    let entries = parse(&raw)?;
    if entries.len() != generated::FILE_COUNT {
        return Err(BundleError(format!(
            "{} files, expected {}",
            entries.len(),
            generated::FILE_COUNT
        )));
    }
    for (name, content) in entries {
        files.insert(name, content);
    }
    Ok(())
}

/// Splits the container into (path, content) pairs; every read is bounds-checked.
fn parse(raw: &[u8]) -> Result<Vec<(&str, &[u8])>, BundleError> {
    let mut rest = raw
        .strip_prefix(MAGIC)
        .ok_or_else(|| BundleError("bad magic".into()))?;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (name, r) = take_chunk(rest)?;
        let (content, r) = take_chunk(r)?;
        let name = std::str::from_utf8(name).map_err(|_| BundleError("file name".into()))?;
        out.push((name, content));
        rest = r;
    }
    Ok(out)
}

/// Reads a `u32` length and that many bytes.
fn take_chunk(buf: &[u8]) -> Result<(&[u8], &[u8]), BundleError> {
    let truncated = || BundleError("truncated".into());
    let (len, rest) = buf.split_first_chunk::<4>().ok_or_else(truncated)?;
    let len = usize::try_from(u32::from_le_bytes(*len)).map_err(|_| truncated())?;
    if rest.len() < len {
        return Err(truncated());
    }
    Ok(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_has_our_confs_and_all_crs_rule_and_data_files() {
        let fs = file_set().unwrap();
        let confs = fs.glob("@owasp_crs/*.conf");
        assert_eq!(confs.len(), 27, "{confs:?}");
        assert_eq!(
            confs.first(),
            Some(&"@owasp_crs/REQUEST-901-INITIALIZATION.conf")
        );
        assert_eq!(
            confs.last(),
            Some(&"@owasp_crs/RESPONSE-980-CORRELATION.conf")
        );
        assert_eq!(fs.glob("@owasp_crs/*.data").len(), 21);
        assert!(fs.glob("@owasp_crs/*.example").is_empty());
        let sqli = fs
            .get("@owasp_crs/REQUEST-942-APPLICATION-ATTACK-SQLI.conf")
            .unwrap();
        assert!(sqli.windows(10).any(|w| w == b"id:942100,"));
        assert!(fs
            .get("@owasp_crs/sql-errors.data")
            .is_some_and(|d| !d.is_empty()));
        let rec = fs.get("@recommended-conf").unwrap();
        assert!(rec.starts_with(b"# Wafer's @recommended-conf"));
        let setup = std::str::from_utf8(fs.get("@crs-setup-conf").unwrap()).unwrap();
        assert!(setup.contains("setvar:tx.crs_setup_version=4280"));
    }

    #[test]
    fn bundle_matches_the_crs_release_on_disk_byte_for_byte() {
        let fs = file_set().unwrap();
        for name in [
            "REQUEST-920-PROTOCOL-ENFORCEMENT.conf",
            "restricted-files.data",
        ] {
            let disk = std::fs::read(format!("{}/rules/{name}", generated::CRS_DIR)).unwrap();
            let embedded = fs.get(&format!("@owasp_crs/{name}")).unwrap();
            assert!(embedded == disk.as_slice(), "{name} differs");
        }
    }

    #[test]
    fn bundle_is_compressed() {
        let (deflated, raw) = embedded_size();
        assert!(raw > 800_000, "{raw}");
        assert!(deflated * 3 < raw, "{deflated} vs {raw}");
    }

    #[test]
    fn corrupt_containers_are_errors_not_panics() {
        assert!(parse(b"nope").is_err());
        assert!(parse(b"WAFERB1\n\x05\x00\x00\x00ab").is_err());
        assert!(parse(b"WAFERB1\n\x01\x00\x00\x00a\xff\xff\xff\xff").is_err());
        assert_eq!(
            parse(b"WAFERB1\n\x01\x00\x00\x00a\x02\x00\x00\x00xy").unwrap(),
            vec![("a", &b"xy"[..])]
        );
    }
}
