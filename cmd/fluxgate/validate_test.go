package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const ruleFixtures = "../../validate/testdata/rules"

func TestValidateCommandExitCodesAndFailOn(t *testing.T) {
	invalid := filepath.Join(ruleFixtures, "schema-invalid", "fail")
	warning := filepath.Join(ruleFixtures, "schema-missing", "fail")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"clean example fleet", []string{"validate", filepath.Join(fleets, "fleet-infra")}, 0, "0 errors, 5 warnings in 18 units"},
		{"an error fails", []string{"validate", invalid}, 1, "app/deploy.yaml"},
		{"--fail-on none", []string{"validate", invalid, "--fail-on", "none"}, 0, "schema-invalid"},
		{"a warning passes by default", []string{"validate", warning}, 0, "schema-missing"},
		{"--fail-on warning", []string{"validate", warning, "--fail-on", "warning"}, 1, "schema-missing"},
		{"--strict", []string{"validate", warning, "--strict"}, 1, "error"},
		{"bad --fail-on", []string{"validate", warning, "--fail-on", "sometimes"}, 2, ""},
		{"bad format", []string{"validate", warning, "-o", "yaml"}, 2, ""},
		{"two formats on stdout", []string{"validate", warning, "-o", "text", "-o", "json"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := run(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, stderr)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, out)
			}
		})
	}
}

func TestValidateCommandWritesEveryFormat(t *testing.T) {
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary.md")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	fixture := filepath.Join(ruleFixtures, "schema-invalid", "fail")
	out, stderr, code := run(t, "validate", fixture, "-o", "github",
		"-o", "json="+filepath.Join(dir, "r.json"), "-o", "sarif="+filepath.Join(dir, "r.sarif"),
		"-o", "junit="+filepath.Join(dir, "r.xml"), "-o", "text="+filepath.Join(dir, "r.txt"))
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "::error file=app/deploy.yaml,line=6,title=schema-invalid::") {
		t.Errorf("github annotations:\n%s", out)
	}
	var js struct {
		Findings []map[string]any `json:"findings"`
		Summary  map[string]any   `json:"summary"`
	}
	mustRead := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if err := json.Unmarshal(mustRead("r.json"), &js); err != nil || len(js.Findings) != 1 || js.Findings[0]["line"] != float64(6) {
		t.Errorf("json report: %v %+v", err, js)
	}
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(mustRead("r.sarif"), &sarif); err != nil || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 ||
		len(sarif.Runs[0].Results) != 1 || sarif.Runs[0].Results[0].RuleID != "schema-invalid" {
		t.Errorf("sarif report: %v %+v", err, sarif)
	}
	var junit struct {
		XMLName xml.Name
	}
	if err := xml.Unmarshal(mustRead("r.xml"), &junit); err != nil {
		t.Errorf("junit report: %v", err)
	}
	if !strings.Contains(string(mustRead("r.txt")), "schema-invalid") {
		t.Errorf("text report lacks the finding")
	}
	if s := string(mustRead("summary.md")); !strings.Contains(s, "schema-invalid") {
		t.Errorf("job summary lacks the finding:\n%s", s)
	}
}
