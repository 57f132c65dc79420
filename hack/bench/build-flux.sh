#!/usr/bin/env bash
# Builds Flux's controllers from the Go module proxy for the benchmark's Flux columns, into a cache
# outside the repository (nothing of Flux is committed):
#   ${TIDE_FLUX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tide/flux}/<flux version>/bin/
# with each controller's CRDs (config/crd/bases of its module) in bin/crds/ and the component versions
# in bin/versions.env. Prints the directory to pass as FLUX_BIN_DIR on its last line.
#
# `go install module@version` refuses modules whose go.mod has replace directives, so each controller
# is built from a throwaway wrapper module in a temp dir that requires it and repeats its non-local
# replace lines (the local ones point at its own api/ submodule, which the require graph already has).
#
# Usage: hack/bench/build-flux.sh [controller ...]   (source kustomize helm; default: all three)
set -euo pipefail

HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=flux-versions.env
. "$HACK/flux-versions.env"
OUT=${TIDE_FLUX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tide/flux}/$FLUX_VERSION/bin
export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" GOTOOLCHAIN=local

if ! command -v go >/dev/null 2>&1; then
  echo "error: building Flux's controllers needs the Go toolchain (go >= 1.25) on PATH" >&2
  exit 1
fi

version_of() {
  case $1 in
    source) echo "$SOURCE_CONTROLLER_VERSION" ;;
    kustomize) echo "$KUSTOMIZE_CONTROLLER_VERSION" ;;
    helm) echo "$HELM_CONTROLLER_VERSION" ;;
    *) echo "unknown controller: $1 (want source, kustomize or helm)" >&2; exit 2 ;;
  esac
}

# Non-local replace directives of a go.mod, one "old[@v]=new@v" per line (single-line and block form).
replaces() {
  awk '
    /^replace[ \t]*\($/ { block = 1; next }
    block && /^\)/ { block = 0; next }
    /^replace / { sub(/^replace[ \t]+/, ""); line = $0 }
    block { line = $0 }
    line != "" {
      sub(/\/\/.*/, "", line); split(line, side, "=>"); n = split(side[1], l, " "); m = split(side[2], r, " ")
      if (m == 2) print (n == 2 ? l[1] "@" l[2] : l[1]) "=" r[1] "@" r[2]
      line = ""
    }
  ' "$1"
}

build() { # controller
  local name=$1 ver mod tmp gomod dir
  ver=$(version_of "$name")
  mod=github.com/fluxcd/$name-controller
  if [ -x "$OUT/$name-controller" ]; then echo "build-flux: $name-controller $ver ready" >&2; return; fi
  echo "build-flux: building $name-controller $ver ..." >&2
  local start=$SECONDS
  gomod=$(go mod download -json "$mod@$ver" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  dir=$(go mod download -json "$mod@$ver" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  (
    cd "$tmp"
    go mod init "tide.bench/flux-$name" >/dev/null 2>&1
    go mod edit -go="$(sed -n 's/^go //p' "$gomod")" -require="$mod@$ver"
    local r
    for r in $(replaces "$gomod"); do go mod edit -replace="$r"; done
    mkdir -p "$OUT.tmp"
    go build -mod=mod -ldflags "-s -w" -o "$OUT.tmp/$name-controller" "$mod"
  )
  mkdir -p "$OUT/crds"
  cp "$dir"/config/crd/bases/*.yaml "$OUT/crds/"
  chmod u+w "$OUT"/crds/*.yaml
  mv "$OUT.tmp/$name-controller" "$OUT/$name-controller"
  rmdir "$OUT.tmp" 2>/dev/null || true
  echo "build-flux: built $name-controller in $((SECONDS - start))s" >&2
}

mkdir -p "$OUT"
for c in ${*:-source kustomize helm}; do build "$c"; done
{
  echo "FLUX_VERSION=$FLUX_VERSION"
  echo "SOURCE_CONTROLLER_VERSION=$SOURCE_CONTROLLER_VERSION"
  echo "KUSTOMIZE_CONTROLLER_VERSION=$KUSTOMIZE_CONTROLLER_VERSION"
  echo "HELM_CONTROLLER_VERSION=$HELM_CONTROLLER_VERSION"
  echo "GO_VERSION=$(go env GOVERSION)"
} >"$OUT/versions.env"
echo "$OUT"
