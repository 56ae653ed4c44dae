package report_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/diff"
	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/report"
)

const diffCanary = "canary-c2VjcmV0-value"

func renderUnit(t *testing.T, cluster, id string, docs ...string) *render.Unit {
	t.Helper()
	u := &render.Unit{ID: id, Cluster: cluster, Kind: render.KindKustomization, File: cluster + "/apps.yaml", Line: 4}
	for i, d := range docs {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(d), &obj); err != nil {
			t.Fatal(err)
		}
		u.Objects = append(u.Objects, &render.Object{Object: obj, File: "apps/web/manifests.yaml", Line: 1 + 10*i})
	}
	return u
}

func deployment(image string, replicas int) string {
	return fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: apps}\nspec: {replicas: %d, template: {spec: {containers: [{name: web, image: %q}]}}}\n", replicas, image)
}

func secret(v string) string {
	return "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: apps}\nstringData: {password: " + v + "}\n"
}

// diffFixture compares two small renders: a changed Deployment and Secret,
// an added Service, a removed ConfigMap, a move, a unit that fails in head,
// and a diff holding backquotes.
func diffFixture(t *testing.T) *diff.Report {
	t.Helper()
	base := &render.Result{Units: []*render.Unit{
		renderUnit(t, "clusters/production", "Kustomization/flux-system/apps", deployment("web:1.0", 2), secret("old-"+diffCanary),
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: legacy, namespace: apps}\ndata: {a: b}\n",
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: script, namespace: apps}\ndata: {run: \"echo ```x```\"}\n"),
		renderUnit(t, "clusters/production", "Kustomization/flux-system/infra", "apiVersion: v1\nkind: Namespace\nmetadata: {name: monitoring}\n"),
		renderUnit(t, "clusters/staging", "Kustomization/flux-system/apps", deployment("web:1.0", 1)),
	}}
	failed := renderUnit(t, "clusters/staging", "Kustomization/flux-system/apps")
	failed.Failed = true
	failed.Problems = []fleet.Problem{{Rule: fleet.RuleRenderFailed, Severity: fleet.SeverityError, File: "apps/staging/kustomization.yaml", Line: 7, Object: failed.ID, Message: "kustomize build apps/staging: missing resource"}}
	head := &render.Result{Units: []*render.Unit{
		renderUnit(t, "clusters/production", "Kustomization/flux-system/apps", deployment("web:1.1", 3), secret("new-"+diffCanary),
			"apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: apps}\nspec: {ports: [{port: 80}]}\n",
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: script, namespace: apps}\ndata: {run: \"echo ```y```\"}\n"),
		renderUnit(t, "clusters/production", "Kustomization/flux-system/monitoring", "apiVersion: v1\nkind: Namespace\nmetadata: {name: monitoring}\n"),
		renderUnit(t, "clusters/production", "Kustomization/flux-system/infra"),
		failed,
	}}
	rep := diff.Compare(base, head, diff.Options{RedactionKey: []byte("golden")})
	rep.Base, rep.Head = "origin/main", "HEAD"
	return rep
}

func TestDiffFormatsGolden(t *testing.T) {
	rep := diffFixture(t)
	var txt, color, js, md bytes.Buffer
	if err := report.DiffText(&txt, rep, false); err != nil {
		t.Fatal(err)
	}
	if err := report.DiffText(&color, rep, true); err != nil {
		t.Fatal(err)
	}
	if err := report.DiffJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	truncated, err := report.DiffMarkdown(&md, rep, report.DiffMarkdownOptions{Marker: "<!-- fluxgate:diff:default -->", Limit: report.CommentLimit})
	if err != nil || truncated {
		t.Fatalf("markdown: truncated=%v err=%v", truncated, err)
	}
	golden(t, "diff.txt", txt.Bytes())
	golden(t, "diff-color.txt", color.Bytes())
	golden(t, "diff.json", js.Bytes())
	golden(t, "diff.md", md.Bytes())
	for name, out := range map[string][]byte{"text": txt.Bytes(), "color": color.Bytes(), "json": js.Bytes(), "markdown": md.Bytes()} {
		if bytes.Contains(out, []byte(diffCanary)) {
			t.Errorf("%s output holds a secret value", name)
		}
	}
	var back diff.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Units) != len(rep.Units) {
		t.Errorf("json does not round-trip: %v", err)
	}
}

func TestDiffMarkdownTruncates(t *testing.T) {
	rep := diffFixture(t)
	var full bytes.Buffer
	if _, err := report.DiffMarkdown(&full, rep, report.DiffMarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	limit := full.Len() - 200
	var md bytes.Buffer
	truncated, err := report.DiffMarkdown(&md, rep, report.DiffMarkdownOptions{Limit: limit, FullReport: "fluxgate-diff.md"})
	if err != nil || !truncated {
		t.Fatalf("truncated=%v err=%v", truncated, err)
	}
	if md.Len() > limit {
		t.Errorf("markdown is %d bytes, limit %d", md.Len(), limit)
	}
	for _, u := range rep.Units {
		if !strings.Contains(md.String(), "| `"+u.Cluster+"` | `"+u.Unit+"`") {
			t.Errorf("summary table lacks %s %s", u.Cluster, u.Unit)
		}
	}
	if strings.Count(md.String(), "<details>") != strings.Count(md.String(), "</details>") {
		t.Error("a details block is cut in the middle")
	}
	golden(t, "diff-truncated.md", md.Bytes())

	// A limit below the summary keeps whole lines of it and the note.
	md.Reset()
	if _, err := report.DiffMarkdown(&md, rep, report.DiffMarkdownOptions{Limit: 400}); err != nil {
		t.Fatal(err)
	}
	if md.Len() > 400 || !strings.Contains(md.String(), "not shown") {
		t.Errorf("tiny limit: %d bytes:\n%s", md.Len(), md.String())
	}
}

func TestDiffNoChanges(t *testing.T) {
	rep := diff.Compare(&render.Result{}, &render.Result{}, diff.Options{})
	var md, txt, js bytes.Buffer
	if _, err := report.DiffMarkdown(&md, rep, report.DiffMarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	_ = report.DiffText(&txt, rep, false)
	_ = report.DiffJSON(&js, rep)
	if !strings.Contains(md.String(), "No changes.") || strings.TrimSpace(txt.String()) != "No changes." || !strings.Contains(js.String(), `"units": []`) {
		t.Errorf("no-change output:\n%s\n%s\n%s", md.String(), txt.String(), js.String())
	}
}

// TestDiffUnrenderedUnitsInEveryOutput: a unit that could not render in
// base, head or both is listed in text, JSON and Markdown with its
// reason, redacted.
func TestDiffUnrenderedUnitsInEveryOutput(t *testing.T) {
	failed := func(id, msg string) *render.Unit {
		u := renderUnit(t, "clusters/production", id)
		u.Failed = true
		u.Sensitive = []string{diffCanary}
		u.Problems = []fleet.Problem{{Rule: fleet.RuleRenderFailed, Severity: fleet.SeverityError, File: "apps/kustomization.yaml", Line: 2, Object: id, Message: msg}}
		return u
	}
	base := &render.Result{Units: []*render.Unit{
		failed("Kustomization/flux-system/both", "missing resource "+diffCanary),
		failed("Kustomization/flux-system/base-only", "base broken"),
		renderUnit(t, "clusters/production", "Kustomization/flux-system/head-only", deployment("web:1.0", 1)),
	}}
	head := &render.Result{Units: []*render.Unit{
		failed("Kustomization/flux-system/both", "missing resource "+diffCanary),
		renderUnit(t, "clusters/production", "Kustomization/flux-system/base-only", deployment("web:1.0", 1)),
		failed("Kustomization/flux-system/head-only", "head broken"),
		failed("Kustomization/flux-system/new", "new and broken"),
	}}
	rep := diff.Compare(base, head, diff.Options{RedactionKey: []byte("golden")})
	if got := rep.Unrendered(); got != 4 {
		t.Fatalf("Unrendered = %d, want 4: %+v", got, rep.Units)
	}
	var txt, js, md bytes.Buffer
	if err := report.DiffText(&txt, rep, false); err != nil {
		t.Fatal(err)
	}
	if err := report.DiffJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	if _, err := report.DiffMarkdown(&md, rep, report.DiffMarkdownOptions{Limit: report.CommentLimit}); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Units []struct {
			Unit, Status, FailedIn, Error string
		}
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"both": "both", "base-only": "base", "head-only": "head", "new": "head"}
	for _, u := range back.Units {
		name := strings.TrimPrefix(u.Unit, "Kustomization/flux-system/")
		if u.Status != "could not render" || u.FailedIn != want[name] || u.Error == "" {
			t.Errorf("json %s: status %q failedIn %q error %q", name, u.Status, u.FailedIn, u.Error)
		}
		delete(want, name)
	}
	if len(want) != 0 {
		t.Errorf("json lacks %v", want)
	}
	for name, out := range map[string]string{"text": txt.String(), "markdown": md.String()} {
		for _, reason := range []string{"base broken", "head broken", "new and broken", "missing resource ", "redacted:"} {
			if !strings.Contains(out, "could not render: ") || !strings.Contains(out, reason) {
				t.Errorf("%s lacks %q:\n%s", name, reason, out)
			}
		}
		if !strings.Contains(out, "4 units could not render") {
			t.Errorf("%s totals do not count the unrendered units:\n%s", name, out)
		}
	}
	for name, out := range map[string][]byte{"text": txt.Bytes(), "json": js.Bytes(), "markdown": md.Bytes()} {
		if bytes.Contains(out, []byte(diffCanary)) {
			t.Errorf("%s output holds a secret value", name)
		}
	}
}
