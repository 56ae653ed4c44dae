package fleet

import "fmt"

// Severity ranks a Problem.
type Severity string

// Severities, from most to least serious.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Rule IDs produced while loading and rendering. They are stable: users
// reference them in ignore lists.
const (
	RuleYAMLInvalid           = "yaml-invalid"
	RuleRenderFailed          = "render-failed"
	RuleSourceNotFound        = "source-not-found"
	RuleSourceUnavailable     = "source-unavailable"
	RulePathNotFound          = "path-not-found"
	RuleDependencyNotFound    = "dependency-not-found"
	RuleDependencyCycle       = "dependency-cycle"
	RuleSubstitutionUndefined = "substitution-undefined"
	RuleFileTooLarge          = "file-too-large"
	RulePathEscape            = "path-escape"
	// RuleSymlinkIgnored is a symbolic link in the tree: source-controller
	// leaves links out of the artifacts it builds, so Flux never sees it.
	RuleSymlinkIgnored = "symlink-ignored"
	// RuleChartUnavailable is a Helm chart that cannot be fetched (no
	// network, --offline with an empty cache, an unsupported source).
	RuleChartUnavailable = "chart-unavailable"
	// RuleSOPSDecryptFailed is a SOPS file a build reads that the given
	// keys cannot open: kustomize-controller fails the whole build.
	RuleSOPSDecryptFailed = "sops-decrypt-failed"
)

// Problem is something wrong in the user's repository, found while loading or
// rendering it. It is data, not an error: the caller decides how to report it.
type Problem struct {
	Rule     string
	Severity Severity
	// File is relative to the repository root, with forward slashes.
	File string
	// Line is 1-based; 0 when unknown.
	Line int
	// Object names the object as Kind/namespace/name (or Kind/name).
	Object  string
	Message string
}

// String formats the problem as "file:line: object: message [rule]".
func (p Problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	if loc == "" {
		loc = "."
	}
	obj := ""
	if p.Object != "" {
		obj = p.Object + ": "
	}
	return fmt.Sprintf("%s: %s: %s%s [%s]", loc, p.Severity, obj, p.Message, p.Rule)
}

// DedupeProblems drops repeated problems in place, keeping the first of
// each in order (several automations over one path report the same setter
// problem, say).
func DedupeProblems(ps []Problem) []Problem {
	seen := make(map[Problem]bool, len(ps))
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
