package promote

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/fluxgate/fluxgate/fleet"
)

// copies plans the files move kind: every file under from matching one
// of the promotion's Files globs (relative to from) and none of its
// Exclude globs is copied verbatim to the same place under to. It
// returns the target paths it copies, whose scalars are then not edited.
func (plan *Plan) copies(fsys fs.FS, from, to string) (map[string]bool, error) {
	out := map[string]bool{}
	p := plan.Promotion
	if len(p.Files) == 0 {
		return out, nil
	}
	err := fs.WalkDir(fsys, from, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name != from && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		rel := strings.TrimPrefix(name, from+"/")
		if !matchGlobs(p.Files, rel) || matchGlobs(p.Exclude, rel) {
			return nil
		}
		if !d.Type().IsRegular() {
			plan.problem(name, 0, "", "not a regular file; it is not copied")
			return nil
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		target := path.Join(to, rel)
		before, err := fleet.ReadRegularFile(fsys, target)
		switch {
		case err == nil && bytes.Equal(before, data):
			out[target] = true
			return nil
		case err == nil:
		case errors.Is(err, fs.ErrNotExist):
			before = nil
		case isDir(fsys, target):
			plan.problem(target, 0, "", "is a directory in the target; %s is not copied over it", name)
			return nil
		default:
			plan.problem(target, 0, "", "%v; %s is not copied over it", err, name)
			return nil
		}
		out[target] = true
		plan.Changes = append(plan.Changes, Change{Kind: KindFile, File: target, Why: fmt.Sprintf("copied from %s", name)})
		plan.Edits = append(plan.Edits, FileEdit{Path: target, Before: before, After: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("copy files from %s: %w", from, err)
	}
	return out, nil
}

// matchGlobs reports whether rel matches one of globs: a glob matches
// the whole relative path, or, without a slash, the file's base name.
func matchGlobs(globs []string, rel string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, rel); ok {
			return true
		}
		if !strings.Contains(g, "/") {
			if ok, _ := path.Match(g, path.Base(rel)); ok {
				return true
			}
		}
	}
	return false
}
