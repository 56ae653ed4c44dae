package diff_test

import (
	"encoding/json"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/diff"
	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render"
)

// unit builds a render unit from YAML documents.
func unit(t *testing.T, cluster, id string, docs ...string) *render.Unit {
	t.Helper()
	u := &render.Unit{ID: id, Cluster: cluster, Kind: render.KindKustomization, File: cluster + "/apps.yaml", Line: 1}
	for i, d := range docs {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(d), &obj); err != nil {
			t.Fatal(err)
		}
		u.Objects = append(u.Objects, &render.Object{Object: obj, File: "apps/file.yaml", Line: i + 1})
	}
	return u
}

func result(units ...*render.Unit) *render.Result { return &render.Result{Units: units} }

const (
	deployA = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: apps}
spec: {replicas: 1, template: {spec: {containers: [{name: web, image: "web:1.0"}]}}}
`
	// deployAReordered is deployA written differently: other key order,
	// block style, a comment.
	deployAReordered = `kind: Deployment
# the web server
metadata:
  namespace: apps
  name: web
apiVersion: apps/v1
spec:
  template:
    spec:
      containers:
      - image: "web:1.0"
        name: web
  replicas: 1
`
	deployB = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: apps}
spec: {replicas: 2, template: {spec: {containers: [{name: web, image: "web:1.1"}]}}}
`
	svc = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps}
spec: {ports: [{port: 80}]}
`
)

func TestCompareIgnoresKeyOrderAndFormatting(t *testing.T) {
	rep := diff.Compare(result(unit(t, "c", "Kustomization/flux-system/apps", deployA)),
		result(unit(t, "c", "Kustomization/flux-system/apps", deployAReordered)), diff.Options{})
	if rep.HasChanges() {
		t.Fatalf("reformatted object reported as changed: %+v", rep.Units)
	}
}

func TestCompareAddedRemovedChanged(t *testing.T) {
	base := result(unit(t, "c", "Kustomization/flux-system/apps", deployA, svc))
	head := result(
		unit(t, "c", "Kustomization/flux-system/apps", deployB),
		unit(t, "c", "Kustomization/flux-system/new", `apiVersion: v1
kind: Namespace
metadata: {name: new}
`))
	rep := diff.Compare(base, head, diff.Options{})
	if len(rep.Units) != 2 {
		t.Fatalf("units = %+v", rep.Units)
	}
	apps, added := rep.Units[0], rep.Units[1]
	if apps.Changed != 1 || apps.Removed != 1 || apps.Added != 0 {
		t.Errorf("apps: %+v", apps)
	}
	if added.Unit != "Kustomization/flux-system/new" || added.Added != 1 {
		t.Errorf("new unit: %+v", added)
	}
	var change diff.ObjectChange
	for _, o := range apps.Objects {
		if o.Action == diff.Changed {
			change = o
		}
	}
	for _, want := range []string{"-  replicas: 1", "+  replicas: 2", "-      - image: web:1.0", "+      - image: web:1.1", "--- base", "+++ head"} {
		if !strings.Contains(change.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, change.Diff)
		}
	}
	if strings.Contains(change.Diff, "kind: Deployment") {
		t.Errorf("diff shows more than three lines of context around the change:\n%s", change.Diff)
	}
	a, c, r, m := rep.Totals()
	if a != 1 || c != 1 || r != 1 || m != 0 {
		t.Errorf("totals = %d %d %d %d", a, c, r, m)
	}
}

func TestCompareGeneratedNameHashIsAContentChange(t *testing.T) {
	cm := func(name, value string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: apps}\ndata: {color: " + value + "}\n"
	}
	rep := diff.Compare(
		result(unit(t, "c", "Kustomization/flux-system/apps", cm("settings-5g7dk8c2fm", "blue"))),
		result(unit(t, "c", "Kustomization/flux-system/apps", cm("settings-k9t2m4h6bb", "red"))), diff.Options{})
	if len(rep.Units) != 1 || rep.Units[0].Changed != 1 || rep.Units[0].Added+rep.Units[0].Removed != 0 {
		t.Fatalf("want one changed ConfigMap, got %+v", rep.Units)
	}
	o := rep.Units[0].Objects[0]
	if o.Name != "settings-k9t2m4h6bb" || o.BaseName != "settings-5g7dk8c2fm" {
		t.Errorf("names: head %q base %q", o.Name, o.BaseName)
	}
	if !strings.Contains(o.Diff, "-  color: blue") || !strings.Contains(o.Diff, "+  color: red") {
		t.Errorf("diff:\n%s", o.Diff)
	}
	// A name that only looks like another one is not a match.
	rep = diff.Compare(
		result(unit(t, "c", "Kustomization/flux-system/apps", cm("settings-5g7dk8c2fm", "blue"))),
		result(unit(t, "c", "Kustomization/flux-system/apps", cm("settings-v2", "blue"))), diff.Options{})
	if rep.Units[0].Added != 1 || rep.Units[0].Removed != 1 {
		t.Errorf("unrelated names matched: %+v", rep.Units[0])
	}
}

func TestCompareMovesBetweenUnits(t *testing.T) {
	rep := diff.Compare(
		result(unit(t, "c", "Kustomization/flux-system/apps", deployA, svc)),
		result(unit(t, "c", "Kustomization/flux-system/apps", svc), unit(t, "c", "Kustomization/flux-system/web", deployB)),
		diff.Options{})
	if len(rep.Units) != 1 {
		t.Fatalf("units: %+v", rep.Units)
	}
	u := rep.Units[0]
	if u.Unit != "Kustomization/flux-system/web" || u.Moved != 1 || u.Added+u.Removed+u.Changed != 0 {
		t.Fatalf("want one move into web, got %+v", u)
	}
	if o := u.Objects[0]; o.FromUnit != "Kustomization/flux-system/apps" || !strings.Contains(o.Diff, "+  replicas: 2") {
		t.Errorf("move: %+v", o)
	}
	// The same object in two clusters is two objects: no move across clusters.
	rep = diff.Compare(result(unit(t, "a", "Kustomization/flux-system/apps", deployA)),
		result(unit(t, "b", "Kustomization/flux-system/apps", deployA)), diff.Options{})
	if len(rep.Units) != 2 || rep.Units[0].Removed != 1 || rep.Units[1].Added != 1 {
		t.Errorf("cross-cluster: %+v", rep.Units)
	}
}

func TestCompareRedactsSecrets(t *testing.T) {
	const canary, canary2 = "canary-Zm9vYmFy-1", "canary-Zm9vYmFy-2"
	secret := func(v string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: apps}\nstringData: {password: " + v + ", user: admin}\n"
	}
	cm := func(v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dsn, namespace: apps}\ndata: {url: \"postgres://admin:" + v + "@db\"}\n"
	}
	b := unit(t, "c", "Kustomization/flux-system/apps", secret(canary), cm(canary))
	b.Sensitive = []string{canary}
	h := unit(t, "c", "Kustomization/flux-system/apps", secret(canary2), cm(canary2))
	h.Sensitive = []string{canary2}
	rep := diff.Compare(result(b), result(h), diff.Options{})
	out, _ := json.Marshal(rep)
	for _, c := range []string{canary, canary2} {
		if strings.Contains(string(out), c) {
			t.Fatalf("secret value %q in the report:\n%s", c, out)
		}
	}
	if rep.Units[0].Changed != 2 {
		t.Fatalf("a changed secret value must show as a change: %+v", rep.Units[0])
	}
	var d string
	for _, o := range rep.Units[0].Objects {
		if o.Kind == "Secret" {
			d = o.Diff
		}
	}
	if !strings.Contains(d, "-  password: <redacted:") || !strings.Contains(d, "+  password: <redacted:") || strings.Contains(d, "admin") {
		t.Errorf("secret diff should show the changed value as two different hashes and nothing else:\n%s", d)
	}
	// The same value on both sides is no change.
	rep = diff.Compare(result(unit(t, "c", "u", secret(canary))), result(unit(t, "c", "u", secret(canary))), diff.Options{})
	if rep.HasChanges() {
		t.Errorf("unchanged secret reported: %+v", rep.Units)
	}
}

func TestCompareFailedUnitIsAnErrorNotARemoval(t *testing.T) {
	h := unit(t, "c", "Kustomization/flux-system/apps")
	h.Failed = true
	h.Problems = []fleet.Problem{{Rule: fleet.RuleRenderFailed, Severity: fleet.SeverityError, File: "apps/kustomization.yaml", Line: 3, Object: h.ID, Message: "kustomize build apps: boom"}}
	rep := diff.Compare(result(unit(t, "c", "Kustomization/flux-system/apps", deployA)), result(h), diff.Options{})
	if len(rep.Units) != 1 || rep.Units[0].Removed != 0 || len(rep.Units[0].Errors) != 1 || !strings.HasPrefix(rep.Units[0].Errors[0], "head: apps/kustomization.yaml:3") {
		t.Fatalf("got %+v", rep.Units)
	}
}

func TestCompareNeverDropsAnUnrenderedUnit(t *testing.T) {
	const canary = "canary-dW5yZW5kZXJlZA"
	failed := func(msg string) *render.Unit {
		u := unit(t, "c", "Kustomization/flux-system/apps")
		u.Failed = true
		u.Sensitive = []string{canary}
		u.Problems = []fleet.Problem{{Rule: fleet.RuleRenderFailed, Severity: fleet.SeverityError, File: "apps/kustomization.yaml", Line: 3, Object: u.ID, Message: msg}}
		return u
	}
	ok := func() *render.Unit { return unit(t, "c", "Kustomization/flux-system/apps", deployA) }
	skipped := func() *render.Unit {
		u := unit(t, "c", "Kustomization/flux-system/apps")
		u.Skipped = true
		return u
	}
	for _, tc := range []struct {
		name       string
		base, head *render.Unit
		failedIn   string
		unchanged  bool
		errPrefix  string
	}{
		{name: "fails in head", base: ok(), head: failed("boom " + canary), failedIn: "head", errPrefix: "head: apps/kustomization.yaml:3"},
		{name: "fails in base", base: failed("boom " + canary), head: ok(), failedIn: "base", errPrefix: "base: apps/kustomization.yaml:3"},
		{name: "fails the same way on both sides", base: failed("boom " + canary), head: failed("boom " + canary), failedIn: "both", unchanged: true, errPrefix: "base: "},
		{name: "fails differently on both sides", base: failed("old " + canary), head: failed("new " + canary), failedIn: "both", errPrefix: "base: "},
		{name: "only in head, failing", head: failed("boom " + canary), failedIn: "head", errPrefix: "head: "},
		{name: "only in base, failing", base: failed("boom " + canary), failedIn: "base", errPrefix: "base: "},
		{name: "out of reach in base, failing in head", base: skipped(), head: failed("boom " + canary), failedIn: "head", errPrefix: "head: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var base, head *render.Result = result(), result()
			if tc.base != nil {
				base = result(tc.base)
			}
			if tc.head != nil {
				head = result(tc.head)
			}
			rep := diff.Compare(base, head, diff.Options{})
			if len(rep.Units) != 1 {
				t.Fatalf("want the unit reported, got %+v", rep.Units)
			}
			u := rep.Units[0]
			if u.Status != diff.StatusUnrendered || u.FailedIn != tc.failedIn || u.Unchanged != tc.unchanged || !strings.HasPrefix(u.Error, tc.errPrefix) {
				t.Errorf("got status %q failedIn %q unchanged %v error %q", u.Status, u.FailedIn, u.Unchanged, u.Error)
			}
			if rep.Unrendered() != 1 || rep.HasChanges() == tc.unchanged {
				t.Errorf("Unrendered %d, HasChanges %v", rep.Unrendered(), rep.HasChanges())
			}
			if u.Added+u.Removed+u.Changed+u.Moved != 0 {
				t.Errorf("objects of a failed unit compared: %+v", u)
			}
			out, _ := json.Marshal(rep)
			if strings.Contains(string(out), canary) {
				t.Errorf("secret value in the report: %s", out)
			}
			if !strings.Contains(u.Error, "<redacted:") {
				t.Errorf("reason not redacted: %q", u.Error)
			}
		})
	}
}

func TestCompareSameFailureIsNoChange(t *testing.T) {
	failed := func() *render.Unit {
		u := unit(t, "c", "HelmRelease/apps/web")
		u.Failed = true
		u.Problems = []fleet.Problem{{Rule: fleet.RuleRenderFailed, Severity: fleet.SeverityError, File: "apps/web.yaml", Line: 1, Object: u.ID, Message: "chart not found"}}
		return u
	}
	if rep := diff.Compare(result(failed()), result(failed()), diff.Options{}); rep.HasChanges() {
		t.Errorf("the same failure on both sides is reported: %+v", rep.Units)
	}
	if rep := diff.Compare(result(unit(t, "c", "HelmRelease/apps/web")), result(failed()), diff.Options{}); !rep.HasChanges() {
		t.Error("a new failure is not reported")
	}
}
