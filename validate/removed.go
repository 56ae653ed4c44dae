package validate

// removedAPIs lists Kubernetes API group/versions removed before the
// oldest embedded version, with the release that removed them and the
// group/version to use instead (Kubernetes' deprecated API migration guide).
// Newer removals are found from the embedded catalog itself.
var removedAPIs = map[string]struct{ removedIn, use string }{
	"extensions/v1beta1":                   {"1.22", "apps/v1, networking.k8s.io/v1"},
	"apps/v1beta1":                         {"1.16", "apps/v1"},
	"apps/v1beta2":                         {"1.16", "apps/v1"},
	"policy/v1beta1":                       {"1.25", "policy/v1"},
	"batch/v1beta1":                        {"1.25", "batch/v1"},
	"autoscaling/v2beta1":                  {"1.25", "autoscaling/v2"},
	"autoscaling/v2beta2":                  {"1.26", "autoscaling/v2"},
	"networking.k8s.io/v1beta1":            {"1.22", "networking.k8s.io/v1"},
	"rbac.authorization.k8s.io/v1beta1":    {"1.22", "rbac.authorization.k8s.io/v1"},
	"rbac.authorization.k8s.io/v1alpha1":   {"1.22", "rbac.authorization.k8s.io/v1"},
	"apiextensions.k8s.io/v1beta1":         {"1.22", "apiextensions.k8s.io/v1"},
	"admissionregistration.k8s.io/v1beta1": {"1.22", "admissionregistration.k8s.io/v1"},
	"apiregistration.k8s.io/v1beta1":       {"1.22", "apiregistration.k8s.io/v1"},
	"authentication.k8s.io/v1beta1":        {"1.22", "authentication.k8s.io/v1"},
	"authorization.k8s.io/v1beta1":         {"1.22", "authorization.k8s.io/v1"},
	"certificates.k8s.io/v1beta1":          {"1.22", "certificates.k8s.io/v1"},
	"coordination.k8s.io/v1beta1":          {"1.22", "coordination.k8s.io/v1"},
	"scheduling.k8s.io/v1beta1":            {"1.22", "scheduling.k8s.io/v1"},
	"scheduling.k8s.io/v1alpha1":           {"1.22", "scheduling.k8s.io/v1"},
	"storage.k8s.io/v1beta1":               {"1.27", "storage.k8s.io/v1"},
	"discovery.k8s.io/v1beta1":             {"1.25", "discovery.k8s.io/v1"},
	"events.k8s.io/v1beta1":                {"1.25", "events.k8s.io/v1"},
	"node.k8s.io/v1beta1":                  {"1.25", "node.k8s.io/v1"},
	"flowcontrol.apiserver.k8s.io/v1beta1": {"1.26", "flowcontrol.apiserver.k8s.io/v1"},
	"flowcontrol.apiserver.k8s.io/v1beta2": {"1.29", "flowcontrol.apiserver.k8s.io/v1"},
	"flowcontrol.apiserver.k8s.io/v1beta3": {"1.32", "flowcontrol.apiserver.k8s.io/v1"},
}
