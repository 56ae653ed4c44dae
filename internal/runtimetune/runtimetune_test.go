package runtimetune

import (
	"runtime/debug"
	"testing"
)

// TestTuneGC checks that the command's memory limit starts at heapFloor
// and that GOGC or GOMEMLIMIT in the environment leave the collector as
// they set it.
func TestTuneGC(t *testing.T) {
	limit := debug.SetMemoryLimit(-1)
	percent := debug.SetGCPercent(100)
	t.Cleanup(func() {
		debug.SetMemoryLimit(limit)
		debug.SetGCPercent(percent)
	})
	for _, tt := range []struct {
		name           string
		gogc, memLimit bool
		wantLimit      int64
		wantPercent    int
	}{
		{"default", false, false, heapFloor, 200},
		{"GOGC", true, false, limit, 100},
		{"GOMEMLIMIT", false, true, limit, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetMemoryLimit(limit)
			debug.SetGCPercent(100)
			stop := TuneGC(tt.gogc, tt.memLimit)
			gotLimit := debug.SetMemoryLimit(-1)
			gotPercent := debug.SetGCPercent(100)
			stop()
			if gotLimit != tt.wantLimit || gotPercent != tt.wantPercent {
				t.Errorf("memory limit %d, GOGC %d; want %d, %d", gotLimit, gotPercent, tt.wantLimit, tt.wantPercent)
			}
		})
	}
}
