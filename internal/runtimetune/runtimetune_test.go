package runtimetune

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
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

// TestProfiles checks that the profiles are written where asked and that
// a path that cannot be written is an error, not a crash.
func TestProfiles(t *testing.T) {
	dir := t.TempDir()
	cpu := filepath.Join(dir, "cpu.pprof")
	stop, err := StartProfile(cpu)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if fi, err := os.Stat(cpu); err != nil || fi.Size() == 0 {
		t.Errorf("CPU profile: %v, %v", fi, err)
	}
	if _, err := StartProfile(filepath.Join(dir, "missing", "cpu.pprof")); err == nil {
		t.Errorf("CPU profile in a missing directory: no error")
	}
	rate := runtime.MemProfileRate
	t.Cleanup(func() { runtime.MemProfileRate = rate })
	failed := make(chan error, 1)
	stop = StartHeapProfile(filepath.Join(dir, "missing", "heap.pprof"), func(err error) { failed <- err })
	runtime.GC() // the live heap is known after a collection
	select {
	case err := <-failed:
		if err == nil {
			t.Errorf("failed(nil)")
		}
	case <-time.After(10 * time.Second):
		t.Errorf("heap profile in a missing directory: no error")
	}
	stop()
}
