package fleet

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/fluxcd/pkg/sourceignore"
	"github.com/fluxcd/pkg/sourceignore/gitignore"
)

// DefaultMaxFileSize is the largest file read by default (10 MiB).
const DefaultMaxFileSize = 10 << 20

// MaxWorkers is the most goroutines a --workers value starts: more only
// adds memory and scheduling, never speed.
const MaxWorkers = 256

// Workers is the parallelism a --workers value n asks for: GOMAXPROCS for
// zero or less, at most MaxWorkers.
func Workers(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return min(n, MaxWorkers)
}

// Options configure Load.
type Options struct {
	// MaxFileSize is the largest YAML file read; larger files are a
	// file-too-large problem. Zero means DefaultMaxFileSize.
	MaxFileSize int64
	// IsLocalURL reports whether a Git URL names this repository (one of
	// its remotes, or the GitHub repository in Actions). A GitRepository
	// with such a URL resolves to the repository root. Nil when no remote
	// is known.
	IsLocalURL func(url string) bool
	// Sources maps sources explicitly: "Kind/namespace/name" to a directory
	// relative to the repository root.
	Sources map[string]string
	// Workers bounds parallel parsing; zero means GOMAXPROCS, and more
	// than MaxWorkers means MaxWorkers.
	Workers int
	// Parsed, when set, is shared by the loads of several revisions of
	// one repository: a file whose path and content were parsed before is
	// not parsed again.
	Parsed *ParseCache
}

// Repo is a loaded repository.
type Repo struct {
	// FS is the tree the repository was loaded from.
	FS fs.FS
	// Files lists every YAML file loaded, sorted, relative to the root.
	Files []string
	// Dirs lists every directory of the tree that was not ignored, sorted;
	// "." is the root.
	Dirs []string
	// Ignored lists YAML files excluded by .sourceignore or Flux's default
	// ignore rules (Flux never sees them in its artifact).
	Ignored []string
	// Tree lists every regular file that is not ignored, YAML or not, in
	// walk order: the content of the artifact source-controller would
	// package from this tree.
	Tree []string
	// HasIgnored is set when any file or directory is excluded by ignore
	// rules, so the tree on disk differs from Flux's artifact.
	HasIgnored bool
	// HasSymlinks is set when the tree holds a symbolic link. Links are
	// left out of Tree, Dirs and Files: source-controller packages only
	// regular files and directories into an artifact.
	HasSymlinks bool
	// HasSpecial is set when the tree holds a named pipe, socket or
	// device, also left out.
	HasSpecial bool
	// Docs holds every Kubernetes object document in file order.
	Docs []*Document
	// Flux holds the Flux objects among Docs, in the same order.
	Flux []*FluxObject
	// Problems found while loading.
	Problems []Problem
	// Assumed lists, in file order, the assumptions the load took about
	// which source is this work tree (a gitless cluster's OCIRepository,
	// say), each with why and how --source overrides it.
	Assumed []string
	// Unsafe lists files no YAML parser may read again (alias bombs), with
	// the reason; renderers refuse them.
	Unsafe map[string]string

	opts       Options
	byFile     map[string][]*Document
	byRef      map[string][]*Document
	dirSet     map[string]bool
	regular    map[string]bool      // every regular file the walk found, ignored or not
	kustFiles  map[string]*kustFile // dir -> parsed kustomization file
	chartDirs  map[string]bool
	sourceDirs map[string][]sourceCandidate // "Kind/ns/name"; see resolveSources

	// docsByDir counts documents per directory, for BuildSize.
	docsByDirOnce sync.Once
	sortedOnce    sync.Once
	sortedTree    []string // Tree, sorted (FilesBelow)
	sortedDirs    []string // Dirs but ".", sorted (DirsBelow)
	docsByDir     map[string]int
	// filesByDir lists the YAML files per directory, for BuildFluxDocs.
	filesByDirOnce sync.Once
	filesByDir     map[string][]string
}

// Load reads every .yaml/.yml file of fsys once. It honours .sourceignore
// files and Flux's default ignore rules, skips Helm chart directories (their
// templates are not manifests), refuses symlinks leaving the tree and files
// over the size limit, and records what is wrong as Problems.
func Load(ctx context.Context, fsys fs.FS, opts Options) (*Repo, error) {
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	opts.Workers = Workers(opts.Workers)
	r := &Repo{
		FS:        fsys,
		opts:      opts,
		byFile:    map[string][]*Document{},
		byRef:     map[string][]*Document{},
		dirSet:    map[string]bool{},
		regular:   map[string]bool{},
		kustFiles: map[string]*kustFile{},
		chartDirs: map[string]bool{},
		Unsafe:    map[string]string{},
	}
	files, err := r.walk()
	if err != nil {
		return nil, err
	}
	if err := r.parseAll(ctx, files); err != nil {
		return nil, err
	}
	for _, d := range r.Docs {
		r.byFile[d.File] = append(r.byFile[d.File], d)
		r.byRef[d.Ref()] = append(r.byRef[d.Ref()], d)
		if IsFluxGroup(d.Group()) {
			fo := decodeFlux(d)
			if fo.DecodeError != nil && !hasVariable(d.Object) {
				// With ${VAR} in it, only the substituted object matters:
				// its parent's render checks that one.
				r.Problems = append(r.Problems, Problem{
					Rule: RuleYAMLInvalid, Severity: SeverityError, File: d.File, Line: d.Line,
					Object: d.Ref(), Message: fo.DecodeError.Error(),
				})
			}
			r.Flux = append(r.Flux, fo)
		}
	}
	r.resolveSources()
	r.checkDependencies()
	sortProblems(r.Problems)
	return r, nil
}

// walkedFile is a file of the walk. Its size is asked of entry only when
// needed: a file the parse cache holds is never stat'ed.
type walkedFile struct {
	path  string
	entry fs.DirEntry
}

// notRegular reports whether the entry, not a link, is something other than
// a regular file or a directory.
func notRegular(d fs.DirEntry) bool {
	return d.Type()&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice|fs.ModeIrregular) != 0
}

// linkMatters reports whether the link l could stand for what Flux would
// apply: a YAML or JSON name, or a name without an extension (a linked
// directory, or a file a generator reads). Links such as README.md ->
// docs/README.md are left out of the artifact without a word.
func (r *Repo) linkMatters(l string) bool {
	ext := path.Ext(l)
	return isYAML(l) || ext == ".json" || ext == ""
}

// walk lists the tree, applying ignore rules; it records directories,
// kustomization files and chart directories on the way.
func (r *Repo) walk() ([]walkedFile, error) {
	var all []walkedFile
	var dirs, links []string
	var patterns []gitignore.Pattern
	// First pass: every entry, and the .sourceignore files.
	err := fs.WalkDir(r.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			r.Problems = append(r.Problems, Problem{
				Rule: RuleYAMLInvalid, Severity: SeverityError, File: p,
				Message: fmt.Sprintf("cannot read: %v", err),
			})
			return nil
		}
		if d.IsDir() {
			if d.Name() == ".git" && p != "." {
				return fs.SkipDir
			}
			dirs = append(dirs, p)
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			// Never followed: source-controller's artifact holds no
			// links (its archiver keeps regular files and directories
			// only), so a linked file or directory is absent for Flux.
			r.HasSymlinks = true
			links = append(links, p)
			return nil
		}
		if notRegular(d) {
			// A named pipe, socket or device: reading one can block
			// forever. Git stores none; a local tree may hold them.
			r.HasSpecial = true
			r.Problems = append(r.Problems, Problem{
				Rule: RuleYAMLInvalid, Severity: SeverityWarning, File: p,
				Message: "not a regular file (a named pipe, socket or device): skipped, never read",
			})
			return nil
		}
		r.regular[p] = true
		if d.Name() == sourceignore.IgnoreFile {
			data, err := fs.ReadFile(r.FS, p)
			if err == nil {
				patterns = append(patterns, sourceignore.ReadPatterns(bytes.NewReader(data), segments(path.Dir(p)))...)
			}
			return nil
		}
		all = append(all, walkedFile{path: p, entry: d})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read repository: %w", err)
	}
	matcher := sourceignore.NewDefaultMatcher(patterns, nil)
	ignoredDir := map[string]bool{}
	for _, d := range dirs {
		if d != "." && (ignoredDir[path.Dir(d)] || matcher.Match(segments(d), true)) {
			ignoredDir[d] = true
			r.HasIgnored = true
			continue
		}
		r.Dirs = append(r.Dirs, d)
		r.dirSet[d] = true
	}
	for _, l := range links {
		if ignoredDir[path.Dir(l)] || matcher.Match(segments(l), false) {
			continue
		}
		if r.linkMatters(l) {
			r.Problems = append(r.Problems, Problem{
				Rule: RuleSymlinkIgnored, Severity: SeverityWarning, File: l,
				Message: "a symbolic link: Flux's source-controller leaves links out of the artifact, so Flux never sees it and neither does fluxgate; " +
					"copy the file or directory, or list the target in a kustomization.yaml",
			})
		}
	}
	var files []walkedFile
	for _, f := range all {
		dir := path.Dir(f.path)
		if ignoredDir[dir] || matcher.Match(segments(f.path), false) {
			r.HasIgnored = true
			if isYAML(f.path) {
				r.Ignored = append(r.Ignored, f.path)
			}
			continue
		}
		r.Tree = append(r.Tree, f.path)
		if path.Base(f.path) == "Chart.yaml" {
			r.chartDirs[dir] = true
		}
		if !isYAML(f.path) {
			continue
		}
		files = append(files, f)
	}
	// Drop files that live inside a Helm chart: templates are not manifests.
	kept := files[:0]
	for _, f := range files {
		if r.inChart(path.Dir(f.path)) {
			continue
		}
		kept = append(kept, f)
	}
	return kept, nil
}

// inChart reports whether dir is a Helm chart directory or inside one.
func (r *Repo) inChart(dir string) bool {
	for {
		if r.chartDirs[dir] {
			return true
		}
		if dir == "." || dir == "/" || dir == "" {
			return false
		}
		dir = path.Dir(dir)
	}
}

// parsed is what parsing one file gives.
type parsed struct {
	docs    []*Document
	problem *Problem
	kust    *kustFile // never modified once parsed
	size    int64     // of the file parsed
}

// clone copies the documents and the problem, so that two loads never
// share a mutable value.
func (p parsed) clone() parsed {
	out := parsed{kust: p.kust, size: p.size}
	if p.problem != nil {
		pr := *p.problem
		out.problem = &pr
	}
	for _, d := range p.docs {
		c := *d
		c.Object = CopyValue(d.Object).(map[string]any)
		out.docs = append(out.docs, &c)
	}
	return out
}

// CopyValue deep-copies the maps and slices of a decoded YAML or JSON
// value (as Document.Object holds); the other values are immutable.
func CopyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if t == nil {
			return t
		}
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = CopyValue(e)
		}
		return m
	case []any:
		if t == nil {
			return t
		}
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = CopyValue(e)
		}
		return l
	case map[any]any: // a mapping with keys that are not all strings
		if t == nil {
			return t
		}
		m := make(map[any]any, len(t))
		for k, e := range t {
			m[k] = CopyValue(e)
		}
		return m
	default:
		return v
	}
}

func (r *Repo) parseAll(ctx context.Context, files []walkedFile) error {
	results := make([]parsed, len(files))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < r.opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				f := files[i]
				// A file whose content the tree names (a Git blob) is looked
				// up before it is read, or even stat'ed; another after.
				key := parseKey{path: f.path}
				if keyed, ok := r.FS.(ContentKeyFS); ok && r.opts.Parsed != nil {
					if c, err := keyed.ContentKey(f.path); err == nil {
						key.content = c
						if p, ok := r.opts.Parsed.get(key); ok && p.size <= r.opts.MaxFileSize {
							results[i] = p
							continue
						}
					}
				}
				size := int64(-1)
				if info, err := f.entry.Info(); err == nil {
					size = info.Size()
				}
				if size > r.opts.MaxFileSize {
					results[i].problem = &Problem{
						Rule: RuleFileTooLarge, Severity: SeverityError, File: f.path,
						Message: fmt.Sprintf("file is %d bytes, over the limit of %d bytes (--max-file-size)", size, r.opts.MaxFileSize),
					}
					continue
				}
				data, err := fs.ReadFile(r.FS, f.path)
				if err != nil {
					results[i].problem = &Problem{
						Rule: RuleYAMLInvalid, Severity: SeverityError, File: f.path,
						Message: fmt.Sprintf("cannot read: %v", err),
					}
					continue
				}
				if r.opts.Parsed != nil && key.content == "" {
					key.content = ContentKey(data)
					if p, ok := r.opts.Parsed.get(key); ok {
						results[i] = p
						continue
					}
				}
				if isKustomizationFile(f.path) {
					results[i].kust = parseKustFile(f.path, data)
				}
				results[i].size = int64(len(data))
				docs, problem := parseDocuments(f.path, data)
				if problem != nil && looksTemplated(data) {
					// A Go-templated file (Helm, Jsonnet output, CI tooling)
					// beside manifests: not YAML, not for Flux.
					problem.Severity = SeverityInfo
					problem.Message = "not valid YAML (templated file), ignored: " + problem.Message
				}
				results[i].docs, results[i].problem = docs, problem
				r.opts.Parsed.put(key, results[i])
			}
		}()
	}
	var err error
loop:
	for i := range files {
		select {
		case jobs <- i:
		case <-ctx.Done():
			err = ctx.Err()
			break loop
		}
	}
	close(jobs)
	wg.Wait()
	if err != nil {
		return err
	}
	for i, f := range files {
		r.Files = append(r.Files, f.path)
		r.Docs = append(r.Docs, results[i].docs...)
		if p := results[i].problem; p != nil {
			r.Problems = append(r.Problems, *p)
			if strings.Contains(p.Message, "excessive aliasing") {
				r.Unsafe[f.path] = p.Message
			}
		}
		if k := results[i].kust; k != nil {
			r.kustFiles[path.Dir(f.path)] = k
		}
	}
	return nil
}

func looksTemplated(data []byte) bool {
	return bytes.Contains(data, []byte("{{"))
}

// isYAML reports whether p is read as YAML: .yaml and .yml files, and
// kustomize's extension-less "Kustomization" file.
func isYAML(p string) bool {
	return strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") || path.Base(p) == "Kustomization"
}

// segments splits a slash path into the gitignore domain form.
func segments(p string) []string {
	if p == "." || p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// DocsInFile returns the documents of a file in order.
func (r *Repo) DocsInFile(file string) []*Document { return r.byFile[file] }

// Lookup returns the documents that define Kind/namespace/name.
func (r *Repo) Lookup(kind, namespace, name string) []*Document {
	return r.byRef[ObjectRef(kind, namespace, name)]
}

// ReadFile reads a regular file of the tree, ignored or not. Whatever
// the walk did not find as a regular file (a link, a named pipe, a device,
// a path out of the tree, a file added since) is fs.ErrNotExist and is
// never opened: opening a named pipe blocks until a writer comes.
func (r *Repo) ReadFile(name string) ([]byte, error) {
	name = path.Clean(name)
	if !r.regular[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return fs.ReadFile(r.FS, name)
}

// IsDir reports whether dir (relative, slash-separated) is a directory of the
// tree that is not ignored.
func (r *Repo) IsDir(dir string) bool { return r.dirSet[path.Clean(dir)] }

// MaxFileSize is the largest file the repository was loaded with
// (Options.MaxFileSize); builds refuse larger files too.
func (r *Repo) MaxFileSize() int64 { return r.opts.MaxFileSize }

// Kustomizations returns the Flux Kustomizations declared in the repository.
func (r *Repo) Kustomizations() []*FluxObject {
	var out []*FluxObject
	for _, f := range r.Flux {
		if f.Kustomization() != nil {
			out = append(out, f)
		}
	}
	return out
}

// FluxKind returns the Flux objects of a kind.
func (r *Repo) FluxKind(kind string) []*FluxObject {
	var out []*FluxObject
	for _, f := range r.Flux {
		if f.Doc.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Rule < ps[j].Rule
	})
}
