#!/usr/bin/env bash
# Times the evaluation of 500 image policies against a local registry
# (go-containerregistry's registry over HTTP on 127.0.0.1, in process):
# fleet load, one tag listing per ImageRepository with a fresh client,
# tag selection and setter planning — what `fluxgate image-update --dry-run`
# does per run. Cases with 20 ms added to every registry response show the
# cost of the per-registry concurrency limit (--registry-concurrency).
#
# Environment: BENCHTIME [3x].
set -euo pipefail
export GOTOOLCHAIN=go1.27.3
cd "$(dirname "${BASH_SOURCE[0]}")/.."
go test ./imageupdate/ -run '^$' -bench BenchmarkEvaluatePolicies -benchtime "${BENCHTIME:-3x}" -count 1
