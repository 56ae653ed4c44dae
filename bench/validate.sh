#!/usr/bin/env bash
# Compares `fluxgate validate` with the classic pipeline, `kustomize build`
# of every directory holding a kustomization.yaml piped into
# `kubeconform -strict`, on a generated fleet and on the example fleet
# (testdata/fleets/fleet-infra), and prints wall time, CPU time (user+sys,
# children included) and peak RSS of each, and the classic/fluxgate ratios.
# `fluxgate render` is timed too, to split fluxgate's time between rendering
# and validation.
#
# kustomize and kubeconform are installed from the module proxy with
# `go install` into ${XDG_CACHE_HOME:-$HOME/.cache}/fluxgate-bench (kept for
# the next run); kubeconform reads the schemas of fluxgate's embedded catalog,
# written out by bench/schemas, so both sides check against the same schemas.
# The classic script does no Flux postBuild substitution and builds every
# directory, as such scripts do; it passes -ignore-missing-schemas so custom
# resources without a schema are skipped, as fluxgate only warns about them.
#
# Environment (defaults in brackets): CLUSTERS [10], KUSTOMIZATIONS [20],
# OBJECTS [12] size the generated fleet (CLUSTERS×(1+KUSTOMIZATIONS) units);
# RUNS [3] timed runs per measurement, the median of each column is printed
# (after one untimed warm-up run); K8S_VERSION [1.37].
set -euo pipefail
export GOTOOLCHAIN=go1.27.3

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

CLUSTERS=${CLUSTERS:-10}
KUSTOMIZATIONS=${KUSTOMIZATIONS:-20}
OBJECTS=${OBJECTS:-12}
RUNS=${RUNS:-3}
K8S_VERSION=${K8S_VERSION:-1.37}
kustomize_version=v5.8.1
kubeconform_version=v0.8.0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- tools -------------------------------------------------------------------
bin=${XDG_CACHE_HOME:-$HOME/.cache}/fluxgate-bench/bin-$(go env GOVERSION)-kustomize-$kustomize_version-kubeconform-$kubeconform_version
mkdir -p "$bin"
if [[ ! -x $bin/kustomize ]]; then
	echo "installing kustomize $kustomize_version into $bin" >&2
	(cd "$tmp" && GOBIN=$bin GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$kustomize_version")
fi
if [[ ! -x $bin/kubeconform ]]; then
	echo "installing kubeconform $kubeconform_version into $bin" >&2
	(cd "$tmp" && GOBIN=$bin GOFLAGS=-mod=mod go install "github.com/yannh/kubeconform/cmd/kubeconform@$kubeconform_version")
fi
kustomize=$bin/kustomize
kubeconform=$bin/kubeconform

echo "building fluxgate" >&2
go build -o "$tmp/fluxgate" ./cmd/fluxgate
fluxgate=$tmp/fluxgate

nschemas=$(go run ./bench/schemas -out "$tmp/schemas" -kubernetes-version "$K8S_VERSION")
tpl="$tmp/schemas/{{ .Group }}/{{ .ResourceAPIVersion }}/{{ .ResourceKind }}.json"

echo "generating a fleet of $CLUSTERS clusters × $KUSTOMIZATIONS kustomizations × $OBJECTS objects" >&2
go run ./bench/fleetgen -out "$tmp/fleet" -clusters "$CLUSTERS" -kustomizations "$KUSTOMIZATIONS" -objects "$OBJECTS" >/dev/null

if [[ -x /usr/bin/time ]]; then
	timer=gnu
else
	timer=bash
	echo "/usr/bin/time not found (apt-get install -y time): no peak RSS, times from bash" >&2
fi

# The classic pipeline, run by `bash -c` so that one timer covers it.
# Arguments: kustomize kubeconform template dir log. Appends kubeconform's
# output to the log and one line per directory: "ok DIR", "build-failed DIR"
# or "invalid DIR".
classic='
kustomize=$1 kubeconform=$2 tpl=$3 dir=$4 log=$5
: >"$log"
while IFS= read -r -d "" k; do
	d=${k%/kustomization.yaml}
	"$kustomize" build "$d" 2>>"$log.err" |
		"$kubeconform" -strict -summary -ignore-missing-schemas -schema-location "$tpl" - >>"$log" 2>&1
	st=("${PIPESTATUS[@]}")
	if ((st[0] != 0)); then echo "build-failed $d" >>"$log"
	elif ((st[1] != 0)); then echo "invalid $d" >>"$log"
	else echo "ok $d" >>"$log"; fi
done < <(find "$dir" -name kustomization.yaml -print0 | sort -z)
'

# measure NAME CMD...: runs CMD once untimed (warm-up), then RUNS times
# timed, and sets the globals wall, cpu, rss to the medians. CMD's exit
# status 0 or 1 is accepted.
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() {
	local name=$1
	shift
	local rc=0
	"$@" >/dev/null 2>"$tmp/$name.stderr" || rc=$?
	if ((rc > 1)); then
		echo "$name: exit status $rc" >&2
		cat "$tmp/$name.stderr" >&2
		exit 2
	fi
	: >"$tmp/$name.times"
	for ((i = 0; i < RUNS; i++)); do
		if [[ $timer == gnu ]]; then
			/usr/bin/time -f '%e %U %S %M' -o "$tmp/$name.t" "$@" >/dev/null 2>&1 || true
			tail -n 1 "$tmp/$name.t" | awk '{printf "%s %.2f %d\n", $1, $2 + $3, $4}' >>"$tmp/$name.times"
		else
			local TIMEFORMAT='%R %U %S'
			{ time "$@" >/dev/null 2>&1 || true; } 2>"$tmp/$name.t"
			awk '{printf "%s %.2f -\n", $1, $2 + $3}' "$tmp/$name.t" >>"$tmp/$name.times"
		fi
	done
	wall=$(cut -d' ' -f1 "$tmp/$name.times" | median)
	cpu=$(cut -d' ' -f2 "$tmp/$name.times" | median)
	rss=$(cut -d' ' -f3 "$tmp/$name.times" | median)
	if [[ $rss != - ]]; then rss="$((rss / 1024)) MiB"; fi
	echo "$name: runs (wall s, cpu s, rss KiB): $(tr '\n' ';' <"$tmp/$name.times")" >&2
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f×", a / b; else print "-" }'; }

# summary FILE FIELD: a number from the summary of fluxgate's JSON output.
summary() {
	tr -d ' \n' <"$1" | grep -o '"summary":{[^}]*' | grep -o "\"$2\":[0-9]*" | cut -d: -f2 || echo '?'
}

results=$tmp/results
: >"$results"
bench() {
	local label=$1 dir=$2
	echo "timing $label ($dir)" >&2

	# fluxgate validate, with -o json kept once for the counts.
	"$fluxgate" validate "$dir" -o json >"$tmp/$label.json" || true
	local units objects errors warnings
	units=$(summary "$tmp/$label.json" units)
	objects=$(summary "$tmp/$label.json" objects)
	errors=$(summary "$tmp/$label.json" errors)
	warnings=$(summary "$tmp/$label.json" warnings)

	measure "$label-render" "$fluxgate" render "$dir"
	local rwall=$wall rcpu=$cpu rrss=$rss
	measure "$label-validate" "$fluxgate" validate "$dir" -o json
	local fwall=$wall fcpu=$cpu frss=$rss
	measure "$label-classic" bash -c "$classic" classic "$kustomize" "$kubeconform" "$tpl" "$dir" "$tmp/$label.classic.log"
	local cwall=$wall ccpu=$cpu crss=$rss

	local log=$tmp/$label.classic.log
	local dirs ok failed invalid resources
	dirs=$(grep -cE '^(ok|build-failed|invalid) ' "$log" || true)
	ok=$(grep -c '^ok ' "$log" || true)
	failed=$(grep -c '^build-failed ' "$log" || true)
	invalid=$(grep -c '^invalid ' "$log" || true)
	resources=$(awk '/^Summary:/ {n += $2} END {print n + 0}' "$log")

	{
		echo "### $label: $dir"
		echo
		echo "fluxgate: $units units, $objects objects, $errors errors, $warnings warnings."
		echo "classic: $dirs directories with a kustomization.yaml ($ok built and valid, $invalid with kubeconform errors, $failed kustomize build failures), $resources resources checked."
		echo
		echo "| | wall (s) | CPU user+sys (s) | peak RSS |"
		echo "|---|---|---|---|"
		echo "| fluxgate render | $rwall | $rcpu | $rrss |"
		echo "| fluxgate validate | $fwall | $fcpu | $frss |"
		echo "| kustomize build \\| kubeconform -strict | $cwall | $ccpu | $crss |"
		echo "| classic / fluxgate validate | $(ratio "$cwall" "$fwall") | $(ratio "$ccpu" "$fcpu") | |"
		echo
	} >>"$results"
	if ((failed > 0)); then
		echo "$label: kustomize build failures (first 5):" >&2
		grep '^build-failed ' "$log" | head -n 5 >&2
	fi
}

bench generated "$tmp/fleet"
bench fleet-infra "$root/testdata/fleets/fleet-infra"

echo
echo "$(go env GOVERSION) $(go env GOOS)/$(go env GOARCH), nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "kustomize $kustomize_version, kubeconform $kubeconform_version, $nschemas schemas (Kubernetes $K8S_VERSION)"
echo "generated fleet: -clusters $CLUSTERS -kustomizations $KUSTOMIZATIONS -objects $OBJECTS; median of $RUNS runs after a warm-up ($timer timer)"
echo
cat "$results"
