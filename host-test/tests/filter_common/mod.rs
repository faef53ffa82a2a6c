//! Shared helpers for the `filter_*` tests: where the real filter (`dist/wafer.wasm`) comes
//! from, and small accessors over [`Outcome`].
//!
//! The filter is `dist/wafer.wasm` at the workspace root (or the file named by `WAFER_WASM`);
//! the fault-injection build `dist/wafer-fault.wasm` (or `WAFER_FAULT_WASM`) likewise.
//! When it is missing, or older than a source it is built from (`filter/src/**`,
//! `filter/build.rs`, `filter/Cargo.toml`, `rules/**`, `Cargo.lock`), the first test that
//! needs it runs `make wasm` once (about 75 s) and every test of the binary shares the
//! compiled module. With `WAFER_WASM` set, the file is used as is (no staleness check).
//! Not here: the behaviours themselves (see `filter_behaviour.rs`, `filter_crs.rs`).

#![allow(dead_code)] // each test binary uses its own part of this module

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::SystemTime;

use wafer_host_test::{HostOptions, LogLevel, Outcome, Personality, Plugin, Vm};

/// Both personalities, for behaviours that apply to both.
pub const BOTH: [Personality; 2] = [Personality::Envoy, Personality::Nginx];

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn newest_mtime(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .flatten()
        .filter_map(|e| newest_mtime(&e.path()))
        .max()
}

/// Path of the filter, built with `make wasm` when missing or stale.
pub fn wasm_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| built("dist/wafer.wasm", "wasm", "WAFER_WASM"))
        .clone()
}

/// Path of the fault-injection test build (`make wasm-fault`), built when missing or stale.
pub fn fault_wasm_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| built("dist/wafer-fault.wasm", "wasm-fault", "WAFER_FAULT_WASM"))
        .clone()
}

/// `file` (workspace-relative), rebuilt with `make <target>` when missing or older than a
/// source; the environment variable `env` names a file to use as is instead.
fn built(file: &str, target: &str, env: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    let root = workspace();
    let wasm = root.join(file);
    let built = std::fs::metadata(&wasm).and_then(|m| m.modified()).ok();
    let sources = [
        "filter/src",
        "filter/build.rs",
        "filter/Cargo.toml",
        "rules",
        "Cargo.lock",
    ]
    .iter()
    .filter_map(|s| newest_mtime(&root.join(s)))
    .max();
    let stale = match (built, sources) {
        (None, _) => true,
        (Some(b), Some(s)) => s > b,
        (Some(_), None) => false,
    };
    if stale {
        eprintln!("filter tests: building {file} with `make {target}`");
        let status = Command::new("make")
            .arg(target)
            .current_dir(&root)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .status()
            .expect("run make");
        assert!(status.success(), "make {target} failed");
    }
    wasm
}

/// The compiled filter with fresh shared state (metrics) for this test.
pub fn plugin() -> Plugin {
    static PLUGIN: OnceLock<Plugin> = OnceLock::new();
    PLUGIN
        .get_or_init(|| {
            let path = wasm_path();
            Plugin::load(&path).unwrap_or_else(|e| panic!("load {}: {e}", path.display()))
        })
        .with_fresh_state()
}

/// A VM of `plugin` in personality `p` configured with `config` (panics with the filter's
/// logs when configuration fails).
pub fn start(plugin: &Plugin, p: Personality, config: &str) -> Vm {
    start_with(plugin, HostOptions::new(p), config)
}

/// [`start`] with explicit host options.
pub fn start_with(plugin: &Plugin, opts: HostOptions, config: &str) -> Vm {
    plugin
        .start(opts, config.as_bytes())
        .unwrap_or_else(|e| panic!("configure failed: {e}"))
}

/// A plugin configuration with one set `main` of these SecLang lines.
pub fn one_set(lines: &[&str]) -> String {
    config(&[("main", lines)], "main", &[], "")
}

/// JSON-escapes `s` (quotes, backslashes, control characters).
pub fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A plugin configuration: `sets` (name, lines), the default set, authority → set, and
/// extra top-level JSON members (`"block_response": {…}`, already serialised, may be empty).
pub fn config(
    sets: &[(&str, &[&str])],
    default: &str,
    per_authority: &[(&str, &str)],
    extra: &str,
) -> String {
    let sets: Vec<String> = sets
        .iter()
        .map(|(name, lines)| {
            let lines: Vec<String> = lines.iter().map(|l| json_str(l)).collect();
            format!("{}: [{}]", json_str(name), lines.join(", "))
        })
        .collect();
    let auth: Vec<String> = per_authority
        .iter()
        .map(|(a, s)| format!("{}: {}", json_str(a), json_str(s)))
        .collect();
    let mut out = format!(
        "{{\"directives_map\": {{{}}}, \"default_directives\": {}, \
         \"per_authority_directives\": {{{}}}",
        sets.join(", "),
        json_str(default),
        auth.join(", ")
    );
    if !extra.is_empty() {
        out.push_str(", ");
        out.push_str(extra);
    }
    out.push('}');
    out
}

/// Lines the filter itself logged (not the host's `host: …` lines).
pub fn filter_logs(out: &Outcome) -> Vec<String> {
    out.logs
        .iter()
        .filter(|l| !l.message.starts_with("host: "))
        .map(|l| l.message.clone())
        .collect()
}

/// Ids of the rules whose match lines (`[id "N"]`) the filter logged.
pub fn logged_rule_ids(out: &Outcome) -> Vec<u64> {
    out.logs
        .iter()
        .flat_map(|l| wafer::audit::rule_ids(&l.message))
        .collect()
}

/// The one log line containing `needle` at `level`, if any.
pub fn log_at(out: &Outcome, level: LogLevel, needle: &str) -> Option<String> {
    out.logs
        .iter()
        .find(|l| l.level == level && l.message.contains(needle))
        .map(|l| l.message.clone())
}

/// Value of header `name` (case-insensitive) in the client's response.
pub fn client_header(out: &Outcome, name: &str) -> Option<String> {
    out.client
        .as_ref()?
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// The client's response body (empty when none).
pub fn client_body(out: &Outcome) -> Vec<u8> {
    out.client
        .as_ref()
        .map(|c| c.body.clone())
        .unwrap_or_default()
}
