#!/usr/bin/env bash
# Runs Dell's real PyU4V library against a fresh vmax-sim (see pyu4v_round.py).
# The venv is cached under target/; PyU4V is pinned so results are repeatable.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
venv=target/pyu4v-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import PyU4V" 2>/dev/null; then
  echo "pyu4v: installing PyU4V 10.4.0.0 into $venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "PyU4V==10.4.0.0" || {
    echo "pyu4v: could not install PyU4V from PyPI; the compatibility check needs it"; exit 1; }
fi
pids=()
dirs=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "${dirs[@]}"; }
trap cleanup EXIT
# round NAME [vmax-sim flags...] [-- round args]: one fresh simulator per round
round() {
  local dir; dir=$(mktemp -d); dirs+=("$dir")
  local args=() extra=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
  [ "${1:-}" = "--" ] && { shift; extra=("$@"); }
  target/debug/vmax-sim --listen 127.0.0.1:0 --state "$dir/state.json" --job-ms 50 "${args[@]}" >"$dir/out" 2>"$dir/err" &
  pids+=($!)
  for _ in $(seq 1 100); do grep -q "listening on" "$dir/out" 2>/dev/null && break; sleep 0.1; done
  local port; port=$(sed -n 's/.*listening on https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$dir/out")
  [ -n "$port" ] || { echo "pyu4v: vmax-sim did not start"; cat "$dir/err"; exit 1; }
  # these machines export CA bundles that make requests ignore verify=...
  env -u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE "$venv/bin/python" scripts/pyu4v_round.py localhost "$port" "$dir/vmax-sim-ca.pem" "${extra[@]}"
}
round
round --seed-file seeds/powermax-8000.json -- powermax
