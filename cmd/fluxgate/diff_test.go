package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/fluxgate/fluxgate/diff"
	"github.com/fluxgate/fluxgate/internal/testenv"
)

// gitFleet is a git repository holding a copy of a test fleet, committed on
// main, that a test changes on other branches.
type gitFleet struct {
	t    *testing.T
	dir  string
	repo *git.Repository
	wt   *git.Worktree
	n    int
}

func newGitFleet(t *testing.T, fleet string) *gitFleet {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	testenv.CopyTree(t, filepath.Join(fleets, fleet), dir)
	g := &gitFleet{t: t, dir: dir, repo: repo, wt: wt}
	g.commit("import " + fleet)
	return g
}

func (g *gitFleet) commit(msg string) string {
	g.t.Helper()
	if err := g.wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		g.t.Fatal(err)
	}
	g.n++
	sig := &object.Signature{Name: "test", Email: "test@example.com", When: time.Unix(1700000000+int64(g.n), 0)}
	h, err := g.wt.Commit(msg, &git.CommitOptions{Author: sig, AllowEmptyCommits: true})
	if err != nil {
		g.t.Fatal(err)
	}
	return h.String()
}

func (g *gitFleet) branch(name string) {
	g.t.Helper()
	if err := g.wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(name), Create: true}); err != nil {
		g.t.Fatal(err)
	}
}

func (g *gitFleet) edit(file, old, new string) {
	g.t.Helper()
	p := filepath.Join(g.dir, filepath.FromSlash(file))
	data, err := os.ReadFile(p)
	if err != nil {
		g.t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		g.t.Fatalf("%s does not contain %q", file, old)
	}
	g.write(file, strings.Replace(string(data), old, new, 1))
}

func (g *gitFleet) write(file, content string) {
	g.t.Helper()
	p := filepath.Join(g.dir, filepath.FromSlash(file))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		g.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		g.t.Fatal(err)
	}
}

func (g *gitFleet) remove(file string) {
	g.t.Helper()
	if err := os.Remove(filepath.Join(g.dir, filepath.FromSlash(file))); err != nil {
		g.t.Fatal(err)
	}
}

// runDiffCmd runs fluxgate diff offline with an empty chart cache.
func runDiffCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return run(t, append([]string{"diff", "--offline", "--cache-dir", t.TempDir()}, args...)...)
}

func diffJSON(t *testing.T, out string) diff.Report {
	t.Helper()
	var rep diff.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	return rep
}

func TestDiffCommand(t *testing.T) {
	g := newGitFleet(t, "fleet-infra")
	g.branch("bump")
	g.edit("apps/base/backend/deployment.yaml", "path: /readyz", "path: /healthz")
	g.commit("bump backend")
	// Uncommitted work is in neither revision.
	g.edit("apps/base/frontend/deployment.yaml", "frontend:2.7.1", "frontend:9.9.9")

	out, stderr, code := runDiffCmd(t, g.dir, "--base", "main", "--head", "bump", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	rep := diffJSON(t, out)
	if len(rep.Units) != 2 {
		t.Fatalf("want the apps unit of both clusters, got %+v", rep.Units)
	}
	for _, u := range rep.Units {
		if u.Unit != "Kustomization/flux-system/apps" || u.Changed != 1 || u.Added+u.Removed+u.Moved != 0 {
			t.Errorf("unit %+v", u)
			continue
		}
		o := u.Objects[0]
		if o.Kind != "Deployment" || o.Name != "backend" || !strings.Contains(o.Diff, "-            path: /readyz") ||
			!strings.Contains(o.Diff, "+            path: /healthz") || o.File != "apps/base/backend/deployment.yaml" {
			t.Errorf("%s: %+v", u.Cluster, o)
		}
	}
	if strings.Contains(out, "frontend") {
		t.Error("uncommitted work shows in the diff")
	}
	if strings.Contains(stderr, "reused") {
		t.Errorf("stderr reports build statistics without -v:\n%s", stderr)
	}
	// -v: what each revision's render did, on stderr; stdout the same.
	outV, stderrV, code := runDiffCmd(t, g.dir, "--base", "main", "--head", "bump", "-o", "json", "-v")
	if code != 0 {
		t.Fatalf("-v: exit %d:\n%s", code, stderrV)
	}
	if outV != out {
		t.Errorf("-v changed stdout:\n%s\nwithout -v:\n%s", outV, out)
	}
	if !strings.Contains(stderrV, "fluxgate: main: ") || !strings.Contains(stderrV, "fluxgate: bump: ") || builds(t, stderrV) == 0 {
		t.Errorf("-v does not report each revision's builds:\n%s", stderrV)
	}
	if !strings.Contains(stderrV, "reused") {
		t.Errorf("-v does not report reused builds:\n%s", stderrV)
	}

	// --exit-code: 1 with changes, 0 without.
	if _, stderr, code := runDiffCmd(t, g.dir, "--base", "main", "--head", "bump", "--exit-code"); code != 1 {
		t.Errorf("--exit-code with changes: exit %d\n%s", code, stderr)
	}
	if out, stderr, code := runDiffCmd(t, g.dir, "--base", "main", "--head", "main", "--exit-code"); code != 0 || !strings.Contains(out, "No changes.") {
		t.Errorf("--exit-code without changes: exit %d\n%s%s", code, out, stderr)
	}

	// --path limits the report to one cluster; markdown to a file.
	md := filepath.Join(t.TempDir(), "diff.md")
	out, stderr, code = runDiffCmd(t, g.dir, "--base", "main", "--head", "bump", "--path", "clusters/staging", "-o", "text", "-o", "markdown="+md)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if strings.Contains(out, "clusters/production") || !strings.Contains(out, "clusters/staging » Kustomization/flux-system/apps +0 ~1 -0") {
		t.Errorf("text:\n%s", out)
	}
	data, err := os.ReadFile(md)
	if err != nil || !strings.Contains(string(data), "<details><summary>clusters/staging » Kustomization/flux-system/apps") {
		t.Errorf("markdown file: %v\n%s", err, data)
	}
}

func TestDiffCommandClusterAddedAndBadInput(t *testing.T) {
	g := newGitFleet(t, "fleet-infra")
	g.branch("remove-staging")
	if err := os.RemoveAll(filepath.Join(g.dir, "clusters/staging")); err != nil {
		t.Fatal(err)
	}
	g.commit("drop staging")
	out, stderr, code := runDiffCmd(t, g.dir, "--base", "main", "--head", "remove-staging", "--path", "clusters/staging", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	rep := diffJSON(t, out)
	removed := 0
	for _, u := range rep.Units {
		if u.Cluster != "clusters/staging" || u.Added+u.Changed != 0 {
			t.Errorf("unit %+v", u)
		}
		removed += u.Removed
	}
	if removed == 0 {
		t.Error("a removed cluster shows no removed objects")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--base", "nope"}, "nope"},
		{[]string{"--base", "main", "--path", "clusters/nowhere"}, "--path clusters/nowhere"},
		{[]string{"--base", "main", "-o", "yaml"}, `--output "yaml"`},
		{[]string{"--base", "main", "-o", "json", "-o", "text"}, "only one format"},
		{[]string{}, "--base is required"},
		{[]string{"--base", "main", "--comment", "--repository", "o/r", "--pr", "1"}, "GITHUB_TOKEN"},
	} {
		t.Setenv("GITHUB_TOKEN", "")
		t.Setenv("GITHUB_EVENT_PATH", "")
		_, stderr, code := runDiffCmd(t, append([]string{g.dir}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q (want %q)", tc.args, code, stderr, tc.want)
		}
	}
}

// TestDiffUnrenderedUnitExits1: a unit that cannot render in head, base,
// or both revisions the same way, is in every output with its reason; the
// diff exits 1 without --exit-code, but for the unchanged failure.
func TestDiffUnrenderedUnitExits1(t *testing.T) {
	g := newGitFleet(t, "fleet-infra")
	g.branch("break")
	g.edit("apps/staging/kustomization.yaml", "  - team-a.yaml\n", "  - team-a.yaml\n  - missing.yaml\n")
	g.commit("break staging apps")
	g.branch("still-broken")
	g.edit("apps/base/backend/deployment.yaml", "path: /readyz", "path: /healthz")
	g.commit("bump backend, staging still broken")

	dir := t.TempDir()
	md, txt := filepath.Join(dir, "diff.md"), filepath.Join(dir, "diff.txt")
	for _, tc := range []struct {
		base, head string
		failedIn   string
		unchanged  bool
		exit       int
	}{
		{base: "main", head: "break", failedIn: "head", exit: 1},
		{base: "break", head: "main", failedIn: "base", exit: 1},
		{base: "break", head: "still-broken", failedIn: "both", unchanged: true, exit: 0},
	} {
		out, stderr, code := runDiffCmd(t, g.dir, "--base", tc.base, "--head", tc.head, "-o", "json", "-o", "markdown="+md, "-o", "text="+txt)
		if code != tc.exit || (tc.exit == 1 && !strings.Contains(stderr, "1 unit(s) could not render")) {
			t.Errorf("%s..%s: exit %d, want %d:\n%s", tc.base, tc.head, code, tc.exit, stderr)
		}
		var unit *diff.UnitChange
		rep := diffJSON(t, out)
		for i, u := range rep.Units {
			if u.Cluster == "clusters/staging" && u.Unit == "Kustomization/flux-system/apps" {
				unit = &rep.Units[i]
			}
		}
		if unit == nil || unit.Status != "could not render" || unit.FailedIn != tc.failedIn || unit.Unchanged != tc.unchanged || !strings.Contains(unit.Error, "missing.yaml") {
			t.Errorf("%s..%s: staging apps unit %+v", tc.base, tc.head, unit)
		}
		for _, f := range []string{md, txt} {
			data, err := os.ReadFile(f)
			if err != nil || !strings.Contains(string(data), "could not render: ") || !strings.Contains(string(data), "missing.yaml") {
				t.Errorf("%s..%s: %s lacks the reason: %v\n%s", tc.base, tc.head, filepath.Base(f), err, data)
			}
		}
	}
}

// TestDiffChangedOnlyMatchesFullDiff: on every scenario, --changed-only
// gives the report a full diff gives, and builds no more.
func TestDiffChangedOnlyMatchesFullDiff(t *testing.T) {
	type scenario struct {
		name  string
		setup func(g *gitFleet) // on main, before branching
		edit  func(g *gitFleet)
		extra []string
		// seen is text the full report must hold: the change is visible.
		seen string
	}
	fleetScenarios := map[string][]scenario{
		"fleet-infra": {
			{name: "app manifest in a shared base", edit: func(g *gitFleet) {
				g.edit("apps/base/backend/deployment.yaml", "path: /readyz", "path: /healthz")
			}},
			{name: "cluster variables", edit: func(g *gitFleet) {
				g.edit("clusters/staging/cluster-settings.yaml", "staging-eu1", "staging-eu2")
			}},
			{name: "overlay patch", edit: func(g *gitFleet) {
				g.edit("apps/production/kustomization.yaml", "newTag: 1.4.2", "newTag: 1.4.3")
			}},
			{name: "tenant file", edit: func(g *gitFleet) {
				g.edit("teams/team-a/configmap.yaml", "#34577c", "#ff0000")
			}},
			{name: "file removed", edit: func(g *gitFleet) {
				g.remove("infrastructure/monitoring/grafana-settings.yaml")
			}},
			{name: "new Kustomization", edit: func(g *gitFleet) {
				g.write("clusters/staging/extra.yaml", "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: extra\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./extra\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n")
				g.write("extra/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: default\ndata:\n  a: b\n")
			}},
			{name: "ignore rules", edit: func(g *gitFleet) {
				g.write(".sourceignore", "teams/team-a/service.yaml\n")
			}},
			{name: "a unit whose variables another unit's build gives", edit: func(g *gitFleet) {
				// The unit that makes the ConfigMap team-a substitutes from
				// fails to build: team-a's variables fall back to defaults.
				g.edit("infrastructure/configs/base/kustomization.yaml", "v1beta1", "v8beta1")
			}, seen: "on unknown"},
			{name: "documentation only", edit: func(g *gitFleet) {
				g.write("README.md", "changed\n")
			}},
			{name: "a directory a parent's patch points its child at", setup: func(g *gitFleet) {
				ks := func(name, p string) string {
					return "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + name + "\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: " + p + "\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
				}
				g.write("clusters/staging/patching.yaml", ks("patching", "./patching")+
					"  patches:\n    - target:\n        kind: Kustomization\n        name: patched\n      patch: |\n        - op: replace\n          path: /spec/path\n          value: ./patched-target\n")
				g.write("patching/child.yaml", ks("patched", "./patching"))
				g.write("patched-target/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: patched\n  namespace: default\ndata:\n  a: b\n")
				g.commit("a parent patching its child")
			}, edit: func(g *gitFleet) {
				g.edit("patched-target/cm.yaml", "a: b", "a: c")
			}, seen: `"file": "patched-target/cm.yaml"`},
			// Flux's artifact leaves the link out: the unit fails on both
			// sides, and both ways of diffing agree.
			{name: "a manifest reached through a symbolic link", setup: func(g *gitFleet) {
				data, err := os.ReadFile(filepath.Join(g.dir, "teams/team-a/configmap.yaml"))
				if err != nil {
					g.t.Fatal(err)
				}
				g.write("shared/team-a-configmap.yaml", string(data))
				g.remove("teams/team-a/configmap.yaml")
				if err := os.Symlink("../../shared/team-a-configmap.yaml", filepath.Join(g.dir, "teams/team-a/configmap.yaml")); err != nil {
					g.t.Fatal(err)
				}
				g.commit("a linked manifest")
			}, edit: func(g *gitFleet) {
				g.edit("shared/team-a-configmap.yaml", "#34577c", "#ff0000")
			}, seen: "open teams/team-a/configmap.yaml: no such file"},
		},
		"patterns/home-ops": {
			{name: "shared substitution settings", edit: func(g *gitFleet) {
				data, err := os.ReadFile(filepath.Join(g.dir, "kubernetes/components/substitutions/cluster-settings.yaml"))
				if err != nil {
					g.t.Fatal(err)
				}
				g.write("kubernetes/components/substitutions/cluster-settings.yaml", strings.TrimRight(string(data), "\n")+"\n  EXTRA_SETTING: \"1\"\n")
			}},
			{name: "a component a Flux Kustomization's spec.components names", edit: func(g *gitFleet) {
				g.edit("kubernetes/components/volsync/pvc.yaml", "local-hostpath", "fast-hostpath")
			}, seen: "fast-hostpath"},
			{name: "one app's values", edit: func(g *gitFleet) {
				g.edit("kubernetes/apps/default/echo/app/helmrelease.yaml", "spec:", "spec:\n  timeout: 7m")
			}},
		},
		"../../render/testdata/helm": {
			{name: "local chart template", extra: []string{"--source", "GitRepository/apps/charts=."}, edit: func(g *gitFleet) {
				g.write("charts/demo/templates/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-extra\ndata:\n  a: b\n")
			}},
		},
	}
	for fleet, scenarios := range fleetScenarios {
		for _, sc := range scenarios {
			t.Run(filepath.Base(fleet)+"/"+sc.name, func(t *testing.T) {
				g := newGitFleet(t, fleet)
				if sc.setup != nil {
					sc.setup(g)
				}
				g.branch("change")
				sc.edit(g)
				g.commit(sc.name)
				args := append([]string{g.dir, "--base", "main", "--head", "change", "-o", "json", "-v"}, sc.extra...)
				// Exit 1 only for units that could not render (some
				// scenarios break a build), the same both ways.
				full, stderrFull, codeFull := runDiffCmd(t, args...)
				if codeFull != 0 && (codeFull != 1 || !strings.Contains(stderrFull, "could not render")) {
					t.Fatalf("full diff: exit %d\n%s", codeFull, stderrFull)
				}
				only, stderrOnly, code := runDiffCmd(t, append(args, "--changed-only")...)
				if code != codeFull {
					t.Fatalf("--changed-only: exit %d, full diff %d\n%s", code, codeFull, stderrOnly)
				}
				if sc.seen != "" && !strings.Contains(full, sc.seen) {
					t.Fatalf("the full diff does not show %q:\n%s", sc.seen, full)
				}
				// A unit failing unchanged out of the change's reach is
				// listed by the full diff only: --changed-only builds
				// neither side of it.
				full = withoutUnchangedFailures(t, full)
				only = withoutUnchangedFailures(t, only)
				if full != only {
					t.Fatalf("reports differ\nfull:\n%s\nchanged-only:\n%s\n%s", full, only, stderrOnly)
				}
				if builds(t, stderrOnly) > builds(t, stderrFull) {
					t.Errorf("--changed-only ran more builds:\n%s\n%s", stderrFull, stderrOnly)
				}
				t.Logf("full: %s\nchanged-only: %s", stderrFull, stderrOnly)
			})
		}
	}
}

// withoutUnchangedFailures drops, from a JSON diff report, the units that
// fail the same way on both sides.
func withoutUnchangedFailures(t *testing.T, out string) string {
	t.Helper()
	rep := diffJSON(t, out)
	rep.Units = slices.DeleteFunc(rep.Units, func(u diff.UnitChange) bool { return u.Unchanged })
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// builds sums the "N builds run" counts of a diff's progress lines.
func builds(t *testing.T, stderr string) int {
	t.Helper()
	n := 0
	for _, l := range strings.Split(stderr, "\n") {
		var ref string
		var units, skipped, run, reused int
		if _, err := fmt.Sscanf(l, "fluxgate: %s %d units (%d out of the change's reach), %d builds run, %d reused", &ref, &units, &skipped, &run, &reused); err == nil {
			n += run
		}
	}
	return n
}

// TestDiffNoSecretValueInAnyOutput: plaintext, generated and decrypted SOPS
// Secret values never appear in any diff output, and a changed value still
// shows as a change.
func TestDiffNoSecretValueInAnyOutput(t *testing.T) {
	const canary = "canary-7f3a9e21"
	g := newGitFleet(t, "fleet-infra")
	secret := func(v string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\nstringData:\n  token: " + v + "\n"
	}
	g.write("teams/team-a/plain-secret.yaml", secret(canary+"-base"))
	g.edit("teams/team-a/kustomization.yaml", "resources:\n", "resources:\n  - plain-secret.yaml\n")
	g.commit("add secrets")
	g.branch("change")
	g.write("teams/team-a/plain-secret.yaml", secret(canary+"-head"))
	g.commit("rotate")

	key, err := filepath.Abs(filepath.Join(fleets, "keys", "age.agekey"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOPS_AGE_KEY_FILE", key)
	out := t.TempDir()
	stdout, stderr, code := runDiffCmd(t, g.dir, "--base", "main", "--head", "change", "--show-secrets",
		"-o", "text", "-o", "json="+filepath.Join(out, "d.json"), "-o", "markdown="+filepath.Join(out, "d.md"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	written := []string{stdout, stderr}
	for _, f := range []string{"d.json", "d.md"} {
		data, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		written = append(written, string(data))
	}
	all := strings.Join(written, "\n")
	for _, s := range []string{canary, "postgres://bac", "sk_test_flux"} {
		if strings.Contains(all, s) {
			t.Errorf("diff output contains %q", s)
		}
	}
	if !strings.Contains(stdout, "-  token: <redacted:") || !strings.Contains(stdout, "+  token: <redacted:") {
		t.Errorf("the rotated value does not show as a change:\n%s", stdout)
	}
}
