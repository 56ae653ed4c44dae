package render_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/fleetgen"
	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/render/sops"
)

// benchFleets are the fleet sizes BenchmarkRender renders.
var benchFleets = []fleetgen.Config{
	{Clusters: 2, Kustomizations: 3, Objects: 8, Seed: 1},
	{Clusters: 4, Kustomizations: 10, Objects: 12, Seed: 1},
}

// genFleetCounts is what rendering a generated fleet must produce, derived from
// the layout internal/fleetgen documents. Per cluster:
//
//   - one flux-system unit: the Flux Kustomization flux-system building
//     clusters/cluster-NNN. It renders the GitRepository and Kustomization of
//     flux-system/gotk-sync.yaml, the cluster-settings ConfigMap and the K app
//     Kustomizations of apps.yaml: K+3 objects. (Its own Kustomization
//     flux-system is among them but is not rendered a second time.)
//   - K app units, one per Flux Kustomization of apps.yaml, each building the
//     cluster's overlay of apps/app-KKK/base: the Namespace plus the M base
//     objects, M+1 objects.
//
// With the optional parts of the mix, per cluster: the app units also hold
// their HelmReleases, SOPS Secrets and custom resources (HelmReleases +
// Secrets + CRDs more objects each); every HelmRelease of a cluster's
// overlays is a unit of 3 objects (the local chart's ConfigMap, Service
// and Deployment); and with CRDs the crds Kustomization (one more object of
// flux-system) is a unit of CRDs objects.
type genFleetCounts struct {
	units, objects                int
	fluxSystemObjects, appObjects int
	helmObjects, crdObjects       int
}

func genFleetExpected(c fleetgen.Config) genFleetCounts {
	w := genFleetCounts{
		fluxSystemObjects: c.Kustomizations + 3,
		appObjects:        c.Objects + 1 + c.HelmReleases + c.Secrets + c.CRDs,
		helmObjects:       3,
		crdObjects:        c.CRDs,
	}
	if c.CRDs > 0 {
		w.fluxSystemObjects++
	}
	w.units = fleetgen.UnitCount(c)
	w.objects = c.Clusters * (w.fluxSystemObjects + c.Kustomizations*(w.appObjects+c.HelmReleases*w.helmObjects) + w.crdObjects)
	return w
}

func genFleetName(c fleetgen.Config) string {
	return fmt.Sprintf("clusters=%d/kustomizations=%d/objects=%d", c.Clusters, c.Kustomizations, c.Objects)
}

// genFleet writes the fleet of c into a fresh temporary directory of tb
// and returns its absolute path.
func genFleet(tb testing.TB, c fleetgen.Config) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "fleet")
	n, err := fleetgen.Generate(dir, c)
	if err != nil {
		tb.Fatalf("fleetgen.Generate(%+v): %v", c, err)
	}
	if want := fleetgen.FileCount(c); n != want {
		tb.Fatalf("fleetgen.Generate(%+v) wrote %d files, want %d", c, n, want)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return abs
}

// genFleetRender is one benchmark iteration: load the repository and render
// every entry point. Sources is nil: the generated flux-system GitRepository
// resolves to the repository root by its name.
func genFleetRender(ctx context.Context, dir string, workers int) (*fleet.Repo, *render.Result, error) {
	return genFleetRenderWith(ctx, dir, render.Options{Workers: workers})
}

// genFleetRenderWith is genFleetRender with more render options (Dir and
// the fleet.Load workers are set from dir and opts.Workers).
func genFleetRenderWith(ctx context.Context, dir string, opts render.Options) (*fleet.Repo, *render.Result, error) {
	repo, err := fleet.Load(ctx, os.DirFS(dir), fleet.Options{Sources: nil, Workers: opts.Workers})
	if err != nil {
		return nil, nil, fmt.Errorf("fleet.Load: %w", err)
	}
	opts.Dir = dir
	res, err := render.Render(ctx, repo, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("render.Render: %w", err)
	}
	return repo, res, nil
}

// genFleetErrors lists failed units and error problems of a load and render.
func genFleetErrors(repo *fleet.Repo, res *render.Result) []string {
	var out []string
	for _, p := range repo.Problems {
		if p.Severity == fleet.SeverityError {
			out = append(out, "load: "+p.String())
		}
	}
	for _, u := range res.Units {
		if u.Failed {
			out = append(out, "unit failed: "+u.Cluster+" "+u.ID)
		}
		for _, p := range u.Problems {
			if p.Severity == fleet.SeverityError {
				out = append(out, "render: "+p.String())
			}
		}
	}
	return out
}

// BenchmarkRender measures fleet.Load plus render.Render of generated
// fleets. Each fleet is generated once per run of the size sub-benchmark
// (once per process with -count 1), outside the timed loop; the workers=N
// sub-benchmarks share it. Run it with bench/render.sh.
func BenchmarkRender(b *testing.B) {
	for _, c := range benchFleets {
		b.Run(genFleetName(c), func(b *testing.B) {
			dir := genFleet(b, c)
			for _, workers := range []int{1, 2} {
				b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
					ctx := context.Background()
					var units, objects, iters int
					for b.Loop() {
						repo, res, err := genFleetRender(ctx, dir, workers)
						if err != nil {
							b.Fatal(err)
						}
						if errs := genFleetErrors(repo, res); len(errs) > 0 {
							b.Fatalf("%d errors rendering %s, first: %s", len(errs), genFleetName(c), errs[0])
						}
						units, objects = len(res.Units), res.ObjectCount()
						if units == 0 || objects == 0 {
							b.Fatalf("rendered %d units, %d objects", units, objects)
						}
						iters++
					}
					b.ReportMetric(float64(objects*iters)/b.Elapsed().Seconds(), "objects/s")
					b.ReportMetric(float64(units), "units/op")
				})
			}
		})
	}
}

// TestGeneratedFleetRenders guards what BenchmarkRender measures: a generated
// fleet renders completely, without problems, into exactly the units and
// objects the generator's layout implies; with the whole mix (local chart
// HelmReleases, SOPS Secrets without and with the key, CRDs and custom
// resources) too.
func TestGeneratedFleetRenders(t *testing.T) {
	mix := fleetgen.Config{Clusters: 2, Kustomizations: 3, Objects: 6, Seed: 3, HelmReleases: 2, Secrets: 1, CRDs: 2}
	tests := []struct {
		name string
		c    fleetgen.Config
		key  bool // decrypt the SOPS Secrets with fleetgen.AgeIdentity
	}{
		{name: "plain", c: fleetgen.Config{Clusters: 2, Kustomizations: 3, Objects: 6, Seed: 3}},
		{name: "mix", c: mix},
		{name: "mix with key", c: mix, key: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := render.Options{Workers: 2}
			if tt.key {
				d, err := sops.NewDecryptor(fleetgen.AgeIdentity)
				if err != nil {
					t.Fatal(err)
				}
				opts.Decryptor = d
			}
			testGeneratedFleetRenders(t, tt.c, opts)
		})
	}
}

func testGeneratedFleetRenders(t *testing.T, c fleetgen.Config, opts render.Options) {
	dir := genFleet(t, c)
	repo, res, err := genFleetRenderWith(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range repo.Problems {
		t.Errorf("load problem: %s", p)
	}
	for _, p := range res.Problems() {
		t.Errorf("render problem: %s", p)
	}
	for _, u := range res.Units {
		if u.Failed {
			t.Errorf("unit %s %s failed", u.Cluster, u.ID)
		}
	}

	want := genFleetExpected(c)
	if got := len(res.Units); got != want.units {
		t.Errorf("units = %d, want %d", got, want.units)
	}
	if got := res.ObjectCount(); got != want.objects {
		t.Errorf("objects = %d, want %d", got, want.objects)
	}

	var wantClusters []string
	for i := range c.Clusters {
		wantClusters = append(wantClusters, fmt.Sprintf("clusters/cluster-%03d", i))
	}
	if fmt.Sprint(res.Clusters) != fmt.Sprint(wantClusters) {
		t.Errorf("clusters = %v, want %v", res.Clusters, wantClusters)
	}

	// Every unit, with its object count.
	wantUnits := map[string]int{}
	for _, cl := range wantClusters {
		wantUnits[cl+" Kustomization/flux-system/flux-system"] = want.fluxSystemObjects
		if c.CRDs > 0 {
			wantUnits[cl+" Kustomization/flux-system/crds"] = want.crdObjects
		}
		for k := range c.Kustomizations {
			app := fmt.Sprintf("app-%03d", k)
			wantUnits[fmt.Sprintf("%s Kustomization/flux-system/%s", cl, app)] = want.appObjects
			for h := range c.HelmReleases {
				wantUnits[fmt.Sprintf("%s HelmRelease/%s/%s-rel-%02d", cl, app, app, h)] = want.helmObjects
			}
		}
	}
	gotUnits := map[string]int{}
	for _, u := range res.Units {
		key := u.Cluster + " " + u.ID
		if _, dup := gotUnits[key]; dup {
			t.Errorf("unit %s rendered twice", key)
		}
		gotUnits[key] = len(u.Objects)
	}
	for key, n := range wantUnits {
		got, ok := gotUnits[key]
		switch {
		case !ok:
			t.Errorf("unit %s missing", key)
		case got != n:
			t.Errorf("unit %s: %d objects, want %d", key, got, n)
		}
	}
	for key := range gotUnits {
		if _, ok := wantUnits[key]; !ok {
			t.Errorf("unexpected unit %s", key)
		}
	}

	// SOPS Secrets: decrypted with the key, left encrypted (and not
	// failed) without it.
	secrets := 0
	for _, u := range res.Units {
		for _, o := range u.Objects {
			if o.Object["kind"] != "Secret" {
				continue
			}
			secrets++
			data, _ := o.Object["stringData"].(map[string]any)
			url, _ := data["DATABASE_URL"].(string)
			if decrypted := strings.HasPrefix(url, "postgres://"); decrypted != (opts.Decryptor != nil) {
				t.Errorf("%s Secret %v: DATABASE_URL decrypted = %v, want %v", u.ID, o.Object["metadata"], decrypted, opts.Decryptor != nil)
			}
		}
	}
	if want := c.Clusters * c.Kustomizations * c.Secrets; secrets != want {
		t.Errorf("%d Secrets rendered, want %d", secrets, want)
	}
}

// BenchmarkUnitCache measures fleet.Load plus render.Render of a generated
// fleet with the on-disk unit cache: cold (an empty cache each iteration,
// so every unit is built and written) and warm (the cache filled before
// the timed loop, so nothing is built).
//
//	go test ./render/ -run '^$' -bench BenchmarkUnitCache -benchtime 10x
func BenchmarkUnitCache(b *testing.B) {
	c := benchFleets[len(benchFleets)-1]
	dir := genFleet(b, c)
	ctx := context.Background()
	render1 := func(b *testing.B, cache string) *render.Result {
		repo, err := fleet.Load(ctx, os.DirFS(dir), fleet.Options{Workers: 2})
		if err != nil {
			b.Fatal(err)
		}
		res, err := render.Render(ctx, repo, render.Options{Dir: dir, Workers: 2, UnitCacheDir: cache})
		if err != nil {
			b.Fatal(err)
		}
		if errs := genFleetErrors(repo, res); len(errs) > 0 {
			b.Fatalf("%d errors, first: %s", len(errs), errs[0])
		}
		return res
	}
	b.Run(genFleetName(c)+"/cold", func(b *testing.B) {
		var built int64
		for b.Loop() {
			b.StopTimer()
			cache := filepath.Join(b.TempDir(), "units")
			b.StartTimer()
			built = render1(b, cache).Stats.Built
		}
		b.ReportMetric(float64(built), "built/op")
	})
	b.Run(genFleetName(c)+"/warm", func(b *testing.B) {
		cache := filepath.Join(b.TempDir(), "units")
		render1(b, cache)
		var res *render.Result
		for b.Loop() {
			res = render1(b, cache)
		}
		if res.Stats.Built != 0 {
			b.Fatalf("warm render built %d units", res.Stats.Built)
		}
		b.ReportMetric(float64(res.Stats.Cached), "cached/op")
	})
}
