package action

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/internal/ghaction"
)

func TestActionArgs(t *testing.T) {
	tests := []struct {
		name           string
		inputs         map[string]string
		want           []string
		wantReportFile string
		wantTempReport bool
		wantToken      string
		wantErr        string
	}{
		{
			name:   "validate with every kind of input",
			inputs: map[string]string{"PATH": "clusters/a\nclusters/b\n", "FAIL-ON": "warning", "STRICT": "true", "OFFLINE": "false", "SARIF": "true", "TOKEN": "t", "DIRECTORY": "."},
			want: []string{"validate", "--path=clusters/a", "--path=clusters/b", "--fail-on=warning", "--strict",
				"--output=github", "--output=sarif=fluxgate.sarif"},
			wantTempReport: true,
		},
		{
			name:           "validate with report-file keeps the report there",
			inputs:         map[string]string{"REPORT-FILE": "out/findings.json", "DIRECTORY": "fleet"},
			want:           []string{"validate", "--output=github", "--output=json=out/findings.json", "--", "fleet"},
			wantReportFile: "out/findings.json",
		},
		{
			name:           "diff without report-file: report and Markdown go to a temporary directory",
			inputs:         map[string]string{"COMMAND": "diff", "TOKEN": "ghs_t"},
			want:           []string{"diff", "--output=text"},
			wantTempReport: true,
			wantToken:      "ghs_t",
		},
		{
			name: "image-update with every input it takes",
			inputs: map[string]string{
				"COMMAND": "image-update", "DIRECTORY": "fleet", "DRY-RUN": "true",
				"AUTOMATION": "flux-system/apps\n\nflux-system/infra\n", "BRANCH": "bot/images",
				"GIT-URL": "https://git.example.com/org/fleet.git", "GIT-USERNAME": "bot",
				"LABELS": "dependencies\nautomerge\n", "FORGE": "gitea", "API-URL": "https://git.example.com",
				"REPOSITORY": "org/fleet", "REGISTRY-CONCURRENCY": "2",
				"SOURCE": "GitRepository/flux-system/apps=apps", "WORKERS": "3", "MAX-FILE-SIZE": "1048576",
				"OUTPUT": "json=plan.json", "REPORT-FILE": "images.json", "TOKEN": "ghs_t",
			},
			want: []string{"image-update",
				"--output=json=plan.json", "--source=GitRepository/flux-system/apps=apps", "--workers=3", "--max-file-size=1048576",
				"--forge=gitea", "--api-url=https://git.example.com", "--repository=org/fleet",
				"--dry-run", "--automation=flux-system/apps", "--automation=flux-system/infra", "--branch=bot/images",
				"--git-url=https://git.example.com/org/fleet.git", "--git-username=bot",
				"--label=dependencies", "--label=automerge", "--registry-concurrency=2",
				"--output=diff", "--output=json=images.json", "--", "fleet"},
			wantReportFile: "images.json",
			wantToken:      "ghs_t",
		},
		{
			name:           "image-update without report-file: the report goes to a temporary file",
			inputs:         map[string]string{"COMMAND": "image-update", "DIRECTORY": ".", "DRY-RUN": "false", "TOKEN": "ghs_t"},
			want:           []string{"image-update", "--output=diff"},
			wantTempReport: true,
			wantToken:      "ghs_t",
		},
		{
			name:   "the token is for diff and image-update only",
			inputs: map[string]string{"COMMAND": "render", "TOKEN": "ghs_t"},
			want:   []string{"render"},
		},
		{
			name:    "a validate input with image-update",
			inputs:  map[string]string{"COMMAND": "image-update", "FAIL-ON": "warning"},
			wantErr: "input fail-on: command image-update does not take it (it is for validate)",
		},
		{
			name:    "a rendering input with image-update",
			inputs:  map[string]string{"COMMAND": "image-update", "PATH": "clusters/prod"},
			wantErr: "input path: command image-update does not take it (it is for validate, render, diff)",
		},
		{
			name:    "a diff input with image-update",
			inputs:  map[string]string{"COMMAND": "image-update", "PR": "7"},
			wantErr: "input pr: command image-update does not take it (it is for diff)",
		},
		{
			name:    "an image-update input with diff",
			inputs:  map[string]string{"COMMAND": "diff", "LABELS": "dependencies"},
			wantErr: "input labels: command diff does not take it (it is for image-update)",
		},
		{
			name:    "an image-update input with validate",
			inputs:  map[string]string{"DRY-RUN": "true"},
			wantErr: "input dry-run: command validate does not take it (it is for image-update)",
		},
		{
			name:    "dry-run not a boolean",
			inputs:  map[string]string{"COMMAND": "image-update", "DRY-RUN": "maybe"},
			wantErr: `input dry-run: "maybe" is not a boolean`,
		},
		{
			name:   "render into a directory, in a subdirectory",
			inputs: map[string]string{"COMMAND": "render", "OUTPUT-DIR": "out", "DIRECTORY": "fleet", "SOURCE": "GitRepository/flux-system/apps=apps"},
			want:   []string{"render", "--output-dir=out", "--source=GitRepository/flux-system/apps=apps", "--", "fleet"},
		},
		{
			name:    "an input of another command",
			inputs:  map[string]string{"COMMAND": "render", "FAIL-ON": "warning"},
			wantErr: "input fail-on: command render does not take it (it is for validate)",
		},
		{
			name:    "not a boolean",
			inputs:  map[string]string{"STRICT": "yes"},
			wantErr: `input strict: "yes" is not a boolean`,
		},
		{
			name:    "unknown command",
			inputs:  map[string]string{"COMMAND": "deploy"},
			wantErr: `input command: "deploy" is not one of validate, render, diff, image-update`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := &ghaction.Env{Getenv: func(k string) string {
				v, ok := tc.inputs[strings.TrimPrefix(k, "INPUT_")]
				if !ok || !strings.HasPrefix(k, "INPUT_") {
					return ""
				}
				return v
			}}
			p, err := NewPlan(env, func(string) bool { return true })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, p.Args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
			if p.ReportFile != tc.wantReportFile || p.TempReport != tc.wantTempReport || p.Token != tc.wantToken {
				t.Errorf("report file %q (temporary %v), token %q; want %q (%v), %q",
					p.ReportFile, p.TempReport, p.Token, tc.wantReportFile, tc.wantTempReport, tc.wantToken)
			}
		})
	}
}

// TestActionPlanAddArg checks that the flags runAction adds (the key file,
// the temporary report) stay before the "--" that ends the flags.
func TestActionPlanAddArg(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{name: "no directory", args: []string{"image-update", "--output=diff"}, want: []string{"image-update", "--output=diff", "--x"}},
		{name: "a directory", args: []string{"validate", "--strict", "--", "fleet"}, want: []string{"validate", "--strict", "--x", "--", "fleet"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &Plan{Args: slices.Clone(tc.args)}
			p.AddArg("--x")
			if diff := cmp.Diff(tc.want, p.Args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPlanTemp: the files a step reads for its outputs and no input names
// go to the temporary directory, never to the workspace; a report-file is
// kept where it was asked for.
func TestPlanTemp(t *testing.T) {
	tests := []struct {
		name               string
		inputs             map[string]string
		wantArgs           []string
		wantReport, wantMD string
	}{
		{
			name:       "validate",
			inputs:     map[string]string{"SARIF": "true"},
			wantArgs:   []string{"validate", "--output=github", "--output=sarif=fluxgate.sarif", "--output=json=TMP/validate.json"},
			wantReport: "TMP/validate.json",
		},
		{
			name:       "diff in a subdirectory",
			inputs:     map[string]string{"COMMAND": "diff", "DIRECTORY": "fleet"},
			wantArgs:   []string{"diff", "--output=text", "--output=json=TMP/diff.json", "--output=markdown=TMP/fluxgate-diff.md", "--", "fleet"},
			wantReport: "TMP/diff.json", wantMD: "TMP/fluxgate-diff.md",
		},
		{
			name:       "diff with report-file",
			inputs:     map[string]string{"COMMAND": "diff", "REPORT-FILE": "d.json"},
			wantArgs:   []string{"diff", "--output=text", "--output=json=d.json", "--output=markdown=TMP/fluxgate-diff.md"},
			wantReport: "d.json", wantMD: "TMP/fluxgate-diff.md",
		},
		{
			name:     "render writes nothing",
			inputs:   map[string]string{"COMMAND": "render"},
			wantArgs: []string{"render"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := &ghaction.Env{Getenv: func(k string) string { return tc.inputs[strings.TrimPrefix(k, "INPUT_")] }}
			p, err := NewPlan(env, func(string) bool { return true })
			if err != nil {
				t.Fatal(err)
			}
			if p.NeedsTemp() {
				p.Temp("TMP")
			}
			if diff := cmp.Diff(tc.wantArgs, p.Args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
			if p.ReportFile != tc.wantReport || p.MarkdownFile != tc.wantMD {
				t.Errorf("report %q, markdown %q; want %q, %q", p.ReportFile, p.MarkdownFile, tc.wantReport, tc.wantMD)
			}
		})
	}
}

// TestActionUntrusted: the untrusted input, auto by default, runs the
// rendering commands with --untrusted on events that run a fork's code
// with the base repository's secrets, and then passes no decryption key.
func TestActionUntrusted(t *testing.T) {
	dir := t.TempDir()
	payload := func(name, head string) string {
		p := filepath.Join(dir, name+".json")
		body := `{"pull_request": {"number": 3, "base": {"ref": "main", "repo": {"full_name": "octo-org/fleet"}},
  "head": {"ref": "x", "repo": {"full_name": "` + head + `"}}}, "repository": {"full_name": "octo-org/fleet"}}`
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fork, same := payload("fork", "mallory/fleet"), payload("same", "octo-org/fleet")
	const key = "AGE-SECRET-KEY-1QQQQ"
	tests := []struct {
		name        string
		vars        map[string]string // INPUT_* and GITHUB_*
		want        []string
		wantKey     bool
		wantWarning string
		wantErr     string
	}{
		{
			name: "fork pull request: auto turns it on and drops the keys",
			vars: map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": fork,
				"INPUT_DECRYPTION-KEY": key, "INPUT_DECRYPTION-KEY-FILE": "keys/age.agekey"},
			want:        []string{"validate", "--untrusted", "--output=github"},
			wantWarning: "fork mallory/fleet",
		},
		{
			name:    "same-repository pull request: auto leaves it off, keys passed",
			vars:    map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": same, "INPUT_DECRYPTION-KEY": key},
			want:    []string{"validate", "--output=github"},
			wantKey: true,
		},
		{
			name: "pull_request_target: on",
			vars: map[string]string{"GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_EVENT_PATH": same, "INPUT_COMMAND": "diff"},
			want: []string{"diff", "--untrusted", "--output=text"},
		},
		{
			name: "pull_request_target with untrusted false: the workflow's choice",
			vars: map[string]string{"GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_EVENT_PATH": same, "INPUT_UNTRUSTED": "false", "INPUT_COMMAND": "render"},
			want: []string{"render"},
		},
		{
			name: "push with untrusted true",
			vars: map[string]string{"GITHUB_EVENT_NAME": "push", "INPUT_UNTRUSTED": "true", "INPUT_COMMAND": "render"},
			want: []string{"render", "--untrusted"},
		},
		{
			name: "image-update on pull_request_target: auto does not apply",
			vars: map[string]string{"GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_EVENT_PATH": same, "INPUT_COMMAND": "image-update", "INPUT_UNTRUSTED": "auto"},
			want: []string{"image-update", "--output=diff"},
		},
		{
			name:    "image-update with untrusted true",
			vars:    map[string]string{"INPUT_COMMAND": "image-update", "INPUT_UNTRUSTED": "true"},
			wantErr: "input untrusted: command image-update does not take it",
		},
		{
			name:    "a value that is not a choice",
			vars:    map[string]string{"INPUT_UNTRUSTED": "maybe"},
			wantErr: `input untrusted: "maybe" is not true, false or auto`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := &ghaction.Env{Getenv: func(k string) string { return tc.vars[k] }}
			p, err := NewPlan(env, func(string) bool { return true })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, p.Args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
			if (p.KeyFile != "") != tc.wantKey {
				t.Errorf("key file %q, want one: %v", p.KeyFile, tc.wantKey)
			}
			if _, ok := tc.vars["INPUT_DECRYPTION-KEY"]; ok && !slices.Contains(p.Masks, key) {
				t.Error("the decryption-key input is not masked")
			}
			warnings := strings.Join(p.Warnings, "\n")
			if tc.wantWarning != "" && (!strings.Contains(warnings, tc.wantWarning) || !strings.Contains(warnings, "decryption keys not used")) {
				t.Errorf("warnings %q, want the dropped keys and %q", warnings, tc.wantWarning)
			}
			if tc.wantWarning == "" && warnings != "" {
				t.Errorf("unexpected warnings %q", warnings)
			}
		})
	}
}
