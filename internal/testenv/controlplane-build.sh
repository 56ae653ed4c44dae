#!/usr/bin/env bash
# Builds the local control plane `fluxgate test --cluster local` and the
# cluster tests start, from the Go module proxy only, into
#
#   ${FLUXGATE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fluxgate-tools}/controlplane/
#     kube-apiserver etcd kubectl     built by the shared apiserver recipe
#     kube-controller-manager         k8s.io/kubernetes/cmd/kube-controller-manager
#     kube-scheduler                  k8s.io/kubernetes/cmd/kube-scheduler
#     kwok                            sigs.k8s.io/kwok/cmd/kwok (simulated nodes)
#
# The controller manager and the scheduler are built in the recipe's wrapper
# module (a main module requiring k8s.io/kubernetes with every staging module
# replaced by its published v0.N.P). Idempotent: a stamp records the inputs;
# a second run with the same inputs exits at once.
#
# RECIPE (default /work/shared/recipes/apiserver-recipe.sh, or the copy named
# by FLUXGATE_APISERVER_RECIPE) builds the first three binaries.
set -euo pipefail

export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
K8S_VERSION=${K8S_VERSION:-1.37.2}
KWOK_VERSION=${KWOK_VERSION:-0.8.0}
RECIPE=${FLUXGATE_APISERVER_RECIPE:-/work/shared/recipes/apiserver-recipe.sh}
export K8S_VERSION

tools_dir=${FLUXGATE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fluxgate-tools}
dest="$tools_dir/controlplane"
self_sum=$(sha256sum "$0" | cut -c1-16)
stamp="k8s=$K8S_VERSION kwok=$KWOK_VERSION $(go env GOVERSION) script=$self_sum"
bins=(kube-apiserver etcd kubectl kube-controller-manager kube-scheduler kwok)

up_to_date() {
	[[ "$(cat "$dest/.fluxgate-stamp" 2>/dev/null)" == "$stamp" ]] || return 1
	for b in "${bins[@]}"; do [[ -x "$dest/$b" ]] || return 1; done
}
if up_to_date; then
	exit 0
fi
if [[ ! -f "$RECIPE" ]]; then
	echo "controlplane-build: the apiserver recipe $RECIPE does not exist (set FLUXGATE_APISERVER_RECIPE)" >&2
	exit 1
fi

start=$SECONDS
echo "controlplane-build: building the control plane v$K8S_VERSION into $dest (many minutes cold)" >&2
mkdir -p "$dest"
wrap="$dest/.wrapper"
KAPI_WRAPPER_DIR="$wrap" bash "$RECIPE" "$dest" >&2

export GOFLAGS=-buildvcs=false CGO_ENABLED=0
cat > "$wrap/tools_fluxgate.go" <<'GO'
//go:build tools

// Package tools pins the further commands the fluxgate control plane runs.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
(cd "$wrap" && go mod tidy)

minor=$(echo "$K8S_VERSION" | cut -d. -f2)
ldflags="-s -w"
for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
	ldflags+=" -X '$p.gitVersion=v$K8S_VERSION' -X '$p.gitMajor=1' -X '$p.gitMinor=$minor'"
	ldflags+=" -X '$p.gitTreeState=clean' -X '$p.buildDate=1970-01-01T00:00:00Z'"
done
build() { # name package
	local t=$SECONDS
	(cd "$wrap" && go build -ldflags="$ldflags" -o "$dest/$1.tmp" "$2")
	mv -f "$dest/$1.tmp" "$dest/$1"
	echo "controlplane-build: built $1 in $((SECONDS - t))s" >&2
}
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
build kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler

# kwok's go.mod has no replace directives: go install builds it as published.
t=$SECONDS
GOBIN="$dest/.kwok-bin" go install -ldflags="-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
mv -f "$dest/.kwok-bin/kwok" "$dest/kwok"
rmdir "$dest/.kwok-bin" 2>/dev/null || true
echo "controlplane-build: built kwok in $((SECONDS - t))s" >&2

echo "$stamp" > "$dest/.fluxgate-stamp"
echo "controlplane-build: done in $((SECONDS - start))s: $dest" >&2
