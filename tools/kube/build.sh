#!/usr/bin/env bash
# Builds the real control plane for the test lane: kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
# (Kubernetes $K8S_VERSION) and etcd ($ETCD_VERSION), from their Go modules, into a cache outside the repository.
# Go's own module and build caches are reused, so a second run only links (or does nothing when the binaries exist).
#
#   tools/kube/build.sh            build what is missing, print the bin dir
#   tools/kube/build.sh --force    rebuild all
#
# The bin dir: ${VECTOR_OPERATOR_KUBE_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/vector-operator/kube/<k8s version>/bin}.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
K8S_VERSION="$(sed -n 's/^\trequire k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p; s/^require k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' "$here/go.mod")"
[ -n "$K8S_VERSION" ] || K8S_VERSION="$(cd "$here" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
bin="${VECTOR_OPERATOR_KUBE_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/vector-operator/kube/$K8S_VERSION/bin}"
force=0
[ "${1:-}" = "--force" ] && force=1
mkdir -p "$bin"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

minor="$(echo "$K8S_VERSION" | cut -d. -f2)"
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done

build() { # name, module dir, package, ldflags
  if [ "$force" = 0 ] && [ -x "$bin/$1" ]; then return; fi
  local start=$SECONDS
  (cd "$2" && go build -trimpath -ldflags "$4" -o "$bin/$1.tmp" "$3")
  mv "$bin/$1.tmp" "$bin/$1"
  echo "built $1 in $((SECONDS - start)) s" >&2
}

build etcd "$here/etcd" go.etcd.io/etcd/server/v3 "-s -w"
for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  build "$c" "$here" "k8s.io/kubernetes/cmd/$c" "$ldflags"
done
echo "$K8S_VERSION" > "$bin/VERSION"
echo "$bin"
