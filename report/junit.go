package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"

	"github.com/fluxgate/fluxgate/validate"
)

// junitWriter writes JUnit XML: a testsuite per file, a testcase per
// finding, with a failure for each error and warning. Info findings are
// passing testcases that carry their message in system-out. A report
// without findings is a single passing testcase in a suite named fluxgate,
// so that dashboards show the run.
type junitWriter struct {
	version string
	prefix  string // Options.PathPrefix
}

var _ Writer = junitWriter{}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// junitTool names the suite of a clean run, and of findings without a file.
const junitTool = "fluxgate"

func (j junitWriter) Write(w io.Writer, r *validate.Report) error {
	if r == nil {
		return errNilReport
	}
	var props []junitProperty
	if j.version != "" {
		props = []junitProperty{{Name: "fluxgate.version", Value: j.version}}
	}
	out := junitSuites{Name: junitTool}
	for _, group := range byFile(rebase(sorted(r), j.prefix)) {
		suite := junitSuite{Name: group[0].File, Properties: props}
		if suite.Name == "" {
			suite.Name = junitTool
		}
		for _, f := range group {
			c := junitCase{Name: junitCaseName(f), Classname: f.Rule}
			if validate.SeverityRank(f.Severity) >= validate.SeverityRank(validate.SeverityWarning) {
				c.Failure = &junitFailure{Message: f.Message, Type: f.Rule, Text: describe(f)}
				suite.Failures++
			} else {
				c.SystemOut = describe(f)
			}
			suite.Cases = append(suite.Cases, c)
			suite.Tests++
		}
		out.Suites = append(out.Suites, suite)
	}
	if len(out.Suites) == 0 {
		out.Suites = []junitSuite{{
			Name: junitTool, Tests: 1, Properties: props,
			Cases: []junitCase{{Name: "validate", Classname: junitTool}},
		}}
	}
	for _, s := range out.Suites {
		out.Tests += s.Tests
		out.Failures += s.Failures
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	b.WriteByte('\n')
	return flush(w, &b)
}

// junitCaseName is "object line N", leaving out what is unknown.
func junitCaseName(f validate.Finding) string {
	name := f.Object
	if name == "" {
		name = f.Rule
	}
	if f.Line > 0 {
		name = fmt.Sprintf("%s line %d", name, f.Line)
	}
	return name
}

// describe is the one-line form of a finding,
// "file:line: severity: object: message [rule]".
func describe(f validate.Finding) string {
	loc := location(f)
	if loc == "" {
		loc = "."
	}
	return fmt.Sprintf("%s: %s: %s [%s]", loc, f.Severity, objectMessage(f), f.Rule)
}
