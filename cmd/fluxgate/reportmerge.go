package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/report"
)

type reportMergeOptions struct {
	outputs []string
	failOn  string
	dir     string
}

func newReportCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Work with validate reports",
	}
	cmd.AddCommand(newReportMergeCmd(stdout, stderr))
	return cmd
}

func newReportMergeCmd(stdout, stderr io.Writer) *cobra.Command {
	o := &reportMergeOptions{}
	cmd := &cobra.Command{
		Use:   "merge FILE...",
		Short: "Merge the reports of sharded validate runs into one",
		Long: `merge combines the reports that 'fluxgate validate --shard i/n' wrote, one per
shard, into the report of an unsharded run: a finding reported by several
shards is kept once, findings are sorted as validate sorts them, and the
summary counts are added up. The reports may be given in any order and must
all be in one format: json, sarif or junit.

Merged json reports can be written in every format (text, json, junit, sarif,
github); sarif and junit reports merge into their own format only (one SARIF
run with every result and rule; one JUnit testcase per unit of every shard,
failing at --fail-on).

Exit codes: 0 when no merged finding reaches --fail-on, 1 when one does, 2
when a report cannot be read or the formats are mixed.`,
		Example: `  # After a matrix of 'fluxgate validate --shard i/4 -o json=report-i.json'
  fluxgate report merge -o sarif=fluxgate.sarif -o github report-*.json

  # Merge the shards' SARIF files for one upload to code scanning
  fluxgate report merge -o sarif=fluxgate.sarif shard-*.sarif

  # Only a merged JUnit file, without failing the step
  fluxgate report merge -o junit=fluxgate.xml --fail-on none shard-*.xml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReportMerge(cmd, args, o, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.outputs, "output", "o", nil, "output format, optionally to a file: text, pretty, json, junit, sarif, github, or FORMAT=PATH (repeatable; default: the inputs' format)")
	f.StringVar(&o.failOn, "fail-on", "error", "lowest severity that fails the run: error, warning, info or none")
	f.StringVar(&o.dir, "dir", ".", "the fleet directory the reports are about, validate's DIR (-o github reads the pull request's changed files from it; github, sarif and junit paths are made relative to the checkout holding it)")
	return cmd
}

func runReportMerge(cmd *cobra.Command, files []string, o *reportMergeOptions, stdout, stderr io.Writer) error {
	threshold, err := failRank(o.failOn)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(o.dir); err != nil || !fi.IsDir() {
		return &flagError{"dir", o.dir, "not a directory"}
	}
	var inputs []report.Input
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read report: %w", err)
		}
		inputs = append(inputs, report.Input{Name: p, Data: data})
	}
	format := report.DetectFormat(inputs[0].Data)
	if format == "" {
		return fmt.Errorf("%s: not a fluxgate json, sarif or junit report", inputs[0].Name)
	}
	outputs, err := parseOutputs(o.outputs, format, report.Formats()...)
	if err != nil {
		return err
	}
	merged, err := report.Merge(format, inputs)
	if err != nil {
		return err
	}
	if format != "json" {
		for _, out := range outputs {
			if out.format != format {
				return fmt.Errorf("--output %s: %s reports merge into %s only; merge the shards' json reports to write other formats", out.format, format, format)
			}
		}
	}
	gh := withPathBase(githubReportOptions(cmd.Context(), o.dir, outputs, stderr), o.dir, stderr)
	gh.FailOn = o.failOn
	return emitReports(outputs, merged.Report, threshold, stdout, gh, func(w io.Writer, format string, opts report.Options) error {
		return merged.Write(w, format, opts)
	})
}
