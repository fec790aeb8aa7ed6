#!/usr/bin/env bash
# Pull benchmark: the release binary pulls ROWS rows (default 1,000,000) from the
# in-process Log Analytics stand-in over HTTPS; prints rows/s and peak RSS.
# The stand-in lives in the test code (tests/it/standin), so it runs as an ignored
# test (tests/it/pull_bench.rs) that asserts nothing about time.
#
#   bench/pull.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target="$(pwd)/$target" ;; esac
# A private copy: another build sharing the target directory may replace it.
bin=$(mktemp -d)/kvaudit
cp "$target/release/kvaudit" "$bin"
KVAUDIT_BIN="$bin" ROWS="${1:-1000000}" \
  cargo test --quiet --test it pull_bench -- --ignored --nocapture
