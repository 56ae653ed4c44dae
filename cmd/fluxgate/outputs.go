package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/validate"
)

// outputSpec is one requested report: a format and a file, or stdout.
type outputSpec struct{ format, path string }

// parseOutputs reads repeatable FORMAT[=PATH] flags: each format one of
// formats, at most one of them to stdout; no flag means def to stdout.
func parseOutputs(specs []string, def string, formats ...string) ([]outputSpec, error) {
	if len(specs) == 0 {
		specs = []string{def}
	}
	var out []outputSpec
	stdoutUsed := false
	for _, s := range specs {
		format, p, toFile := strings.Cut(s, "=")
		if !slices.Contains(formats, format) {
			return nil, fmt.Errorf("--output %q: unknown format %q (want %s)", s, format, strings.Join(formats, ", "))
		}
		if toFile && p == "" {
			return nil, fmt.Errorf("--output %q: empty path", s)
		}
		if toFile {
			if err := checkOutputFile(s, p); err != nil {
				return nil, err
			}
		}
		if !toFile {
			if stdoutUsed {
				return nil, fmt.Errorf("--output %q: only one format can go to stdout; write the others to files with FORMAT=PATH", s)
			}
			stdoutUsed = true
		}
		out = append(out, outputSpec{format: format, path: p})
	}
	return out, nil
}

// writeOutputs writes each output, as write makes it, to stdout or to its
// file, in order.
func writeOutputs(outputs []outputSpec, stdout io.Writer, write func(w io.Writer, out outputSpec) error) error {
	for _, out := range outputs {
		var buf bytes.Buffer
		if err := write(&buf, out); err != nil {
			return err
		}
		if out.path == "" {
			if _, err := stdout.Write(buf.Bytes()); err != nil {
				return err
			}
		} else if err := writeReportFile(out.path, buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// printProblems writes problems to stderr, those of info severity only
// withInfo, and returns how many are errors.
func printProblems(stderr io.Writer, problems []fleet.Problem, withInfo bool) (errs int) {
	for _, p := range problems {
		if p.Severity == fleet.SeverityInfo && !withInfo {
			continue
		}
		fmt.Fprintln(stderr, p.String())
		if p.Severity == fleet.SeverityError {
			errs++
		}
	}
	return errs
}

// writeReportFile writes a report file; an existing directory is refused.
func writeReportFile(p string, data []byte) error {
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return fmt.Errorf("--output %s: is a directory", p)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

func failRank(s string) (int, error) {
	switch s {
	case "none":
		return 99, nil
	case validate.SeverityError, validate.SeverityWarning, validate.SeverityInfo:
		return validate.SeverityRank(s), nil
	}
	return 0, fmt.Errorf("--fail-on %q: want error, warning, info or none", s)
}

// writeJSONOutput serves the -o text|json flag of the listing commands
// (version, catalog): for json it writes v indented and reports done; for
// text (or empty) it writes nothing, so the caller writes its text; any
// other value is an error.
func writeJSONOutput(output string, w io.Writer, v any) (done bool, err error) {
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return true, enc.Encode(v)
	case "", "text":
		return false, nil
	}
	return false, fmt.Errorf("--output %q: want text or json", output)
}
