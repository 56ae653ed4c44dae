package helm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render/helm"
)

// TestRestrictEgressRefusesInternalRepositories: with RestrictEgress a
// HelmRepository or OCI registry on the loopback address is never
// connected to, and the failure is a chart-unavailable one naming the
// refused address. Without it the same repository is reached.
func TestRestrictEgressRefusesInternalRepositories(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	open := helm.NewFetcher(helm.FetcherOptions{CacheDir: t.TempDir()})
	if _, err := open.RepositoryChart(context.Background(), srv.URL+"/", nil, "app", "1.0.0"); err == nil {
		t.Fatal("a repository answering 404 gave a chart")
	}
	if hits.Load() == 0 {
		t.Fatal("the unrestricted fetcher did not reach the repository")
	}
	hits.Store(0)

	restricted := helm.NewFetcher(helm.FetcherOptions{CacheDir: t.TempDir(), RestrictEgress: true})
	_, err := restricted.RepositoryChart(context.Background(), srv.URL+"/", nil, "app", "1.0.0")
	if !errors.Is(err, helm.ErrUnavailable) || !strings.Contains(err.Error(), "refused: a loopback address") {
		t.Fatalf("HelmRepository: err = %v, want chart unavailable because egress is blocked", err)
	}
	_, err = restricted.OCIChart(context.Background(), "oci://"+host+"/charts/app", "1.0.0", nil)
	if !errors.Is(err, helm.ErrUnavailable) || !strings.Contains(err.Error(), "refused: a loopback address") {
		t.Fatalf("OCI: err = %v, want chart unavailable because egress is blocked", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the restricted fetcher reached the repository %d times", n)
	}
}

// TestFetchFromATarpitEndsWithTheContext: a chart repository that
// accepts connections and never answers holds a render no longer than
// its context.
func TestFetchFromATarpitEndsWithTheContext(t *testing.T) {
	addr := testenv.Tarpit(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	f := helm.NewFetcher(helm.FetcherOptions{CacheDir: t.TempDir()})
	done := make(chan error, 1)
	go func() {
		_, err := f.RepositoryChart(ctx, "http://"+addr+"/", nil, "app", "1.0.0")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, helm.ErrUnavailable) || !strings.Contains(err.Error(), "context deadline exceeded") {
			t.Errorf("err = %v, want chart unavailable at the context's deadline", err)
		}
	case <-time.After(helm.FetchTimeout):
		t.Fatal("a fetch from a repository that never answers outlived its context")
	}
}
