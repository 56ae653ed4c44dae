package report

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/fluxgate/fluxgate/validate"
)

// jsonWriter writes the report as one JSON object, indented two spaces:
//
//	{"findings":[{"rule","severity","file","line","object","message"}],
//	 "summary":{"units","objects","errors","warnings","skippedKinds","checked","assumed"},
//	 "units":[{"id","cluster","file","line","findings":[0,2]}]}
//
// "assumed" (the assumptions the run took about which source is this work
// tree) is left out when there are none. units lists the units checked, by
// cluster and ID, each with the indexes in findings of the findings about
// it; it is left out when the report lists no unit.
//
// Its own types pin the keys, so that a field added to validate.Report
// does not change the format.
type jsonWriter struct{}

var _ Writer = jsonWriter{}

type jsonReport struct {
	Findings []jsonFinding     `json:"findings"`
	Summary  jsonSummary       `json:"summary"`
	Units    []jsonCheckedUnit `json:"units,omitempty"`
}

type jsonCheckedUnit struct {
	ID       string `json:"id"`
	Cluster  string `json:"cluster"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Findings []int  `json:"findings,omitempty"`
}

type jsonFinding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Object   string `json:"object"`
	Message  string `json:"message"`
}

type jsonSummary struct {
	Units        int            `json:"units"`
	Objects      int            `json:"objects"`
	Errors       int            `json:"errors"`
	Warnings     int            `json:"warnings"`
	SkippedKinds map[string]int `json:"skippedKinds"`
	Checked      map[string]int `json:"checked,omitempty"`
	Unchecked    map[string]int `json:"unchecked,omitempty"`
	Assumed      []string       `json:"assumed,omitempty"`
}

func (jsonWriter) Write(w io.Writer, r *validate.Report) error {
	if r == nil {
		return errNilReport
	}
	out := jsonReport{
		Findings: []jsonFinding{}, // [] rather than null
		Summary: jsonSummary{
			Units:        r.Summary.Units,
			Objects:      r.Summary.Objects,
			Errors:       r.Summary.Errors,
			Warnings:     r.Summary.Warnings,
			SkippedKinds: map[string]int{}, // {} rather than null
			Checked:      r.Summary.Checked,
			Unchecked:    r.Summary.Unchecked,
			Assumed:      r.Summary.Assumed,
		},
	}
	fs, units := sortedUnits(r)
	for _, f := range fs {
		out.Findings = append(out.Findings, jsonFinding(f))
	}
	for _, u := range units {
		out.Units = append(out.Units, jsonCheckedUnit(u))
	}
	for k, n := range r.Summary.SkippedKinds {
		out.Summary.SkippedKinds[k] = n
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil { // Encode ends with a newline
		return err
	}
	return flush(w, &b)
}
