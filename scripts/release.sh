#!/usr/bin/env bash
# make release: the registry's layout in dist/, for linux amd64 and arm64,
# linked against glibc 2.28 (RHEL 8, Ubuntu 20.04) with cargo-zigbuild:
#   terraform-provider-vmax_<v>_linux_<arch>.zip  (binary terraform-provider-vmax_v<v>)
#   terraform-provider-vmax_<v>_manifest.json     (terraform-registry-manifest.json)
#   terraform-provider-vmax_<v>_SHA256SUMS        (and .sig when GPG_KEY_ID is set)
# Tools come from the registries these machines reach: rust-std targets via
# rustup, cargo-zigbuild from crates.io, zig from PyPI (ziglang).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
NAME=terraform-provider-vmax
GLIBC=2.28
TARGETS=("x86_64-unknown-linux-gnu:amd64" "aarch64-unknown-linux-gnu:arm64")

need() { command -v "$1" >/dev/null 2>&1; }
for t in "${TARGETS[@]}"; do
  rustup target list --installed | grep -qx "${t%%:*}" || rustup target add "${t%%:*}"
done
need cargo-zigbuild || cargo install --locked cargo-zigbuild
if ! need zig; then
  python3 -c 'import ziglang' 2>/dev/null || python3 -m pip install --quiet ziglang
  # cargo-zigbuild finds zig through `python3 -m ziglang`
fi

rm -rf dist && mkdir -p dist
for t in "${TARGETS[@]}"; do
  triple=${t%%:*}; arch=${t##*:}
  cargo zigbuild --release --locked --bin "$NAME" --target "$triple.$GLIBC"
  stage=$(mktemp -d)
  cp "target/$triple/release/$NAME" "$stage/${NAME}_v$VERSION"
  cp LICENSE README.md CHANGELOG.md "$stage/"
  (cd "$stage" && zip -q -X "$OLDPWD/dist/${NAME}_${VERSION}_linux_${arch}.zip" ./*)
  rm -rf "$stage"
done
cp terraform-registry-manifest.json "dist/${NAME}_${VERSION}_manifest.json"
(cd dist && sha256sum ./*.zip "${NAME}_${VERSION}_manifest.json" | sed 's#\./##' > "${NAME}_${VERSION}_SHA256SUMS")
if [ -n "${GPG_KEY_ID:-}" ]; then
  gpg --batch --yes --local-user "$GPG_KEY_ID" --detach-sign \
    --output "dist/${NAME}_${VERSION}_SHA256SUMS.sig" "dist/${NAME}_${VERSION}_SHA256SUMS"
  echo "release: signed SHA256SUMS with $GPG_KEY_ID"
else
  echo "release: no GPG_KEY_ID given, SHA256SUMS left unsigned (the registry needs a signature)"
fi
ls -l dist
