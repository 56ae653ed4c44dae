#!/usr/bin/env bash
# Benchmarks fleet.Load + render.Render of generated fleets (BenchmarkRender
# in render/bench_test.go) and prints the go test output. Extra arguments are
# passed to go test, e.g. for a CPU profile (-o keeps the test binary out of
# the tree): bench/render.sh -cpuprofile /tmp/render.prof -o /tmp/render.test
set -euo pipefail
export GOTOOLCHAIN=go1.27.3

cd "$(dirname "${BASH_SOURCE[0]}")/.."
go test ./render/ -run '^$' -bench BenchmarkRender -benchtime 5x -count 1 "$@"
