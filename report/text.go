package report

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/fluxgate/fluxgate/validate"
)

// ANSI escape sequences used by the text format.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// textWriter writes one line per finding, the form compilers and linters
// use, so editors, grep and problem matchers jump to it:
//
//	apps/web/deploy.yaml:12:1: error: Deployment/apps/web: spec.replicas: ... [schema-invalid]
//
//	1 error, 0 warnings in 3 units (40 objects)
//
// Findings carry no column; it is 1. A finding whose line is unknown is
// "file: severity: ...", one about no file "severity: ...". A message of
// several lines is joined into one with "; ". prefix goes before every
// file (Options.DirPrefix).
type textWriter struct {
	color  bool
	prefix string
}

var _ Writer = textWriter{}

func (t textWriter) Write(w io.Writer, r *validate.Report) error {
	if r == nil {
		return errNilReport
	}
	var b bytes.Buffer
	for _, f := range rebase(sorted(r), t.prefix) {
		switch {
		case f.File != "" && f.Line > 0:
			fmt.Fprintf(&b, "%s:%d:1: ", t.paint(ansiBold, clean(f.File)), f.Line)
		case f.File != "":
			fmt.Fprintf(&b, "%s: ", t.paint(ansiBold, clean(f.File)))
		}
		fmt.Fprintf(&b, "%s: %s [%s]\n", t.paint(severityStyle(f.Severity), clean(f.Severity)),
			oneLine(clean(objectMessage(f))), t.paint(ansiDim, clean(f.Rule)))
	}
	if len(r.Findings) > 0 {
		b.WriteByte('\n')
	}
	t.summary(&b, r.Summary)
	return flush(w, &b)
}

// prettyWriter writes findings grouped by file for a person at a terminal
// (-o pretty):
//
//	apps/web/deploy.yaml
//	  12 error   schema-invalid Deployment/apps/web: spec.replicas: ...
//
//	1 error, 0 warnings in 3 units (40 objects)
//	assumed: OCIRepository flux-system/flux-system taken as this work tree: ...
type prettyWriter struct {
	textWriter
}

var _ Writer = prettyWriter{}

func (t prettyWriter) Write(w io.Writer, r *validate.Report) error {
	if r == nil {
		return errNilReport
	}
	var b bytes.Buffer
	for _, group := range byFile(rebase(sorted(r), t.prefix)) {
		file := group[0].File
		if file == "" {
			file = "(no file)"
		}
		b.WriteString(t.paint(ansiBold, clean(file)))
		b.WriteByte('\n')
		width := 1
		for _, f := range group {
			width = max(width, len(lineText(f.Line)))
		}
		for _, f := range group {
			fmt.Fprintf(&b, "  %*s %s %s %s\n",
				width, lineText(f.Line),
				t.severity(f.Severity),
				t.paint(ansiDim, clean(f.Rule)),
				strings.ReplaceAll(clean(objectMessage(f)), "\n", "\n    "))
		}
		b.WriteByte('\n')
	}
	t.summary(&b, r.Summary)
	return flush(w, &b)
}

// summary writes the counts, the kinds without a schema and the
// assumptions the run took.
func (t textWriter) summary(b *bytes.Buffer, s validate.Summary) {
	fmt.Fprintf(b, "%s, %s in %s (%s)\n",
		plural(s.Errors, "error"), plural(s.Warnings, "warning"),
		plural(s.Units, "unit"), plural(s.Objects, "object"))
	if len(s.Checked) > 0 {
		skipped := 0
		for _, n := range s.SkippedKinds {
			skipped += n
		}
		var parts []string
		for _, src := range []struct{ key, name string }{
			{validate.SourceKubernetes, "Kubernetes catalog"},
			{validate.SourceFlux, "Flux catalog"},
			{validate.SourceEcosystem, "ecosystem catalog"},
			{validate.SourceCRD, "repository/chart CRDs"},
			{validate.SourceLocation, "--schema-location"},
		} {
			if n := s.Checked[src.key]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, src.name))
			}
		}
		fmt.Fprintf(b, "schema-checked: %s; %d skipped (no schema)\n", strings.Join(parts, ", "), skipped)
	}
	if len(s.SkippedKinds) > 0 {
		var kinds []string
		for _, k := range sortedKinds(s.SkippedKinds) {
			kinds = append(kinds, fmt.Sprintf("%s (%d)", k, s.SkippedKinds[k]))
		}
		fmt.Fprintf(b, "skipped kinds (no schema): %s\n", strings.Join(kinds, ", "))
	}
	if len(s.Unchecked) > 0 {
		var kinds []string
		for _, k := range sortedKinds(s.Unchecked) {
			kinds = append(kinds, fmt.Sprintf("%s (%d)", k, s.Unchecked[k]))
		}
		fmt.Fprintf(b, "not schema-checked (--skip-kinds): %s\n", strings.Join(kinds, ", "))
	}
	for _, a := range s.Assumed {
		fmt.Fprintf(b, "assumed: %s\n", clean(a))
	}
}

// oneLine joins the non-empty lines of s with "; ".
func oneLine(s string) string {
	if !strings.Contains(s, "\n") {
		return s
	}
	var parts []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// lineText is the line number, or "-" when it is unknown.
func lineText(line int) string {
	if line <= 0 {
		return "-"
	}
	return strconv.Itoa(line)
}

// severity pads the severity to the widest one ("warning") and colours it.
func (t textWriter) severity(s string) string {
	pad := strings.Repeat(" ", max(0, len(validate.SeverityWarning)-len(s)))
	return t.paint(severityStyle(s), clean(s)) + pad
}

// severityStyle is the colour of a severity; none for an unknown one.
func severityStyle(s string) string {
	switch s {
	case validate.SeverityError:
		return ansiRed
	case validate.SeverityWarning:
		return ansiYellow
	case validate.SeverityInfo:
		return ansiCyan
	}
	return ""
}

// clean makes text from the user's repository safe for a terminal: control
// characters other than newline and tab (an escape sequence in a YAML
// value, say) are written as Go escapes, so they cannot restyle or move the
// cursor.
func clean(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			q := strconv.QuoteRune(r) // '\x1b'
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isControl(r rune) bool {
	return r != '\n' && r != '\t' && unicode.IsControl(r)
}

// paint wraps s in an ANSI style when colour is on.
func (t textWriter) paint(style, s string) string {
	if !t.color || s == "" || style == "" {
		return s
	}
	return style + s + ansiReset
}
