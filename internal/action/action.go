package action

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/fluxgate/fluxgate/internal/ghaction"
)

// inputKind says how an action input becomes command-line arguments.
type inputKind int

const (
	valueInput   inputKind = iota // --flag=VALUE
	boolInput                     // --flag when true (true/false as the toolkit reads them)
	listInput                     // --flag=LINE for each non-empty line
	specialInput                  // handled by name in NewPlan
)

// Input maps one input of action.yml to the flag it sets on the
// commands that take it. Inputs are one-to-one with flags; the few
// special ones are documented where NewPlan handles them.
type Input struct {
	// Name is the input's name in action.yml.
	Name string
	// Flag is the flag it sets, without dashes; "" for the command, the
	// directory and the token.
	Flag string
	// Commands are the commands that take it.
	Commands []string
	kind     inputKind
}

// The commands the action runs. A command this binary does not have is
// refused (NewPlan asks its caller).
var (
	allActionCommands = []string{"validate", "render", "diff", "image-update"}
	renderingCommands = []string{"validate", "render", "diff"}
	// readingCommands take the read flags (addReadFlags).
	readingCommands = []string{"validate", "render", "diff", "image-update"}
	// forgeCommands talk to GitHub or Gitea with the token input.
	forgeCommands = []string{"diff", "image-update"}
)

// Inputs lists every input of action.yml (cmd/fluxgate's
// TestActionInputsMatchFlags keeps the two, and the flags, in step).
var Inputs = []Input{
	{Name: "command", Commands: allActionCommands, kind: specialInput},
	{Name: "directory", Commands: allActionCommands, kind: specialInput},
	{Name: "path", Flag: "path", Commands: renderingCommands, kind: listInput},
	{Name: "kubernetes-version", Flag: "kubernetes-version", Commands: renderingCommands, kind: valueInput},
	{Name: "fail-on", Flag: "fail-on", Commands: []string{"validate"}, kind: valueInput},
	{Name: "strict", Flag: "strict", Commands: []string{"validate"}, kind: boolInput},
	{Name: "schema-location", Flag: "schema-location", Commands: []string{"validate"}, kind: listInput},
	{Name: "sarif", Flag: "output", Commands: []string{"validate"}, kind: specialInput},
	{Name: "report-file", Flag: "output", Commands: []string{"validate", "diff", "image-update"}, kind: specialInput},
	{Name: "output", Flag: "output", Commands: allActionCommands, kind: listInput},
	{Name: "output-dir", Flag: "output-dir", Commands: []string{"render"}, kind: valueInput},
	{Name: "offline", Flag: "offline", Commands: renderingCommands, kind: boolInput},
	{Name: "untrusted", Flag: "untrusted", Commands: renderingCommands, kind: specialInput},
	{Name: "cache-dir", Flag: "cache-dir", Commands: renderingCommands, kind: valueInput},
	{Name: "no-unit-cache", Flag: "no-unit-cache", Commands: renderingCommands, kind: boolInput},
	{Name: "shard", Flag: "shard", Commands: []string{"validate", "render"}, kind: valueInput},
	{Name: "source", Flag: "source", Commands: readingCommands, kind: listInput},
	{Name: "workers", Flag: "workers", Commands: readingCommands, kind: valueInput},
	{Name: "max-file-size", Flag: "max-file-size", Commands: readingCommands, kind: valueInput},
	{Name: "decryption-key-file", Flag: "decryption-key-file", Commands: renderingCommands, kind: listInput},
	{Name: "decryption-key", Flag: "decryption-key-file", Commands: renderingCommands, kind: specialInput},
	{Name: "base", Flag: "base", Commands: []string{"diff"}, kind: valueInput},
	{Name: "head", Flag: "head", Commands: []string{"diff"}, kind: valueInput},
	{Name: "exit-code", Flag: "exit-code", Commands: []string{"diff"}, kind: boolInput},
	{Name: "changed-only", Flag: "changed-only", Commands: []string{"diff"}, kind: boolInput},
	{Name: "comment", Flag: "comment", Commands: []string{"diff"}, kind: boolInput},
	{Name: "comment-id", Flag: "comment-id", Commands: []string{"diff"}, kind: valueInput},
	{Name: "forge", Flag: "forge", Commands: forgeCommands, kind: valueInput},
	{Name: "api-url", Flag: "api-url", Commands: forgeCommands, kind: valueInput},
	{Name: "repository", Flag: "repository", Commands: forgeCommands, kind: valueInput},
	{Name: "pr", Flag: "pr", Commands: []string{"diff"}, kind: valueInput},
	{Name: "token", Commands: forgeCommands, kind: specialInput},
	{Name: "dry-run", Flag: "dry-run", Commands: []string{"image-update"}, kind: boolInput},
	{Name: "automation", Flag: "automation", Commands: []string{"image-update"}, kind: listInput},
	{Name: "branch", Flag: "branch", Commands: []string{"image-update"}, kind: valueInput},
	{Name: "git-url", Flag: "git-url", Commands: []string{"image-update"}, kind: valueInput},
	{Name: "git-username", Flag: "git-username", Commands: []string{"image-update"}, kind: valueInput},
	{Name: "labels", Flag: "label", Commands: []string{"image-update"}, kind: listInput},
	{Name: "registry-concurrency", Flag: "registry-concurrency", Commands: []string{"image-update"}, kind: valueInput},
}

// Outputs are the outputs of action.yml, all written by WriteOutputs
// (cmd/fluxgate's TestActionOutputsMatchYAML checks action.yml against
// this list).
var Outputs = []string{
	"findings", "errors", "warnings", "sarif-file", "report-file", "changed-units", "pull-request-url",
	"image-updates",
}

// defaultSARIFFile is the SARIF report `sarif: true` asks for, in the
// working directory (the workspace) so that upload-sarif finds it. No
// other file is written to the workspace unless an input names it: the
// JSON report the outputs are read from and diff's Markdown go to a
// temporary directory outside it (Plan.Temp), removed after the step.
const defaultSARIFFile = "fluxgate.sarif"

// Plan is the command line an action step runs and the files whose
// contents become outputs.
type Plan struct {
	// Command is the command run: validate, render, diff or image-update.
	Command string
	// Args is the whole command line, the command first; a directory
	// comes last, after "--".
	Args []string
	// ReportFile is the JSON report the counts are read from.
	ReportFile string
	// SARIFFile, when set, is validate's SARIF report.
	SARIFFile    string
	MarkdownFile string   // diff's Markdown, appended to the job summary (set by Temp)
	Masks        []string // secret values to mask before anything runs
	KeyFile      string   // decryption-key content, written to a temporary file
	// Token is the token input, for the commands that talk to a forge.
	Token string
	// TempReport asks the caller for a JSON report in a temporary file
	// (no report-file input): read for the outputs, then removed.
	// ReportFile is not an output then.
	TempReport bool
	// Untrusted, when set, says why the step runs with --untrusted.
	Untrusted string
	// Warnings are for the log as warning annotations: inputs the plan
	// did not use.
	Warnings []string
}

// Temp places the files the step reads for its outputs and no input
// named in dir, a temporary directory outside the workspace that the
// caller removes after the step: the JSON report when TempReport, and
// diff's Markdown for the job summary.
func (p *Plan) Temp(dir string) {
	if p.TempReport {
		p.ReportFile = filepath.Join(dir, p.Command+".json")
		p.AddArg("--output=json=" + p.ReportFile)
	}
	if p.Command == "diff" {
		p.MarkdownFile = filepath.Join(dir, "fluxgate-diff.md")
		p.AddArg("--output=markdown=" + p.MarkdownFile)
	}
}

// NeedsTemp reports whether Temp has files to place.
func (p *Plan) NeedsTemp() bool { return p.TempReport || p.Command == "diff" }

// AddArg adds a flag to the command line, before the "--" that ends the
// flags when there is one: after it, cobra would take the flag for a
// second directory.
func (p *Plan) AddArg(arg string) {
	if i := slices.Index(p.Args, "--"); i >= 0 {
		p.Args = slices.Insert(p.Args, i, arg)
		return
	}
	p.Args = append(p.Args, arg)
}

// NewPlan builds the command line from the inputs; has says whether the
// binary has a command. An input given for a command that does not take
// it is a usage error, as a wrong flag is.
func NewPlan(env *ghaction.Env, has func(command string) bool) (*Plan, error) {
	command := env.Input("command")
	if command == "" {
		command = "validate"
	}
	if !slices.Contains(allActionCommands, command) {
		return nil, fmt.Errorf("input command: %q is not one of %s", command, strings.Join(allActionCommands, ", "))
	}
	if !has(command) {
		return nil, fmt.Errorf("input command: this fluxgate has no %s command yet", command)
	}
	p := &Plan{Command: command, Args: []string{command}}
	for _, in := range Inputs {
		raw := env.Var(ghaction.InputVar(in.Name))
		if strings.TrimSpace(raw) == "" {
			continue
		}
		applies := slices.Contains(in.Commands, command)
		switch in.Name {
		case "command", "directory", "untrusted":
			continue
		case "token":
			// action.yml defaults it to github.token; other commands ignore it.
			if applies {
				p.Token = env.Input("token")
				p.Masks = append(p.Masks, p.Token)
			}
			continue
		}
		if !applies {
			return nil, fmt.Errorf("input %s: command %s does not take it (it is for %s)", in.Name, command, strings.Join(in.Commands, ", "))
		}
		switch in.kind {
		case valueInput:
			p.Args = append(p.Args, "--"+in.Flag+"="+env.Input(in.Name))
		case boolInput:
			on, err := env.BoolInput(in.Name, false)
			if err != nil {
				return nil, err
			}
			if on {
				p.Args = append(p.Args, "--"+in.Flag)
			}
		case listInput:
			for _, l := range env.MultilineInput(in.Name) {
				p.Args = append(p.Args, "--"+in.Flag+"="+l)
			}
		case specialInput:
			if err := p.special(env, in.Name); err != nil {
				return nil, err
			}
		}
	}
	if err := p.trust(env); err != nil {
		return nil, err
	}
	// What goes to the log: annotations and the job summary (validate),
	// the diff, the edits (image-update).
	switch command {
	case "validate":
		p.Args = append(p.Args, "--output=github")
	case "diff":
		p.Args = append(p.Args, "--output=text")
	case "image-update":
		p.Args = append(p.Args, "--output=diff")
	}
	// The JSON report the outputs are read from: the file report-file
	// names, or a temporary one (Temp): the workspace is the user's
	// repository, and nothing is written to it unless asked.
	if command != "render" {
		if p.ReportFile != "" {
			p.Args = append(p.Args, "--output=json="+p.ReportFile)
		} else {
			p.TempReport = true
		}
	}
	if p.SARIFFile != "" {
		p.Args = append(p.Args, "--output=sarif="+p.SARIFFile)
	}
	if dir := env.Input("directory"); dir != "" && dir != "." {
		p.Args = append(p.Args, "--", dir)
	}
	return p, nil
}

// trust applies the untrusted input: true, false, or auto (the default),
// which is true when the event runs a fork's code with the base
// repository's secrets (ghaction.Event.Untrusted). An untrusted step
// runs with --untrusted and passes no decryption key: the key inputs are
// dropped with a warning (their values stay masked).
func (p *Plan) trust(env *ghaction.Env) error {
	v := strings.TrimSpace(env.Input("untrusted"))
	renders := slices.Contains(renderingCommands, p.Command)
	switch v {
	case "", "auto":
		if !renders {
			return nil
		}
		ev, err := env.Event()
		if err != nil {
			return fmt.Errorf("input untrusted: auto: %w", err)
		}
		if on, why := ev.Untrusted(); on {
			p.Untrusted = why + " (untrusted: auto)"
		}
	case "true", "True", "TRUE":
		if !renders {
			return fmt.Errorf("input untrusted: command %s does not take it (it is for %s)", p.Command, strings.Join(renderingCommands, ", "))
		}
		p.Untrusted = "the untrusted input"
	case "false", "False", "FALSE":
	default:
		return fmt.Errorf("input untrusted: %q is not true, false or auto", v)
	}
	if p.Untrusted == "" {
		return nil
	}
	kept := p.Args[:0]
	dropped := p.KeyFile != ""
	for _, a := range p.Args {
		if strings.HasPrefix(a, "--decryption-key-file=") {
			dropped = true
			continue
		}
		kept = append(kept, a)
	}
	p.Args, p.KeyFile = append(kept, "--untrusted"), ""
	if dropped {
		p.Warnings = append(p.Warnings, "decryption keys not used: this run is untrusted ("+p.Untrusted+"), so SOPS files stay encrypted")
	}
	return nil
}

// special handles the inputs that are not a flag's value as is.
func (p *Plan) special(env *ghaction.Env, name string) error {
	switch name {
	case "sarif":
		// true writes fluxgate.sarif; any other value but false is the
		// file: --output sarif=PATH.
		switch v := env.Input(name); v {
		case "false", "False", "FALSE":
		case "true", "True", "TRUE":
			p.SARIFFile = defaultSARIFFile
		default:
			p.SARIFFile = v
		}
	case "report-file":
		// The JSON report the outputs are read from: --output json=PATH.
		p.ReportFile = env.Input(name)
	case "decryption-key":
		// Key material (age or armored PGP), from a secret: masked, then
		// written to a temporary file for --decryption-key-file.
		key := env.Var(ghaction.InputVar(name))
		p.Masks = append(p.Masks, key)
		p.KeyFile = strings.TrimSpace(key) + "\n"
	default:
		return fmt.Errorf("input %s: not handled", name)
	}
	return nil
}

// WriteOutputs sets the step outputs from the reports the command
// wrote. A report that is missing (the command could not run) sets
// nothing from it.
func WriteOutputs(env *ghaction.Env, p *Plan, ev *ghaction.Event) error {
	out := map[string]string{}
	// image-update's pull requests are its own, from its report.
	if ev != nil && ev.PullRequest != nil && ev.PullRequest.URL != "" && p.Command != "image-update" {
		out["pull-request-url"] = ev.PullRequest.URL
	}
	if p.ReportFile != "" {
		data, err := os.ReadFile(p.ReportFile)
		switch {
		case err == nil:
			if !p.TempReport {
				out["report-file"] = p.ReportFile
			}
			if err := reportOutputs(p.Command, data, out); err != nil {
				return fmt.Errorf("read %s: %w", p.ReportFile, err)
			}
		case !errors.Is(err, os.ErrNotExist):
			return err
		}
	}
	if p.SARIFFile != "" {
		if _, err := os.Stat(p.SARIFFile); err == nil {
			out["sarif-file"] = p.SARIFFile
		}
	}
	if p.MarkdownFile != "" {
		if md, err := os.ReadFile(p.MarkdownFile); err == nil && env.Var("GITHUB_STEP_SUMMARY") != "" {
			if err := env.AddStepSummary(string(md)); err != nil {
				return err
			}
		}
	}
	for _, name := range Outputs {
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
			Units []struct {
				// A unit failing the same way on both sides is listed,
				// but is no change.
				Unchanged bool `json:"unchanged"`
			} `json:"units"`
		}
		if err := json.Unmarshal(data, &r); err != nil {
			return err
		}
		n := 0
		for _, u := range r.Units {
			if !u.Unchanged {
				n++
			}
		}
		out["changed-units"] = strconv.Itoa(n)
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
