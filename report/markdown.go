package report

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fluxgate/fluxgate/validate"
)

// Markdown writes a GitHub-flavoured Markdown job summary of the report,
// for $GITHUB_STEP_SUMMARY: the totals, a table of errors and warnings per
// rule, the first maxRows findings (most serious first) as a table of
// location, object and message, the assumptions the run took (which
// source is this work tree), and the kinds skipped for want of a schema. A negative maxRows lists every finding; zero leaves the findings
// table out. Text from the repository is escaped so that it cannot break
// the tables or inject markup.
func Markdown(w io.Writer, r *validate.Report, maxRows int) error {
	if r == nil {
		return errNilReport
	}
	var b bytes.Buffer
	s := r.Summary
	b.WriteString("## fluxgate validation\n\n")
	totals := "No errors or warnings"
	if s.Errors > 0 || s.Warnings > 0 {
		totals = fmt.Sprintf("**%s**, **%s**", plural(s.Errors, "error"), plural(s.Warnings, "warning"))
	}
	fmt.Fprintf(&b, "%s in %s (%s).\n\n", totals, plural(s.Units, "unit"), plural(s.Objects, "object"))

	if rules := ruleCounts(r.Findings); len(rules) > 0 {
		b.WriteString("| Rule | Errors | Warnings |\n| --- | ---: | ---: |\n")
		for _, rc := range rules {
			fmt.Fprintf(&b, "| %s | %d | %d |\n", mdCode(rc.rule), rc.errors, rc.warnings)
		}
		b.WriteString("\n")
	}

	fs := bySeverity(r)
	if len(fs) > 0 && maxRows != 0 {
		rows := fs
		if maxRows > 0 && len(rows) > maxRows {
			rows = rows[:maxRows]
		}
		b.WriteString("### Findings\n\n| Severity | Rule | Location | Object | Message |\n| --- | --- | --- | --- | --- |\n")
		for _, f := range rows {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n",
				mdText(f.Severity), mdCode(f.Rule), mdCode(location(f)), mdCode(f.Object), mdText(f.Message))
		}
		b.WriteString("\n")
		if more := len(fs) - len(rows); more > 0 {
			fmt.Fprintf(&b, "%s not shown.\n\n", plural(more, "more finding"))
		}
	}

	if len(s.Assumed) > 0 {
		b.WriteString("### Assumed\n\n")
		for _, a := range s.Assumed {
			fmt.Fprintf(&b, "- %s\n", mdText(a))
		}
		b.WriteString("\n")
	}

	if len(s.SkippedKinds) > 0 {
		b.WriteString("### Skipped kinds (no schema)\n\n| Kind | Objects |\n| --- | ---: |\n")
		for _, k := range sortedKinds(s.SkippedKinds) {
			fmt.Fprintf(&b, "| %s | %d |\n", mdCode(k), s.SkippedKinds[k])
		}
		b.WriteString("\n")
	}
	return flush(w, &b)
}

type ruleCount struct {
	rule             string
	errors, warnings int
}

// ruleCounts counts errors and warnings per rule, most errors first, then
// most warnings, then by rule ID. Rules with only info findings are left
// out.
func ruleCounts(fs []validate.Finding) []ruleCount {
	byRule := map[string]*ruleCount{}
	for _, f := range fs {
		if f.Severity != validate.SeverityError && f.Severity != validate.SeverityWarning {
			continue
		}
		rc := byRule[f.Rule]
		if rc == nil {
			rc = &ruleCount{rule: f.Rule}
			byRule[f.Rule] = rc
		}
		if f.Severity == validate.SeverityError {
			rc.errors++
		} else {
			rc.warnings++
		}
	}
	out := make([]ruleCount, 0, len(byRule))
	for _, rc := range byRule {
		out = append(out, *rc)
	}
	slices.SortFunc(out, func(a, b ruleCount) int {
		return cmp.Or(cmp.Compare(b.errors, a.errors), cmp.Compare(b.warnings, a.warnings), cmp.Compare(a.rule, b.rule))
	})
	return out
}

// mdEscaper backslash-escapes the characters that Markdown, GitHub's math
// ($) or a table cell would read as markup, and keeps a cell on one line.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "~", `\~`, "&", `\&`, "$", `\$`,
	"\r\n", "<br>", "\n", "<br>", "\r", "<br>",
)

// mdText escapes text for a table cell.
func mdText(s string) string {
	return mdEscaper.Replace(s)
}

// mdCode writes s as inline code in a table cell, or as escaped text when
// it cannot be (it holds a backquote or a line break). Empty stays empty.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	if strings.ContainsAny(s, "`\r\n") {
		return mdText(s)
	}
	// In a GFM table a pipe ends the cell even inside a code span.
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}
