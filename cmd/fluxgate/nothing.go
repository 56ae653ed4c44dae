package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/validate"
)

// A run that checked nothing is not a pass: pointed at the wrong
// directory, or at one whose every object has no schema, validate would
// say "0 errors" and exit 0. Such a run is a usage error (exit 2) saying
// why and what to point fluxgate at. Findings that reach --fail-on still
// come first (exit 1).

// entryPointHint is what to point fluxgate at.
const entryPointHint = "point fluxgate at a cluster entry point such as clusters/production"

// nothingRendered is the error of a render that found no unit, or nil.
// verb says what was not done ("checked", "rendered"). A shard whose
// partition has items elsewhere is not empty-handed: the other shards
// have the units.
func nothingRendered(verb, dir string, repo *fleet.Repo, res *render.Result) error {
	if len(res.Units) > 0 || (res.Assignment != nil && len(res.Assignment.Items) > 0) {
		return nil
	}
	if len(repo.Kustomizations()) == 0 && render.PlainManifests(repo) {
		read := "no YAML file"
		if n := len(repo.Files); n > 0 {
			read = fmt.Sprintf("%d YAML file(s), none with apiVersion and kind", n)
		}
		return fmt.Errorf("nothing %s in %s: no Flux Kustomization, kustomization.yaml or Kubernetes manifest found (%s); %s",
			verb, dir, read, entryPointHint)
	}
	return fmt.Errorf("nothing %s in %s: no cluster entry point found (a Flux Kustomization that builds the directory declaring it, or a kustomization.yaml that no other includes); name one with --path, such as --path clusters/production",
		verb, dir)
}

// nothingChecked is the error of a validate run that checked nothing, or
// nil: no unit, no object in units that all built, or only objects of
// kinds without a schema. Shards are judged on the first case only: the
// others depend on what the other shards hold.
func nothingChecked(dir string, repo *fleet.Repo, res *render.Result, rep *validate.Report) error {
	if err := nothingRendered("checked", dir, repo, res); err != nil {
		return err
	}
	if res.Shard.Sharded() {
		return nil
	}
	if rep.Summary.Objects == 0 {
		for _, u := range res.Units {
			if u.Failed {
				return nil // its failure is the finding
			}
		}
		return fmt.Errorf("nothing checked in %s: its %d unit(s) render no object; %s", dir, rep.Summary.Units, entryPointHint)
	}
	skipped := 0
	var kinds []string
	for k, n := range rep.Summary.SkippedKinds {
		skipped += n
		kinds = append(kinds, k)
	}
	unchecked := 0
	for k, n := range rep.Summary.Unchecked {
		unchecked += n
		kinds = append(kinds, k)
	}
	if skipped+unchecked < rep.Summary.Objects {
		return nil
	}
	if unchecked > 0 {
		sort.Strings(kinds)
		return fmt.Errorf("nothing checked in %s: all %d objects are of kinds without a schema or skipped by --skip-kinds (%s)",
			dir, rep.Summary.Objects, strings.Join(kinds, ", "))
	}
	sort.Strings(kinds)
	if len(kinds) > 3 {
		kinds = append(kinds[:3], fmt.Sprintf("and %d more", len(kinds)-3))
	}
	return fmt.Errorf("nothing checked in %s: all %d objects are of kinds without a schema (%s); commit their CustomResourceDefinitions or add --schema-location",
		dir, rep.Summary.Objects, strings.Join(kinds, ", "))
}
