package report_test

import (
	"encoding/xml"
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
	Failure   *xFailure `xml:"failure"`
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

func TestJUnit(t *testing.T) {
	doc := parseJUnit(t, write(t, "junit", testOptions, fixture()))
	checkCounts(t, doc)

	var names []string
	for _, s := range doc.Suites {
		names = append(names, s.Name)
	}
	wantNames := []string{"apps/web/deploy.yaml", "charts/web/templates/deploy.yaml", "clusters/prod,eu/secrets.yaml", "clusters/prod/infra.yaml"}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("suite names (-want +got):\n%s", diff)
	}
	if doc.Tests != 6 || doc.Failures != 5 {
		t.Errorf("tests=%d failures=%d, want 6 and 5 (the info finding passes)", doc.Tests, doc.Failures)
	}
	first := doc.Suites[0].Cases[0]
	want := xTestcase{
		Name: "Deployment/apps/web line 12", Classname: validate.RuleSchemaInvalid,
		Failure: &xFailure{
			Message: `spec.template.spec.containers[0]: unknown field "portz" in <io.k8s.api.core.v1.Container> & friends`,
			Type:    validate.RuleSchemaInvalid,
			Text:    `apps/web/deploy.yaml:12: error: Deployment/apps/web: spec.template.spec.containers[0]: unknown field "portz" in <io.k8s.api.core.v1.Container> & friends [schema-invalid]`,
		},
	}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("first testcase (-want +got):\n%s", diff)
	}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil && c.Failure.Type != c.Classname {
				t.Errorf("%s: failure type %q, classname %q", c.Name, c.Failure.Type, c.Classname)
			}
		}
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
