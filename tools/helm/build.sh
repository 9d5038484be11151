#!/usr/bin/env bash
# Builds helm for the chart's test lane (deploy/helm, test/helm) from its Go module, pinned in go.mod beside this
# script, into a cache outside the repository. Go's own module and build caches are reused, so a second run does
# nothing when the binary is there.
#
#   tools/helm/build.sh            build when missing, print the binary's path
#   tools/helm/build.sh --force    rebuild
#
# The binary: ${VECTOR_OPERATOR_HELM_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/vector-operator/helm/<version>/bin}/helm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
HELM_VERSION="$(sed -n 's/^require helm.sh\/helm\/v4 \(v[0-9.]*\)$/\1/p; s/^\thelm.sh\/helm\/v4 \(v[0-9.]*\)$/\1/p' "$here/go.mod" | head -1)"
[ -n "$HELM_VERSION" ] || { echo "tools/helm/build.sh: no helm.sh/helm/v4 version in go.mod" >&2; exit 1; }
bin="${VECTOR_OPERATOR_HELM_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/vector-operator/helm/$HELM_VERSION/bin}"
force=0
[ "${1:-}" = "--force" ] && force=1
command -v go >/dev/null 2>&1 || { echo "tools/helm/build.sh: Go >= 1.26 is needed to build helm" >&2; exit 1; }
mkdir -p "$bin"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

if [ "$force" = 1 ] || [ ! -x "$bin/helm" ]; then
  start=$SECONDS
  # The ldflags helm's Makefile sets for a tagged release, so `helm version` names the version, not "v4.3".
  v=helm.sh/helm/v4/internal/version
  ldflags="-s -w -X $v.version=$HELM_VERSION -X $v.metadata= -X $v.gitTreeState=clean"
  # nice: the build must not starve tests or other builds on a small machine.
  (cd "$here" && nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$bin/helm.tmp" helm.sh/helm/v4/cmd/helm)
  mv "$bin/helm.tmp" "$bin/helm"
  echo "built helm $HELM_VERSION in $((SECONDS - start)) s" >&2
fi
echo "$bin/helm"
