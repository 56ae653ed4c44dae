package validate

import (
	"fmt"
	"path"
	"reflect"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
	kustypes "sigs.k8s.io/kustomize/api/types"
)

// kustomize-controller reads a kustomization file leniently and writes it
// back before the build (fluxcd/pkg/kustomize's generator unmarshals it
// into kustomize's Kustomization type and marshals that): a key the type
// does not know is dropped, and of a key given twice the last one is kept.
// `kustomize build` refuses both; Flux builds without them, which can
// leave a kustomization with no resources and prune what it applied.

var kustFieldsOnce = sync.OnceValue(func() map[string]bool {
	known := map[string]bool{}
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for f := range t.Fields() {
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case f.Anonymous && (name == "" || strings.Contains(opts, "inline")):
				add(f.Type)
			case name != "" && name != "-":
				known[name] = true
			}
		}
	}
	add(reflect.TypeFor[kustypes.Kustomization]())
	return known
})

// kustomizationFields reports the keys of kustomization files that Flux
// drops: unknown ones and all but the last of a repeated one.
func (v *run) kustomizationFields() {
	known := kustFieldsOnce()
	v.kustomizationFiles(func(f string, data []byte) {
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			return // a file that does not parse is reported by the build
		}
		m := doc.Content[0]
		last := map[string]int{} // key -> index of its last occurrence
		for i := 0; i+1 < len(m.Content); i += 2 {
			last[m.Content[i].Value] = i
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			switch {
			case !known[k.Value]:
				v.add(Finding{Rule: RuleKustomizationFieldDropped, Severity: SeverityWarning, File: f, Line: k.Line,
					Message: fmt.Sprintf("%q is not a kustomization field: kustomize-controller drops it and builds without it (kustomize build refuses it)", k.Value)}, nil)
			case last[k.Value] != i:
				v.add(Finding{Rule: RuleKustomizationFieldDropped, Severity: SeverityWarning, File: f, Line: k.Line,
					Message: fmt.Sprintf("%q is given again at line %d: kustomize-controller keeps only the last one and drops this one (kustomize build refuses the file)", k.Value, m.Content[last[k.Value]].Line)}, nil)
			}
		}
	})
}

// kustomizationFiles calls fn with every kustomization file of the tree
// and its content.
func (v *run) kustomizationFiles(fn func(f string, data []byte)) {
	for _, f := range v.repo.Files {
		switch path.Base(f) {
		case "kustomization.yaml", "kustomization.yml", "Kustomization":
		default:
			continue
		}
		if data, err := v.repo.ReadFile(f); err == nil {
			fn(f, data)
		}
	}
}
