package fleet

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	imagev1auto "github.com/fluxcd/image-automation-controller/api/v1"
	imagev1 "github.com/fluxcd/image-reflector-controller/api/v1"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	notificationv1 "github.com/fluxcd/notification-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
)

// Flux API groups.
const (
	GroupKustomize        = "kustomize.toolkit.fluxcd.io"
	GroupSource           = "source.toolkit.fluxcd.io"
	GroupHelm             = "helm.toolkit.fluxcd.io"
	GroupImage            = "image.toolkit.fluxcd.io"
	GroupNotification     = "notification.toolkit.fluxcd.io"
	GroupSourceExtensions = "source.extensions.fluxcd.io"
)

// apiVersions lists, per Flux group and kind, every version Flux has served,
// newest first. The first entry is the current one.
var apiVersions = map[string]map[string][]string{
	GroupKustomize: {"Kustomization": {"v1", "v1beta2", "v1beta1"}},
	GroupSource: {
		"GitRepository":    {"v1", "v1beta2", "v1beta1"},
		"HelmRepository":   {"v1", "v1beta2", "v1beta1"},
		"HelmChart":        {"v1", "v1beta2", "v1beta1"},
		"Bucket":           {"v1", "v1beta2", "v1beta1"},
		"OCIRepository":    {"v1", "v1beta2"},
		"ExternalArtifact": {"v1"},
	},
	GroupHelm: {"HelmRelease": {"v2", "v2beta2", "v2beta1"}},
	GroupImage: {
		"ImageRepository":       {"v1", "v1beta2", "v1beta1"},
		"ImagePolicy":           {"v1", "v1beta2", "v1beta1"},
		"ImageUpdateAutomation": {"v1", "v1beta2", "v1beta1"},
	},
	GroupNotification: {
		"Alert":    {"v1", "v1beta3", "v1beta2", "v1beta1"},
		"Provider": {"v1", "v1beta3", "v1beta2", "v1beta1"},
		"Receiver": {"v1", "v1beta2", "v1beta1"},
	},
	GroupSourceExtensions: {"ArtifactGenerator": {"v1beta1"}},
}

// FluxObject is a Flux custom resource found in the repository.
type FluxObject struct {
	Doc *Document
	// Known is false for a Flux group/kind/version Flux never served.
	Known bool
	// Current is the version to write instead, set when Doc's version is
	// deprecated; empty when the written version is current.
	Current string
	// Typed is the object decoded into the current Flux API Go type (for
	// example *kustomizev1.Kustomization), or nil for kinds without one.
	Typed any
	// DecodeError is set when the document does not decode into the type.
	DecodeError error
}

// IsFluxGroup reports whether group is one of Flux's API groups.
func IsFluxGroup(group string) bool {
	_, ok := apiVersions[group]
	return ok
}

// FluxVersions returns every version Flux has served for group/kind, newest
// first, or nil when the kind is not a Flux kind.
func FluxVersions(group, kind string) []string {
	return apiVersions[group][kind]
}

// decodeFlux decodes a Flux document into the current API type. Older
// versions are read into the current shape: fields that were renamed or
// dropped are left out, the version written is kept on the Document.
func decodeFlux(d *Document) *FluxObject {
	fo := &FluxObject{Doc: d}
	versions := apiVersions[d.Group()][d.Kind]
	for i, v := range versions {
		if v == d.Version() {
			fo.Known = true
			if i > 0 {
				fo.Current = versions[0]
			}
		}
	}
	var typed any
	switch d.Group() + "/" + d.Kind {
	case GroupKustomize + "/Kustomization":
		typed = &kustomizev1.Kustomization{}
	case GroupSource + "/GitRepository":
		typed = &sourcev1.GitRepository{}
	case GroupSource + "/HelmRepository":
		typed = &sourcev1.HelmRepository{}
	case GroupSource + "/HelmChart":
		typed = &sourcev1.HelmChart{}
	case GroupSource + "/Bucket":
		typed = &sourcev1.Bucket{}
	case GroupSource + "/OCIRepository":
		typed = &sourcev1.OCIRepository{}
	case GroupSource + "/ExternalArtifact":
		typed = &sourcev1.ExternalArtifact{}
	case GroupHelm + "/HelmRelease":
		typed = &helmv2.HelmRelease{}
	case GroupImage + "/ImageRepository":
		typed = &imagev1.ImageRepository{}
	case GroupImage + "/ImagePolicy":
		typed = &imagev1.ImagePolicy{}
	case GroupImage + "/ImageUpdateAutomation":
		typed = &imagev1auto.ImageUpdateAutomation{}
	case GroupNotification + "/Alert":
		typed = &notificationv1.Alert{}
	case GroupNotification + "/Provider":
		typed = &notificationv1.Provider{}
	case GroupNotification + "/Receiver":
		typed = &notificationv1.Receiver{}
	default:
		return fo
	}
	if err := decodeInto(d.Object, typed); err != nil {
		fo.DecodeError = fmt.Errorf("decode %s (%s:%d): %w", d.Ref(), d.File, d.Line, err)
		// A ${VAR} where the type wants a duration or a number only
		// decodes after substitution; index the object without those
		// fields so that its graph is still known.
		if err := decodeInto(withoutVariables(d.Object).(map[string]any), typed); err != nil {
			return fo
		}
	}
	fo.Typed = typed
	return fo
}

// decodeInto converts a JSON-compatible object into a typed one, ignoring
// fields the type does not have.
func decodeInto(obj map[string]any, out any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// Kustomization returns the object as a Flux Kustomization, or nil.
func (f *FluxObject) Kustomization() *kustomizev1.Kustomization {
	k, _ := f.Typed.(*kustomizev1.Kustomization)
	return k
}

// FluxKinds lists every Flux group and kind fluxgate decodes, as
// [group, kind] pairs, sorted.
func FluxKinds() [][2]string {
	var out [][2]string
	for g, kinds := range apiVersions {
		for k := range kinds {
			out = append(out, [2]string{g, k})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i][0] != out[j][0] {
			return out[i][0] < out[j][0]
		}
		return out[i][1] < out[j][1]
	})
	return out
}

// withoutVariables copies a JSON-compatible value, leaving out map entries
// whose string value holds a ${...} substitution.
func withoutVariables(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			if s, ok := e.(string); ok && strings.Contains(s, "${") {
				continue
			}
			m[k] = withoutVariables(e)
		}
		return m
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = withoutVariables(e)
		}
		return out
	}
	return v
}
