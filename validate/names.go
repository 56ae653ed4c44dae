package validate

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render"
)

// nameRule is how the API server checks an object's metadata.name.
type nameRule int

const (
	// namePathSegment: any name that can be a URL path segment (no "/"
	// or "%", not "." or ".."); what every kind needs at least.
	namePathSegment nameRule = iota
	// nameSubdomain: an RFC 1123 subdomain (lowercase alphanumerics, "-"
	// and ".", at most 253 characters).
	nameSubdomain
	// nameLabel: an RFC 1123 label (lowercase alphanumerics and "-", at
	// most 63 characters).
	nameLabel
)

// builtinNames lists the built-in kinds whose names the API server checks
// more strictly than as a path segment, as its validation does. Service
// is checked as an RFC 1123 label, which Kubernetes allows when its
// relaxed Service name validation is on (else names must also start with
// a letter): fluxgate cannot see the cluster's feature gates, so it only
// reports names no cluster takes. RBAC kinds and PersistentVolume names
// need only be path segments; kinds not listed are checked as path
// segments too.
var builtinNames = map[string]nameRule{
	"Namespace": nameLabel,
	"Service":   nameLabel,

	"ConfigMap": nameSubdomain, "Secret": nameSubdomain, "Pod": nameSubdomain,
	"ServiceAccount": nameSubdomain, "PersistentVolumeClaim": nameSubdomain,
	"Endpoints": nameSubdomain, "LimitRange": nameSubdomain, "ResourceQuota": nameSubdomain,
	"PodTemplate": nameSubdomain, "ReplicationController": nameSubdomain, "Node": nameSubdomain,
	"Deployment": nameSubdomain, "StatefulSet": nameSubdomain, "DaemonSet": nameSubdomain,
	"ReplicaSet": nameSubdomain, "ControllerRevision": nameSubdomain,
	"Job": nameSubdomain, "CronJob": nameSubdomain,
	"Ingress": nameSubdomain, "IngressClass": nameSubdomain, "NetworkPolicy": nameSubdomain,
	"PodDisruptionBudget": nameSubdomain, "HorizontalPodAutoscaler": nameSubdomain,
	"StorageClass": nameSubdomain, "VolumeAttachment": nameSubdomain,
	"PriorityClass": nameSubdomain, "RuntimeClass": nameSubdomain, "Lease": nameSubdomain,
	"EndpointSlice": nameSubdomain, "CustomResourceDefinition": nameSubdomain,
	"ValidatingWebhookConfiguration": nameSubdomain, "MutatingWebhookConfiguration": nameSubdomain,
}

// names reports rendered objects whose metadata.name or metadata.namespace
// the API server refuses, so applying their unit fails. Built-in kinds
// are checked as builtinNames says. Custom resources whose definition is
// known (Flux's kinds, a CRD the repository or its render holds, one of
// the ecosystem catalog's) need RFC 1123 subdomain names, as the API
// server checks every custom resource; other kinds (an aggregated API
// may allow more) are checked as path segments. A namespace must be an
// RFC 1123 label; cluster-scoped built-in kinds' namespace is not looked
// at. A name or namespace holding "${" is a post-build variable fluxgate
// could not substitute, and is left alone.
func (v *run) names() {
	for _, u := range v.res.Units {
		if !v.res.Owns(u) {
			continue
		}
		for _, o := range u.Objects {
			if msg := v.invalidName(o); msg != "" {
				v.addFor(Finding{Rule: RuleNameInvalid, Severity: SeverityError, File: o.File, Line: o.Line, Object: o.Ref(), Message: msg}, o)
			}
		}
	}
}

// invalidName says what is wrong with an object's name or namespace, or
// returns "".
func (v *run) invalidName(o *render.Object) string {
	api, kind := o.GVK()
	namespace, name := o.NamespacedName()
	group, _, _ := strings.Cut(api, "/")
	if !strings.Contains(api, "/") {
		group = ""
	}
	if name != "" && !strings.Contains(name, "${") {
		rule := namePathSegment
		switch {
		case render.IsBuiltinGroup(group):
			rule = builtinNames[kind]
		case fleet.IsFluxGroup(group):
			rule = nameSubdomain
		default:
			// The schema source is memoized per kind; a CRD's or the
			// ecosystem catalog's means a known custom resource.
			switch v.sourceOf(api, kind) {
			case SourceFlux, SourceCRD, SourceEcosystem:
				rule = nameSubdomain
			}
		}
		var errs []string
		what := "a valid name"
		switch rule {
		case nameLabel:
			errs, what = validation.IsDNS1123Label(name), "an RFC 1123 label"
		case nameSubdomain:
			errs, what = validation.IsDNS1123Subdomain(name), "an RFC 1123 subdomain"
		default:
			errs = path.ValidatePathSegmentName(name, false)
		}
		if len(errs) > 0 {
			return fmt.Sprintf("metadata.name %q of %s %s is not %s, so the API server refuses it: %s", name, api, kind, what, strings.Join(errs, "; "))
		}
		if max, why := nameLength(group, kind); max > 0 && len(name) > max {
			return fmt.Sprintf("metadata.name %q of %s %s has %d characters, more than the %d the API server takes (%s)", name, api, kind, len(name), max, why)
		}
	}
	if namespace != "" && !strings.Contains(namespace, "${") && !render.IsClusterScopedKind(api, kind, nil) {
		if errs := validation.IsDNS1123Label(namespace); len(errs) > 0 {
			return fmt.Sprintf("metadata.namespace %q is not a valid namespace name (an RFC 1123 label), so the API server refuses the object: %s", namespace, strings.Join(errs, "; "))
		}
	}
	return ""
}

// nameLength is the longest name the API server takes for a kind that
// needs a shorter one than its name rule allows, with why; 0 for others.
func nameLength(group, kind string) (int, string) {
	if group != "batch" {
		return 0, ""
	}
	switch kind {
	case "CronJob":
		// 63 less the 11 characters of the "-<minutes>" suffix of the
		// Jobs it creates (apiserver: "must be no more than 52
		// characters").
		return validation.DNS1035LabelMaxLength - 11, "its Jobs' names add an 11-character suffix"
	case "Job":
		return validation.LabelValueMaxLength, "the name is the value of its Pods' batch.kubernetes.io/job-name label"
	}
	return 0, ""
}

// crdNameMismatch says why a CustomResourceDefinition's name is not the
// one the API server requires, spec.names.plural + "." + spec.group, or
// returns "". A CRD without plural or group, or with an unsubstituted
// variable, is left to the schema check.
func crdNameMismatch(crd map[string]any) string {
	md, _ := crd["metadata"].(map[string]any)
	spec, _ := crd["spec"].(map[string]any)
	names, _ := spec["names"].(map[string]any)
	name, _ := md["name"].(string)
	plural, _ := names["plural"].(string)
	group, _ := spec["group"].(string)
	if name == "" || plural == "" || group == "" || strings.Contains(name+plural+group, "${") {
		return ""
	}
	if want := plural + "." + group; name != want {
		return fmt.Sprintf("metadata.name %q of CustomResourceDefinition is not spec.names.plural + \".\" + spec.group (%q), so the API server refuses it", name, want)
	}
	return ""
}
