package report_test

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/validate"
)

// Test-side JUnit types, written apart from the package's so that the test
// reads the XML as a consumer would.
type xTestsuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []xTestsuite `xml:"testsuite"`
}

type xTestsuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []xTestcase `xml:"testcase"`
}

type xTestcase struct {
	Name      string    `xml:"name,attr"`
	Classname string    `xml:"classname,attr"`
	File      string    `xml:"file,attr"`
	Failure   *xFailure `xml:"failure"`
	SystemOut string    `xml:"system-out"`
}

type xFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func parseJUnit(t *testing.T, out []byte) xTestsuites {
	t.Helper()
	var doc xTestsuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("junit output is not valid XML: %v\n%s", err, out)
	}
	return doc
}

// checkCounts checks that every tests and failures attribute matches the
// elements it counts.
func checkCounts(t *testing.T, doc xTestsuites) {
	t.Helper()
	tests, failures := 0, 0
	for _, s := range doc.Suites {
		f := 0
		for _, c := range s.Cases {
			if c.Failure != nil {
				f++
			}
		}
		if s.Tests != len(s.Cases) || s.Failures != f {
			t.Errorf("suite %s: tests=%d failures=%d, has %d testcases and %d failures", s.Name, s.Tests, s.Failures, len(s.Cases), f)
		}
		tests += len(s.Cases)
		failures += f
	}
	if doc.Tests != tests || doc.Failures != failures {
		t.Errorf("testsuites: tests=%d failures=%d, has %d testcases and %d failures", doc.Tests, doc.Failures, tests, failures)
	}
}

// cases returns the testcases of a JUnit document by name.
func cases(doc xTestsuites) map[string]xTestcase {
	m := map[string]xTestcase{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			m[c.Name] = c
		}
	}
	return m
}

func TestJUnit(t *testing.T) {
	doc := parseJUnit(t, write(t, "junit", testOptions, fixture()))
	checkCounts(t, doc)

	var names []string
	for _, s := range doc.Suites {
		names = append(names, s.Name)
	}
	// A suite per cluster, then the repository's findings.
	if diff := cmp.Diff([]string{"clusters/prod", "clusters/staging", "repository"}, names); diff != "" {
		t.Errorf("suite names (-want +got):\n%s", diff)
	}
	// Four units, passing ones included, and two repository files; at
	// --fail-on error only the errors fail.
	if doc.Tests != 6 || doc.Failures != 2 {
		t.Errorf("tests=%d failures=%d, want 6 and 2", doc.Tests, doc.Failures)
	}
	got := cases(doc)
	apps := got["Kustomization flux-system/apps (clusters/prod)"]
	want := xTestcase{
		Name: "Kustomization flux-system/apps (clusters/prod)", Classname: "clusters/prod", File: "clusters/prod/apps.yaml",
		Failure: &xFailure{
			Message: `2 findings at or above error; first: Deployment/apps/web: spec.template.spec.containers[0]: unknown field "portz" in <io.k8s.api.core.v1.Container> & friends`,
			Type:    "fluxgate",
			Text: `apps/web/deploy.yaml:12: error: Deployment/apps/web: spec.template.spec.containers[0]: unknown field "portz" in <io.k8s.api.core.v1.Container> & friends [schema-invalid]` + "\n" +
				`apps/web/deploy.yaml:12: error: Deployment/apps/web: image ${IMAGE_TAG} resolves to *latest* | pin a digest [x-custom-policy]`,
		},
		SystemOut: "apps/web/deploy.yaml:40: warning: HorizontalPodAutoscaler/apps/web: autoscaling/v2beta2 is removed in Kubernetes 1.26; use autoscaling/v2 [deprecated-api]",
	}
	if diff := cmp.Diff(want, apps); diff != "" {
		t.Errorf("apps testcase (-want +got):\n%s", diff)
	}
	for _, name := range []string{"HelmRelease apps/web (clusters/prod)", "Kustomization flux-system/apps (clusters/staging)"} {
		if c, ok := got[name]; !ok || c.Failure != nil || c.SystemOut != "" {
			t.Errorf("passing unit %s: %+v (listed %v)", name, c, ok)
		}
	}
	if c := got["Kustomization flux-system/infra (clusters/prod)"]; c.Failure != nil || !strings.Contains(c.SystemOut, "[source-unavailable]") {
		t.Errorf("a warning below --fail-on is no failure: %+v", c)
	}
	if c := got["clusters/prod,eu/secrets.yaml"]; c.Classname != "repository" || c.Failure == nil || c.Failure.Type != validate.RuleSecretNotEncrypted {
		t.Errorf("repository finding: %+v", c)
	}
}

func TestJUnitFailOn(t *testing.T) {
	for _, tc := range []struct {
		failOn   string
		failures int
		failing  []string
	}{
		{failOn: "", failures: 2, failing: []string{"Kustomization flux-system/apps (clusters/prod)", "clusters/prod,eu/secrets.yaml"}},
		{failOn: "error", failures: 2, failing: []string{"Kustomization flux-system/apps (clusters/prod)", "clusters/prod,eu/secrets.yaml"}},
		{failOn: "warning", failures: 3, failing: []string{"Kustomization flux-system/apps (clusters/prod)", "Kustomization flux-system/infra (clusters/prod)", "clusters/prod,eu/secrets.yaml"}},
		{failOn: "info", failures: 4, failing: []string{"Kustomization flux-system/apps (clusters/prod)", "Kustomization flux-system/infra (clusters/prod)", "charts/web/templates/deploy.yaml", "clusters/prod,eu/secrets.yaml"}},
		{failOn: "none", failures: 0},
	} {
		t.Run(tc.failOn, func(t *testing.T) {
			opts := testOptions
			opts.FailOn = tc.failOn
			doc := parseJUnit(t, write(t, "junit", opts, fixture()))
			checkCounts(t, doc)
			var failing []string
			for _, s := range doc.Suites {
				for _, c := range s.Cases {
					if c.Failure != nil {
						failing = append(failing, c.Name)
					}
				}
			}
			if doc.Tests != 6 || doc.Failures != tc.failures || !cmp.Equal(tc.failing, failing) {
				t.Errorf("tests=%d failures=%d failing %v, want 6, %d, %v", doc.Tests, doc.Failures, failing, tc.failures, tc.failing)
			}
			// Nothing is lost: what does not fail is in system-out.
			out := string(write(t, "junit", opts, fixture()))
			for _, f := range fixture().Findings {
				if !strings.Contains(out, "["+f.Rule+"]</") && !strings.Contains(out, "["+f.Rule+"]&#xA;") {
					t.Errorf("finding %s is in no failure or system-out", f.Rule)
				}
			}
		})
	}
}

func TestJUnitNoFindings(t *testing.T) {
	doc := parseJUnit(t, write(t, "junit", testOptions, empty()))
	checkCounts(t, doc)
	if len(doc.Suites) != 1 || doc.Suites[0].Name != "fluxgate" || doc.Tests != 1 || doc.Failures != 0 {
		t.Errorf("want one passing fluxgate suite with one testcase, got %+v", doc)
	}
}

// TestJUnitControlCharacters checks that characters XML 1.0 cannot hold do
// not make the document unreadable.
func TestJUnitControlCharacters(t *testing.T) {
	r := &validate.Report{Findings: []validate.Finding{{
		Rule: validate.RuleYAMLInvalid, Severity: validate.SeverityError,
		File: "a\x01.yaml", Line: 2, Object: "ConfigMap/x/\x1b", Message: "bad \x00 byte\nand \"quotes\" & <tags>",
	}}}
	doc := parseJUnit(t, write(t, "junit", testOptions, r))
	checkCounts(t, doc)
	if got := doc.Suites[0].Cases[0].Failure.Message; got != "bad \uFFFD byte\nand \"quotes\" & <tags>" {
		t.Errorf("failure message = %q", got)
	}
}
