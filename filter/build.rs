//! Embeds the rule bundle (`@recommended-conf`, `@crs-setup-conf`, `@owasp_crs/*`) into the
//! crate, deflate-compressed. See `src/bundle.rs` for the format and `../rules/README.md` for
//! where CRS comes from.
//!
//! Inputs: `../rules/recommended.conf`, `../rules/crs-setup.conf`, and the CRS release in
//! `CRS_DIR` (default `../../shared/crs/v4.28.0` relative to this crate, or
//! `shared/crs/v4.28.0` beside a further ancestor directory): its `rules/*.conf`
//! and `rules/*.data` (not the `*.example` files). Output: `$OUT_DIR/bundle.deflate` and
//! `$OUT_DIR/bundle_gen.rs`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// Container magic; `src/bundle.rs` checks it.
const MAGIC: &[u8] = b"WAFERB1\n";

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-env-changed=CRS_DIR");

    // Default: `shared/crs/v4.28.0` beside the repository (`../../shared/…` from this
    // crate), or beside any ancestor directory, so that git worktrees nested deeper
    // (`/work/wt/NAME/filter`) find the same copy.
    let crs_dir = match env::var_os("CRS_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => manifest
            .ancestors()
            .skip(1)
            .map(|a| a.join("shared/crs/v4.28.0"))
            .find(|d| d.join("rules").is_dir())
            .unwrap_or_else(|| manifest.join("../../shared/crs/v4.28.0")),
    };
    let crs_rules = crs_dir.join("rules");
    if !crs_rules.join("REQUEST-901-INITIALIZATION.conf").is_file() {
        fail(&format!(
            "OWASP CRS not found: {} has no rules/REQUEST-901-INITIALIZATION.conf. \
             Set CRS_DIR to an extracted CRS v4.28.0 release, or fetch it with \
             rules/fetch-crs.sh (see rules/README.md).",
            crs_dir.display()
        ));
    }
    println!("cargo:rerun-if-changed={}", crs_rules.display());

    let ours = manifest.join("../rules");
    let mut files: Vec<(String, PathBuf)> = vec![
        ("@recommended-conf".into(), ours.join("recommended.conf")),
        ("@crs-setup-conf".into(), ours.join("crs-setup.conf")),
    ];
    let mut crs: Vec<(String, PathBuf)> = read_dir_sorted(&crs_rules)
        .into_iter()
        .filter(|(name, _)| name.ends_with(".conf") || name.ends_with(".data"))
        .map(|(name, path)| (format!("@owasp_crs/{name}"), path))
        .collect();
    if crs.iter().filter(|(n, _)| n.ends_with(".conf")).count() == 0 {
        fail(&format!("no *.conf files in {}", crs_rules.display()));
    }
    files.append(&mut crs);

    let mut raw = Vec::with_capacity(1 << 20);
    raw.extend_from_slice(MAGIC);
    for (name, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let content = fs::read(path)
            .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", path.display())));
        push_len(&mut raw, name.len());
        raw.extend_from_slice(name.as_bytes());
        push_len(&mut raw, content.len());
        raw.extend_from_slice(&content);
    }
    let deflated = miniz_oxide::deflate::compress_to_vec(&raw, 10);
    fs::write(out.join("bundle.deflate"), &deflated)
        .unwrap_or_else(|e| fail(&format!("cannot write bundle: {e}")));
    let generated = format!(
        "/// Size of the bundle container once inflated.\n\
         pub(crate) const RAW_LEN: usize = {};\n\
         /// Number of files in the bundle.\n\
         pub(crate) const FILE_COUNT: usize = {};\n\
         /// The CRS directory the bundle was built from (for tests).\n\
         #[allow(dead_code)]\n\
         pub(crate) const CRS_DIR: &str = {:?};\n\
         /// The deflated container.\n\
         pub(crate) static DEFLATED: &[u8] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/bundle.deflate\"));\n",
        raw.len(),
        files.len(),
        crs_dir.display().to_string()
    );
    fs::write(out.join("bundle_gen.rs"), generated)
        .unwrap_or_else(|e| fail(&format!("cannot write bundle_gen.rs: {e}")));
}

/// Entries of `dir` as (file name, path), sorted by name; fails the build on I/O errors.
fn read_dir_sorted(dir: &Path) -> Vec<(String, PathBuf)> {
    let rd = fs::read_dir(dir).unwrap_or_else(|e| fail(&format!("{}: {e}", dir.display())));
    let mut v: Vec<(String, PathBuf)> = rd
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .collect();
    v.sort();
    v
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    let len = u32::try_from(len).unwrap_or_else(|_| fail("bundle file over 4 GiB"));
    out.extend_from_slice(&len.to_le_bytes());
}

/// Stops the build with one clear message (no backtrace).
fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1);
}
