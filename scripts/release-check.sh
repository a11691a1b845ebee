#!/usr/bin/env bash
# Checks what `make release` made: SHA256SUMS verify, each binary is for its
# architecture and needs no glibc symbol newer than 2.28, and the amd64 zip,
# installed as is into a filesystem mirror, goes through `terraform init`
# and `apply` against vmax-sim with an empty plan after.
set -euo pipefail
cd "$(dirname "$0")/.."
unset RUST_BACKTRACE
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
NAME=terraform-provider-vmax
TERRAFORM=${TERRAFORM:-terraform}
[ -f "dist/${NAME}_${VERSION}_SHA256SUMS" ] || scripts/release.sh
(cd dist && sha256sum --quiet -c "${NAME}_${VERSION}_SHA256SUMS")

work=$(mktemp -d)
sim_pid=
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

for pair in amd64:X86-64 arm64:AArch64; do
  arch=${pair%%:*} machine=${pair##*:}
  unzip -q -o "dist/${NAME}_${VERSION}_linux_${arch}.zip" -d "$work/$arch"
  bin="$work/$arch/${NAME}_v$VERSION"
  readelf -h "$bin" | grep -q "Machine:.*$machine" || { echo "release-check: $bin is not a $machine binary"; exit 1; }
  newest=$(readelf -V --wide "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)
  if [ "$(printf '%s\n2.28\n' "$newest" | sort -V | tail -n1)" != "2.28" ]; then
    echo "release-check: $arch binary needs GLIBC_$newest (newer than 2.28)"; exit 1
  fi
  echo "release-check: linux_$arch: $machine, newest glibc symbol GLIBC_$newest"
done

# the zip as released, in a packed filesystem mirror
mkdir -p "$work/mirror/registry.terraform.io/local/vmax" "$work/tf"
cp "dist/${NAME}_${VERSION}_linux_amd64.zip" "$work/mirror/registry.terraform.io/local/vmax/"
printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["local/vmax"]\n  }\n  direct {\n    exclude = ["local/vmax"]\n  }\n}\n' "$work/mirror" > "$work/terraformrc"
cargo build --quiet --bin vmax-sim
target/debug/vmax-sim --listen 127.0.0.1:0 --state "$work/sim.json" --job-ms 20 >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^vmax-sim listening on //p' "$work/sim.out")
[ -n "$url" ] || { echo "release-check: vmax-sim did not start"; cat "$work/sim.err"; exit 1; }
cat > "$work/tf/main.tf" <<HCL
terraform {
  required_providers {
    vmax = { source = "local/vmax", version = "$VERSION" }
  }
}
provider "vmax" {
  endpoint          = "$url"
  username          = "smc"
  password          = "smc"
  array             = "000197800123"
  insecure          = true
  job_poll_interval = 0.05
}
resource "vmax_volume" "v" {
  name    = "release-check"
  size_gb = 1
}
output "id" {
  value = vmax_volume.v.id
}
HCL
export TF_CLI_CONFIG_FILE="$work/terraformrc" TF_IN_AUTOMATION=1
cd "$work/tf"
"$TERRAFORM" init -input=false -no-color >/dev/null
grep -q "local/vmax" .terraform.lock.hcl
"$TERRAFORM" apply -auto-approve -input=false -no-color >/dev/null
id=$("$TERRAFORM" output -raw id)
rc=0; "$TERRAFORM" plan -detailed-exitcode -input=false -no-color >/dev/null || rc=$?
[ "$rc" = 0 ] || { echo "release-check: the plan after apply is not empty (exit $rc)"; exit 1; }
"$TERRAFORM" destroy -auto-approve -input=false -no-color >/dev/null
echo "release-check: the released linux_amd64 zip installed from a filesystem mirror made and destroyed volume $id"
