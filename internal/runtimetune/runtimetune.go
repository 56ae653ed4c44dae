package runtimetune

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// heapFloor is the soft memory limit TuneGC keeps while the live heap is
// small: with it, validate on 5,000 units peaks near 400 MB instead of
// 500 MB (bench/RESULTS.md).
const heapFloor = 300 << 20

// TuneGC paces the garbage collector, unless the GOGC or GOMEMLIMIT
// environment variables (gogcSet, memLimitSet) do.
//
// A run allocates much short-lived YAML: collecting at GOGC=200, half as
// often as the default, saves about a sixth of the CPU (bench/RESULTS.md).
// But the heap then grows to three times the live data before a
// collection, and much of the live data a collection sees is the garbage
// of the builds in flight, so large fleets peak far above what they hold.
// A soft memory limit of heapFloor caps that. A fixed limit would make
// the collector run back to back on a fleet whose live heap nears it, so
// the limit follows the live heap: never under twice it plus room for
// stacks and runtime data, as much headroom as GOGC=100 gives.
func TuneGC(gogcSet, memLimitSet bool) (stop func()) {
	if !gogcSet {
		debug.SetGCPercent(200)
	}
	if gogcSet || memLimitSet {
		return func() {}
	}
	limit := func(live uint64) int64 { return max(heapFloor, int64(2*live)+heapFloor/4) }
	current := limit(0)
	debug.SetMemoryLimit(current)
	return watchLiveHeap(50*time.Millisecond, func(live uint64) bool {
		if l := limit(live); l != current {
			current = l
			debug.SetMemoryLimit(l)
		}
		return true
	})
}

// watchLiveHeap calls fn with the size of the live heap every period, from
// a goroutine, until fn returns false or stop is called.
func watchLiveHeap(period time.Duration, fn func(live uint64) bool) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if !fn(sample[0].Value.Uint64()) {
				return
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// StartProfile writes a CPU profile of the run to path (for the benchmark
// scripts and `go tool pprof`) until stop is called; an empty path
// profiles nothing. When the profile cannot start, stop does nothing and
// the error says why.
func StartProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err == nil {
		if err = pprof.StartCPUProfile(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		return func() {}, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// StartHeapProfile writes a heap profile to path whenever the live heap
// reaches a new high (by a tenth), so that the file holds what was live
// near the run's peak; by the end of a command its data is garbage, and
// a profile written then would show none of it. An empty path profiles
// nothing. A profile that cannot be written is handed to failed, from the
// watching goroutine, and ends the profiling.
func StartHeapProfile(path string, failed func(error)) (stop func()) {
	if path == "" {
		return func() {}
	}
	// Sample finely enough that the many small objects of a fleet show
	// (the default samples one per 512 KiB allocated).
	runtime.MemProfileRate = 16 << 10
	var written uint64
	return watchLiveHeap(100*time.Millisecond, func(live uint64) bool {
		if live <= written+written/10 {
			return true
		}
		if err := writeHeapProfile(path); err != nil {
			failed(err)
			return false
		}
		written = live
		return true
	})
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
