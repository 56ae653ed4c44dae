package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/fluxgate/fluxgate/diff"
)

// CommentLimit is the most characters GitHub accepts in one pull request
// comment.
const CommentLimit = 65536

// DiffText writes a diff report for a terminal: per unit its counts and
// errors, then each changed object with its unified diff, coloured when
// color is set.
func DiffText(w io.Writer, r *diff.Report, color bool) error {
	if r == nil {
		return errNilReport
	}
	t := textWriter{color: color}
	var b bytes.Buffer
	for _, u := range r.Units {
		fmt.Fprintf(&b, "%s %s\n", t.paint(ansiBold, clean(u.Cluster)+" » "+clean(u.Unit)), t.paint(ansiDim, unitCounts(u)))
		if u.Unchanged {
			fmt.Fprintf(&b, "  %s\n", t.paint(ansiDim, "fails the same way in base and head"))
		}
		for _, e := range u.Errors {
			fmt.Fprintf(&b, "  %s %s\n", t.paint(ansiRed, diff.StatusUnrendered+":"), clean(e))
		}
		for _, o := range u.Objects {
			fmt.Fprintf(&b, "  %s %s\n", actionSign(o.Action), clean(objectTitle(o)))
			for _, l := range strings.SplitAfter(o.Diff, "\n") {
				if l == "" {
					continue
				}
				l = clean(strings.TrimSuffix(l, "\n"))
				switch {
				case strings.HasPrefix(l, "+++") || strings.HasPrefix(l, "---"):
					l = t.paint(ansiBold, l)
				case strings.HasPrefix(l, "@@"):
					l = t.paint(ansiCyan, l)
				case strings.HasPrefix(l, "+"):
					l = t.paint(ansiGreen, l)
				case strings.HasPrefix(l, "-"):
					l = t.paint(ansiRed, l)
				}
				b.WriteString("    " + l + "\n")
			}
		}
		b.WriteByte('\n')
	}
	b.WriteString(diffTotals(r) + "\n")
	return flush(w, &b)
}

// DiffJSON writes a diff report as indented JSON.
func DiffJSON(w io.Writer, r *diff.Report) error {
	if r == nil {
		return errNilReport
	}
	out := *r
	if out.Units == nil {
		out.Units = []diff.UnitChange{}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// DiffMarkdownOptions tune DiffMarkdown.
type DiffMarkdownOptions struct {
	// Marker is put first, as is (a hidden HTML comment that identifies
	// the pull request comment); empty puts nothing.
	Marker string
	// Limit is the most bytes the Markdown may have; zero means no limit.
	// When the whole report does not fit, the summary table is kept with
	// as many units' details as fit, and a note says what was left out.
	Limit int
	// FullReport names where the whole report can be found (an artifact),
	// for the note about what was left out.
	FullReport string
}

// DiffMarkdown writes a diff report as a pull request comment: a title and
// totals, a summary table (cluster, unit, added, changed, removed, moved),
// and one collapsed <details> block per unit with its objects' diffs. It
// reports whether units were left out to fit opts.Limit.
func DiffMarkdown(w io.Writer, r *diff.Report, opts DiffMarkdownOptions) (truncated bool, err error) {
	if r == nil {
		return false, errNilReport
	}
	var head bytes.Buffer
	if opts.Marker != "" {
		head.WriteString(opts.Marker + "\n")
	}
	head.WriteString("## fluxgate diff\n\n")
	if r.Base != "" || r.Head != "" {
		fmt.Fprintf(&head, "From %s to %s: ", mdCode(r.Base), mdCode(r.Head))
	}
	head.WriteString(diffTotals(r) + "\n\n")
	if len(r.Units) > 0 {
		head.WriteString("| Cluster | Unit | Added | Changed | Removed | Moved |\n| --- | --- | ---: | ---: | ---: | ---: |\n")
		for _, u := range r.Units {
			name := mdCode(u.Unit)
			if u.Unrendered() {
				name += " ⚠️ " + diff.StatusUnrendered + " (" + u.FailedIn + ")"
			}
			fmt.Fprintf(&head, "| %s | %s | %d | %d | %d | %d |\n", mdCode(u.Cluster), name, u.Added, u.Changed, u.Removed, u.Moved)
		}
		head.WriteString("\n")
	}
	details := make([][]byte, len(r.Units))
	for i, u := range r.Units {
		details[i] = unitDetails(u)
	}
	// Keep every unit that fits, in order, leaving room for the note.
	var body bytes.Buffer
	shown := 0
	for i, d := range details {
		if opts.Limit > 0 && head.Len()+body.Len()+len(d)+len(cutNote(len(r.Units)-i, opts.FullReport)) > opts.Limit {
			break
		}
		body.Write(d)
		shown++
	}
	var out bytes.Buffer
	out.Write(head.Bytes())
	out.Write(body.Bytes())
	if cut := len(r.Units) - shown; cut > 0 {
		note := cutNote(cut, opts.FullReport)
		if opts.Limit > 0 && out.Len()+len(note) > opts.Limit {
			// Even the table does not fit: keep the lines of it that do.
			keep := max(0, opts.Limit-len(note))
			keep = bytes.LastIndexByte(out.Bytes()[:keep], '\n') + 1
			out.Truncate(keep)
		}
		out.WriteString(note)
		truncated = true
	}
	_, err = w.Write(out.Bytes())
	return truncated, err
}

func cutNote(n int, full string) string {
	s := fmt.Sprintf("\n> [!NOTE]\n> %s not shown: the comment would exceed GitHub's size limit.", plural(n, "unit"))
	if full != "" {
		s += " The full report is in " + mdCode(full) + "."
	}
	return s + "\n"
}

func unitDetails(u diff.UnitChange) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<details><summary>%s » %s (%s)</summary>\n\n", htmlText(u.Cluster), htmlText(u.Unit), unitCounts(u))
	if u.File != "" {
		fmt.Fprintf(&b, "Declared in %s.\n\n", mdCode(lineRef(u.File, u.Line)))
	}
	if u.Unchanged {
		b.WriteString("Fails the same way in base and head.\n\n")
	}
	for _, e := range u.Errors {
		fmt.Fprintf(&b, "- ⚠️ %s: %s\n", diff.StatusUnrendered, mdText(e))
	}
	if len(u.Errors) > 0 {
		b.WriteString("\n")
	}
	for _, o := range u.Objects {
		fmt.Fprintf(&b, "**%s** %s", string(o.Action), mdCode(objectTitle(o)))
		if o.File != "" {
			fmt.Fprintf(&b, " from %s", mdCode(lineRef(o.File, o.Line)))
		}
		b.WriteString("\n\n")
		if o.Diff != "" {
			fence := codeFence(o.Diff)
			fmt.Fprintf(&b, "%sdiff\n%s", fence, o.Diff)
			if !strings.HasSuffix(o.Diff, "\n") {
				b.WriteString("\n")
			}
			b.WriteString(fence + "\n\n")
		}
	}
	b.WriteString("</details>\n\n")
	return b.Bytes()
}

// codeFence returns a backquote fence longer than any run of backquotes
// in s, so the content cannot close it.
func codeFence(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// htmlText escapes text for an HTML element's content.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func lineRef(file string, line int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}

func objectTitle(o diff.ObjectChange) string {
	s := o.Ref()
	if o.BaseName != "" {
		s += " (was " + o.BaseName + ")"
	}
	if o.FromUnit != "" {
		s += " (from " + o.FromUnit + ")"
	}
	return s
}

func actionSign(a diff.Action) string {
	switch a {
	case diff.Added:
		return "+"
	case diff.Removed:
		return "-"
	case diff.Moved:
		return ">"
	}
	return "~"
}

func unitCounts(u diff.UnitChange) string {
	s := fmt.Sprintf("+%d ~%d -%d", u.Added, u.Changed, u.Removed)
	if u.Moved > 0 {
		s += fmt.Sprintf(" >%d", u.Moved)
	}
	return s
}

func diffTotals(r *diff.Report) string {
	failed := r.Unrendered()
	unrendered := ""
	if failed > 0 {
		unrendered = fmt.Sprintf("%s could not render", plural(failed, "unit"))
	}
	if !r.HasChanges() {
		if failed > 0 {
			return "No changes in the units that rendered; " + unrendered + "."
		}
		return "No changes."
	}
	a, c, rm, m := r.Totals()
	clusters := map[string]bool{}
	for _, u := range r.Units {
		if u.HasChanges() {
			clusters[u.Cluster] = true
		}
	}
	s := fmt.Sprintf("%s in %s: %d added, %d changed, %d removed", plural(r.ChangedUnits(), "unit"), plural(len(clusters), "cluster"), a, c, rm)
	if m > 0 {
		s += fmt.Sprintf(", %d moved", m)
	}
	if failed > 0 {
		s += "; " + unrendered
	}
	return s + "."
}
