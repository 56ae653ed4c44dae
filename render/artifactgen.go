package render

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/bmatcuk/doublestar/v4"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/fleet"
)

// Copy strategies of an ArtifactGenerator copy operation
// (source.extensions.fluxcd.io/v1beta1).
const (
	copyOverwrite = "Overwrite"
	copyMerge     = "Merge"
	copyExtract   = "Extract"
)

// errUnsupported marks what a cluster does and fluxgate cannot do offline
// (a tarball to extract, a ResourceSet input strategy): a warning, not an
// error in the repository.
var errUnsupported = errors.New("not supported offline")

// copyRule is one spec.artifacts[].copy[] operation of an ArtifactGenerator.
type copyRule struct {
	From     string
	To       string
	Exclude  []string
	Strategy string
	Optional bool
}

// copySource is a source alias of an ArtifactGenerator mapped to the tree:
// its directory on disk and relative to the repository root.
type copySource struct {
	abs, rel string
}

// stagedTree is what a series of copy rules laid out in a staging
// directory: for every staged file, the repository file it came from (the
// last one copied or merged into it), so that findings point at the
// original file.
type stagedTree struct {
	origin map[string]string
	merged map[string]bool
}

// stageCopies applies the copy rules in order to the staging directory
// dst, as source-watcher builds an ExternalArtifact: "@alias/pattern" is
// matched in the alias's source (a pattern without glob characters names a
// file or a directory and is copied as cp would; a "dir/**" pattern copies
// what dir holds; other patterns keep the matched path), into
// "@artifact/path"; excludes are doublestar patterns matched against the
// path in the source, the path below the pattern's literal prefix and, for
// patterns without a slash, the file name; with the Merge strategy a file
// that already exists in the artifact is deep-merged with the copied one as
// YAML (maps merged, everything else replaced), otherwise it is
// overwritten. Extract (tarballs) is not supported offline.
func stageCopies(ctx context.Context, rules []copyRule, sources map[string]copySource, dst string) (*stagedTree, error) {
	st := &stagedTree{origin: map[string]string{}, merged: map[string]bool{}}
	dstRoot, err := os.OpenRoot(dst)
	if err != nil {
		return nil, err
	}
	defer dstRoot.Close()
	for _, op := range rules {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := st.apply(op, sources, dstRoot); err != nil {
			return nil, fmt.Errorf("copy %q to %q: %w", op.From, op.To, err)
		}
	}
	return st, nil
}

func (st *stagedTree) apply(op copyRule, sources map[string]copySource, dst *os.Root) error {
	alias, pattern, ok := strings.Cut(strings.TrimPrefix(op.From, "@"), "/")
	if !strings.HasPrefix(op.From, "@") || !ok {
		return errors.New("from must be '@alias/pattern'")
	}
	if !strings.HasPrefix(op.To, "@artifact/") {
		return errors.New("to must start with '@artifact/'")
	}
	dest := strings.TrimPrefix(op.To, "@artifact/")
	if dest == "" {
		dest = "."
	}
	if !filepath.IsLocal(dest) || slices.Contains(strings.Split(dest, "/"), "..") {
		return errors.New("to must stay within the artifact")
	}
	dest = path.Clean(dest)
	for _, p := range append([]string{pattern}, op.Exclude...) {
		if !doublestar.ValidatePattern(p) {
			return fmt.Errorf("invalid glob pattern %q", p)
		}
	}
	switch op.Strategy {
	case "", copyOverwrite, copyMerge:
	case copyExtract:
		return fmt.Errorf("strategy Extract (tarballs): %w", errUnsupported)
	default:
		return fmt.Errorf("unknown strategy %q", op.Strategy)
	}
	src, ok := sources[alias]
	if !ok {
		return fmt.Errorf("source alias %q is not declared in spec.sources", alias)
	}
	root, err := os.OpenRoot(src.abs)
	if err != nil {
		return err
	}
	defer root.Close()
	c := &copier{st: st, op: op, src: root, srcRel: src.rel, dst: dst}

	if !strings.ContainsAny(pattern, "*?[]") {
		p := path.Clean(pattern)
		info, err := root.Stat(filepath.FromSlash(p))
		if errors.Is(err, fs.ErrNotExist) {
			if op.Optional {
				return nil
			}
			return fmt.Errorf("source %q does not exist in @%s", p, alias)
		}
		if err != nil {
			return err
		}
		if info.IsDir() {
			return c.copyTree(p, path.Join(dest, path.Base(p)), p)
		}
		if excluded(p, ".", op.Exclude) {
			return nil
		}
		target := dest
		if strings.HasSuffix(op.To, "/") || c.isDir(dest) {
			target = path.Join(dest, path.Base(p))
		}
		return c.copyFile(p, target)
	}

	// source-watcher matches with fs.Glob (one path segment per "*",
	// "**" included) for every strategy but Extract.
	matches, err := fs.Glob(root.FS(), pattern)
	if err != nil {
		return fmt.Errorf("invalid glob pattern %q: %w", pattern, err)
	}
	if len(matches) == 0 {
		if op.Optional {
			return nil
		}
		return fmt.Errorf("no files match %q in @%s", pattern, alias)
	}
	base := selectionRoot(pattern)
	var kept []string
	for _, m := range matches {
		if m == "." || m == ".." || excluded(m, base, op.Exclude) {
			continue
		}
		kept = append(kept, m)
	}
	if len(kept) == 0 {
		if op.Optional {
			return nil
		}
		return fmt.Errorf("every file matching %q in @%s is excluded", pattern, alias)
	}
	for _, m := range kept {
		target := path.Join(dest, m)
		if prefix, ok := strings.CutSuffix(pattern, "/**"); ok {
			if rest, ok := strings.CutPrefix(m, prefix+"/"); ok {
				target = path.Join(dest, rest)
			}
		}
		if c.isDirSrc(m) {
			if err := c.copyTree(m, target, base); err != nil {
				return err
			}
			continue
		}
		if err := c.copyFile(m, target); err != nil {
			return err
		}
	}
	return nil
}

// copier copies the entries of one copy rule.
type copier struct {
	st     *stagedTree
	op     copyRule
	src    *os.Root
	srcRel string
	dst    *os.Root
}

func (c *copier) isDir(p string) bool {
	info, err := c.dst.Stat(filepath.FromSlash(p))
	return err == nil && info.IsDir()
}

func (c *copier) isDirSrc(p string) bool {
	info, err := c.src.Stat(filepath.FromSlash(p))
	return err == nil && info.IsDir()
}

// copyTree copies the directory p of the source to target, skipping the
// excluded files and directories.
func (c *copier) copyTree(p, target, base string) error {
	return fs.WalkDir(c.src.FS(), p, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(name, p), "/")
		if rel == "" {
			return c.dst.MkdirAll(filepath.FromSlash(target), 0o755)
		}
		if excluded(name, base, c.op.Exclude) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return c.dst.MkdirAll(filepath.FromSlash(path.Join(target, rel)), 0o755)
		}
		return c.copyFile(name, path.Join(target, rel))
	})
}

// copyFile copies (or, with Merge onto an existing file, merges) the
// source file p to target.
func (c *copier) copyFile(p, target string) error {
	if dir := path.Dir(target); dir != "." {
		if err := c.dst.MkdirAll(filepath.FromSlash(dir), 0o755); err != nil {
			return err
		}
	}
	orig := path.Join(c.srcRel, p)
	if c.op.Strategy == copyMerge {
		if _, err := c.dst.Stat(filepath.FromSlash(target)); err == nil {
			base, err := loadMergedYAML(c.dst, target)
			if err != nil {
				return fmt.Errorf("merge into %s: %w", target, err)
			}
			overlay, err := loadMergedYAML(c.src, p)
			if err != nil {
				return fmt.Errorf("merge %s: %w", orig, err)
			}
			out, err := yaml.Marshal(mergeMaps(base, overlay))
			if err != nil {
				return err
			}
			c.st.origin[target], c.st.merged[target] = orig, true
			return c.dst.WriteFile(filepath.FromSlash(target), out, 0o644)
		}
	}
	err := copyFrom(c.src, p, func(perm os.FileMode) (*os.File, error) {
		return c.dst.OpenFile(filepath.FromSlash(target), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, perm)
	})
	if err != nil {
		return err
	}
	c.st.origin[target] = orig
	delete(c.st.merged, target)
	return nil
}

// loadMergedYAML reads a YAML file and merges its documents into one map,
// as source-watcher reads both sides of a Merge.
func loadMergedYAML(root *os.Root, name string) (map[string]any, error) {
	data, err := root.ReadFile(filepath.FromSlash(name))
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		doc := map[string]any{}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			return nil, err
		}
		out = mergeMaps(out, doc)
	}
}

// mergeMaps deep-merges overlay into a copy of base: maps are merged key
// by key, any other value (lists included) of overlay replaces base's.
func mergeMaps(base, overlay map[string]any) map[string]any {
	out := make(map[string]any, len(base))
	maps.Copy(out, base)
	for k, v := range overlay {
		if vm, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(bm, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// selectionRoot is the literal directory prefix of a pattern, before its
// first segment with glob characters ("." when there is none).
func selectionRoot(pattern string) string {
	var parts []string
	for _, part := range strings.Split(path.Clean(pattern), "/") {
		if strings.ContainsAny(part, "*?[]") {
			break
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return "."
	}
	return path.Join(parts...)
}

// excluded matches the exclude patterns against a source path, the path
// relative to the rule's selection root, and, for patterns without a
// slash, the file name.
func excluded(name, base string, patterns []string) bool {
	match := func(p string) bool {
		for _, pat := range patterns {
			if doublestar.MatchUnvalidated(pat, p) {
				return true
			}
			if !strings.Contains(pat, "/") && doublestar.MatchUnvalidated(pat, path.Base(p)) {
				return true
			}
		}
		return false
	}
	if len(patterns) == 0 {
		return false
	}
	if match(name) {
		return true
	}
	if base == "." || base == "" {
		return false
	}
	rel, ok := strings.CutPrefix(name, base+"/")
	return ok && match(rel)
}

// artifactTree is an ExternalArtifact of an ArtifactGenerator laid out by
// its copy rules in the render's staging directory (never in the
// repository), loaded as a tree of its own.
type artifactTree struct {
	// ref is ExternalArtifact/namespace/name; gen the generator.
	ref string
	gen *fleet.Document
	// root is the staging directory of the artifact, absolute.
	root   string
	repo   *fleet.Repo
	staged *stagedTree
	// unsafe holds the absolute paths of the artifact's files kustomize
	// must not parse (the repository's refusals, as for the work tree).
	unsafe map[string]string
	err    error
}

// original maps a file of the artifact to the repository file it was
// copied from (itself when t is nil or the file was not copied).
func (t *artifactTree) original(p string) string {
	if t == nil {
		return p
	}
	if o, ok := t.staged.origin[p]; ok {
		return o
	}
	return p
}

// reads names the artifact's files read by a build ("path sum") after the
// artifact, for the unit's input hash.
func (t *artifactTree) reads(rs []string) []string {
	if t == nil {
		return rs
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = t.ref + ":" + r
	}
	return out
}

// scrub replaces the staging directory in an error by the artifact's name.
func (t *artifactTree) scrub(err error) error {
	if t == nil {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), t.root+string(filepath.Separator), t.ref+":"))
}

// artifactSlot lays out one ExternalArtifact once per render.
type artifactSlot struct {
	once sync.Once
	tree *artifactTree
}

// artifact lays out the ExternalArtifact ga describes, once per render and
// generator.
func (r *renderer) artifact(ctx context.Context, ga *fleet.GeneratedArtifact) *artifactTree {
	key := fmt.Sprintf("%s:%d|%s", ga.Generator.File, ga.Generator.Line, ga.Name)
	v, _ := r.artifacts.LoadOrStore(key, &artifactSlot{})
	slot := v.(*artifactSlot)
	slot.once.Do(func() {
		t := &artifactTree{ref: fleet.ObjectRef("ExternalArtifact", ga.Namespace, ga.Name), gen: ga.Generator}
		t.err = r.stageArtifact(ctx, ga, t)
		slot.tree = t
	})
	return slot.tree
}

func (r *renderer) stageArtifact(ctx context.Context, ga *fleet.GeneratedArtifact, t *artifactTree) error {
	dir, err := r.stagingDir()
	if err != nil {
		return err
	}
	t.root, err = os.MkdirTemp(dir, "artifact-")
	if err != nil {
		return err
	}
	sources := map[string]copySource{}
	for alias, rel := range ga.Sources {
		if err := r.need(true, rel); err != nil {
			return err
		}
		sources[alias] = copySource{abs: filepath.Join(r.opts.Dir, filepath.FromSlash(rel)), rel: rel}
	}
	rules := make([]copyRule, 0, len(ga.Copy))
	for _, c := range ga.Copy {
		var rule copyRule
		rule.From, _ = c["from"].(string)
		rule.To, _ = c["to"].(string)
		rule.Strategy, _ = c["strategy"].(string)
		rule.Optional, _ = c["optional"].(bool)
		ex, _ := c["exclude"].([]any)
		for _, e := range ex {
			if s, ok := e.(string); ok {
				rule.Exclude = append(rule.Exclude, s)
			}
		}
		rules = append(rules, rule)
	}
	if t.staged, err = stageCopies(ctx, rules, sources, t.root); err != nil {
		return err
	}
	if t.repo, err = fleet.Load(ctx, os.DirFS(t.root), fleet.Options{}); err != nil {
		return err
	}
	t.unsafe = map[string]string{}
	for f, reason := range t.repo.Unsafe {
		t.unsafe[filepath.Join(t.root, filepath.FromSlash(f))] = reason
	}
	return nil
}

// stagingDir is the render's temporary directory for laid-out artifacts,
// created on first use and removed when the render ends.
func (r *renderer) stagingDir() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.staging == "" {
		d, err := os.MkdirTemp("", "fluxgate-artifacts-")
		if err != nil {
			return "", err
		}
		r.staging = d
	}
	return r.staging, nil
}

// removeStaging removes the staging directory.
func (r *renderer) removeStaging() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.staging != "" {
		os.RemoveAll(r.staging)
		r.staging = ""
	}
}

// buildFromArtifact builds a Kustomization whose sourceRef is an
// ExternalArtifact that an ArtifactGenerator builds from local sources:
// from the artifact as its copy rules lay it out. Objects and problems
// point at the repository files the artifact's files were copied from.
func (r *renderer) buildFromArtifact(ctx context.Context, u *Unit, j job, ga *fleet.GeneratedArtifact, specPath string) {
	t := r.artifact(ctx, ga)
	if errors.Is(t.err, errUnsupported) {
		u.Problems = append(u.Problems, r.problem(u, fleet.RuleSourceUnavailable, fleet.SeverityWarning,
			fmt.Sprintf("ExternalArtifact %s of ArtifactGenerator %s (%s:%d): %v; its units are not rendered",
				t.ref, t.gen.Ref(), t.gen.File, t.gen.Line, t.scrub(t.err))))
		return
	}
	if t.err != nil {
		u.Failed = true
		u.Problems = append(u.Problems, fleet.Problem{Rule: fleet.RuleRenderFailed, Severity: fleet.SeverityError,
			File: ga.Generator.File, Line: ga.Generator.Line, Object: ga.Generator.Ref(),
			Message: fmt.Sprintf("ExternalArtifact %s (needed by %s): %v", t.ref, u.ID, t.scrub(t.err))})
		return
	}
	rel := path.Clean("./" + strings.TrimPrefix(specPath, "/"))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		u.Failed = true
		u.Problems = append(u.Problems, r.problem(u, fleet.RulePathEscape, fleet.SeverityError,
			fmt.Sprintf("spec.path %q leaves the source root", specPath)))
		return
	}
	u.Path = t.ref + ":" + rel
	if !t.repo.IsDir(rel) {
		u.Failed = true
		u.Problems = append(u.Problems, r.problem(u, fleet.RulePathNotFound, fleet.SeverityError,
			fmt.Sprintf("spec.path %q does not exist in %s as the copy rules of ArtifactGenerator %s (%s:%d) lay it out",
				specPath, t.ref, t.gen.Ref(), t.gen.File, t.gen.Line)))
		return
	}
	r.buildKustomizeIn(ctx, u, j, t, ".", rel, j.ks)
}
