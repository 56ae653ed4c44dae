// Command fluxgate checks and drives Flux GitOps repositories from CI.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
)

func main() {
	if os.Getenv("GOGC") == "" {
		// A run allocates much short-lived YAML; collecting half as often
		// saves about a sixth of the CPU for a little more memory
		// (bench/RESULTS.md). GOGC overrides it.
		debug.SetGCPercent(200)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startProfile(os.Getenv("FLUXGATE_CPUPROFILE"))
	err := newRootCmd(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stopProfile()
	stop()
	os.Exit(exitCode(err))
}

// startProfile writes a CPU profile of the run to path (for the benchmark
// scripts and `go tool pprof`); an empty path profiles nothing.
func startProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fluxgate: FLUXGATE_CPUPROFILE:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// exitCode maps an error to the process exit code: 0 clean, 1 findings at
// or above the failure threshold, 2 usage or tool error.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var f *findingsError
	var c *changesError
	if errors.As(err, &f) || errors.As(err, &c) {
		fmt.Fprintln(os.Stderr, "fluxgate:", err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "fluxgate:", err)
	return 2
}

// findingsError reports that the run completed and found problems at or
// above the failure threshold.
type findingsError struct{ n int }

func (e *findingsError) Error() string {
	return fmt.Sprintf("%d problem(s) at or above the failure threshold", e.n)
}
