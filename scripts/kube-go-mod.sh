#!/usr/bin/env bash
# Regenerates test/kube/go/cluster/go.mod for a k8s.io/kubernetes version (default: the pinned
# one): k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/client-go, …) at
# v0.0.0 and replaces them with ./staging paths that only exist in its own repository, so a
# module using it needs a replace line per staging module pointing at the matching v0.x release.
# The list is read from k8s.io/kubernetes's own go.mod, from the Go module proxy.
#   scripts/kube-go-mod.sh [v1.37.2]
set -euo pipefail
version="${1:-v1.37.2}"
staging="v0.${version#v1.}"
dir="$(cd "$(dirname "$0")/.." && pwd)/test/kube/go/cluster"
mod="$(go mod download -json "k8s.io/kubernetes@${version}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
{
  echo "// Test infrastructure only: pins the upstream control plane that test/kube runs."
  echo "// Regenerate the replace block with scripts/kube-go-mod.sh when moving k8s.io/kubernetes."
  echo "module gantry.local/test/kube/cluster"
  echo
  echo "go 1.26.0"
  echo
  echo "require k8s.io/kubernetes ${version}"
  echo
  echo "replace ("
  sed -n '/^replace (/,/^)/p' "$mod" | grep '=> ./staging' | awk -v v="$staging" '{print "\t"$1" => "$1" "v}'
  echo ")"
} > "$dir/go.mod"
cd "$dir"
GOFLAGS=-mod=mod go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@${version}" \
  "k8s.io/kubernetes/cmd/kube-controller-manager@${version}" "k8s.io/kubernetes/cmd/kube-scheduler@${version}"
go mod tidy
echo "test/kube/go/cluster/go.mod now pins k8s.io/kubernetes ${version} (staging ${staging})"
