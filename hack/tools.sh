#!/usr/bin/env bash
# Builds the pinned tool binaries from the Go module proxy into a versioned cache
# outside the repository, shared by every clone:
#   ${TIDE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/tide/tools}/<tool>-<version>/bin/
# A tool already in the cache is skipped. A binary named by TIDE_<TOOL>_BIN
# (TIDE_ETCD_BIN, TIDE_KUBE_APISERVER_BIN, TIDE_KWOK_BIN, TIDE_HELM_BIN, ...) is used
# instead of building one. The podinfo-chart entry is no binary but a test fixture:
# podinfo's Helm chart directory, unpacked from its Go module into
# <cache>/podinfo-chart-<version>/podinfo/ (TIDE_PODINFO_CHART_DIR overrides it).
#
# Usage: hack/tools.sh [--print] [tool ...]
#          (tools: kubernetes etcd kwok helm kustomize sops podinfo-chart)
#   --print  prints NAME=path lines for every binary and builds nothing.
set -euo pipefail

HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$HACK/versions.env"
TOOLS=${TIDE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/tide/tools}
export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" GOTOOLCHAIN=local

K=$KUBERNETES_VERSION
dir_of() { # tool -> versioned directory
  case $1 in
    kubernetes) echo "$TOOLS/kubernetes-$K" ;;
    etcd) echo "$TOOLS/etcd-$ETCD_VERSION" ;;
    kwok) echo "$TOOLS/kwok-$KWOK_VERSION" ;;
    helm) echo "$TOOLS/helm-$HELM_VERSION" ;;
    kustomize) echo "$TOOLS/kustomize-$KUSTOMIZE_VERSION" ;;
    sops) echo "$TOOLS/sops-$SOPS_VERSION" ;;
    podinfo-chart) echo "$TOOLS/podinfo-chart-$PODINFO_CHART_VERSION" ;;
    *) echo "unknown tool: $1" >&2; exit 2 ;;
  esac
}
binaries_of() {
  case $1 in
    kubernetes) echo kube-apiserver kube-controller-manager kube-scheduler ;;
    podinfo-chart) ;;
    *) echo "$1" ;;
  esac
}
# Path of a binary: the user's override when set, else the cache.
bin_path() {
  local var="TIDE_$(echo "$2" | tr 'a-z-' 'A-Z_')_BIN"
  if [ -n "${!var:-}" ]; then echo "${!var}"; else echo "$(dir_of "$1")/bin/$2"; fi
}
have() { # tool -> all binaries present
  if [ "$1" = podinfo-chart ]; then [ -f "$(chart_path)/Chart.yaml" ]; return; fi
  local b; for b in $(binaries_of "$1"); do [ -x "$(bin_path "$1" "$b")" ] || return 1; done
  if [ "$1" = kwok ] && [ ! -f "$(stages_path)" ]; then need_go; kwok_stages "$(stages_path)"; fi
}
stages_path() { echo "${TIDE_KWOK_STAGES:-$(dir_of kwok)/stages.yaml}"; }
chart_path() { echo "${TIDE_PODINFO_CHART_DIR:-$(dir_of podinfo-chart)/podinfo}"; }

need_go() {
  if ! command -v go >/dev/null 2>&1; then
    echo "error: building the test-bed tools needs the Go toolchain (go >= 1.26) on PATH," >&2
    echo "       or prebuilt binaries named by TIDE_<TOOL>_BIN (for example TIDE_KUBE_APISERVER_BIN)." >&2
    exit 1
  fi
  local v; v=$(go env GOVERSION | sed 's/^go//')
  if [ "$(printf '%s\n1.26\n' "$v" | sort -V | head -1)" != "1.26" ]; then
    echo "error: go $v is too old; the pinned Kubernetes $K needs go >= 1.26" >&2; exit 1
  fi
}

# Builds into a temporary directory then renames it, so a killed build never
# leaves a half-filled cache entry that a later run would trust.
stage() { local d; d=$(dir_of "$1"); rm -rf "$d.tmp"; mkdir -p "$d.tmp/bin"; echo "$d.tmp"; }
commit() { local d; d=$(dir_of "$1"); rm -rf "$d"; mv "$d.tmp" "$d"; }

build_kubernetes() {
  local out; out=$(stage kubernetes)
  local minor; minor=$(echo "$K" | cut -d. -f2)
  local ldf="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $p.gitVersion=v$K -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$HACK/tools/k8s" && go build -ldflags "$ldf" -o "$out/bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)
  commit kubernetes
}
build_etcd() {
  local out; out=$(stage etcd)
  (cd "$HACK/tools/etcd" && go build -ldflags "-s -w" -o "$out/bin/etcd" .)
  commit etcd
}
go_install() { # tool package version [ldflags]
  local out; out=$(stage "$1")
  GOBIN="$out/bin" go install -ldflags "-s -w ${4:-}" "$2@$3"
  commit "$1"
}
build_kwok() {
  go_install kwok sigs.k8s.io/kwok/cmd/kwok "v$KWOK_VERSION"
  kwok_stages "$(dir_of kwok)/stages.yaml"
}
# kwok needs Stage objects to move nodes and pods along; the fast stages ship in its module.
kwok_stages() {
  local src f; src=$(go mod download -json "sigs.k8s.io/kwok@v$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/kustomize/stage
  : > "$1.tmp"
  for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    [ -f "$src/$f.yaml" ] || continue
    cat "$src/$f.yaml" >> "$1.tmp"; printf '\n---\n' >> "$1.tmp"
  done
  mv "$1.tmp" "$1"
}
build_helm() { go_install helm helm.sh/helm/v4/cmd/helm "v$HELM_VERSION" "-X helm.sh/helm/v4/internal/version.version=v$HELM_VERSION"; }
build_kustomize() { go_install kustomize sigs.k8s.io/kustomize/kustomize/v5 "v$KUSTOMIZE_VERSION"; }
build_sops() { go_install sops github.com/getsops/sops/v3/cmd/sops "v$SOPS_VERSION"; }
# The chart is copied out of the module cache (read-only there) and checked to be the pinned version.
build_podinfo_chart() {
  local out src; out=$(stage podinfo-chart)
  src=$(go mod download -json "github.com/stefanprodan/podinfo@$PODINFO_MODULE_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  if ! grep -qx "version: $PODINFO_CHART_VERSION" "$src/charts/podinfo/Chart.yaml" 2>/dev/null; then
    echo "error: podinfo@$PODINFO_MODULE_VERSION holds no chart version $PODINFO_CHART_VERSION in charts/podinfo" >&2
    exit 1
  fi
  rmdir "$out/bin"
  cp -R "$src/charts/podinfo" "$out/podinfo"
  chmod -R u+w "$out"
  commit podinfo-chart
}

ALL="kubernetes etcd kwok helm kustomize sops podinfo-chart"
if [ "${1:-}" = "--print" ]; then
  shift
  for t in ${*:-$ALL}; do
    for b in $(binaries_of "$t"); do echo "$b=$(bin_path "$t" "$b")"; done
    if [ "$t" = podinfo-chart ]; then echo "podinfo-chart=$(chart_path)"; fi
  done
  [ -n "${*:-}" ] || echo "kwok-stages=$(stages_path)"
  exit 0
fi

total=$SECONDS
for t in ${*:-$ALL}; do
  if have "$t"; then echo "tools: $t ready ($(dir_of "$t"))"; continue; fi
  need_go
  echo "tools: building $t ..."
  start=$SECONDS
  "build_${t//-/_}"
  echo "tools: built $t in $((SECONDS - start))s"
done
echo "tools: done in $((SECONDS - total))s"
