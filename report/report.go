package report

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/fluxgate/fluxgate/validate"
)

// Options tune a format. The zero value gives plain output.
type Options struct {
	// Color turns on ANSI colours in the text format. Set it only when the
	// output is a terminal.
	Color bool
	// ToolVersion is fluxgate's version, recorded by the sarif and junit
	// formats. Empty leaves it out.
	ToolVersion string
	// RulesDocURL is the base of the rule documentation links in sarif: a
	// rule's helpUri is RulesDocURL followed by its ID, for example
	// "https://github.com/OWNER/fluxgate/blob/main/docs/rules.md#". Empty
	// leaves helpUri out.
	RulesDocURL string
	// ChangedFiles lists the files, relative to the repository root with
	// forward slashes, that the change under review touches. The github
	// format annotates findings in them first within each level.
	ChangedFiles []string
	// PathPrefix goes before every finding's file in the github, sarif
	// and junit formats: the fleet directory relative to the directory CI
	// reads paths against (the Git work tree's root or GITHUB_WORKSPACE,
	// see workspace.FindPathBase), with forward slashes. Findings name
	// files from the fleet directory; with the prefix, annotations and
	// code scanning alerts land on the right files of a monorepo. Empty
	// leaves files as findings have them. Other formats ignore it.
	PathPrefix string
	// DirPrefix goes before every finding's file in the text and pretty
	// formats: the fleet directory relative to the current directory, with
	// forward slashes, so the paths printed open from where the command
	// ran. Empty leaves files as findings have them.
	DirPrefix string
	// SourceRootURI is that directory as an absolute file URI ending in
	// "/", recorded by the sarif format as originalUriBaseIds SRCROOT.
	// Empty leaves the URI out: SRCROOT is then resolved by the consumer
	// (GitHub resolves it against its checkout).
	SourceRootURI string
	// FailOn is the lowest severity that fails the run (--fail-on):
	// error (also when empty), warning, info or none. The junit format
	// makes a failure of the findings at or above it and writes the
	// others to system-out.
	FailOn string
	// AnnotationLimit caps the annotations the github format writes in all,
	// for a job that runs several fluxgate steps and shares GitHub's
	// 50-per-job budget between them. Zero or more than 50 means 50.
	AnnotationLimit int
}

// Writer writes a report in one format.
type Writer interface {
	// Write writes r to w. It returns an error only when r is nil or w
	// fails; findings in r are data, never errors.
	Write(w io.Writer, r *validate.Report) error
}

// ErrUnknownFormat is returned, wrapped, by New for a name that is not one
// of Formats.
var ErrUnknownFormat = errors.New("unknown output format")

// formats lists the formats in the order Formats returns them.
var formats = []struct {
	name string
	new  func(Options) Writer
}{
	{"text", func(o Options) Writer { return textWriter{color: o.Color, prefix: o.DirPrefix} }},
	{"pretty", func(o Options) Writer { return prettyWriter{textWriter{color: o.Color, prefix: o.DirPrefix}} }},
	{"json", func(Options) Writer { return jsonWriter{} }},
	{"junit", func(o Options) Writer {
		return junitWriter{version: o.ToolVersion, prefix: o.PathPrefix, failOn: failRank(o.FailOn)}
	}},
	{"sarif", func(o Options) Writer {
		return sarifWriter{version: o.ToolVersion, rulesDocURL: o.RulesDocURL, prefix: o.PathPrefix, rootURI: o.SourceRootURI}
	}},
	{"github", func(o Options) Writer { return newGitHubWriter(o) }},
}

// Formats returns the names New accepts: text, pretty, json, junit, sarif
// and github.
func Formats() []string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.name
	}
	return names
}

// New returns the Writer for a format name (see Formats). An unknown name
// gives an error that wraps ErrUnknownFormat and lists the valid names.
func New(format string, opts Options) (Writer, error) {
	for _, f := range formats {
		if f.name == format {
			return f.new(opts), nil
		}
	}
	return nil, fmt.Errorf("%w %q: valid formats are %s", ErrUnknownFormat, format, strings.Join(Formats(), ", "))
}

var errNilReport = errors.New("report: nil report")

// sorted returns a copy of the report's findings in validate.Sort order.
func sorted(r *validate.Report) []validate.Finding {
	fs := slices.Clone(r.Findings)
	validate.Sort(fs)
	return fs
}

// sortedUnits returns the report's findings as sorted does and its units
// by cluster, ID and declaration, each unit's finding indexes pointing
// into the sorted findings (an index out of range is dropped).
func sortedUnits(r *validate.Report) ([]validate.Finding, []validate.Unit) {
	fs := sorted(r)
	at := map[validate.Finding][]int{}
	for i, f := range fs {
		at[f] = append(at[f], i)
	}
	// Equal findings are interchangeable: the n-th of them in the report
	// goes to the n-th place they sort to.
	remap := make([]int, len(r.Findings))
	used := map[validate.Finding]int{}
	for i, f := range r.Findings {
		remap[i] = at[f][used[f]]
		used[f]++
	}
	units := make([]validate.Unit, 0, len(r.Units))
	for _, u := range r.Units {
		var idx []int
		for _, i := range u.Findings {
			if i >= 0 && i < len(remap) {
				idx = append(idx, remap[i])
			}
		}
		slices.Sort(idx)
		u.Findings = slices.Compact(idx)
		units = append(units, u)
	}
	slices.SortStableFunc(units, func(a, b validate.Unit) int {
		return cmp.Or(strings.Compare(a.Cluster, b.Cluster), strings.Compare(a.ID, b.ID), strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return fs, units
}

// rebase puts prefix (Options.PathPrefix) before the file of every
// finding that has one, in a copy of fs.
func rebase(fs []validate.Finding, prefix string) []validate.Finding {
	if prefix == "" {
		return fs
	}
	out := slices.Clone(fs)
	for i := range out {
		if out[i].File != "" {
			out[i].File = path.Join(prefix, out[i].File)
		}
	}
	return out
}

// bySeverity returns a copy of the findings, most serious first and in
// validate.Sort order within a severity.
func bySeverity(r *validate.Report) []validate.Finding {
	fs := sorted(r)
	slices.SortStableFunc(fs, func(a, b validate.Finding) int {
		return validate.SeverityRank(b.Severity) - validate.SeverityRank(a.Severity)
	})
	return fs
}

// byFile splits findings in validate.Sort order into runs of one file.
func byFile(fs []validate.Finding) [][]validate.Finding {
	var groups [][]validate.Finding
	for i := 0; i < len(fs); {
		j := i + 1
		for j < len(fs) && fs[j].File == fs[i].File {
			j++
		}
		groups = append(groups, fs[i:j])
		i = j
	}
	return groups
}

// location formats file:line, or the file alone when the line is unknown.
// It is empty when the file is.
func location(f validate.Finding) string {
	if f.Line > 0 && f.File != "" {
		return fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	return f.File
}

// objectMessage prefixes the message with the object, when there is one.
func objectMessage(f validate.Finding) string {
	if f.Object == "" {
		return f.Message
	}
	return f.Object + ": " + f.Message
}

// sortedKinds returns the skipped kinds in name order.
func sortedKinds(m map[string]int) []string {
	kinds := make([]string, 0, len(m))
	for k := range m {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

// plural formats a count with its noun, "1 error" or "2 errors".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// flush writes a format's finished output to w in one Write call.
func flush(w io.Writer, b *bytes.Buffer) error {
	_, err := w.Write(b.Bytes())
	return err
}
