#!/usr/bin/env bash
# Times `fluxgate validate` on one large manifest file of many small
# ConfigMaps (about 300 bytes each), in three layouts: a plain directory,
# the same file listed by a kustomization.yaml, and the same list with a
# namePrefix (a transformer, so kustomize builds it). Prints size, wall
# time, MB/s and peak RSS of a cold run (empty cache) of each.
#
# Environment (defaults in brackets): SIZES [1 3 9], the file sizes in MB;
# PREFIX_MAX [3], the largest size also timed with the namePrefix layout
# (kustomize's own build is quadratic in the number of objects).
set -euo pipefail
export GOTOOLCHAIN=go1.27.3

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SIZES=${SIZES:-1 3 9}
PREFIX_MAX=${PREFIX_MAX:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/fluxgate" ./cmd/fluxgate

gen() { # gen MB FILE
	awk -v limit=$(($1 * 1000000)) 'BEGIN {
		pad = sprintf("%200s", ""); gsub(/ /, "x", pad)
		for (i = 0; bytes < limit; i++) {
			doc = sprintf("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n  namespace: default\ndata:\n  key: value-%d-%s\n", i, i, pad)
			printf "%s", doc; bytes += length(doc)
		}
	}' >"$2"
}

run() { # run LABEL DIR
	local bytes s
	bytes=$(stat -c %s "$2/big.yaml")
	rm -rf "$work/cache"
	/usr/bin/time -f "%e %M" -o "$work/time" "$work/fluxgate" validate "$2" --cache-dir "$work/cache" -q >/dev/null
	read -r s kb <"$work/time"
	awk -v l="$1" -v b="$bytes" -v s="$s" -v kb="$kb" -v n="$(grep -c '^kind:' "$2/big.yaml")" \
		'BEGIN { printf "| %-26s | %5.1f | %6d | %7.2f | %6.2f | %5d |\n", l, b/1e6, n, s, b/1e6/s, kb/1024 }'
}

echo "| Layout | MB | Objects | s | MB/s | peak RSS MiB |"
echo "|---|---|---|---|---|---|"
for mb in $SIZES; do
	d=$work/plain-$mb && mkdir -p "$d" && gen "$mb" "$d/big.yaml"
	run "plain directory" "$d"
	k=$work/kust-$mb && mkdir -p "$k" && cp "$d/big.yaml" "$k/" && printf 'resources:\n- big.yaml\n' >"$k/kustomization.yaml"
	run "kustomization.yaml" "$k"
	if [ "$mb" -le "$PREFIX_MAX" ]; then
		p=$work/prefix-$mb && mkdir -p "$p" && cp "$d/big.yaml" "$p/" && printf 'namePrefix: p-\nresources:\n- big.yaml\n' >"$p/kustomization.yaml"
		run "kustomization + namePrefix" "$p"
	fi
done
