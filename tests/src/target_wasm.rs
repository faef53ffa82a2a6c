//! Targets `wasm` and `wasm-nginx`: the CRS suite through the real filter
//! (`dist/wafer.wasm`) under `wafer-host-test`, with Envoy's or Nginx's hook order.
//!
//! The filter is configured with the same rules target `engine` compiles
//! ([`crs::load_config`]): the same top-level text, passed as one `directives_map` set, with
//! `Include crs-setup.conf` replaced by the lines of `crs-setup.conf.example` (the filter has
//! no filesystem) and `Include @owasp_crs/*.conf` resolved against the CRS embedded in the
//! `.wasm` (built from the same `CRS_DIR`). Each stage goes through the same strict HTTP front
//! end as target `engine` ([`parse_request`]), is handed to the host as a request, and the
//! upstream answers as albedo would ([`crs::albedo_response`]). Match lines come back from the
//! filter's log (one line per matched rule, `[id "N"]`); audit records (`wafer-audit: `) are
//! left out, as go-ftw reads the error log only.
//!
//! Limits of the host's request model, so a test can differ from target `engine`: header
//! values, names and the request target are strings (non-UTF-8 bytes become U+FFFD), the
//! protocol is always `HTTP/1.1`, and the connection addresses are fixed per VM
//! (client `127.0.0.1:40000`, server `127.0.0.1:80`, as target `engine` uses by default).
//! Not here: judging results ([`crs::check`]) or the go-ftw request builder.

use std::path::{Path, PathBuf};
use std::time::Instant;

use wafer::Connection;
use wafer_host_test::{HostOptions, Personality, Plugin, Request, Response, Vm};

use crate::crs::{self, Backend, StageResult};
use crate::http::{parse_request, Rejection};

/// Where the filter is: `WAFER_WASM`, else `dist/wafer.wasm` at the repository root.
pub fn wasm_path() -> PathBuf {
    if let Some(p) = std::env::var_os("WAFER_WASM") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("dist")
        .join("wafer.wasm")
}

/// The personality a target name asks for (`wasm` → Envoy, `wasm-nginx` → Nginx).
pub fn personality(target: &str) -> Option<Personality> {
    match target {
        "wasm" => Some(Personality::Envoy),
        "wasm-nginx" => Some(Personality::Nginx),
        _ => None,
    }
}

/// The plugin configuration (JSON) for the CRS tests: target `engine`'s text as one set.
pub fn crs_plugin_config(crs_dir: &Path) -> Result<String, String> {
    let conf = crs::load_config(crs_dir)?;
    let setup_path = crs_dir.join("crs-setup.conf.example");
    let setup = std::fs::read_to_string(&setup_path)
        .map_err(|e| format!("{}: {e}", setup_path.display()))?;
    let mut lines: Vec<String> = Vec::new();
    let mut inlined = false;
    for line in conf.text.lines() {
        if line.trim() == "Include crs-setup.conf" {
            lines.extend(setup.lines().map(str::to_string));
            inlined = true;
        } else {
            lines.push(line.to_string());
        }
    }
    if !inlined {
        return Err("the CRS configuration no longer includes crs-setup.conf".into());
    }
    let json = serde_json::json!({
        "directives_map": { "crs": lines },
        "default_directives": "crs",
    });
    Ok(json.to_string())
}

/// A started filter and the personality it runs in.
pub struct WasmBackend {
    name: String,
    vm: Vm,
}

impl WasmBackend {
    /// Loads the filter at `wasm`, starts one VM in `personality` and configures it for the
    /// CRS tests. Returns the backend and notes (load and configure times, memory).
    pub fn new(
        wasm: &Path,
        crs_dir: &Path,
        target: &str,
        personality: Personality,
    ) -> Result<(Self, Vec<String>), String> {
        let config = crs_plugin_config(crs_dir)?;
        let t0 = Instant::now();
        let plugin = Plugin::load(wasm).map_err(|e| {
            format!(
                "{}: {e} (build it with `make wasm`, or set WAFER_WASM)",
                wasm.display()
            )
        })?;
        let compiled_ms = t0.elapsed().as_secs_f64() * 1000.0;
        let mut opts = HostOptions::new(personality);
        opts.source_ip = "127.0.0.1".into();
        opts.source_port = 40000;
        opts.destination_ip = "127.0.0.1".into();
        opts.destination_port = 80;
        let t1 = Instant::now();
        let mut vm = plugin
            .start(opts, config.as_bytes())
            .map_err(|e| format!("the filter rejected the CRS configuration: {e}"))?;
        let configure_ms = t1.elapsed().as_secs_f64() * 1000.0;
        let memory = vm.memory_size();
        let notes = vec![format!(
            "crs/{target}: {} ({personality:?}), module compiled in {compiled_ms:.0} ms, \
             configured in {configure_ms:.0} ms, linear memory {:.1} MiB",
            wasm.display(),
            memory as f64 / (1024.0 * 1024.0)
        )];
        Ok((
            WasmBackend {
                name: target.to_string(),
                vm,
            },
            notes,
        ))
    }

    /// Linear memory of the VM now, in bytes.
    pub fn memory_size(&mut self) -> usize {
        self.vm.memory_size()
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn response_bytes(status: u32, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n").into_bytes();
    for (n, v) in headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

impl Backend for WasmBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&mut self, _unique_id: &str, raw: &[u8], _conn: &Connection) -> StageResult {
        let req = match parse_request(raw) {
            Ok(r) => r,
            Err(Rejection::Status(status, why)) => {
                return StageResult {
                    status,
                    response: response_bytes(u32::from(status), &[], b""),
                    note: Some(format!("the proxy rejected the request: {why}")),
                    ..StageResult::default()
                }
            }
            Err(Rejection::ConnectionError(why)) => {
                return StageResult {
                    error: Some(why),
                    ..StageResult::default()
                };
            }
        };
        let upstream = crs::albedo_response(&req.method, &req.target, &req.body);
        let request = Request {
            method: req.method.clone(),
            path: lossy(&req.target),
            scheme: "http".into(),
            headers: req
                .headers
                .iter()
                .map(|(k, v)| (lossy(k), lossy(v)))
                .collect(),
            body: if req.body.is_empty() {
                Vec::new()
            } else {
                vec![req.body.clone()]
            },
            trailers: Vec::new(),
        };
        let response = Response {
            status: upstream.status,
            headers: upstream
                .headers
                .iter()
                .map(|(k, v)| (lossy(k), lossy(v)))
                .collect(),
            body: if upstream.body.is_empty() {
                Vec::new()
            } else {
                vec![upstream.body.clone()]
            },
            trailers: Vec::new(),
        };
        let out = self.vm.http(&request, &response);
        let log: Vec<String> = out
            .logs
            .iter()
            .filter(|l| !l.message.starts_with("host: ") && !l.message.starts_with("wafer-audit: "))
            .map(|l| l.message.clone())
            .collect();
        let mut notes = Vec::new();
        if let Some(t) = &out.trap {
            notes.push(format!("the filter trapped: {t}"));
        }
        if out.request_stalled || out.response_stalled {
            notes.push("the stream stalled".to_string());
        }
        let note = (!notes.is_empty()).then(|| notes.join("; "));
        match &out.client {
            Some(c) if c.complete || !out.reset => StageResult {
                error: None,
                status: u16::try_from(c.status).unwrap_or(0),
                response: response_bytes(c.status, &c.headers, &c.body),
                log,
                note,
            },
            _ => StageResult {
                error: Some(if out.reset {
                    "the stream was reset".into()
                } else {
                    "no response (the stream stalled)".into()
                }),
                log,
                note,
                ..StageResult::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_map_to_personalities() {
        assert_eq!(personality("wasm"), Some(Personality::Envoy));
        assert_eq!(personality("wasm-nginx"), Some(Personality::Nginx));
        assert_eq!(personality("engine"), None);
    }

    #[test]
    fn crs_config_inlines_the_setup_and_keeps_the_rest() {
        let dir = crate::paths::crs_dir();
        if !dir.is_dir() {
            return; // no CRS checkout here; the runner reports that itself
        }
        let json = crs_plugin_config(&dir).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let lines: Vec<&str> = v["directives_map"]["crs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        assert!(!lines.contains(&"Include crs-setup.conf"));
        assert!(lines.iter().any(|l| l.starts_with("SecAction \"id:900005")));
        assert!(lines.contains(&"Include @owasp_crs/REQUEST-942-APPLICATION-ATTACK-SQLI.conf"));
        assert!(
            lines.iter().any(|l| l.contains("id:900990")),
            "setup inlined"
        );
        assert_eq!(v["default_directives"], "crs");
    }
}
