package report_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/report"
	"github.com/fluxgate/fluxgate/validate"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// testOptions are the options the golden files are written with.
var testOptions = report.Options{
	ToolVersion: "v0.1.0-test",
	RulesDocURL: "https://github.com/fluxgate/fluxgate/blob/main/docs/rules.md#",
}

// fixture is a report that exercises every format's corners: escaping
// (% , : newline, a comma in a path, markup and XML specials, a pipe, a
// ${VAR}), an info finding, a line-0 finding, an unknown rule, two files
// with several findings, and skipped kinds. The findings are out of order
// on purpose.
func fixture() *validate.Report {
	return &validate.Report{
		Findings: []validate.Finding{
			{
				Rule: validate.RuleSecretNotEncrypted, Severity: validate.SeverityError,
				File: "clusters/prod,eu/secrets.yaml", Line: 3, Object: "Secret/flux-system/db",
				Message: "data.password: 100% plaintext, key: value\nencrypt it with: sops --encrypt",
			},
			{
				Rule: validate.RuleSchemaInvalid, Severity: validate.SeverityError,
				File: "apps/web/deploy.yaml", Line: 12, Object: "Deployment/apps/web",
				Message: `spec.template.spec.containers[0]: unknown field "portz" in <io.k8s.api.core.v1.Container> & friends`,
			},
			{
				Rule: validate.RuleDeprecatedAPI, Severity: validate.SeverityWarning,
				File: "apps/web/deploy.yaml", Line: 40, Object: "HorizontalPodAutoscaler/apps/web",
				Message: "autoscaling/v2beta2 is removed in Kubernetes 1.26; use autoscaling/v2",
			},
			{
				Rule: validate.RuleSourceUnavailable, Severity: validate.SeverityWarning,
				File: "clusters/prod/infra.yaml", Line: 0, Object: "Kustomization/flux-system/infra",
				Message: "sourceRef OCIRepository/flux-system/platform is a remote artifact; its units are not checked",
			},
			{
				Rule: validate.RuleYAMLInvalid, Severity: validate.SeverityInfo,
				File: "charts/web/templates/deploy.yaml", Line: 4,
				Message: "not valid YAML (templated file), ignored: yaml: line 4: did not find expected key",
			},
			{
				Rule: "x-custom-policy", Severity: validate.SeverityError,
				File: "apps/web/deploy.yaml", Line: 12, Object: "Deployment/apps/web",
				Message: "image ${IMAGE_TAG} resolves to *latest* | pin a digest",
			},
		},
		Summary: validate.Summary{
			Units: 4, Objects: 37, Errors: 3, Warnings: 2,
			SkippedKinds: map[string]int{"example.com/v1/Widget": 2, "cert-manager.io/v1/Certificate": 5},
		},
		// Out of order too; two units pass. The Secret and the templated
		// file are repository findings.
		Units: []validate.Unit{
			{ID: "Kustomization/flux-system/infra", Cluster: "clusters/prod", File: "clusters/prod/infra.yaml", Line: 1, Findings: []int{3}},
			{ID: "Kustomization/flux-system/apps", Cluster: "clusters/staging", File: "clusters/staging/apps.yaml", Line: 1},
			{ID: "Kustomization/flux-system/apps", Cluster: "clusters/prod", File: "clusters/prod/apps.yaml", Line: 8, Findings: []int{1, 2, 5}},
			{ID: "HelmRelease/apps/web", Cluster: "clusters/prod", File: "apps/web/release.yaml", Line: 1},
		},
	}
}

// empty is a clean report, as fluxgate gives for a tidy repository.
func empty() *validate.Report {
	return &validate.Report{Summary: validate.Summary{Units: 2, Objects: 9}}
}

// write runs one format over a report.
func write(t *testing.T, format string, opts report.Options, r *validate.Report) []byte {
	t.Helper()
	wr, err := report.New(format, opts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := wr.Write(&b, r); err != nil {
		t.Fatalf("write %s: %v", format, err)
	}
	return b.Bytes()
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got), run with -update if intended:\n%s", name, diff)
	}
}

func TestGolden(t *testing.T) {
	ext := map[string]string{"text": "txt", "pretty": "pretty", "json": "json", "junit": "xml", "sarif": "sarif", "github": "github"}
	reports := []struct {
		name string
		r    func() *validate.Report
	}{
		{name: "report", r: fixture},
		{name: "empty", r: empty},
	}
	for _, format := range report.Formats() {
		for _, rep := range reports {
			t.Run(format+"/"+rep.name, func(t *testing.T) {
				golden(t, rep.name+"."+ext[format], write(t, format, testOptions, rep.r()))
			})
		}
	}
	for _, format := range []string{"text", "pretty"} {
		t.Run(format+"/color", func(t *testing.T) {
			opts := testOptions
			opts.Color = true
			golden(t, "report-color."+ext[format], write(t, format, opts, fixture()))
		})
		t.Run(format+"/prefix", func(t *testing.T) {
			opts := testOptions
			opts.DirPrefix = "../fleet"
			golden(t, "report-prefix."+ext[format], write(t, format, opts, fixture()))
		})
	}
	for _, rep := range reports {
		t.Run("markdown/"+rep.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := report.Markdown(&b, rep.r(), 4); err != nil {
				t.Fatal(err)
			}
			golden(t, rep.name+".md", b.Bytes())
		})
	}
}

func TestNew(t *testing.T) {
	for _, name := range report.Formats() {
		if _, err := report.New(name, report.Options{}); err != nil {
			t.Errorf("New(%q): %v", name, err)
		}
	}
	for _, name := range []string{"", "xml", "JSON", "text "} {
		_, err := report.New(name, report.Options{})
		if !errors.Is(err, report.ErrUnknownFormat) {
			t.Errorf("New(%q) error = %v, want ErrUnknownFormat", name, err)
			continue
		}
		if !strings.Contains(err.Error(), "text, pretty, json, junit, sarif, github") {
			t.Errorf("New(%q) error %q does not list the formats", name, err)
		}
	}
}

func TestFormats(t *testing.T) {
	want := []string{"text", "pretty", "json", "junit", "sarif", "github"}
	if diff := cmp.Diff(want, report.Formats()); diff != "" {
		t.Errorf("Formats() (-want +got):\n%s", diff)
	}
}

func TestNilReport(t *testing.T) {
	for _, name := range report.Formats() {
		wr, err := report.New(name, report.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := wr.Write(&bytes.Buffer{}, nil); err == nil {
			t.Errorf("%s: Write(nil) did not fail", name)
		}
	}
	if err := report.Markdown(&bytes.Buffer{}, nil, 10); err == nil {
		t.Error("Markdown(nil) did not fail")
	}
}

// TestDoesNotMutate checks that writers sort a copy, not the caller's report.
func TestDoesNotMutate(t *testing.T) {
	r := fixture()
	for _, name := range report.Formats() {
		write(t, name, testOptions, r)
	}
	if err := report.Markdown(&bytes.Buffer{}, r, -1); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fixture(), r); diff != "" {
		t.Errorf("report changed (-want +got):\n%s", diff)
	}
}

type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestWriteError(t *testing.T) {
	for _, name := range report.Formats() {
		wr, err := report.New(name, report.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := wr.Write(failingWriter{}, fixture()); !errors.Is(err, errWrite) {
			t.Errorf("%s: Write error = %v, want %v", name, err, errWrite)
		}
	}
	if err := report.Markdown(failingWriter{}, fixture(), 10); !errors.Is(err, errWrite) {
		t.Errorf("Markdown error = %v, want %v", err, errWrite)
	}
}

func TestTextSanitizesControlCharacters(t *testing.T) {
	r := &validate.Report{Findings: []validate.Finding{{
		Rule: validate.RuleSchemaInvalid, Severity: validate.SeverityError,
		File: "a.yaml", Line: 1, Message: "bad value \x1b[2Jcleared\r",
	}}}
	got := string(write(t, "text", report.Options{}, r))
	if strings.Contains(got, "\x1b") || strings.Contains(got, "\r") {
		t.Errorf("text output holds raw control characters: %q", got)
	}
	if !strings.Contains(got, `bad value \x1b[2Jcleared\r`) {
		t.Errorf("text output does not show the escaped message: %q", got)
	}
}
