#!/usr/bin/env bash
# Helm v3.22.0 for the chart's checks (tests/unit/helmChart.test.ts), built from its Go module
# (helm.sh/helm/v3 through the Go module proxy) into a cache outside the repository, once, then
# reused. Nothing is downloaded from anywhere but the Go proxy. Measured on the 2-core CI machine:
# 3 to 4 minutes from an empty cache (module downloads and compile), 0 s once built.
#
#   scripts/helm.sh lint deploy/helm/betrace     runs helm (building it first when it is missing)
#   scripts/helm.sh --path                       builds if needed, prints the binary's path
#
# Exit 3 (and a message) when Go is not installed and no built helm is cached: the test skips then.
set -euo pipefail

HELM_VERSION=v3.22.0
cache="${BETRACE_CI_CACHE:-$HOME/.cache/betrace-ci}/helm-$HELM_VERSION"
helm="$cache/helm"

if [ ! -x "$helm" ]; then
  go="${GO:-$(command -v go || true)}"
  if [ -z "$go" ] && [ -x /usr/local/go/bin/go ]; then
    go=/usr/local/go/bin/go
  fi
  if [ -z "$go" ]; then
    echo "helm.sh: Go is not installed (looked for \$GO, go on PATH, /usr/local/go/bin/go) and $helm is not built" >&2
    exit 3
  fi
  mkdir -p "$cache"
  # One builder at a time; a second caller waits and then finds the binary.
  exec 9>"$cache/.lock"
  flock 9
  if [ ! -x "$helm" ]; then
    echo "helm.sh: building helm $HELM_VERSION with $("$go" version) into $cache (once)" >&2
    start=$(date +%s)
    work="$(mktemp -d "$cache/build.XXXXXX")"
    # An interrupted build leaves no half-built folder behind.
    trap 'rm -rf "$work"' EXIT
    # Module, build and GOPATH caches stay in the cache folder, never in the repository or ~/go.
    (
      cd "$work"
      export GOPATH="$cache/gopath" GOMODCACHE="$cache/gomodcache" GOCACHE="$cache/gocache"
      export GOBIN="$work/bin" GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
      "$go" install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
    )
    mv "$work/bin/helm" "$helm"
    # The binary is all that is reused: drop the Go caches (about 1.1 GB) it was built from.
    GOMODCACHE="$cache/gomodcache" "$go" clean -modcache
    rm -rf "$cache/gocache" "$cache/gopath"
    rm -rf "$work"
    trap - EXIT
    echo "helm.sh: built in $(( $(date +%s) - start )) s" >&2
  fi
  exec 9>&-
fi

if [ "${1:-}" = "--path" ]; then
  echo "$helm"
  exit 0
fi
exec "$helm" "$@"
