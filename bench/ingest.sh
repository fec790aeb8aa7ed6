#!/usr/bin/env bash
# Ingest benchmark: generates PT1H.json blobs in the storage layout and times
# `kvaudit audit` over them, reporting MB/s, events/s and peak memory.
#
#   bench/ingest.sh [SCALE] [DAYS]
#
# SCALE multiplies the sample generator's normal traffic (scale 1 is about
# 44 MB and 38k events a week; 45 gives about 1 GB and 1 million events).
# Data goes to target/bench-data/.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-45}
days=${2:-7}
data=target/bench-data/scale-$scale-days-$days

cargo build --release --quiet
bin=target/release/kvaudit
if [ ! -d "$data" ]; then
  echo "generating scale $scale, $days days into $data" >&2
  "$bin" generate-logs --out "$data" --scale "$scale" --days "$days" --start 2026-11-01
fi

bytes=$(find "$data" -type f -name '*.json' -printf '%s\n' | awk '{s+=$1} END {print s}')
out=$(mktemp -d)
# Warm the page cache so the figure is parse speed, not disk speed.
cat $(find "$data" -type f) > /dev/null

# The generated estate is the sample one: its inventory adds the least-privilege stage.
/usr/bin/time -f '%e %M' -o "$out/time" "$bin" audit "$data" --inventory sample-inventory --out "$out" --quiet --timings 2> "$out/stderr" || true
read -r seconds peak_kb < "$out/time"
events=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['records_analyzed'])" "$out/summary.json")
ingest_s=$(sed -n 's/^timing ingest \([0-9.]*\)s$/\1/p' "$out/stderr")

python3 - "$bytes" "$events" "$seconds" "$peak_kb" "${ingest_s:-$seconds}" <<'PY'
import sys, platform, os
b, n, s, kb, ing = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"machine: {cpu}, {os.cpu_count()} cores")
print("| input | events | wall s | ingest s | ingest MB/s | events/s | peak RSS MB | RSS / input |")
print("|---|---|---|---|---|---|---|---|")
print(f"| {b/1e6:.0f} MB | {n:,} | {s:.2f} | {ing:.2f} | {b/1e6/ing:.0f} | {n/s:,.0f} | {kb/1024:.0f} | {kb*1024/b:.2f} |")
PY
sed -n 's/^timing \(cedar\|least-privilege\) \([0-9.]*\)s$/stage \1: \2 s/p' "$out/stderr"
rm -rf "$out"
