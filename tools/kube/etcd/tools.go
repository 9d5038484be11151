//go:build tools

// Package tools pins etcd in a module of its own, so the Kubernetes graph cannot raise its dependencies.
package tools

import _ "go.etcd.io/etcd/server/v3"
