#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine that has only Rust:
# installs what the tests need when it is missing (Chromium for the report's
# browser test, Node and the Kusto language service for the KQL check,
# PyYAML for the deployment examples, rustfmt and clippy), then runs the
# gates and the tests. CI runs this same script (.ci/run).
set -euo pipefail
cd "$(dirname "$0")"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_packages=()
command -v chromium >/dev/null 2>&1 || apt_packages+=(chromium)
command -v npm >/dev/null 2>&1 || apt_packages+=(nodejs npm)
command -v python3 >/dev/null 2>&1 || apt_packages+=(python3 python3-pip)
if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "test.sh: installing ${apt_packages[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq "${apt_packages[@]}"
fi

# Microsoft's Kusto language service checks queries/*.kql (tests/it/kql_check.rs).
[ -d .ci/kql/node_modules ] || npm ci --prefix .ci/kql --no-audit --no-fund --loglevel=error

# PyYAML parses the GitHub Actions and Azure DevOps examples (tests/it/deploy.rs).
python3 -c 'import yaml' 2>/dev/null \
  || python3 -m pip install --quiet 'PyYAML==6.0.3' \
  || as_root apt-get install -y -qq python3-yaml

rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

# The gates before the tests: formatting, then lints (Cargo.toml's [lints]
# and clippy.toml), on every target of every workspace crate.
cargo fmt --all --check
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo test --locked --workspace
