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
//	 "summary":{"units","objects","errors","warnings","skippedKinds","assumed"}}
//
// "assumed" (the assumptions the run took about which source is this work
// tree) is left out when there are none.
//
// Its own types pin the keys, so that a field added to validate.Report
// does not change the format.
type jsonWriter struct{}

var _ Writer = jsonWriter{}

type jsonReport struct {
	Findings []jsonFinding `json:"findings"`
	Summary  jsonSummary   `json:"summary"`
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
			Assumed:      r.Summary.Assumed,
		},
	}
	for _, f := range sorted(r) {
		out.Findings = append(out.Findings, jsonFinding{
			Rule: f.Rule, Severity: f.Severity, File: f.File,
			Line: f.Line, Object: f.Object, Message: f.Message,
		})
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
