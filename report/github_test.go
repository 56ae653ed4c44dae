package report_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/report"
	"github.com/fluxgate/fluxgate/validate"
)

// findings makes n findings of one severity, one per line of a file.
func findings(n int, severity, file string) []validate.Finding {
	var fs []validate.Finding
	for i := range n {
		fs = append(fs, validate.Finding{
			Rule: validate.RuleSchemaInvalid, Severity: severity,
			File: file, Line: i + 1, Object: fmt.Sprintf("ConfigMap/apps/cm-%d", i),
			Message: "bad",
		})
	}
	return fs
}

// levels counts the workflow commands by level, and returns the last line.
func levels(out string) (map[string]int, string) {
	count := map[string]int{}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for _, l := range lines {
		level, _, _ := strings.Cut(strings.TrimPrefix(l, "::"), "::")
		level, _, _ = strings.Cut(level, " ")
		count[level]++
	}
	return count, lines[len(lines)-1]
}

func TestGitHubAnnotationBudget(t *testing.T) {
	tests := []struct {
		name     string
		findings []validate.Finding
		want     map[string]int
		last     string
	}{
		{
			name: "25 errors and 3 warnings",
			// The warnings sort before the errors by file; errors still come first.
			findings: append(findings(25, validate.SeverityError, "z.yaml"), findings(3, validate.SeverityWarning, "a.yaml")...),
			want:     map[string]int{"error": 10, "warning": 3, "notice": 1},
			last:     "::notice::15 more findings not annotated; see the job summary",
		},
		{
			name:     "exactly ten of each",
			findings: append(findings(10, validate.SeverityError, "e.yaml"), findings(10, validate.SeverityWarning, "w.yaml")...),
			want:     map[string]int{"error": 10, "warning": 10},
			last:     "::warning file=w.yaml,line=10,title=schema-invalid::ConfigMap/apps/cm-9: bad",
		},
		{
			name:     "eleven warnings",
			findings: findings(11, validate.SeverityWarning, "w.yaml"),
			want:     map[string]int{"warning": 10, "notice": 1},
			last:     "::notice::1 more finding not annotated; see the job summary",
		},
		{
			name:     "ten infos fit",
			findings: findings(10, validate.SeverityInfo, "i.yaml"),
			want:     map[string]int{"notice": 10},
			last:     "::notice file=i.yaml,line=10,title=schema-invalid::ConfigMap/apps/cm-9: bad",
		},
		{
			name:     "twelve infos leave room for the summary notice",
			findings: findings(12, validate.SeverityInfo, "i.yaml"),
			want:     map[string]int{"notice": 10},
			last:     "::notice::3 more findings not annotated; see the job summary",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := string(write(t, "github", report.Options{}, &validate.Report{Findings: tc.findings}))
			got, last := levels(out)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("commands per level (-want +got):\n%s\n%s", diff, out)
			}
			if last != tc.last {
				t.Errorf("last line = %q, want %q", last, tc.last)
			}
			if tc.want["error"] > 0 && !strings.HasPrefix(out, "::error ") {
				t.Errorf("errors do not come first:\n%s", out)
			}
		})
	}
}

func TestGitHubAnnotation(t *testing.T) {
	tests := []struct {
		name string
		f    validate.Finding
		want string
	}{
		{
			name: "escaped message and path",
			f: validate.Finding{
				Rule: validate.RuleSecretNotEncrypted, Severity: validate.SeverityError,
				File: "clusters/prod,eu/secrets.yaml", Line: 3, Object: "Secret/flux-system/db",
				Message: "data.password: 100% plaintext\nencrypt it",
			},
			want: "::error file=clusters/prod%2Ceu/secrets.yaml,line=3,title=secret-not-encrypted::Secret/flux-system/db: data.password: 100%25 plaintext%0Aencrypt it\n",
		},
		{
			name: "line 0 has no line property",
			f:    validate.Finding{Rule: "r", Severity: validate.SeverityWarning, File: "a.yaml", Message: "m"},
			want: "::warning file=a.yaml,title=r::m\n",
		},
		{
			name: "no file",
			f:    validate.Finding{Rule: "r", Severity: validate.SeverityInfo, Line: 4, Message: "m"},
			want: "::notice title=r::m\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(write(t, "github", report.Options{}, &validate.Report{Findings: []validate.Finding{tc.f}}))
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestGitHubChangedFilesFirst(t *testing.T) {
	// 12 errors in old.yaml sort before 3 in new.yaml; the pull request
	// changes new.yaml, so its errors take the first slots.
	fs := append(findings(12, validate.SeverityError, "a-old.yaml"), findings(3, validate.SeverityError, "z-new.yaml")...)
	fs = append(fs, findings(2, validate.SeverityWarning, "a-old.yaml")...)
	r := &validate.Report{Findings: fs}
	out := string(write(t, "github", report.Options{ChangedFiles: []string{"z-new.yaml"}}, r))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range lines[:3] {
		if !strings.HasPrefix(l, "::error file=z-new.yaml,") {
			t.Errorf("line %d = %q, want an error in the changed file", i+1, l)
		}
	}
	if got, _ := levels(out); got["error"] != 10 || got["warning"] != 2 {
		t.Errorf("levels = %v\n%s", got, out)
	}
	if annotated, omitted := report.GitHubAnnotations(r, report.Options{}); annotated != 12 || omitted != 5 {
		t.Errorf("GitHubAnnotations = %d, %d; want 12, 5", annotated, omitted)
	}
	var note strings.Builder
	if err := report.MarkdownAnnotationNote(&note, r, report.Options{ChangedFiles: []string{"z-new.yaml"}}); err != nil {
		t.Fatal(err)
	}
	want := "12 findings annotated (most serious first, files this pull request changes first); **5 more findings** not annotated: GitHub shows at most 10 error and 10 warning annotations per step.\n\n"
	if diff := cmp.Diff(want, note.String()); diff != "" {
		t.Errorf("note (-want +got):\n%s", diff)
	}
	note.Reset()
	report.MarkdownAnnotationNote(&note, &validate.Report{Findings: findings(2, validate.SeverityError, "a.yaml")}, report.Options{})
	if note.Len() != 0 {
		t.Errorf("note with nothing left out: %q", note.String())
	}
}

func TestGitHubAnnotationLimit(t *testing.T) {
	r := &validate.Report{Findings: append(findings(4, validate.SeverityError, "e.yaml"), findings(4, validate.SeverityWarning, "w.yaml")...)}
	out := string(write(t, "github", report.Options{AnnotationLimit: 5}, r))
	got, last := levels(out)
	if diff := cmp.Diff(map[string]int{"error": 4, "notice": 1}, got); diff != "" {
		t.Errorf("levels (-want +got):\n%s\n%s", diff, out)
	}
	if want := "::notice::4 more findings not annotated; see the job summary"; last != want {
		t.Errorf("last = %q, want %q", last, want)
	}
}
