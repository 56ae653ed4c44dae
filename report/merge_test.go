package report_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/report"
	"github.com/fluxgate/fluxgate/validate"
)

// shardsOf splits the fixture as three shards of a run would report it:
// the units between two shards, each with its findings, each other
// finding in one shard, the repository-level one (no object) in two, the
// summary counts split, and a third shard without findings.
func shardsOf(full *validate.Report) []*validate.Report {
	a := &validate.Report{Summary: validate.Summary{Units: 3, Objects: 30, SkippedKinds: map[string]int{"cert-manager.io/v1/Certificate": 5, "example.com/v1/Widget": 1}}}
	b := &validate.Report{Summary: validate.Summary{Units: 1, Objects: 7, SkippedKinds: map[string]int{"example.com/v1/Widget": 1}}}
	shardOf := func(unit int) *validate.Report {
		if unit%2 == 0 {
			return a
		}
		return b
	}
	owner := map[int]*validate.Report{}
	for k, u := range full.Units {
		for _, i := range u.Findings {
			owner[i] = shardOf(k)
		}
	}
	index := map[*validate.Report]map[int]int{a: {}, b: {}}
	add := func(r *validate.Report, i int) {
		index[r][i] = len(r.Findings)
		r.Findings = append(r.Findings, full.Findings[i])
	}
	for i, f := range full.Findings {
		switch {
		case owner[i] != nil:
			add(owner[i], i)
		case f.Object == "":
			add(a, i)
			add(b, i)
		case i%2 == 0:
			add(a, i)
		default:
			add(b, i)
		}
	}
	for k, u := range full.Units {
		r := shardOf(k)
		listed := u.Findings
		u.Findings = nil
		for _, i := range listed {
			u.Findings = append(u.Findings, index[r][i])
		}
		r.Units = append(r.Units, u)
	}
	c := &validate.Report{Summary: validate.Summary{}}
	for _, r := range []*validate.Report{a, b} {
		for _, f := range r.Findings {
			switch f.Severity {
			case validate.SeverityError:
				r.Summary.Errors++
			case validate.SeverityWarning:
				r.Summary.Warnings++
			}
		}
	}
	return []*validate.Report{b, c, a} // any order
}

func TestMergeEqualsUnshardedReport(t *testing.T) {
	for _, format := range report.MergeFormats() {
		t.Run(format, func(t *testing.T) {
			var inputs []report.Input
			for i, r := range shardsOf(fixture()) {
				inputs = append(inputs, report.Input{Name: format + string(rune('a'+i)), Data: write(t, format, testOptions, r)})
			}
			m, err := report.Merge(format, inputs)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := m.Write(&b, format, testOptions); err != nil {
				t.Fatal(err)
			}
			want := write(t, format, testOptions, fixture())
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("merged %s differs from the unsharded report (-want +got):\n%s", format, diff)
			}
			if format != "json" {
				golden(t, "merge."+map[string]string{"sarif": "sarif", "junit": "xml"}[format], b.Bytes())
			}
			if m.Report.Summary.Errors != 3 || m.Report.Summary.Warnings != 2 {
				t.Errorf("merged counts %+v, want 3 errors and 2 warnings", m.Report.Summary)
			}
		})
	}
}

func TestMergeJSONAddsUpSummary(t *testing.T) {
	var inputs []report.Input
	for _, r := range shardsOf(fixture()) {
		inputs = append(inputs, report.Input{Name: "shard.json", Data: write(t, "json", testOptions, r)})
	}
	m, err := report.Merge("json", inputs)
	if err != nil {
		t.Fatal(err)
	}
	want := fixture().Summary
	want.SkippedKinds = map[string]int{"cert-manager.io/v1/Certificate": 5, "example.com/v1/Widget": 2}
	if diff := cmp.Diff(want, m.Report.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if got := len(m.Report.Findings); got != len(fixture().Findings) {
		t.Errorf("%d findings, want %d (the one both shards reported once)", got, len(fixture().Findings))
	}
}

func TestMergeCleanShards(t *testing.T) {
	for _, format := range report.MergeFormats() {
		t.Run(format, func(t *testing.T) {
			inputs := []report.Input{
				{Name: "1", Data: write(t, format, testOptions, empty())},
				{Name: "2", Data: write(t, format, testOptions, &validate.Report{Summary: validate.Summary{Units: 0, Objects: 0}})},
			}
			m, err := report.Merge(format, inputs)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := m.Write(&b, format, testOptions); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(write(t, format, testOptions, empty())), b.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeRefusesWhatItCannotRead(t *testing.T) {
	jsonData := write(t, "json", testOptions, fixture())
	sarifData := write(t, "sarif", testOptions, fixture())
	tests := []struct {
		name    string
		format  string
		inputs  []report.Input
		wantErr string
		is      error
	}{
		{"mixed", "json", []report.Input{{"a.json", jsonData}, {"b.sarif", sarifData}}, "b.sarif: reports in different formats: a sarif report among json reports", report.ErrMixedFormats},
		{"text", "json", []report.Input{{"a.json", jsonData}, {"r.txt", write(t, "text", testOptions, fixture())}}, "r.txt: not a fluxgate json, sarif or junit report", nil},
		{"foreign json", "json", []report.Input{{"x.json", []byte(`{"findings":[],"summary":{},"extra":1}`)}}, "x.json: read json report", nil},
		{"truncated junit", "junit", []report.Input{{"t.xml", []byte("<testsuites name=\"fluxgate\"><testsuite>")}}, "t.xml: read junit report", nil},
		{"junit without the finding properties", "junit", []report.Input{{"old.xml", []byte(`<testsuites name="fluxgate"><testsuite name="a.yaml"><testcase name="x line 1" classname="schema-invalid"><failure message="m" type="schema-invalid">a.yaml:1: error: m [schema-invalid]</failure></testcase></testsuite></testsuites>`)}}, `old.xml: read junit report: testcase "x line 1" has no fluxgate.finding properties`, nil},
		{"json unit pointing past the findings", "json", []report.Input{{"u.json", []byte(`{"findings":[],"summary":{},"units":[{"id":"Kustomization/flux-system/apps","cluster":"c","findings":[3]}]}`)}}, "u.json: read json report: unit Kustomization/flux-system/apps of c lists finding 3 of 0", nil},
		{"other tool", "sarif", []report.Input{{"o.sarif", []byte(`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"kubeconform"}},"results":[]}]}`)}}, `o.sarif: a sarif run of "kubeconform"`, nil},
		{"unknown format", "text", []report.Input{{"a.json", jsonData}}, "unknown output format", report.ErrUnknownFormat},
		{"none", "json", nil, "no reports to merge", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := report.Merge(tt.format, tt.inputs)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
		})
	}
}

func TestMergedSARIFWritesOnlySARIF(t *testing.T) {
	m, err := report.Merge("sarif", []report.Input{{"a.sarif", write(t, "sarif", testOptions, fixture())}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Write(&bytes.Buffer{}, "text", testOptions); err == nil || !strings.Contains(err.Error(), "merge into sarif only") {
		t.Errorf("error %v", err)
	}
}

// TestMergeAddsUpSchemaMissing merges shards that each report a
// schema-missing finding for the kinds they hold, at their first object,
// with their own count: the merge keeps the first of them (by file, line,
// then object, as validate picks it) with the counts added up, which is
// what an unsharded run reports.
func TestMergeAddsUpSchemaMissing(t *testing.T) {
	missing := func(file string, line int, object, gvk string, n int) validate.Finding {
		return validate.Finding{Rule: validate.RuleSchemaMissing, Severity: validate.SeverityWarning, File: file, Line: line,
			Object: object, Message: validate.SchemaMissingMessage(gvk, n)}
	}
	other := validate.Finding{Rule: validate.RuleSchemaInvalid, Severity: validate.SeverityError, File: "b/app.yaml", Line: 9,
		Object: "Deployment/apps/web", Message: "/spec/replicas: got string, want integer"}
	report1 := func(fs ...validate.Finding) *validate.Report {
		r := &validate.Report{Findings: fs, Summary: validate.Summary{SkippedKinds: map[string]int{}}}
		for _, f := range fs {
			if f.Rule == validate.RuleSchemaMissing {
				gvk, n, _ := validate.ParseSchemaMissing(f.Message)
				r.Summary.SkippedKinds[gvk] += n
				r.Summary.Warnings++
			} else {
				r.Summary.Errors++
			}
		}
		return r
	}
	shards := []*validate.Report{
		report1(missing("d/widgets.yaml", 1, "Widget/d/w", "example.com/v1/Widget", 2), other),
		// One base rendered in two clusters: the same line, two objects.
		report1(missing("base/widget.yaml", 3, "Widget/ns/a-b", "example.com/v1/Widget", 3)),
		report1(missing("base/widget.yaml", 3, "Widget/ns/a", "example.com/v1/Widget", 1),
			missing("c/gadget.yaml", 1, "Gadget/c/g", "example.com/v1/Gadget", 4)),
	}
	want := report1(
		missing("base/widget.yaml", 3, "Widget/ns/a", "example.com/v1/Widget", 6),
		other,
		missing("c/gadget.yaml", 1, "Gadget/c/g", "example.com/v1/Gadget", 4),
	)
	validate.Sort(want.Findings)
	for _, format := range report.MergeFormats() {
		t.Run(format, func(t *testing.T) {
			var inputs []report.Input
			for i, r := range shards {
				inputs = append(inputs, report.Input{Name: format + string(rune('a'+i)), Data: write(t, format, testOptions, r)})
			}
			m, err := report.Merge(format, inputs)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := m.Write(&b, format, testOptions); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(write(t, format, testOptions, want)), b.String()); diff != "" {
				t.Errorf("merged %s differs from the unsharded report (-want +got):\n%s", format, diff)
			}
		})
	}
}

func TestParseSchemaMissing(t *testing.T) {
	msg := validate.SchemaMissingMessage("cert-manager.io/v1/Certificate", 12)
	gvk, n, ok := validate.ParseSchemaMissing("Certificate/a/b: " + msg)
	if gvk != "cert-manager.io/v1/Certificate" || n != 12 || !ok {
		t.Errorf("ParseSchemaMissing = %q, %d, %v", gvk, n, ok)
	}
	if got, want := validate.WithSchemaMissingCount("x: "+msg+" [schema-missing]", 7), "x: "+validate.SchemaMissingMessage("cert-manager.io/v1/Certificate", 7)+" [schema-missing]"; got != want {
		t.Errorf("WithSchemaMissingCount = %q, want %q", got, want)
	}
	if _, _, ok := validate.ParseSchemaMissing("something else"); ok {
		t.Error("ParseSchemaMissing reads a message without a count")
	}
}
