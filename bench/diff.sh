#!/usr/bin/env bash
# Times `fluxgate diff` of a one-file change on the generated fleet that
# bench/compare.sh validates (same mix and sizes), with and without
# --changed-only, and a plain `fluxgate render` of one revision for scale.
#
# The fleet is committed to a fresh git repository on main and packed
# (git gc), as a clone in CI is; branch change edits one Deployment of
# one app's base, which one Kustomization per cluster builds. Each command
# runs once untimed, then RUNS times; the script prints the median wall
# time and the median CPU time (user+sys, GNU time) of each.
#
#   cold cache   every run gets an empty --cache-dir (a first CI run);
#   warm cache   every run shares a --cache-dir the untimed run filled
#                (a run with actions/cache restoring the previous one).
#
# Environment (defaults in brackets): UNITS [1000] (10..5000), OBJECTS [8],
# RUNS [5].
set -euo pipefail
export GOTOOLCHAIN=go1.27.3

cd "$(dirname "${BASH_SOURCE[0]}")/.."
UNITS=${UNITS:-1000}
OBJECTS=${OBJECTS:-8}
RUNS=${RUNS:-5}
CLUSTERS=$((UNITS / 100))
((CLUSTERS >= 1)) || CLUSTERS=1
KUSTOMIZATIONS=$(((UNITS / CLUSTERS - 2) / 2))
mix=(-clusters "$CLUSTERS" -kustomizations "$KUSTOMIZATIONS" -objects "$OBJECTS" -helmreleases 1 -secrets 1 -crds 2 -seed 1)

if [[ ! -x /usr/bin/time ]]; then
	echo "GNU time (/usr/bin/time) is required: apt-get install time" >&2
	exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -trimpath -o "$tmp/fluxgate" ./cmd/fluxgate
units=$(go run ./bench/fleetgen -units "${mix[@]}")
go run ./bench/fleetgen -out "$tmp/fleet" "${mix[@]}" >/dev/null

cd "$tmp/fleet"
git init -q -b main
git add -A
git -c user.name=bench -c user.email=bench@fluxgate.invalid commit -qm base
git checkout -qb change
file=$(git ls-files 'apps/*/base/deployment-*.yaml' | sort | head -1)
printf '# edited\n' >>"$file"
sed -i '0,/replicas: [0-9]*/s//replicas: 7/' "$file"
git -c user.name=bench -c user.email=bench@fluxgate.invalid commit -qam "edit $file"
git gc -q

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# measure COLD|WARM CMD...: median wall and CPU seconds of RUNS runs.
measure() {
	local mode=$1
	shift
	local cache=$tmp/cache-warm
	"$@" --cache-dir "$cache" >/dev/null 2>&1 || true
	for _ in $(seq "$RUNS"); do
		[[ $mode == warm ]] || cache=$(mktemp -d "$tmp/cache-cold-XXXX")
		/usr/bin/time -f "%e %U %S" -o "$tmp/time" "$@" --cache-dir "$cache" >/dev/null 2>&1 || true
		cat "$tmp/time"
	done >"$tmp/times"
	echo "$(awk '{print $1}' "$tmp/times" | median) $(awk '{print $2 + $3}' "$tmp/times" | median)"
}

echo "fleet: $units units (fleetgen ${mix[*]}); changed: $file; $RUNS runs, medians"
printf '%-40s %8s %8s\n' "run" "wall s" "CPU s"
row() {
	local name=$1
	shift
	read -r wall cpu < <(measure "$@")
	printf '%-40s %8s %8s\n' "$name" "$wall" "$cpu"
}
f=$tmp/fluxgate
row "render --ref main, cold cache" cold "$f" render --offline --ref main .
row "diff, cold cache" cold "$f" diff --offline --base main --head change .
row "diff, warm cache" warm "$f" diff --offline --base main --head change .
row "diff --changed-only, cold cache" cold "$f" diff --offline --base main --head change --changed-only .
row "diff --changed-only, warm cache" warm "$f" diff --offline --base main --head change --changed-only .
"$f" diff -v --offline --base main --head change --changed-only --cache-dir "$tmp/cache-warm" . 2>&1 >/dev/null | sed 's/^/changed-only: /'
"$f" diff -v --offline --base main --head change --cache-dir "$tmp/cache-warm" . 2>&1 >/dev/null | sed 's/^/full: /'
