#!/usr/bin/env bash
# Builds the real Kubernetes control plane used by the GANTRY_KUBE=real tests:
# kube-apiserver, kube-controller-manager, kube-scheduler (k8s.io/kubernetes),
# etcd (go.etcd.io/etcd/server/v3, embedded in test/kube/go/cluster/etcd) and
# helm (helm.sh/helm/v3), all from the Go modules pinned in test/kube/go/*.
#
# Builds once per machine into ~/.cache/gantry-kube/<hash>/bin, where <hash>
# covers the go.mod/go.sum files, the Go version and the recipe number, so a version
# bump builds afresh and anything else reuses the cache. Only the Go module
# proxy is used; nothing else is downloaded.
#
#   scripts/kube-infra.sh          build if missing, print the bin directory
#   scripts/kube-infra.sh --path   print the bin directory if built, else exit 1
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
gomods="$root/test/kube/go"
kube_version="v1.37.2"
# Bump when the build commands below change what they produce (flags, ldflags, the list of
# binaries): it is part of the cache key, so the next run builds afresh.
recipe=1

key="$( { go env GOVERSION; echo "recipe=$recipe"; cat "$gomods/cluster/go.mod" "$gomods/cluster/go.sum" \
  "$gomods/cluster/etcd/main.go" "$gomods/helm/go.mod" "$gomods/helm/go.sum"; } \
  | sha256sum | cut -c1-16)"
cache="${GANTRY_KUBE_CACHE:-$HOME/.cache/gantry-kube}/$key"
bin="$cache/bin"

if [[ "${1:-}" == "--path" ]]; then
  [[ -f "$cache/complete" ]] || exit 1
  echo "$bin"
  exit 0
fi

if [[ -f "$cache/complete" ]]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$bin"
start=$(date +%s)
log() { echo "kube-infra: $*" >&2; }

# The version stamp is what /version reports; without it the binaries say
# v0.0.0-master and clients that compare server versions get confused.
ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=${kube_version} \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=37 \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=${kube_version}"

(
  cd "$gomods/cluster"
  for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
    t=$(date +%s)
    log "building $cmd ${kube_version}"
    go build -trimpath -ldflags "$ldflags" -o "$bin/$cmd" "k8s.io/kubernetes/cmd/$cmd"
    log "$cmd built in $(( $(date +%s) - t ))s"
  done
  t=$(date +%s)
  log "building etcd"
  go build -trimpath -ldflags "-s -w" -o "$bin/etcd" ./etcd
  log "etcd built in $(( $(date +%s) - t ))s"
)
(
  cd "$gomods/helm"
  t=$(date +%s)
  log "building helm"
  go build -trimpath -ldflags "-s -w" -o "$bin/helm" helm.sh/helm/v3/cmd/helm
  log "helm built in $(( $(date +%s) - t ))s"
)

took=$(( $(date +%s) - start ))
echo "$took" > "$cache/build-seconds"
touch "$cache/complete"
log "built in ${took}s into $bin"
echo "$bin"
