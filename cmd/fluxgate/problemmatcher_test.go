package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/report"
	"github.com/fluxgate/fluxgate/validate"
)

// problemMatcher is the shape of a GitHub problem matcher file.
type problemMatcher struct {
	ProblemMatcher []struct {
		Owner   string           `json:"owner"`
		Pattern []matcherPattern `json:"pattern"`
	} `json:"problemMatcher"`
}

// TestProblemMatcher: .github/fluxgate-problem-matcher.json parses, its
// regexp compiles (it uses only syntax Go and JavaScript read alike) and it
// takes file, line, column, severity, message and rule from the text line
// form `path:line:col: severity: message [rule]`. Info lines are not
// matched: GitHub knows only error and warning severities in a matcher.
func TestProblemMatcher(t *testing.T) {
	re, p := loadProblemMatcher(t)
	type hit struct{ File, Line, Col, Severity, Message, Rule string }
	get := func(m []string, i int) string {
		if i <= 0 || i >= len(m) {
			return ""
		}
		return m[i]
	}
	for _, tc := range []struct {
		line string
		want *hit
	}{
		{"apps/base/podinfo.yaml:12:3: error: spec.replicas: expected integer [schema-invalid]",
			&hit{"apps/base/podinfo.yaml", "12", "3", "error", "spec.replicas: expected integer", "schema-invalid"}},
		{"clusters/prod/apps.yaml:1:1: warning: Kustomization flux-system/apps: dependsOn [infra] not found [dependency-not-found]",
			&hit{"clusters/prod/apps.yaml", "1", "1", "warning", "Kustomization flux-system/apps: dependsOn [infra] not found", "dependency-not-found"}},
		{`C:\fleet\apps\x.yaml:7:9: error: bad: 1:2 [yaml-invalid]`,
			&hit{`C:\fleet\apps\x.yaml`, "7", "9", "error", "bad: 1:2", "yaml-invalid"}},
		{"apps/x.yaml:4:1: info: a note [deprecated-api]", nil},
		{"fluxgate: 3 problem(s) at or above the failure threshold", nil},
		{"apps/x.yaml:4: error: no column [yaml-invalid]", nil},
	} {
		m := re.FindStringSubmatch(tc.line)
		var got *hit
		if m != nil {
			got = &hit{get(m, p.File), get(m, p.Line), get(m, p.Column), get(m, p.Severity), get(m, p.Message), get(m, p.Code)}
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%q (-want +got):\n%s", tc.line, d)
		}
	}
}

// matcherPattern is the one pattern of the matcher file.
type matcherPattern = struct {
	Regexp   string `json:"regexp"`
	File     int    `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Severity int    `json:"severity"`
	Message  int    `json:"message"`
	Code     int    `json:"code"`
}

// loadProblemMatcher reads .github/fluxgate-problem-matcher.json strictly
// and compiles its one pattern.
func loadProblemMatcher(t *testing.T) (*regexp.Regexp, matcherPattern) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", ".github", "fluxgate-problem-matcher.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pm problemMatcher
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pm); err != nil {
		t.Fatalf("matcher file: %v", err)
	}
	if len(pm.ProblemMatcher) != 1 || len(pm.ProblemMatcher[0].Pattern) != 1 || pm.ProblemMatcher[0].Owner != "fluxgate" {
		t.Fatalf("want one matcher owned by fluxgate with one pattern, got %+v", pm)
	}
	p := pm.ProblemMatcher[0].Pattern[0]
	re, err := regexp.Compile(p.Regexp)
	if err != nil {
		t.Fatalf("regexp: %v", err)
	}
	return re, p
}

// TestProblemMatcherReadsTextReport: the matcher takes every error and
// warning of a real text report (the report package's writer, a file
// under a directory prefix, a message of several lines) with its file,
// line, message and rule, and nothing else the report prints.
func TestProblemMatcherReadsTextReport(t *testing.T) {
	re, p := loadProblemMatcher(t)
	rep := &validate.Report{
		Findings: []validate.Finding{
			{Rule: validate.RuleSchemaInvalid, Severity: validate.SeverityError, File: "apps/web.yaml", Line: 12,
				Object: "Deployment/apps/web", Message: "spec.replicas: expected integer [really]"},
			{Rule: validate.RuleSecretNotEncrypted, Severity: validate.SeverityError, File: "clusters/prod/db.yaml", Line: 3,
				Object: "Secret/flux-system/db", Message: "data.password: plaintext\nencrypt it with: sops --encrypt"},
			{Rule: validate.RuleDeprecatedAPI, Severity: validate.SeverityWarning, File: "apps/hpa.yaml", Line: 40,
				Message: "autoscaling/v2beta2 is removed"},
			{Rule: validate.RuleYAMLInvalid, Severity: validate.SeverityInfo, File: "charts/t.yaml", Line: 4, Message: "templated"},
		},
		Summary: validate.Summary{Units: 2, Objects: 5, Errors: 2, Warnings: 1, SkippedKinds: map[string]int{"example.com/v1/Widget": 1}},
	}
	w, err := report.New("text", report.Options{DirPrefix: "fleet"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := w.Write(&out, rep); err != nil {
		t.Fatal(err)
	}
	type hit struct{ File, Line, Severity, Message, Rule string }
	var got []hit
	for l := range strings.SplitSeq(out.String(), "\n") {
		if m := re.FindStringSubmatch(l); m != nil {
			got = append(got, hit{m[p.File], m[p.Line], m[p.Severity], m[p.Message], m[p.Code]})
		}
	}
	want := []hit{
		{"fleet/apps/hpa.yaml", "40", "warning", "autoscaling/v2beta2 is removed", "deprecated-api"},
		{"fleet/apps/web.yaml", "12", "error", "Deployment/apps/web: spec.replicas: expected integer [really]", "schema-invalid"},
		{"fleet/clusters/prod/db.yaml", "3", "error", "Secret/flux-system/db: data.password: plaintext; encrypt it with: sops --encrypt", "secret-not-encrypted"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("matched (-want +got):\n%s\nreport:\n%s", d, out.String())
	}
}
