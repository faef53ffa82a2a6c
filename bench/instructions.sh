#!/usr/bin/env bash
# Engine instructions per request, counted by callgrind: the difference between 25 and 5
# requests of `crs_bench::one` (filter/examples/crs_bench.rs: the criterion benches'
# workload, bench/wafer-config.json and the requests of filter/benches/common), divided by
# 20. Only the requests are counted (`--toggle-collect`), not compiling CRS, so the figure
# is the same from run to run (counting the whole process varied by up to ±5 % with where
# the loader and the allocator placed things).
#
#   bench/instructions.sh get [PL]        # also post_form, post_json, sqli, xss, rce
#   EXTRA="SecRuleRemoveById 934100" bench/instructions.sh post_form   # what one rule costs
#   BIN=/path/to/other/crs_bench bench/instructions.sh post_json 4      # another build
set -euo pipefail
cd "$(dirname "$0")/.."
only="${1:?request name prefix: get, post_form, post_json, sqli, xss, rce}"
pl="${2:-1}"
bin="${BIN:-target/release/examples/crs_bench}"
[ -n "${BIN:-}" ] || cargo build --release -q -p wafer --example crs_bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for n in 5 25; do
  ONLY="$only" ITER=$n valgrind --tool=callgrind --toggle-collect='crs_bench::one' \
    --callgrind-out-file="$out/cg.$n" "$bin" "$pl" >/dev/null 2>&1
done
total() { awk '/^summary:/ { print $2; exit }' "$1"; }
echo "$only PL$pl: $(( ($(total "$out/cg.25") - $(total "$out/cg.5")) / 20 )) instructions per request"
