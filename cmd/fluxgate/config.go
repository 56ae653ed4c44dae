package main

import (
	"fmt"
	"os"
	"sort"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/validate"
)

// configDefaultCommands are the commands whose flag defaults
// .fluxgate.yaml's defaults: may set; their first argument is DIR.
var configDefaultCommands = map[string]bool{"validate": true, "render": true, "diff": true}

// applyConfigDefaults sets, for the flags of cmd not given on the command
// line, the values .fluxgate.yaml (in DIR, the first argument) declares
// under defaults.<command>: a flag given wins, then the file, then the
// flag's own default. A list value sets a repeatable flag once per item.
// An unknown command or flag name is an error naming the file.
func applyConfigDefaults(cmd *cobra.Command, args []string) error {
	if !configDefaultCommands[cmd.Name()] || cmd.Parent() == nil || cmd.Parent().Parent() != nil {
		return nil
	}
	dir := dirArg(args)
	if dir == stdinArg {
		dir = "."
	}
	cfg, err := validate.LoadConfig(os.DirFS(dir))
	if err != nil {
		return err
	}
	for name := range cfg.Defaults {
		if !configDefaultCommands[name] {
			return fmt.Errorf("%s: defaults.%s: only validate, render and diff take defaults", validate.ConfigFile, name)
		}
	}
	flags := cfg.Defaults[cmd.Name()]
	names := make([]string, 0, len(flags))
	for n := range flags {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		where := fmt.Sprintf("%s: defaults.%s.%s", validate.ConfigFile, cmd.Name(), n)
		f := cmd.Flags().Lookup(n)
		if f == nil {
			return fmt.Errorf("%s: %s has no flag --%s", where, cmd.Name(), n)
		}
		if f.Changed {
			continue
		}
		values, err := configValues(flags[n])
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		for _, v := range values {
			if err := cmd.Flags().Set(n, v); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
		}
		f.Changed = false // still not given on the command line
	}
	return nil
}

// configValues turns a default's value into flag values: a scalar is
// one, a list one per item.
func configValues(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		s, err := scalarText(item)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func scalarText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool, float64, int64:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("want a string, number, boolean or a list of them, got %T", v)
}
