package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/report"
	"github.com/fluxgate/fluxgate/validate"
	"github.com/fluxgate/fluxgate/validate/catalog"
	"github.com/fluxgate/fluxgate/workspace"
)

// Shell completion (cobra's `fluxgate completion bash|zsh|fish|powershell`)
// suggests flag values: output formats per command, severities, the
// embedded Kubernetes versions, rule IDs, and the cluster entry points of
// the directory argument for --path.

// outputFormats are the -o values of each command that takes a list.
var outputFormats = map[string][]string{
	"validate":     report.Formats(),
	"merge":        report.Formats(),
	"diff":         {"text", "json", "markdown"},
	"render":       {"yaml", "json"},
	"promote":      {"text", "json"},
	"image-update": {"diff", "json"},
	"version":      {"text", "json"},
	"catalog":      {"text", "json"},
}

// registerCompletions adds the value completions to cmd and its
// subcommands, for the flags each has.
func registerCompletions(cmd *cobra.Command) {
	fixed := func(values ...string) cobra.CompletionFunc {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values, cobra.ShellCompDirectiveNoFileComp
		}
	}
	var rules []string
	for _, r := range validate.Rules {
		rules = append(rules, r.ID+"\t"+r.Summary)
	}
	f := cmd.Flags()
	if formats, ok := outputFormats[cmd.Name()]; ok && f.Lookup("output") != nil {
		_ = cmd.RegisterFlagCompletionFunc("output", fixed(formats...))
	}
	if f.Lookup("fail-on") != nil {
		_ = cmd.RegisterFlagCompletionFunc("fail-on", fixed(validate.SeverityError, validate.SeverityWarning, validate.SeverityInfo, "none"))
	}
	if f.Lookup("kubernetes-version") != nil {
		_ = cmd.RegisterFlagCompletionFunc("kubernetes-version", fixed(kubernetesMinors()...))
	}
	if f.Lookup("skip-rules") != nil {
		_ = cmd.RegisterFlagCompletionFunc("skip-rules", fixed(rules...))
	}
	if f.Lookup("path") != nil {
		_ = cmd.RegisterFlagCompletionFunc("path", entryPointCompletion)
	}
	for _, sub := range cmd.Commands() {
		registerCompletions(sub)
	}
}

// kubernetesMinors lists the embedded Kubernetes versions as minors
// ("1.37"), newest first, as --kubernetes-version takes them.
func kubernetesMinors() []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range catalog.KubernetesVersions() {
		v = strings.TrimPrefix(v, "v")
		if parts := strings.Split(v, "."); len(parts) >= 2 {
			v = parts[0] + "." + parts[1]
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// entryPointCompletion suggests the cluster entry points of the directory
// argument (the current directory without one).
func entryPointCompletion(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	_, repo, cleanup, err := workspace.Load(cmd.Context(), dirArg(args), workspace.Options{})
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	defer cleanup()
	return repo.EntryPoints(), cobra.ShellCompDirectiveNoFileComp
}
