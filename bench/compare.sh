#!/usr/bin/env bash
# Compares, on one generated fleet in one run, `fluxgate validate` with the
# two ways teams check a Flux repository without it:
#
#   classic  `kustomize build` of every directory holding a
#            kustomization.yaml, piped into `kubeconform -strict`;
#   flux     `flux build kustomization NAME --path PATH --kustomization-file
#            FILE --dry-run` for every Flux Kustomization of every cluster,
#            piped into the same `kubeconform -strict`.
#
# and prints wall time, CPU time (user+sys, children included) and peak RSS
# of each (GNU time; for the loops the peak is that of their largest single
# process), the ratios to fluxgate, and what each approach found.
#
# The fleet (bench/fleetgen, seed 1) mixes kustomize overlays with
# postBuild substitution, HelmReleases from a local chart, SOPS-encrypted
# Secrets and CRDs with custom resources: per cluster, the flux-system and
# crds Kustomizations, KUSTOMIZATIONS app Kustomizations and one HelmRelease
# per app, so UNITS = CLUSTERS × (2 + 2 × KUSTOMIZATIONS). UNITS picks
# CLUSTERS = max(1, UNITS/100) and the KUSTOMIZATIONS closest below; the
# unit count used is printed.
#
# Tools are built with the toolchain below into
# ${XDG_CACHE_HOME:-$HOME/.cache}/fluxgate-bench (kept for the next run):
# kustomize and kubeconform with `go install module@version`, the flux CLI
# from its module as the proxy serves it. flux2's go.mod holds a replace
# directive, which `go install module@version` refuses, so the module is
# downloaded (`go mod download`) and built in a copy with its own go.mod; its
# cmd/flux/manifests (the install manifests flux's Makefile fetches from
# GitHub, embedded for `flux install`) is not in the module zip, so the copy
# gets an empty placeholder: `flux build` does not use it. If the flux CLI
# does not build, the script says so and prints the table without it.
#
# Like for like: kubeconform reads the schemas of fluxgate's embedded
# catalog (bench/schemas) with -ignore-missing-schemas, so resources without
# a schema (the custom resources) are skipped, as counted in the output.
# What each side cannot see is listed under the table.
#
# Environment (defaults in brackets): UNITS [1000] (10..5000), OBJECTS [8]
# plain objects per app base, RUNS [1] timed runs (median printed; each
# command also runs once untimed first, except the loops when RUNS=1, whose
# single run is timed), K8S_VERSION [1.37], FLUX_VERSION [v2.9.5],
# ONLY [all|fluxgate] (fluxgate: time fluxgate validate alone, for memory at
# large sizes).
set -euo pipefail
export GOTOOLCHAIN=go1.27.3

cd "$(dirname "${BASH_SOURCE[0]}")/.."
UNITS=${UNITS:-1000}
OBJECTS=${OBJECTS:-8}
RUNS=${RUNS:-1}
K8S_VERSION=${K8S_VERSION:-1.37}
FLUX_VERSION=${FLUX_VERSION:-v2.9.5}
ONLY=${ONLY:-all}
kustomize_version=v5.8.1
kubeconform_version=v0.8.0

if ((UNITS < 10 || UNITS > 5000)); then
	echo "UNITS must be between 10 and 5000, got $UNITS" >&2
	exit 2
fi
CLUSTERS=$((UNITS / 100))
((CLUSTERS >= 1)) || CLUSTERS=1
KUSTOMIZATIONS=$(((UNITS / CLUSTERS - 2) / 2))
mix=(-clusters "$CLUSTERS" -kustomizations "$KUSTOMIZATIONS" -objects "$OBJECTS" -helmreleases 1 -secrets 1 -crds 2 -seed 1)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- tools -------------------------------------------------------------------
cache=${XDG_CACHE_HOME:-$HOME/.cache}/fluxgate-bench
bin=$cache/bin-$(go env GOVERSION)-kustomize-$kustomize_version-kubeconform-$kubeconform_version
mkdir -p "$bin"
if [[ $ONLY == all && ! -x $bin/kustomize ]]; then
	echo "installing kustomize $kustomize_version into $bin" >&2
	(cd "$tmp" && GOBIN=$bin GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$kustomize_version")
fi
if [[ $ONLY == all && ! -x $bin/kubeconform ]]; then
	echo "installing kubeconform $kubeconform_version into $bin" >&2
	(cd "$tmp" && GOBIN=$bin GOFLAGS=-mod=mod go install "github.com/yannh/kubeconform/cmd/kubeconform@$kubeconform_version")
fi
kustomize=$bin/kustomize
kubeconform=$bin/kubeconform

flux=$cache/flux-$FLUX_VERSION-$(go env GOVERSION)/flux
flux_status="flux CLI $FLUX_VERSION"
if [[ $ONLY == all && ! -x $flux ]]; then
	echo "building the flux CLI $FLUX_VERSION into $(dirname "$flux") (several minutes cold)" >&2
	: >"$tmp/flux-build.log"
	if src=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "github.com/fluxcd/flux2/v2@$FLUX_VERSION" 2>>"$tmp/flux-build.log" | tee -a "$tmp/flux-build.log" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p') && [[ -n $src ]] &&
		cp -r "$src" "$tmp/flux2" && chmod -R u+w "$tmp/flux2" &&
		mkdir -p "$tmp/flux2/cmd/flux/manifests" &&
		echo '# placeholder: the install manifests are not in the module zip' >"$tmp/flux2/cmd/flux/manifests/placeholder.yaml" &&
		(cd "$tmp/flux2" && go build -trimpath -ldflags "-s -w -X main.VERSION=${FLUX_VERSION#v}" -o "$tmp/flux" ./cmd/flux) >"$tmp/flux-build.log" 2>&1; then
		mkdir -p "$(dirname "$flux")"
		mv "$tmp/flux" "$flux"
	else
		flux_status="flux CLI $FLUX_VERSION NOT BUILT with $(go env GOVERSION): column skipped ($(grep -v '^go: downloading' "$tmp/flux-build.log" | tail -n 3 | tr '\n' ' ' || true))"
		echo "$flux_status" >&2
		flux=
	fi
fi
[[ $ONLY == all ]] || flux=

echo "building fluxgate" >&2
go build -o "$tmp/fluxgate" ./cmd/fluxgate
fluxgate=$tmp/fluxgate

nschemas=-
if [[ $ONLY == all ]]; then
	nschemas=$(go run ./bench/schemas -out "$tmp/schemas" -kubernetes-version "$K8S_VERSION")
fi
tpl="$tmp/schemas/{{ .Group }}/{{ .ResourceAPIVersion }}/{{ .ResourceKind }}.json"

units=$(go run ./bench/fleetgen -units "${mix[@]}")
echo "generating a fleet of $units units: fleetgen ${mix[*]}" >&2
files=$(go run ./bench/fleetgen -out "$tmp/fleet" "${mix[@]}")
fleet=$tmp/fleet

if [[ ! -x /usr/bin/time ]]; then
	echo "/usr/bin/time not found (apt-get install -y time): no peak RSS without it" >&2
	exit 2
fi

# The classic loop and the flux loop, each run by `bash -c` so that one
# timer covers the whole loop. Both append kubeconform's summary lines to
# LOG and one line per step: "ok X", "build-failed X" or "invalid X".
classic='
kustomize=$1 kubeconform=$2 tpl=$3 dir=$4 log=$5
: >"$log"; : >"$log.err"
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
# Arguments: flux kubeconform template fleet list log; the list holds
# "NAME PATH FILE" lines, one per Flux Kustomization.
fluxloop='
flux=$1 kubeconform=$2 tpl=$3 dir=$4 list=$5 log=$6
: >"$log"; : >"$log.err"
cd "$dir"
while read -r name path file; do
	"$flux" build kustomization "$name" --path "$path" --kustomization-file "$file" --dry-run --in-memory-build 2>>"$log.err" |
		"$kubeconform" -strict -summary -ignore-missing-schemas -schema-location "$tpl" - >>"$log" 2>&1
	st=("${PIPESTATUS[@]}")
	if ((st[0] != 0)); then echo "build-failed $file $name" >>"$log"
	elif ((st[1] != 0)); then echo "invalid $file $name" >>"$log"
	else echo "ok $file $name" >>"$log"; fi
done <"$list"
'

# Every Flux Kustomization of the clusters: NAME PATH FILE (relative to
# the fleet), read from the YAML before the clock starts.
(cd "$fleet" && awk '
function flush() { if (isks && kind && name != "" && path != "") print name, path, file; isks = kind = 0; name = path = "" }
FNR == 1 { flush(); file = FILENAME }
/^---/ { flush(); next }
/^apiVersion: kustomize.toolkit.fluxcd.io\// { isks = 1 }
/^kind: Kustomization$/ { kind = 1 }
/^  name: / && name == "" { name = $2 }
/^  path: / { path = $2 }
END { flush() }
' $(find clusters -name '*.yaml' | sort)) >"$tmp/ks.list"

# measure NAME WARMUP CMD...: runs CMD once untimed when WARMUP is 1, then
# RUNS times under GNU time, and sets wall, cpu, rss to the medians. Exit
# status 0 or 1 is accepted.
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() {
	local name=$1 warm=$2
	shift 2
	if ((warm)); then
		local rc=0
		"$@" >/dev/null 2>"$tmp/$name.stderr" || rc=$?
		if ((rc > 1)); then
			echo "$name: exit status $rc" >&2
			cat "$tmp/$name.stderr" >&2
			exit 2
		fi
	fi
	: >"$tmp/$name.times"
	for ((i = 0; i < RUNS; i++)); do
		/usr/bin/time -f '%e %U %S %M %x' -o "$tmp/$name.t" "$@" >"$tmp/$name.out" 2>"$tmp/$name.stderr" || true
		read -r e u s m x < <(tail -n 1 "$tmp/$name.t")
		if ((x > 1)); then
			echo "$name: exit status $x" >&2
			cat "$tmp/$name.stderr" >&2
			exit 2
		fi
		awk -v e="$e" -v u="$u" -v s="$s" -v m="$m" 'BEGIN {printf "%s %.2f %d\n", e, u + s, m}' >>"$tmp/$name.times"
	done
	wall=$(cut -d' ' -f1 "$tmp/$name.times" | median)
	cpu=$(cut -d' ' -f2 "$tmp/$name.times" | median)
	rss=$(($(cut -d' ' -f3 "$tmp/$name.times" | median) / 1024))
	echo "$name: runs (wall s, cpu s, rss KiB): $(tr '\n' ';' <"$tmp/$name.times")" >&2
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f×", a / b; else print "-" }'; }
summary() { tr -d ' \n' <"$1" | grep -o '"summary":{[^}]*' | grep -o "\"$2\":[0-9]*" | cut -d: -f2 || echo '?'; }

# loopcounts LOG: "steps ok invalid failed resources invalid-resources errors skipped"
loopcounts() {
	local log=$1
	echo "$(grep -cE '^(ok|build-failed|invalid) ' "$log" || true)" \
		"$(grep -c '^ok ' "$log" || true)" \
		"$(grep -c '^invalid ' "$log" || true)" \
		"$(grep -c '^build-failed ' "$log" || true)" \
		"$(awk '/^Summary:/ {gsub(",", ""); n += $2; inv += $11; err += $13; sk += $15} END {print n + 0, inv + 0, err + 0, sk + 0}' "$log")"
}

# messages LOG: the most frequent kubeconform messages, object names
# replaced by *.
messages() {
	grep -vE '^(ok|invalid|build-failed) |^Summary:' "$1" |
		sed -E 's/^stdin - ([A-Za-z]+) [^ ]+ is invalid: .*jsonschema validation failed with [^ ]+ - /\1 *: /' |
		sort | uniq -c | sort -rn | head -n 5 || true
}

# --- runs --------------------------------------------------------------------
echo "timing fluxgate validate" >&2
# The peers keep nothing between runs: fluxgate's unit cache is off so that
# every run renders the whole fleet (RESULTS.md times the warm cache apart).
measure fluxgate 1 "$fluxgate" validate "$fleet" --no-unit-cache -o json
fwall=$wall fcpu=$cpu frss=$rss
cp "$tmp/fluxgate.out" "$tmp/fluxgate.json"
f_units=$(summary "$tmp/fluxgate.json" units)
f_objects=$(summary "$tmp/fluxgate.json" objects)
f_errors=$(summary "$tmp/fluxgate.json" errors)
f_warnings=$(summary "$tmp/fluxgate.json" warnings)
f_rules=$(grep -o '"rule": *"[^"]*"' "$tmp/fluxgate.json" | sed 's/.*"\([^"]*\)"$/\1/' | sort | uniq -c | awk '{printf "%s%s %s", sep, $2, $1; sep = ", "}' || true)

warm=0
((RUNS > 1)) && warm=1
if [[ $ONLY == all ]]; then
	echo "timing the classic loop ($(find "$fleet" -name kustomization.yaml | wc -l) directories)" >&2
	measure classic $warm bash -c "$classic" classic "$kustomize" "$kubeconform" "$tpl" "$fleet" "$tmp/classic.log"
	cwall=$wall ccpu=$cpu crss=$rss
	read -r c_steps c_ok c_invalid c_failed c_res c_resinv c_reserr c_skipped < <(loopcounts "$tmp/classic.log")
	c_msgs=$(messages "$tmp/classic.log")
fi
if [[ -n $flux ]]; then
	echo "timing the flux loop ($(wc -l <"$tmp/ks.list") Flux Kustomizations)" >&2
	measure flux $warm bash -c "$fluxloop" fluxloop "$flux" "$kubeconform" "$tpl" "$fleet" "$tmp/ks.list" "$tmp/flux.log"
	xwall=$wall xcpu=$cpu xrss=$rss
	read -r x_steps x_ok x_invalid x_failed x_res x_resinv x_reserr x_skipped < <(loopcounts "$tmp/flux.log")
	x_msgs=$(messages "$tmp/flux.log")
	if ((x_failed > 0)); then
		echo "flux build failures (first 3):" >&2
		sort -u "$tmp/flux.log.err" | head -n 3 >&2
	fi
fi

# --- report ------------------------------------------------------------------
echo
echo "$(date -u +%Y-%m-%d) · $(go env GOVERSION) $(go env GOOS)/$(go env GOARCH), nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "fleet: $units units (fleetgen ${mix[*]}; $files files); RUNS=$RUNS"
if [[ $ONLY == all ]]; then
	echo "tools: kustomize $kustomize_version, kubeconform $kubeconform_version ($nschemas schemas, Kubernetes $K8S_VERSION), $flux_status"
fi
echo
echo "| | wall (s) | CPU user+sys (s) | peak RSS (MiB) | wall / fluxgate | CPU / fluxgate |"
echo "|---|---:|---:|---:|---:|---:|"
echo "| fluxgate validate | $fwall | $fcpu | $frss | 1.0× | 1.0× |"
if [[ $ONLY == all ]]; then
	echo "| kustomize build \\| kubeconform -strict (every kustomization.yaml) | $cwall | $ccpu | $crss | $(ratio "$cwall" "$fwall") | $(ratio "$ccpu" "$fcpu") |"
	if [[ -n $flux ]]; then
		echo "| flux build kustomization --dry-run \\| kubeconform -strict (every Flux Kustomization) | $xwall | $xcpu | $xrss | $(ratio "$xwall" "$fwall") | $(ratio "$xcpu" "$fcpu") |"
	else
		echo "| flux build kustomization | not built (see tools above) | | | | |"
	fi
fi
echo
echo "Findings:"
echo "- fluxgate: $f_units units, $f_objects objects checked (HelmRelease output and custom resources included); $f_errors errors, $f_warnings warnings${f_rules:+ ($f_rules)}."
if [[ $ONLY == all ]]; then
	echo "- classic: $c_steps directories ($c_ok clean, $c_invalid with kubeconform errors, $c_failed kustomize build failures); $c_res resources, $c_resinv invalid, $c_reserr errors, $c_skipped skipped (no schema)."
	if [[ -n ${c_msgs:-} ]]; then
		echo "  most frequent classic messages:"
		echo "$c_msgs" | sed 's/^/    /'
	fi
	if [[ -n $flux ]]; then
		echo "- flux: $x_steps Flux Kustomizations ($x_ok clean, $x_invalid with kubeconform errors, $x_failed flux build failures); $x_res resources, $x_resinv invalid, $x_reserr errors, $x_skipped skipped (no schema)."
		if [[ -n ${x_msgs:-} ]]; then
			echo "  most frequent flux messages:"
			echo "$x_msgs" | sed 's/^/    /'
		fi
	fi
	echo "- not seen by the loops: HelmRelease output (kustomize and flux build do not render charts), custom resources (no schema: skipped), cross-object rules; classic also does no post-build substitution and checks SOPS metadata as part of the Secret; flux --dry-run skips substituteFrom (ConfigMap values come from the cluster) and masks SOPS data."
fi
