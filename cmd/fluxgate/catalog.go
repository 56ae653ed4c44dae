package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/validate/catalog"
)

func newCatalogCmd(stdout io.Writer) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "List the operators' custom resources whose schemas are embedded",
		Long: `catalog lists the ecosystem catalog validate checks custom resources against
when neither the cluster nor a CRD in the render serves their kind: each
operator, the module and version its CRDs were converted from, and every
kind and served version (with the count of CEL rules, which are not
evaluated). See docs/catalog.md.`,
		Example: `  fluxgate catalog
  fluxgate catalog -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ops := catalog.Ecosystem()
			if done, err := writeJSONOutput(output, stdout, ops); done || err != nil {
				return err
			}
			var b strings.Builder
			kinds := 0
			for _, op := range ops {
				fmt.Fprintf(&b, "%s %s@%s: %d kinds\n", op.Name, op.Module, op.Version, len(op.Kinds))
				for _, k := range op.Kinds {
					if k.CELRules > 0 {
						fmt.Fprintf(&b, "  %s (%d CEL rules, not evaluated)\n", k.GVK, k.CELRules)
					} else {
						fmt.Fprintf(&b, "  %s\n", k.GVK)
					}
				}
				kinds += len(op.Kinds)
			}
			fmt.Fprintf(&b, "%d operators, %d kinds\n", len(ops), kinds)
			_, err := io.WriteString(stdout, b.String())
			return err
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}
