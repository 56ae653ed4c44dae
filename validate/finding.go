package validate

import (
	"sort"

	"github.com/fluxgate/fluxgate/fleet"
)

// Severities of findings, most serious first.
const (
	SeverityError   = string(fleet.SeverityError)
	SeverityWarning = string(fleet.SeverityWarning)
	SeverityInfo    = string(fleet.SeverityInfo)
)

// Finding is one thing wrong in the repository, located at its source.
type Finding struct {
	// Rule is a stable rule ID (see Rules).
	Rule string `json:"rule"`
	// Severity is error, warning or info.
	Severity string `json:"severity"`
	// File is relative to the repository root, with forward slashes.
	File string `json:"file"`
	// Line is 1-based: the document start, or the exact field when known.
	Line int `json:"line"`
	// Object names the object as Kind/namespace/name, when there is one.
	Object string `json:"object"`
	// Message says what is wrong; it never holds a secret value.
	Message string `json:"message"`
}

// Summary counts what a validation saw.
type Summary struct {
	Units    int `json:"units"`
	Objects  int `json:"objects"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	// SkippedKinds counts, per apiVersion/kind, objects that had no schema.
	SkippedKinds map[string]int `json:"skippedKinds"`
	// Checked counts the schema-checked objects by where their schema
	// came from: SourceKubernetes, SourceFlux, SourceEcosystem, SourceCRD
	// or SourceLocation.
	Checked map[string]int `json:"checked,omitempty"`
	// Unchecked counts, per apiVersion/kind, the objects not schema-checked
	// because Options.SkipKinds named their kind.
	Unchecked map[string]int `json:"unchecked,omitempty"`
	// Assumed lists the assumptions the run took about the repository
	// (fleet.Repo.Assumed): which source was taken as this work tree, and
	// why.
	Assumed []string `json:"assumed,omitempty"`
}

// Schema sources counted in Summary.Checked.
const (
	// SourceKubernetes is the embedded catalog's Kubernetes API.
	SourceKubernetes = "kubernetes"
	// SourceFlux is the embedded catalog's Flux CRDs (or the Flux
	// Operator's distribution of them).
	SourceFlux = "flux"
	// SourceEcosystem is the embedded ecosystem CRD catalog.
	SourceEcosystem = "ecosystem"
	// SourceCRD is a CustomResourceDefinition of the repository or of a
	// rendered chart.
	SourceCRD = "crd"
	// SourceLocation is a --schema-location.
	SourceLocation = "schema-location"
)

// Report is the result of a validation.
type Report struct {
	Findings []Finding `json:"findings"`
	Summary  Summary   `json:"summary"`
	// Units are the units checked (a shard's own), in render order, each
	// with the findings about it. A finding about no unit (a repository
	// file, .sops.yaml, a YAML error) is in no unit's list.
	Units []Unit `json:"units,omitempty"`
}

// Unit is a unit the validation checked.
type Unit struct {
	// ID is the unit's ID: Kind/namespace/name of the Flux Kustomization
	// or HelmRelease, or Overlay/<path>.
	ID      string `json:"id"`
	Cluster string `json:"cluster"`
	// File and Line locate the unit's declaration.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Findings are indexes into Report.Findings, in order: the unit's own
	// problems and the findings about the objects it renders. A finding
	// about an object that several units render is in each of their
	// lists. schema-missing, which counts the objects of a kind in every
	// unit, is in none.
	Findings []int `json:"findings,omitempty"`
}

// FromProblem turns a load or render problem into a finding.
func FromProblem(p fleet.Problem) Finding {
	return Finding{Rule: p.Rule, Severity: string(p.Severity), File: p.File, Line: p.Line, Object: p.Object, Message: p.Message}
}

// SeverityRank orders severities: error 3, warning 2, info 1, other 0.
func SeverityRank(s string) int {
	switch s {
	case SeverityError:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// Sort orders findings by file, line, rule, object and message, so that
// every output is deterministic.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool { return less(fs[i], fs[j]) })
}

// less is the order of Sort.
func less(a, b Finding) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	if a.Rule != b.Rule {
		return a.Rule < b.Rule
	}
	if a.Object != b.Object {
		return a.Object < b.Object
	}
	return a.Message < b.Message
}
