package render_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/fleetgen"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/render/sops"
)

// unitCacheFleets are the fleets the unit cache tests render: the example
// fleet and a generated one.
func unitCacheFleets(t *testing.T) map[string]string {
	t.Helper()
	infra := t.TempDir()
	testenv.CopyTree(t, filepath.Join(fleets, "fleet-infra"), infra)
	return map[string]string{
		"fleet-infra": infra,
		"generated":   genFleet(t, fleetgen.Config{Clusters: 3, Kustomizations: 4, Objects: 5, Seed: 7}),
	}
}

// TestUnitCacheWarmRunBuildsNothing: a second render of an unchanged fleet
// with the same unit cache builds nothing, takes every build from the
// cache and gives the very same units (same Go values, same YAML).
func TestUnitCacheWarmRunBuildsNothing(t *testing.T) {
	for name, dir := range unitCacheFleets(t) {
		t.Run(name, func(t *testing.T) {
			cache := t.TempDir()
			_, cold := renderDirOpts(t, dir, render.Options{UnitCacheDir: cache})
			_, warm := renderDirOpts(t, dir, render.Options{UnitCacheDir: cache})
			if cold.Stats.Built == 0 || cold.Stats.Cached != 0 {
				t.Fatalf("cold render: %+v, want builds and nothing from the cache", cold.Stats)
			}
			if warm.Stats.Built != 0 || warm.Stats.Cached != cold.Stats.Built {
				t.Errorf("warm render: %+v, want 0 built and %d from the cache", warm.Stats, cold.Stats.Built)
			}
			if diff := cmp.Diff(string(dump(t, cold)), string(dump(t, warm))); diff != "" {
				t.Fatalf("cached units differ (-cold +warm):\n%s", diff)
			}
			assertSameUnits(t, cold, warm)
		})
	}
}

// assertSameUnits compares what a render gives, down to the Go types of
// the objects' values (int64 and float64, empty and nil lists).
func assertSameUnits(t *testing.T, want, got *render.Result) {
	t.Helper()
	if len(want.Units) != len(got.Units) {
		t.Fatalf("%d units, want %d", len(got.Units), len(want.Units))
	}
	for i, w := range want.Units {
		g := got.Units[i]
		if w.Hash != g.Hash {
			t.Errorf("%s %s: hash %s, want %s", g.Cluster, g.ID, g.Hash, w.Hash)
		}
		if !reflect.DeepEqual(w.Objects, g.Objects) {
			t.Errorf("%s %s: objects differ as Go values", g.Cluster, g.ID)
		}
		if !reflect.DeepEqual(w.Problems, g.Problems) {
			t.Errorf("%s %s: problems %v, want %v", g.Cluster, g.ID, g.Problems, w.Problems)
		}
	}
}

// changedUnits lists the units whose input hash differs between two
// renders of one fleet, leaving out releases whose chart is unavailable
// (nothing is built for them).
func changedUnits(a, b *render.Result) []string {
	hashes := map[string]string{}
	for _, u := range a.Units {
		hashes[u.Cluster+" "+u.ID] = u.Hash
	}
	var out []string
	for _, u := range b.Units {
		if u.Kind == render.KindHelmRelease && len(u.Objects) == 0 {
			continue
		}
		if hashes[u.Cluster+" "+u.ID] != u.Hash {
			out = append(out, u.Cluster+" "+u.ID)
		}
	}
	sort.Strings(out)
	return out
}

// TestUnitCacheRebuildsWhatChanged: after an edit, exactly the units whose
// inputs changed are built again (those that read the file, those whose
// substitution variables changed), and the output is a fresh render's.
func TestUnitCacheRebuildsWhatChanged(t *testing.T) {
	cases := []struct {
		name string
		edit func(t *testing.T, dir string)
		// rebuilt lists the units that must be built again.
		rebuilt []string
	}{
		{"a manifest two units read", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "teams/team-a/configmap.yaml"), "#34577c", "#ff0000")
		}, []string{"clusters/production Kustomization/team-a/team-a", "clusters/staging Kustomization/team-a/team-a"}},
		{"a file added to a directory without kustomization.yaml", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "infrastructure/monitoring/extra.yaml"),
				"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: monitoring\ndata:\n  a: b\n")
		}, []string{"clusters/production Kustomization/flux-system/infra-monitoring", "clusters/staging Kustomization/flux-system/infra-monitoring"}},
		{"a file added below a directory without kustomization.yaml", func(t *testing.T, dir string) {
			// Flux's generated kustomization.yaml lists it: the cached one
			// must not be taken.
			write(t, filepath.Join(dir, "infrastructure/monitoring/more/extra.yaml"),
				"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: monitoring\ndata:\n  a: b\n")
		}, []string{"clusters/production Kustomization/flux-system/infra-monitoring", "clusters/staging Kustomization/flux-system/infra-monitoring"}},
		{"a substitution variable from a ConfigMap of the repository", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "clusters/staging/cluster-settings.yaml"), "staging-eu1", "staging-eu2")
		}, nil}, // filled from the fresh render: the flux-system unit and every unit using the variable
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			testenv.CopyTree(t, filepath.Join(fleets, "fleet-infra"), dir)
			cache := t.TempDir()
			_, cold := renderDirOpts(t, dir, render.Options{UnitCacheDir: cache})
			tc.edit(t, dir)
			_, warm := renderDirOpts(t, dir, render.Options{UnitCacheDir: cache})
			_, fresh := renderDirOpts(t, dir, render.Options{})

			if diff := cmp.Diff(string(dump(t, fresh)), string(dump(t, warm))); diff != "" {
				t.Fatalf("the unit cache changed the output (-fresh +cached):\n%s", diff)
			}
			assertSameUnits(t, fresh, warm)
			changed := changedUnits(cold, fresh)
			if tc.rebuilt != nil {
				if diff := cmp.Diff(tc.rebuilt, changed); diff != "" {
					t.Errorf("units whose inputs changed (-want +got):\n%s", diff)
				}
			} else if len(changed) < 2 {
				t.Errorf("units whose inputs changed: %v, want the flux-system unit and the units using the variable", changed)
			}
			if warm.Stats.Built != int64(len(changed)) || warm.Stats.Built+warm.Stats.Cached != fresh.Stats.Built {
				t.Errorf("built %d, cached %d; want %d built (%v) of %d", warm.Stats.Built, warm.Stats.Cached, len(changed), changed, fresh.Stats.Built)
			}
		})
	}
}

// TestUnitCacheHelmReleases: a release is taken from the cache while its
// chart, values and the Kubernetes version are unchanged, and built again
// when one of them changes.
func TestUnitCacheHelmReleases(t *testing.T) {
	sources := map[string]string{"GitRepository/apps/charts": "."}
	dir := t.TempDir()
	testenv.CopyTree(t, filepath.Join("testdata", "helm"), dir)
	cache := t.TempDir()
	opts := func(kube string, unitCache bool) render.Options {
		o := render.Options{Offline: true, CacheDir: t.TempDir(), KubernetesVersion: kube}
		if unitCache {
			o.UnitCacheDir = cache
		}
		return o
	}
	releases := func(res *render.Result) int64 {
		n := int64(0)
		for _, u := range res.Units {
			if u.Kind == render.KindHelmRelease && !u.Failed && len(u.Objects) > 0 {
				n++
			}
		}
		return n
	}
	cold := renderHelmFleet(t, dir, sources, opts("", true))
	n := releases(cold)
	if n < 3 {
		t.Fatalf("%d releases rendered; the test needs several", n)
	}
	check := func(t *testing.T, kube string, built int64) {
		t.Helper()
		got := renderHelmFleet(t, dir, sources, opts(kube, true))
		fresh := renderHelmFleet(t, dir, sources, opts(kube, false))
		if diff := cmp.Diff(string(dumpHelm(t, fresh)), string(dumpHelm(t, got))); diff != "" {
			t.Fatalf("the unit cache changed the output (-fresh +cached):\n%s", diff)
		}
		assertSameUnits(t, fresh, got)
		if got.Stats.Built != built || got.Stats.Built+got.Stats.Cached != fresh.Stats.Built {
			t.Errorf("built %d, cached %d; want %d built of %d", got.Stats.Built, got.Stats.Cached, built, fresh.Stats.Built)
		}
	}
	// Two units are never cached: the cluster's kustomize build (its
	// output holds a plain Secret) and the release demo (values from that
	// Secret).
	const uncached = 2
	t.Run("unchanged", func(t *testing.T) { check(t, "", uncached) })
	t.Run("another Kubernetes version", func(t *testing.T) { check(t, "1.33.0", uncached+n-1) })
	t.Run("the Kubernetes version again", func(t *testing.T) { check(t, "1.33.0", uncached) })
	t.Run("values of one release", func(t *testing.T) {
		replaceIn(t, filepath.Join(dir, "cluster/releases.yaml"), "  name: skip\n  namespace: apps\nspec:\n", "  name: skip\n  namespace: apps\nspec:\n  values:\n    changed: true\n")
		check(t, "", uncached+1)
	})
	for p, data := range cacheFiles(t, cache) {
		if bytes.Contains(data, []byte("s3cr3t")) {
			t.Errorf("%s holds a Secret value", p)
		}
	}
}

// cacheFiles returns the cache's files, each with its content, gzip
// entries uncompressed.
func cacheFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
			if plain, err := io.ReadAll(zr); err == nil {
				data = append(data, plain...)
			}
		}
		out[p] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUnitCacheCorruptEntries: an entry that is truncated, garbled or
// emptied is ignored, the unit built again without an error, and the
// entry written anew.
func TestUnitCacheCorruptEntries(t *testing.T) {
	dir := unitCacheFleets(t)["fleet-infra"]
	cache := t.TempDir()
	_, cold := renderDirOpts(t, dir, render.Options{UnitCacheDir: cache})
	i := 0
	for p, data := range cacheFiles(t, cache) {
		var bad []byte
		switch i % 3 {
		case 0:
			bad = data[:len(data)/2]
		case 1:
			bad = bytes.Clone(data)
			for j := len(bad) / 3; j < len(bad)/3+8 && j < len(bad); j++ {
				bad[j] ^= 0x5a
			}
		case 2:
			bad = nil
		}
		i++
		if err := os.WriteFile(p, bad, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if i == 0 {
		t.Fatal("nothing was cached")
	}
	_, again := renderDirOpts(t, dir, render.Options{UnitCacheDir: cache})
	if again.Stats.Built != cold.Stats.Built || again.Stats.Cached != 0 {
		t.Errorf("with corrupt entries: %+v, want every build run (%d)", again.Stats, cold.Stats.Built)
	}
	if diff := cmp.Diff(string(dump(t, cold)), string(dump(t, again))); diff != "" {
		t.Fatalf("output differs (-cold +with corrupt entries):\n%s", diff)
	}
	_, warm := renderDirOpts(t, dir, render.Options{UnitCacheDir: cache})
	if warm.Stats.Built != 0 {
		t.Errorf("after the entries were written again: %+v, want nothing built", warm.Stats)
	}
}

// TestUnitCacheNeverHoldsSecrets renders a fleet whose Kustomization
// decrypts SOPS files and substitutes variables from a SOPS Secret: no
// plaintext reaches the cache directory, and the unit is built on every
// run. Without a key, the units (placeholders only) are cached.
func TestUnitCacheNeverHoldsSecrets(t *testing.T) {
	id := newIdentity(t)
	dir := sopsFleet(t, id.Recipient().String(), true)
	dec, err := sops.NewDecryptor("# test key\n" + id.String() + "\n")
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	opts := render.Options{Decryptor: dec, Paths: []string{"clusters/prod"}, UnitCacheDir: cache}
	for run := range 2 {
		_, res := renderDirOpts(t, dir, opts)
		if got := nested(findObject(res, "clusters/prod", "Kustomization/flux-system/app", "Secret/apps/db").Object, "stringData", "password"); got != canary+"-db" {
			t.Fatalf("run %d: the Secret was not decrypted: %q", run, got)
		}
		if run == 1 && res.Stats.Cached != 1 {
			// The flux-system unit only holds encrypted values.
			t.Errorf("second run: %+v, want only the flux-system unit from the cache", res.Stats)
		}
		if run == 1 && res.Stats.Built != 1 {
			t.Errorf("second run: %+v, want the decrypting unit built again", res.Stats)
		}
		if len(render.SensitiveValues(res)) == 0 {
			t.Errorf("run %d: no sensitive values recorded", run)
		}
	}
	files := cacheFiles(t, cache)
	if len(files) == 0 {
		t.Fatal("nothing was cached")
	}
	for p, data := range files {
		if bytes.Contains(data, []byte(canary)) {
			t.Errorf("%s holds decrypted data", p)
		}
	}

	// Without a key, a unit holding placeholders is cached; the app unit
	// is not: its secretGenerator makes a Secret of the encrypted .env
	// file's values.
	nokey := t.TempDir()
	o := render.Options{Paths: []string{"clusters/prod"}, UnitCacheDir: nokey}
	renderDirOpts(t, dir, o)
	_, res := renderDirOpts(t, dir, o)
	if res.Stats.Built != 1 || res.Stats.Cached != 1 {
		t.Errorf("without a key: %+v, want the flux-system unit from the cache", res.Stats)
	}
}

// TestUnitCacheNoPlaintextSecrets: a unit whose output holds a Secret value
// (here a Secret written in plain text) is not cached.
func TestUnitCacheNoPlaintextSecrets(t *testing.T) {
	const value = "plain-canary-31c7"
	dir := testenv.WriteTree(t, map[string]string{
		"cluster/kustomization.yaml": "resources:\n- secret.yaml\n- cm.yaml\n",
		"cluster/secret.yaml":        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\n  namespace: default\nstringData:\n  token: " + value + "\n",
		"cluster/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: default\n",
	})
	cache := t.TempDir()
	renderDirOpts(t, dir, render.Options{UnitCacheDir: cache})
	_, res := renderDirOpts(t, dir, render.Options{UnitCacheDir: cache})
	if res.Stats.Built != 1 || res.Stats.Cached != 0 {
		t.Errorf("%+v, want the unit built again", res.Stats)
	}
	for p, data := range cacheFiles(t, cache) {
		if bytes.Contains(data, []byte(value)) {
			t.Errorf("%s holds a Secret value", p)
		}
	}
}

// TestUnitCacheConcurrentRenders: renders sharing the cache directory at
// the same time leave it whole; a render after them builds nothing and
// gives their output.
func TestUnitCacheConcurrentRenders(t *testing.T) {
	for name, dir := range unitCacheFleets(t) {
		t.Run(name, func(t *testing.T) {
			cache := t.TempDir()
			_, want := renderDirOpts(t, dir, render.Options{})
			const renders = 4
			results := make([]*render.Result, renders)
			var wg sync.WaitGroup
			for i := range renders {
				wg.Go(func() {
					results[i] = renderNoFatal(t, dir, render.Options{UnitCacheDir: cache, Workers: 2})
				})
			}
			wg.Wait()
			for i, res := range results {
				if res == nil {
					t.Fatalf("render %d failed", i)
				}
				if diff := cmp.Diff(string(dump(t, want)), string(dump(t, res))); diff != "" {
					t.Fatalf("render %d differs (-alone +concurrent):\n%s", i, diff)
				}
			}
			_, warm := renderDirOpts(t, dir, render.Options{UnitCacheDir: cache})
			if warm.Stats.Built != 0 {
				t.Errorf("after concurrent renders: %+v, want nothing built", warm.Stats)
			}
			assertSameUnits(t, want, warm)
		})
	}
}

// renderNoFatal renders like renderDirOpts from any goroutine: errors
// are reported with Errorf and give nil.
func renderNoFatal(t *testing.T, dir string, opts render.Options) *render.Result {
	ctx := context.Background()
	repo, err := fleet.Load(ctx, os.DirFS(dir), fleet.Options{})
	if err != nil {
		t.Errorf("load %s: %v", dir, err)
		return nil
	}
	opts.Dir, opts.Offline, opts.CacheDir = dir, true, t.TempDir()
	res, err := render.Render(ctx, repo, opts)
	if err != nil {
		t.Errorf("render %s: %v", dir, err)
		return nil
	}
	return res
}

// TestUnitCacheBounded: a slot keeps a few entries however often its unit
// changes, and the cache is trimmed to its size bound.
func TestUnitCacheBounded(t *testing.T) {
	dir := t.TempDir()
	testenv.CopyTree(t, filepath.Join(fleets, "fleet-infra"), dir)
	cache := t.TempDir()
	count := func() int { return len(cacheFiles(t, cache)) }
	renderDirOpts(t, dir, render.Options{UnitCacheDir: cache})
	first := count()
	colors := []string{"#34577c", "#000001", "#000002", "#000003", "#000004", "#000005", "#000006", "#000007"}
	for i := 1; i < len(colors); i++ {
		replaceIn(t, filepath.Join(dir, "teams/team-a/configmap.yaml"), colors[i-1], colors[i])
		renderDirOpts(t, dir, render.Options{UnitCacheDir: cache})
	}
	// Two units (one per cluster) read the file: 4 entries each at most.
	if got, max := count(), first+2*3; got > max {
		t.Errorf("%d files after %d edits, want at most %d", got, len(colors)-1, max)
	}
	// A render that writes trims the cache to its bound.
	replaceIn(t, filepath.Join(dir, "teams/team-a/configmap.yaml"), colors[len(colors)-1], "#ffffff")
	_, res := renderDirOpts(t, dir, render.Options{UnitCacheDir: cache, UnitCacheMaxBytes: 1})
	if got := count(); got != 0 {
		t.Errorf("%d files left with a 1-byte bound", got)
	}
	if res.Stats.Built != 2 {
		t.Errorf("%+v: want the 2 changed units built, the others read before the trim", res.Stats)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("%d empty slot directories left", len(entries))
	}
}

// TestUnitCacheUnwritable: a cache directory that cannot be written only
// costs builds.
func TestUnitCacheUnwritable(t *testing.T) {
	dir := unitCacheFleets(t)["generated"]
	file := filepath.Join(t.TempDir(), "not-a-dir")
	write(t, file, "x")
	_, res := renderDirOpts(t, dir, render.Options{UnitCacheDir: file})
	if res.Stats.Built == 0 || res.Stats.Cached != 0 {
		t.Errorf("%+v", res.Stats)
	}
	for _, p := range res.Problems() {
		if strings.Contains(p.Message, "cache") {
			t.Errorf("problem about the cache: %s", p)
		}
	}
}
