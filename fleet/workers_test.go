package fleet_test

import (
	"runtime"
	"testing"

	"github.com/fluxgate/fluxgate/fleet"
)

// TestWorkers: zero asks for GOMAXPROCS, a value above MaxWorkers is
// clamped to it, others are kept.
func TestWorkers(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		{0, runtime.GOMAXPROCS(0)},
		{-3, runtime.GOMAXPROCS(0)},
		{1, 1},
		{fleet.MaxWorkers, fleet.MaxWorkers},
		{fleet.MaxWorkers + 1, fleet.MaxWorkers},
		{1 << 40, fleet.MaxWorkers},
	} {
		if got := fleet.Workers(c.n); got != c.want {
			t.Errorf("Workers(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}
