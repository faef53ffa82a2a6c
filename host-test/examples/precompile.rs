//! Compiles a `.wasm` module with the engine configuration host-test runs it with and
//! writes wasmtime's compiled artifact (an ELF file whose functions are named
//! `wasm[0]::function[N]::<name>`), so `objdump -d` shows the machine code the filter
//! runs as under host-test. Used by `bench/wasm-hot.sh`.
//!
//! ```sh
//! cargo run --release -p wafer-host-test --example precompile -- in.wasm out.cwasm
//! ```

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: precompile <in.wasm> <out.cwasm>");
        return ExitCode::from(2);
    };
    let result = std::fs::read(input)
        .map_err(|e| format!("reading {input}: {e}"))
        .and_then(|bytes| {
            let engine = wasmtime::Engine::new(&wafer_host_test::engine_config())
                .map_err(|e| e.to_string())?;
            engine
                .precompile_module(&bytes)
                .map_err(|e| format!("compiling {input}: {e}"))
        })
        .and_then(|code| {
            std::fs::write(output, code).map_err(|e| format!("writing {output}: {e}"))
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("precompile: {e}");
            ExitCode::FAILURE
        }
    }
}
