#!/usr/bin/env bash
# Builds lpsaring's packages from a checkout into target/packages/:
#   lpsaring_<version>-1_amd64.deb, lpsaring-<version>-1.x86_64.rpm (same layout, see
#   app/Cargo.toml's [package.metadata.deb] / [package.metadata.generate-rpm]) and
#   lpsaring-plugin-api-<version>.crate (what a vendor builds a plugin against).
# The version is the workspace's. Binaries are built once, release profile (stripped), and both
# packages are made from them.
#
# Tools: cargo-deb and cargo-generate-rpm at pinned versions, installed once under
# $LPSARING_TOOLS (default /var/cache/lpsaring/tools; CI keeps that folder between runs).
# CARGO_TARGET_DIR is honoured (default: the checkout's target/).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

CARGO_DEB_VERSION=3.8.0
CARGO_GENERATE_RPM_VERSION=0.21.1
tools="${LPSARING_TOOLS:-/var/cache/lpsaring/tools}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
out="$root/target/packages"
# Rocky 9 (the oldest target) has glibc 2.34: no symbol of the binary or a plugin may be newer.
MAX_GLIBC=2.34

say() { printf '==> %s\n' "$*"; }

# Installs `crate` at `version` into $tools unless that exact version is there.
tool() {
    local crate=$1 version=$2 bin=$3
    if ! "$tools/bin/$bin" --version 2>/dev/null | grep -qF "$version"; then
        say "installing $crate $version into $tools (once)"
        cargo install --quiet --locked --root "$tools" "$crate" --version "=$version"
    fi
}
tool cargo-deb "$CARGO_DEB_VERSION" cargo-deb
tool cargo-generate-rpm "$CARGO_GENERATE_RPM_VERSION" cargo-generate-rpm
export PATH="$tools/bin:$PATH"

plugins=(whatsapp-fonnte whatsapp-cloud payment-midtrans payment-tripay console payment-sandbox)
say "release build: lpsaring and ${#plugins[@]} plugins"
cargo build --release --locked -p lpsaring "${plugins[@]/#/--package=lpsaring-plugin-}"

release="$CARGO_TARGET_DIR/release"
files=("$release/lpsaring")
for p in "${plugins[@]}"; do files+=("$release/liblpsaring_plugin_${p//-/_}.so"); done

say "glibc symbol versions (at most $MAX_GLIBC)"
newest=$(objdump -T "${files[@]}" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
echo "newest GLIBC symbol: $newest"
if [ "$(printf '%s\n%s\n' "$newest" "$MAX_GLIBC" | sort -V | tail -n 1)" != "$MAX_GLIBC" ]; then
    echo "error: a binary needs glibc $newest, newer than $MAX_GLIBC (Rocky 9):" >&2
    objdump -T "${files[@]}" | grep -E "GLIBC_$newest" >&2
    exit 1
fi

rm -rf "$out"
mkdir -p "$out"
say "cargo deb"
cargo deb --package lpsaring --no-build --locked --output "$out/"
say "cargo generate-rpm"
# The package is named by its folder: cargo-generate-rpm reads `<package>/Cargo.toml`.
cargo generate-rpm --package app --target-dir "$CARGO_TARGET_DIR" --output "$out/"
say "cargo package -p lpsaring-plugin-api"
cargo package --package lpsaring-plugin-api --locked --allow-dirty --no-verify
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
cp "$CARGO_TARGET_DIR/package/lpsaring-plugin-api-$version.crate" "$out/"

say "written to $out"
ls -l "$out"
