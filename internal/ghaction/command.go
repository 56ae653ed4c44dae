package ghaction

import (
	"fmt"
	"strconv"
	"strings"
)

// Level is an annotation's level: the workflow command that creates it.
type Level string

// The annotation levels. GitHub shows at most ten error and ten warning
// annotations per step (and 50 in all per job) and drops the rest.
const (
	LevelError   Level = "error"
	LevelWarning Level = "warning"
	LevelNotice  Level = "notice"
)

// Annotation places a message on a file of the repository. Zero fields are
// left out of the command. Lines and columns are 1-based.
type Annotation struct {
	File      string
	Line      int
	EndLine   int
	Col       int
	EndColumn int
	Title     string
}

// properties returns the annotation's properties in the order GitHub's
// documentation writes them: file, line, endLine, col, endColumn, title.
func (a Annotation) properties() []string {
	var p []string
	add := func(k, v string) { p = append(p, k+"="+EscapeProperty(v)) }
	num := func(k string, n int) {
		if n > 0 {
			add(k, strconv.Itoa(n))
		}
	}
	if a.File != "" {
		add("file", a.File)
	}
	num("line", a.Line)
	num("endLine", a.EndLine)
	num("col", a.Col)
	num("endColumn", a.EndColumn)
	if a.Title != "" {
		add("title", a.Title)
	}
	return p
}

// Command formats a workflow command line without its line break:
// ::name prop=v,prop=v::message, escaping the properties with
// EscapeProperty and the message with EscapeData.
func Command(name string, props []string, message string) string {
	var b strings.Builder
	b.WriteString("::")
	b.WriteString(name)
	if len(props) > 0 {
		b.WriteByte(' ')
		b.WriteString(strings.Join(props, ","))
	}
	b.WriteString("::")
	b.WriteString(EscapeData(message))
	return b.String()
}

// AnnotationCommand formats an annotation command, for example
//
//	::error file=app.js,line=1,col=5,endColumn=7::Missing semicolon
func AnnotationCommand(level Level, a Annotation, message string) string {
	return Command(string(level), a.properties(), message)
}

var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// EscapeData escapes a workflow command's message as the runner expects:
// % as %25, CR as %0D, LF as %0A.
func EscapeData(s string) string { return dataEscaper.Replace(s) }

// EscapeProperty escapes a workflow command's property value: as
// EscapeData, and also : as %3A and , as %2C.
func EscapeProperty(s string) string { return propertyEscaper.Replace(s) }

func (e *Env) issue(line string) error {
	_, err := fmt.Fprintln(e.stdout(), line)
	return err
}

// Annotate writes an annotation command at the given level.
func (e *Env) Annotate(level Level, a Annotation, message string) error {
	return e.issue(AnnotationCommand(level, a, message))
}

// Error writes an error annotation.
func (e *Env) Error(a Annotation, message string) error { return e.Annotate(LevelError, a, message) }

// Warning writes a warning annotation.
func (e *Env) Warning(a Annotation, message string) error {
	return e.Annotate(LevelWarning, a, message)
}

// Notice writes a notice annotation.
func (e *Env) Notice(a Annotation, message string) error { return e.Annotate(LevelNotice, a, message) }

// Debug writes a debug message, shown when step debug logging is on.
func (e *Env) Debug(message string) error { return e.issue(Command("debug", nil, message)) }

// AddMask makes the runner replace value with *** in the log from now on.
// Each line of a multi-line value is masked on its own, since the runner
// masks line by line; empty values are ignored.
func (e *Env) AddMask(value string) error {
	for _, l := range strings.Split(strings.ReplaceAll(value, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if err := e.issue(Command("add-mask", nil, l)); err != nil {
			return err
		}
	}
	return nil
}

// Group starts a collapsible group of log lines titled title; EndGroup
// ends it.
func (e *Env) Group(title string) error { return e.issue(Command("group", nil, title)) }

// EndGroup ends the group Group started.
func (e *Env) EndGroup() error { return e.issue(Command("endgroup", nil, "")) }
