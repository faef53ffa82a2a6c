#!/usr/bin/env bash
# Runs every fuzz target for a short time (CI smoke test); exits non-zero on any crash,
# panic, timeout or out-of-memory. Usage: fuzz/smoke.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Stable Rust works: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags. Each run starts
# from a throw-away copy of the committed seeds plus fuzz/regressions/<target>, so every
# known reproducer is replayed first and the repository is not modified.
# Environment: SANITIZER (default none; "address" for ASan), JOBS (unused: one target at a
# time, the machine is shared).
set -euo pipefail

cd "$(dirname "$0")"
SECS="${1:-20}"
shift || true
SANITIZER="${SANITIZER:-none}"
export RUSTC_BOOTSTRAP=1

if ! command -v cargo-fuzz >/dev/null; then
    echo "cargo-fuzz not found: cargo install cargo-fuzz" >&2
    exit 2
fi

TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    mapfile -t TARGETS < <(cargo fuzz list)
fi

cargo fuzz build -O -s "$SANITIZER"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=()
for t in "${TARGETS[@]}"; do
    mkdir -p "$work/$t" "regressions/$t"
    cp corpus/"$t"/seed-* "$work/$t"/ 2>/dev/null || true
    echo "=== $t (${SECS}s)"
    if ! cargo fuzz run -O -s "$SANITIZER" "$t" "$work/$t" "regressions/$t" -- \
        -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -artifact_prefix="$work/$t-" -print_final_stats=1 2>"$work/$t.log"; then
        tail -n 60 "$work/$t.log"
        mkdir -p artifacts/"$t"
        cp "$work/$t"-* artifacts/"$t"/ 2>/dev/null || true
        failed+=("$t")
    fi
    grep -E '^stat::number_of_executed_units|^Done' "$work/$t.log" || true
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]} (reproducers in fuzz/artifacts/)" >&2
    exit 1
fi
echo "all ${#TARGETS[@]} targets ran ${SECS}s without a finding"
