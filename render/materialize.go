package render

import (
	"fmt"

	"github.com/fluxgate/fluxgate/fleet"
)

// need hands paths about to be read to Options.Materialize, if set.
func (r *renderer) need(deep bool, paths ...string) error {
	if r.opts.Materialize == nil || len(paths) == 0 {
		return nil
	}
	if err := r.opts.Materialize(paths, deep); err != nil {
		return fmt.Errorf("read the repository's files: %w", err)
	}
	return nil
}

// needBuild hands Options.Materialize what a kustomize build of dir by the
// Flux Kustomization spec (nil for an overlay), in the source rooted at
// srcDir, may read: the build's inputs and its spec.components'.
func (r *renderer) needBuild(srcDir, dir string, spec map[string]any) error {
	if r.opts.Materialize == nil {
		return nil
	}
	if err := r.need(false, srcDir); err != nil {
		return err
	}
	for _, d := range append([]string{dir}, fleet.SpecComponents(dir, spec)...) {
		dirs, refs := r.repo.BuildInputs(d)
		if err := r.need(false, dirs...); err != nil {
			return err
		}
		if err := r.need(true, refs...); err != nil {
			return err
		}
	}
	return nil
}
