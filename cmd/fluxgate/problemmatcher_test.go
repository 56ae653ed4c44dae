package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// problemMatcher is the shape of a GitHub problem matcher file.
type problemMatcher struct {
	ProblemMatcher []struct {
		Owner   string `json:"owner"`
		Pattern []struct {
			Regexp   string `json:"regexp"`
			File     int    `json:"file"`
			Line     int    `json:"line"`
			Column   int    `json:"column"`
			Severity int    `json:"severity"`
			Message  int    `json:"message"`
			Code     int    `json:"code"`
		} `json:"pattern"`
	} `json:"problemMatcher"`
}

// TestProblemMatcher: .github/fluxgate-problem-matcher.json parses, its
// regexp compiles (it uses only syntax Go and JavaScript read alike) and it
// takes file, line, column, severity, message and rule from the text line
// form `path:line:col: severity: message [rule]`. Info lines are not
// matched: GitHub knows only error and warning severities in a matcher.
func TestProblemMatcher(t *testing.T) {
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
