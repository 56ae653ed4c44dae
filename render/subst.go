package render

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/fleet"
)

// EncryptedPlaceholder stands for a value of a SOPS-encrypted Secret when no
// decryption key is given.
const EncryptedPlaceholder = "SOPS_ENCRYPTED"

// variables resolves spec.postBuild the way kustomize-controller's
// LoadVariables does: substituteFrom in order (later entries win), then the
// inline substitute map; newlines are removed from values. ConfigMaps and
// Secrets are looked up in the output of the unit's ancestors, then in the
// repository's files, then in the unit's own output, then (second pass) in
// every unit of the cluster.
func (r *renderer) variables(u *Unit, j job, ks map[string]any, own func(kind, namespace, name string) map[string]any) (map[string]string, []string, []fleet.Problem) {
	if ks == nil {
		return nil, nil, nil
	}
	var sensitive []string
	vars := map[string]string{}
	var problems []fleet.Problem
	refs, _, _ := unstructured.NestedSlice(ks, "spec", "postBuild", "substituteFrom")
	for _, e := range refs {
		ref, _ := e.(map[string]any)
		kind, _ := ref["kind"].(string)
		name, _ := ref["name"].(string)
		optional, _ := ref["optional"].(bool)
		obj, problem := r.referenced(u, j, kind, name, own)
		if problem != nil {
			problems = append(problems, *problem)
		}
		if obj == nil {
			if !optional {
				problems = append(problems, r.problem(u, fleet.RuleSourceUnavailable, fleet.SeverityWarning,
					fmt.Sprintf("postBuild.substituteFrom %s is not in the repository; Flux fails unless it exists in the cluster; its variables are treated as undefined",
						fleet.ObjectRef(kind, u.Namespace, name))))
			}
			continue
		}
		for k, v := range dataOf(kind, obj) {
			vars[k] = strings.ReplaceAll(v, "\n", "")
			if kind == "Secret" && v != EncryptedPlaceholder && vars[k] != "" {
				sensitive = append(sensitive, vars[k])
			}
		}
	}
	inline, _, _ := unstructured.NestedStringMap(ks, "spec", "postBuild", "substitute")
	for k, v := range inline {
		vars[k] = strings.ReplaceAll(v, "\n", "")
	}
	return vars, sensitive, problems
}

// referenced resolves a ConfigMap or Secret a unit refers to
// (substituteFrom, valuesFrom) in its namespace: in its ancestors' output,
// the repository's files, its own output (own may be nil), then, in the
// second pass, every unit of the cluster. A SOPS-encrypted Secret is
// decrypted when a key is given (from its file when an ancestor could only
// render placeholders); a Secret that cannot be decrypted is a problem.
func (r *renderer) referenced(u *Unit, j job, kind, name string, own func(kind, namespace, name string) map[string]any) (map[string]any, *fleet.Problem) {
	obj := r.lookup(j.parent, kind, u.Namespace, name, j.cluster, false)
	if obj == nil && own != nil {
		obj = own(kind, u.Namespace, name)
	}
	if obj == nil && r.isFinal() {
		obj = r.lookup(j.parent, kind, u.Namespace, name, j.cluster, true)
	}
	if obj == nil || kind != "Secret" || r.opts.Decryptor == nil {
		return obj, nil
	}
	if isPlaceholder(obj) {
		for _, d := range r.repo.Lookup(kind, u.Namespace, name) {
			if _, ok := d.Object["sops"]; ok {
				obj = d.Object
				break
			}
		}
	}
	if _, encrypted := obj["sops"]; !encrypted {
		return obj, nil
	}
	plain, err := r.decryptObject(obj)
	if err != nil {
		p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, fmt.Sprintf("%s: %v", fleet.ObjectRef(kind, u.Namespace, name), err))
		return obj, &p
	}
	return plain, nil
}

// lookup finds a ConfigMap or Secret: in the output of the unit's ancestors,
// nearest first, then among the repository's documents (preferring one
// inside the cluster's entry point when several define it), then, when all
// is set (second pass), in the output of every unit of the cluster in ID
// order.
func (r *renderer) lookup(parent *Unit, kind, namespace, name, cluster string, all bool) map[string]any {
	for p := parent; p != nil; p = p.parent {
		for _, o := range p.Objects {
			if o.is(kind, namespace, name) {
				return o.Value()
			}
		}
	}
	docs := r.repo.Lookup(kind, namespace, name)
	if len(docs) == 1 {
		return docs[0].Object
	}
	for _, d := range docs {
		if strings.HasPrefix(d.File, cluster+"/") {
			return d.Object
		}
	}
	if !all {
		return nil
	}
	r.mu.Lock()
	units := append([]*Unit(nil), r.units...)
	r.mu.Unlock()
	sort.Slice(units, func(i, j int) bool { return units[i].ID < units[j].ID })
	for _, u := range units {
		if u.Cluster != cluster {
			continue
		}
		for _, o := range u.Objects {
			if o.is(kind, namespace, name) {
				return o.Value()
			}
		}
	}
	return nil
}

// dataOf returns the string data of a ConfigMap, or the decoded data and
// stringData of a Secret. The values of a SOPS-encrypted Secret are not
// available without a key: its keys map to EncryptedPlaceholder.
func dataOf(kind string, obj map[string]any) map[string]string {
	out := map[string]string{}
	_, encrypted := obj["sops"]
	data, _ := obj["data"].(map[string]any)
	for k, v := range data {
		s := fmt.Sprint(v)
		switch {
		case kind == "Secret" && encrypted:
			s = EncryptedPlaceholder
		case kind == "Secret":
			if b, err := base64.StdEncoding.DecodeString(s); err == nil {
				s = string(b)
			}
		}
		out[k] = s
	}
	if kind == "Secret" {
		sd, _ := obj["stringData"].(map[string]any)
		for k, v := range sd {
			if encrypted {
				out[k] = EncryptedPlaceholder
			} else {
				out[k] = fmt.Sprint(v)
			}
		}
	}
	return out
}

// decryptObject decrypts a SOPS-encrypted object held in memory. SOPS binds
// each value to its key path, not to the document's layout, so the object
// can be written back to YAML in any key order first.
func (r *renderer) decryptObject(obj map[string]any) (map[string]any, error) {
	data, err := yaml.Marshal(obj)
	if err != nil {
		return nil, err
	}
	plain, err := r.opts.Decryptor.Decrypt("object.yaml", data)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := yaml.Unmarshal(plain, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// isPlaceholder reports whether a Secret holds EncryptedPlaceholder values
// (it was rendered without a key).
func isPlaceholder(obj map[string]any) bool {
	for _, v := range dataOf("Secret", obj) {
		if v == EncryptedPlaceholder {
			return true
		}
	}
	return false
}
