// Command fluxgate checks and drives Flux GitOps repositories from CI.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/fluxgate/fluxgate/internal/runtimetune"
)

func main() {
	stopGC := runtimetune.TuneGC(os.Getenv("GOGC") != "", os.Getenv("GOMEMLIMIT") != "")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal cancels the run, which cleans up and stops; a
		// second one, should anything not heed the first, ends the process.
		<-ctx.Done()
		stop()
	}()
	stopProfile, err := runtimetune.StartProfile(os.Getenv("FLUXGATE_CPUPROFILE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fluxgate: FLUXGATE_CPUPROFILE:", err)
	}
	stopHeapProfile := runtimetune.StartHeapProfile(os.Getenv("FLUXGATE_MEMPROFILE"), func(err error) {
		fmt.Fprintln(os.Stderr, "fluxgate: FLUXGATE_MEMPROFILE:", err)
	})
	err = newRootCmd(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stopHeapProfile()
	stopProfile()
	stop()
	stopGC()
	os.Exit(exitCode(err))
}

// exitCode maps an error to the process exit code (see exitStatus) and
// prints it.
func exitCode(err error) int {
	if err != nil {
		fmt.Fprintln(os.Stderr, "fluxgate:", err)
	}
	return exitStatus(err)
}

// exitStatus is the exit code of an error: 0 clean, 1 findings at or
// above the failure threshold, units diff could not render, or changes
// with --exit-code; 2 usage or tool error.
func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	var f *findingsError
	var c *changesError
	var u *unrenderedError
	var r *promoteRefused
	if errors.As(err, &f) || errors.As(err, &c) || errors.As(err, &u) || errors.As(err, &r) {
		return 1
	}
	return 2
}

// findingsError reports that the run completed and found problems at or
// above the failure threshold.
type findingsError struct{ n int }

func (e *findingsError) Error() string {
	return fmt.Sprintf("%d problem(s) at or above the failure threshold", e.n)
}

// unrenderedError reports that diff ran and some units could not render
// in base, head or both: what they change is missing from the report.
type unrenderedError struct{ units int }

func (e *unrenderedError) Error() string {
	return fmt.Sprintf("%d unit(s) could not render; the diff does not show what they change", e.units)
}

// changesError reports, for --exit-code, that the revisions differ.
type changesError struct{ units int }

func (e *changesError) Error() string {
	return fmt.Sprintf("%d unit(s) changed", e.units)
}
