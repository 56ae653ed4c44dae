package report

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/fluxgate/fluxgate/validate"
)

// annotationsPerLevel is how many annotations of one level (error, warning,
// notice) GitHub Actions shows for a step; it drops the rest silently.
const annotationsPerLevel = 10

// githubWriter writes GitHub Actions workflow commands, one annotation per
// finding:
//
//	::error file=apps/web.yaml,line=12,title=schema-invalid::Deployment/apps/web: ...
//
// Errors come first, then warnings, then info findings as notices, each in
// validate.Sort order. It keeps to GitHub's budget of ten annotations per
// level and step, and when it has to leave findings out it says so in a
// last notice that points at the job summary (see Markdown). That notice
// counts against the notice budget, so info findings get one slot fewer
// when anything is left out.
type githubWriter struct{}

var _ Writer = githubWriter{}

func (githubWriter) Write(w io.Writer, r *validate.Report) error {
	if r == nil {
		return errNilReport
	}
	fs := bySeverity(r)
	total := map[string]int{}
	for _, f := range fs {
		total[githubLevel(f.Severity)]++
	}
	budget := map[string]int{"error": annotationsPerLevel, "warning": annotationsPerLevel, "notice": annotationsPerLevel}
	if total["error"] > annotationsPerLevel || total["warning"] > annotationsPerLevel || total["notice"] > annotationsPerLevel {
		budget["notice"]-- // room for the "more findings" notice
	}
	var b bytes.Buffer
	cut := 0
	for _, f := range fs {
		level := githubLevel(f.Severity)
		if budget[level] == 0 {
			cut++
			continue
		}
		budget[level]--
		b.WriteString(annotation(level, f))
		b.WriteByte('\n')
	}
	if cut > 0 {
		fmt.Fprintf(&b, "::notice::%s not annotated; see the job summary\n", plural(cut, "more finding"))
	}
	return flush(w, &b)
}

// githubLevel maps a severity to a workflow command: error, warning or
// notice.
func githubLevel(severity string) string {
	switch severity {
	case validate.SeverityError:
		return "error"
	case validate.SeverityWarning:
		return "warning"
	}
	return "notice"
}

// annotation formats one workflow command for a finding. The file and line
// are left out when unknown; the title is the rule ID.
func annotation(level string, f validate.Finding) string {
	var props []string
	if f.File != "" {
		props = append(props, "file="+escapeProperty(f.File))
		if f.Line > 0 {
			props = append(props, "line="+strconv.Itoa(f.Line))
		}
	}
	if f.Rule != "" {
		props = append(props, "title="+escapeProperty(f.Rule))
	}
	cmd := "::" + level
	if len(props) > 0 {
		cmd += " " + strings.Join(props, ",")
	}
	return cmd + "::" + escapeData(objectMessage(f))
}

// escapeData escapes a workflow command's message as the Actions toolkit
// does: %, CR and LF.
func escapeData(s string) string {
	return dataEscaper.Replace(s)
}

// escapeProperty escapes a workflow command's property value as the
// Actions toolkit does: %, CR, LF, colon and comma.
func escapeProperty(s string) string {
	return propertyEscaper.Replace(s)
}

var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)
