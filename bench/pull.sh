#!/usr/bin/env bash
# Pull benchmark: `kvaudit pull` of ROWS rows (default 1,000,000) from the
# in-process Log Analytics stand-in over HTTPS; prints rows/s and peak RSS.
# See benches/pull.rs.
#
#   bench/pull.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench pull -- "${1:-1000000}"
