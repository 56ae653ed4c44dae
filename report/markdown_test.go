package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/report"
	"github.com/fluxgate/fluxgate/validate"
)

func markdown(t *testing.T, r *validate.Report, maxRows int) string {
	t.Helper()
	var b bytes.Buffer
	if err := report.Markdown(&b, r, maxRows); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestMarkdownRows(t *testing.T) {
	total := len(fixture().Findings)
	tests := []struct {
		name    string
		maxRows int
		rows    int
		more    string
	}{
		{name: "all", maxRows: -1, rows: total},
		{name: "more than there are", maxRows: 100, rows: total},
		{name: "cut", maxRows: 2, rows: 2, more: "4 more findings not shown"},
		{name: "one", maxRows: total - 1, rows: total - 1, more: "1 more finding not shown"},
		{name: "none", maxRows: 0, rows: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := markdown(t, fixture(), tc.maxRows)
			rows := 0
			for l := range strings.Lines(out) {
				if strings.HasPrefix(l, "| error |") || strings.HasPrefix(l, "| warning |") || strings.HasPrefix(l, "| info |") {
					rows++
				}
			}
			if rows != tc.rows {
				t.Errorf("%d finding rows, want %d:\n%s", rows, tc.rows, out)
			}
			if got := strings.Contains(out, "### Findings"); got != (tc.rows > 0) {
				t.Errorf("findings heading present = %v:\n%s", got, out)
			}
			if tc.more != "" && !strings.Contains(out, tc.more) {
				t.Errorf("no %q line:\n%s", tc.more, out)
			}
			if tc.more == "" && strings.Contains(out, "not shown") {
				t.Errorf("unexpected 'not shown' line:\n%s", out)
			}
		})
	}
}

// TestMarkdownTables checks that every table row has as many cells as its
// header, whatever the findings hold.
func TestMarkdownTables(t *testing.T) {
	r := fixture()
	r.Findings = append(r.Findings, validate.Finding{
		Rule: "a|b", Severity: validate.SeverityError, File: "x|`y`.yaml", Line: 1,
		Object: "ConfigMap/a|b/c", Message: "pipes | and `ticks` and\nlines\r\nand \\| escaped",
	})
	out := markdown(t, r, -1)
	cells := -1
	for l := range strings.Lines(out) {
		l = strings.TrimSuffix(l, "\n")
		if !strings.HasPrefix(l, "|") {
			cells = -1
			continue
		}
		n := cellCount(l)
		if cells == -1 {
			cells = n
		} else if n != cells {
			t.Errorf("row has %d cells, header %d: %s", n, cells, l)
		}
	}
	if strings.Contains(out, "${IMAGE_TAG}") {
		t.Errorf("a $ is left unescaped (GitHub reads it as math):\n%s", out)
	}
}

// cellCount counts the cells of a GFM table row: pipes not escaped by a
// backslash, less one.
func cellCount(row string) int {
	n := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n - 1
}

func TestMarkdownClean(t *testing.T) {
	out := markdown(t, empty(), 10)
	if !strings.Contains(out, "No errors or warnings in 2 units (9 objects).") {
		t.Errorf("no clean totals line:\n%s", out)
	}
	if strings.Contains(out, "|") {
		t.Errorf("a clean report has a table:\n%s", out)
	}
}
