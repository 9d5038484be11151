//go:build tools

// Package tools pins helm for the chart's test lane. Nothing here is compiled into the product: build.sh runs
// `go build` on this import path.
package tools

import (
	_ "helm.sh/helm/v4/cmd/helm"
)
