package diff

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render"
)

// Action says what happened to an object.
type Action string

const (
	Added   Action = "added"
	Removed Action = "removed"
	Changed Action = "changed"
	// Moved: the object is produced by another unit than before (its
	// content may have changed too; Diff says).
	Moved Action = "moved"
)

// ObjectChange is one object that differs between base and head.
type ObjectChange struct {
	Action     Action `json:"action"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	// BaseName is the object's name in base when it differs (a generated
	// ConfigMap or Secret whose hash suffix changed).
	BaseName string `json:"baseName,omitempty"`
	// File and Line locate the document that produces the object in head
	// (in base for a removed object).
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// FromUnit is the unit that produced a moved object in base.
	FromUnit string `json:"fromUnit,omitempty"`
	// Diff is a unified diff of the object's YAML, base to head, with
	// Secret values redacted; empty for a move without content change.
	Diff string `json:"diff,omitempty"`
}

// Ref names the object as Kind/namespace/name.
func (c ObjectChange) Ref() string { return fleet.ObjectRef(c.Kind, c.Namespace, c.Name) }

// UnitChange is what changes in one unit of one cluster.
type UnitChange struct {
	Cluster string `json:"cluster"`
	// Unit is the unit's ID: Kind/namespace/name of the Flux
	// Kustomization or HelmRelease, or Overlay/<path>.
	Unit string `json:"unit"`
	Kind string `json:"kind"`
	// File and Line locate the unit's declaration (head, or base for a
	// unit that is gone).
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Added   int    `json:"added"`
	Changed int    `json:"changed"`
	Removed int    `json:"removed"`
	Moved   int    `json:"moved"`
	// Status is StatusUnrendered when the unit could not render in base,
	// head or both; its objects are then not compared (the output of a
	// failed build is incomplete). Empty otherwise.
	Status string `json:"status,omitempty"`
	// FailedIn says where the unit could not render: base, head or both.
	FailedIn string `json:"failedIn,omitempty"`
	// Error is the reason the unit could not render: its errors joined,
	// redacted like every object.
	Error string `json:"error,omitempty"`
	// Unchanged is set for a unit that fails the same way in base and
	// head: it is reported, as nothing of it could be compared, but it is
	// no change.
	Unchanged bool `json:"unchanged,omitempty"`
	// Errors are the render errors of the unit in base or head, each
	// prefixed with the side.
	Errors  []string       `json:"errors,omitempty"`
	Objects []ObjectChange `json:"objects,omitempty"`
}

// StatusUnrendered is the Status of a unit that could not render.
const StatusUnrendered = "could not render"

// Unrendered reports whether the unit could not render on either side.
func (u UnitChange) Unrendered() bool { return u.Status == StatusUnrendered }

// HasChanges reports whether the unit changes: an object differs, or it
// renders on one side and not the other, or fails differently.
func (u UnitChange) HasChanges() bool {
	if u.Unrendered() {
		return !u.Unchanged
	}
	return u.Added+u.Changed+u.Removed+u.Moved > 0
}

// Report is the comparison of two renders.
type Report struct {
	Base string `json:"base"`
	Head string `json:"head"`
	// Units lists the units with changes and every unit that could not
	// render on either side, by cluster and unit.
	Units []UnitChange `json:"units"`
}

// Totals sums the object changes of every unit.
func (r *Report) Totals() (added, changed, removed, moved int) {
	for _, u := range r.Units {
		added += u.Added
		changed += u.Changed
		removed += u.Removed
		moved += u.Moved
	}
	return
}

// HasChanges reports whether any unit changed (see UnitChange.HasChanges).
func (r *Report) HasChanges() bool { return r.ChangedUnits() > 0 }

// ChangedUnits counts the units that changed.
func (r *Report) ChangedUnits() int {
	n := 0
	for _, u := range r.Units {
		if u.HasChanges() {
			n++
		}
	}
	return n
}

// Unrendered counts the units that could not render in base, head or
// both: the comparison of their objects is missing from the report.
func (r *Report) Unrendered() int {
	n := 0
	for _, u := range r.Units {
		if u.Unrendered() {
			n++
		}
	}
	return n
}

// Options tune Compare.
type Options struct {
	// Context is the number of unchanged lines around each change in a
	// diff; zero means 3.
	Context int
	// ShowSecrets leaves Secret values as they are.
	ShowSecrets bool
	// RedactionKey keys the hashes that stand for secret values; nil
	// means a random key, so hashes cannot be compared across runs.
	RedactionKey []byte
}

// Compare reports what changes from base to head. base may be nil (every
// object is added).
func Compare(base, head *render.Result, opts Options) *Report {
	if opts.Context <= 0 {
		opts.Context = 3
	}
	c := &comparer{opts: opts, key: opts.RedactionKey}
	if c.key == nil {
		c.key = make([]byte, 32)
		if _, err := rand.Read(c.key); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
	}
	if !opts.ShowSecrets {
		c.sensitive = render.SensitiveValues(base, head)
	}
	bs, hs := sides(base), sides(head)
	rep := &Report{}
	for _, cluster := range unionKeys(bs, hs) {
		rep.Units = append(rep.Units, c.cluster(bs[cluster], hs[cluster])...)
	}
	sort.SliceStable(rep.Units, func(i, j int) bool {
		a, b := rep.Units[i], rep.Units[j]
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		return a.Unit < b.Unit
	})
	return rep
}

// side is one cluster of one render: its units by ID.
type side map[string]*render.Unit

func sides(res *render.Result) map[string]side {
	out := map[string]side{}
	if res == nil {
		return out
	}
	for _, u := range res.Units {
		if out[u.Cluster] == nil {
			out[u.Cluster] = side{}
		}
		out[u.Cluster][u.ID] = u
	}
	return out
}

type comparer struct {
	opts      Options
	key       []byte
	sensitive []string
}

// entry is one object of one unit, under its matching key.
type entry struct {
	unit *render.Unit
	obj  *render.Object
}

func (c *comparer) cluster(base, head side) []UnitChange {
	changes := map[string]*UnitChange{}
	get := func(id string) *UnitChange {
		if uc := changes[id]; uc != nil {
			return uc
		}
		u := head[id]
		if u == nil {
			u = base[id]
		}
		uc := &UnitChange{Cluster: u.Cluster, Unit: u.ID, Kind: u.Kind, File: u.File, Line: u.Line}
		changes[id] = uc
		return uc
	}
	// Objects that appear in one unit and disappear from another are
	// moves; collect both sides' leftovers first.
	added := map[string][]entry{}
	removed := map[string][]entry{}
	for _, id := range unionKeys(base, head) {
		b, h := base[id], head[id]
		if errs := unitErrors(b, h); len(errs) > 0 {
			// Never dropped, even when it fails the same way on both
			// sides or was out of the change's reach on the other.
			uc := get(id)
			uc.Status = StatusUnrendered
			uc.FailedIn = failedIn(b, h)
			uc.Unchanged = sameFailure(b, h)
			for _, e := range errs {
				uc.Errors = append(uc.Errors, c.redactText(e))
			}
			uc.Error = strings.Join(uc.Errors, "; ")
			continue
		}
		if (b != nil && b.Skipped) || (h != nil && h.Skipped) {
			continue // not rendered: the change cannot reach it
		}
		bo, ho := objectsByKey(b), objectsByKey(h)
		for _, k := range unionKeys(bo, ho) {
			be, inBase := bo[k]
			he, inHead := ho[k]
			switch {
			case inBase && inHead:
				if d := c.diff(be.obj, he.obj); d != "" {
					uc := get(id)
					uc.Changed++
					uc.Objects = append(uc.Objects, c.change(Changed, be, he, d))
				}
			case inHead:
				added[k] = append(added[k], he)
			default:
				removed[k] = append(removed[k], be)
			}
		}
	}
	for _, k := range unionKeys(added, removed) {
		as, rs := added[k], removed[k]
		for len(as) > 0 && len(rs) > 0 {
			he, be := as[0], rs[0]
			as, rs = as[1:], rs[1:]
			uc := get(he.unit.ID)
			uc.Moved++
			ch := c.change(Moved, be, he, c.diff(be.obj, he.obj))
			ch.FromUnit = be.unit.ID
			uc.Objects = append(uc.Objects, ch)
		}
		for _, he := range as {
			uc := get(he.unit.ID)
			uc.Added++
			uc.Objects = append(uc.Objects, c.change(Added, entry{}, he, c.diff(nil, he.obj)))
		}
		for _, be := range rs {
			uc := get(be.unit.ID)
			uc.Removed++
			uc.Objects = append(uc.Objects, c.change(Removed, be, entry{}, c.diff(be.obj, nil)))
		}
	}
	out := make([]UnitChange, 0, len(changes))
	for _, uc := range changes {
		sort.SliceStable(uc.Objects, func(i, j int) bool {
			return objectOrder(uc.Objects[i]) < objectOrder(uc.Objects[j])
		})
		out = append(out, *uc)
	}
	return out
}

func objectOrder(c ObjectChange) string {
	return strings.Join([]string{c.Kind, c.Namespace, c.Name, c.APIVersion}, "\x00")
}

// unitErrors lists the render errors of a unit on either side.
func unitErrors(base, head *render.Unit) []string {
	var out []string
	for _, s := range []struct {
		name string
		u    *render.Unit
	}{{"base", base}, {"head", head}} {
		if s.u == nil || !s.u.Failed {
			continue
		}
		n := 0
		for _, p := range s.u.Problems {
			if p.Severity == fleet.SeverityError {
				out = append(out, s.name+": "+p.String())
				n++
			}
		}
		if n == 0 {
			out = append(out, s.name+": the unit failed to render")
		}
	}
	return out
}

// failedIn says on which side a unit failed: base, head or both.
func failedIn(base, head *render.Unit) string {
	b, h := base != nil && base.Failed, head != nil && head.Failed
	switch {
	case b && h:
		return "both"
	case b:
		return "base"
	}
	return "head"
}

// redactText replaces the Secret-derived values in a message (a render
// error may quote what it read) by their tokens.
func (c *comparer) redactText(s string) string {
	if c.opts.ShowSecrets {
		return s
	}
	return c.mask(s).(string)
}

// sameFailure reports whether a unit failed on both sides with the same
// errors.
func sameFailure(base, head *render.Unit) bool {
	if base == nil || head == nil || !base.Failed || !head.Failed {
		return false
	}
	errs := func(u *render.Unit) []string {
		var out []string
		for _, p := range u.Problems {
			if p.Severity == fleet.SeverityError {
				out = append(out, p.String())
			}
		}
		sort.Strings(out)
		return out
	}
	return strings.Join(errs(base), "\n") == strings.Join(errs(head), "\n")
}

func (c *comparer) change(a Action, base, head entry, d string) ObjectChange {
	e := head
	if e.obj == nil {
		e = base
	}
	api, _ := e.obj.Object["apiVersion"].(string)
	kind, ns, name := meta(e.obj.Object)
	ch := ObjectChange{Action: a, APIVersion: api, Kind: kind, Namespace: ns, Name: name, File: e.obj.File, Line: e.obj.Line, Diff: d}
	if base.obj != nil && head.obj != nil {
		if _, _, bn := meta(base.obj.Object); bn != name {
			ch.BaseName = bn
		}
	}
	return ch
}

func meta(obj map[string]any) (kind, namespace, name string) {
	kind, _ = obj["kind"].(string)
	md, _ := obj["metadata"].(map[string]any)
	namespace, _ = md["namespace"].(string)
	name, _ = md["name"].(string)
	return
}

// generatedSuffix matches the hash kustomize appends to the names of the
// ConfigMaps and Secrets it generates: ten characters of a hex digest with
// 0, 1, 3, a and e replaced so the suffix holds no vowel.
var generatedSuffix = regexp.MustCompile(`-[2456789bcdfghkmt]{10}$`)

// matchKey identifies an object across revisions: API group, kind,
// namespace and name without a generator hash suffix.
func matchKey(obj map[string]any) string {
	api, _ := obj["apiVersion"].(string)
	group := ""
	if i := strings.LastIndex(api, "/"); i >= 0 {
		group = api[:i]
	}
	kind, ns, name := meta(obj)
	if kind == "ConfigMap" || kind == "Secret" {
		name = generatedSuffix.ReplaceAllString(name, "")
	}
	return strings.Join([]string{group, kind, ns, name}, "/")
}

func objectsByKey(u *render.Unit) map[string]entry {
	out := map[string]entry{}
	if u == nil {
		return out
	}
	for _, o := range u.Objects {
		k := matchKey(o.Object)
		if _, dup := out[k]; !dup {
			out[k] = entry{unit: u, obj: o}
		}
	}
	return out
}

// diff returns the unified diff between two objects' YAML ("" when equal).
func (c *comparer) diff(base, head *render.Object) string {
	if base != nil && head != nil && reflect.DeepEqual(base.Object, head.Object) {
		// Redaction is the same for both sides: so is the YAML.
		return ""
	}
	a, b := c.yaml(base), c.yaml(head)
	if a == b {
		return ""
	}
	from, to := "base", "head"
	if base == nil {
		from = "/dev/null"
	}
	if head == nil {
		to = "/dev/null"
	}
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: lines(a), B: lines(b),
		FromFile: from, ToFile: to, Context: c.opts.Context,
	})
	if err != nil {
		return fmt.Sprintf("(diff failed: %v)\n", err)
	}
	return d
}

// lines splits text into lines that keep their newline.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	out := strings.SplitAfter(s, "\n")
	if out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// yaml writes an object with sorted keys and its Secret values redacted.
func (c *comparer) yaml(o *render.Object) string {
	if o == nil {
		return ""
	}
	obj := o.Object
	if !c.opts.ShowSecrets {
		obj = c.redact(o.DeepCopy().Object)
	}
	b, err := yaml.Marshal(obj)
	if err != nil {
		return fmt.Sprintf("(cannot encode object: %v)\n", err)
	}
	return string(b)
}

// redact replaces, in obj (a copy the caller owns), every Secret value and
// every value that came from a Secret by a short keyed hash of it.
func (c *comparer) redact(obj map[string]any) map[string]any {
	// A Secret's values are hashed whole, as written.
	tokens := map[string]map[string]any{}
	kind, _ := obj["kind"].(string)
	if _, encrypted := obj["sops"]; kind == "Secret" && !encrypted {
		for _, field := range []string{"data", "stringData"} {
			if m, ok := obj[field].(map[string]any); ok {
				tokens[field] = make(map[string]any, len(m))
				for k, v := range m {
					tokens[field][k] = c.token(fmt.Sprint(v))
				}
			}
		}
	}
	out, _ := c.mask(obj).(map[string]any)
	for field, m := range tokens {
		out[field] = m
	}
	return out
}

// token is what a secret value shows as: the same for the same value
// within one comparison, unrelated to it across comparisons.
func (c *comparer) token(v string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(v))
	return "<redacted:" + hex.EncodeToString(m.Sum(nil))[:8] + ">"
}

func (c *comparer) mask(v any) any {
	if len(c.sensitive) == 0 {
		return v
	}
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = c.mask(e)
		}
	case []any:
		for i, e := range t {
			t[i] = c.mask(e)
		}
	case string:
		for _, s := range c.sensitive {
			if strings.Contains(t, s) {
				t = strings.ReplaceAll(t, s, c.token(s))
			}
		}
		return t
	}
	return v
}

func unionKeys[V any](a, b map[string]V) []string {
	seen := make(map[string]bool, len(a)+len(b))
	var out []string
	for _, m := range []map[string]V{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}
