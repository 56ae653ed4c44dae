package fleetgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/config"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
)

// readTree returns every regular file below root, keyed by slash path.
func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatalf("read tree %s: %v", root, err)
	}
	return files
}

// diffTrees returns, sorted, the paths whose content differs between a and
// b or that only one of them holds.
func diffTrees(a, b map[string]string) []string {
	var diff []string
	for p, data := range a {
		if other, ok := b[p]; !ok || other != data {
			diff = append(diff, p)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			diff = append(diff, p)
		}
	}
	slices.Sort(diff)
	return diff
}

// generate runs Generate into a fresh temporary directory.
func generate(t *testing.T, c Config) (string, map[string]string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fleet")
	n, err := Generate(dir, c)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", c, err)
	}
	files := readTree(t, dir)
	if n != len(files) {
		t.Errorf("Generate(%+v) returned %d files, tree holds %d", c, n, len(files))
	}
	return dir, files
}

// documents splits a YAML file into its non-empty documents.
func documents(data string) []string {
	var docs []string
	for _, d := range strings.Split("\n"+data, "\n---\n") {
		if strings.TrimSpace(d) != "" {
			docs = append(docs, strings.TrimPrefix(d, "\n"))
		}
	}
	return docs
}

// topField returns the value of a top-level "key: value" line of doc.
func topField(doc, key string) string {
	for _, line := range strings.Split(doc, "\n") {
		if v, ok := strings.CutPrefix(line, key+": "); ok {
			return v
		}
	}
	return ""
}

func TestGenerateDeterministic(t *testing.T) {
	tests := []struct {
		name string
		c    Config
	}{
		{name: "small", c: Config{Clusters: 2, Kustomizations: 3, Objects: 8, Seed: 1}},
		{name: "uneven rotation", c: Config{Clusters: 3, Kustomizations: 5, Objects: 7, Seed: -42}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, first := generate(t, tt.c)
			_, second := generate(t, tt.c)
			if diff := diffTrees(first, second); len(diff) > 0 {
				t.Errorf("two runs of %+v differ in %d files: %v", tt.c, len(diff), diff)
			}
		})
	}
}

func TestGenerateSeedChangesOutput(t *testing.T) {
	c := Config{Clusters: 2, Kustomizations: 3, Objects: 8, Seed: 1}
	_, a := generate(t, c)
	c.Seed = 2
	_, b := generate(t, c)
	if len(diffTrees(a, b)) == 0 {
		t.Errorf("seeds 1 and 2 produced identical fleets")
	}
}

func TestGenerateCounts(t *testing.T) {
	tests := []struct {
		name            string
		c               Config
		wantFiles       int
		wantFluxKs      int // Flux Kustomizations, flux-system included
		wantBaseObjects int // objects in all bases, Namespaces included
		wantOverlays    int
		wantKinds       map[string]int // kinds of base objects
	}{
		{
			name:            "one of each",
			c:               Config{Clusters: 1, Kustomizations: 1, Objects: 1},
			wantFiles:       1*4 + 1*(1+2) + 1*1,
			wantFluxKs:      1 * (1 + 1),
			wantBaseObjects: 1 * (1 + 1),
			wantOverlays:    1,
			wantKinds:       map[string]int{"Namespace": 1, "Deployment": 1},
		},
		{
			name:            "brief example",
			c:               Config{Clusters: 2, Kustomizations: 3, Objects: 8, Seed: 7},
			wantFiles:       2*4 + 3*(8+2) + 2*3,
			wantFluxKs:      2 * (3 + 1),
			wantBaseObjects: 3 * (8 + 1),
			wantOverlays:    6,
			wantKinds:       map[string]int{"Namespace": 3, "Deployment": 6, "Service": 6, "ConfigMap": 6, "ServiceAccount": 6},
		},
		{
			name:            "partial rotation",
			c:               Config{Clusters: 3, Kustomizations: 4, Objects: 6, Seed: 99},
			wantFiles:       3*4 + 4*(6+2) + 3*4,
			wantFluxKs:      3 * (4 + 1),
			wantBaseObjects: 4 * (6 + 1),
			wantOverlays:    12,
			wantKinds:       map[string]int{"Namespace": 4, "Deployment": 8, "Service": 8, "ConfigMap": 4, "ServiceAccount": 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, files := generate(t, tt.c)
			if got := len(files); got != tt.wantFiles {
				t.Errorf("files = %d, want %d", got, tt.wantFiles)
			}
			if got := FileCount(tt.c); got != tt.wantFiles {
				t.Errorf("FileCount = %d, want %d", got, tt.wantFiles)
			}
			var fluxKs, baseObjects, overlays int
			kinds := map[string]int{}
			for p, data := range files {
				switch {
				case strings.HasPrefix(p, "clusters/"):
					for _, d := range documents(data) {
						if topField(d, "apiVersion") == "kustomize.toolkit.fluxcd.io/v1" && topField(d, "kind") == "Kustomization" {
							fluxKs++
						}
					}
				case strings.Contains(p, "/overlays/"):
					overlays++
				case strings.Contains(p, "/base/") && !strings.HasSuffix(p, "/kustomization.yaml"):
					for _, d := range documents(data) {
						baseObjects++
						kinds[topField(d, "kind")]++
					}
				}
			}
			if fluxKs != tt.wantFluxKs {
				t.Errorf("Flux Kustomizations = %d, want %d", fluxKs, tt.wantFluxKs)
			}
			if baseObjects != tt.wantBaseObjects {
				t.Errorf("base objects = %d, want %d", baseObjects, tt.wantBaseObjects)
			}
			if overlays != tt.wantOverlays {
				t.Errorf("overlays = %d, want %d", overlays, tt.wantOverlays)
			}
			if !reflect.DeepEqual(kinds, tt.wantKinds) {
				t.Errorf("base kinds = %v, want %v", kinds, tt.wantKinds)
			}
		})
	}
}

func TestGenerateLayout(t *testing.T) {
	_, files := generate(t, Config{Clusters: 2, Kustomizations: 3, Objects: 8, Seed: 1})
	tests := []struct {
		name string
		file string
		want []string // lines that must appear in the file
	}{
		{
			name: "flux-system kustomization",
			file: "clusters/cluster-001/flux-system/kustomization.yaml",
			want: []string{"kind: Kustomization", "  - gotk-sync.yaml"},
		},
		{
			name: "gotk-sync",
			file: "clusters/cluster-001/flux-system/gotk-sync.yaml",
			want: []string{
				"apiVersion: source.toolkit.fluxcd.io/v1", "kind: GitRepository",
				"  url: ssh://git@example.com/fleet/bench", "    branch: main",
				"apiVersion: kustomize.toolkit.fluxcd.io/v1", "  path: ./clusters/cluster-001",
				"  prune: true", "  interval: 10m",
			},
		},
		{
			name: "cluster settings",
			file: "clusters/cluster-001/cluster-settings.yaml",
			want: []string{"  name: cluster-settings", "  namespace: flux-system", "  cluster_name: cluster-001"},
		},
		{
			name: "apps",
			file: "clusters/cluster-001/apps.yaml",
			want: []string{
				"  name: app-002", "  path: ./apps/app-002/overlays/cluster-001",
				"  targetNamespace: app-002", "      app_name: app-002",
				"        name: cluster-settings", "    - name: app-000",
			},
		},
		{
			name: "overlay",
			file: "apps/app-002/overlays/cluster-001/kustomization.yaml",
			want: []string{"  - ../../base", "        path: /spec/replicas", "  - name: registry.example.com/app-002"},
		},
		{
			name: "base kustomization",
			file: "apps/app-002/base/kustomization.yaml",
			want: []string{"namespace: app-002", "  - namespace.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, ok := files[tt.file]
			if !ok {
				t.Fatalf("%s not generated", tt.file)
			}
			lines := strings.Split(data, "\n")
			for _, w := range tt.want {
				found := false
				for _, l := range lines {
					if l == w {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("%s lacks line %q:\n%s", tt.file, w, data)
				}
			}
		})
	}
	// Exactly the odd apps depend on their predecessor.
	if got, want := strings.Count(files["clusters/cluster-000/apps.yaml"], "dependsOn:"), 1; got != want {
		t.Errorf("dependsOn count = %d, want %d", got, want)
	}
	// Variables used by Flux post-build substitution appear in the bases.
	var all strings.Builder
	for p, data := range files {
		if strings.Contains(p, "/base/") {
			all.WriteString(data)
		}
	}
	for _, v := range []string{"${cluster_name}", "${region}", "${replicas:=1}", "${app_name}"} {
		if !strings.Contains(all.String(), v) {
			t.Errorf("bases never use %s", v)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	valid := Config{Clusters: 1, Kustomizations: 1, Objects: 1}
	tests := []struct {
		name    string
		setup   func(t *testing.T) string // returns the output directory
		c       Config
		wantErr error
	}{
		{
			name: "non-empty directory",
			setup: func(t *testing.T) string {
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
				return dir
			},
			c:       valid,
			wantErr: ErrNotEmpty,
		},
		{
			name:    "zero clusters",
			setup:   func(t *testing.T) string { return t.TempDir() },
			c:       Config{Kustomizations: 1, Objects: 1},
			wantErr: ErrInvalidConfig,
		},
		{
			name:    "negative objects",
			setup:   func(t *testing.T) string { return t.TempDir() },
			c:       Config{Clusters: 1, Kustomizations: 1, Objects: -1},
			wantErr: ErrInvalidConfig,
		},
		{
			name: "output is a file",
			setup: func(t *testing.T) string {
				p := filepath.Join(t.TempDir(), "file")
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				return p
			},
			c: valid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Generate(tt.setup(t), tt.c)
			if err == nil {
				t.Fatalf("Generate succeeded with %d files, want error", n)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Generate error = %v, want it to wrap %v", err, tt.wantErr)
			}
			if n != 0 {
				t.Errorf("Generate wrote %d files, want 0", n)
			}
		})
	}
}

func TestGenerateCreatesMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	n, err := Generate(dir, Config{Clusters: 1, Kustomizations: 1, Objects: 1})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if n != FileCount(Config{Clusters: 1, Kustomizations: 1, Objects: 1}) {
		t.Errorf("Generate wrote %d files", n)
	}
}

var (
	keyRE  = regexp.MustCompile(`^[A-Za-z0-9_./-]+$`)
	nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
)

// lintYAML checks the small block-style YAML subset the generator writes:
// two-space indentation, "key: value", "key:" opening a deeper block,
// "- " sequence items and "|-" block scalars. It returns the problems found.
func lintYAML(doc string) []string {
	var probs []string
	prevContent := 0   // column where the previous line's mapping content starts
	opened := false    // previous line ended with "key:"
	scalarIndent := -1 // indentation of the key opening a block scalar
	for i, line := range strings.Split(strings.TrimSuffix(doc, "\n"), "\n") {
		n := i + 1
		if strings.ContainsRune(line, '\t') {
			probs = append(probs, fmt.Sprintf("line %d: tab", n))
		}
		if strings.TrimSpace(line) == "" {
			probs = append(probs, fmt.Sprintf("line %d: blank line", n))
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if scalarIndent >= 0 {
			if indent > scalarIndent {
				continue
			}
			scalarIndent = -1
		}
		if indent%2 != 0 {
			probs = append(probs, fmt.Sprintf("line %d: odd indentation", n))
		}
		switch {
		case opened && indent != prevContent+2:
			probs = append(probs, fmt.Sprintf("line %d: block not indented by two", n))
		case !opened && indent > prevContent:
			probs = append(probs, fmt.Sprintf("line %d: unexpected indentation", n))
		}
		body := line[indent:]
		content := indent
		if rest, ok := strings.CutPrefix(body, "- "); ok {
			body, content = rest, indent+2
		}
		key, value, isMap := strings.Cut(body, ":")
		opened = false
		switch {
		case !isMap || (value != "" && !strings.HasPrefix(value, " ")):
			// A plain sequence item, e.g. "- ../../base".
			if content == indent {
				probs = append(probs, fmt.Sprintf("line %d: neither key nor sequence item: %q", n, line))
			}
		case !keyRE.MatchString(key):
			probs = append(probs, fmt.Sprintf("line %d: bad key %q", n, key))
		case value == "":
			opened = true
		case value == " |-" || value == " |":
			scalarIndent = content
		default:
			v := value[1:]
			if strings.Contains(v, ": ") || strings.HasSuffix(v, ":") {
				probs = append(probs, fmt.Sprintf("line %d: unquoted colon in value", n))
			}
			if strings.HasPrefix(v, `"`) && (len(v) < 2 || !strings.HasSuffix(v, `"`)) {
				probs = append(probs, fmt.Sprintf("line %d: unterminated quote", n))
			}
		}
		prevContent = content
	}
	if opened {
		probs = append(probs, "document ends with an empty block")
	}
	return probs
}

func TestGeneratedYAMLIsWellFormed(t *testing.T) {
	_, files := generate(t, Config{Clusters: 2, Kustomizations: 3, Objects: 9, Seed: 5})
	for p, data := range files {
		if !strings.HasSuffix(p, ".yaml") {
			t.Errorf("%s: not a .yaml file", p)
			continue
		}
		if !strings.HasSuffix(data, "\n") {
			t.Errorf("%s: no final newline", p)
		}
		docs := documents(data)
		if len(docs) == 0 {
			t.Errorf("%s: no documents", p)
		}
		for i, d := range docs {
			for _, prob := range lintYAML(d) {
				t.Errorf("%s document %d: %s", p, i+1, prob)
			}
			if topField(d, "apiVersion") == "" || topField(d, "kind") == "" {
				t.Errorf("%s document %d: no apiVersion or kind", p, i+1)
			}
			if filepath.Base(p) == "kustomization.yaml" {
				if got := topField(d, "apiVersion"); got != "kustomize.config.k8s.io/v1beta1" {
					t.Errorf("%s: apiVersion %q", p, got)
				}
				continue
			}
			if !strings.Contains("\n"+d, "\nmetadata:\n  name: ") {
				t.Errorf("%s document %d: no metadata.name", p, i+1)
				continue
			}
			name := strings.SplitN(strings.SplitN(d, "\nmetadata:\n  name: ", 2)[1], "\n", 2)[0]
			if !nameRE.MatchString(name) {
				t.Errorf("%s document %d: invalid name %q", p, i+1, name)
			}
		}
	}
}

func TestLintYAMLCatchesMistakes(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want bool // problems expected
	}{
		{name: "valid", doc: "a:\n  b: c\n  d:\n    - e: f\n      g: h\n    - i\nk: |-\n  x: y: z\n"},
		{name: "tab", doc: "a:\n\tb: c\n", want: true},
		{name: "over-indented", doc: "a: b\n  c: d\n", want: true},
		{name: "empty block", doc: "a:\nb: c\n", want: true},
		{name: "unquoted colon", doc: "a: b: c\n", want: true},
		{name: "bad block indentation", doc: "a:\n      b: c\n", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := lintYAML(tt.doc)
			if got := len(probs) > 0; got != tt.want {
				t.Errorf("lintYAML problems = %v, want problems: %v", probs, tt.want)
			}
		})
	}
}

// isSOPSFile reports whether p is a SOPS-encrypted file (not the
// .sops.yaml configuration).
func isSOPSFile(p string) bool {
	return strings.HasSuffix(p, ".sops.yaml") && path.Base(p) != ".sops.yaml"
}

// mixConfig is a small fleet with every optional part.
var mixConfig = Config{Clusters: 2, Kustomizations: 3, Objects: 5, Seed: 11, HelmReleases: 2, Secrets: 1, CRDs: 3}

func TestGenerateMixDeterministic(t *testing.T) {
	_, first := generate(t, mixConfig)
	_, second := generate(t, mixConfig)
	if diff := diffTrees(first, second); len(diff) > 0 {
		t.Errorf("two runs of %+v differ in %d files: %v", mixConfig, len(diff), diff)
	}
	c := mixConfig
	c.Seed++
	_, other := generate(t, c)
	for p, data := range first {
		if isSOPSFile(p) && other[p] == data {
			t.Errorf("%s: seeds %d and %d encrypt to the same file", p, mixConfig.Seed, c.Seed)
		}
	}
}

func TestGenerateMixCounts(t *testing.T) {
	tests := []struct {
		name      string
		c         Config
		wantUnits int
		wantKinds map[string]int // documents outside clusters/ and charts/, by kind
	}{
		{
			name:      "without the mix",
			c:         Config{Clusters: 2, Kustomizations: 3, Objects: 4},
			wantUnits: 2 * (1 + 3),
			wantKinds: map[string]int{"Namespace": 3, "Deployment": 3, "Service": 3, "ConfigMap": 3, "ServiceAccount": 3},
		},
		{
			name:      "mix",
			c:         mixConfig,
			wantUnits: 2 * (1 + 3 + 3*2 + 1),
			wantKinds: map[string]int{
				"Namespace": 3, "Deployment": 6, "Service": 3, "ConfigMap": 3, "ServiceAccount": 3,
				"HelmRelease": 6, "Secret": 3, "CustomResourceDefinition": 3, "Widget": 3, "Gadget": 3, "Sprocket": 3,
			},
		},
		{
			name:      "helm only",
			c:         Config{Clusters: 1, Kustomizations: 2, Objects: 1, HelmReleases: 1},
			wantUnits: 1 * (1 + 2 + 2),
			wantKinds: map[string]int{"Namespace": 2, "Deployment": 2, "HelmRelease": 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, files := generate(t, tt.c)
			if got, want := len(files), FileCount(tt.c); got != want {
				t.Errorf("files = %d, FileCount = %d", got, want)
			}
			if got := UnitCount(tt.c); got != tt.wantUnits {
				t.Errorf("UnitCount = %d, want %d", got, tt.wantUnits)
			}
			kinds := map[string]int{}
			fluxKs := 0
			for p, data := range files {
				if strings.HasPrefix(p, "charts/") || path.Base(p) == "kustomization.yaml" || p == ".sops.yaml" {
					continue
				}
				for _, d := range documents(data) {
					kind := topField(d, "kind")
					if strings.HasPrefix(p, "clusters/") {
						if kind == "Kustomization" {
							fluxKs++
						}
						continue
					}
					kinds[kind]++
				}
			}
			if !reflect.DeepEqual(kinds, tt.wantKinds) {
				t.Errorf("kinds = %v, want %v", kinds, tt.wantKinds)
			}
			// Every Flux Kustomization is a unit, and so is every
			// HelmRelease in each cluster's overlay of a base.
			if got, want := fluxKs+tt.c.Clusters*kinds["HelmRelease"], tt.wantUnits; got != want {
				t.Errorf("Flux Kustomizations + HelmReleases × clusters = %d, want %d units", got, want)
			}
		})
	}
}

func TestGenerateMixLayout(t *testing.T) {
	_, files := generate(t, mixConfig)
	tests := []struct {
		file string
		want []string
	}{
		{file: "clusters/cluster-001/infrastructure.yaml", want: []string{"  name: crds", "  path: ./infrastructure/crds"}},
		{file: "clusters/cluster-001/apps.yaml", want: []string{"    - name: crds", "    provider: sops", "      name: sops-age"}},
		{file: "infrastructure/crds/kustomization.yaml", want: []string{"  - widgets.yaml", "  - gadgets.yaml", "  - sprockets.yaml"}},
		{file: "apps/app-002/base/kustomization.yaml", want: []string{
			"  - helmrelease-app-002-rel-00.yaml", "  - helmrelease-app-002-rel-01.yaml",
			"  - secret-00.sops.yaml", "  - widget.yaml", "  - sprocket.yaml",
		}},
		{file: "apps/app-002/base/helmrelease-app-002-rel-01.yaml", want: []string{
			"      chart: ./charts/app", "        kind: GitRepository", "        namespace: flux-system", "    cluster: ${cluster_name}",
		}},
		{file: ".sops.yaml", want: []string{"    age: " + AgeRecipient}},
		{file: "charts/app/Chart.yaml", want: []string{"name: app"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, ok := files[tt.file]
			if !ok {
				t.Fatalf("%s not generated", tt.file)
			}
			for _, w := range tt.want {
				if !slices.Contains(strings.Split(data, "\n"), w) {
					t.Errorf("%s lacks line %q:\n%s", tt.file, w, data)
				}
			}
		})
	}
	// The YAML fleetgen writes itself keeps to the linted subset (sops
	// writes its own files; chart templates are not YAML).
	for p, data := range files {
		if strings.HasPrefix(p, "charts/app/templates/") || isSOPSFile(p) {
			continue
		}
		for i, d := range documents(data) {
			var lines []string // comments aside
			for _, l := range strings.SplitAfter(d, "\n") {
				if !strings.HasPrefix(l, "#") {
					lines = append(lines, l)
				}
			}
			for _, prob := range lintYAML(strings.Join(lines, "")) {
				t.Errorf("%s document %d: %s", p, i+1, prob)
			}
		}
	}
}

func TestSOPSDataKey(t *testing.T) {
	id, err := age.ParseX25519Identity(AgeIdentity)
	if err != nil {
		t.Fatal(err)
	}
	if got := id.Recipient().String(); got != AgeRecipient {
		t.Errorf("AgeIdentity's recipient = %s, AgeRecipient = %s", got, AgeRecipient)
	}
	r, err := age.Decrypt(armor.NewReader(strings.NewReader(sopsEncryptedDataKey)), id)
	if err != nil {
		t.Fatalf("AgeIdentity does not open sopsEncryptedDataKey: %v", err)
	}
	key, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(key, sopsDataKey[:]) {
		t.Errorf("sopsEncryptedDataKey holds another key than sopsDataKey")
	}
}

// TestSOPSFilesDecrypt opens every generated SOPS file as sops does: its
// data key from the age stanza, values and MAC with sops's cipher.
func TestSOPSFilesDecrypt(t *testing.T) {
	t.Setenv("SOPS_AGE_KEY", AgeIdentity)
	_, files := generate(t, mixConfig)
	g := newGen(mixConfig)
	n := 0
	for p, data := range files {
		if !isSOPSFile(p) {
			continue
		}
		n++
		store := sopsyaml.NewStore(&config.YAMLStoreConfig{})
		tree, err := store.LoadEncryptedFile([]byte(data))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		key, err := tree.Metadata.GetDataKey()
		if err != nil {
			t.Fatalf("%s: data key: %v", p, err)
		}
		mac, err := tree.Decrypt(key, aes.NewCipher())
		if err != nil {
			t.Fatalf("%s: decrypt: %v", p, err)
		}
		stored, err := aes.NewCipher().Decrypt(tree.Metadata.MessageAuthenticationCode, key, tree.Metadata.LastModified.Format(time.RFC3339))
		if err != nil {
			t.Fatalf("%s: decrypt MAC: %v", p, err)
		}
		if stored != mac {
			t.Errorf("%s: MAC mismatch", p)
		}
		plain, err := store.EmitPlainFile(tree.Branches)
		if err != nil {
			t.Fatal(err)
		}
		var k int
		if _, err := fmt.Sscanf(strings.Split(p, "/")[1], "app-%d", &k); err != nil {
			t.Fatal(err)
		}
		var s int
		if _, err := fmt.Sscanf(path.Base(p), "secret-%d.sops.yaml", &s); err != nil {
			t.Fatal(err)
		}
		want := g.plainSecret(g.apps[k], k, s)
		// sops re-emits with its own indentation: compare the values.
		for _, line := range strings.Split(want, "\n")[6:8] {
			kv := strings.TrimSpace(line)
			if !strings.Contains(string(plain), kv) {
				t.Errorf("%s: decrypted file lacks %q:\n%s", p, kv, plain)
			}
		}
	}
	if want := mixConfig.Kustomizations * mixConfig.Secrets; n != want {
		t.Errorf("%d SOPS files, want %d", n, want)
	}
}

func TestCRDKinds(t *testing.T) {
	if len(crdKinds) != MaxCRDs {
		t.Errorf("%d CRD kinds, MaxCRDs = %d", len(crdKinds), MaxCRDs)
	}
	for _, c := range []Config{
		{Clusters: 1, Kustomizations: 1, Objects: 1, CRDs: MaxCRDs + 1},
		{Clusters: 1, Kustomizations: 1, Objects: 1, Secrets: -1},
		{Clusters: 1, Kustomizations: 1, Objects: 1, HelmReleases: -1},
	} {
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidConfig", c, err)
		}
	}
}
