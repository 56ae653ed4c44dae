package imageupdate

import (
	"fmt"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"github.com/google/go-containerregistry/pkg/name"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// DefaultMessageTemplate is the commit message used when the automation
// has no spec.git.commit.messageTemplate (Flux's default).
const DefaultMessageTemplate = "Update from image update automation"

// TemplateData is the value given to spec.git.commit.messageTemplate: the
// fields image-automation-controller exposes (.AutomationObject, .Changed,
// .Values) and the older .Updated shape that templates written for Flux
// before .Changed still use.
type TemplateData struct {
	AutomationObject types.NamespacedName
	Changed          ChangeResult
	Updated          UpdateResult
	Values           map[string]string
}

// ObjectIdentifier names an object holding a change (apiVersion, kind,
// name, namespace); empty for documents that are not Kubernetes objects.
type ObjectIdentifier struct {
	yaml.ResourceIdentifier
}

// TemplateChange is one changed field as templates see it.
type TemplateChange struct {
	OldValue string
	NewValue string
	Setter   string
}

// ObjectChanges maps objects to their changes.
type ObjectChanges map[ObjectIdentifier][]TemplateChange

// ChangeResult is .Changed: file → object → changes.
type ChangeResult struct {
	FileChanges map[string]ObjectChanges
}

// Changes returns every distinct change.
func (r ChangeResult) Changes() []TemplateChange {
	seen := map[TemplateChange]bool{}
	var out []TemplateChange
	for _, f := range sortedKeys(r.FileChanges) {
		for _, id := range sortedObjects(r.FileChanges[f]) {
			for _, c := range r.FileChanges[f][id] {
				if !seen[c] {
					seen[c] = true
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// Objects returns the changes by object, whatever file holds it.
func (r ChangeResult) Objects() ObjectChanges {
	out := ObjectChanges{}
	for _, oc := range r.FileChanges {
		for id, cs := range oc {
			out[id] = append(out[id], cs...)
		}
	}
	return out
}

// TemplateImage is an image reference set by an update, as the older
// .Updated templates see it.
type TemplateImage struct {
	ref    name.Reference
	policy types.NamespacedName
}

// String returns the reference as written, e.g. "ghcr.io/org/app:v1.0.1".
func (i TemplateImage) String() string { return i.ref.String() }

// Identifier returns the tag or digest.
func (i TemplateImage) Identifier() string { return i.ref.Identifier() }

// Repository returns the repository part, e.g. "org/app".
func (i TemplateImage) Repository() string { return i.ref.Context().RepositoryStr() }

// Registry returns the registry part, e.g. "ghcr.io".
func (i TemplateImage) Registry() string { return i.ref.Context().RegistryStr() }

// Name returns the fully qualified reference.
func (i TemplateImage) Name() string { return i.ref.Name() }

// Policy names the ImagePolicy behind the update.
func (i TemplateImage) Policy() types.NamespacedName { return i.policy }

// UpdatedFile is the images set in one file, by object.
type UpdatedFile struct {
	Objects map[ObjectIdentifier][]TemplateImage
}

// UpdateResult is .Updated: file → object → images.
type UpdateResult struct {
	Files map[string]UpdatedFile
}

// Images returns every distinct image set.
func (r UpdateResult) Images() []TemplateImage {
	seen := map[string]bool{}
	var out []TemplateImage
	for _, f := range sortedKeys(r.Files) {
		objs := r.Files[f].Objects
		ids := make([]ObjectIdentifier, 0, len(objs))
		for id := range objs {
			ids = append(ids, id)
		}
		sortIDs(ids)
		for _, id := range ids {
			for _, img := range objs[id] {
				if k := img.String() + "|" + img.policy.String(); !seen[k] {
					seen[k] = true
					out = append(out, img)
				}
			}
		}
	}
	return out
}

// Objects returns the images by object, whatever file holds it.
func (r UpdateResult) Objects() map[ObjectIdentifier][]TemplateImage {
	out := map[ObjectIdentifier][]TemplateImage{}
	for _, f := range r.Files {
		for id, imgs := range f.Objects {
			out[id] = append(out[id], imgs...)
		}
	}
	return out
}

// NewTemplateData builds the template value for automation a and its
// edits; resolved gives the image each policy selected.
func NewTemplateData(a *Automation, edits []FileEdit, resolved map[string]ImageRef) TemplateData {
	d := TemplateData{
		AutomationObject: types.NamespacedName{Namespace: a.Namespace, Name: a.Name},
		Changed:          ChangeResult{FileChanges: map[string]ObjectChanges{}},
		Updated:          UpdateResult{Files: map[string]UpdatedFile{}},
	}
	if a.Spec.GitSpec != nil {
		d.Values = a.Spec.GitSpec.Commit.MessageTemplateValues
	}
	for _, e := range edits {
		for _, c := range e.Changes {
			id := ObjectIdentifier{yaml.ResourceIdentifier{
				TypeMeta: yaml.TypeMeta{APIVersion: c.Object.APIVersion, Kind: c.Object.Kind},
				NameMeta: yaml.NameMeta{Name: c.Object.Name, Namespace: c.Object.Namespace},
			}}
			oc := d.Changed.FileChanges[c.File]
			if oc == nil {
				oc = ObjectChanges{}
				d.Changed.FileChanges[c.File] = oc
			}
			oc[id] = append(oc[id], TemplateChange{OldValue: c.Old, NewValue: c.New, Setter: c.Setter})

			img, ok := templateImage(c.Policy, resolved[c.Policy])
			if !ok {
				continue
			}
			uf := d.Updated.Files[c.File]
			if uf.Objects == nil {
				uf.Objects = map[ObjectIdentifier][]TemplateImage{}
				d.Updated.Files[c.File] = uf
			}
			if !containsImage(uf.Objects[id], img) {
				uf.Objects[id] = append(uf.Objects[id], img)
			}
		}
	}
	return d
}

func templateImage(policy string, ref ImageRef) (TemplateImage, bool) {
	ns, n, _ := strings.Cut(policy, ":")
	s := ref.Name + ":" + ref.Tag
	if ref.Digest != "" {
		s = ref.Name + "@" + ref.Digest
	}
	r, err := name.ParseReference(s, name.WeakValidation)
	if err != nil {
		return TemplateImage{}, false
	}
	return TemplateImage{ref: r, policy: types.NamespacedName{Namespace: ns, Name: n}}, true
}

func containsImage(list []TemplateImage, img TemplateImage) bool {
	for _, x := range list {
		if x.String() == img.String() && x.policy == img.policy {
			return true
		}
	}
	return false
}

// CommitMessage renders the automation's message template (or
// DefaultMessageTemplate) with data, using the same hermetic sprig
// functions as Flux.
func CommitMessage(a *Automation, data TemplateData) (string, error) {
	text := DefaultMessageTemplate
	if a.Spec.GitSpec != nil && a.Spec.GitSpec.Commit.MessageTemplate != "" {
		text = a.Spec.GitSpec.Commit.MessageTemplate
	}
	t, err := template.New("commit message").Funcs(sprig.HermeticTxtFuncMap()).Parse(text)
	if err != nil {
		return "", fmt.Errorf("%s (%s:%d): spec.git.commit.messageTemplate: %w", a.Ref(), a.Doc.File, a.Doc.Line, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("%s (%s:%d): spec.git.commit.messageTemplate: %w", a.Ref(), a.Doc.File, a.Doc.Line, err)
	}
	if strings.TrimSpace(b.String()) == "" {
		return "", fmt.Errorf("%s (%s:%d): spec.git.commit.messageTemplate gives an empty message", a.Ref(), a.Doc.File, a.Doc.Line)
	}
	return b.String(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedObjects(oc ObjectChanges) []ObjectIdentifier {
	ids := make([]ObjectIdentifier, 0, len(oc))
	for id := range oc {
		ids = append(ids, id)
	}
	sortIDs(ids)
	return ids
}

func sortIDs(ids []ObjectIdentifier) {
	sort.Slice(ids, func(i, j int) bool {
		a, b := ids[i], ids[j]
		return strings.Join([]string{a.Kind, a.Namespace, a.Name, a.APIVersion}, "/") <
			strings.Join([]string{b.Kind, b.Namespace, b.Name, b.APIVersion}, "/")
	})
}
