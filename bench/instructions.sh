#!/usr/bin/env bash
# Engine instructions per request, counted by callgrind: the difference between 25 and 5
# requests of `crs_bench::one` (filter/examples/crs_bench.rs: the criterion benches'
# workload, bench/wafer-config.json and the requests of filter/benches/common), divided by
# 20. Only the requests are counted (`--toggle-collect`), not compiling CRS, so the figure
# is the same from run to run (counting the whole process varied by up to ±5 % with where
# the loader and the allocator placed things).
#
#   bench/instructions.sh get [PL]        # also post_form, post_json, sqli, xss, rce
#   EXTRA="SecRuleRemoveById 934100" bench/instructions.sh post_form   # what removing one saves
#   # one rule alone (removals apply to every rule, later ones too, as in libmodsecurity 3:
#   # leave the ids out of the range):
#   EXTRA='SecRuleRemoveById 1 4-9999999;SecRule ARGS "@rx a" "id:3,phase:2,pass"' bench/instructions.sh get
#   BIN=/path/to/other/crs_bench bench/instructions.sh post_json 4      # another build
#   COLD=1 bench/instructions.sh get      # cache lines a request fetches when it starts cold
#
# COLD=1: each request follows 8 MiB written elsewhere (crs_bench `COLD=8192`), as in a proxy,
# whose own work between two requests of the filter pushes the filter's code and data out
# of the CPU caches. Callgrind's cache simulation (32 KiB L1i, 48 KiB L1d, 4 MiB last
# level) then counts the last-level misses of one request: the distinct cache lines of
# code and data it touches, each fetched from memory. Deterministic like the instruction
# count; what a request costs on cold caches grows with it (natively, GET PL1: ~26 µs warm,
# 50–75 µs with `COLD=16384`).
set -euo pipefail
cd "$(dirname "$0")/.."
only="${1:?request name prefix: get, post_form, post_json, sqli, xss, rce}"
pl="${2:-1}"
bin="${BIN:-target/release/examples/crs_bench}"
[ -n "${BIN:-}" ] || cargo build --release -q -p wafer --example crs_bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [ -n "${COLD:-}" ]; then
  for n in 3 8; do
    ONLY="$only" ITER=$n COLD=8192 valgrind --tool=callgrind --cache-sim=yes \
      --I1=32768,8,64 --D1=49152,12,64 --LL=4194304,16,64 \
      --toggle-collect='crs_bench::cold_one' --callgrind-out-file="$out/cg.$n" \
      "$bin" "$pl" >/dev/null 2>&1
  done
  # Per request: (all of cold_one − evict's share) over the 5 requests between the runs.
  python3 - "$out" "$only" "$pl" <<'PY'
import re, subprocess, sys
out, only, pl = sys.argv[1:]
def counts(path):
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
                          capture_output=True, text=True, check=True).stdout
    events = next(l.split()[1:] for l in open(path) if l.startswith("events:"))
    total = next(list(map(int, l.split()[1:])) for l in open(path) if l.startswith("summary:"))
    evict = [0] * len(events)
    for line in text.splitlines():
        if "crs_bench::evict [" in line and "=>" not in line:
            nums = []
            for tok in re.sub(r"\([^)]*\)", "", line).split():
                if not re.fullmatch(r"[\d,]+|\.", tok):
                    break
                nums.append(0 if tok == "." else int(tok.replace(",", "")))
            evict = nums
    return {e: t - v for e, t, v in zip(events, total, evict)}
a, b = counts(f"{out}/cg.3"), counts(f"{out}/cg.8")
d = {e: (b[e] - a[e]) // 5 for e in a}
lines = d["ILmr"] + d["DLmr"] + d["DLmw"]
print(f"{only} PL{pl}, cold: {lines} cache lines per request ({d['ILmr']} code, "
      f"{d['DLmr']} data read, {d['DLmw']} data written first), {d['Ir']} instructions")
PY
  exit 0
fi
for n in 5 25; do
  ONLY="$only" ITER=$n valgrind --tool=callgrind --toggle-collect='crs_bench::one' \
    --callgrind-out-file="$out/cg.$n" "$bin" "$pl" >/dev/null 2>&1
done
total() { awk '/^summary:/ { print $2; exit }' "$1"; }
echo "$only PL$pl: $(( ($(total "$out/cg.25") - $(total "$out/cg.5")) / 20 )) instructions per request"
