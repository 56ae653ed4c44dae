package catalog

//go:generate go run ./gen

import (
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/fluxgate/fluxgate/validate/catalog/internal/convert"
)

// objectMetaDefinition is the Kubernetes definition used as the metadata
// schema of custom resources.
const objectMetaDefinition = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

//go:embed data/catalog.json.gz
var embedded []byte

var (
	loadOnce sync.Once
	loaded   *convert.File

	metaOnce   sync.Once
	objectMeta map[string]any
)

// file decompresses the embedded catalog on first use. The data is
// generated and tested with the package, so a failure is a broken build.
func file() *convert.File {
	loadOnce.Do(func() {
		f, err := convert.DecodeFile(embedded)
		if err != nil {
			panic(fmt.Sprintf("catalog: embedded data is corrupt: %v", err))
		}
		loaded = f
	})
	return loaded
}

// KubernetesVersions lists the embedded Kubernetes versions, newest first,
// as "1.37.2".
func KubernetesVersions() []string {
	f := file()
	out := make([]string, len(f.Kubernetes))
	for i, r := range f.Kubernetes {
		out[i] = r.Version
	}
	return out
}

// Schema returns the standalone strict JSON schema for apiVersion/kind at
// a Kubernetes version ("1.36", "1.36.3", "v1.36.3", or "" for the
// newest), and whether the catalog has it. A version matches the embedded
// release of the same minor version whatever its patch number. Flux CRD
// schemas are returned for any Kubernetes version. The caller owns the
// returned bytes.
func Schema(k8sVersion, apiVersion, kind string) ([]byte, bool) {
	f := file()
	gvk := apiVersion + "/" + kind
	if h, ok := f.Flux[gvk]; ok {
		return append([]byte(nil), f.Schemas[h]...), true
	}
	r := release(f, k8sVersion)
	if r == nil {
		return nil, false
	}
	name, ok := r.Kinds[gvk]
	if !ok {
		return nil, false
	}
	s, err := expand(f, r, name)
	if err != nil {
		panic(fmt.Sprintf("catalog: %s at Kubernetes %s: %v", gvk, r.Version, err))
	}
	props, _ := s["properties"].(map[string]any)
	for field, value := range map[string]string{"apiVersion": apiVersion, "kind": kind} {
		if p, ok := props[field].(map[string]any); ok {
			p["enum"] = []any{value}
		}
	}
	s["$schema"] = convert.Draft4
	data, err := convert.Canonical(s)
	if err != nil {
		panic(fmt.Sprintf("catalog: %s: %v", gvk, err))
	}
	return data, true
}

// Kinds lists every apiVersion/kind known at a Kubernetes version, as
// "apps/v1/Deployment" (core kinds as "v1/ConfigMap"), sorted: the kinds
// of that release's OpenAPI spec (alpha and beta APIs included, whether
// or not a cluster enables them) and the Flux kinds. It returns nil for a
// version the catalog does not have (see Schema for how versions match).
func Kinds(k8sVersion string) []string {
	f := file()
	r := release(f, k8sVersion)
	if r == nil {
		return nil
	}
	out := make([]string, 0, len(r.Kinds)+len(f.Flux))
	for gvk := range r.Kinds {
		out = append(out, gvk)
	}
	for gvk := range f.Flux {
		if _, dup := r.Kinds[gvk]; !dup {
			out = append(out, gvk)
		}
	}
	sort.Strings(out)
	return out
}

// FromCRD converts a CustomResourceDefinition (apiextensions.k8s.io/v1, as
// a JSON-compatible map) into strict standalone schemas, one per served
// version, keyed "group/version/Kind". The schemas are made the way the
// catalog's Flux schemas are: the version's openAPIV3Schema, strict where
// it does not preserve unknown fields, with apiVersion and kind pinned and
// metadata checked against Kubernetes' ObjectMeta.
func FromCRD(crd map[string]any) (map[string][]byte, error) {
	metaOnce.Do(func() {
		f := file()
		m, err := expand(f, &f.Kubernetes[0], objectMetaDefinition)
		if err != nil {
			panic(fmt.Sprintf("catalog: ObjectMeta: %v", err))
		}
		objectMeta = m
	})
	return convert.CRD(crd, objectMeta)
}

// expand builds the standalone schema of a definition of release r.
func expand(f *convert.File, r *convert.Release, name string) (map[string]any, error) {
	return convert.Expand(name, func(n string) (map[string]any, bool) {
		h, ok := r.Definitions[n]
		if !ok {
			return nil, false
		}
		v, err := convert.Decode(f.Schemas[h])
		if err != nil {
			return nil, false
		}
		m, ok := v.(map[string]any)
		return m, ok
	})
}

// release finds the embedded release for a version: "" is the newest,
// otherwise the one with the same major and minor version.
func release(f *convert.File, version string) *convert.Release {
	v := strings.TrimPrefix(strings.TrimSpace(version), "v")
	if v == "" {
		return &f.Kubernetes[0]
	}
	parts := strings.Split(v, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return nil
	}
	for _, p := range parts {
		if _, err := strconv.ParseUint(p, 10, 32); err != nil {
			return nil
		}
	}
	for i := range f.Kubernetes {
		rp := strings.Split(f.Kubernetes[i].Version, ".")
		if convert.CompareVersions(rp[0], parts[0]) == 0 && convert.CompareVersions(rp[1], parts[1]) == 0 {
			return &f.Kubernetes[i]
		}
	}
	return nil
}
