package kustomize

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sort"

	"github.com/fluxcd/pkg/envsubst"
	fluxkustomize "github.com/fluxcd/pkg/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/resource"
)

var notSetRE = regexp.MustCompile(`variable not set \(strict mode\): "([^"]+)"`)

// Substitute runs Flux's post-build substitution on res with the resolved
// vars, through fluxcd/pkg/kustomize exactly as kustomize-controller calls
// it (non-strict: an undefined variable becomes an empty string). It first
// runs the strict mode on a copy to name every undefined variable.
func Substitute(ctx context.Context, ks map[string]any, vars map[string]string, always bool, res *resource.Resource) ([]string, error) {
	if res.GetLabels()[SubstituteKey] == "disabled" || res.GetAnnotations()[SubstituteKey] == "disabled" {
		return nil, nil
	}
	y, err := res.AsYAML()
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(y, []byte("$")) {
		// Nothing to substitute: the library would give the same object
		// back after a YAML/JSON round trip.
		return nil, nil
	}
	var undefined []string
	if len(vars) > 0 || always {
		// Flux's strict mode on the same text, to name every variable
		// that is used without a default and not defined.
		probe := make(map[string]string, len(vars))
		for k, v := range vars {
			probe[k] = v
		}
		for range 100 {
			_, err := envsubst.Eval(string(y), func(name string) (string, bool) {
				v, ok := probe[name]
				return v, ok
			})
			m := notSetRE.FindStringSubmatch(fmt.Sprint(err))
			if err == nil || m == nil {
				break // other errors are reported by the real run below
			}
			undefined = append(undefined, m[1])
			probe[m[1]] = ""
		}
		sort.Strings(undefined)
	}
	opts := []fluxkustomize.SubstituteOption{fluxkustomize.SubstituteWithDryRun(true), fluxkustomize.SubstituteWithAlways(always)}
	if _, err := fluxkustomize.SubstituteVariables(ctx, nil, WithVars(ks, vars), res, opts...); err != nil {
		return undefined, err
	}
	return undefined, nil
}

// SubstituteKey is the label or annotation that turns substitution off.
const SubstituteKey = "kustomize.toolkit.fluxcd.io/substitute"

// WithVars returns a copy of the Kustomization whose postBuild holds the
// resolved variables inline and no substituteFrom, so the library needs no
// cluster to read them.
func WithVars(ks map[string]any, vars map[string]string) unstructured.Unstructured {
	spec, _ := ks["spec"].(map[string]any)
	pb, _ := spec["postBuild"].(map[string]any)
	newPB := map[string]any{}
	for k, v := range pb {
		if k != "substitute" && k != "substituteFrom" {
			newPB[k] = v
		}
	}
	sub := map[string]any{}
	for k, v := range vars {
		sub[k] = v
	}
	newPB["substitute"] = sub
	newSpec := map[string]any{}
	for k, v := range spec {
		newSpec[k] = v
	}
	newSpec["postBuild"] = newPB
	obj := map[string]any{}
	for k, v := range ks {
		obj[k] = v
	}
	obj["spec"] = newSpec
	return unstructured.Unstructured{Object: obj}
}
