#!/usr/bin/env bash
# The benchmark: kvaudit's full audit against a DuckDB reference job on the
# same PT1H.json blobs, at several sizes, written up as bench/results.md and
# in the README's Performance section.
#
#   bench/run.sh [--scale S] [--days D] [--sets 0.25,1,4] [--10gb] [--gzip]
#                [--repeat N] [--no-readme]
#
# --scale/--days  the 1x set (default 45 and 7: about 1.1 GB, 925k events)
# --sets          multiples of the 1x scale to run (default 0.25,1,4)
# --10gb          also run 10x (about 10.6 GB, 9.1M events; needs 12 GB of disk)
# --gzip          generate PT1H.json.gz instead of plain JSON (both tools read
#                 the same files either way)
# --repeat N      run each tool N times and keep the fastest (default 1)
# --no-readme     write bench/results.md only
#
# Generated sets are kept in $CARGO_TARGET_DIR/bench-data (default
# target/bench-data) and reused; DuckDB is installed from PyPI into a venv
# under the same target directory. When the generator can write the sample
# estate's inventory, the set has one and the audit reads it (--inventory).
set -euo pipefail
cd "$(dirname "$0")/.."

base_scale=45
days=7
sets=0.25,1,4
gzip=
repeat=1
readme=1
while [ $# -gt 0 ]; do
  case $1 in
    --scale) base_scale=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --sets) sets=$2; shift 2 ;;
    --10gb) sets="$sets,10"; shift ;;
    --gzip) gzip=1; shift ;;
    --repeat) repeat=$2; shift 2 ;;
    --no-readme) readme=; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

target=${CARGO_TARGET_DIR:-target}
# One build for both: the generator then shares kvaudit's compiled dependencies.
cargo build --release --quiet -p kvaudit -p kvaudit-synth
mkdir -p "$target/bench-work"
work=$(mktemp -d -p "$target/bench-work")
trap 'rm -rf "$work"' EXIT
# Links of our own: other builds sharing the target directory may replace
# release/kvaudit (cargo replaces the file, so the link keeps this one).
for exe in kvaudit kvaudit-synth; do
  ln "$target/release/$exe" "$work/$exe" 2>/dev/null || cp "$target/release/$exe" "$work/$exe"
done
bin=$work/kvaudit
synth=$work/kvaudit-synth

venv=$target/bench-venv
if ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
  echo "installing duckdb into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet duckdb
fi

# The generator writes the sample estate's inventory (`az` outputs) beside the
# logs, so the audit runs its least-privilege analysis too.
inventory=
if "$synth" --help | grep -q -- '--inventory-out'; then inventory=1; fi

rows=$target/bench-results.jsonl
: > "$rows"

# Runs a command under /usr/bin/time; prints "seconds peak_kb".
measure() {
  local best_s= best_kb=
  for _ in $(seq "$repeat"); do
    /usr/bin/time -f '%e %M' -o "$work/time" "$@"
    read -r s kb < <(tail -n 1 "$work/time")
    if [ -z "$best_s" ] || awk "BEGIN {exit !($s < $best_s)}"; then best_s=$s best_kb=$kb; fi
  done
  echo "$best_s $best_kb"
}

IFS=, read -r -a multiples <<<"$sets"
for multiple in "${multiples[@]}"; do
  scale=$(awk "BEGIN {print $base_scale * $multiple}")
  data=$target/bench-data/scale-$scale-days-$days${gzip:+-gz}
  if [ ! -f "$data/.complete" ] || { [ -n "$inventory" ] && [ ! -d "$data/inventory" ]; }; then
    echo "generating ${multiple}x (scale $scale, $days days) into $data" >&2
    "$synth" --out "$data" --scale "$scale" --days "$days" --start 2026-11-01 \
      ${gzip:+--gzip} ${inventory:+--inventory-out "$data/inventory"} > /dev/null
    touch "$data/.complete"
  fi
  # Both tools read the storage-account blobs, the bulk of every export.
  blobs=$data/insights-logs-auditevent
  pattern=$blobs/**/PT1H.json${gzip:+.gz}
  bytes=$(find "$blobs" -type f -name 'PT1H.json*' -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}')
  audit_args=(audit "$blobs" --out "$work/report" --quiet --timings)
  if [ -d "$data/inventory" ]; then audit_args+=(--inventory "$data/inventory"); fi

  # Warm the page cache so both tools are measured on parsing, not the disk.
  find "$blobs" -type f -exec cat {} + > /dev/null

  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "${multiple}x: kvaudit audit (load $load)" >&2
  rm -rf "$work/report"
  read -r k_s k_kb < <(measure sh -c '"$0" "$@" 2> "'"$work"'/timings"; [ $? -le 1 ]' "$bin" "${audit_args[@]}")
  echo "${multiple}x: DuckDB reference job" >&2
  rm -rf "$work/duckdb" && mkdir -p "$work/duckdb"
  read -r d_s d_kb < <(measure sh -c '"$0" "$@" > "'"$work"'/duckdb.out"' \
    "$venv/bin/python" bench/duckdb_reference.py "$pattern" "$work/duckdb")

  "$venv/bin/python" - "$multiple" "$scale" "$days" "$bytes" "$k_s" "$k_kb" "$d_s" "$d_kb" \
    "$work/report/summary.json" "$work/timings" "$work/duckdb.out" "$load" "$(git describe --always --dirty 2>/dev/null || echo unknown)" "${gzip:+gzip}" >> "$rows" <<'PY'
import json, re, sys
multiple, scale, days, size, k_s, k_kb, d_s, d_kb, summary, timings, duck, load, commit, gz = sys.argv[1:]
stages, peaks, cedar = {}, {}, {}
for line in open(timings):
    if m := re.match(r"timing (\S+) ([0-9.]+)s(?: peak-rss (\d+)MB)?$", line):
        stages[m[1]] = float(m[2])
        if m[3]:
            peaks[m[1]] = int(m[3])
    if m := re.match(r"cedar (\d+) events, (\d+) requests evaluated", line):
        cedar = {"cedar_events": int(m[1]), "cedar_requests": int(m[2])}
duck_out = open(duck).read().split()
events = json.load(open(summary))["records_analyzed"]
if int(duck_out[3]) != events:
    print(f"warning: DuckDB read {duck_out[3]} events, kvaudit analysed {events}", file=sys.stderr)
print(json.dumps({
    "multiple": float(multiple), "scale": float(scale), "days": int(days),
    "bytes": int(size), "gzip": bool(gz), "load": float(load), "commit": commit,
    "events": events,
    "kvaudit_s": float(k_s), "kvaudit_kb": int(k_kb), "stages": stages, "peak_rss_mb": peaks, **cedar,
    "duckdb_version": duck_out[1], "duckdb_events": int(duck_out[3]),
    "duckdb_s": float(d_s), "duckdb_kb": int(d_kb),
}))
PY
  tail -n 1 "$rows" >&2
done

"$venv/bin/python" bench/results_table.py "$rows" bench/results.md ${readme:+README.md}
cat bench/results.md
