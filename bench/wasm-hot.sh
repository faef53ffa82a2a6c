#!/usr/bin/env bash
# The machine code one wasm function of the filter runs as under host-test (wasmtime,
# Cranelift), each instruction with how often it ran per request, counted by callgrind:
# where `bench/wasm-instructions.sh` says which function costs, this says why (register
# spills, reloads of the heap base, code duplicated by inlining). Takes ~2.5 minutes.
#
#   WAFER_WASM=/abs/named.wasm bench/wasm-hot.sh get_5_args 10scan_group28 [PL] [MIN]
#
# The function is the first whose name (mangled, as in the module's name section) contains
# the second argument; instructions that ran fewer than MIN times per request (default 20)
# are left out. Counts are one run of 200 requests divided by 200, the first request's
# one-time work included (bench/wasm-instructions.sh takes the difference of two runs). WAFER_WASM (required) is the module, built with its name section (see
# bench/wasm-instructions.sh for how; wasm-opt inlines a little differently with `-g`, so
# check a change on dist/wafer.wasm's totals too).
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?request name: get_5_args, post_form_1k, post_json_20k, sqli, xss, rce}"
func="${2:?part of the mangled function name, e.g. 10scan_group28}"
pl="${3:-1}"
min="${4:-20}"
wasm="$(realpath "${WAFER_WASM:?WAFER_WASM: a module built with its name section}")"
requests=200
bin=$(cargo bench -p wafer-host-test --bench wasm --no-run 2>&1 |
  grep -o 'target/release/deps/wasm-[0-9a-f]*' | head -1)
[ -n "$bin" ] || { echo "could not build the host-test bench" >&2; exit 1; }
cargo build --release -q -p wafer-host-test --example precompile
out=$(mktemp -d)
trap 'rm -f "/tmp/perf-$(cat "$out/pid" 2>/dev/null).map"; rm -rf "$out"' EXIT
target/release/examples/precompile "$wasm" "$out/module.cwasm"
WAFER_WASM="$wasm" WAFER_WASM_PERFMAP=1 BENCH_PROFILE="$name" BENCH_PROFILE_PL="$pl" \
  BENCH_PROFILE_REQUESTS=$requests valgrind --tool=callgrind --dump-instr=yes \
  --toggle-collect='*Vm*http' --callgrind-out-file="$out/cg" "$bin" >"$out/log" 2>&1 &
echo $! >"$out/pid"
wait "$(cat "$out/pid")"
python3 - "$out" "$func" "$requests" "$min" "$(cat "$out/pid")" <<'PY'
import collections, re, subprocess, sys
sys.path.insert(0, "bench")
from callgrind_costs import self_costs
out, func, requests, least, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]

# Where the function is at run time (wasmtime's perf map) and in the compiled artifact
# (the same code, named by function index there).
runtime = None
for line in open(f"/tmp/perf-{pid}.map"):
    addr, size, fn = line.rstrip("\n").split(" ", 2)
    if func in fn:
        runtime = (int(addr, 16), int(size, 16), fn)
        break
if runtime is None:
    sys.exit(f"no function named like {func!r} ran (is the module built with its names?)")
start, size, full = runtime
symbols = subprocess.run(["nm", "-S", f"{out}/module.cwasm"], capture_output=True, text=True,
                         check=True).stdout
static = None
for line in symbols.splitlines():
    parts = line.split(" ", 3)
    if len(parts) == 4 and int(parts[1], 16) == size and full[:60] in parts[3]:
        static = int(parts[0], 16)
        break
if static is None:
    sys.exit(f"{full} not found in the compiled module")

# Instructions run per address, inside the function.
cost = collections.Counter()
for _, addr, n in self_costs(f"{out}/cg"):
    if start <= addr < start + size:
        cost[addr - start] += n
asm = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--start-address={static}",
                      f"--stop-address={static + size}", f"{out}/module.cwasm"],
                     capture_output=True, text=True, check=True).stdout
print(f"{full}: {sum(cost.values()) / requests:,.0f} instructions per request")
for line in asm.splitlines():
    m = re.match(r"\s*([0-9a-f]+):\s*(.*)", line)
    if not m:
        continue
    off = int(m.group(1), 16) - static
    n = cost.get(off, 0) / requests
    if n >= least:
        text = re.sub(r"<wasm\[0\]::function\[\d+\]::([^>+]{0,50})[^>+]*(\+0x[0-9a-f]+)?>",
                      lambda g: f"<{g.group(1)}{g.group(2) or ''}>", m.group(2))
        print(f"{off:6x} {n:8.0f}  {text}")
PY
