package imageupdate

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

const (
	testDigest1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	testDigestP = "sha256:6745aaad46d795c9836632e1fb62f24b7e7f4c843144da8e47a5465c411a14be"
)

// setterTestPolicies is the policies map every golden case runs with.
func setterTestPolicies() map[string]ImageRef {
	return map[string]ImageRef{
		"flux-system:podinfo":        {Name: "ghcr.io/stefanprodan/podinfo", Tag: "6.7.1"},
		"flux-system:podinfo-digest": {Name: "ghcr.io/stefanprodan/podinfo", Tag: "6.7.1", Digest: testDigestP},
		"apps:backend":               {Name: "registry.example.com/team/backend", Tag: "1.10"},
		"apps:frontend":              {Name: "docker.io/org/frontend", Tag: "v2.3.4"},
		"apps:unresolved":            {Name: "ghcr.io/org/unresolved"},
		"apps:same":                  {Name: "ghcr.io/org/same", Tag: "1.0.0"},
	}
}

// TestPlanSettersGolden runs PlanSetters on testdata/setters/<case>/original,
// applies the edits in memory and compares the whole tree with
// <case>/expected, and the problems with <case>/problems.txt. With -update
// it rewrites both from the result.
func TestPlanSettersGolden(t *testing.T) {
	cases := []struct {
		name string
		dir  string
	}{
		{name: "deployment"},
		{name: "helmrelease"},
		{name: "kustomize"},
		{name: "multidoc"},
		{name: "quoted"},
		{name: "crlf"},
		{name: "untouched"},
		{name: "subdir", dir: "clusters/prod"},
		{name: "problems"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := filepath.Join("testdata", "setters", tc.name)
			original := readSetterTree(t, filepath.Join(base, "original"))
			plan, err := PlanSetters(os.DirFS(filepath.Join(base, "original")), tc.dir, setterTestPolicies())
			if err != nil {
				t.Fatalf("PlanSetters: %v", err)
			}

			got := make(map[string][]byte, len(original))
			for p, b := range original {
				got[p] = b
			}
			for _, e := range plan.Edits {
				if !bytes.Equal(e.Before, original[e.Path]) {
					t.Errorf("%s: Before differs from the file", e.Path)
				}
				checkSetterEditMinimal(t, e)
				got[e.Path] = e.After
			}
			var problems strings.Builder
			for _, p := range plan.Problems {
				fmt.Fprintf(&problems, "%s:%d: %s\n", p.Path, p.Line, p.Message)
			}

			expectedDir := filepath.Join(base, "expected")
			problemsFile := filepath.Join(base, "problems.txt")
			if *update {
				writeSetterTree(t, expectedDir, got)
				if err := os.WriteFile(problemsFile, []byte(problems.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := readSetterTree(t, expectedDir)
			if diff := cmp.Diff(stringTree(want), stringTree(got)); diff != "" {
				t.Errorf("tree mismatch (-expected +got):\n%s", diff)
			}
			wantProblems, err := os.ReadFile(problemsFile)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(wantProblems), problems.String()); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// checkSetterEditMinimal checks that an edit changes only the lines of its
// changes and keeps every other byte, line endings included.
func checkSetterEditMinimal(t *testing.T, e FileEdit) {
	t.Helper()
	before := bytes.SplitAfter(e.Before, []byte("\n"))
	after := bytes.SplitAfter(e.After, []byte("\n"))
	if len(before) != len(after) {
		t.Errorf("%s: %d lines became %d", e.Path, len(before), len(after))
		return
	}
	changed := map[int]bool{}
	for _, c := range e.Changes {
		changed[c.Line] = true
	}
	for i := range before {
		if !bytes.Equal(before[i], after[i]) && !changed[i+1] {
			t.Errorf("%s:%d changed without a Change:\n-%q\n+%q", e.Path, i+1, before[i], after[i])
		}
		if bytes.HasSuffix(before[i], []byte("\r\n")) != bytes.HasSuffix(after[i], []byte("\r\n")) {
			t.Errorf("%s:%d: line ending changed", e.Path, i+1)
		}
	}
}

func readSetterTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	tree := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		tree[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	return tree
}

func writeSetterTree(t *testing.T, dir string, tree map[string][]byte) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for p, b := range tree {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func stringTree(tree map[string][]byte) map[string]string {
	out := make(map[string]string, len(tree))
	for p, b := range tree {
		out[p] = string(b)
	}
	return out
}

func TestPlanSettersChanges(t *testing.T) {
	plan, err := PlanSetters(os.DirFS("testdata/setters/helmrelease/original"), "", setterTestPolicies())
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Problems) != 0 {
		t.Errorf("problems: %v", plan.Problems)
	}
	if len(plan.Edits) != 1 {
		t.Fatalf("got %d edits, want 1", len(plan.Edits))
	}
	obj := ObjectID{APIVersion: "helm.toolkit.fluxcd.io/v2", Kind: "HelmRelease", Namespace: "apps", Name: "backend"}
	ch := func(line int, setter, image, old, new string) Change {
		return Change{
			File:   "release.yaml",
			Line:   line,
			Object: obj,
			Policy: strings.Join(strings.Split(setter, ":")[:2], ":"),
			Setter: setter,
			Image:  image,
			Old:    old,
			New:    new,
		}
	}
	const backend, frontend, podinfo = "registry.example.com/team/backend", "docker.io/org/frontend", "ghcr.io/stefanprodan/podinfo"
	want := []Change{
		ch(19, "apps:backend:name", backend, "registry.example.com/team/backend-old", backend),
		ch(20, "apps:backend:tag", backend, "1.9", "1.10"),
		ch(28, "apps:backend:tag", backend, "1.8", "1.10"),
		ch(33, "apps:frontend:name", frontend, "docker.io/org/frontend", frontend),
		ch(34, "apps:frontend:tag", frontend, "v2.0.0", "v2.3.4"),
		ch(35, "apps:frontend:digest", frontend, "sha256:2222222222222222222222222222222222222222222222222222222222222222", ""),
		ch(37, "flux-system:podinfo-digest:tag", podinfo, "6.5.0", "6.7.1"),
		ch(38, "flux-system:podinfo-digest:digest", podinfo, "", testDigestP),
	}
	// The name on line 33 is already right: no change.
	want = append(want[:3], want[4:]...)
	if diff := cmp.Diff(want, plan.Edits[0].Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

// TestPlanSettersObjects checks which object each change of a multi-document
// file is attributed to: the document's, a List item's, or none.
func TestPlanSettersObjects(t *testing.T) {
	plan, err := PlanSetters(os.DirFS("testdata/setters/multidoc/original"), "", setterTestPolicies())
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Edits) != 1 {
		t.Fatalf("got %d edits, want 1", len(plan.Edits))
	}
	type lineObject struct {
		Line   int
		Object ObjectID
		Setter string
	}
	var got []lineObject
	for _, c := range plan.Edits[0].Changes {
		got = append(got, lineObject{Line: c.Line, Object: c.Object, Setter: c.Setter})
	}
	want := []lineObject{
		{Line: 11, Object: ObjectID{APIVersion: "v1", Kind: "Pod", Name: "one"}, Setter: "apps:frontend"},
		{Line: 35, Object: ObjectID{APIVersion: "v1", Kind: "Pod", Namespace: "other", Name: "listed"}, Setter: "apps:frontend"},
		{Line: 41, Setter: "apps:frontend"},
		{Line: 43, Setter: "apps:frontend:tag"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestParseSetterComment(t *testing.T) {
	tests := []struct {
		name    string
		comment string
		want    setterMarker
		ok      bool
		wantErr string
	}{
		{name: "full", comment: `# {"$imagepolicy": "flux-system:podinfo"}`, ok: true,
			want: setterMarker{Value: "flux-system:podinfo", Policy: "flux-system:podinfo", Field: setterFull}},
		{name: "tag", comment: `# {"$imagepolicy": "flux-system:podinfo:tag"}`, ok: true,
			want: setterMarker{Value: "flux-system:podinfo:tag", Policy: "flux-system:podinfo", Field: setterTag}},
		{name: "name", comment: `# {"$imagepolicy": "apps:web:name"}`, ok: true,
			want: setterMarker{Value: "apps:web:name", Policy: "apps:web", Field: setterName}},
		{name: "digest", comment: `# {"$imagepolicy": "apps:web:digest"}`, ok: true,
			want: setterMarker{Value: "apps:web:digest", Policy: "apps:web", Field: setterDigest}},
		{name: "no spaces", comment: `#{"$imagepolicy":"apps:web"}`, ok: true,
			want: setterMarker{Value: "apps:web", Policy: "apps:web"}},
		{name: "many hashes and spaces", comment: "##   {  \"$imagepolicy\" :\t\"apps:web\"  }  ", ok: true,
			want: setterMarker{Value: "apps:web", Policy: "apps:web"}},
		{name: "extra string keys", comment: `# {"$imagepolicy": "apps:web", "note": "x"}`, ok: true,
			want: setterMarker{Value: "apps:web", Policy: "apps:web"}},
		{name: "plain comment", comment: "# http"},
		{name: "other json", comment: `# {"ticket": "OPS-1"}`},
		{name: "trailing text", comment: `# {"$imagepolicy": "apps:web"} keep`, ok: true, wantErr: "malformed image policy marker"},
		{name: "unquoted value", comment: `# {"$imagepolicy": apps:web}`, ok: true, wantErr: "malformed image policy marker"},
		{name: "key case", comment: `# {"$imagePolicy": "apps:web"}`, ok: true, wantErr: `the key must be "$imagepolicy"`},
		{name: "slash", comment: `# {"$imagepolicy": "apps/web"}`, ok: true, wantErr: "want <namespace>:<name>"},
		{name: "no namespace", comment: `# {"$imagepolicy": "web"}`, ok: true, wantErr: "want <namespace>:<name>"},
		{name: "empty", comment: `# {"$imagepolicy": ""}`, ok: true, wantErr: "want <namespace>:<name>"},
		{name: "unknown field", comment: `# {"$imagepolicy": "apps:web:version"}`, ok: true, wantErr: `unknown field "version"`},
		{name: "too many parts", comment: `# {"$imagepolicy": "apps:web:tag:x"}`, ok: true, wantErr: "want <namespace>:<name>"},
		{name: "space in name", comment: `# {"$imagepolicy": "apps: web"}`, ok: true, wantErr: "want <namespace>:<name>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := parseSetterComment(tt.comment)
			if ok != tt.ok {
				t.Errorf("ok = %v, want %v", ok, tt.ok)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("marker (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetterValue(t *testing.T) {
	plain := ImageRef{Name: "ghcr.io/org/app", Tag: "1.2.3"}
	digested := ImageRef{Name: "ghcr.io/org/app", Tag: "1.2.3", Digest: testDigest1}
	tests := []struct {
		name  string
		ref   ImageRef
		field setterField
		want  string
	}{
		{name: "full", ref: plain, field: setterFull, want: "ghcr.io/org/app:1.2.3"},
		{name: "full with digest", ref: digested, field: setterFull, want: "ghcr.io/org/app:1.2.3@" + testDigest1},
		{name: "tag", ref: plain, field: setterTag, want: "1.2.3"},
		{name: "tag with digest", ref: digested, field: setterTag, want: "1.2.3"},
		{name: "name", ref: plain, field: setterName, want: "ghcr.io/org/app"},
		{name: "name with digest", ref: digested, field: setterName, want: "ghcr.io/org/app"},
		{name: "digest", ref: digested, field: setterDigest, want: testDigest1},
		{name: "digest without digest", ref: plain, field: setterDigest, want: ""},
		{name: "registry port", ref: ImageRef{Name: "localhost:5000/app", Tag: "v1"}, field: setterFull, want: "localhost:5000/app:v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := setterValue(tt.ref, tt.field); got != tt.want {
				t.Errorf("setterValue = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPlanSettersMapFS(t *testing.T) {
	policies := map[string]ImageRef{"ns:app": {Name: "ghcr.io/org/app", Tag: "2.0.0", Digest: testDigest1}}
	fsys := fstest.MapFS{
		"crlf.yaml":          {Data: []byte("a: 1\r\nimage: ghcr.io/org/app:1.0.0 # {\"$imagepolicy\": \"ns:app\"}\r\ntag: '1.0.0' # {\"$imagepolicy\": \"ns:app:tag\"}\r\n")},
		"bom.yaml":           {Data: []byte("\xef\xbb\xbfimage: old # {\"$imagepolicy\": \"ns:app:name\"}\n")},
		"link.yaml":          {Data: []byte("crlf.yaml"), Mode: fs.ModeSymlink},
		"sub/.git/x.yaml":    {Data: []byte("image: old # {\"$imagepolicy\": \"ns:app:name\"}\n")},
		"sub/deploy.yaml":    {Data: []byte("- image: old # {\"$imagepolicy\": \"ns:app:name\"}\n")},
		"sub/flow.yaml":      {Data: []byte("images: {name: old, tag: v1} # note\nlist: [old, x] # {\"$imagepolicy\": \"ns:app:name\"}\nflow: {tag: v1 # {\"$imagepolicy\": \"ns:app:tag\"}\n  }\n")},
		"sub/multiline.yaml": {Data: []byte("image: \"ghcr.io/org/\n  app:1.0\" # {\"$imagepolicy\": \"ns:app\"}\nplain: ghcr.io/org/\n  app:1.0 # {\"$imagepolicy\": \"ns:app\"}\n")},
	}
	plan, err := PlanSetters(fsys, ".", policies)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range plan.Edits {
		if e.Path != "sub/multiline.yaml" { // its two-line value becomes one line
			checkSetterEditMinimal(t, e)
		}
		got[e.Path] = string(e.After)
	}
	want := map[string]string{
		"crlf.yaml":          "a: 1\r\nimage: ghcr.io/org/app:2.0.0@" + testDigest1 + " # {\"$imagepolicy\": \"ns:app\"}\r\ntag: '2.0.0' # {\"$imagepolicy\": \"ns:app:tag\"}\r\n",
		"bom.yaml":           "\xef\xbb\xbfimage: ghcr.io/org/app # {\"$imagepolicy\": \"ns:app:name\"}\n",
		"sub/deploy.yaml":    "- image: ghcr.io/org/app # {\"$imagepolicy\": \"ns:app:name\"}\n",
		"sub/flow.yaml":      "images: {name: old, tag: v1} # note\nlist: [old, x] # {\"$imagepolicy\": \"ns:app:name\"}\nflow: {tag: 2.0.0 # {\"$imagepolicy\": \"ns:app:tag\"}\n  }\n",
		"sub/multiline.yaml": "image: \"ghcr.io/org/app:2.0.0@" + testDigest1 + "\" # {\"$imagepolicy\": \"ns:app\"}\nplain: ghcr.io/org/\n  app:1.0 # {\"$imagepolicy\": \"ns:app\"}\n",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("edits (-want +got):\n%s", diff)
	}
	wantProblems := []FileProblem{
		{Path: "sub/flow.yaml", Line: 2, Message: "image policy marker `{\"$imagepolicy\": \"ns:app:name\"}` is ignored by Flux: it is not on a scalar value (is the value empty, or on the following lines?)"},
		{Path: "sub/multiline.yaml", Line: 3, Message: `image policy marker "ns:app": the value "ghcr.io/org/ app:1.0" is not a plain scalar on one line, which is not edited`},
	}
	if diff := cmp.Diff(wantProblems, plan.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestPlanSettersPaths(t *testing.T) {
	policies := map[string]ImageRef{"ns:app": {Name: "app", Tag: "2"}}
	fsys := fstest.MapFS{
		"a/one.yaml": {Data: []byte("image: app:1 # {\"$imagepolicy\": \"ns:app\"}\n")},
		"b/two.yaml": {Data: []byte("image: app:1 # {\"$imagepolicy\": \"ns:app\"}\n")},
	}
	tests := []struct {
		name    string
		dir     string
		want    []string
		wantErr bool
	}{
		{name: "empty is root", dir: "", want: []string{"a/one.yaml", "b/two.yaml"}},
		{name: "dot", dir: ".", want: []string{"a/one.yaml", "b/two.yaml"}},
		{name: "dot slash", dir: "./a/", want: []string{"a/one.yaml"}},
		{name: "subdir", dir: "b", want: []string{"b/two.yaml"}},
		{name: "file", dir: "a/one.yaml", want: []string{"a/one.yaml"}},
		{name: "missing", dir: "c", wantErr: true},
		{name: "escape", dir: "../x", wantErr: true},
		{name: "leading slash is the root's", dir: "/a", want: []string{"a/one.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := PlanSetters(fsys, tt.dir, policies)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			var got []string
			for _, e := range plan.Edits {
				got = append(got, e.Path)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("edited paths (-want +got):\n%s", diff)
			}
		})
	}
}
