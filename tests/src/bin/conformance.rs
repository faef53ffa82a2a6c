//! `conformance`: runs Wafer's conformance suites and prints one summary line per suite and
//! target: `<suite>/<target>: N passed, N failed, N skipped`. Exits 1 on any failure, 2 on a
//! usage or setup error.
//!
//! ```text
//! conformance [--suite secrules|modsec-regression|crs|all] [--target engine|wasm|wasm-nginx|envoy]
//!             [--filter SUBSTRING] [--verbose] [--list-skips]
//! ```
//!
//! Targets: `engine` (in-process, every suite); `wasm` and `wasm-nginx` (`dist/wafer.wasm`
//! under the proxy-wasm host as Envoy or Nginx; suite `crs` only, see
//! `wafer_tests::target_wasm`); `envoy` (real Envoy over HTTP; suite `crs` only, see
//! `wafer_tests::target_envoy`).

use std::process::ExitCode;

use wafer_tests::report::SuiteReport;
use wafer_tests::skips::SkipList;
use wafer_tests::{crs, paths, regression, secrules, target_envoy, target_wasm};

struct Args {
    suites: Vec<String>,
    target: String,
    filter: Option<String>,
    verbose: bool,
    list_skips: bool,
}

const SUITES: &[&str] = &["secrules", "modsec-regression", "crs"];
const USAGE: &str =
    "usage: conformance [--suite secrules|modsec-regression|crs|all] [--target engine|wasm|wasm-nginx|envoy] \
[--filter SUBSTRING] [--verbose] [--list-skips]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        suites: Vec::new(),
        target: "engine".into(),
        filter: None,
        verbose: false,
        list_skips: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match key.as_str() {
            "--suite" => {
                let v = value("--suite")?;
                if v == "all" {
                    args.suites = SUITES.iter().map(|s| s.to_string()).collect();
                } else if SUITES.contains(&v.as_str()) {
                    args.suites.push(v);
                } else {
                    return Err(format!("unknown suite {v:?}"));
                }
            }
            "--target" => args.target = value("--target")?,
            "--filter" => args.filter = Some(value("--filter")?),
            "--verbose" | "-v" => args.verbose = true,
            "--list-skips" => args.list_skips = true,
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if args.suites.is_empty() {
        args.suites = SUITES.iter().map(|s| s.to_string()).collect();
    }
    Ok(args)
}

fn run_suite(suite: &str, args: &Args) -> Result<SuiteReport, String> {
    let filter = args.filter.as_deref();
    if let Some(personality) = target_wasm::personality(&args.target) {
        if suite != "crs" {
            return Err(format!(
                "target {:?} runs suite crs only (this suite calls the engine directly)",
                args.target
            ));
        }
        let dir = paths::crs_dir();
        let wasm = target_wasm::wasm_path();
        let (mut backend, notes) =
            target_wasm::WasmBackend::new(&wasm, &dir, &args.target, personality)?;
        let mut report = crs::run(&dir, &mut backend, filter, args.verbose)?;
        report.notes = notes;
        let own = paths::skips_dir().join(format!("crs-{}.txt", args.target));
        SkipList::load(&own)?.apply(&mut report, filter.is_none());
        let skips = SkipList::load(&paths::skips_dir().join("crs.txt"))?;
        skips.apply(&mut report, filter.is_none());
        return Ok(report);
    }
    if args.target != "engine" && args.target != "envoy" {
        return Err(format!(
            "unknown target {:?} (engine, wasm, wasm-nginx, envoy)",
            args.target
        ));
    }
    if args.target == "envoy" && suite != "crs" {
        return Err("target `envoy` runs only `--suite crs`".into());
    }
    let ms = paths::modsecurity_tests_dir();
    let mut report = match suite {
        "secrules" => {
            let files = secrules::DiskFiles::new(&ms);
            secrules::run(&ms.join("secrules-language-tests"), &files, filter)?
        }
        "modsec-regression" => {
            let files = regression::data_files(&ms.join("data"))?;
            regression::run(&ms.join("regression"), &files, filter, args.verbose)?
        }
        "crs" if args.target == "envoy" => {
            target_envoy::run_crs(&paths::crs_dir(), filter, args.verbose)?
        }
        "crs" => {
            let dir = paths::crs_dir();
            let (rules, notes) = crs::compile(&dir)?;
            let mut backend = crs::EngineBackend::new(rules);
            let mut r = crs::run(&dir, &mut backend, filter, args.verbose)?;
            r.notes = notes;
            r
        }
        other => return Err(format!("unknown suite {other:?}")),
    };
    // A target other than `engine` may add its own skips (`<suite>-<target>.txt`), for
    // tests its host makes impossible; applied first, then the suite's.
    if args.target != "engine" {
        let own = format!("{suite}-{}.txt", args.target);
        SkipList::load(&paths::skips_dir().join(own))?.apply(&mut report, filter.is_none());
    }
    let skips = SkipList::load(&paths::skips_dir().join(format!("{suite}.txt")))?;
    skips.apply(&mut report, filter.is_none());
    Ok(report)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("conformance: {e}");
            }
            eprintln!("{USAGE}");
            return if e.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let mut reports = Vec::new();
    let mut setup_error = false;
    for suite in &args.suites {
        match run_suite(suite, &args) {
            Ok(r) => {
                for note in &r.notes {
                    println!("{note}");
                }
                if args.verbose {
                    print!("{}", r.failure_details());
                }
                if args.list_skips {
                    print!("{}", r.skip_list());
                }
                reports.push(r);
            }
            Err(e) => {
                eprintln!("conformance: {suite}: {e}");
                setup_error = true;
            }
        }
    }
    for r in &reports {
        println!("{}", r.summary_line());
    }
    if setup_error {
        ExitCode::from(2)
    } else if reports.iter().any(SuiteReport::failed) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
