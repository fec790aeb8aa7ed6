#!/usr/bin/env bash
# Builds the kvaudit image and smoke-tests it where a container engine exists
# (CI with Docker, a workstation); tests/it/container.rs checks what can be
# checked without one.
#
#   deploy/container/build-and-smoke.sh [IMAGE]      (default kvaudit:smoke)
#
# The image runs as it would in production: its own non-root user, a
# read-only root filesystem, no network, sample-logs/ mounted read-only, and
# only a scratch volume writable.
set -euo pipefail
cd "$(dirname "$0")/../.."

image=${1:-kvaudit:smoke}
engine=${CONTAINER_ENGINE:-docker}
if ! "$engine" info >/dev/null 2>&1; then
  echo "build-and-smoke: no running container engine ($engine info failed); nothing done" >&2
  exit 2
fi

"$engine" build --tag "$image" .

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The container's user (10001) must be able to write the reports.
chmod 0777 "$out"

run() {
  "$engine" run --rm --network none --read-only --cap-drop ALL \
    --security-opt no-new-privileges \
    --volume "$PWD/sample-logs:/data/sample-logs:ro" \
    --volume "$out:/var/lib/kvaudit" \
    "$image" "$@"
}

echo "== the image's user"
uid=$("$engine" run --rm --entrypoint /usr/bin/id "$image" -u)
if [ "$uid" = 0 ]; then
  echo "build-and-smoke: the image runs as root" >&2
  exit 1
fi
echo "uid $uid"

echo "== kvaudit --version"
run --version

echo "== the copied policies validate and pass their tests"
run policy validate --no-default-policies --policies /usr/share/kvaudit/policies
run policy test --no-default-policies /usr/share/kvaudit/policies

echo "== audit of the sample logs"
run --log-format json audit /data/sample-logs --out /var/lib/kvaudit/reports --quiet
for file in summary.json findings.json findings.csv report.html; do
  if [ ! -s "$out/reports/$file" ]; then
    echo "build-and-smoke: reports/$file missing or empty" >&2
    exit 1
  fi
done
echo "build-and-smoke: ok ($image)"
