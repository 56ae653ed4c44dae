package registry_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/internal/registry"
)

// fault is how a flaky registry answers one tag-list request: with status
// (and Retry-After when set), or by dropping the connection.
type fault struct {
	status     int
	retryAfter string
	dropConn   bool
}

// flaky answers the first tag-list requests with faults, in order, then
// (or when the list is exhausted and forever is false) passes them to next.
// forever repeats the last fault for good.
type flaky struct {
	next    http.Handler
	faults  []fault
	forever bool
	reqs    counter
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/tags/list") {
		f.next.ServeHTTP(w, r)
		return
	}
	n := f.reqs.add(r)
	var ft *fault
	switch {
	case n <= len(f.faults):
		ft = &f.faults[n-1]
	case f.forever && len(f.faults) > 0:
		ft = &f.faults[len(f.faults)-1]
	default:
		f.next.ServeHTTP(w, r)
		return
	}
	if ft.dropConn {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		conn.Close()
		return
	}
	if ft.retryAfter != "" {
		w.Header().Set("Retry-After", ft.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ft.status)
	_, _ = w.Write([]byte(`{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}`))
}

// TestRetries checks which failures are retried, how often and how long the
// client waits in between. The waits are recorded, never slept.
func TestRetries(t *testing.T) {
	const ms = time.Millisecond
	for _, tc := range []struct {
		name       string
		repo       string // default "app"
		faults     []fault
		forever    bool
		maxRetries int
		sleepErr   error
		// keepAlive false uses a transport without connection reuse, so
		// that net/http does not itself resend a request whose reused
		// connection was dropped.
		noKeepAlive bool

		wantAttempts int
		// wantWaits are the exact waits, or with backoff the lower bounds
		// of waits that may be up to half as long again (jitter).
		wantWaits []time.Duration
		backoff   bool
		wantErr   []string
		wantErrIs error
	}{
		{
			name:         "429 with Retry-After in seconds",
			faults:       []fault{{status: 429, retryAfter: "2"}, {status: 429, retryAfter: "2"}},
			wantAttempts: 3,
			wantWaits:    []time.Duration{2 * time.Second, 2 * time.Second},
		},
		{
			name:         "Retry-After is capped at a minute",
			faults:       []fault{{status: 429, retryAfter: "3600"}},
			wantAttempts: 2,
			wantWaits:    []time.Duration{time.Minute},
		},
		{
			name:         "503 without Retry-After backs off exponentially",
			faults:       []fault{{status: 503}, {status: 503}, {status: 502}},
			wantAttempts: 4,
			wantWaits:    []time.Duration{500 * ms, 1000 * ms, 2000 * ms},
			backoff:      true,
		},
		{
			name:         "dropped connection",
			faults:       []fault{{dropConn: true}},
			noKeepAlive:  true,
			wantAttempts: 2,
			wantWaits:    []time.Duration{500 * ms},
			backoff:      true,
		},
		{
			name:         "persistently dropped connection gives up after MaxRetries",
			faults:       []fault{{dropConn: true}},
			forever:      true,
			noKeepAlive:  true,
			maxRetries:   1,
			wantAttempts: 2,
			wantWaits:    []time.Duration{500 * ms},
			backoff:      true,
			wantErr:      []string{"list tags of {host}/app: ", "gave up after 2 attempts", "EOF"},
		},
		{
			name:         "persistent 500 gives up after MaxRetries",
			faults:       []fault{{status: 500}},
			forever:      true,
			maxRetries:   3,
			wantAttempts: 4,
			wantWaits:    []time.Duration{500 * ms, 1000 * ms, 2000 * ms},
			backoff:      true,
			wantErr:      []string{"list tags of {host}/app: ", "gave up after 4 attempts", "500 Internal Server Error", "UNAVAILABLE: try later"},
		},
		{
			name:         "default MaxRetries is 4",
			faults:       []fault{{status: 504}},
			forever:      true,
			wantAttempts: 5,
			wantWaits:    []time.Duration{500 * ms, 1000 * ms, 2000 * ms, 4000 * ms},
			backoff:      true,
			wantErr:      []string{"list tags of {host}/app: ", "gave up after 5 attempts", "504 Gateway Timeout"},
		},
		{
			name:         "negative MaxRetries does not retry",
			faults:       []fault{{status: 503}},
			forever:      true,
			maxRetries:   -1,
			wantAttempts: 1,
			wantErr:      []string{"list tags of {host}/app: ", "UNAVAILABLE: try later"},
		},
		{
			name:         "404 unknown repository is not retried",
			repo:         "missing",
			wantAttempts: 1,
			wantErr:      []string{"list tags of {host}/missing: ", "NAME_UNKNOWN"},
		},
		{
			name:         "501 is not retried",
			faults:       []fault{{status: 501}},
			wantAttempts: 1,
			wantErr:      []string{"list tags of {host}/app: ", "UNAVAILABLE: try later"},
		},
		{
			name:         "a wait cut short by the context ends the retries",
			faults:       []fault{{status: 503}},
			forever:      true,
			sleepErr:     context.DeadlineExceeded,
			wantAttempts: 1,
			wantWaits:    []time.Duration{500 * ms},
			backoff:      true,
			wantErr:      []string{"list tags of {host}/app: ", "503 Service Unavailable"},
			wantErrIs:    context.DeadlineExceeded,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memRegistry()
			f := &flaky{next: mem, faults: tc.faults, forever: tc.forever}
			host := serve(t, f)
			pushImage(t, host+"/app", "1.0.0")
			sleeps := &sleepRecorder{result: tc.sleepErr}
			opts := registry.Options{MaxRetries: tc.maxRetries, Sleep: sleeps.Sleep}
			if tc.noKeepAlive {
				opts.Transport = &http.Transport{DisableKeepAlives: true}
			}
			repo := tc.repo
			if repo == "" {
				repo = "app"
			}

			got, err := newClient(opts).Tags(testContext(t), registry.Repository{Image: host + "/" + repo})

			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]string{"1.0.0"}, got); diff != "" {
					t.Errorf("Tags (-want +got):\n%s", diff)
				}
			} else {
				if err == nil {
					t.Fatalf("Tags = %v, want an error", got)
				}
				t.Logf("error: %v", err)
				for _, s := range tc.wantErr {
					s = strings.ReplaceAll(s, "{host}", host)
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				if tc.wantErrIs != nil && !errors.Is(err, tc.wantErrIs) {
					t.Errorf("error %q is not %v", err, tc.wantErrIs)
				}
			}
			if got := f.reqs.get("GET /v2/" + repo + "/tags/list"); got != tc.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tc.wantAttempts)
			}
			waits := sleeps.Waits()
			if !tc.backoff {
				if diff := cmp.Diff(tc.wantWaits, waits); diff != "" {
					t.Errorf("waits (-want +got):\n%s", diff)
				}
				return
			}
			if len(waits) != len(tc.wantWaits) {
				t.Fatalf("waits = %v, want %d of them", waits, len(tc.wantWaits))
			}
			for i, low := range tc.wantWaits {
				if high := low + low/2; waits[i] < low || waits[i] > high {
					t.Errorf("wait %d = %v, want between %v and %v", i, waits[i], low, high)
				}
			}
		})
	}
}

// TestDigestRetries checks that HEAD is retried, and that Digest does not
// fall back to GET (and so retry all over again) once HEAD gave up.
func TestDigestRetries(t *testing.T) {
	mem := memRegistry()
	var reqs counter
	var failing atomic.Bool
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/manifests/") && r.Method != http.MethodPut {
			if reqs.add(r); failing.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
		}
		mem.ServeHTTP(w, r)
	}))
	pushImage(t, host+"/app", "1.0.0")
	failing.Store(true)
	before := reqs.get("HEAD /v2/app/manifests/1.0.0")

	sleeps := &sleepRecorder{}
	_, err := newClient(registry.Options{MaxRetries: 2, Sleep: sleeps.Sleep}).
		Digest(testContext(t), registry.Repository{Image: host + "/app"}, "1.0.0")
	if err == nil {
		t.Fatal("no error")
	}
	t.Logf("error: %v", err)
	for _, s := range []string{"read digest of " + host + "/app:1.0.0: ", "gave up after 3 attempts", "503"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
	got := map[string]int{
		"HEAD": reqs.get("HEAD /v2/app/manifests/1.0.0") - before,
		"GET":  reqs.get("GET /v2/app/manifests/1.0.0"),
	}
	if diff := cmp.Diff(map[string]int{"HEAD": 3, "GET": 0}, got); diff != "" {
		t.Errorf("manifest requests (-want +got):\n%s", diff)
	}
}
