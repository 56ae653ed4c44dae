package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/fluxgate/fluxgate/validate"
)

// junitWriter writes JUnit XML with one testcase per unit checked,
// passing ones included, in a testsuite per cluster: the unit's findings
// at or above the failure threshold (Options.FailOn) make its failure,
// the others go to system-out. Findings about no unit (repository files,
// .sops.yaml, YAML errors) get a testcase per file in the testsuite
// "repository". A report without units or findings is a single passing
// testcase in a suite named fluxgate, so that dashboards show the run.
//
// Each testcase also carries its unit and findings as properties
// (fluxgate.unit, fluxgate.finding: JSON), which report merge reads back.
type junitWriter struct {
	version string
	prefix  string // Options.PathPrefix
	failOn  int    // the severity rank of Options.FailOn
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
	Name       string           `xml:"name,attr"`
	Classname  string           `xml:"classname,attr"`
	File       string           `xml:"file,attr,omitempty"`
	Line       int              `xml:"line,attr,omitempty"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Failure    *junitFailure    `xml:"failure,omitempty"`
	SystemOut  string           `xml:"system-out,omitempty"`
}

// junitProperties are a testcase's properties (a pointer, so that a
// testcase without any has no properties element).
type junitProperties struct {
	Items []junitProperty `xml:"property"`
}

func (c *junitCase) addProperty(p junitProperty) {
	if c.Properties == nil {
		c.Properties = &junitProperties{}
	}
	c.Properties.Items = append(c.Properties.Items, p)
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

const (
	// junitTool names the testsuites, and the suite of a clean run.
	junitTool = "fluxgate"
	// junitRepository names the suite of the findings about no unit.
	junitRepository = "repository"
	// The testcase properties report merge reads.
	junitUnitProperty    = "fluxgate.unit"
	junitFindingProperty = "fluxgate.finding"
)

// failRank is the severity rank at which findings fail: error when empty
// or unknown, none above every severity.
func failRank(failOn string) int {
	switch failOn {
	case "none":
		return validate.SeverityRank(validate.SeverityError) + 1
	case validate.SeverityWarning, validate.SeverityInfo:
		return validate.SeverityRank(failOn)
	}
	return validate.SeverityRank(validate.SeverityError)
}

func (j junitWriter) Write(w io.Writer, r *validate.Report) error {
	if r == nil {
		return errNilReport
	}
	out, err := j.suites(r)
	if err != nil {
		return err
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

func (j junitWriter) suites(r *validate.Report) (*junitSuites, error) {
	var props []junitProperty
	if j.version != "" {
		props = []junitProperty{{Name: "fluxgate.version", Value: j.version}}
	}
	fs, units := sortedUnits(r)
	fs = rebase(fs, j.prefix)
	out := &junitSuites{Name: junitTool}
	inUnit := make([]bool, len(fs))
	byCluster := map[string]int{}
	for _, u := range units {
		if u.File != "" && j.prefix != "" {
			u.File = rebase([]validate.Finding{{File: u.File}}, j.prefix)[0].File
		}
		var about []validate.Finding
		for _, i := range u.Findings {
			inUnit[i] = true
			about = append(about, fs[i])
		}
		c, err := j.testcase(junitUnitName(u), u.Cluster, u.File, u.Line, about)
		if err != nil {
			return nil, err
		}
		unit, err := compactJSON(jsonCheckedUnit{ID: u.ID, Cluster: u.Cluster, File: u.File, Line: u.Line})
		if err != nil {
			return nil, err
		}
		rest := c.Properties
		c.Properties = nil
		c.addProperty(junitProperty{Name: junitUnitProperty, Value: unit})
		if rest != nil {
			c.Properties.Items = append(c.Properties.Items, rest.Items...)
		}
		k, ok := byCluster[u.Cluster]
		if !ok {
			k = len(out.Suites)
			byCluster[u.Cluster] = k
			name := u.Cluster
			if name == "" {
				name = junitTool
			}
			out.Suites = append(out.Suites, junitSuite{Name: name, Properties: props})
		}
		out.Suites[k].Cases = append(out.Suites[k].Cases, c)
	}
	var rest []validate.Finding
	for i, f := range fs {
		if !inUnit[i] {
			rest = append(rest, f)
		}
	}
	if len(rest) > 0 {
		suite := junitSuite{Name: junitRepository, Properties: props}
		for _, group := range byFile(rest) {
			name := group[0].File
			if name == "" {
				name = junitRepository
			}
			c, err := j.testcase(name, junitRepository, group[0].File, 0, group)
			if err != nil {
				return nil, err
			}
			suite.Cases = append(suite.Cases, c)
		}
		out.Suites = append(out.Suites, suite)
	}
	if len(out.Suites) == 0 {
		out.Suites = []junitSuite{{Name: junitTool, Properties: props, Cases: []junitCase{{Name: "validate", Classname: junitTool}}}}
	}
	for i := range out.Suites {
		s := &out.Suites[i]
		s.Tests = len(s.Cases)
		for _, c := range s.Cases {
			if c.Failure != nil {
				s.Failures++
			}
		}
		out.Tests += s.Tests
		out.Failures += s.Failures
	}
	return out, nil
}

// testcase is one unit's or one file's testcase: a failure listing the
// findings at or above the threshold, system-out the others.
func (j junitWriter) testcase(name, class, file string, line int, fs []validate.Finding) (junitCase, error) {
	c := junitCase{Name: name, Classname: class, File: file, Line: line}
	var failing, passing []string
	var first validate.Finding
	rules := map[string]bool{}
	for _, f := range fs {
		data, err := compactJSON(jsonFinding(f))
		if err != nil {
			return c, err
		}
		c.addProperty(junitProperty{Name: junitFindingProperty, Value: data})
		if validate.SeverityRank(f.Severity) >= j.failOn {
			if len(failing) == 0 {
				first = f
			}
			failing = append(failing, describe(f))
			rules[f.Rule] = true
		} else {
			passing = append(passing, describe(f))
		}
	}
	if len(failing) > 0 {
		c.Failure = &junitFailure{Message: first.Message, Type: first.Rule, Text: strings.Join(failing, "\n")}
		if len(failing) > 1 {
			c.Failure.Message = fmt.Sprintf("%s at or above %s; first: %s", plural(len(failing), "finding"), severityName(j.failOn), objectMessage(first))
		}
		if len(rules) > 1 {
			c.Failure.Type = junitTool
		}
	}
	c.SystemOut = strings.Join(passing, "\n")
	return c, nil
}

// compactJSON is v as one line of JSON, HTML characters as they are.
func compactJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// severityName is the severity of a rank.
func severityName(rank int) string {
	for _, s := range []string{validate.SeverityError, validate.SeverityWarning, validate.SeverityInfo} {
		if validate.SeverityRank(s) == rank {
			return s
		}
	}
	return validate.SeverityError
}

// junitUnitName is "Kind namespace/name (cluster)", or "Overlay path
// (cluster)" for a plain overlay.
func junitUnitName(u validate.Unit) string {
	name := strings.Replace(u.ID, "/", " ", 1)
	if u.Cluster != "" {
		name += " (" + u.Cluster + ")"
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
