#!/usr/bin/env bash
# Times `fluxgate diff` of a one-file change on a generated fleet, with and
# without --changed-only, and a plain `fluxgate render` of one revision for
# scale. The fleet is committed to a fresh git repository on main; branch
# change edits one manifest of one Kustomization path (reached from one
# cluster). Prints the median wall time of RUNS runs of each, after one
# untimed warm-up run.
#
# Environment (defaults in brackets): CLUSTERS [10], KUSTOMIZATIONS [20],
# OBJECTS [12] size the fleet (CLUSTERS×(1+KUSTOMIZATIONS) units); RUNS [5].
set -euo pipefail
export GOTOOLCHAIN=go1.27.3

cd "$(dirname "${BASH_SOURCE[0]}")/.."
CLUSTERS=${CLUSTERS:-10}
KUSTOMIZATIONS=${KUSTOMIZATIONS:-20}
OBJECTS=${OBJECTS:-12}
RUNS=${RUNS:-5}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -trimpath -o "$tmp/fluxgate" ./cmd/fluxgate
go run ./bench/fleetgen -clusters "$CLUSTERS" -kustomizations "$KUSTOMIZATIONS" -objects "$OBJECTS" -out "$tmp/fleet" >/dev/null

cd "$tmp/fleet"
git init -q -b main
git add -A
git -c user.name=bench -c user.email=bench@fluxgate.invalid commit -qm base
git checkout -qb change
file=$(git ls-files '*.yaml' | grep -v '^clusters/' | grep -v kustomization.yaml | sort | head -1)
printf '# edited\n' >> "$file"
sed -i '0,/replicas: [0-9]*/s//replicas: 7/' "$file"
git -c user.name=bench -c user.email=bench@fluxgate.invalid commit -qam "edit $file"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() {
	"$@" >/dev/null 2>&1 || true
	for _ in $(seq "$RUNS"); do
		start=$(date +%s.%N)
		"$@" >/dev/null 2>&1 || true
		end=$(date +%s.%N)
		echo "$end - $start" | bc
	done | median
}

echo "fleet: $CLUSTERS clusters × (1 + $KUSTOMIZATIONS) units × $OBJECTS objects; changed: $file"
printf '%-28s %s\n' "run" "median wall s"
printf '%-28s %s\n' "render (one revision)" "$(measure "$tmp/fluxgate" render --offline --ref main .)"
printf '%-28s %s\n' "diff" "$(measure "$tmp/fluxgate" diff --offline --base main --head change .)"
printf '%-28s %s\n' "diff --changed-only" "$(measure "$tmp/fluxgate" diff --offline --base main --head change --changed-only .)"
"$tmp/fluxgate" diff --offline --base main --head change --changed-only . 2>&1 >/dev/null | sed 's/^/changed-only: /'
"$tmp/fluxgate" diff --offline --base main --head change . 2>&1 >/dev/null | sed 's/^/full: /'
