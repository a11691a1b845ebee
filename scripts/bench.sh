#!/usr/bin/env bash
# Benchmarks (make bench): apply and plan N volumes against a release-built
# vmax-sim. Targets are counted in REST requests per volume, which do not
# depend on how loaded the machine is; wall times and peak memory are shown
# for information. Exits non-zero when a request target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_VOLUMES:-200}
PLAN_REQ_TARGET=${PLAN_REQ_TARGET:-3}     # GETs per volume for a refresh
APPLY_REQ_TARGET=${APPLY_REQ_TARGET:-12}  # requests per volume for a create
work=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
target/release/vmax-sim --listen 127.0.0.1:0 --http --ephemeral --job-ms 20 >"$work/sim.out" 2>"$work/sim.err" &
pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed 's/.*listening on //' "$work/sim.out")
mkdir -p "$work/tf"
printf 'provider_installation {\n  dev_overrides {\n    "local/vmax" = "%s"\n  }\n  direct {}\n}\n' "$PWD/target/release" >"$work/rc"
{
  printf 'terraform {\n  required_providers {\n    vmax = { source = "local/vmax" }\n  }\n}\n'
  printf 'provider "vmax" {\n  endpoint = "%s"\n  insecure = true\n  username = "smc"\n  password = "smc"\n  array = "000197800123"\n  job_poll_interval = 0.02\n}\n' "$url"
  printf 'resource "vmax_volume" "v" {\n  count = %s\n  name = "bench-${count.index}"\n  size_gb = 1\n  service_level = "Diamond"\n}\n' "$N"
} >"$work/tf/main.tf"
export TF_CLI_CONFIG_FILE="$work/rc" TF_IN_AUTOMATION=1
unset RUST_BACKTRACE
total() { curl -s -u smc:smc "$url/sim/metrics" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }
peak_kb() { grep VmHWM "/proc/$1/status" 2>/dev/null | awk '{print $2}'; }

r0=$(total)
t0=$(date +%s.%N)
terraform -chdir="$work/tf" apply -auto-approve -parallelism=10 -no-color >"$work/apply.log" 2>&1 || { tail -20 "$work/apply.log"; exit 1; }
t1=$(date +%s.%N)
r1=$(total)
terraform -chdir="$work/tf" plan -detailed-exitcode -parallelism=10 -no-color >"$work/plan.log" 2>&1 || { echo "plan after apply not empty"; tail -20 "$work/plan.log"; exit 1; }
t2=$(date +%s.%N)
r2=$(total)
apply_per=$(python3 -c "print(round(($r1-$r0)/$N, 2))")
plan_per=$(python3 -c "print(round(($r2-$r1)/$N, 2))")
echo "bench: $N volumes"
echo "bench: apply  $(python3 -c "print(round($t1-$t0,1))") s, $apply_per requests/volume (target <= $APPLY_REQ_TARGET)"
echo "bench: plan   $(python3 -c "print(round($t2-$t1,1))") s, $plan_per requests/volume (target <= $PLAN_REQ_TARGET)"
echo "bench: vmax-sim peak memory $(( $(peak_kb "$pid") / 1024 )) MiB"
terraform -chdir="$work/tf" destroy -auto-approve -parallelism=10 -no-color >"$work/destroy.log" 2>&1 || { tail -20 "$work/destroy.log"; exit 1; }
left=$(curl -s -u smc:smc "$url/sim/state" | python3 -c 'import json,sys; a=json.load(sys.stdin)["arrays"]["000197800123"]; print(len(a["volumes"])+len(a["storage_groups"]))')
echo "bench: after destroy, $left objects left on the array"
fail=0
python3 -c "import sys; sys.exit(0 if $apply_per <= $APPLY_REQ_TARGET else 1)" || { echo "bench: FAIL apply requests/volume"; fail=1; }
python3 -c "import sys; sys.exit(0 if $plan_per <= $PLAN_REQ_TARGET else 1)" || { echo "bench: FAIL plan requests/volume"; fail=1; }
[ "$left" = 0 ] || { echo "bench: FAIL objects left"; fail=1; }
exit $fail
