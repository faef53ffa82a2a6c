//! `wafer-backend [--port N] [--parent-pid PID]`: runs the demo/test backend on
//! `127.0.0.1:N` (default 8081; 0 picks a free port) and prints
//! `wafer-backend listening on 127.0.0.1:PORT` on stdout once it accepts connections.
//!
//! Lifetime: SIGTERM and SIGINT end the process (their default action; no handler is
//! installed, so nothing can keep it alive). With `--parent-pid`, a watchdog thread also
//! exits when that process is gone (or a zombie), so a test runner that is killed does not
//! leave a backend behind.
//!
//! Not here: HTTP handling (`lib.rs`).

use std::io::Write;
use std::net::TcpListener;
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

const USAGE: &str = "usage: wafer-backend [--port N] [--parent-pid PID]";

/// Whether process `pid` is alive and not a zombie (Linux `/proc`).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the field after the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Parses an option's value.
fn parse_arg<T: std::str::FromStr>(v: Option<String>) -> Option<T> {
    v.and_then(|s| s.parse().ok())
}

fn main() -> ExitCode {
    let mut port: u16 = 8081;
    let mut parent: Option<u32> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => match parse_arg(args.next()) {
                Some(p) => port = p,
                None => {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--parent-pid" => match parse_arg(args.next()) {
                Some(p) => parent = Some(p),
                None => {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }

    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("wafer-backend: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bound = listener.local_addr().map(|a| a.port()).unwrap_or(port);

    if let Some(pid) = parent {
        thread::spawn(move || loop {
            if !alive(pid) {
                std::process::exit(0);
            }
            thread::sleep(Duration::from_millis(250));
        });
    }

    let mut out = std::io::stdout();
    let _ = writeln!(out, "wafer-backend listening on 127.0.0.1:{bound}");
    let _ = out.flush();

    match wafer_backend::serve(listener) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wafer-backend: {e}");
            ExitCode::FAILURE
        }
    }
}
