package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/fluxgate/fluxgate/validate"
)

// Input is one report to merge: its name (a file path, for messages) and
// its bytes.
type Input struct {
	Name string
	Data []byte
}

// ErrMixedFormats is returned, wrapped, by Merge when the inputs are not
// all in the format asked for.
var ErrMixedFormats = errors.New("reports in different formats")

// DetectFormat tells which format wrote a report: json, sarif or junit. It
// is empty for anything else.
func DetectFormat(data []byte) string {
	b := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(b, []byte("<")):
		if bytes.Contains(b, []byte("<testsuites")) {
			return "junit"
		}
	case bytes.HasPrefix(b, []byte("{")):
		var probe map[string]json.RawMessage
		if json.Unmarshal(b, &probe) != nil {
			return ""
		}
		if _, ok := probe["runs"]; ok {
			return "sarif"
		}
		_, f := probe["findings"]
		_, s := probe["summary"]
		if f && s {
			return "json"
		}
	}
	return ""
}

// MergeFormats lists the formats Merge reads: json, sarif and junit.
func MergeFormats() []string { return []string{"json", "sarif", "junit"} }

// Merged is the result of merging reports.
type Merged struct {
	// Format is the inputs' format.
	Format string
	// Report holds the merged findings. For json inputs it is the whole
	// report, summary and units included, and any format can write it;
	// for sarif inputs the findings are read back from the results (a
	// finding without a line has line 1) and the summary counts only
	// errors and warnings; for junit inputs the units and findings are
	// read back from the testcases' properties and the summary counts
	// errors, warnings and units.
	Report *validate.Report

	sarif *sarifLog
}

// Merge combines reports that the shards of a sharded validate wrote in
// one format (see validate.Validate): findings reported by several shards
// are kept once, everything is sorted as an unsharded run sorts it, and
// the summary counts are added up. Inputs may come in any order. An input
// that is not a report of the format is an error naming it.
func Merge(format string, inputs []Input) (*Merged, error) {
	if !slices.Contains(MergeFormats(), format) {
		return nil, fmt.Errorf("%w %q: reports merge from %s", ErrUnknownFormat, format, strings.Join(MergeFormats(), ", "))
	}
	if len(inputs) == 0 {
		return nil, errors.New("no reports to merge")
	}
	for _, in := range inputs {
		got := DetectFormat(in.Data)
		if got == "" {
			return nil, fmt.Errorf("%s: not a fluxgate json, sarif or junit report", in.Name)
		}
		if got != format {
			return nil, fmt.Errorf("%s: %w: a %s report among %s reports", in.Name, ErrMixedFormats, got, format)
		}
	}
	switch format {
	case "json":
		return mergeJSON(inputs)
	case "sarif":
		return mergeSARIF(inputs)
	default:
		return mergeJUnit(inputs)
	}
}

// Write writes the merged report. A merge of json reports writes any
// format with opts (see New); sarif and junit merges write their own
// format only.
func (m *Merged) Write(w io.Writer, format string, opts Options) error {
	var b bytes.Buffer
	switch {
	case m.Format == "sarif" && format == "sarif":
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(m.sarif); err != nil {
			return err
		}
	case m.Format == "junit" && format == "junit":
		// The shards' paths already hold the prefix.
		opts.PathPrefix = ""
		rw, err := New(format, opts)
		if err != nil {
			return err
		}
		return rw.Write(w, m.Report)
	case m.Format == "json":
		rw, err := New(format, opts)
		if err != nil {
			return err
		}
		return rw.Write(w, m.Report)
	default:
		return fmt.Errorf("%s reports merge into %s only; merge the shards' json reports to write %s", m.Format, m.Format, format)
	}
	return flush(w, &b)
}

func mergeJSON(inputs []Input) (*Merged, error) {
	var reps []*validate.Report
	for _, in := range inputs {
		var r jsonReport
		dec := json.NewDecoder(bytes.NewReader(in.Data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("%s: read json report: %w", in.Name, err)
		}
		rep := &validate.Report{Summary: validate.Summary{
			Units: r.Summary.Units, Objects: r.Summary.Objects, SkippedKinds: r.Summary.SkippedKinds,
			Checked: r.Summary.Checked, Unchecked: r.Summary.Unchecked, Assumed: r.Summary.Assumed,
		}}
		for _, f := range r.Findings {
			rep.Findings = append(rep.Findings, validate.Finding(f))
		}
		for _, u := range r.Units {
			for _, i := range u.Findings {
				if i < 0 || i >= len(r.Findings) {
					return nil, fmt.Errorf("%s: read json report: unit %s of %s lists finding %d of %d", in.Name, u.ID, u.Cluster, i, len(r.Findings))
				}
			}
			rep.Units = append(rep.Units, validate.Unit(u))
		}
		reps = append(reps, rep)
	}
	return &Merged{Format: "json", Report: combine(reps)}, nil
}

// combine merges the reports of shards: the summary counts added up, the
// units of all, schema-missing findings of one kind combined at the first
// (see combineSchemaMissing), findings sorted and kept once, and each
// unit's finding indexes pointing into the result.
func combine(reps []*validate.Report) *validate.Report {
	out := &validate.Report{Findings: []validate.Finding{}, Summary: validate.Summary{SkippedKinds: map[string]int{}}}
	var all []validate.Finding
	var owners [][]int // for each of all, the units (in out.Units) that list it
	for _, r := range reps {
		base := len(all)
		all = append(all, r.Findings...)
		owners = append(owners, make([][]int, len(r.Findings))...)
		for _, u := range r.Units {
			k := len(out.Units)
			listed := u.Findings
			u.Findings = nil
			out.Units = append(out.Units, u)
			for _, i := range listed {
				if i >= 0 && i < len(r.Findings) {
					owners[base+i] = append(owners[base+i], k)
				}
			}
		}
		out.Summary.Units += r.Summary.Units
		out.Summary.Objects += r.Summary.Objects
		for k, n := range r.Summary.SkippedKinds {
			out.Summary.SkippedKinds[k] += n
		}
		for k, n := range r.Summary.Checked {
			if out.Summary.Checked == nil {
				out.Summary.Checked = map[string]int{}
			}
			out.Summary.Checked[k] += n
		}
		for k, n := range r.Summary.Unchecked {
			if out.Summary.Unchecked == nil {
				out.Summary.Unchecked = map[string]int{}
			}
			out.Summary.Unchecked[k] += n
		}
		for _, a := range r.Summary.Assumed {
			if !slices.Contains(out.Summary.Assumed, a) {
				out.Summary.Assumed = append(out.Summary.Assumed, a) // each shard takes the same
			}
		}
	}
	keep, drop := combineSchemaMissing(len(all), func(i int) missingAt {
		f := all[i]
		return missingAt{f.Rule, f.File, f.Line, f.Object, f.Message}
	})
	for i, n := range keep {
		all[i].Message = validate.WithSchemaMissingCount(all[i].Message, n)
	}
	out.Findings = sortUnique(deleteIndexes(slices.Clone(all), drop))
	at := make(map[validate.Finding]int, len(out.Findings))
	for i, f := range out.Findings {
		at[f] = i
	}
	for i, f := range all {
		if drop[i] {
			continue
		}
		for _, k := range owners[i] {
			out.Units[k].Findings = append(out.Units[k].Findings, at[f])
		}
	}
	for k := range out.Units {
		slices.Sort(out.Units[k].Findings)
		out.Units[k].Findings = slices.Compact(out.Units[k].Findings)
	}
	countSeverities(out)
	return out
}

// sortUnique sorts findings in validate.Sort order and drops repeats.
func sortUnique(fs []validate.Finding) []validate.Finding {
	validate.Sort(fs)
	return slices.Compact(fs)
}

// countSeverities sets the summary's error and warning counts from the
// findings.
func countSeverities(r *validate.Report) {
	r.Summary.Errors, r.Summary.Warnings = 0, 0
	for _, f := range r.Findings {
		switch f.Severity {
		case validate.SeverityError:
			r.Summary.Errors++
		case validate.SeverityWarning:
			r.Summary.Warnings++
		}
	}
}

func mergeSARIF(inputs []Input) (*Merged, error) {
	var driver *sarifDriver
	var bases map[string]sarifBase
	rules := map[string]sarifRule{}
	var results []sarifResult
	for _, in := range inputs {
		var l sarifLog
		if err := json.Unmarshal(in.Data, &l); err != nil {
			return nil, fmt.Errorf("%s: read sarif report: %w", in.Name, err)
		}
		if l.Version != sarifVersion {
			return nil, fmt.Errorf("%s: sarif version %q, want %s", in.Name, l.Version, sarifVersion)
		}
		for _, run := range l.Runs {
			if run.Tool.Driver.Name != "fluxgate" {
				return nil, fmt.Errorf("%s: a sarif run of %q, not of fluxgate", in.Name, run.Tool.Driver.Name)
			}
			if driver == nil {
				d := run.Tool.Driver
				driver = &d
				bases = run.OriginalURIBaseIDs
			} else if run.Tool.Driver.Version != driver.Version {
				return nil, fmt.Errorf("%s: written by fluxgate %s, another report by %s", in.Name, run.Tool.Driver.Version, driver.Version)
			}
			for _, r := range run.Tool.Driver.Rules {
				if _, ok := rules[r.ID]; !ok {
					rules[r.ID] = r
				}
			}
			for _, res := range run.Results {
				if len(res.Locations) != 1 {
					return nil, fmt.Errorf("%s: a result of rule %s with %d locations, want 1", in.Name, res.RuleID, len(res.Locations))
				}
				results = append(results, res)
			}
		}
	}
	// The order the writer uses: validate.Sort over file, line, rule and
	// the "object: message" text.
	key := func(r sarifResult) (string, int) {
		p := r.Locations[0].PhysicalLocation
		file, err := url.PathUnescape(strings.TrimPrefix(p.ArtifactLocation.URI, "./"))
		if err != nil || file == "." {
			file = p.ArtifactLocation.URI
		}
		return file, p.Region.StartLine
	}
	// A result's text is "object: message".
	split := func(r sarifResult) (object, msg string) {
		if obj, m, ok := strings.Cut(r.Message.Text, ": no schema for "); ok {
			return obj, "no schema for " + m
		}
		return "", r.Message.Text
	}
	keep, drop := combineSchemaMissing(len(results), func(i int) missingAt {
		file, line := key(results[i])
		obj, msg := split(results[i])
		return missingAt{results[i].RuleID, file, line, obj, msg}
	})
	for i, n := range keep {
		r := &results[i]
		r.Message.Text = validate.WithSchemaMissingCount(r.Message.Text, n)
		// The fingerprint covers the message, count included.
		file, _ := key(*r)
		obj, msg := split(*r)
		fp := sarifFingerprintOf(validate.Finding{Rule: r.RuleID, File: file, Object: obj, Message: msg})
		r.PartialFingerprints = map[string]string{sarifFingerprint: fp + ":1"}
	}
	results = deleteIndexes(results, drop)
	slices.SortStableFunc(results, func(a, b sarifResult) int {
		fa, la := key(a)
		fb, lb := key(b)
		return cmp.Or(strings.Compare(fa, fb), cmp.Compare(la, lb), strings.Compare(a.RuleID, b.RuleID), strings.Compare(a.Message.Text, b.Message.Text))
	})
	results = slices.CompactFunc(results, func(a, b sarifResult) bool {
		return a.RuleID == b.RuleID && a.Level == b.Level && a.Message == b.Message &&
			a.Locations[0] == b.Locations[0] && fingerprintBase(a) == fingerprintBase(b)
	})
	// Rules: validate.Rules' order, then the others by first result.
	driver.Rules = nil
	index := map[string]int{}
	addRule := func(id string) {
		if r, ok := rules[id]; ok {
			if _, dup := index[id]; !dup {
				index[id] = len(driver.Rules)
				driver.Rules = append(driver.Rules, r)
			}
		}
	}
	for _, ri := range validate.Rules {
		addRule(ri.ID)
	}
	for _, r := range results {
		addRule(r.RuleID)
	}
	seen := map[string]int{}
	rep := &validate.Report{Findings: []validate.Finding{}}
	for i := range results {
		r := &results[i]
		r.RuleIndex = index[r.RuleID]
		fp := fingerprintBase(*r)
		seen[fp]++
		r.PartialFingerprints = map[string]string{sarifFingerprint: fp + ":" + strconv.Itoa(seen[fp])}
		file, line := key(*r)
		rep.Findings = append(rep.Findings, validate.Finding{Rule: r.RuleID, Severity: severityOfLevel(r.Level), File: file, Line: line, Message: r.Message.Text})
	}
	if results == nil {
		results = []sarifResult{}
	}
	countSeverities(rep)
	log := &sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{{Tool: sarifTool{Driver: *driver}, OriginalURIBaseIDs: bases, Results: results}}}
	return &Merged{Format: "sarif", Report: rep, sarif: log}, nil
}

// fingerprintBase is a result's fingerprint without its occurrence count.
func fingerprintBase(r sarifResult) string {
	fp, _, _ := strings.Cut(r.PartialFingerprints[sarifFingerprint], ":")
	return fp
}

// severityOfLevel maps a SARIF level back to a severity.
func severityOfLevel(level string) string {
	switch level {
	case "error":
		return validate.SeverityError
	case "warning":
		return validate.SeverityWarning
	}
	return validate.SeverityInfo
}

func mergeJUnit(inputs []Input) (*Merged, error) {
	var reps []*validate.Report
	for _, in := range inputs {
		var s junitSuites
		if err := xml.Unmarshal(in.Data, &s); err != nil {
			return nil, fmt.Errorf("%s: read junit report: %w", in.Name, err)
		}
		if s.Name != junitTool {
			return nil, fmt.Errorf("%s: junit testsuites %q, not fluxgate's", in.Name, s.Name)
		}
		rep, err := junitReport(s)
		if err != nil {
			return nil, fmt.Errorf("%s: read junit report: %w", in.Name, err)
		}
		reps = append(reps, rep)
	}
	m := combine(reps)
	// The units are counted as listed; objects and skipped kinds are not
	// in a JUnit report.
	m.Summary.Units = len(m.Units)
	return &Merged{Format: "junit", Report: m}, nil
}

// junitReport reads back the units and findings the junit format wrote
// as testcase properties.
func junitReport(s junitSuites) (*validate.Report, error) {
	rep := &validate.Report{}
	for _, suite := range s.Suites {
		for _, c := range suite.Cases {
			var unit *validate.Unit
			var findings []int
			var props []junitProperty
			if c.Properties != nil {
				props = c.Properties.Items
			}
			for _, p := range props {
				switch p.Name {
				case junitUnitProperty:
					var u jsonCheckedUnit
					if err := json.Unmarshal([]byte(p.Value), &u); err != nil {
						return nil, fmt.Errorf("testcase %q: %s: %w", c.Name, p.Name, err)
					}
					unit = &validate.Unit{ID: u.ID, Cluster: u.Cluster, File: u.File, Line: u.Line}
				case junitFindingProperty:
					var f jsonFinding
					if err := json.Unmarshal([]byte(p.Value), &f); err != nil {
						return nil, fmt.Errorf("testcase %q: %s: %w", c.Name, p.Name, err)
					}
					findings = append(findings, len(rep.Findings))
					rep.Findings = append(rep.Findings, validate.Finding(f))
				}
			}
			if (c.Failure != nil || c.SystemOut != "") && len(findings) == 0 {
				return nil, fmt.Errorf("testcase %q has no %s properties (written by an older fluxgate?); merge the shards' json reports instead", c.Name, junitFindingProperty)
			}
			if unit != nil {
				unit.Findings = findings
				rep.Units = append(rep.Units, *unit)
			}
		}
	}
	return rep, nil
}

// missingAt is what combineSchemaMissing reads of a finding.
type missingAt struct {
	rule, file      string
	line            int
	object, message string
}

// combineSchemaMissing finds, among n findings given by at, the
// schema-missing findings that several shards reported for one
// apiVersion/kind, each at its first object with its own count (see
// validate.Validate). Per kind, it keeps the finding at the first
// location (file, line, then object), which is the one an unsharded run
// reports: keep maps its index to the sum of the counts; drop holds the
// indexes of the others.
func combineSchemaMissing(n int, at func(i int) missingAt) (keep map[int]int, drop map[int]bool) {
	type found struct {
		missingAt
		i, total int
	}
	first := map[string]*found{}
	keep, drop = map[int]int{}, map[int]bool{}
	for i := range n {
		m := at(i)
		if m.rule != validate.RuleSchemaMissing {
			continue
		}
		gvk, count, ok := validate.ParseSchemaMissing(m.message)
		if !ok {
			continue
		}
		f, seen := first[gvk]
		if !seen {
			first[gvk] = &found{missingAt: m, i: i, total: count}
			continue
		}
		f.total += count
		if cmp.Or(strings.Compare(m.file, f.file), cmp.Compare(m.line, f.line), strings.Compare(m.object, f.object), strings.Compare(m.message, f.message)) < 0 {
			drop[f.i] = true
			f.missingAt, f.i = m, i
		} else {
			drop[i] = true
		}
	}
	for _, f := range first {
		keep[f.i] = f.total
	}
	return keep, drop
}

// deleteIndexes returns s without the elements at the indexes in drop.
func deleteIndexes[T any](s []T, drop map[int]bool) []T {
	if len(drop) == 0 {
		return s
	}
	out := s[:0]
	for i, e := range s {
		if !drop[i] {
			out = append(out, e)
		}
	}
	return out
}
