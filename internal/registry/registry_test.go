package registry_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/internal/registry"
)

func TestClientAgainstInMemoryRegistry(t *testing.T) {
	host := serve(t, memRegistry())
	repo := host + "/org/app"
	v1Digest := pushImage(t, repo, "1.0.0")
	v2Digest := pushImage(t, repo, "1.1.0", "latest")
	idxDigest := pushIndex(t, repo, "multi-arch")
	pushImage(t, host+"/other", "9.9.9")

	c := newClient(registry.Options{})
	ctx := testContext(t)

	t.Run("tags", func(t *testing.T) {
		got, err := c.Tags(ctx, registry.Repository{Image: repo})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"1.0.0", "1.1.0", "latest", "multi-arch"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Tags (-want +got):\n%s", diff)
		}
	})

	for _, tc := range []struct {
		name string
		tag  string
		want string
	}{
		{name: "image", tag: "1.0.0", want: v1Digest.String()},
		{name: "second tag of an image", tag: "latest", want: v2Digest.String()},
		{name: "index", tag: "multi-arch", want: idxDigest.String()},
	} {
		t.Run("digest of "+tc.name, func(t *testing.T) {
			got, err := c.Digest(ctx, registry.Repository{Image: repo}, tc.tag)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Digest (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientErrors(t *testing.T) {
	host := serve(t, memRegistry())
	pushImage(t, host+"/app", "1.0.0")
	c := newClient(registry.Options{})
	ctx := testContext(t)

	for _, tc := range []struct {
		name     string
		call     func() error
		wantText []string
	}{
		{
			name: "image with a tag is no repository",
			call: func() error {
				_, err := c.Tags(ctx, registry.Repository{Image: "ghcr.io/org/app:1.0"})
				return err
			},
			wantText: []string{"list tags of ghcr.io/org/app:1.0: "},
		},
		{
			name: "unknown repository",
			call: func() error {
				_, err := c.Tags(ctx, registry.Repository{Image: host + "/missing"})
				return err
			},
			wantText: []string{"list tags of " + host + "/missing: ", "NAME_UNKNOWN"},
		},
		{
			name: "unknown tag",
			call: func() error {
				_, err := c.Digest(ctx, registry.Repository{Image: host + "/app"}, "2.0.0")
				return err
			},
			wantText: []string{"read digest of " + host + "/app:2.0.0: ", "MANIFEST_UNKNOWN"},
		},
		{
			name: "empty tag",
			call: func() error {
				_, err := c.Digest(ctx, registry.Repository{Image: host + "/app"}, "")
				return err
			},
			wantText: []string{"read digest of " + host + "/app: empty tag"},
		},
		{
			name: "invalid tag",
			call: func() error {
				_, err := c.Digest(ctx, registry.Repository{Image: host + "/app"}, "no/slashes")
				return err
			},
			wantText: []string{"read digest of " + host + "/app:no/slashes: "},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tc.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

// TestDigestFallsBackToGet serves HEAD answers without a
// Docker-Content-Digest header, as some registries and proxies do.
func TestDigestFallsBackToGet(t *testing.T) {
	mem := memRegistry()
	var reqs counter
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/manifests/") {
			reqs.add(r)
		}
		if r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/manifests/") {
			w = noDigestHeader{w}
		}
		mem.ServeHTTP(w, r)
	}))
	want := pushImage(t, host+"/app", "1.0.0")
	counts := func() map[string]int {
		return map[string]int{
			"HEAD": reqs.get("HEAD /v2/app/manifests/1.0.0"),
			"GET":  reqs.get("GET /v2/app/manifests/1.0.0"),
		}
	}
	before := counts()

	got, err := newClient(registry.Options{}).Digest(testContext(t), registry.Repository{Image: host + "/app"}, "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.String(), got); diff != "" {
		t.Errorf("Digest (-want +got):\n%s", diff)
	}
	after := counts()
	gotDelta := map[string]int{"HEAD": after["HEAD"] - before["HEAD"], "GET": after["GET"] - before["GET"]}
	if diff := cmp.Diff(map[string]int{"HEAD": 1, "GET": 1}, gotDelta); diff != "" {
		t.Errorf("manifest requests of Digest (-want +got):\n%s", diff)
	}
}

// noDigestHeader drops Docker-Content-Digest from an answer.
type noDigestHeader struct{ http.ResponseWriter }

func (w noDigestHeader) WriteHeader(code int) {
	w.Header().Del("Docker-Content-Digest")
	w.ResponseWriter.WriteHeader(code)
}

// pagingRegistry answers the distribution spec's paginated tag list for one
// repository from a fixed list, in that list's order (not sorted, so a
// client that re-sorts shows up), with a Link header to the next page.
type pagingRegistry struct {
	repo  string
	tags  []string
	pages counter

	mu    sync.Mutex
	sizes []string // the n parameter of each page request
}

func (p *pagingRegistry) pageSizes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.sizes)
}

func (p *pagingRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v2/":
		w.WriteHeader(http.StatusOK)
		return
	case "/v2/" + p.repo + "/tags/list":
	default:
		http.NotFound(w, r)
		return
	}
	p.pages.add(r)
	q := r.URL.Query()
	p.mu.Lock()
	p.sizes = append(p.sizes, q.Get("n"))
	p.mu.Unlock()
	n, err := strconv.Atoi(q.Get("n"))
	if err != nil || n <= 0 {
		n = len(p.tags)
	}
	start := 0
	if last := q.Get("last"); last != "" {
		i := slices.Index(p.tags, last)
		if i < 0 {
			http.Error(w, "unknown last", http.StatusBadRequest)
			return
		}
		start = i + 1
	}
	end := min(start+n, len(p.tags))
	page := p.tags[start:end]
	if end < len(p.tags) {
		w.Header().Set("Link", fmt.Sprintf(`</v2/%s/tags/list?n=%d&last=%s>; rel="next"`, p.repo, n, page[len(page)-1]))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"name": p.repo, "tags": page})
}

func TestTagsFollowsPagination(t *testing.T) {
	tags := []string{"v1.10.0", "v1.2.0", "latest", "v1.9.1", "v1.0.0", "edge", "v2.0.0-rc.1"}
	for _, tc := range []struct {
		name      string
		pageSize  int
		wantPages int
		wantSizes []string
	}{
		{name: "pages of two", pageSize: 2, wantPages: 4, wantSizes: []string{"2", "2", "2", "2"}},
		{name: "pages of three", pageSize: 3, wantPages: 3, wantSizes: []string{"3", "3", "3"}},
		{name: "one page", pageSize: 0, wantPages: 1, wantSizes: []string{"1000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := &pagingRegistry{repo: "org/app", tags: tags}
			host := serve(t, reg)
			c := newClient(registry.Options{PageSize: tc.pageSize})

			got, err := c.Tags(testContext(t), registry.Repository{Image: host + "/org/app"})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tags, got); diff != "" {
				t.Errorf("Tags (-want +got):\n%s", diff)
			}
			if got := reg.pages.get("GET /v2/org/app/tags/list"); got != tc.wantPages {
				t.Errorf("page requests = %d, want %d", got, tc.wantPages)
			}
			if diff := cmp.Diff(tc.wantSizes, reg.pageSizes()); diff != "" {
				t.Errorf("n parameters (-want +got):\n%s", diff)
			}
		})
	}
}
