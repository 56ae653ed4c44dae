package imageupdate_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/imageupdate"
	"github.com/fluxgate/fluxgate/internal/registry"
)

// benchFleet builds a fleet of n ImageRepositories, each with one policy
// (semver, alphabetical, numerical and filterTags in turn) and one
// Deployment carrying its marker, under one automation; and pushes
// tagsPer tags of one small image to each repository of host.
func benchFleet(b *testing.B, host string, n, tagsPer int) fstest.MapFS {
	b.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		b.Fatal(err)
	}
	fsys := fstest.MapFS{
		"flux-system/source.yaml": {Data: []byte(`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 1m, url: "https://git.example.com/org/fleet", ref: {branch: main}}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 30m
  sourceRef: {kind: GitRepository, name: flux-system}
  git:
    commit:
      author: {name: fluxbot, email: fluxbot@example.com}
  update: {path: ./apps, strategy: Setters}
`)},
	}
	var images strings.Builder
	for i := range n {
		repo := fmt.Sprintf("team%d/app%d", i%10, i)
		tags := make([]string, tagsPer)
		var policy string
		switch i % 4 {
		case 0:
			for j := range tags {
				tags[j] = fmt.Sprintf("1.%d.%d", j/5, j%5)
			}
			policy = `policy: {semver: {range: ">=1.0.0"}}`
		case 1:
			for j := range tags {
				tags[j] = fmt.Sprintf("RELEASE.2026-%02d-%02dT00-00-00Z", 1+j%12, 1+j%28)
			}
			policy = `policy: {alphabetical: {order: asc}}`
		case 2:
			for j := range tags {
				tags[j] = fmt.Sprint(1000 + j)
			}
			policy = `policy: {numerical: {order: asc}}`
		case 3:
			for j := range tags {
				tags[j] = fmt.Sprintf("main-%07x-%d", j*7919, 1700000000+j)
			}
			policy = `filterTags: {pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)', extract: '$ts'}
  policy: {numerical: {order: asc}}`
		}
		for _, tag := range tags {
			ref, err := name.NewTag(host + "/" + repo + ":" + tag)
			if err != nil {
				b.Fatal(err)
			}
			if err := remote.Write(ref, img); err != nil {
				b.Fatal(err)
			}
		}
		fmt.Fprintf(&images, `---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata: {name: app%d, namespace: flux-system}
spec: {image: %s/%s, interval: 5m}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata: {name: app%d, namespace: flux-system}
spec:
  imageRepositoryRef: {name: app%d}
  %s
`, i, host, repo, i, i, policy)
		fsys[fmt.Sprintf("apps/app%d.yaml", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: app%d, namespace: apps}
spec:
  template:
    spec:
      containers:
        - name: app
          image: %s/%s:%s # {"$imagepolicy": "flux-system:app%d"}
`, i, host, repo, tags[0], i))}
	}
	fsys["flux-system/images.yaml"] = &fstest.MapFile{Data: []byte(images.String())}
	return fsys
}

// BenchmarkEvaluatePolicies times what `fluxgate image-update --dry-run`
// does per run on a fleet of 500 image policies against a local registry
// (go-containerregistry's, over HTTP on 127.0.0.1): load the fleet, list
// every repository's tags with a fresh client (no cache between runs),
// select each policy's tag and plan the setter edits. The latency cases
// delay every registry response, as a registry across a network does, to
// show what the per-registry concurrency limit costs.
func BenchmarkEvaluatePolicies(b *testing.B) {
	const n = 500
	for _, c := range []struct {
		latency time.Duration
		limit   int
	}{{0, 4}, {20 * time.Millisecond, 4}, {20 * time.Millisecond, 16}} {
		b.Run(fmt.Sprintf("policies=%d/latency=%s/per-registry=%d", n, c.latency, c.limit), func(b *testing.B) {
			reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
			var delay atomic.Bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if delay.Load() {
					time.Sleep(c.latency)
				}
				reg.ServeHTTP(w, r)
			}))
			defer srv.Close()
			fsys := benchFleet(b, strings.TrimPrefix(srv.URL, "http://"), n, 20)
			delay.Store(true)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				repo, err := fleet.Load(ctx, fsys, fleet.Options{})
				if err != nil {
					b.Fatal(err)
				}
				set, probs := imageupdate.Discover(repo)
				l := registry.Lister{Client: registry.New(registry.Options{MaxConcurrentPerRegistry: c.limit})}
				resolved, evalProbs := imageupdate.Evaluate(ctx, set, l, imageupdate.EvaluateOptions{Workers: 2 * c.limit})
				if len(probs)+len(evalProbs) > 0 || len(resolved) != n {
					b.Fatalf("%d resolved, problems %v %v", len(resolved), probs, evalProbs)
				}
				a := set.Automations[0]
				plan, err := imageupdate.PlanSetters(fsys, a.UpdatePath, set.PoliciesFor(a, resolved))
				if err != nil || len(plan.Edits) != n {
					b.Fatalf("%d edits, %v", len(plan.Edits), err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "policies/s")
		})
	}
}
