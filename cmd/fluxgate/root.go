package main

import (
	"io"

	"github.com/spf13/cobra"
)

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "fluxgate",
		Short: "Check and drive Flux GitOps repositories from CI",
		Long: `fluxgate renders a Flux repository exactly as Flux would apply it, offline,
and reports what is wrong with file and line before a cluster pulls it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// .fluxgate.yaml's defaults: for the command's flags.
		PersistentPreRunE: applyConfigDefaults,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newRenderCmd(stdout, stderr))
	root.AddCommand(newValidateCmd(stdout, stderr))
	root.AddCommand(newReportCmd(stdout, stderr))
	root.AddCommand(newDiffCmd(stdout, stderr))
	root.AddCommand(newImageUpdateCmd(stdout, stderr))
	root.AddCommand(newPromoteCmd(stdout, stderr))
	root.AddCommand(newVersionCmd(stdout))
	root.AddCommand(newCatalogCmd(stdout))
	root.AddCommand(newActionCmd(stdout, stderr, func() *cobra.Command { return newRootCmd(stdout, stderr) }))
	registerCompletions(root)
	return root
}

// dirArg is the repository directory argument, "." when omitted.
func dirArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "."
}
