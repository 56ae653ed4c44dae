package kustomize

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	kustypes "sigs.k8s.io/kustomize/api/types"
)

// bothBuilds builds dir of the tree at root with buildPlain and with
// kustomize itself, each with the origin annotations render asks for.
func bothBuilds(t *testing.T, root, dir string) (plain Objects, plainOK bool, plainErr error, full Objects, fullErr error) {
	t.Helper()
	open := func() *FS {
		base, err := SourceFS(root, false)
		if err != nil {
			t.Fatal(err)
		}
		manifest, kfile, err := Generate(root, dir, map[string]any{"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "spec": map[string]any{}})
		if err != nil {
			t.Fatal(err)
		}
		manifest, _, err = WithOriginAnnotations(manifest)
		if err != nil {
			t.Fatal(err)
		}
		return NewFS(base, kfile, manifest)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	plain, plainOK, plainErr = buildPlain(open(), dir)
	full, fullErr = runKustomize(open(), dir, kustypes.DisabledPluginConfig())
	return
}

func yamlOf(t *testing.T, o Objects) string {
	t.Helper()
	b, err := o.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPlainBuildMatchesKustomize holds buildPlain to kustomize: on every
// tree it takes, the output is kustomize's, object for object, byte for
// byte; the trees it declines are ones kustomize must build.
func TestPlainBuildMatchesKustomize(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		plain bool // buildPlain takes the tree
	}{
		{"generated for a directory without kustomization.yaml", map[string]string{
			"app/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n",
			"app/b.yml":  "# comment\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n  namespace: team\n  annotations:\n    keep: me\nspec:\n  replicas: 2\n",
		}, true},
		{"resources only, nested directories, ./ and ../", map[string]string{
			"app/kustomization.yaml":      "resources:\n- ./svc.yaml\n- base\n- ../shared/cm.yaml\n",
			"app/svc.yaml":                "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: 80\n",
			"app/base/kustomization.yml":  "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- deep\n- sa.yaml\n",
			"app/base/sa.yaml":            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n",
			"app/base/deep/Kustomization": "resources:\n- x.yaml\n",
			"app/base/deep/x.yaml":        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: x\nspec:\n  n: 1.50\n  s: \"007\"\n  on: yes\n",
			"shared/cm.yaml":              "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n  k: |\n    multi\n    line\n",
		}, true},
		{"lists, empty documents and local config", map[string]string{
			"app/kustomization.yaml": "resources:\n- list.yaml\n",
			"app/list.yaml": "---\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: one\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: two\n---\n" +
				"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n---\n" +
				"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notlocal\n  annotations:\n    config.kubernetes.io/local-config: \"false\"\n",
		}, true},
		{"anchors", map[string]string{
			"app/kustomization.yaml": "resources:\n- a.yaml\n",
			"app/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: &l\n    x: y\ndata:\n  labels: *l\n",
		}, true},
		{"a transformer needs kustomize", map[string]string{
			"app/kustomization.yaml": "namePrefix: p-\nresources:\n- a.yaml\n",
			"app/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		}, false},
		{"a base with a transformer needs kustomize", map[string]string{
			"app/kustomization.yaml":      "resources:\n- base\n",
			"app/base/kustomization.yaml": "commonLabels:\n  a: b\nresources:\n- a.yaml\n",
			"app/base/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		}, false},
		{"sortOptions needs kustomize", map[string]string{
			"app/kustomization.yaml": "sortOptions:\n  order: legacy\nresources:\n- a.yaml\n",
			"app/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n",
		}, false},
		{"two kustomization files", map[string]string{
			"app/kustomization.yaml": "resources:\n- a.yaml\n",
			"app/kustomization.yml":  "resources:\n- a.yaml\n",
			"app/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		}, false},
		{"a missing file", map[string]string{
			"app/kustomization.yaml": "resources:\n- gone.yaml\n",
		}, false},
		{"a component", map[string]string{
			"app/kustomization.yaml":      "resources:\n- comp\n",
			"app/comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- a.yaml\n",
			"app/comp/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for name, body := range c.files {
				p := filepath.Join(root, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			plain, ok, plainErr, full, fullErr := bothBuilds(t, root, filepath.Join(root, "app"))
			if ok != c.plain {
				t.Fatalf("buildPlain took the tree: %v, want %v (err %v)", ok, c.plain, plainErr)
			}
			if !ok {
				return
			}
			if plainErr != nil || fullErr != nil {
				t.Fatalf("errors: plain %v, kustomize %v", plainErr, fullErr)
			}
			if d := cmp.Diff(yamlOf(t, full), yamlOf(t, plain)); d != "" {
				t.Errorf("plain build differs from kustomize (-kustomize +plain):\n%s", d)
			}
		})
	}
}

// TestPlainBuildMatchesKustomizeOnFleets runs the comparison over every
// kustomization directory of the test fleets.
func TestPlainBuildMatchesKustomizeOnFleets(t *testing.T) {
	root, err := filepath.Abs("../../testdata/fleets")
	if err != nil {
		t.Fatal(err)
	}
	taken := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !IsKustomizationName(d.Name()) {
			return err
		}
		dir := filepath.Dir(p)
		rel, _ := filepath.Rel(root, dir)
		if strings.Contains(rel, "alias-bomb") {
			return nil // render refuses the file before any build reads it
		}
		// Each fleet is its own source root (the broken and pattern ones one level down).
		parts := strings.Split(filepath.ToSlash(rel), "/")
		fleetRoot := filepath.Join(root, parts[0])
		if (parts[0] == "broken" || parts[0] == "patterns") && len(parts) > 1 {
			fleetRoot = filepath.Join(root, parts[0], parts[1])
		}
		plain, ok, plainErr, full, fullErr := bothBuilds(t, fleetRoot, dir)
		if !ok {
			return nil
		}
		taken++
		if (plainErr == nil) != (fullErr == nil) {
			t.Errorf("%s: plain error %v, kustomize error %v", rel, plainErr, fullErr)
			return nil
		}
		if plainErr == nil {
			if d := cmp.Diff(yamlOf(t, full), yamlOf(t, plain)); d != "" {
				t.Errorf("%s: plain build differs from kustomize (-kustomize +plain):\n%s", rel, d)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if taken == 0 {
		t.Fatal("no test fleet directory took the plain build")
	}
	t.Logf("%d directories compared", taken)
}

// TestPlainBuildDuplicate: an object listed twice is kustomize's error,
// naming the object, whichever file repeats it, also between "" and
// "default" namespaces.
func TestPlainBuildDuplicate(t *testing.T) {
	root := t.TempDir()
	app := filepath.Join(root, "app")
	os.MkdirAll(app, 0o755)
	os.WriteFile(filepath.Join(app, "kustomization.yaml"), []byte("resources:\n- a.yaml\n- b.yaml\n"), 0o644)
	os.WriteFile(filepath.Join(app, "a.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: twice\n"), 0o644)
	os.WriteFile(filepath.Join(app, "b.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: twice\n  namespace: default\n"), 0o644)
	_, ok, plainErr, _, fullErr := bothBuilds(t, root, app)
	if !ok || plainErr == nil || fullErr == nil {
		t.Fatalf("ok %v, plain error %v, kustomize error %v; want both to refuse", ok, plainErr, fullErr)
	}
	for _, want := range []string{"already registered id", "ConfigMap.v1.[noGrp]/twice", "b.yaml"} {
		if !strings.Contains(plainErr.Error(), want) {
			t.Errorf("plain error %q does not say %q", plainErr, want)
		}
	}
}

// BenchmarkPlainBuild builds one file of n small objects; kustomize's own
// build of the same tree grows with n².
func BenchmarkPlainBuild(b *testing.B) {
	for _, n := range []int{1000, 4000} {
		root := b.TempDir()
		app := filepath.Join(root, "app")
		os.MkdirAll(app, 0o755)
		var sb strings.Builder
		for i := range n {
			fmt.Fprintf(&sb, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  k: v\n", i)
		}
		os.WriteFile(filepath.Join(app, "big.yaml"), []byte(sb.String()), 0o644)
		os.WriteFile(filepath.Join(app, "kustomization.yaml"), []byte("resources:\n- big.yaml\n"), 0o644)
		base, _ := SourceFS(root, false)
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Build(NewFS(base, filepath.Join(app, "none.yaml"), nil), app, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestBuildRefusesFilesOverTheLimit: a file over MaxFileSize is refused by
// the build, named in the error, without being read.
func TestBuildRefusesFilesOverTheLimit(t *testing.T) {
	root := t.TempDir()
	app := filepath.Join(root, "app")
	os.MkdirAll(app, 0o755)
	os.WriteFile(filepath.Join(app, "kustomization.yaml"), []byte("resources:\n- big.yaml\n"), 0o644)
	os.WriteFile(filepath.Join(app, "big.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  k: "+strings.Repeat("x", 4096)+"\n"), 0o644)
	base, err := SourceFS(root, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int64{0, 1 << 20} {
		fs := NewFS(base, filepath.Join(app, "none.yaml"), nil)
		fs.MaxFileSize = limit
		if _, err := Build(fs, app, Options{}); err != nil {
			t.Errorf("limit %d: %v", limit, err)
		}
	}
	fs := NewFS(base, filepath.Join(app, "none.yaml"), nil)
	fs.MaxFileSize = 1024
	_, err = Build(fs, app, Options{})
	if err == nil || !strings.Contains(err.Error(), "big.yaml") || !strings.Contains(err.Error(), "--max-file-size") {
		t.Errorf("err %v, want big.yaml refused by --max-file-size", err)
	}
	for _, r := range fs.Reads(root) {
		if strings.HasPrefix(r, "app/big.yaml") {
			t.Errorf("the refused file was read: %s", r)
		}
	}
}

// TestBuildRefusesNamedPipes: a named pipe a kustomization names (here a
// secretGenerator file) is refused, never opened: the build ends.
func TestBuildRefusesNamedPipes(t *testing.T) {
	root := t.TempDir()
	app := filepath.Join(root, "app")
	os.MkdirAll(app, 0o755)
	os.WriteFile(filepath.Join(app, "kustomization.yaml"), []byte("secretGenerator:\n- name: s\n  files:\n  - pipe.txt\n"), 0o644)
	if err := syscall.Mkfifo(filepath.Join(app, "pipe.txt"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	base, err := SourceFS(root, false)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Build(NewFS(base, filepath.Join(app, "none.yaml"), nil), app, Options{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("err %v, want the pipe refused", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the build opened the named pipe and blocked")
	}
}

// TestPlainBuildDeclinesBeforeReading: a tree kustomize must build (here a
// base with a transformer, listed after a plain file) is declined having
// read its kustomization files only, so no resource file is read or
// decrypted twice.
func TestPlainBuildDeclinesBeforeReading(t *testing.T) {
	root := t.TempDir()
	for name, body := range map[string]string{
		"app/kustomization.yaml":      "resources:\n- a.yaml\n- base\n",
		"app/a.yaml":                  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		"app/base/kustomization.yaml": "namePrefix: p-\nresources:\n- b.yaml\n",
		"app/base/b.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	base, err := SourceFS(root, false)
	if err != nil {
		t.Fatal(err)
	}
	fs := NewFS(base, filepath.Join(root, "app", "none.yaml"), nil)
	if _, ok, err := buildPlain(fs, filepath.Join(root, "app")); ok || err != nil {
		t.Fatalf("buildPlain took the tree (ok %v, err %v)", ok, err)
	}
	for _, r := range fs.Reads(root) {
		if name := strings.Fields(r)[0]; !IsKustomizationName(filepath.Base(name)) {
			t.Errorf("declined tree read %s", name)
		}
	}
}
