package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"

	"github.com/fluxgate/fluxgate/internal/testenv"
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
		{"clean example fleet", []string{"validate", filepath.Join(fleets, "fleet-infra")}, 0, "0 errors, 4 warnings in 18 units"},
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
	// Outside any Git work tree: paths are the fleet's in every format.
	t.Setenv("GITHUB_WORKSPACE", "")
	fixture := t.TempDir()
	testenv.CopyTree(t, filepath.Join(ruleFixtures, "schema-invalid", "fail"), fixture)
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

// TestValidatePathsRelativeToCheckout: a fleet in deploy/flux of a
// monorepo gets annotations, SARIF locations and JUnit files named from
// the Git work tree's root, or from GITHUB_WORKSPACE when it holds the
// checkout; json keeps the fleet's paths and text names files from the
// current directory, as the fleet directory argument does.
func TestValidatePathsRelativeToCheckout(t *testing.T) {
	workspace := t.TempDir()
	root := filepath.Join(workspace, "platform")
	fleet := filepath.Join(root, "deploy", "flux")
	testenv.CopyTree(t, filepath.Join(ruleFixtures, "schema-invalid", "fail"), fleet)
	if _, err := git.PlainInit(root, false); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, githubWorkspace, prefix, base string
	}{
		{name: "git work tree root", prefix: "deploy/flux/", base: root},
		{name: "GITHUB_WORKSPACE", githubWorkspace: workspace, prefix: "platform/deploy/flux/", base: workspace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GITHUB_WORKSPACE", tc.githubWorkspace)
			t.Setenv("GITHUB_STEP_SUMMARY", "")
			out := t.TempDir()
			read := func(name string) string {
				data, err := os.ReadFile(filepath.Join(out, name))
				if err != nil {
					t.Fatal(err)
				}
				return string(data)
			}
			stdout, stderr, code := run(t, "validate", fleet, "-o", "github", "-o", "sarif="+filepath.Join(out, "r.sarif"),
				"-o", "junit="+filepath.Join(out, "r.xml"), "-o", "json="+filepath.Join(out, "r.json"), "-o", "text="+filepath.Join(out, "r.txt"))
			if code != 1 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, "::error file="+tc.prefix+"app/deploy.yaml,line=6,") {
				t.Errorf("annotation not relative to %s:\n%s", tc.base, stdout)
			}
			var sarif struct {
				Runs []struct {
					OriginalURIBaseIDs map[string]struct {
						URI string `json:"uri"`
					} `json:"originalUriBaseIds"`
					Results []struct {
						Locations []struct {
							PhysicalLocation struct {
								ArtifactLocation struct {
									URI       string `json:"uri"`
									URIBaseID string `json:"uriBaseId"`
								} `json:"artifactLocation"`
							} `json:"physicalLocation"`
						} `json:"locations"`
					} `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal([]byte(read("r.sarif")), &sarif); err != nil {
				t.Fatal(err)
			}
			base, _ := filepath.EvalSymlinks(tc.base)
			if got, want := sarif.Runs[0].OriginalURIBaseIDs["SRCROOT"].URI, "file://"+filepath.ToSlash(base)+"/"; got != want {
				t.Errorf("SRCROOT = %q, want %q", got, want)
			}
			if loc := sarif.Runs[0].Results[0].Locations[0].PhysicalLocation.ArtifactLocation; loc.URI != tc.prefix+"app/deploy.yaml" || loc.URIBaseID != "SRCROOT" {
				t.Errorf("sarif location %+v", loc)
			}
			if x := read("r.xml"); !strings.Contains(x, tc.prefix+"app/deploy.yaml") {
				t.Errorf("junit does not name %sapp/deploy.yaml:\n%s", tc.prefix, x)
			}
			if js := read("r.json"); !strings.Contains(js, `"file": "app/deploy.yaml"`) {
				t.Errorf("json paths changed:\n%s", js)
			}
			if txt, want := read("r.txt"), filepath.ToSlash(fleet)+"/app/deploy.yaml:6:1: error: "; !strings.HasPrefix(txt, want) {
				t.Errorf("text report does not start with %q:\n%s", want, txt)
			}
		})
	}
}
