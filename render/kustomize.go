package render

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render/cache"
	"github.com/fluxgate/fluxgate/render/kustomize"
	"github.com/fluxgate/fluxgate/render/sops"
)

// buildKustomize builds u.Path the way kustomize-controller does: the
// kustomization.yaml that Flux generates from the Kustomization spec
// (created when absent, patched otherwise), a secure build confined to the
// source root with plugins disabled, then per object the post-build
// variable substitution and the spec's commonMetadata.
func (r *renderer) buildKustomize(ctx context.Context, u *Unit, j job, srcDir string, ks map[string]any) {
	r.buildKustomizeIn(ctx, u, j, nil, srcDir, u.Path, ks)
}

// buildKustomizeIn is buildKustomize for a build of dir in the source
// rooted at srcDir, both relative to the root of the tree t: the
// repository when t is nil, or an ExternalArtifact laid out by its copy
// rules, whose files map back to the repository's.
func (r *renderer) buildKustomizeIn(ctx context.Context, u *Unit, j job, t *artifactTree, srcDir, dir string, ks map[string]any) {
	repo, treeDir := r.repo, r.opts.Dir
	if t != nil {
		repo, treeDir = t.repo, t.root
	}
	// fail names the artifact, not the staging directory, in messages.
	fail := func(err error) { r.fail(u, t.scrub(err)) }
	rel := func(p string) string {
		rp, err := filepath.Rel(treeDir, p)
		if err != nil {
			return p
		}
		return filepath.ToSlash(rp)
	}
	if !r.opts.AllowRemoteBases {
		if remote := repo.RemoteBases(dir); len(remote) > 0 {
			fail(fmt.Errorf("kustomize build %s: remote bases are not allowed (use --allow-remote-bases): %s", u.Path, strings.Join(remote, ", ")))
			return
		}
	}
	if t == nil {
		if err := r.needBuild(srcDir, dir, ks); err != nil {
			fail(err)
			return
		}
	}
	srcRoot := filepath.Join(treeDir, filepath.FromSlash(srcDir))
	absDir := filepath.Join(treeDir, filepath.FromSlash(dir))
	spec := ks
	if spec == nil {
		spec = map[string]any{"apiVersion": fleet.GroupKustomize + "/v1", "kind": "Kustomization", "spec": map[string]any{}}
	}
	var manifest []byte
	var kfile string
	var err error
	if t == nil {
		manifest, kfile, err = r.generate(srcDir, dir, spec)
	} else {
		manifest, kfile, err = kustomize.Generate(srcRoot, absDir, spec)
	}
	if err != nil {
		fail(fmt.Errorf("generate kustomization.yaml for %s: %w", u.Path, err))
		return
	}
	manifest, keepOrigin, err := kustomize.WithOriginAnnotations(manifest)
	if err != nil {
		fail(fmt.Errorf("read kustomization file %s: %w", t.original(rel(kfile)), err))
		return
	}
	base, err := kustomize.SourceFS(srcRoot, r.opts.AllowRemoteBases)
	if err != nil {
		fail(fmt.Errorf("open source root %s: %w", srcDir, err))
		return
	}
	ufs := kustomize.NewFS(base, kfile, manifest)
	ufs.Unsafe = r.unsafe
	ufs.MaxFileSize = r.repo.MaxFileSize()
	if t != nil {
		ufs.Unsafe = t.unsafe
	}
	provider, _, _ := unstructured.NestedString(spec, "spec", "decryption", "provider")
	if provider == "sops" && r.opts.Decryptor != nil {
		ufs.Decrypt = r.opts.Decryptor.Decrypt
	}
	key := buildKey(srcDir, dir, rel(kfile), manifest, ufs.Decrypt != nil)
	specJSON, _ := json.Marshal(spec)
	slot := ""
	if t == nil {
		// A laid-out artifact is neither cached nor kept: its files are
		// copies, which the cache's read records cannot check.
		slot = r.unitSlot("kustomize", u.Cluster, u.ID, u.File, strconv.Itoa(u.Line), string(specJSON), key)
	}
	if slot != "" && r.fromUnitCache(u, j, spec, ks, slot, r.rel(kfile)) {
		r.stats.cached.Add(1)
		return
	}
	var m kustomize.Objects
	if k := r.reusableIn(t, key); k != nil {
		ufs.Replay(r.opts.Dir, k.rec)
		m = k.res.DeepCopy()
		r.stats.reused.Add(1)
		if r.opts.KeepBuilds {
			r.kept.put(key, k)
		}
	} else {
		m, err = kustomize.Build(ufs, absDir, kustomize.Options{Helm: r.opts.EnableHelm, Exec: r.opts.EnableExec})
		r.stats.built.Add(1)
		if err != nil {
			if file, derr := ufs.DecryptFailure(); file != "" {
				r.decryptFailed(u, base, file, derr)
				if t != nil {
					// The file of the repository the artifact copied.
					p := &u.Problems[len(u.Problems)-1]
					p.File, p.Message = t.original(rel(file)), t.scrub(errors.New(p.Message)).Error()
				}
			} else if t == nil && ufs.TooLarge() != "" {
				// The loader reported the file (file-too-large); the unit
				// fails without a second finding on the same cause.
				u.Failed = true
			} else {
				fail(fmt.Errorf("kustomize build %s: %w", u.Path, err))
			}
			u.Hash = hashInputs(spec, t.reads(ufs.Reads(treeDir)), nil)
			return
		}
		if r.opts.KeepBuilds && t == nil {
			r.kept.put(key, &keptBuild{rec: ufs.Record(r.opts.Dir), res: m.DeepCopy()})
		}
	}

	own := &ownLookups{output: kustomize.OwnOutput(m)}
	vars, secretVars, varProblems := r.variables(u, j, ks, own.lookup)
	u.Sensitive = append(u.Sensitive, secretVars...)
	u.Problems = append(u.Problems, varProblems...)
	afterVars := len(u.Problems)
	postBuild := ks != nil && hasField(ks, "spec", "postBuild")
	strategy, _, _ := unstructured.NestedString(spec, "spec", "postBuild", "substituteStrategy")
	cm, hasCM, _ := unstructured.NestedMap(spec, "spec", "commonMetadata")

	origins := &originIndex{}
	for _, res := range m {
		if err := ctx.Err(); err != nil {
			return
		}
		if res.GetName() == "" || res.GetKind() == "" || res.GetApiVersion() == "" {
			fail(fmt.Errorf("object without apiVersion, kind or name in %s: %s", u.Path, strings.TrimSpace(res.MustYaml())))
			return
		}
		file, line := r.originIn(origins, t, dir, u, res)
		if !keepOrigin {
			if err := res.SetOrigin(nil); err != nil {
				fail(err)
				return
			}
		}
		ref := fleet.ObjectRef(res.GetKind(), res.GetNamespace(), res.GetName())
		if postBuild {
			undefined, err := kustomize.Substitute(ctx, spec, vars, strategy == "Always", res)
			if err != nil {
				u.Problems = append(u.Problems, fleet.Problem{Rule: fleet.RuleRenderFailed, Severity: fleet.SeverityError,
					File: file, Line: line, Object: ref,
					Message: fmt.Sprintf("post build substitution failed (Kustomization %s): %v", u.ID, err)})
				u.Failed = true
				continue
			}
			for _, name := range undefined {
				u.Problems = append(u.Problems, fleet.Problem{Rule: fleet.RuleSubstitutionUndefined, Severity: fleet.SeverityError,
					File: file, Line: r.varLine(file, line, name), Object: ref,
					Message: fmt.Sprintf("variable %q is not defined by postBuild of %s and has no default; Flux substitutes an empty string", name, u.ID)})
			}
		}
		b, err := res.MarshalJSON()
		if err != nil {
			fail(fmt.Errorf("encode %s: %w", ref, err))
			return
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(b); err != nil {
			fail(fmt.Errorf("decode %s: %w", ref, err))
			return
		}
		if _, encrypted := obj.Object["sops"]; encrypted && obj.GetKind() == "Secret" {
			if u.Kind == KindKustomization && provider != "sops" && obj.GetAnnotations()["kustomize.toolkit.fluxcd.io/decrypt"] != "disabled" {
				u.Problems = append(u.Problems, fleet.Problem{Rule: fleet.RuleRenderFailed, Severity: fleet.SeverityError,
					File: file, Line: line, Object: ref,
					Message: fmt.Sprintf("Secret is SOPS-encrypted but %s sets no spec.decryption; Flux refuses to apply it", u.ID)})
			}
			withPlaceholders(obj.Object)
		} else if obj.GetKind() == "Secret" && len(ufs.Decrypted()) > 0 {
			u.Sensitive = append(u.Sensitive, secretValues(obj.Object)...)
		}
		if hasCM {
			kustomize.SetCommonMetadata(obj, cm)
		}
		u.Objects = append(u.Objects, &Object{Object: obj.Object, File: file, Line: line})
	}
	reads := t.reads(ufs.Reads(treeDir))
	u.Hash = hashInputs(spec, reads, vars)
	if slot != "" && !u.Failed && len(u.Sensitive) == 0 && len(ufs.Decrypted()) == 0 && own.cacheable() && cacheableObjects(u.Objects) && readsInside(reads) {
		r.ucache.Put(slot, cache.EntryName(slot, u.Hash), &cache.Entry{Reads: reads, Overlay: r.rel(kfile), Own: own.records,
			Problems: u.Problems[afterVars:], Objects: toCached(u.Objects)})
	}
}

// fromUnitCache takes a kustomize unit from the unit cache: an entry of
// its slot whose files read are unchanged under the render's root and
// whose input hash, with the variables resolved again now, names it. The
// variables' problems are found again; the rest comes from the entry.
func (r *renderer) fromUnitCache(u *Unit, j job, spec, ks map[string]any, slot, overlay string) bool {
	for _, name := range r.ucache.Candidates(slot) {
		e, err := r.ucache.Get(slot, name)
		if err != nil || e.Overlay != overlay || !r.readsUnchanged(e.Reads, overlay) {
			continue
		}
		missed := false
		own := func(kind, namespace, objName string) map[string]any {
			ref := fleet.ObjectRef(kind, namespace, objName)
			for _, o := range e.Own {
				if o.Ref == ref {
					if o.Object == nil {
						return nil
					}
					return fleet.CopyValue(o.Object).(map[string]any)
				}
			}
			missed = true
			return nil
		}
		vars, secretVars, varProblems := r.variables(u, j, ks, own)
		if missed || len(secretVars) > 0 {
			continue
		}
		hash := hashInputs(spec, e.Reads, vars)
		if cache.EntryName(slot, hash) != name {
			continue
		}
		u.Problems = append(u.Problems, varProblems...)
		u.Problems = append(u.Problems, e.Problems...)
		u.Objects = fromCached(e.Objects)
		u.Hash = hash
		return true
	}
	return false
}

// readsUnchanged reports whether every file of reads ("path sha256", as
// unitFS.reads gives them) but the generated kustomization file has the
// same content under the render's root.
func (r *renderer) readsUnchanged(reads []string, overlay string) bool {
	for _, rd := range reads {
		rel, sum, ok := strings.Cut(rd, " ")
		if !ok {
			return false
		}
		if rel == overlay {
			continue
		}
		if r.fileSum(rel) != sum {
			return false
		}
	}
	return true
}

// readsInside reports whether every file read is inside the repository:
// remote bases are read from temporary clones no later run can check.
func readsInside(reads []string) bool {
	for _, rd := range reads {
		rel, _, _ := strings.Cut(rd, " ")
		if rel == ".." || strings.HasPrefix(rel, "../") || path.IsAbs(rel) {
			return false
		}
	}
	return true
}

// ownLookups answers the lookups of substituteFrom objects in a unit's own
// build output and records them for the unit cache.
type ownLookups struct {
	output  func(kind, namespace, name string) map[string]any
	records []cache.OwnRecord
}

func (o *ownLookups) lookup(kind, namespace, name string) map[string]any {
	obj := o.output(kind, namespace, name)
	rec := cache.OwnRecord{Ref: fleet.ObjectRef(kind, namespace, name)}
	if obj != nil {
		rec.Object = fleet.CopyValue(obj).(map[string]any)
	}
	o.records = append(o.records, rec)
	return obj
}

// cacheable: no Secret was looked up (its values would be written).
func (o *ownLookups) cacheable() bool {
	for _, rec := range o.records {
		if strings.HasPrefix(rec.Ref, "Secret/") {
			return false
		}
	}
	return true
}

// varLine finds the line that uses variable name in file, searching from
// the object's first line; it falls back to that line.
func (r *renderer) varLine(file string, from int, name string) int {
	if r.need(false, file) != nil {
		return from
	}
	data, err := os.ReadFile(filepath.Join(r.opts.Dir, filepath.FromSlash(file)))
	if err != nil || from < 1 {
		return from
	}
	re := regexp.MustCompile(`\$(\{` + regexp.QuoteMeta(name) + `[^A-Za-z0-9_]|` + regexp.QuoteMeta(name) + `([^A-Za-z0-9_]|$))`)
	for i, l := range strings.Split(string(data), "\n") {
		if i+1 >= from && re.MatchString(l) {
			return i + 1
		}
	}
	return from
}

func (r *renderer) fail(u *Unit, err error) {
	u.Failed = true
	u.Problems = append(u.Problems, r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, r.scrubPaths(err.Error())))
}

// decryptFailed fails a unit whose build stopped at a SOPS file the
// given keys cannot open, as kustomize-controller fails the whole
// Kustomization: one problem, on that file (at its sops metadata), instead
// of kustomize's error that nests the decryption error in its own.
func (r *renderer) decryptFailed(u *Unit, fs filesys.FileSystem, file string, err error) {
	u.Failed = true
	msg := "cannot decrypt: " + r.scrubPaths(err.Error())
	var nk *sops.NoKeyError
	if errors.As(err, &nk) {
		msg = nk.Message()
	}
	line := 1
	if data, rerr := fs.ReadFile(file); rerr == nil {
		line = sops.MetadataLine(file, data)
	}
	u.Problems = append(u.Problems, fleet.Problem{Rule: fleet.RuleSOPSDecryptFailed, Severity: fleet.SeverityError,
		File: r.rel(file), Line: line, Object: u.ID, Message: msg})
}

// scrubPaths makes absolute paths of the checkout relative in messages.
func (r *renderer) scrubPaths(msg string) string {
	return strings.ReplaceAll(msg, r.opts.Dir+string(filepath.Separator), "")
}

func (r *renderer) rel(p string) string {
	rel, err := filepath.Rel(r.opts.Dir, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(rel)
}

// originIn maps an object of a build of dir in the tree t (the repository
// when nil) to the file and line of the document it came from: a file of
// a laid-out artifact is mapped back to the repository file it was copied
// from. x indexes the files of one build.
func (r *renderer) originIn(x *originIndex, t *artifactTree, dir string, u *Unit, res *resource.Resource) (string, int) {
	file, line := r.treeOrigin(x, t, dir, u, res)
	if t == nil || file == u.File {
		return file, line
	}
	if t.staged.merged[file] {
		// Merged files are written anew: find the object in the last
		// file merged into it.
		orig := t.original(file)
		if d := x.docs(r.repo, orig).named(res.GetKind(), res.GetName()); d != nil {
			return orig, d.Line
		}
		return orig, 1
	}
	return t.original(file), line
}

func (r *renderer) treeOrigin(x *originIndex, t *artifactTree, dir string, u *Unit, res *resource.Resource) (string, int) {
	repo := r.repo
	if t != nil {
		repo = t.repo
	}
	o, err := res.GetOrigin()
	if err != nil || o == nil {
		return u.File, u.Line
	}
	if o.Repo != "" {
		return u.File, u.Line
	}
	p := o.Path
	if p == "" {
		p = o.ConfiguredIn
	}
	if p == "" {
		return u.File, u.Line
	}
	file := path.Join(dir, filepath.ToSlash(p))
	if o.Path == "" {
		// Generated by a generator: point at the kustomization file.
		return file, 1
	}
	fd := x.docs(repo, file)
	kind, name := res.GetKind(), res.GetName()
	candidates := fd.byKind[kind]
	switch {
	case len(candidates) == 1:
		return file, candidates[0].Line
	case len(candidates) > 1:
		if d := fd.named(kind, name); d != nil {
			return file, d.Line
		}
		// Renamed by a prefix or suffix.
		for _, d := range candidates {
			if d.Name != "" && strings.Contains(name, d.Name) {
				return file, d.Line
			}
		}
		return file, candidates[0].Line
	case len(fd.all) > 0:
		return file, fd.all[0].Line
	}
	return file, 1
}

// originIndex holds the documents of the files one build's objects came
// from, by kind and by kind and name, so that mapping n objects of a file
// back to their documents takes time linear in n.
type originIndex struct {
	files map[originFile]*fileDocs
}

type originFile struct {
	repo *fleet.Repo
	file string
}

type fileDocs struct {
	all    []*fleet.Document
	byKind map[string][]*fleet.Document
	byName map[[2]string]*fleet.Document // kind, name -> first document
}

func (x *originIndex) docs(repo *fleet.Repo, file string) *fileDocs {
	k := originFile{repo, file}
	if fd, ok := x.files[k]; ok {
		return fd
	}
	fd := &fileDocs{all: repo.DocsInFile(file), byKind: map[string][]*fleet.Document{}, byName: map[[2]string]*fleet.Document{}}
	for _, d := range fd.all {
		fd.byKind[d.Kind] = append(fd.byKind[d.Kind], d)
		if _, ok := fd.byName[[2]string{d.Kind, d.Name}]; !ok {
			fd.byName[[2]string{d.Kind, d.Name}] = d
		}
	}
	if x.files == nil {
		x.files = map[originFile]*fileDocs{}
	}
	x.files[k] = fd
	return fd
}

func (fd *fileDocs) named(kind, name string) *fleet.Document { return fd.byName[[2]string{kind, name}] }

func hasField(obj map[string]any, fields ...string) bool {
	_, ok, _ := unstructured.NestedFieldNoCopy(obj, fields...)
	return ok
}

// withPlaceholders replaces the values of a still-encrypted Secret by
// EncryptedPlaceholder and drops its SOPS metadata, as flux build does
// when it cannot decrypt.
func withPlaceholders(obj map[string]any) {
	delete(obj, "sops")
	if data, ok := obj["data"].(map[string]any); ok {
		for k := range data {
			data[k] = base64.StdEncoding.EncodeToString([]byte(EncryptedPlaceholder))
		}
	}
	if data, ok := obj["stringData"].(map[string]any); ok {
		for k := range data {
			data[k] = EncryptedPlaceholder
		}
	}
}

// secretValues returns the plaintext values of a Secret's data (decoded)
// and stringData.
func secretValues(obj map[string]any) []string {
	var out []string
	for _, v := range dataOf("Secret", obj) {
		if v != "" {
			out = append(out, v)
		}
	}
	// The base64 form of data values appears in output as it is.
	if data, ok := obj["data"].(map[string]any); ok {
		for _, v := range data {
			if s, ok := v.(string); ok && s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}
