package validate

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render"
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
	// Workers bounds parallel schema checks; zero means GOMAXPROCS.
	Workers int
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
func Validate(ctx context.Context, repo *fleet.Repo, res *render.Result, opts Options) (*Report, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	v := &run{repo: repo, res: res, opts: opts, skipped: map[string]int{}}
	global := res.Shard.OwnsRepository()
	if global {
		for _, p := range repo.Problems {
			v.add(FromProblem(p), nil)
		}
	}
	for _, u := range res.Units {
		if !res.Owns(u) {
			continue
		}
		for _, p := range u.Problems {
			v.add(FromProblem(p), v.objectAt(u, p.Object))
		}
	}
	if err := v.schemas(ctx); err != nil {
		return nil, err
	}
	v.deprecated(global)
	v.duplicates()
	v.tenants()
	if global {
		v.imagePolicies()
		v.plaintextSecrets()
		v.secretFiles()
	}

	rep := &Report{Findings: v.findings}
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	Sort(rep.Findings)
	rep.Findings = dedupe(rep.Findings)
	rep.Summary = Summary{SkippedKinds: v.skipped}
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
	repo *fleet.Repo
	res  *render.Result
	opts Options

	mu       sync.Mutex
	findings []Finding
	skipped  map[string]int
}

// add records a finding unless an ignore rule or the object's ignore
// annotation covers it.
func (v *run) add(f Finding, obj map[string]any) {
	if ignoredByAnnotation(obj, f.Rule) || ignoredByConfig(v.opts.Ignore, f) {
		return
	}
	v.mu.Lock()
	v.findings = append(v.findings, f)
	v.mu.Unlock()
}

// objectAt finds the object a unit problem names, for its annotations.
func (v *run) objectAt(u *render.Unit, ref string) map[string]any {
	for _, o := range u.Objects {
		if o.Ref() == ref {
			return o.Value()
		}
	}
	return nil
}

func ignoredByAnnotation(obj map[string]any, rule string) bool {
	if obj == nil {
		return false
	}
	md, _ := obj["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	list, _ := ann[IgnoreAnnotation].(string)
	for _, r := range strings.Split(list, ",") {
		if r = strings.TrimSpace(r); r == rule || r == "all" {
			return true
		}
	}
	return false
}

func dedupe(fs []Finding) []Finding {
	out := fs[:0]
	for i, f := range fs {
		if i > 0 && f == fs[i-1] {
			continue
		}
		out = append(out, f)
	}
	return out
}

// objectRef formats an object as Kind/namespace/name.
func objectRef(obj map[string]any) string {
	kind, _ := obj["kind"].(string)
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	return fleet.ObjectRef(kind, ns, name)
}

// schemas checks every rendered object against its schema, in parallel.
func (v *run) schemas(ctx context.Context) error {
	var items []item
	gvkSet := map[string]bool{}
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
			gvk := api + "/" + kind
			if owned {
				items = append(items, item{u, o})
				gvkSet[gvk] = true
			}
			if gvk == crdGVK {
				obj := o.Value()
				schemas, err := crdSchemas(obj)
				if err != nil {
					if owned {
						v.add(Finding{Rule: RuleSchemaInvalid, Severity: SeverityError, File: o.File, Line: o.Line,
							Object: objectRef(obj), Message: fmt.Sprintf("CustomResourceDefinition cannot be turned into a schema: %v", err)}, obj)
					}
					continue
				}
				for k, s := range schemas {
					crds[k] = s
				}
			}
		}
	}
	gvks := make([]string, 0, len(gvkSet))
	for g := range gvkSet {
		gvks = append(gvks, g)
	}
	sort.Strings(gvks)
	catalog := v.opts.Schemas
	if catalog == nil {
		catalog = embeddedSchemas(v.opts.KubernetesVersion)
	}
	checker, err := newSchemaChecker(gvks, crds, catalog, v.opts.SchemaLocations, true)
	if err != nil {
		return err
	}
	defer checker.Close()

	missing := map[string]*item{}
	var missingMu sync.Mutex
	jobs := make(chan item)
	var wg sync.WaitGroup
	for w := 0; w < v.opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range jobs {
				r := checker.checkObject(it.obj)
				switch {
				case r.err != nil:
					v.add(Finding{Rule: RuleSchemaInvalid, Severity: SeverityError, File: it.obj.File, Line: it.obj.Line,
						Object: it.obj.Ref(), Message: r.err.Error()}, it.obj.Value())
				case r.missing:
					missingMu.Lock()
					api, kind := it.obj.GVK()
					g := api + "/" + kind
					v.skipped[g]++
					if prev, ok := missing[g]; !ok || before(it, *prev) {
						cp := it
						missing[g] = &cp
					}
					missingMu.Unlock()
				default:
					for _, fe := range r.errs {
						line := v.repo.FieldLine(it.obj.File, it.obj.Line, fe.path)
						msg := fe.msg
						if len(fe.path) > 0 {
							msg = "/" + strings.Join(fe.path, "/") + ": " + msg
						}
						v.add(Finding{Rule: RuleSchemaInvalid, Severity: SeverityError, File: it.obj.File, Line: line,
							Object: it.obj.Ref(), Message: msg}, it.obj.Value())
					}
				}
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
	sev := SeverityWarning
	if v.opts.Strict {
		sev = SeverityError
	}
	kinds := v.opts.Kinds
	if kinds == nil {
		kinds = embeddedKinds()
	}
	for g, it := range missing {
		api, kind := splitGVK(g)
		if group := strings.Split(api, "/")[0]; fleet.IsFluxGroup(group) && strings.Contains(api, "/") {
			if len(fleet.FluxVersions(group, kind)) > 0 {
				continue // an unserved Flux version: deprecated-api says so
			}
		}
		if isRemovedAPI(kinds, api, kind) {
			continue // a removed Kubernetes API: deprecated-api says so
		}
		v.add(Finding{Rule: RuleSchemaMissing, Severity: sev, File: it.obj.File, Line: it.obj.Line, Object: it.obj.Ref(),
			Message: SchemaMissingMessage(g, v.skipped[g])}, it.obj.Value())
	}
	return nil
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
