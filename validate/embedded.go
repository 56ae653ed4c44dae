package validate

import (
	"strings"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/validate/catalog"
)

// catalogSchemas serves the embedded catalog at one Kubernetes version.
type catalogSchemas struct{ version string }

var _ Schemas = catalogSchemas{}

// Schema returns the Kubernetes or Flux schema of the catalog, else the
// ecosystem catalog's.
func (c catalogSchemas) Schema(apiVersion, kind string) ([]byte, bool) {
	if s, ok := catalog.Schema(c.version, apiVersion, kind); ok {
		return s, true
	}
	s, _, ok := catalog.EcosystemSchema(apiVersion, kind)
	return s, ok
}

// catalogSource names the part of the embedded catalog that serves
// apiVersion/kind, or SourceLocation when none does (the schema came from
// a --schema-location).
func catalogSource(version, group, apiVersion, kind string) string {
	if _, ok := catalog.Schema(version, apiVersion, kind); ok {
		if fleet.IsFluxGroup(group) {
			return SourceFlux
		}
		return SourceKubernetes
	}
	if _, _, ok := catalog.EcosystemSchema(apiVersion, kind); ok {
		return SourceEcosystem
	}
	return SourceLocation
}

func embeddedSchemas(version string) Schemas { return catalogSchemas{version: version} }

// catalogKinds indexes the kinds each embedded Kubernetes version serves.
type catalogKinds struct {
	versions []string
	kinds    map[string]map[string]bool // version -> "apiVersion/kind"
	byKind   map[string]map[string][]string
}

var _ KindIndex = (*catalogKinds)(nil)

func embeddedKinds() KindIndex {
	c := &catalogKinds{versions: catalog.KubernetesVersions(), kinds: map[string]map[string]bool{}, byKind: map[string]map[string][]string{}}
	for _, v := range c.versions {
		set := map[string]bool{}
		by := map[string][]string{}
		for _, k := range catalog.Kinds(v) {
			set[k] = true
			i := strings.LastIndex(k, "/")
			by[k[i+1:]] = append(by[k[i+1:]], k[:i])
		}
		c.kinds[v], c.byKind[v] = set, by
	}
	return c
}

func (c *catalogKinds) Versions() []string { return c.versions }

func (c *catalogKinds) Serves(version, apiVersion, kind string) bool {
	return c.kinds[version][apiVersion+"/"+kind]
}

// APIVersions lists the apiVersions a version serves a kind under.
func (c *catalogKinds) APIVersions(version, kind string) []string {
	return c.byKind[version][kind]
}

// crdSchemas turns a CustomResourceDefinition of the render into schemas,
// keyed "apiVersion/kind" as the checker wants them.
func crdSchemas(crd map[string]any) (map[string][]byte, error) {
	return catalog.FromCRD(crd)
}
