package validate

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/render/sops"
)

// IgnoreAnnotation on an object lists rule IDs not to report for it.
const IgnoreAnnotation = "fluxgate.io/ignore"

// Options configure Validate.
type Options struct {
	// KubernetesVersion selects the schemas ("1.36"); empty means the
	// newest the catalog holds.
	KubernetesVersion string
	// Strict makes schema-missing an error.
	Strict bool
	// SchemaLocations are more kubeconform schema locations (local path
	// templates), tried after the catalog.
	SchemaLocations []string
	// Schemas overrides the embedded catalog (tests).
	Schemas Schemas
	// Kinds lists the apiVersion/kind pairs served by each Kubernetes
	// version, newest first; it drives deprecated-api for Kubernetes APIs.
	// Nil uses the catalog's.
	Kinds KindIndex
	// Ignore holds the ignore rules of .fluxgate.yaml.
	Ignore []IgnoreRule
	// Workers bounds parallel schema checks; zero means GOMAXPROCS, and
	// more than fleet.MaxWorkers means fleet.MaxWorkers.
	Workers int
	// SkipKinds names kinds whose objects are not schema-checked (--skip-kinds),
	// as kubeconform's -skip does: a kind ("Certificate") or an
	// apiVersion/kind ("cert-manager.io/v1/Certificate"), either a glob
	// ("*.cilium.io/*/*"). Their objects are counted in Summary.Unchecked; the
	// other rules still see them. CheckSkipKinds checks the patterns.
	SkipKinds []string
	// Severity overrides the severity of rules' findings by rule ID
	// (.fluxgate.yaml severity:); SeverityIgnore drops them.
	Severity map[string]string
	// Decryptor, when set, checks the MAC of the SOPS files it opens
	// (sops-mac).
	Decryptor *sops.Decryptor
}

// CheckSkipKinds returns an error naming the first pattern of SkipKinds
// that is not a valid glob.
func CheckSkipKinds(patterns []string) error {
	for _, p := range patterns {
		if p == "" {
			return fmt.Errorf("--skip-kinds: empty kind")
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("--skip-kinds %q: %w", p, err)
		}
	}
	return nil
}

// skipKind reports whether apiVersion/kind matches one of SkipKinds.
func (v *run) skipKind(apiVersion, kind string) bool {
	for _, p := range v.opts.SkipKinds {
		if ok, _ := path.Match(p, kind); ok {
			return true
		}
		if ok, _ := path.Match(p, apiVersion+"/"+kind); ok {
			return true
		}
	}
	return false
}

// KindIndex tells which apiVersion/kinds a Kubernetes version serves.
type KindIndex interface {
	// Versions lists the known Kubernetes versions, newest first.
	Versions() []string
	// Serves reports whether a version serves apiVersion/kind.
	Serves(version, apiVersion, kind string) bool
}

// Validate checks a rendered fleet and returns every finding. Problems of
// loading and rendering become findings too. An error means validation
// itself could not run.
//
// For a render made with a render.Shard, the report holds the shard's part
// only: the findings and counts of the units the shard owns
// (render.Result.Owns), and, for shard 1, the repository's own findings
// (load problems, dependsOn checks, deprecated Flux API versions, image
// policies, Secrets and SOPS files). A schema-missing finding is reported
// by every shard with objects of the kind, at its first one, counting its
// own; merging the reports keeps the first and adds the counts up.
//
// Partitioned by cluster (render.Assignment.ByCluster), the render holds
// the shard's clusters only. Rules over the units of one cluster
// (duplicate-object, tenant-escape) are exact. Schemas come from the
// catalog, the CustomResourceDefinitions committed anywhere in the
// repository, and those the shard's own render outputs: a CRD that only
// another cluster's render outputs (a chart's, or a patched copy) is not
// seen, so its custom resources here are schema-missing, or checked
// against the committed copy, where an unsharded run checks them against
// the last CRD rendered for the kind in any cluster.
//
// Partitioned by unit, the render holds every unit, and rules across
// units see them all: a duplicate-object is reported by the shard owning
// the unit of the second object.
//
// Merging the reports of all shards (report.Merge) gives the report of
// an unsharded run, but for the CRD difference above.
//
// The kinds the target Kubernetes version serves itself are checked
// against the catalog's schemas whatever CRDs define them: the API server
// serves its own kinds first. See Checker for validating units as they
// are rendered.
func Validate(ctx context.Context, repo *fleet.Repo, res *render.Result, opts Options) (*Report, error) {
	c, err := NewChecker(repo, res.Shard, opts)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	for _, u := range res.Units {
		c.v.unit(u, false)
	}
	return c.Report(ctx, res)
}

// UnknownVersionError is a Kubernetes version without embedded schemas:
// validating against it would check no Kubernetes kind, so it is refused.
type UnknownVersionError struct {
	Version string
	Known   []string // newest first
}

func (e *UnknownVersionError) Error() string {
	return fmt.Sprintf("kubernetes version %s: no embedded schemas; known: %s", e.Version, strings.Join(e.Known, ", "))
}

// CheckKubernetesVersion refuses, with an *UnknownVersionError, a
// Kubernetes version ("" for the newest) the embedded catalog has no
// schemas for, so that a command can refuse it before it reads anything.
func CheckKubernetesVersion(version string) error {
	if versions := embeddedKinds().Versions(); len(versions) > 0 && matchVersion(versions, version) == "" {
		return &UnknownVersionError{Version: version, Known: versions}
	}
	return nil
}

// A Checker validates a render's units as they are built, so that a
// render need not hold every object until the end: give Unit to
// render.Options.Checked of a render made with Options.Compact, then call
// Report with its result. The report is the one Validate gives.
//
// Unit checks what does not depend on the rest of the fleet: the schemas
// of the kinds the target Kubernetes version serves itself, which no
// CustomResourceDefinition can replace (the API server serves its own
// kinds first). It then releases (render.Object.Release) the objects
// Report needs no more; those Report still reads keep their JSON: the
// CustomResourceDefinitions and, in owned units, custom resources and
// the other kinds whose schema the whole render decides.
type Checker struct {
	v *run
}

// NewChecker returns a Checker for a render of repo made with shard
// (render.Options.Shard; zero unsharded). Close it when done.
func NewChecker(repo *fleet.Repo, shard render.Shard, opts Options) (*Checker, error) {
	opts.Workers = fleet.Workers(opts.Workers) // a huge --workers is clamped
	v := &run{repo: repo, opts: opts, shard: shard, skipped: map[string]int{}, checked: map[string]int{}, sources: map[string]string{}, unchecked: map[string]int{}, missing: map[string]item{},
		ignores: map[*render.Object]string{}, catalog: opts.Schemas, kinds: opts.Kinds}
	if v.kinds == nil {
		v.kinds = embeddedKinds()
	}
	if versions := v.kinds.Versions(); len(versions) > 0 {
		// An unknown version would check no Kubernetes kind at all.
		if v.target = matchVersion(versions, opts.KubernetesVersion); v.target == "" {
			return nil, &UnknownVersionError{Version: opts.KubernetesVersion, Known: versions}
		}
	}
	if v.catalog == nil {
		v.catalog = embeddedSchemas(opts.KubernetesVersion)
	}
	checker, err := newSchemaChecker(v.schema, opts.SchemaLocations, true)
	if err != nil {
		return nil, err
	}
	v.checker = checker
	return &Checker{v: v}, nil
}

// Unit checks a built unit and releases the objects Report needs no
// more. It is safe for concurrent use, as render.Options.Checked needs.
func (c *Checker) Unit(u *render.Unit) { c.v.unit(u, true) }

// Close removes the Checker's schema files.
func (c *Checker) Close() { c.v.checker.Close() }

// Report runs the checks that need the whole render, res, whose every
// unit Unit saw, and returns the report.
func (c *Checker) Report(ctx context.Context, res *render.Result) (*Report, error) {
	v := c.v
	if res.Shard != v.shard {
		return nil, fmt.Errorf("validate: render of shard %v checked as shard %v", res.Shard, v.shard)
	}
	v.res = res
	global := res.Shard.OwnsRepository()
	if global {
		for _, p := range v.repo.Problems {
			v.add(FromProblem(p), nil)
		}
	}
	for _, u := range res.Units {
		if !res.Owns(u) {
			continue
		}
		for _, p := range u.Problems {
			o := objectAt(u, p.Object)
			v.mu.Lock()
			ann := v.ignores[o]
			v.mu.Unlock()
			v.record(FromProblem(p), ann, about{unit: u})
		}
	}
	if err := v.schemas(ctx); err != nil {
		return nil, err
	}
	v.deprecated(global)
	v.names()
	v.duplicates()
	v.tenants()
	if global {
		v.imagePolicies()
		v.plaintextSecrets()
		v.secretFiles()
		v.kustomizationFields()
	}

	rep := &Report{}
	rep.Findings, rep.Units = v.byUnit(res)
	rep.Summary = Summary{SkippedKinds: v.skipped, Assumed: slices.Clone(v.repo.Assumed)}
	if len(v.checked) > 0 {
		rep.Summary.Checked = v.checked
	}
	if len(v.unchecked) > 0 {
		rep.Summary.Unchecked = v.unchecked
	}
	for _, u := range res.Units {
		if res.Owns(u) {
			rep.Summary.Units++
			rep.Summary.Objects += len(u.Objects)
		}
	}
	for _, f := range rep.Findings {
		switch f.Severity {
		case SeverityError:
			rep.Summary.Errors++
		case SeverityWarning:
			rep.Summary.Warnings++
		}
	}
	return rep, nil
}

type run struct {
	repo  *fleet.Repo
	res   *render.Result // set by Report
	opts  Options
	shard render.Shard

	catalog Schemas
	kinds   KindIndex
	target  string // the Kubernetes version of kinds checked against
	checker *schemaChecker
	// crds holds the schemas of the CustomResourceDefinitions committed
	// and rendered, by apiVersion/kind; set by schemas before it checks
	// the objects that need them.
	crds map[string][]byte
	// operator holds the schemas of the Flux kinds as the Flux Operator
	// serves them, when the render holds a FluxInstance; set by schemas.
	operator *operatorSchemas

	mu       sync.Mutex
	findings []Finding
	// about holds, for each of findings, the unit or rendered object it
	// is about (neither for a repository finding).
	about   []about
	skipped map[string]int
	// checked counts schema-checked objects by source; sources memoizes
	// sourceOf per apiVersion/kind.
	checked map[string]int
	sources map[string]string
	// unchecked counts, per apiVersion/kind, the objects SkipKinds left
	// unchecked.
	unchecked map[string]int
	// missing holds the first object of each apiVersion/kind without a
	// schema.
	missing map[string]item
	// ignores holds the IgnoreAnnotation of the rendered objects that
	// have one, read before the object is released.
	ignores map[*render.Object]string
	// tenancy holds what the tenancy model reads from rendered objects,
	// noted before they are released.
	tenancy tenancy
}

// unit checks a unit's objects whose checks need nothing else of the
// render, and, with release, releases those that Report needs no more.
func (v *run) unit(u *render.Unit, release bool) {
	owned := v.shard.Owns(u.Shard)
	for _, o := range u.Objects {
		v.noteIgnore(o)
		v.tenancy.note(u, o)
		api, kind := o.GVK()
		native := v.native(api, kind)
		if owned && native {
			v.checkSchema(item{u, o})
		}
		if release && api+"/"+kind != crdGVK && api+"/"+kind != fluxInstanceGVK && (native || !owned) {
			o.Release()
		}
	}
}

// native reports whether the target Kubernetes version serves
// apiVersion/kind itself: its schema is the catalog's whatever CRDs the
// fleet holds.
func (v *run) native(apiVersion, kind string) bool {
	group, _, _ := strings.Cut(apiVersion, "/")
	if !strings.Contains(apiVersion, "/") {
		group = ""
	}
	return v.target != "" && !fleet.IsFluxGroup(group) && v.kinds.Serves(v.target, apiVersion, kind)
}

// schema returns the schema objects of apiVersion/kind are checked
// against, in the order a cluster would serve it: the catalog's for a
// kind Kubernetes serves itself; for a Flux kind, when the render holds a
// FluxInstance, the Flux Operator's distribution (the catalog's, patched
// as the operator and the FluxInstance's kustomize patches patch the
// CRDs); else the CustomResourceDefinition's when the render or the
// repository has one; else the catalog's.
func (v *run) schema(apiVersion, kind string) ([]byte, bool) {
	if s, ok := v.schemaSource(apiVersion, kind); ok {
		return s, true
	}
	return v.catalog.Schema(apiVersion, kind)
}

// schemaSource returns the schema of apiVersion/kind when it is not the
// catalog's, and nothing for a kind checked against the catalog.
func (v *run) schemaSource(apiVersion, kind string) ([]byte, bool) {
	if v.native(apiVersion, kind) {
		return nil, false
	}
	if v.operator != nil {
		if s, ok := v.operator.schemas[apiVersion+"/"+kind]; ok {
			return s, true
		}
	}
	s, ok := v.crds[apiVersion+"/"+kind]
	return s, ok
}

// sourceOf names where the schema of a checked apiVersion/kind came
// from (a Source constant), in the order schema tries them.
func (v *run) sourceOf(apiVersion, kind string) string {
	gvk := apiVersion + "/" + kind
	v.mu.Lock()
	src, ok := v.sources[gvk]
	v.mu.Unlock()
	if ok {
		return src
	}
	group, _, _ := strings.Cut(apiVersion, "/")
	fromOperator := false
	if v.operator != nil {
		_, fromOperator = v.operator.schemas[gvk]
	}
	_, fromCRD := v.crds[gvk]
	switch {
	case v.native(apiVersion, kind):
		src = SourceKubernetes
	case fromOperator:
		src = SourceFlux
	case fromCRD:
		src = SourceCRD
	default:
		src = catalogSource(v.opts.KubernetesVersion, group, apiVersion, kind)
	}
	v.mu.Lock()
	v.sources[gvk] = src
	v.mu.Unlock()
	return src
}

// about is what a finding is about: a unit (its own problem), an object
// a unit rendered, or neither.
type about struct {
	unit *render.Unit
	obj  *render.Object
}

// add records a finding about a repository document, or about nothing in
// particular (obj nil), unless an ignore rule or the object's ignore
// annotation covers it.
func (v *run) add(f Finding, obj map[string]any) {
	v.record(f, ignoreAnnotation(obj), about{})
}

// addFor records a finding about a rendered object (nil: none), unless
// an ignore rule or the object's ignore annotation covers it.
func (v *run) addFor(f Finding, o *render.Object) {
	v.mu.Lock()
	ann := v.ignores[o]
	v.mu.Unlock()
	v.record(f, ann, about{obj: o})
}

func (v *run) record(f Finding, annotation string, a about) {
	if ignoredByAnnotation(annotation, f.Rule) || ignoredByConfig(v.opts.Ignore, f) {
		return
	}
	if sev, ok := v.opts.Severity[f.Rule]; ok {
		if sev == SeverityIgnore {
			return
		}
		f.Severity = sev
	}
	v.mu.Lock()
	v.findings = append(v.findings, f)
	v.about = append(v.about, a)
	v.mu.Unlock()
}

// byUnit returns the findings sorted and without repeats, and the units
// res owns with the indexes of the findings about each.
func (v *run) byUnit(res *render.Result) ([]Finding, []Unit) {
	var units []Unit
	index := map[*render.Unit]int{}
	objUnit := map[*render.Object]*render.Unit{}
	for _, u := range res.Units {
		if !res.Owns(u) {
			continue
		}
		index[u] = len(units)
		units = append(units, Unit{ID: u.ID, Cluster: u.Cluster, File: u.File, Line: u.Line})
		for _, o := range u.Objects {
			objUnit[o] = u
		}
	}
	order := make([]int, len(v.findings))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return less(v.findings[order[i]], v.findings[order[j]]) })
	fs := []Finding{}
	for _, i := range order {
		f := v.findings[i]
		if len(fs) == 0 || fs[len(fs)-1] != f {
			fs = append(fs, f)
		}
		// schema-missing stands for every object of its kind, in all
		// units: it is reported at the first and belongs to none.
		if f.Rule == RuleSchemaMissing {
			continue
		}
		u := v.about[i].unit
		if u == nil && v.about[i].obj != nil {
			u = objUnit[v.about[i].obj]
		}
		if k, ok := index[u]; ok && u != nil {
			n := len(fs) - 1
			if l := units[k].Findings; len(l) == 0 || l[len(l)-1] != n {
				units[k].Findings = append(units[k].Findings, n)
			}
		}
	}
	return fs, units
}

// noteIgnore remembers a rendered object's IgnoreAnnotation, decoding
// only an object whose JSON holds the annotation's name.
func (v *run) noteIgnore(o *render.Object) {
	if o.Object == nil {
		b, err := o.JSON()
		if err != nil || !bytes.Contains(b, []byte(IgnoreAnnotation)) {
			return
		}
	}
	if ann := ignoreAnnotation(o.Value()); ann != "" {
		v.mu.Lock()
		v.ignores[o] = ann
		v.mu.Unlock()
	}
}

// objectAt finds the object a unit problem names, for its annotations.
func objectAt(u *render.Unit, ref string) *render.Object {
	for _, o := range u.Objects {
		if o.Ref() == ref {
			return o
		}
	}
	return nil
}

// ignoreAnnotation returns an object's IgnoreAnnotation ("" without one).
func ignoreAnnotation(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	list, _ := ann[IgnoreAnnotation].(string)
	return list
}

// ignoredByAnnotation reports whether an IgnoreAnnotation value lists
// rule (or all).
func ignoredByAnnotation(list, rule string) bool {
	if list == "" {
		return false
	}
	for _, r := range strings.Split(list, ",") {
		if r = strings.TrimSpace(r); r == rule || r == "all" {
			return true
		}
	}
	return false
}

// objectRef formats an object as Kind/namespace/name.
func objectRef(obj map[string]any) string {
	kind, _ := obj["kind"].(string)
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	return fleet.ObjectRef(kind, ns, name)
}

// schemas collects the CustomResourceDefinitions' schemas, checks the
// owned objects that unit left for them, in parallel, and reports the
// kinds without a schema.
func (v *run) schemas(ctx context.Context) error {
	var items []item
	// The CustomResourceDefinitions committed in the repository's files
	// first, so that a shard has them whichever cluster renders them;
	// the render's own CRDs (patched, substituted, or from a chart) win.
	crds := map[string][]byte{}
	for _, d := range v.committedCRDs() {
		schemas, err := crdSchemas(d.Object)
		if err != nil {
			continue // the render reports the CRDs it outputs
		}
		for k, s := range schemas {
			crds[k] = s
		}
	}
	for _, u := range v.res.Units {
		owned := v.res.Owns(u)
		for _, o := range u.Objects {
			api, kind := o.GVK()
			if owned && !v.native(api, kind) {
				items = append(items, item{u, o})
			}
			if api+"/"+kind == crdGVK {
				obj := o.Value()
				if msg := crdNameMismatch(obj); owned && msg != "" {
					v.addFor(Finding{Rule: RuleNameInvalid, Severity: SeverityError, File: o.File, Line: o.Line, Object: o.Ref(), Message: msg}, o)
				}
				schemas, err := crdSchemas(obj)
				if err != nil {
					if owned {
						v.addFor(Finding{Rule: RuleSchemaInvalid, Severity: SeverityError, File: o.File, Line: o.Line,
							Object: objectRef(obj), Message: fmt.Sprintf("CustomResourceDefinition cannot be turned into a schema: %v", err)}, o)
					}
					continue
				}
				for k, s := range schemas {
					crds[k] = s
				}
			}
		}
	}
	v.crds = crds
	if instances := v.fluxInstances(); len(instances) > 0 {
		op, err := v.operatorDistribution(instances)
		if err != nil {
			return err
		}
		v.operator = op
		if v.res.Shard.OwnsRepository() {
			for _, f := range op.problems {
				v.add(f, nil)
			}
		}
	}

	jobs := make(chan item)
	var wg sync.WaitGroup
	for w := 0; w < v.opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range jobs {
				v.checkSchema(it)
			}
		}()
	}
	var cerr error
loop:
	for _, it := range items {
		select {
		case jobs <- it:
		case <-ctx.Done():
			cerr = ctx.Err()
			break loop
		}
	}
	close(jobs)
	wg.Wait()
	if cerr != nil {
		return cerr
	}
	if err := v.checker.err(); err != nil {
		return err
	}
	sev := SeverityWarning
	if v.opts.Strict {
		sev = SeverityError
	}
	for g, it := range v.missing {
		api, kind := splitGVK(g)
		if group := strings.Split(api, "/")[0]; fleet.IsFluxGroup(group) && strings.Contains(api, "/") {
			if len(fleet.FluxVersions(group, kind)) > 0 {
				continue // an unserved Flux version: deprecated-api says so
			}
		}
		if isRemovedAPI(v.kinds, api, kind) {
			continue // a removed Kubernetes API: deprecated-api says so
		}
		v.addFor(Finding{Rule: RuleSchemaMissing, Severity: sev, File: it.obj.File, Line: it.obj.Line, Object: it.obj.Ref(),
			Message: SchemaMissingMessage(g, v.skipped[g])}, it.obj)
	}
	return nil
}

// checkSchema checks one object against its schema; a kind without one
// is counted, and its first object remembered.
func (v *run) checkSchema(it item) {
	if len(v.opts.SkipKinds) > 0 {
		if api, kind := it.obj.GVK(); v.skipKind(api, kind) {
			v.mu.Lock()
			v.unchecked[api+"/"+kind]++
			v.mu.Unlock()
			return
		}
	}
	r := v.checker.checkObject(it.obj)
	switch {
	case r.err != nil:
		v.addFor(Finding{Rule: RuleSchemaInvalid, Severity: SeverityError, File: it.obj.File, Line: it.obj.Line,
			Object: it.obj.Ref(), Message: r.err.Error()}, it.obj)
	case r.missing:
		api, kind := it.obj.GVK()
		g := api + "/" + kind
		v.mu.Lock()
		v.skipped[g]++
		if prev, ok := v.missing[g]; !ok || before(it, prev) {
			v.missing[g] = it
		}
		v.mu.Unlock()
	default:
		api, kind := it.obj.GVK()
		src := v.sourceOf(api, kind)
		v.mu.Lock()
		v.checked[src]++
		v.mu.Unlock()
		for _, fe := range r.errs {
			line := v.repo.FieldLine(it.obj.File, it.obj.Line, fe.path)
			msg := fe.msg
			if len(fe.path) > 0 {
				msg = "/" + strings.Join(fe.path, "/") + ": " + msg
			}
			if v.operator != nil {
				api, kind := it.obj.GVK()
				if _, ok := v.operator.schemas[api+"/"+kind]; ok {
					msg += " (schema: the Flux Operator's CRD for " + v.operator.from + ")"
				}
			}
			v.addFor(Finding{Rule: RuleSchemaInvalid, Severity: SeverityError, File: it.obj.File, Line: line,
				Object: it.obj.Ref(), Message: msg}, it.obj)
		}
	}
}

// item is one rendered object and its unit.
type item struct {
	unit *render.Unit
	obj  *render.Object
}

// before orders two items by origin, then name, for a stable choice of
// the first object of a kind.
func before(a, b item) bool {
	if a.obj.File != b.obj.File {
		return a.obj.File < b.obj.File
	}
	if a.obj.Line != b.obj.Line {
		return a.obj.Line < b.obj.Line
	}
	return a.obj.Ref() < b.obj.Ref()
}

// crdGVK is the apiVersion/kind of a CustomResourceDefinition.
const crdGVK = "apiextensions.k8s.io/v1/CustomResourceDefinition"

// committedCRDs returns the CustomResourceDefinition documents of the
// repository's files, in file order.
func (v *run) committedCRDs() []*fleet.Document {
	var out []*fleet.Document
	for _, d := range v.repo.Docs {
		if d.APIVersion+"/"+d.Kind == crdGVK {
			out = append(out, d)
		}
	}
	return out
}

// SchemaMissingMessage is the message of a schema-missing finding for
// apiVersion/kind gvk with n objects left unchecked.
func SchemaMissingMessage(gvk string, n int) string {
	return fmt.Sprintf("no schema for %s: %d object(s) not checked (commit its CRD or add --schema-location)", gvk, n)
}

// ParseSchemaMissing reads the apiVersion/kind and the count back from a
// text that holds a SchemaMissingMessage; ok is false when it holds none.
// The shards of a sharded run each count their own objects, and merging
// their reports adds the counts up (see report.Merge).
func ParseSchemaMissing(text string) (gvk string, n int, ok bool) {
	m := schemaMissingRE.FindStringSubmatch(text)
	if m == nil {
		return "", 0, false
	}
	n, err := strconv.Atoi(m[2])
	return m[1], n, err == nil
}

// WithSchemaMissingCount rewrites the count of the SchemaMissingMessage
// that text holds.
func WithSchemaMissingCount(text string, n int) string {
	loc := schemaMissingRE.FindStringSubmatchIndex(text)
	if loc == nil {
		return text
	}
	return text[:loc[4]] + strconv.Itoa(n) + text[loc[5]:]
}

var schemaMissingRE = regexp.MustCompile(`no schema for (\S+): (\d+) object\(s\) not checked`)
