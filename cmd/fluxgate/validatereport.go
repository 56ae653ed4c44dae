package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/fluxgate/fluxgate/report"
	"github.com/fluxgate/fluxgate/validate"
	"github.com/fluxgate/fluxgate/workspace"
)

// withPathBase sets, in o, the prefix that makes the fleet's paths the
// checkout's (GITHUB_WORKSPACE or the Git work tree holding dir) for the
// github, sarif and junit formats. When it cannot be found the paths stay
// the fleet's, and stderr says why.
//
// It also sets the prefix that makes the paths of the text formats open
// from the current directory.
func withPathBase(o report.Options, dir string, stderr io.Writer) report.Options {
	o.DirPrefix = dirPrefix(dir)
	base, err := workspace.FindPathBase(dir, os.Getenv("GITHUB_WORKSPACE"))
	if err != nil {
		fmt.Fprintf(stderr, "fluxgate: report paths are relative to %s: %v\n", dir, err)
	}
	if base.Dir != "" {
		o.PathPrefix, o.SourceRootURI = base.Prefix, base.URI()
	}
	return o
}

// dirPrefix is dir as the command line named it, with forward slashes:
// the paths of the text formats then open from the current directory,
// which dir is relative to (or absolute). Empty for the current directory.
func dirPrefix(dir string) string {
	dir = filepath.Clean(dir)
	if dir == "." {
		return ""
	}
	return filepath.ToSlash(dir)
}

// emitReports writes rep in every requested format with write (to stdout
// or the output's file), appends the job summary for the github format
// when GITHUB_STEP_SUMMARY is set, and returns a findingsError when a
// finding reaches threshold.
func emitReports(outputs []outputSpec, rep *validate.Report, threshold int, stdout io.Writer, gh report.Options,
	write func(w io.Writer, format string, opts report.Options) error) error {
	for _, out := range outputs {
		if err := emitReport(out, stdout, gh, write); err != nil {
			return err
		}
		if out.format == "github" {
			if p := os.Getenv("GITHUB_STEP_SUMMARY"); p != "" {
				if err := appendSummary(p, rep, gh); err != nil {
					return err
				}
			}
		}
	}
	failing := 0
	for _, f := range rep.Findings {
		if validate.SeverityRank(f.Severity) >= threshold {
			failing++
		}
	}
	if failing > 0 {
		return &findingsError{n: failing}
	}
	return nil
}

func emitReport(out outputSpec, stdout io.Writer, gh report.Options, write func(io.Writer, string, report.Options) error) error {
	w := stdout
	if out.path != "" {
		if err := os.MkdirAll(filepath.Dir(out.path), 0o755); err != nil {
			return fmt.Errorf("--output %s=%s: %w", out.format, out.path, err)
		}
		// The user's report: 0644 (the caches are 0600).
		f, err := os.OpenFile(out.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return fmt.Errorf("--output %s=%s: %w", out.format, out.path, err)
		}
		defer f.Close()
		w = f
	}
	opts := gh
	opts.Color, opts.ToolVersion = out.path == "" && isTerminal(stdout), version
	if err := write(w, out.format, opts); err != nil {
		return fmt.Errorf("write %s report: %w", out.format, err)
	}
	return nil
}

// appendSummary appends the Markdown job summary to the file GitHub
// Actions names in GITHUB_STEP_SUMMARY.
func appendSummary(path string, rep *validate.Report, gh report.Options) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
	}
	defer f.Close()
	// Annotations are capped per step; the summary lists what they leave out.
	if err := report.Markdown(f, rep, 500); err != nil {
		return err
	}
	return report.MarkdownAnnotationNote(f, rep, gh)
}
