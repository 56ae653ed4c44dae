// Command schemas writes every schema of fluxgate's embedded catalog for one
// Kubernetes version as a local kubeconform schema registry, and prints the
// number of files written.
//
//	go run ./bench/schemas -out /tmp/schemas -kubernetes-version 1.37
//	kubeconform -strict -schema-location '/tmp/schemas/{{ .Group }}/{{ .ResourceAPIVersion }}/{{ .ResourceKind }}.json' ...
//
// A schema is written to OUT/GROUP/VERSION/KIND.json with the values
// kubeconform gives those template fields: GROUP is the part of the
// apiVersion before the slash ("v1" for the core group, whose apiVersion has
// none), VERSION the part after it and KIND the lower-case kind. bench/validate.sh
// uses it so that kubeconform and fluxgate validate check against the same
// schemas.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/fluxgate/fluxgate/validate/catalog"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args, writes the schemas and returns the exit code: 0 on
// success, 2 on a usage or write error.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("schemas", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "output directory (created if missing)")
	versions := catalog.KubernetesVersions() // newest first
	version := fs.String("kubernetes-version", "", "Kubernetes version of the catalog, e.g. 1.36 (default: the newest embedded, "+versions[0]+")")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "schemas: -out is required and no positional arguments are accepted")
		fs.Usage()
		return 2
	}
	kinds := catalog.Kinds(*version)
	if len(kinds) == 0 {
		fmt.Fprintf(stderr, "schemas: no schemas for Kubernetes %q (known: %s)\n", *version, strings.Join(versions, ", "))
		return 2
	}
	n := 0
	for _, gvk := range kinds {
		i := strings.LastIndex(gvk, "/")
		apiVersion, kind := gvk[:i], gvk[i+1:]
		schema, ok := catalog.Schema(*version, apiVersion, kind)
		if !ok {
			fmt.Fprintf(stderr, "schemas: catalog lists %s but has no schema for it\n", gvk)
			return 2
		}
		group, ver, found := strings.Cut(apiVersion, "/")
		if !found {
			ver = group // core: kubeconform sets both fields to "v1"
		}
		p := filepath.Join(*out, group, ver, strings.ToLower(kind)+".json")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintf(stderr, "schemas: %v\n", err)
			return 2
		}
		if err := os.WriteFile(p, schema, 0o644); err != nil {
			fmt.Fprintf(stderr, "schemas: %v\n", err)
			return 2
		}
		n++
	}
	fmt.Fprintln(stdout, n)
	return 0
}
