package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/internal/action"
	"github.com/fluxgate/fluxgate/internal/ghaction"
)

func newActionCmd(stdout, stderr io.Writer, newRoot func() *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "action",
		Short: "Run as a GitHub Actions step: inputs from INPUT_* variables, outputs to $GITHUB_OUTPUT",
		Long: `action is the entry point of fluxgate's GitHub Action (action.yml). It reads the
step's inputs from the INPUT_* variables the runner sets, runs the command
named by the "command" input (validate, render, diff or image-update) with
the flags the other inputs map to, one input per flag, and writes the step
outputs (findings, errors, warnings, sarif-file, report-file, changed-units,
pull-request-url, image-updates) to $GITHUB_OUTPUT. An input the command
does not take is a usage error.

validate also writes annotations (errors first, files the pull request
changes first, within GitHub's budget) and a job summary; diff appends its
Markdown report to the job summary. image-update prints its edits as a
unified diff and sets image-updates (fields changed) and pull-request-url
(its pull requests, one per line). The outputs are read from a JSON report
in a temporary directory outside the workspace, removed after the step,
unless report-file names a file to keep; nothing is written to the
workspace that no input names (sarif: true writes fluxgate.sarif). The token input reaches diff and
image-update as GITHUB_TOKEN (never on the command line). Secret inputs
(decryption-key, token) are masked in the log.

The exit code is the command's: 0 clean, 1 findings at or above fail-on
(or, for diff with exit-code, changes; for image-update, a problem of
error severity such as an invalid ImagePolicy or an unreadable registry),
2 usage or tool error (for image-update, also an automation that could
not run).`,
		Example: `  # What the runner does for the action's validate step
  GITHUB_ACTIONS=true INPUT_COMMAND=validate INPUT_PATH=clusters/production \
    INPUT_SARIF=true fluxgate action

  # A scheduled image-update step, planning only
  GITHUB_ACTIONS=true INPUT_COMMAND=image-update INPUT_DRY-RUN=true \
    INPUT_LABELS=dependencies fluxgate action`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env := &ghaction.Env{Getenv: os.Getenv, Stdout: stdout}
			return runAction(cmd, env, newRoot, stderr)
		},
	}
}

func runAction(cmd *cobra.Command, env *ghaction.Env, newRoot func() *cobra.Command, stderr io.Writer) error {
	if !env.InActions() {
		return errors.New("action runs as a GitHub Actions step (GITHUB_ACTIONS=true); elsewhere run the command itself, e.g. fluxgate validate")
	}
	root := newRoot()
	plan, err := action.NewPlan(env, func(command string) bool {
		sub, _, err := root.Find([]string{command})
		return err == nil && sub != root && sub.Name() == command
	})
	if err != nil {
		return err
	}
	for _, m := range plan.Masks {
		if err := env.AddMask(m); err != nil {
			return err
		}
	}
	if plan.Untrusted != "" {
		fmt.Fprintf(stderr, "fluxgate: untrusted run: %s; nothing is fetched, run or decrypted that the repository asks for\n", plan.Untrusted)
	}
	for _, w := range plan.Warnings {
		if err := env.Warning(ghaction.Annotation{Title: "fluxgate"}, w); err != nil {
			return err
		}
	}
	if plan.KeyFile != "" {
		f, err := os.CreateTemp("", "fluxgate-key-")
		if err != nil {
			return fmt.Errorf("input decryption-key: %w", err)
		}
		defer os.Remove(f.Name())
		_, werr := f.WriteString(plan.KeyFile)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("input decryption-key: %w", werr)
		}
		plan.AddArg("--decryption-key-file=" + f.Name())
	}
	if plan.NeedsTemp() {
		// Outside the workspace (the system's temporary directory,
		// RUNNER_TEMP's parent on hosted runners), removed after the step.
		dir, err := os.MkdirTemp("", "fluxgate-report-")
		if err != nil {
			return fmt.Errorf("%s report: %w", plan.Command, err)
		}
		defer os.RemoveAll(dir)
		plan.Temp(dir)
	}
	if plan.Token != "" && os.Getenv("GITHUB_TOKEN") == "" {
		// The forge code (diff's comment, image-update's pull requests,
		// its clone and ghcr.io) reads the token from the environment,
		// never from a flag, so that it stays out of process listings.
		os.Setenv("GITHUB_TOKEN", plan.Token)
	}
	// Reports of an earlier step must not pass for this run's.
	for _, p := range []string{plan.ReportFile, plan.SARIFFile, plan.MarkdownFile} {
		if p != "" {
			os.Remove(p)
		}
	}
	ev, err := env.Event()
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "fluxgate: %s %s\n", plan.Command, strings.Join(plan.Args[1:], " "))
	root.SetArgs(plan.Args)
	runErr := root.ExecuteContext(cmd.Context())
	if err := action.WriteOutputs(env, plan, ev); err != nil {
		return errors.Join(runErr, err)
	}
	return runErr
}
