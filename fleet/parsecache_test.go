package fleet_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/fleet"
)

// keyedFS is a MapFS that names contents without reading them, as a Git
// tree does, and counts the files read.
type keyedFS struct {
	fstest.MapFS
	reads atomic.Int64
}

func (k *keyedFS) ContentKey(name string) (string, error) {
	f, ok := k.MapFS[name]
	if !ok {
		return "", fs.ErrNotExist
	}
	return fleet.ContentKey(f.Data), nil
}

func (k *keyedFS) ReadFile(name string) ([]byte, error) {
	k.reads.Add(1)
	return k.MapFS.ReadFile(name)
}

func (k *keyedFS) Open(name string) (fs.File, error) {
	if f, ok := k.MapFS[name]; ok && !f.Mode.IsDir() {
		k.reads.Add(1)
	}
	return k.MapFS.Open(name)
}

func newKeyedFS(files map[string]string) *keyedFS {
	k := &keyedFS{MapFS: fstest.MapFS{}}
	for p, c := range files {
		k.MapFS[p] = &fstest.MapFile{Data: []byte(c), Mode: 0o644}
	}
	return k
}

// loaded is what a load found, for comparison.
func loaded(t *testing.T, fsys fs.FS, cache *fleet.ParseCache) [][]any {
	t.Helper()
	repo, err := fleet.Load(context.Background(), fsys, fleet.Options{Parsed: cache})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	for _, d := range repo.Docs {
		out = append(out, []any{d.File, d.Line, d.Index, d.Ref(), d.Object})
	}
	for _, p := range repo.Problems {
		out = append(out, []any{p.String()})
	}
	out = append(out, []any{repo.EntryPoints(), repo.RemoteBases("apps/prod")})
	return out
}

// TestParseCacheAcrossRuns: a run that opens the cache file an earlier
// run saved loads the same repository without reading or parsing the
// files it holds; a changed file is parsed again; a corrupt file or one
// of another build is an empty start.
func TestParseCacheAcrossRuns(t *testing.T) {
	files := merge(bootstrap("prod"), map[string]string{
		"clusters/prod/apps.yaml": kustomization("apps", "flux-system", "./apps/prod", "GitRepository", "flux-system"),
		"apps/prod/kustomization.yaml": kustomizeFile("../base", "https://github.com/org/remote//base") +
			"configMapGenerator:\n  - name: settings\n    literals: [a=b]\n",
		"apps/base/kustomization.yaml": kustomizeFile("cm.yaml"),
		"apps/base/cm.yaml":            configMap("base") + "---\nnot: [valid\n",
		"notes/list.yaml":              "- just\n- a list\n",
	})
	file := filepath.Join(t.TempDir(), "parsed")
	fresh := loaded(t, newKeyedFS(files), nil)

	first := fleet.OpenParseCache(file, "build-1")
	if got := loaded(t, newKeyedFS(files), first); !cmp.Equal(fresh, got) {
		t.Fatalf("a load with an empty cache differs:\n%s", cmp.Diff(fresh, got))
	}
	if err := first.Save(); err != nil {
		t.Fatal(err)
	}

	warm := newKeyedFS(files)
	if got := loaded(t, warm, fleet.OpenParseCache(file, "build-1")); !cmp.Equal(fresh, got) {
		t.Fatalf("a load from the saved cache differs (-fresh +cached):\n%s", cmp.Diff(fresh, got))
	}
	if n := warm.reads.Load(); n != 0 {
		t.Errorf("a load from the saved cache read %d files, want none", n)
	}

	// A lower size limit holds for files the cache has parsed too.
	small, err := fleet.Load(context.Background(), newKeyedFS(files), fleet.Options{Parsed: fleet.OpenParseCache(file, "build-1"), MaxFileSize: 40})
	if err != nil {
		t.Fatal(err)
	}
	tooLarge := 0
	for _, p := range small.Problems {
		if p.Rule == fleet.RuleFileTooLarge {
			tooLarge++
		}
	}
	if tooLarge == 0 {
		t.Error("with a lower --max-file-size, no cached file is too large")
	}

	changed := merge(files, map[string]string{"apps/base/cm.yaml": configMap("changed")})
	fsys := newKeyedFS(changed)
	if got, want := loaded(t, fsys, fleet.OpenParseCache(file, "build-1")), loaded(t, newKeyedFS(changed), nil); !cmp.Equal(want, got) {
		t.Fatalf("a changed file was not parsed again (-want +got):\n%s", cmp.Diff(want, got))
	}
	if n := fsys.reads.Load(); n != 1 {
		t.Errorf("read %d files, want the changed one only", n)
	}

	other := newKeyedFS(files)
	loaded(t, other, fleet.OpenParseCache(file, "build-2"))
	if other.reads.Load() == 0 {
		t.Error("another build's cache file was used")
	}

	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x5a
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	corrupt := newKeyedFS(files)
	if got := loaded(t, corrupt, fleet.OpenParseCache(file, "build-1")); !cmp.Equal(fresh, got) {
		t.Fatalf("a load with a corrupt cache file differs:\n%s", cmp.Diff(fresh, got))
	}
	if corrupt.reads.Load() == 0 {
		t.Error("a corrupt cache file was used")
	}
}

// TestParseCacheNoSecrets: a file with a Secret is never written to the
// cache file (neither its stringData nor its base64 data), the same load
// still finds it, and the other files of the run are cached as before.
func TestParseCacheNoSecrets(t *testing.T) {
	const canary = "canary-7f3c9e1d-parse"
	b64 := base64.StdEncoding.EncodeToString([]byte(canary))
	files := merge(bootstrap("prod"), map[string]string{
		"apps/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: default\n" +
			"stringData:\n  password: " + canary + "\ndata:\n  token: " + b64 + "\n",
		"apps/cm.yaml": configMap("base"),
	})
	file := filepath.Join(t.TempDir(), "parsed")
	fresh := loaded(t, newKeyedFS(files), nil)
	first := fleet.OpenParseCache(file, "build-1")
	if got := loaded(t, newKeyedFS(files), first); !cmp.Equal(fresh, got) {
		t.Fatalf("a load with an empty cache differs:\n%s", cmp.Diff(fresh, got))
	}
	if err := first.Save(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{canary, b64} {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("the cache file holds the Secret value %q", s)
		}
	}
	warm := newKeyedFS(files)
	if got := loaded(t, warm, fleet.OpenParseCache(file, "build-1")); !cmp.Equal(fresh, got) {
		t.Fatalf("a load from the saved cache differs (-fresh +cached):\n%s", cmp.Diff(fresh, got))
	}
	if n := warm.reads.Load(); n != 1 {
		t.Errorf("a load from the saved cache read %d files, want the Secret's alone", n)
	}
}
