package render

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// clusterScopedKinds lists the built-in Kubernetes kinds that are not
// namespaced.
var clusterScopedKinds = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "ComponentStatus": true,
	"ClusterRole": true, "ClusterRoleBinding": true, "CustomResourceDefinition": true,
	"StorageClass": true, "CSIDriver": true, "CSINode": true, "VolumeAttachment": true, "VolumeAttributesClass": true,
	"PriorityClass": true, "RuntimeClass": true, "IngressClass": true, "APIService": true,
	"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true,
	"MutatingAdmissionPolicy": true, "MutatingAdmissionPolicyBinding": true,
	"CertificateSigningRequest": true, "ClusterTrustBundle": true, "FlowSchema": true,
	"PriorityLevelConfiguration": true, "DeviceClass": true, "IPAddress": true, "ServiceCIDR": true,
	"PodSecurityPolicy": true, "SelfSubjectReview": true, "TokenReview": true,
	"SelfSubjectAccessReview": true, "SelfSubjectRulesReview": true, "SubjectAccessReview": true,
	"StorageVersionMigration": true,
}

// CRDScopes maps group/kind to the scope ("Cluster" or "Namespaced") of the
// CustomResourceDefinitions among objs.
func CRDScopes(objs []*Object) map[string]string {
	out := map[string]string{}
	for _, o := range objs {
		if _, k := o.GVK(); k != "CustomResourceDefinition" {
			continue
		}
		obj := o.Value()
		group, _, _ := unstructured.NestedString(obj, "spec", "group")
		kind, _, _ := unstructured.NestedString(obj, "spec", "names", "kind")
		scope, _, _ := unstructured.NestedString(obj, "spec", "scope")
		out[group+"/"+kind] = scope
	}
	return out
}

// IsClusterScoped reports whether an object is cluster-scoped: a custom
// resource whose CRD scopes (see CRDScopes) say so, or a built-in
// cluster-scoped kind.
func IsClusterScoped(obj map[string]any, scopes map[string]string) bool {
	api, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	return IsClusterScopedKind(api, kind, scopes)
}

// IsClusterScopedKind is IsClusterScoped for an apiVersion and kind.
func IsClusterScopedKind(api, kind string, scopes map[string]string) bool {
	group := ""
	if i := strings.Index(api, "/"); i >= 0 {
		group = api[:i]
	}
	if s, ok := scopes[group+"/"+kind]; ok {
		return s == "Cluster"
	}
	return IsBuiltinGroup(group) && clusterScopedKinds[kind]
}

// IsBuiltinGroup reports whether an API group is one of Kubernetes' own:
// the core group "", a group without a dot (apps, batch, ...), or one
// under k8s.io.
func IsBuiltinGroup(group string) bool {
	return !strings.Contains(group, ".") || strings.HasSuffix(group, ".k8s.io")
}
