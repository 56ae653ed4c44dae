package report

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/fluxgate/fluxgate/validate"
)

// annotationsPerLevel is how many annotations of one level (error, warning,
// notice) GitHub Actions shows for a step; it drops the rest silently.
const annotationsPerLevel = 10

// annotationsPerJob is how many annotations GitHub Actions shows for a job
// in all. With ten per level a step writes at most 30, so the cap binds
// only when it is lowered with Options.AnnotationLimit, for jobs that run
// several fluxgate steps.
const annotationsPerJob = 50

// githubWriter writes GitHub Actions workflow commands, one annotation per
// finding:
//
//	::error file=apps/web.yaml,line=12,title=schema-invalid::Deployment/apps/web: ...
//
// Errors come first, then warnings, then info findings as notices; within
// a level, findings in the files a pull request changes (Options.ChangedFiles)
// come first, then validate.Sort order. It keeps to GitHub's budget of ten
// annotations per level and step and of Options.AnnotationLimit (at most
// 50, GitHub's per-job limit) in all, and when it has to leave findings out
// it says so in a last notice that points at the job summary (see Markdown
// and MarkdownAnnotationNote). That notice counts against the budgets, so
// info findings get one slot fewer when anything is left out.
type githubWriter struct {
	changed map[string]bool
	limit   int
	prefix  string // Options.PathPrefix
}

var _ Writer = githubWriter{}

func newGitHubWriter(o Options) githubWriter {
	w := githubWriter{limit: annotationsPerJob, prefix: o.PathPrefix}
	if o.AnnotationLimit > 0 && o.AnnotationLimit < annotationsPerJob {
		w.limit = o.AnnotationLimit
	}
	if len(o.ChangedFiles) > 0 {
		w.changed = map[string]bool{}
		for _, f := range o.ChangedFiles {
			w.changed[f] = true
		}
	}
	return w
}

// plan picks the findings to annotate, in order, and counts the rest.
func (g githubWriter) plan(r *validate.Report) (chosen []validate.Finding, cut int) {
	fs := bySeverity(r)
	if g.changed != nil {
		slices.SortStableFunc(fs, func(a, b validate.Finding) int {
			if d := validate.SeverityRank(b.Severity) - validate.SeverityRank(a.Severity); d != 0 {
				return d
			}
			return cmpBool(g.changed[b.File], g.changed[a.File])
		})
	}
	limit := g.limit
	if limit <= 0 {
		limit = annotationsPerJob
	}
	total := map[string]int{}
	for _, f := range fs {
		total[githubLevel(f.Severity)]++
	}
	budget := map[string]int{"error": annotationsPerLevel, "warning": annotationsPerLevel, "notice": annotationsPerLevel}
	over := len(fs) > limit
	for _, n := range total {
		over = over || n > annotationsPerLevel
	}
	if over {
		budget["notice"]-- // room for the "more findings" notice
		limit--
	}
	for _, f := range fs {
		level := githubLevel(f.Severity)
		if budget[level] == 0 || len(chosen) == limit {
			cut++
			continue
		}
		budget[level]--
		chosen = append(chosen, f)
	}
	return chosen, cut
}

// cmpBool orders true before false when used as cmpBool(b, a).
func cmpBool(x, y bool) int {
	switch {
	case x == y:
		return 0
	case x:
		return 1
	}
	return -1
}

func (g githubWriter) Write(w io.Writer, r *validate.Report) error {
	if r == nil {
		return errNilReport
	}
	chosen, cut := g.plan(r)
	var b bytes.Buffer
	// Chosen by the fleet's paths (ChangedFiles are), written with the
	// prefix that makes them the checkout's.
	for _, f := range rebase(chosen, g.prefix) {
		b.WriteString(annotation(githubLevel(f.Severity), f))
		b.WriteByte('\n')
	}
	if cut > 0 {
		fmt.Fprintf(&b, "::notice::%s not annotated; see the job summary\n", plural(cut, "more finding"))
	}
	return flush(w, &b)
}

// GitHubAnnotations returns how many findings of r the github format with
// these options annotates, and how many it leaves out for want of
// annotation budget.
func GitHubAnnotations(r *validate.Report, o Options) (annotated, omitted int) {
	if r == nil {
		return 0, 0
	}
	chosen, cut := newGitHubWriter(o).plan(r)
	return len(chosen), cut
}

// MarkdownAnnotationNote writes, for the job summary, a paragraph saying
// how many findings the github format annotated and how many more exist
// that only the summary and the other reports list. It writes nothing when
// every finding was annotated.
func MarkdownAnnotationNote(w io.Writer, r *validate.Report, o Options) error {
	annotated, omitted := GitHubAnnotations(r, o)
	if omitted == 0 {
		return nil
	}
	first := "most serious first"
	if len(o.ChangedFiles) > 0 {
		first = "most serious first, files this pull request changes first"
	}
	_, err := fmt.Fprintf(w, "%s annotated (%s); **%s** not annotated: GitHub shows at most %d error and %d warning annotations per step.\n\n",
		plural(annotated, "finding"), first, plural(omitted, "more finding"), annotationsPerLevel, annotationsPerLevel)
	return err
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
