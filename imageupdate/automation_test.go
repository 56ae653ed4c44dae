package imageupdate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/fleet"
)

func loadFleet(t *testing.T, files map[string]string) *fleet.Repo {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	repo, err := fleet.Load(context.Background(), fsys, fleet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

const gitRepository = `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m
  url: https://git.example.com/org/fleet
  ref:
    branch: main
`

const automation = `apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 30m
  sourceRef:
    kind: GitRepository
    name: flux-system
  git:
    commit:
      author:
        name: fluxbot
        email: fluxbot@example.com
    push:
      branch: image-updates
  update:
    path: ./apps
    strategy: Setters
`

func imageRepo(name, image string) string {
	return `apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata:
  name: ` + name + `
  namespace: flux-system
spec:
  image: ` + image + `
  interval: 5m
`
}

func semverPolicy(name, repo, rng string, extra string) string {
	return `apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata:
  name: ` + name + `
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: ` + repo + `
  policy:
    semver:
      range: "` + rng + `"
` + extra
}

func rules(ps []fleet.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Rule+" "+p.Object)
	}
	slices.Sort(out)
	return out
}

func TestDiscover(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // automation: checkout -> push @ path [policies]
		probs []string
	}{
		{
			name: "branches, path and every policy of the namespace",
			files: map[string]string{
				"flux-system/source.yaml":  gitRepository,
				"flux-system/auto.yaml":    automation,
				"flux-system/images.yaml":  imageRepo("app", "ghcr.io/org/app") + "---\n" + semverPolicy("app", "app", ">=1.0.0", ""),
				"flux-system/images2.yaml": semverPolicy("web", "app", "1.x", ""),
			},
			want: []string{"flux-system/apps: main -> image-updates @ apps [flux-system:app flux-system:web]"},
		},
		{
			name: "checkout ref and policy selector",
			files: map[string]string{
				"source.yaml": gitRepository,
				"auto.yaml":   strings.Replace(automation, "  git:\n", "  policySelector:\n    matchLabels:\n      team: a\n  git:\n    checkout:\n      ref:\n        branch: release\n", 1),
				"images.yaml": imageRepo("app", "ghcr.io/org/app") + "---\n" +
					strings.Replace(semverPolicy("a", "app", ">=1", ""), "  namespace: flux-system\n", "  namespace: flux-system\n  labels:\n    team: a\n", 1) + "---\n" +
					semverPolicy("b", "app", ">=1", ""),
			},
			want: []string{"flux-system/apps: release -> image-updates @ apps [flux-system:a]"},
		},
		{
			name: "defaults: master, no push branch, root path",
			files: map[string]string{
				"source.yaml": strings.Replace(gitRepository, "  ref:\n    branch: main\n", "", 1),
				"auto.yaml":   strings.Replace(strings.Replace(automation, "    push:\n      branch: image-updates\n", "", 1), "    path: ./apps\n", "", 1),
			},
			want: []string{"flux-system/apps: master ->  @ . []"},
		},
		{
			name: "broken references are problems",
			files: map[string]string{
				"auto.yaml":   automation,
				"images.yaml": semverPolicy("app", "missing", ">=1", ""),
				"repo.yaml":   imageRepo("bad", "ghcr.io/org/bad") + "  exclusionList: ['(']\n",
			},
			probs: []string{
				"image-automation-invalid ImageUpdateAutomation/flux-system/apps",
				"image-policy-invalid ImagePolicy/flux-system/app",
				"image-repository-invalid ImageRepository/flux-system/bad",
			},
		},
		{
			name: "signing, refspec and push options are reported, the automation still runs",
			files: map[string]string{
				"source.yaml": gitRepository,
				"auto.yaml": strings.Replace(strings.Replace(automation, "        email: fluxbot@example.com\n",
					"        email: fluxbot@example.com\n      signingKey:\n        secretRef:\n          name: gpg\n", 1),
					"      branch: image-updates\n", "      branch: image-updates\n      refspec: refs/heads/image-updates:refs/heads/main\n      options:\n        ci.skip: \"\"\n", 1),
			},
			want: []string{"flux-system/apps: main -> image-updates @ apps []"},
			probs: []string{
				"image-automation-invalid ImageUpdateAutomation/flux-system/apps",
				"image-automation-invalid ImageUpdateAutomation/flux-system/apps",
				"image-automation-invalid ImageUpdateAutomation/flux-system/apps",
			},
		},
		{
			name: "strategy and path escaping",
			files: map[string]string{
				"source.yaml": gitRepository,
				"a.yaml":      strings.Replace(automation, "./apps", "../outside", 1),
				"b.yaml":      strings.Replace(strings.Replace(automation, "name: apps", "name: other", 1), "strategy: Setters", "strategy: Regex", 1),
			},
			probs: []string{
				"image-automation-invalid ImageUpdateAutomation/flux-system/apps",
				"image-automation-invalid ImageUpdateAutomation/flux-system/other",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, probs := Discover(loadFleet(t, tt.files))
			var got []string
			for _, a := range set.Automations {
				got = append(got, a.Namespace+"/"+a.Name+": "+a.CheckoutBranch+" -> "+a.PushBranch+" @ "+a.UpdatePath+" ["+strings.Join(a.Policies, " ")+"]")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("automations (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.probs, rules(probs)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// fakeLister is a registry with fixed tags; it counts listings.
type fakeLister struct {
	mu      sync.Mutex
	tags    map[string][]string
	fail    map[string]error
	listed  map[string]int
	digests map[string]string
}

func (f *fakeLister) Tags(_ context.Context, image string, _ bool) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listed == nil {
		f.listed = map[string]int{}
	}
	f.listed[image]++
	if err := f.fail[image]; err != nil {
		return nil, err
	}
	return f.tags[image], nil
}

func (f *fakeLister) Digest(_ context.Context, image string, _ bool, tag string) (string, error) {
	d, ok := f.digests[image+":"+tag]
	if !ok {
		return "", errors.New("manifest unknown")
	}
	return d, nil
}

func TestEvaluate(t *testing.T) {
	repo := loadFleet(t, map[string]string{
		"repos.yaml": imageRepo("app", "ghcr.io/org/app") + "---\n" + imageRepo("down", "registry.example.com/down") + "---\n" +
			imageRepo("signed", "ghcr.io/org/signed"),
		"policies.yaml": semverPolicy("app", "app", ">=1.0.0 <2.0.0", "") + "---\n" +
			semverPolicy("app-pre", "app", ">=1.0.0-0", "") + "---\n" +
			semverPolicy("none", "app", ">=9", "") + "---\n" +
			semverPolicy("bad", "app", "not a range", "") + "---\n" +
			semverPolicy("down", "down", ">=1", "") + "---\n" +
			semverPolicy("digest", "signed", ">=1", "  digestReflectionPolicy: IfNotPresent\n"),
	})
	set, probs := Discover(repo)
	if len(probs) != 0 {
		t.Fatalf("Discover: %v", probs)
	}
	lister := &fakeLister{
		tags: map[string][]string{
			"ghcr.io/org/app":    {"0.9.0", "1.2.0", "1.10.0", "2.0.0", "2.1.0-rc.1", "latest"},
			"ghcr.io/org/signed": {"1.0.0", "1.1.0", "sha256-abc.sig"},
		},
		fail:    map[string]error{"registry.example.com/down": errors.New("503 Service Unavailable")},
		digests: map[string]string{"ghcr.io/org/signed:1.1.0": "sha256:1111"},
	}
	got, probs := Evaluate(context.Background(), set, lister, EvaluateOptions{Workers: 3})
	want := map[string]ImageRef{
		"flux-system:app":     {Name: "ghcr.io/org/app", Tag: "1.10.0"},
		"flux-system:app-pre": {Name: "ghcr.io/org/app", Tag: "2.1.0-rc.1"},
		"flux-system:digest":  {Name: "ghcr.io/org/signed", Tag: "1.1.0", Digest: "sha256:1111"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resolved (-want +got):\n%s", diff)
	}
	wantProbs := []string{
		"image-policy-invalid ImagePolicy/flux-system/bad",
		"image-policy-no-match ImagePolicy/flux-system/none",
		"image-registry-unavailable ImageRepository/flux-system/down",
	}
	if diff := cmp.Diff(wantProbs, rules(probs)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	// Four policies share ghcr.io/org/app: its tags are listed once. The
	// invalid policy's repository is still listed for the others.
	if diff := cmp.Diff(map[string]int{"ghcr.io/org/app": 1, "ghcr.io/org/signed": 1, "registry.example.com/down": 1}, lister.listed); diff != "" {
		t.Errorf("listings (-want +got):\n%s", diff)
	}
}

func TestEvaluateOnlyRequestedPolicies(t *testing.T) {
	repo := loadFleet(t, map[string]string{
		"x.yaml": imageRepo("a", "ghcr.io/org/a") + "---\n" + imageRepo("b", "ghcr.io/org/b") + "---\n" +
			semverPolicy("a", "a", ">=1", "") + "---\n" + semverPolicy("b", "b", ">=1", ""),
	})
	set, _ := Discover(repo)
	lister := &fakeLister{tags: map[string][]string{"ghcr.io/org/a": {"1.0.0"}, "ghcr.io/org/b": {"1.0.0"}}}
	got, _ := Evaluate(context.Background(), set, lister, EvaluateOptions{Policies: []string{"flux-system:a"}})
	if diff := cmp.Diff(map[string]ImageRef{"flux-system:a": {Name: "ghcr.io/org/a", Tag: "1.0.0"}}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if lister.listed["ghcr.io/org/b"] != 0 {
		t.Errorf("listed an unrequested repository")
	}
}

func TestCommitMessage(t *testing.T) {
	repo := loadFleet(t, map[string]string{"source.yaml": gitRepository, "auto.yaml": automation})
	set, probs := Discover(repo)
	if len(probs) != 0 || len(set.Automations) != 1 {
		t.Fatalf("Discover: %v %v", set.Automations, probs)
	}
	a := set.Automations[0]
	edits := []FileEdit{{Path: "apps/app.yaml", Changes: []Change{
		{File: "apps/app.yaml", Line: 9, Object: ObjectID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "apps", Name: "app"},
			Policy: "flux-system:app", Setter: "flux-system:app", Image: "ghcr.io/org/app", Old: "ghcr.io/org/app:1.0.0", New: "ghcr.io/org/app:1.1.0"},
		{File: "apps/app.yaml", Line: 20, Object: ObjectID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "apps", Name: "app"},
			Policy: "flux-system:app", Setter: "flux-system:app:tag", Image: "ghcr.io/org/app", Old: "1.0.0", New: "1.1.0"},
	}}}
	resolved := map[string]ImageRef{"flux-system:app": {Name: "ghcr.io/org/app", Tag: "1.1.0"}}
	data := NewTemplateData(a, edits, resolved)
	data.Values = map[string]string{"env": "prod"}

	tests := []struct {
		name, template, want, wantErr string
	}{
		{name: "default", want: DefaultMessageTemplate},
		{
			name: "changed",
			template: `{{ .AutomationObject }} [{{ .Values.env }}]
{{ range $file, $objects := .Changed.FileChanges -}}
{{ $file }}:{{ range $id, $changes := $objects }} {{ $id.Kind }}/{{ $id.Name }}{{ range $changes }} {{ .OldValue }} -> {{ .NewValue }} ({{ .Setter }}){{ end }}{{ end }}
{{ end -}}
{{ len .Changed.Changes }} {{ range $id, $_ := .Changed.Objects }}{{ $id.Namespace }}{{ end }}`,
			want: "flux-system/apps [prod]\napps/app.yaml: Deployment/app ghcr.io/org/app:1.0.0 -> ghcr.io/org/app:1.1.0 (flux-system:app) 1.0.0 -> 1.1.0 (flux-system:app:tag)\n2 apps",
		},
		{
			name:     "updated (older shape)",
			template: `{{ range .Updated.Images }}{{ . }} {{ .Repository }} {{ .Registry }} {{ .Identifier }} {{ .Policy.Name }}{{ end }}|{{ range $id, $imgs := .Updated.Objects }}{{ $id.Name }}={{ len $imgs }}{{ end }}`,
			want:     "ghcr.io/org/app:1.1.0 org/app ghcr.io 1.1.0 app|app=1",
		},
		{name: "sprig", template: `{{ "x" | upper }} {{ list 1 2 | len }}`, want: "X 2"},
		{name: "parse error", template: `{{ .Nope`, wantErr: "auto.yaml:1"},
		{name: "unknown field", template: `{{ .Nope }}`, wantErr: "ImageUpdateAutomation/flux-system/apps"},
		{name: "empty", template: `{{ "" }}`, wantErr: "empty message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.Spec.GitSpec.Commit.MessageTemplate = tt.template
			got, err := CommitMessage(a, data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPullRequestBody(t *testing.T) {
	repo := loadFleet(t, map[string]string{"source.yaml": gitRepository, "auto.yaml": automation})
	set, _ := Discover(repo)
	a := set.Automations[0]
	edits := []FileEdit{
		{Path: "apps/a.yaml", Changes: []Change{{File: "apps/a.yaml", Line: 7, Image: "ghcr.io/org/a", Old: "1.0.0", New: "1.1.0"}}},
		{Path: "apps/b.yaml", Changes: []Change{{File: "apps/b.yaml", Line: 3, Image: "ghcr.io/org/b", Old: "a|b", New: "c`d"}}},
	}
	body := PullRequestBody(a, edits, "Bump images\n\ndetails", func(p string, line int) string {
		return "https://forge.example/" + p + "#L" + string(rune('0'+line))
	})
	for _, want := range []string{
		PullRequestMarker(a),
		"2 fields in 2 files",
		"| `ghcr.io/org/a` | [apps/a.yaml:7](https://forge.example/apps/a.yaml#L7) | `1.0.0` | `1.1.0` |",
		"| `ghcr.io/org/b` | [apps/b.yaml:3](https://forge.example/apps/b.yaml#L3) | `a\\|b` | `c'd` |",
		"Bump images\n\ndetails",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	if got := PullRequestTitle("  Bump images\n\ndetails"); got != "Bump images" {
		t.Errorf("title = %q", got)
	}
}
