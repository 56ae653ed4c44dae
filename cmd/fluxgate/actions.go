package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/internal/ghaction"
)

// inputKind says how an action input becomes command-line arguments.
type inputKind int

const (
	valueInput   inputKind = iota // --flag=VALUE
	boolInput                     // --flag when true (true/false as the toolkit reads them)
	listInput                     // --flag=LINE for each non-empty line
	specialInput                  // handled by name in actionArgs
)

// actionInput maps one input of action.yml to the flag it sets on the
// commands that take it. Inputs are one-to-one with flags; the few
// special ones are documented where actionArgs handles them.
type actionInput struct {
	name     string
	flag     string // "" for the command, the directory and the token
	commands []string
	kind     inputKind
}

// The commands the action runs. A command this binary does not have is
// refused (actionArgs asks the root command).
var (
	allActionCommands = []string{"validate", "render", "diff", "image-update"}
	renderingCommands = []string{"validate", "render", "diff"}
	// readingCommands take the read flags (addReadFlags).
	readingCommands = []string{"validate", "render", "diff", "image-update"}
	// forgeCommands talk to GitHub or Gitea with the token input.
	forgeCommands = []string{"diff", "image-update"}
)

// actionInputs lists every input of action.yml (TestActionInputsMatchFlags
// keeps the two in step).
var actionInputs = []actionInput{
	{name: "command", commands: allActionCommands, kind: specialInput},
	{name: "directory", commands: allActionCommands, kind: specialInput},
	{name: "path", flag: "path", commands: renderingCommands, kind: listInput},
	{name: "kubernetes-version", flag: "kubernetes-version", commands: renderingCommands, kind: valueInput},
	{name: "fail-on", flag: "fail-on", commands: []string{"validate"}, kind: valueInput},
	{name: "strict", flag: "strict", commands: []string{"validate"}, kind: boolInput},
	{name: "schema-location", flag: "schema-location", commands: []string{"validate"}, kind: listInput},
	{name: "sarif", flag: "output", commands: []string{"validate"}, kind: specialInput},
	{name: "report-file", flag: "output", commands: []string{"validate", "diff", "image-update"}, kind: specialInput},
	{name: "output", flag: "output", commands: allActionCommands, kind: listInput},
	{name: "output-dir", flag: "output-dir", commands: []string{"render"}, kind: valueInput},
	{name: "offline", flag: "offline", commands: renderingCommands, kind: boolInput},
	{name: "cache-dir", flag: "cache-dir", commands: renderingCommands, kind: valueInput},
	{name: "no-unit-cache", flag: "no-unit-cache", commands: renderingCommands, kind: boolInput},
	{name: "shard", flag: "shard", commands: []string{"validate", "render"}, kind: valueInput},
	{name: "source", flag: "source", commands: readingCommands, kind: listInput},
	{name: "workers", flag: "workers", commands: readingCommands, kind: valueInput},
	{name: "max-file-size", flag: "max-file-size", commands: readingCommands, kind: valueInput},
	{name: "decryption-key-file", flag: "decryption-key-file", commands: renderingCommands, kind: listInput},
	{name: "decryption-key", flag: "decryption-key-file", commands: renderingCommands, kind: specialInput},
	{name: "base", flag: "base", commands: []string{"diff"}, kind: valueInput},
	{name: "head", flag: "head", commands: []string{"diff"}, kind: valueInput},
	{name: "exit-code", flag: "exit-code", commands: []string{"diff"}, kind: boolInput},
	{name: "changed-only", flag: "changed-only", commands: []string{"diff"}, kind: boolInput},
	{name: "comment", flag: "comment", commands: []string{"diff"}, kind: boolInput},
	{name: "comment-id", flag: "comment-id", commands: []string{"diff"}, kind: valueInput},
	{name: "forge", flag: "forge", commands: forgeCommands, kind: valueInput},
	{name: "api-url", flag: "api-url", commands: forgeCommands, kind: valueInput},
	{name: "repository", flag: "repository", commands: forgeCommands, kind: valueInput},
	{name: "pr", flag: "pr", commands: []string{"diff"}, kind: valueInput},
	{name: "token", commands: forgeCommands, kind: specialInput},
	{name: "dry-run", flag: "dry-run", commands: []string{"image-update"}, kind: boolInput},
	{name: "automation", flag: "automation", commands: []string{"image-update"}, kind: listInput},
	{name: "branch", flag: "branch", commands: []string{"image-update"}, kind: valueInput},
	{name: "git-url", flag: "git-url", commands: []string{"image-update"}, kind: valueInput},
	{name: "git-username", flag: "git-username", commands: []string{"image-update"}, kind: valueInput},
	{name: "labels", flag: "label", commands: []string{"image-update"}, kind: listInput},
	{name: "registry-concurrency", flag: "registry-concurrency", commands: []string{"image-update"}, kind: valueInput},
}

// The outputs of action.yml, all written by writeActionOutputs
// (TestActionOutputsWritten checks action.yml against this list).
var actionOutputs = []string{
	"findings", "errors", "warnings", "sarif-file", "report-file", "changed-units", "pull-request-url",
	"image-updates",
}

// Default report files, in the working directory (the workspace) so that
// later steps (upload-sarif, upload-artifact) find them.
const (
	defaultSARIFFile        = "fluxgate.sarif"
	defaultValidateReport   = "fluxgate-report.json"
	defaultDiffReport       = "fluxgate-diff.json"
	defaultDiffMarkdownFile = "fluxgate-diff.md"
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
(its pull requests, one per line), read from a JSON report in a temporary
file unless report-file names one. The token input reaches diff and
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

// actionPlan is the command line an action step runs and the files whose
// contents become outputs.
type actionPlan struct {
	command      string
	args         []string
	reportFile   string
	sarifFile    string
	markdownFile string   // diff's Markdown, appended to the job summary
	masks        []string // secret values to mask before anything runs
	keyFile      string   // decryption-key content, written to a temporary file
	token        string
	// tempReport asks runAction for a JSON report in a temporary file
	// (image-update without report-file): read for the outputs, then
	// removed.
	tempReport bool
}

// addArg adds a flag to the command line, before the "--" that ends the
// flags when there is one: after it, cobra would take the flag for a
// second directory.
func (p *actionPlan) addArg(arg string) {
	if i := slices.Index(p.args, "--"); i >= 0 {
		p.args = slices.Insert(p.args, i, arg)
		return
	}
	p.args = append(p.args, arg)
}

func runAction(cmd *cobra.Command, env *ghaction.Env, newRoot func() *cobra.Command, stderr io.Writer) error {
	if !env.InActions() {
		return errors.New("action runs as a GitHub Actions step (GITHUB_ACTIONS=true); elsewhere run the command itself, e.g. fluxgate validate")
	}
	root := newRoot()
	plan, err := actionArgs(env, root)
	if err != nil {
		return err
	}
	for _, m := range plan.masks {
		if err := env.AddMask(m); err != nil {
			return err
		}
	}
	if plan.keyFile != "" {
		f, err := os.CreateTemp("", "fluxgate-key-")
		if err != nil {
			return fmt.Errorf("input decryption-key: %w", err)
		}
		defer os.Remove(f.Name())
		_, werr := f.WriteString(plan.keyFile)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("input decryption-key: %w", werr)
		}
		plan.addArg("--decryption-key-file=" + f.Name())
	}
	if plan.tempReport {
		dir, err := os.MkdirTemp("", "fluxgate-report-")
		if err != nil {
			return fmt.Errorf("%s report: %w", plan.command, err)
		}
		defer os.RemoveAll(dir)
		plan.reportFile = filepath.Join(dir, plan.command+".json")
		plan.addArg("--output=json=" + plan.reportFile)
	}
	if plan.token != "" && os.Getenv("GITHUB_TOKEN") == "" {
		// The forge code (diff's comment, image-update's pull requests,
		// its clone and ghcr.io) reads the token from the environment,
		// never from a flag, so that it stays out of process listings.
		os.Setenv("GITHUB_TOKEN", plan.token)
	}
	// Reports of an earlier step must not pass for this run's.
	for _, p := range []string{plan.reportFile, plan.sarifFile, plan.markdownFile} {
		if p != "" {
			os.Remove(p)
		}
	}
	ev, err := env.Event()
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "fluxgate: %s %s\n", plan.command, strings.Join(plan.args[1:], " "))
	root.SetArgs(plan.args)
	runErr := root.ExecuteContext(cmd.Context())
	if err := writeActionOutputs(env, plan, ev); err != nil {
		return errors.Join(runErr, err)
	}
	return runErr
}

// actionArgs builds the command line from the inputs. An input given for
// a command that does not take it is a usage error, as a wrong flag is.
func actionArgs(env *ghaction.Env, root *cobra.Command) (*actionPlan, error) {
	command := env.Input("command")
	if command == "" {
		command = "validate"
	}
	if !slices.Contains(allActionCommands, command) {
		return nil, fmt.Errorf("input command: %q is not one of %s", command, strings.Join(allActionCommands, ", "))
	}
	if sub, _, err := root.Find([]string{command}); err != nil || sub == root || sub.Name() != command {
		return nil, fmt.Errorf("input command: this fluxgate has no %s command yet", command)
	}
	p := &actionPlan{command: command, args: []string{command}}
	for _, in := range actionInputs {
		raw := env.Var(ghaction.InputVar(in.name))
		if strings.TrimSpace(raw) == "" {
			continue
		}
		applies := slices.Contains(in.commands, command)
		switch in.name {
		case "command", "directory":
			continue
		case "token":
			// action.yml defaults it to github.token; other commands ignore it.
			if applies {
				p.token = env.Input("token")
				p.masks = append(p.masks, p.token)
			}
			continue
		}
		if !applies {
			return nil, fmt.Errorf("input %s: command %s does not take it (it is for %s)", in.name, command, strings.Join(in.commands, ", "))
		}
		switch in.kind {
		case valueInput:
			p.args = append(p.args, "--"+in.flag+"="+env.Input(in.name))
		case boolInput:
			on, err := env.BoolInput(in.name, false)
			if err != nil {
				return nil, err
			}
			if on {
				p.args = append(p.args, "--"+in.flag)
			}
		case listInput:
			for _, l := range env.MultilineInput(in.name) {
				p.args = append(p.args, "--"+in.flag+"="+l)
			}
		case specialInput:
			if err := p.special(env, in.name); err != nil {
				return nil, err
			}
		}
	}
	switch command {
	case "validate":
		if p.reportFile == "" {
			p.reportFile = defaultValidateReport
		}
		// Annotations and the job summary on stdout, the JSON report for
		// the outputs.
		p.args = append(p.args, "--output=github", "--output=json="+p.reportFile)
		if p.sarifFile != "" {
			p.args = append(p.args, "--output=sarif="+p.sarifFile)
		}
	case "diff":
		if p.reportFile == "" {
			p.reportFile = defaultDiffReport
		}
		p.markdownFile = defaultDiffMarkdownFile
		p.args = append(p.args, "--output=text", "--output=json="+p.reportFile, "--output=markdown="+p.markdownFile)
	case "image-update":
		// The edits in the log; the JSON report for the outputs, in a
		// temporary file unless report-file keeps it: the workspace is
		// the repository the command reads.
		p.args = append(p.args, "--output=diff")
		if p.reportFile != "" {
			p.args = append(p.args, "--output=json="+p.reportFile)
		} else {
			p.tempReport = true
		}
	}
	if dir := env.Input("directory"); dir != "" && dir != "." {
		p.args = append(p.args, "--", dir)
	}
	return p, nil
}

// special handles the inputs that are not a flag's value as is.
func (p *actionPlan) special(env *ghaction.Env, name string) error {
	switch name {
	case "sarif":
		// true writes fluxgate.sarif; any other value but false is the
		// file: --output sarif=PATH.
		switch v := env.Input(name); v {
		case "false", "False", "FALSE":
		case "true", "True", "TRUE":
			p.sarifFile = defaultSARIFFile
		default:
			p.sarifFile = v
		}
	case "report-file":
		// The JSON report the outputs are read from: --output json=PATH.
		p.reportFile = env.Input(name)
	case "decryption-key":
		// Key material (age or armored PGP), from a secret: masked, then
		// written to a temporary file for --decryption-key-file.
		key := env.Var(ghaction.InputVar(name))
		p.masks = append(p.masks, key)
		p.keyFile = strings.TrimSpace(key) + "\n"
	default:
		return fmt.Errorf("input %s: not handled", name)
	}
	return nil
}

// writeActionOutputs sets the step outputs from the reports the command
// wrote. A report that is missing (the command could not run) sets
// nothing from it.
func writeActionOutputs(env *ghaction.Env, p *actionPlan, ev *ghaction.Event) error {
	out := map[string]string{}
	// image-update's pull requests are its own, from its report.
	if ev != nil && ev.PullRequest != nil && ev.PullRequest.URL != "" && p.command != "image-update" {
		out["pull-request-url"] = ev.PullRequest.URL
	}
	if p.reportFile != "" {
		data, err := os.ReadFile(p.reportFile)
		switch {
		case err == nil:
			if !p.tempReport {
				out["report-file"] = p.reportFile
			}
			if err := reportOutputs(p.command, data, out); err != nil {
				return fmt.Errorf("read %s: %w", p.reportFile, err)
			}
		case !errors.Is(err, os.ErrNotExist):
			return err
		}
	}
	if p.sarifFile != "" {
		if _, err := os.Stat(p.sarifFile); err == nil {
			out["sarif-file"] = p.sarifFile
		}
	}
	if p.markdownFile != "" {
		if md, err := os.ReadFile(p.markdownFile); err == nil && env.Var("GITHUB_STEP_SUMMARY") != "" {
			if err := env.AddStepSummary(string(md)); err != nil {
				return err
			}
		}
	}
	for _, name := range actionOutputs {
		v, ok := out[name]
		if !ok {
			continue
		}
		if err := env.SetOutput(name, v); err != nil {
			return err
		}
	}
	return nil
}

// reportOutputs reads the counts of a command's JSON report.
func reportOutputs(command string, data []byte, out map[string]string) error {
	switch command {
	case "validate":
		var r struct {
			Findings []json.RawMessage `json:"findings"`
			Summary  struct {
				Errors   int `json:"errors"`
				Warnings int `json:"warnings"`
			} `json:"summary"`
		}
		if err := json.Unmarshal(data, &r); err != nil {
			return err
		}
		out["findings"] = strconv.Itoa(len(r.Findings))
		out["errors"] = strconv.Itoa(r.Summary.Errors)
		out["warnings"] = strconv.Itoa(r.Summary.Warnings)
	case "diff":
		var r struct {
			Units []json.RawMessage `json:"units"`
		}
		if err := json.Unmarshal(data, &r); err != nil {
			return err
		}
		out["changed-units"] = strconv.Itoa(len(r.Units))
	case "image-update":
		var r struct {
			Changes      []json.RawMessage `json:"changes"`
			PullRequests []struct {
				URL string `json:"url"`
			} `json:"pullRequests"`
		}
		if err := json.Unmarshal(data, &r); err != nil {
			return err
		}
		out["image-updates"] = strconv.Itoa(len(r.Changes))
		var urls []string
		for _, pr := range r.PullRequests {
			if pr.URL != "" && !slices.Contains(urls, pr.URL) {
				urls = append(urls, pr.URL)
			}
		}
		if len(urls) > 0 {
			out["pull-request-url"] = strings.Join(urls, "\n")
		}
	}
	return nil
}
