#!/usr/bin/env bash
# Builds vrl-check, the test-only VRL helper (the `vrl` crate of Vector 0.48, pinned in Cargo.toml and Cargo.lock),
# with cargo into a cache outside the repository. Cargo's own registry and target caches are reused, so a second run
# only checks freshness (or does nothing when the binary is there and newer than the sources).
#
#   tools/vrl-check/build.sh            build when missing or out of date, print the binary's path
#   tools/vrl-check/build.sh --force    rebuild
#
# The target dir: ${VECTOR_OPERATOR_VRL_TARGET:-${XDG_CACHE_HOME:-$HOME/.cache}/vector-operator/vrl-check/target};
# the binary is <target>/release/vrl-check (override the binary for the tests with VECTOR_OPERATOR_VRL_CHECK).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${VECTOR_OPERATOR_VRL_TARGET:-${XDG_CACHE_HOME:-$HOME/.cache}/vector-operator/vrl-check/target}"
bin="$target/release/vrl-check"
force=0
[ "${1:-}" = "--force" ] && force=1

command -v cargo >/dev/null 2>&1 || {
  echo "vrl-check: cargo not found; install a Rust toolchain (rustup or Debian's cargo) to build the VRL lane" >&2
  exit 1
}
stale=1
if [ "$force" = 0 ] && [ -x "$bin" ] &&
  [ -z "$(find "$here/Cargo.toml" "$here/Cargo.lock" "$here/src" -newer "$bin" -print -quit)" ]; then
  stale=0
fi
if [ "$stale" = 1 ]; then
  start=$SECONDS
  # --locked: the lock file is the pin; nice: the build must not starve tests or other builds on a small machine.
  CARGO_TARGET_DIR="$target" nice -n 10 cargo build --release --locked --quiet --manifest-path "$here/Cargo.toml"
  echo "built vrl-check in $((SECONDS - start)) s" >&2
fi
echo "$bin"
