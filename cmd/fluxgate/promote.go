package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/promote"
)

type promoteOptions struct {
	dir            string
	from, to       string
	dryRun         bool
	outputs        []string
	allowDowngrade bool
	requireHealthy string
}

func newPromoteCmd(stdout, stderr io.Writer) *cobra.Command {
	o := &promoteOptions{}
	cmd := &cobra.Command{
		Use:   "promote [NAME]",
		Short: "Plan an environment promotion: the versions one overlay moves to the next",
		Long: `promote compares a source environment with a target one and plans the
edits that bring the target's image tags and digests, chart versions,
postBuild variables and copied files to the source's values. Promotions are
declared under promotions: in .fluxgate.yaml (NAME picks one; default all),
or given with --from and --to: two directories, or two environment names
matched as sibling directories (apps/staging and apps/production).

Only --dry-run is supported: it prints the plan (file, line, path,
old → new, why) and changes nothing.

Exit codes: 0 planned, 1 refused (a downgrade without --allow-downgrade, a
source environment that is not healthy), 2 usage or tool error.`,
		Example: `  # The fleet-infra layout, no configuration
  fluxgate promote --from staging --to production --dry-run

  # One declared promotion as JSON
  fluxgate promote production --dry-run -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			return runPromote(name, o, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dir, "dir", ".", "repository directory")
	f.StringVar(&o.from, "from", "", "source environment: a directory or an environment name")
	f.StringVar(&o.to, "to", "", "target environment: a directory or an environment name")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan and change nothing")
	f.StringArrayVarP(&o.outputs, "output", "o", nil, "the plan as text or json, to stdout or with =PATH to a file (repeatable; default text)")
	f.BoolVar(&o.allowDowngrade, "allow-downgrade", false, "plan changes that move a semantic version backwards")
	f.StringVar(&o.requireHealthy, "require-healthy", "", "a test -o json report of the source environment; refuse while it is not healthy")
	return cmd
}

// promoteRefused is a promotion a guard refused (exit 1).
type promoteRefused struct{ msg string }

func (e *promoteRefused) Error() string { return e.msg }

func runPromote(name string, o *promoteOptions, stdout, stderr io.Writer) error {
	outputs, err := parseOutputs(o.outputs, "text", "text", "json")
	if err != nil {
		return err
	}
	if !o.dryRun {
		return errors.New("promote: only --dry-run is supported so far; the pull request flow is not implemented")
	}
	if (o.from == "") != (o.to == "") {
		return errors.New("promote: --from and --to go together")
	}
	if o.requireHealthy != "" {
		f, err := os.Open(o.requireHealthy)
		if err != nil {
			return fmt.Errorf("--require-healthy: %w", err)
		}
		h, err := promote.ReadHealth(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("--require-healthy %s: %w", o.requireHealthy, err)
		}
		if err := h.Check(); err != nil {
			return &promoteRefused{"promote refused: " + err.Error()}
		}
	}
	fsys := os.DirFS(o.dir)
	var ps []promote.Promotion
	if o.from != "" {
		if name == "" {
			name = o.to
		}
		ps = []promote.Promotion{{Name: name, From: o.from, To: o.to}}
	} else {
		all, err := promote.LoadConfig(fsys)
		if err != nil {
			return err
		}
		if name != "" {
			p, ok := promote.Find(all, name)
			if !ok {
				return fmt.Errorf("promote: no promotion %q in %s", name, promote.ConfigFile)
			}
			all = []promote.Promotion{p}
		}
		if len(all) == 0 {
			return fmt.Errorf("promote: no promotions in %s; give --from and --to", promote.ConfigFile)
		}
		ps = all
	}
	plans, err := promote.ComputeAll(fsys, ps)
	if err != nil {
		return err
	}
	err = writeOutputs(outputs, stdout, func(w io.Writer, out outputSpec) error {
		if out.format == "json" {
			return promote.WriteJSON(w, plans)
		}
		return promote.WriteText(w, plans)
	})
	if err != nil {
		return err
	}
	if !o.allowDowngrade {
		for _, p := range plans {
			if d := p.Downgrades(); len(d) > 0 {
				return &promoteRefused{fmt.Sprintf("promote refused: promotion %s downgrades %s:%d %s from %s to %s (and %d more); --allow-downgrade plans it", p.Promotion.Name, d[0].File, d[0].Line, d[0].Path, d[0].Old, d[0].New, len(d)-1)}
			}
		}
	}
	fmt.Fprintf(stderr, "dry run: nothing written\n")
	return nil
}
