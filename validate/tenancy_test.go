package validate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/validate"
)

// unit is a Kustomization of the cluster clusters/test, with a
// GitRepository of its own in its namespace, building ./units/NAME.
func unit(name, namespace, spec string) string {
	return fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  interval: 10m
  url: https://git.example.com/platform/fleet
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  interval: 10m
  path: ./units/%[1]s
  prune: true
  sourceRef:
    kind: GitRepository
    name: %[1]s
%[3]s`, name, namespace, spec)
}

const (
	clusterRole = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: %s
rules:
  - apiGroups: [""]
    resources: ["pods"]
    verbs: [%s]
`
	configMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: %s
`
	binding = `apiVersion: rbac.authorization.k8s.io/v1
kind: %s
metadata:
  name: %s
%sroleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: %s
subjects:
  - kind: ServiceAccount
    name: team-a
    namespace: team-a
`
	controllers = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: kustomize-controller
  namespace: flux-system
spec:
  selector:
    matchLabels: {app: kustomize-controller}
  template:
    metadata:
      labels: {app: kustomize-controller}
    spec:
      containers:
        - name: manager
          image: ghcr.io/fluxcd/kustomize-controller:v1.7.0
          args:
%s`
)

func roleBinding(name, ns, role string) string {
	return fmt.Sprintf(binding, "RoleBinding", name, "  namespace: "+ns+"\n", role)
}

func clusterRoleBinding(name, role string) string {
	return fmt.Sprintf(binding, "ClusterRoleBinding", name, "", role)
}

// platform is a platform unit in flux-system (impersonating
// kustomize-controller) that renders files.
func platform(files string) map[string]string {
	return map[string]string{
		"clusters/test/platform.yaml": unit("platform", "flux-system", "  serviceAccountName: kustomize-controller\n"),
		"units/platform/all.yaml":     files,
	}
}

func TestTenancy(t *testing.T) {
	type hit struct{ File, Object string }
	tests := []struct {
		name  string
		files map[string]string
		want  []hit
	}{
		{
			name: "targetNamespace alone is no tenant",
			files: map[string]string{
				"clusters/test/apps.yaml": unit("apps", "flux-system", "  targetNamespace: media\n"),
				"units/apps/all.yaml":     fmt.Sprintf(clusterRole, "media-reader", `"get"`) + "---\n" + fmt.Sprintf(configMap, "media"),
			},
		},
		{
			name:  "the controllers' own accounts are the platform admin",
			files: platform(fmt.Sprintf(clusterRole, "reader", `"get"`) + "---\n" + fmt.Sprintf(configMap, "apps")),
		},
		{
			name: "an account without RBAC in sight may write its namespace only",
			files: map[string]string{
				"clusters/test/team-a.yaml": unit("team-a", "team-a", "  serviceAccountName: team-a\n"),
				"units/team-a/all.yaml": fmt.Sprintf(configMap, "team-a") + "---\n" + fmt.Sprintf(configMap, "team-b") + "---\n" +
					fmt.Sprintf(clusterRole, "team-a", `"get"`),
			},
			want: []hit{{"units/team-a/all.yaml", "ConfigMap/team-b/settings"}, {"units/team-a/all.yaml", "ClusterRole/team-a"}},
		},
		{
			name: "an account bound to cluster-admin is not confined",
			files: map[string]string{
				"clusters/test/team-a.yaml": unit("team-a", "team-a", "  serviceAccountName: team-a\n"),
				"units/team-a/all.yaml":     fmt.Sprintf(configMap, "team-b") + "---\n" + fmt.Sprintf(clusterRole, "team-a", `"get"`),
				"clusters/test/rbac.yaml":   clusterRoleBinding("team-a", "cluster-admin"),
			},
		},
		{
			name: "a cluster-wide binding to a read-only role confines still",
			files: map[string]string{
				"clusters/test/team-a.yaml": unit("team-a", "team-a", "  serviceAccountName: team-a\n"),
				"units/team-a/all.yaml":     fmt.Sprintf(configMap, "team-b"),
				"clusters/test/rbac.yaml":   clusterRoleBinding("team-a-view", "viewer") + "---\n" + fmt.Sprintf(clusterRole, "viewer", `"get", "list"`),
			},
			want: []hit{{"units/team-a/all.yaml", "ConfigMap/team-b/settings"}},
		},
		{
			name: "RoleBindings name the namespaces an account may write",
			files: map[string]string{
				"clusters/test/team-a.yaml": unit("team-a", "team-a", "  serviceAccountName: team-a\n"),
				"units/team-a/all.yaml":     fmt.Sprintf(configMap, "team-b") + "---\n" + fmt.Sprintf(configMap, "team-c"),
				"clusters/test/rbac.yaml":   roleBinding("team-a", "team-a", "admin") + "---\n" + roleBinding("team-a", "team-b", "admin"),
			},
			want: []hit{{"units/team-a/all.yaml", "ConfigMap/team-c/settings"}},
		},
		{
			name: "--default-service-account makes units outside the Flux namespace tenants",
			files: map[string]string{
				"clusters/test/flux.yaml":     unit("flux", "flux-system", ""),
				"units/flux/controllers.yaml": fmt.Sprintf(controllers, "            - --default-service-account=flux\n"),
				"clusters/test/team-a.yaml":   unit("team-a", "team-a", ""),
				"units/team-a/all.yaml":       fmt.Sprintf(clusterRole, "team-a", `"get"`),
				"clusters/test/infra.yaml":    unit("infra", "flux-system", ""),
				"units/infra/all.yaml":        fmt.Sprintf(clusterRole, "infra", `"get"`),
			},
			want: []hit{{"units/team-a/all.yaml", "ClusterRole/team-a"}},
		},
		{
			name: "a FluxInstance with cluster.multitenant defaults to the namespace's default account",
			files: map[string]string{
				"clusters/test/flux.yaml": `apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: flux-system
spec:
  distribution:
    version: "2.x"
    registry: ghcr.io/fluxcd
  cluster:
    multitenant: true
`,
				"clusters/test/team-a.yaml": unit("team-a", "team-a", ""),
				"units/team-a/all.yaml":     fmt.Sprintf(configMap, "team-b"),
				"clusters/test/rbac.yaml": strings.Replace(roleBinding("default", "team-a", "admin"),
					"    name: team-a\n", "    name: default\n", 1),
			},
			want: []hit{{"units/team-a/all.yaml", "ConfigMap/team-b/settings"}},
		},
		{
			name: "cross-namespace source references are fine without --no-cross-namespace-refs",
			files: platform(strings.Replace(unit("team-a", "team-a", "  serviceAccountName: team-a\n"),
				"    name: team-a\n", "    name: team-a\n    namespace: flux-system\n", 1)),
		},
		{
			name: "cross-namespace source references under --no-cross-namespace-refs",
			files: map[string]string{
				"clusters/test/flux.yaml":     unit("flux", "flux-system", ""),
				"units/flux/controllers.yaml": fmt.Sprintf(controllers, "            - --no-cross-namespace-refs=true\n"),
				"clusters/test/platform.yaml": unit("platform", "flux-system", "  serviceAccountName: kustomize-controller\n"),
				"units/platform/all.yaml": strings.Replace(unit("team-a", "team-a", ""),
					"    name: team-a\n", "    name: team-a\n    namespace: flux-system\n", 1),
			},
			want: []hit{{"units/platform/all.yaml", "Kustomization/team-a/team-a"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.files["units/.keep"] = ""
			dir := testenv.WriteTree(t, tt.files)
			rep := run(t, dir, fleet.Options{}, validate.Options{})
			var got []hit
			for _, f := range rep.Findings {
				if f.Rule == validate.RuleTenantEscape {
					got = append(got, hit{f.File, f.Object})
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("tenant-escape findings (-want +got):\n%s\nall: %+v", d, rep.Findings)
			}
		})
	}
}
