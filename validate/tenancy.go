package validate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render"
)

// The tenancy model, as Flux's multi-tenancy lockdown defines it: a unit is
// a tenant when its controller impersonates a service account for it,
// either the one its spec.serviceAccountName names or, when the
// controller runs with --default-service-account (or a FluxInstance with
// cluster.multitenant), that default for a unit outside the Flux
// namespace that names none. targetNamespace alone never makes a tenant.
// The controllers' own accounts in the Flux namespace are the platform
// admin's. What a tenant may write comes from the RBAC in the render: an
// account a ClusterRoleBinding grants writes cluster-wide is not confined;
// one bound by RoleBindings may write their namespaces; with no binding in
// sight, its unit's namespace (targetNamespace, else its own).

const (
	kustomizeController = "kustomize-controller"
	helmController      = "helm-controller"
	defaultFluxNS       = "flux-system"
	groupRBAC           = "rbac.authorization.k8s.io"
	groupFluxOperator   = "fluxcd.controlplane.io"
)

// tenancy gathers, per cluster, the facts the tenancy model reads from
// rendered objects; it sees each unit before its objects are released.
type tenancy struct {
	mu       sync.Mutex
	clusters map[string]*clusterTenancy
}

type clusterTenancy struct {
	fluxNS string
	// defaultSA is the --default-service-account of each controller.
	defaultSA map[string]string
	// noCrossNS holds the controllers running with --no-cross-namespace-refs.
	noCrossNS map[string]bool
	// roleNS holds, per "namespace/account", the namespaces of the
	// RoleBindings naming it.
	roleNS map[string]map[string]bool
	// clusterRoles holds, per "namespace/account", the ClusterRoles
	// ClusterRoleBindings grant it.
	clusterRoles map[string][]string
	// writes holds, per ClusterRole in the render, whether it grants a
	// write verb.
	writes map[string]bool
}

func (t *tenancy) cluster(name string) *clusterTenancy {
	if t.clusters == nil {
		t.clusters = map[string]*clusterTenancy{}
	}
	c := t.clusters[name]
	if c == nil {
		c = &clusterTenancy{defaultSA: map[string]string{}, noCrossNS: map[string]bool{}, roleNS: map[string]map[string]bool{},
			clusterRoles: map[string][]string{}, writes: map[string]bool{}}
		t.clusters[name] = c
	}
	return c
}

// note records what object o of unit u tells about tenancy. Call it before
// o is released.
func (t *tenancy) note(u *render.Unit, o *render.Object) {
	api, kind := o.GVK()
	group, _, _ := strings.Cut(api, "/")
	switch {
	case group == "apps" && kind == "Deployment":
	case group == groupRBAC && (kind == "RoleBinding" || kind == "ClusterRoleBinding" || kind == "ClusterRole"):
	case group == groupFluxOperator && kind == "FluxInstance":
	default:
		return
	}
	obj := o.Value()
	if obj == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.cluster(u.Cluster)
	ns, name := o.NamespacedName()
	switch kind {
	case "Deployment":
		if name != kustomizeController && name != helmController {
			return
		}
		c.fluxNS = ns
		for _, arg := range containerArgs(obj) {
			c.noteArg(name, arg)
		}
	case "FluxInstance":
		if c.fluxNS == "" {
			c.fluxNS = ns
		}
		spec, _ := obj["spec"].(map[string]any)
		cl, _ := spec["cluster"].(map[string]any)
		if mt, _ := cl["multitenant"].(bool); mt {
			sa, _ := cl["tenantDefaultServiceAccount"].(string)
			if sa == "" {
				sa = "default"
			}
			c.defaultSA[kustomizeController], c.defaultSA[helmController] = sa, sa
			c.noCrossNS[kustomizeController], c.noCrossNS[helmController] = true, true
		}
		kz, _ := spec["kustomize"].(map[string]any)
		patches, _ := kz["patches"].([]any)
		for _, p := range patches {
			pm, _ := p.(map[string]any)
			text, _ := pm["patch"].(string)
			target, _ := pm["target"].(map[string]any)
			tname, _ := target["name"].(string)
			for _, ctl := range []string{kustomizeController, helmController} {
				if tname != "" && !targetsName(tname, ctl) {
					continue
				}
				for _, arg := range argRE.FindAllString(text, -1) {
					c.noteArg(ctl, arg)
				}
			}
		}
	case "ClusterRole":
		c.writes[name] = grantsWrites(obj)
	case "RoleBinding", "ClusterRoleBinding":
		ref, _ := obj["roleRef"].(map[string]any)
		role, _ := ref["name"].(string)
		subjects, _ := obj["subjects"].([]any)
		for _, s := range subjects {
			sm, _ := s.(map[string]any)
			if k, _ := sm["kind"].(string); k != "ServiceAccount" {
				continue
			}
			sa, _ := sm["name"].(string)
			saNS, _ := sm["namespace"].(string)
			if saNS == "" {
				saNS = ns // a RoleBinding's subject defaults to its namespace
			}
			key := saNS + "/" + sa
			if kind == "ClusterRoleBinding" {
				c.clusterRoles[key] = append(c.clusterRoles[key], role)
			} else if ns != "" {
				if c.roleNS[key] == nil {
					c.roleNS[key] = map[string]bool{}
				}
				c.roleNS[key][ns] = true
			}
		}
	}
}

// argRE finds the controller flags the tenancy model reads in patch text.
var argRE = regexp.MustCompile(`--(?:default-service-account|no-cross-namespace-refs)(?:=[^\s"',\]]*)?`)

func (c *clusterTenancy) noteArg(controller, arg string) {
	flag, value, hasValue := strings.Cut(arg, "=")
	switch flag {
	case "--default-service-account":
		if value != "" {
			c.defaultSA[controller] = value
		}
	case "--no-cross-namespace-refs":
		c.noCrossNS[controller] = !hasValue || value == "true"
	}
}

// targetsName reports whether a kustomize patch target's name (a regular
// expression, anchored) selects name.
func targetsName(pattern, name string) bool {
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	return err == nil && re.MatchString(name)
}

func containerArgs(obj map[string]any) []string {
	spec, _ := obj["spec"].(map[string]any)
	tmpl, _ := spec["template"].(map[string]any)
	pod, _ := tmpl["spec"].(map[string]any)
	containers, _ := pod["containers"].([]any)
	var out []string
	for _, ct := range containers {
		cm, _ := ct.(map[string]any)
		args, _ := cm["args"].([]any)
		for i, a := range args {
			s, _ := a.(string)
			// "--flag value" as two arguments.
			if (s == "--default-service-account" || s == "--no-cross-namespace-refs") && i+1 < len(args) {
				if next, ok := args[i+1].(string); ok && !strings.HasPrefix(next, "-") {
					s += "=" + next
				}
			}
			out = append(out, s)
		}
	}
	return out
}

// grantsWrites reports whether a ClusterRole grants any verb that writes.
func grantsWrites(obj map[string]any) bool {
	if _, ok := obj["aggregationRule"]; ok {
		return true // its rules are other roles'
	}
	rules, _ := obj["rules"].([]any)
	for _, r := range rules {
		rm, _ := r.(map[string]any)
		verbs, _ := rm["verbs"].([]any)
		for _, v := range verbs {
			switch v {
			case "*", "create", "update", "patch", "delete", "deletecollection", "impersonate", "escalate", "bind":
				return true
			}
		}
	}
	return false
}

// account returns the service account a unit's controller impersonates,
// "" when the unit is no tenant.
func (c *clusterTenancy) account(u *render.Unit) string {
	fluxNS := c.fluxNS
	if fluxNS == "" {
		fluxNS = defaultFluxNS
	}
	controller := kustomizeController
	if u.Kind == render.KindHelmRelease {
		controller = helmController
	}
	sa := u.ServiceAccountName
	if sa == "" {
		if u.Namespace == fluxNS {
			return ""
		}
		sa = c.defaultSA[controller]
	}
	if u.Namespace == fluxNS && (sa == kustomizeController || sa == helmController) {
		return ""
	}
	return sa
}

// confinement returns the namespaces account ns/sa may write, and false
// when it may write cluster-wide.
func (c *clusterTenancy) confinement(ns, sa, home string) (map[string]bool, bool) {
	key := ns + "/" + sa
	for _, role := range c.clusterRoles[key] {
		if writes, known := c.writes[role]; !known || writes {
			return nil, false // cluster-admin, or a role not in the render: trusted
		}
	}
	if len(c.roleNS[key]) > 0 {
		return c.roleNS[key], true
	}
	return map[string]bool{home: true}, true
}

// tenants reports what a tenant unit must not do: produce cluster-scoped
// objects or objects in namespaces its account cannot write, or, under
// --no-cross-namespace-refs, refer to a source in another namespace.
func (v *run) tenants() {
	scopes := v.crdScopes()
	for _, u := range v.res.Units {
		if !v.res.Owns(u) || (u.Kind != render.KindKustomization && u.Kind != render.KindHelmRelease) {
			continue
		}
		c := v.tenancy.cluster(u.Cluster)
		sa := c.account(u)
		if sa == "" {
			continue
		}
		home := u.TargetNamespace
		if home == "" {
			home = u.Namespace
		}
		allowed, confined := c.confinement(u.Namespace, sa, home)
		if !confined {
			continue
		}
		who := fmt.Sprintf("tenant unit %s (service account %s/%s, may write %s)", u.ID, u.Namespace, sa, setList(allowed))
		for _, o := range u.Objects {
			api, kind := o.GVK()
			ns, name := o.NamespacedName()
			switch {
			case kind == "Namespace" && allowed[name]:
				// The tenant's own namespace, created with its objects.
			case render.IsClusterScopedKind(api, kind, scopes):
				v.addFor(Finding{Rule: RuleTenantEscape, Severity: SeverityError, File: o.File, Line: o.Line, Object: o.Ref(),
					Message: who + " produces a cluster-scoped object"}, o)
			case ns != "" && !allowed[ns]:
				v.addFor(Finding{Rule: RuleTenantEscape, Severity: SeverityError, File: o.File, Line: o.Line, Object: o.Ref(),
					Message: fmt.Sprintf("%s produces an object in namespace %s", who, ns)}, o)
			}
		}
	}
	// A tenant Kustomization referring to a source in another namespace,
	// which Flux refuses under --no-cross-namespace-refs.
	for _, u := range v.res.Units {
		if !v.res.Owns(u) {
			continue
		}
		c := v.tenancy.cluster(u.Cluster)
		if !c.noCrossNS[kustomizeController] {
			continue
		}
		for _, o := range u.Objects {
			api, kind := o.GVK()
			if kind != "Kustomization" || !strings.HasPrefix(api, fleet.GroupKustomize+"/") {
				continue
			}
			obj := o.Value()
			spec, _ := obj["spec"].(map[string]any)
			md, _ := obj["metadata"].(map[string]any)
			ns, _ := md["namespace"].(string)
			ref, _ := spec["sourceRef"].(map[string]any)
			srcNS, _ := ref["namespace"].(string)
			if srcNS == "" || srcNS == ns {
				continue
			}
			line := v.repo.FieldLine(o.File, o.Line, []string{"spec", "sourceRef", "namespace"})
			v.addFor(Finding{Rule: RuleTenantEscape, Severity: SeverityError, File: o.File, Line: line, Object: o.Ref(),
				Message: fmt.Sprintf("Kustomization in namespace %s refers to a source in namespace %s; the controllers run with --no-cross-namespace-refs and refuse it", ns, srcNS)}, o)
		}
	}
}

func setList(set map[string]bool) string {
	var out []string
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return "namespace " + strings.Join(out, ", ")
}
