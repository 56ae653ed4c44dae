package registry_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/internal/registry"
)

// safetyTimeout only keeps a broken test from hanging; no assertion
// depends on it.
const safetyTimeout = 10 * time.Second

// inFlight counts the tag-list requests a server is handling at once and
// holds each of them until hold returns.
type inFlight struct {
	next http.Handler
	// hold blocks a tag-list request for as long as the test wants it in
	// flight.
	hold func(f *inFlight)

	mu      sync.Mutex
	cur     int
	max     int
	total   int
	changed chan struct{} // closed, and replaced, whenever cur changes
}

func newInFlight(next http.Handler, hold func(*inFlight)) *inFlight {
	return &inFlight{next: next, hold: hold, changed: make(chan struct{})}
}

func (f *inFlight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/tags/list") {
		f.next.ServeHTTP(w, r)
		return
	}
	f.add(1)
	defer f.add(-1)
	f.hold(f)
	f.next.ServeHTTP(w, r)
}

func (f *inFlight) add(d int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur += d
	if d > 0 {
		f.total += d
	}
	f.max = max(f.max, f.cur)
	close(f.changed)
	f.changed = make(chan struct{})
}

// stats returns the requests in flight now, at most and in all.
func (f *inFlight) stats() (cur, maxSeen, total int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur, f.max, f.total
}

// waitFor blocks until cond holds for the requests in flight and the
// requests in all, and reports whether it did before the safety timeout.
func (f *inFlight) waitFor(cond func(cur, total int) bool) bool {
	deadline := time.After(safetyTimeout)
	for {
		f.mu.Lock()
		cur, total, changed := f.cur, f.total, f.changed
		f.mu.Unlock()
		if cond(cur, total) {
			return true
		}
		select {
		case <-changed:
		case <-deadline:
			return false
		}
	}
}

func TestPerRegistryLimit(t *testing.T) {
	const limit = 2

	t.Run("at most the limit in flight to one host", func(t *testing.T) {
		const calls = 8
		// Each request waits until the limit is reached (or every call
		// has sent its request), then lingers a moment so that requests
		// beyond the limit, if the client sent any, would be seen in
		// flight together with them.
		srv := newInFlight(memRegistry(), func(f *inFlight) {
			f.waitFor(func(cur, total int) bool { return cur >= limit || total == calls })
			time.Sleep(20 * time.Millisecond)
		})
		host := serve(t, srv)
		pushImage(t, host+"/app", "1.0.0")
		c := newClient(registry.Options{MaxConcurrentPerRegistry: limit})
		ctx := testContext(t)

		var wg sync.WaitGroup
		results := make([][]string, calls)
		errs := make([]error, calls)
		for i := range calls {
			wg.Go(func() {
				results[i], errs[i] = c.Tags(ctx, registry.Repository{Image: host + "/app"})
			})
		}
		wg.Wait()

		for i := range calls {
			if errs[i] != nil {
				t.Fatalf("call %d: %v", i, errs[i])
			}
			if diff := cmp.Diff([]string{"1.0.0"}, results[i]); diff != "" {
				t.Errorf("call %d: Tags (-want +got):\n%s", i, diff)
			}
		}
		_, maxSeen, total := srv.stats()
		if diff := cmp.Diff(map[string]int{"max in flight": limit, "requests": calls},
			map[string]int{"max in flight": maxSeen, "requests": total}); diff != "" {
			t.Errorf("tag-list requests (-want +got):\n%s", diff)
		}
	})

	t.Run("a busy host does not hold up another", func(t *testing.T) {
		release := make(chan struct{})
		busy := newInFlight(memRegistry(), func(*inFlight) {
			select {
			case <-release:
			case <-time.After(safetyTimeout):
			}
		})
		busyHost := serve(t, busy)
		pushImage(t, busyHost+"/app", "1.0.0")
		otherHost := serve(t, memRegistry())
		pushImage(t, otherHost+"/app", "2.0.0")
		c := newClient(registry.Options{MaxConcurrentPerRegistry: limit})
		ctx := testContext(t)

		const calls = 4
		var wg sync.WaitGroup
		errs := make([]error, calls)
		for i := range calls {
			wg.Go(func() {
				_, errs[i] = c.Tags(ctx, registry.Repository{Image: busyHost + "/app"})
			})
		}
		defer func() {
			close(release)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("busy call %d: %v", i, err)
				}
			}
			_, maxSeen, total := busy.stats()
			if diff := cmp.Diff(map[string]int{"max in flight": limit, "requests": calls},
				map[string]int{"max in flight": maxSeen, "requests": total}); diff != "" {
				t.Errorf("busy host's tag-list requests (-want +got):\n%s", diff)
			}
		}()
		if !busy.waitFor(func(cur, _ int) bool { return cur >= limit }) {
			t.Fatalf("the busy host never had %d requests in flight", limit)
		}

		got, err := c.Tags(ctx, registry.Repository{Image: otherHost + "/app"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"2.0.0"}, got); diff != "" {
			t.Errorf("Tags of the other host (-want +got):\n%s", diff)
		}
		// The busy host still holds its requests: the other host's answer
		// did not wait for them.
		if cur, _, _ := busy.stats(); cur != limit {
			t.Errorf("busy host has %d requests in flight after the other host answered, want %d", cur, limit)
		}
	})
}
