package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/fluxgate/fluxgate/validate/catalog"
	"github.com/fluxgate/fluxgate/validate/catalog/internal/convert"
)

// pin is one operator of the ecosystem catalog (pins.yaml).
type pin struct {
	Name    string   `yaml:"name"`
	Module  string   `yaml:"module"`
	Version string   `yaml:"version"`
	CRDs    []string `yaml:"crds"`
}

// readPins reads and checks pins.yaml.
func readPins(path string) ([]pin, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pins []pin
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&pins); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for i, p := range pins {
		if p.Name == "" || p.Module == "" || p.Version == "" || len(p.CRDs) == 0 {
			return nil, fmt.Errorf("%s: entry %d: name, module, version and crds are required", path, i+1)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("%s: %s is pinned twice", path, p.Name)
		}
		seen[p.Name] = true
	}
	return pins, nil
}

// ecosystem writes (or, with check, compares) the ecosystem catalog in
// dir: one gzip file of strict schemas per pin, and index.json, which
// maps every kind to its pin so that a lookup decompresses only the
// operator it needs.
func (g *generator) ecosystem(pinsFile, dir string, check bool) error {
	pins, err := readPins(pinsFile)
	if err != nil {
		return err
	}
	want := map[string][]byte{}
	var index []catalog.Operator
	owner := map[string]string{}
	for _, p := range pins {
		root, err := g.download(p.Module + "@" + p.Version)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		schemas := map[string]any{}
		op := catalog.Operator{Name: p.Name, Module: p.Module, Version: p.Version, Kinds: []catalog.Kind{}}
		for _, glob := range p.CRDs {
			files, err := filepath.Glob(filepath.Join(root, glob))
			if err != nil {
				return fmt.Errorf("%s: %s: %w", p.Name, glob, err)
			}
			if len(files) == 0 {
				return fmt.Errorf("%s: %s@%s has no file %s", p.Name, p.Module, p.Version, glob)
			}
			sort.Strings(files)
			for _, f := range files {
				crds, err := readCRDFile(f)
				if err != nil {
					return fmt.Errorf("%s: %w", p.Name, err)
				}
				for _, crd := range crds {
					out, err := catalog.FromCRD(crd.doc)
					if err != nil {
						return fmt.Errorf("%s: %s: %w", p.Name, crd.file, err)
					}
					cel := celRules(crd.doc)
					for gvk, data := range out {
						if prev, dup := owner[gvk]; dup {
							return fmt.Errorf("%s: %s is also pinned by %s", p.Name, gvk, prev)
						}
						owner[gvk] = p.Name
						v, err := convert.Decode(data)
						if err != nil {
							return err
						}
						schemas[gvk] = v
						op.Kinds = append(op.Kinds, catalog.Kind{GVK: gvk, CELRules: cel[gvkVersion(gvk)]})
					}
				}
			}
		}
		if len(schemas) == 0 {
			return fmt.Errorf("%s: %s@%s: no served CRD version in %v", p.Name, p.Module, p.Version, p.CRDs)
		}
		sort.Slice(op.Kinds, func(i, j int) bool { return op.Kinds[i].GVK < op.Kinds[j].GVK })
		data, err := gzipCanonical(schemas)
		if err != nil {
			return err
		}
		want[p.Name+".json.gz"] = data
		index = append(index, op)
		fmt.Fprintf(g.log, "%s %s@%s: %d kinds, %d bytes compressed\n", p.Name, p.Module, p.Version, len(op.Kinds), len(data))
	}
	idx, err := convert.Canonical(index)
	if err != nil {
		return err
	}
	want["index.json"] = append(idx, '\n')

	have, _ := filepath.Glob(filepath.Join(dir, "*"))
	stale := len(have) != len(want)
	for name, data := range want {
		old, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(old, data) {
			stale = true
		}
	}
	if check {
		if stale {
			return errStale
		}
		fmt.Fprintf(g.log, "ecosystem: %s is up to date\n", dir)
		return nil
	}
	if !stale {
		fmt.Fprintf(g.log, "ecosystem: %s unchanged\n", dir)
		return nil
	}
	for _, p := range have {
		if _, keep := want[filepath.Base(p)]; !keep {
			if err := os.Remove(p); err != nil {
				return err
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, data := range want {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// celRules counts the x-kubernetes-validations rules of each version of a
// CRD, keyed by version name: the catalog does not evaluate them.
func celRules(crd map[string]any) map[string]int {
	out := map[string]int{}
	versions, _ := lookupPath(crd, "spec", "versions").([]any)
	for _, v := range versions {
		vm, _ := v.(map[string]any)
		name, _ := vm["name"].(string)
		out[name] = countCEL(lookupPath(vm, "schema", "openAPIV3Schema"))
	}
	return out
}

func countCEL(v any) int {
	n := 0
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if rules, ok := x.([]any); ok && k == "x-kubernetes-validations" {
				n += len(rules)
				continue
			}
			n += countCEL(x)
		}
	case []any:
		for _, x := range t {
			n += countCEL(x)
		}
	}
	return n
}

// gvkVersion returns the version of "group/version/Kind".
func gvkVersion(gvk string) string {
	dir := filepath.Dir(gvk)
	return filepath.Base(dir)
}

// gzipCanonical is canonical JSON, compressed as the catalog is.
func gzipCanonical(v any) ([]byte, error) {
	data, err := convert.Canonical(v)
	if err != nil {
		return nil, err
	}
	return convert.Gzip(data)
}
