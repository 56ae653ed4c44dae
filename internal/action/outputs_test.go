package action

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/internal/ghaction"
)

// zeros reads as endless zero bytes: every environment-file delimiter is
// the same.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestWriteOutputs checks that WriteOutputs writes every output of
// Outputs for a validate, a diff and an image-update step, in the order
// of Outputs.
func TestWriteOutputs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	reports := map[string]string{
		"v.json":  `{"findings":[{},{},{}],"summary":{"errors":2,"warnings":1}}`,
		"v.sarif": `{}`,
		"d.json":  `{"base":"a","head":"b","units":[{},{},{"status":"could not render","unchanged":true}]}`,
		"d.md":    "## diff\n",
		// Three fields changed by two automations with pull requests (one
		// already holding the updates) and one without changes.
		"i.json": `{"changes":[{},{},{}],"pullRequests":[
			{"automation":"flux-system/apps","branch":"image-updates","pushed":true,"url":"https://github.com/o/r/pull/2"},
			{"automation":"flux-system/infra","branch":"fluxgate/image-update/flux-system/infra","pushed":false,"url":"https://github.com/o/r/pull/3"},
			{"automation":"flux-system/tools","branch":"fluxgate/image-update/flux-system/tools","pushed":false}]}`,
		"dry.json": `{"changes":[]}`,
	}
	for name, content := range reports {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ev := &ghaction.Event{PullRequest: &ghaction.PullRequest{URL: "https://github.com/o/r/pull/1"}}
	tests := []struct {
		name        string
		plan        *Plan
		want        [][2]string
		wantSummary string
	}{
		{
			name: "validate",
			plan: &Plan{Command: "validate", ReportFile: "v.json", SARIFFile: "v.sarif"},
			want: [][2]string{{"findings", "3"}, {"errors", "2"}, {"warnings", "1"}, {"sarif-file", "v.sarif"},
				{"report-file", "v.json"}, {"pull-request-url", "https://github.com/o/r/pull/1"}},
		},
		{
			// A unit failing the same way on both sides is listed, not
			// counted as changed.
			name:        "diff, its Markdown in the job summary",
			plan:        &Plan{Command: "diff", ReportFile: "d.json", MarkdownFile: "d.md"},
			want:        [][2]string{{"report-file", "d.json"}, {"changed-units", "2"}, {"pull-request-url", "https://github.com/o/r/pull/1"}},
			wantSummary: "## diff\n",
		},
		{
			// Its own pull requests, not the event's; a temporary report
			// is no output.
			name: "image-update",
			plan: &Plan{Command: "image-update", ReportFile: "i.json", TempReport: true},
			want: [][2]string{{"pull-request-url", "https://github.com/o/r/pull/2\nhttps://github.com/o/r/pull/3"}, {"image-updates", "3"}},
		},
		{
			name: "image-update with report-file and nothing to change",
			plan: &Plan{Command: "image-update", ReportFile: "dry.json"},
			want: [][2]string{{"report-file", "dry.json"}, {"image-updates", "0"}},
		},
		{
			name: "a report the command did not write",
			plan: &Plan{Command: "validate", ReportFile: "missing.json"},
			want: [][2]string{{"pull-request-url", "https://github.com/o/r/pull/1"}},
		},
	}
	delimiter := "ghadelimiter_" + strings.Repeat("0", 32)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, summary := filepath.Join(dir, fmt.Sprint("out", i)), filepath.Join(dir, fmt.Sprint("summary", i))
			vars := map[string]string{"GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": summary}
			env := &ghaction.Env{Getenv: func(k string) string { return vars[k] }, Rand: zeros{}}
			if err := WriteOutputs(env, tc.plan, ev); err != nil {
				t.Fatal(err)
			}
			var want strings.Builder
			for _, kv := range tc.want {
				entry, err := ghaction.FormatKeyValue(kv[0], kv[1], delimiter)
				if err != nil {
					t.Fatal(err)
				}
				want.WriteString(entry)
			}
			got, _ := os.ReadFile(out)
			if diff := cmp.Diff(want.String(), string(got)); diff != "" {
				t.Errorf("outputs (-want +got):\n%s", diff)
			}
			if s, _ := os.ReadFile(summary); string(s) != tc.wantSummary {
				t.Errorf("summary = %q, want %q", s, tc.wantSummary)
			}
		})
	}
}
