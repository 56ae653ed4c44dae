#!/usr/bin/env bash
# Builds the Gitea server used by the forge contract tests (internal/testenv/gitea.go)
# from its Go module and caches it outside the work tree:
#
#   ${FLUXGATE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fluxgate-tools}/gitea-$GITEA_VERSION/
#     gitea                     the binary (sqlite, no bindata)
#     templates/ options/ public/  the assets it reads at run time (STATIC_ROOT_PATH)
#
# Gitea cannot be `go install`ed (its go.mod has replace directives), so the
# module is downloaded with `go mod download`, copied to a writable temporary
# directory and built there. Idempotent: does nothing when the binary exists.
# Needs the go command (module proxy) and a C compiler (SQLite is cgo).
set -euo pipefail

GITEA_VERSION=${GITEA_VERSION:-1.26.0}
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}

tools_dir=${FLUXGATE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fluxgate-tools}
dest="$tools_dir/gitea-$GITEA_VERSION"
if [[ -x "$dest/gitea" ]]; then
	exit 0
fi

echo "gitea-build: building Gitea $GITEA_VERSION into $dest (several minutes)" >&2
start=$SECONDS

modjson=$(cd / && go mod download -json "code.gitea.io/gitea@v$GITEA_VERSION")
src=$(printf '%s\n' "$modjson" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
if [[ -z "$src" || ! -d "$src" ]]; then
	echo "gitea-build: go mod download gave no module directory:" >&2
	printf '%s\n' "$modjson" >&2
	exit 1
fi

mkdir -p "$tools_dir"
work=$(mktemp -d "$tools_dir/.gitea-src.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -R "$src/." "$work/"
chmod -R u+w "$work"

staging="$work/.out"
mkdir -p "$staging"
(
	cd "$work"
	CGO_ENABLED=1 GOFLAGS=-buildvcs=false go build -trimpath \
		-tags "sqlite sqlite_unlock_notify" \
		-ldflags "-s -w -X main.Version=$GITEA_VERSION" \
		-o "$staging/gitea" .
)
cp -R "$work/templates" "$work/options" "$work/public" "$staging/"

# Publish atomically so a concurrent reader never sees a half-written tree.
rm -rf "$dest.tmp"
mv "$staging" "$dest.tmp"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "gitea-build: done in $((SECONDS - start))s: $dest/gitea" >&2
