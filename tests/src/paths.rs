//! Where the test data lives: `shared/` beside the repository root, overridable by environment.
//!
//! `WAFER_SHARED` names the shared directory, `CRS_DIR` the CRS release directory. The default
//! is resolved from this crate's manifest directory (`<repo>/tests/../../shared`), so any clone
//! whose sibling is `shared/` works without configuration.

use std::path::PathBuf;

/// The `shared/` directory holding test data: `WAFER_SHARED`, else the `shared/` beside the
/// repository root, else (for git worktrees kept deeper) the nearest ancestor's `shared/`.
pub fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WAFER_SHARED") {
        return PathBuf::from(dir);
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let default = manifest.join("..").join("..").join("shared");
    if default.is_dir() {
        return default;
    }
    manifest
        .ancestors()
        .map(|a| a.join("shared"))
        .find(|s| s.join("modsecurity-tests").is_dir())
        .unwrap_or(default)
}

/// `shared/modsecurity-tests`.
pub fn modsecurity_tests_dir() -> PathBuf {
    shared_dir().join("modsecurity-tests")
}

/// The CRS release directory (`CRS_DIR`, default `shared/crs/v4.28.0`).
pub fn crs_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CRS_DIR") {
        return PathBuf::from(dir);
    }
    shared_dir().join("crs").join("v4.28.0")
}

/// The directory of this crate's skip files (`tests/skips`).
pub fn skips_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("skips")
}

/// The directory of go-ftw override files (`tests/overrides`).
pub fn overrides_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("overrides")
}
