#!/usr/bin/env bash
# Instructions per request of the wasm module under host-test (wasmtime, Envoy personality),
# counted by callgrind and split by the wasm function that ran them: the deterministic
# counterpart of host-test's wasm ÷ native ratio, as bench/instructions.sh is of the native
# times. Two runs of `host-test/benches/wasm.rs` in profile mode (one request kind, a fixed
# number of requests, wasmtime writing /tmp/perf-<pid>.map), their difference divided by
# the difference in requests, so compiling the module and configuring CRS are not counted.
# Takes ~3 minutes (wasmtime compiles the module under valgrind, both runs at once).
#
#   bench/wasm-instructions.sh get_5_args [PL] [TOP]   # also post_form_1k, post_json_20k, sqli…
#   WAFER_WASM=/abs/path/other.wasm bench/wasm-instructions.sh get_5_args
#   bench/wasm-instructions.sh get_5_args 0   # PL 0: the floor (engine on, no rules)
#
# The module defaults to dist/wafer.wasm, whose functions are unnamed (stripped); for names,
# build one with its name section:
#   CARGO_PROFILE_WASM_STRIP=false cargo build -p wafer --target wasm32-wasip1 --profile wasm
#   wasm-opt -O3 -g <make's WASM_OPT_FEATURES> target/wasm32-wasip1/wasm/wafer.wasm -o /tmp/named.wasm
# Compare the "wasm" line with `bench/instructions.sh <request>` (the engine natively).
# Compare totals between builds on modules built as `make wasm` builds them: `-g` changes
# what wasm-opt inlines (the named GET ran ~1 % more instructions than dist/wafer.wasm).
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?request name: get_5_args, post_form_1k, post_json_20k, sqli, xss, rce}"
pl="${2:-1}"
top="${3:-25}"
wasm="$(realpath "${WAFER_WASM:-dist/wafer.wasm}")"
bin=$(cargo bench -p wafer-host-test --bench wasm --no-run 2>&1 |
  grep -o 'target/release/deps/wasm-[0-9a-f]*' | head -1)
[ -n "$bin" ] || { echo "could not build the host-test bench" >&2; exit 1; }
out=$(mktemp -d)
# wasmtime leaves its perf maps (/tmp/perf-<pid>.map) behind; they go with the rest.
trap 'for p in "$out"/pid.*; do [ -f "$p" ] && rm -f "/tmp/perf-$(cat "$p").map"; done; rm -rf "$out"' EXIT
for n in 100 300; do
  WAFER_WASM="$wasm" WAFER_WASM_PERFMAP=1 BENCH_PROFILE="$name" BENCH_PROFILE_PL="$pl" \
    BENCH_PROFILE_REQUESTS=$n valgrind --tool=callgrind --dump-instr=yes \
    --toggle-collect='*Vm*http' --callgrind-out-file="$out/cg.$n" "$bin" >"$out/log.$n" 2>&1 &
  echo $! >"$out/pid.$n"
done
wait
python3 - "$out" "$name" "$pl" "$top" <<'PY'
import bisect, collections, re, sys
sys.path.insert(0, "bench")
from callgrind_costs import self_costs
out, name, pl, top = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def demangle(s):
    """Legacy Rust symbols (`_ZN…E`) as paths, without the hash; others unchanged."""
    m = re.fullmatch(r"_ZN(.*)E", s)
    if not m:
        return s
    rest, parts = m.group(1), []
    while rest and rest[0].isdigit():
        n = int(re.match(r"\d+", rest).group())
        k = len(str(n))
        part = rest[k:k + n]
        parts.append(part[1:] if part.startswith("_$") else part)
        rest = rest[k + n:]
    if parts and re.fullmatch(r"h[0-9a-f]{16}", parts[-1]):
        parts.pop()
    p = "::".join(parts)
    for a, b in [("$LT$", "<"), ("$GT$", ">"), ("$u20$", " "), ("$u7b$", "{"), ("$u7d$", "}"),
                 ("$C$", ","), ("$RF$", "&"), ("..", "::")]:
        p = p.replace(a, b)
    return p

def per_function(n):
    pid = open(f"{out}/pid.{n}").read().strip()
    ranges = []
    for line in open(f"/tmp/perf-{pid}.map"):
        a, size, fn = line.rstrip("\n").split(" ", 2)
        ranges.append((int(a, 16), int(size, 16), fn))
    ranges.sort()
    starts = [r[0] for r in ranges]
    cost = collections.Counter()
    for fn, addr, c in self_costs(f"{out}/cg.{n}"):
        i = bisect.bisect_right(starts, addr) - 1
        inside = i >= 0 and addr < ranges[i][0] + ranges[i][1]
        cost[("wasm", ranges[i][2]) if inside else ("host", fn)] += c
    return cost

a, b = per_function(100), per_function(300)
d = {k: (b[k] - a.get(k, 0)) / 200 for k in b}
wasm = sum(v for k, v in d.items() if k[0] == "wasm")
host = sum(v for k, v in d.items() if k[0] == "host")
print(f"{name} PL{pl}: {wasm + host:,.0f} instructions per request under host-test: "
      f"{wasm:,.0f} in wasm code, {host:,.0f} in the host (host-test, wasmtime's libcalls)")
for (side, fn), v in sorted(d.items(), key=lambda x: -x[1])[:top]:
    print(f"{v:10,.0f}  {side}  {demangle(fn)[:110]}")
PY
