//go:build tools

// Package tools pins the Kubernetes control-plane commands that the real-cluster test lane builds.
// Nothing here is compiled into the product: build.sh runs `go build` on these import paths.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
