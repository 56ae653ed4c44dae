package render_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render"
)

// The fixtures under testdata/fleets/patterns reproduce the layouts of
// public Flux repositories (each README.md names the patterns). For every
// fixture the test asserts what Flux would do: the cluster entry points, the
// Kustomizations it reconciles (one unit each), no error a cluster would not
// report, and a few values that substitution and parent patches produce.

// patternValue is one field of one rendered object.
type patternValue struct {
	cluster, unit, obj string
	// field is a path into the object; a number indexes a list.
	field []string
	want  string
}

// patternProblem is a problem Flux reports too (a remote source, ...).
type patternProblem struct {
	rule, object string
}

type patternFixture struct {
	name string
	// paths are the entry points given; nil renders every entry point
	// found, which clusters must then equal.
	paths    []string
	clusters []string
	// units lists the Kustomization unit IDs of every cluster.
	units map[string][]string
	// helmReleases lists the HelmRelease unit IDs of every cluster.
	helmReleases map[string][]string
	// warnings must be among the warnings (Flux reports them too).
	warnings []patternProblem
	values   []patternValue
}

var patternFixtures = []patternFixture{
	{
		name: "kustomize-helm",
		helmReleases: map[string][]string{
			"clusters/production":       {"HelmRelease/cert-manager/cert-manager", "HelmRelease/ingress-nginx/ingress-nginx", "HelmRelease/podinfo/podinfo"},
			"clusters/production-clone": {"HelmRelease/cert-manager/cert-manager", "HelmRelease/ingress-nginx/ingress-nginx", "HelmRelease/podinfo/podinfo"},
			"clusters/staging":          {"HelmRelease/cert-manager/cert-manager", "HelmRelease/ingress-nginx/ingress-nginx", "HelmRelease/podinfo/podinfo"},
		},
		clusters: []string{"clusters/production", "clusters/production-clone", "clusters/staging"},
		units: map[string][]string{
			"clusters/production": {
				"Kustomization/flux-system/apps", "Kustomization/flux-system/flux-system",
				"Kustomization/flux-system/infra-configs", "Kustomization/flux-system/infra-controllers",
			},
			"clusters/production-clone": {
				"Kustomization/flux-system/apps", "Kustomization/flux-system/flux-system",
				"Kustomization/flux-system/infra-configs", "Kustomization/flux-system/infra-controllers",
			},
			"clusters/staging": {
				"Kustomization/flux-system/apps", "Kustomization/flux-system/flux-system",
				"Kustomization/flux-system/infra-configs", "Kustomization/flux-system/infra-controllers",
			},
		},
		values: []patternValue{
			{"clusters/staging", "Kustomization/flux-system/infra-configs", "ClusterIssuer/letsencrypt",
				[]string{"spec", "acme", "server"}, "https://acme-staging.example.org/directory"},
			{"clusters/production", "Kustomization/flux-system/infra-configs", "ClusterIssuer/letsencrypt",
				[]string{"spec", "acme", "server"}, "https://acme.example.org/directory"},
			{"clusters/staging", "Kustomization/flux-system/apps", "HelmRelease/podinfo/podinfo",
				[]string{"spec", "values", "ingress", "hosts", "0", "host"}, "podinfo.staging.example.org"},
			{"clusters/production-clone", "Kustomization/flux-system/apps", "HelmRelease/podinfo/podinfo",
				[]string{"spec", "chart", "spec", "version"}, ">=1.0.0"},
			{"clusters/production-clone", "Kustomization/flux-system/infra-controllers", "HelmRelease/ingress-nginx/ingress-nginx",
				[]string{"spec", "values", "controller", "replicaCount"}, "3"},
			{"clusters/staging", "Kustomization/flux-system/infra-controllers", "HelmRelease/ingress-nginx/ingress-nginx",
				[]string{"spec", "values", "controller", "replicaCount"}, "1"},
		},
	},
	{
		// The tenant Kustomization has no spec.path before the overlay
		// patch: its GitRepository is the tenant's, not this repository.
		name:     "multi-tenancy",
		clusters: []string{"clusters/production", "clusters/staging"},
		units: map[string][]string{
			"clusters/production": {
				"Kustomization/apps/dev-team", "Kustomization/flux-system/kyverno",
				"Kustomization/flux-system/kyverno-controller", "Kustomization/flux-system/kyverno-policies",
				"Kustomization/flux-system/tenants", "Overlay/clusters/production",
			},
			"clusters/staging": {
				"Kustomization/apps/dev-team", "Kustomization/flux-system/flux-system", "Kustomization/flux-system/kyverno",
				"Kustomization/flux-system/kyverno-controller", "Kustomization/flux-system/kyverno-policies",
				"Kustomization/flux-system/tenants",
			},
		},
		warnings: []patternProblem{
			{fleet.RuleSourceUnavailable, "Kustomization/flux-system/kyverno-controller"},
			{fleet.RuleSourceUnavailable, "Kustomization/apps/dev-team"},
		},
		values: []patternValue{
			{"clusters/staging", "Kustomization/flux-system/tenants", "Kustomization/apps/dev-team",
				[]string{"spec", "path"}, "./deploy/staging"},
			{"clusters/production", "Kustomization/flux-system/tenants", "Kustomization/apps/dev-team",
				[]string{"spec", "path"}, "./deploy/production"},
			{"clusters/staging", "Kustomization/flux-system/tenants", "GitRepository/apps/dev-team",
				[]string{"spec", "url"}, "https://git.example.com/tenants/dev-team"},
			{"clusters/staging", "Kustomization/flux-system/flux-system", "Kustomization/flux-system/flux-system",
				[]string{"spec", "serviceAccountName"}, "kustomize-controller"},
			{"clusters/staging", "Kustomization/flux-system/flux-system", "Deployment/flux-system/kustomize-controller",
				[]string{"spec", "template", "spec", "containers", "0", "args", "1"}, "--no-cross-namespace-refs=true"},
		},
	},
	{
		name: "home-ops",
		helmReleases: map[string][]string{
			"kubernetes/flux/cluster": {"HelmRelease/cert-manager/cert-manager", "HelmRelease/default/echo", "HelmRelease/flux-system/flux-instance"},
		},
		clusters: []string{"kubernetes/flux/cluster"},
		units: map[string][]string{
			"kubernetes/flux/cluster": {
				"Kustomization/cert-manager/cert-manager", "Kustomization/default/echo", "Kustomization/default/homepage",
				"Kustomization/flux-system/cluster-apps", "Kustomization/flux-system/cluster-meta",
				"Kustomization/flux-system/flux-instance", "Overlay/kubernetes/flux/cluster",
			},
		},
		values: []patternValue{
			// substituteFrom added by the parent's patch, from the
			// namespace's copy of cluster-settings.
			{"kubernetes/flux/cluster", "Kustomization/default/echo", "HelmRelease/default/echo",
				[]string{"spec", "values", "route", "app", "hostnames", "0"}, "{{ .Release.Name }}.home.example.org"},
			{"kubernetes/flux/cluster", "Kustomization/default/echo", "HelmRelease/default/echo",
				[]string{"spec", "values", "controllers", "echo", "containers", "app", "env", "TZ"}, "Europe/Paris"},
			// A patch the grandparent put into the child's spec.patches.
			{"kubernetes/flux/cluster", "Kustomization/default/echo", "HelmRelease/default/echo",
				[]string{"spec", "upgrade", "crds"}, "CreateReplace"},
			// A component with inline substitute and a default.
			{"kubernetes/flux/cluster", "Kustomization/default/echo", "PersistentVolumeClaim/default/echo",
				[]string{"spec", "resources", "requests", "storage"}, "2Gi"},
			{"kubernetes/flux/cluster", "Kustomization/default/echo", "PersistentVolumeClaim/default/echo",
				[]string{"spec", "storageClassName"}, "local-hostpath"},
			// The label opts homepage out of substitution: the literal stays.
			{"kubernetes/flux/cluster", "Kustomization/default/homepage", "ConfigMap/default/homepage-config",
				[]string{"data", "settings.yaml"}, "# Read by the application, which expands ${...} itself: Flux must leave it.\ntitle: Home\nbase: https://${HOMEPAGE_HOST}\n"},
			// flux-system's cluster-settings comes from the sibling cluster-meta.
			{"kubernetes/flux/cluster", "Kustomization/flux-system/flux-instance", "HelmRelease/flux-system/flux-instance",
				[]string{"spec", "values", "instance", "cluster", "domain"}, "main.home.example.org"},
			// kustomize does not know the kind is cluster-scoped:
			// targetNamespace sets a namespace, as in Flux's build.
			{"kubernetes/flux/cluster", "Kustomization/cert-manager/cert-manager", "ClusterIssuer/cert-manager/letsencrypt-production",
				[]string{"spec", "acme", "solvers", "0", "selector", "dnsZones", "0"}, "home.example.org"},
		},
	},
	{
		name: "home-ops-legacy",
		helmReleases: map[string][]string{
			"kubernetes/flux": {"HelmRelease/default/echo"},
		},
		clusters: []string{"kubernetes/flux"},
		units: map[string][]string{
			"kubernetes/flux": {
				"Kustomization/flux-system/cluster", "Kustomization/flux-system/cluster-apps",
				"Kustomization/flux-system/echo", "Kustomization/flux-system/flux",
				"Kustomization/flux-system/reloader",
			},
		},
		warnings: []patternProblem{
			{fleet.RuleSourceUnavailable, "Kustomization/flux-system/flux"},
		},
		values: []patternValue{
			{"kubernetes/flux", "Kustomization/flux-system/echo", "HelmRelease/default/echo",
				[]string{"spec", "values", "ingress", "app", "hosts", "0", "host"}, "echo.legacy.example.org"},
			{"kubernetes/flux", "Kustomization/flux-system/echo", "HelmRelease/default/echo",
				[]string{"spec", "values", "env", "TZ"}, "America/Toronto"},
			{"kubernetes/flux", "Kustomization/flux-system/reloader", "ConfigMap/default/reloader-script",
				[]string{"data", "run.sh"}, "#!/bin/sh\necho \"reloading ${TARGET:-all}\"\n"},
			{"kubernetes/flux", "Kustomization/flux-system/cluster-apps", "Kustomization/flux-system/echo",
				[]string{"spec", "postBuild", "substituteFrom", "0", "name"}, "cluster-settings"},
		},
	},
	{
		// The apps artifact copies two directories that together rebuild
		// apps/; each cluster defines its own generator of the same name.
		name: "artifact-generator",
		helmReleases: map[string][]string{
			"clusters/production": {"HelmRelease/ingress-nginx/ingress-nginx", "HelmRelease/podinfo/podinfo"},
			"clusters/staging":    {"HelmRelease/ingress-nginx/ingress-nginx", "HelmRelease/podinfo/podinfo"},
		},
		clusters: []string{"clusters/production", "clusters/staging"},
		units: map[string][]string{
			"clusters/production": {
				"Kustomization/flux-system/apps", "Kustomization/flux-system/flux-system",
				"Kustomization/flux-system/infra-configs", "Kustomization/flux-system/infra-controllers",
			},
			"clusters/staging": {
				"Kustomization/flux-system/apps", "Kustomization/flux-system/flux-system",
				"Kustomization/flux-system/infra-configs", "Kustomization/flux-system/infra-controllers",
			},
		},
		values: []patternValue{
			{"clusters/staging", "Kustomization/flux-system/infra-configs", "ClusterIssuer/letsencrypt",
				[]string{"spec", "acme", "server"}, "https://acme-staging.example.org/directory"},
			{"clusters/production", "Kustomization/flux-system/infra-configs", "ClusterIssuer/letsencrypt",
				[]string{"spec", "acme", "server"}, "https://acme-production.example.org/directory"},
			{"clusters/production", "Kustomization/flux-system/infra-controllers", "HelmRelease/ingress-nginx/ingress-nginx",
				[]string{"spec", "values", "controller", "replicaCount"}, "3"},
			// Each cluster's apps artifact is its own generator's.
			{"clusters/staging", "Kustomization/flux-system/apps", "HelmRelease/podinfo/podinfo",
				[]string{"spec", "values", "ingress", "hosts", "0", "host"}, "podinfo.staging.example.org"},
			{"clusters/production", "Kustomization/flux-system/apps", "HelmRelease/podinfo/podinfo",
				[]string{"spec", "values", "ingress", "hosts", "0", "host"}, "podinfo.production.example.org"},
		},
	},
	{
		// The children are listed file by file in apps/kustomization.yaml
		// and rendered once each, as apps patches them.
		name:     "parent-patches",
		clusters: []string{"clusters/prod"},
		units: map[string][]string{
			"clusters/prod": {
				"Kustomization/flux-system/apps", "Kustomization/flux-system/flux-system",
				"Kustomization/flux-system/legacy-wiki", "Kustomization/flux-system/podinfo",
				"Kustomization/flux-system/whoami",
			},
		},
		values: []patternValue{
			{"clusters/prod", "Kustomization/flux-system/podinfo", "Deployment/podinfo/podinfo",
				[]string{"spec", "template", "spec", "containers", "0", "env", "0", "value"}, "podinfo on prod"},
			{"clusters/prod", "Kustomization/flux-system/apps", "Kustomization/flux-system/whoami",
				[]string{"spec", "timeout"}, "5m"},
		},
	},
	{
		// The clusters sync from the OCIRepository CI pushes this
		// repository to: a FluxInstance's (prod, whose flux-system
		// Kustomization is not in the tree) or one written by hand.
		name:     "gitless",
		clusters: []string{"clusters/prod", "clusters/staging"},
		units: map[string][]string{
			"clusters/prod": {
				"Kustomization/flux-system/apps", "Kustomization/flux-system/infrastructure", "Overlay/clusters/prod",
			},
			"clusters/staging": {
				"Kustomization/flux-system/apps", "Kustomization/flux-system/flux-system", "Kustomization/flux-system/infrastructure",
			},
		},
		values: []patternValue{
			{"clusters/prod", "Kustomization/flux-system/apps", "Deployment/podinfo/podinfo", []string{"spec", "replicas"}, "3"},
			{"clusters/staging", "Kustomization/flux-system/apps", "Deployment/podinfo/podinfo",
				[]string{"spec", "template", "spec", "containers", "0", "env", "0", "value"}, "podinfo on staging"},
		},
	},
	{
		// No Flux Kustomization, no kustomization.yaml: plain manifests,
		// one unit per directory, the Helm chart and templates left out.
		name:     "plain-manifests",
		clusters: []string{"deploy", "jobs"},
		units: map[string][]string{
			"deploy": {"Manifests/deploy"},
			"jobs":   {"Manifests/jobs"},
		},
		values: []patternValue{
			{"deploy", "Manifests/deploy", "Deployment/shop/web", []string{"spec", "replicas"}, "3"},
			{"deploy", "Manifests/deploy", "PrometheusRule/shop/web",
				[]string{"spec", "groups", "0", "rules", "0", "annotations", "summary"}, "{{ $labels.pod }} restarted {{ $value }} times in 15 minutes"},
			{"jobs", "Manifests/jobs", "CronJob/shop/db-backup",
				[]string{"spec", "jobTemplate", "spec", "template", "spec", "containers", "0", "imagePullPolcy"}, "IfNotPresent"},
		},
	},
}

func TestPatterns(t *testing.T) {
	for _, fx := range patternFixtures {
		t.Run(fx.name, func(t *testing.T) {
			repo, res := renderDir(t, filepath.Join(fleets, "patterns", fx.name), 2, fx.paths...)

			if diff := cmp.Diff(fx.clusters, res.Clusters); diff != "" {
				t.Errorf("clusters (-want +got):\n%s", diff)
			}
			got, gotHR := map[string][]string{}, map[string][]string{}
			for _, u := range res.Units {
				if u.Kind == render.KindHelmRelease {
					gotHR[u.Cluster] = append(gotHR[u.Cluster], u.ID)
					continue
				}
				got[u.Cluster] = append(got[u.Cluster], u.ID)
			}
			for _, ids := range got {
				sort.Strings(ids)
			}
			for _, ids := range gotHR {
				sort.Strings(ids)
			}
			if diff := cmp.Diff(fx.units, got); diff != "" {
				t.Errorf("units per cluster (-want +got):\n%s", diff)
			}
			if len(fx.helmReleases) == 0 {
				fx.helmReleases = map[string][]string{}
			}
			if diff := cmp.Diff(fx.helmReleases, gotHR); diff != "" {
				t.Errorf("HelmRelease units per cluster (-want +got):\n%s", diff)
			}

			problems := append([]fleet.Problem(nil), repo.Problems...)
			for _, u := range res.Units {
				problems = append(problems, u.Problems...)
			}
			warnings := map[patternProblem]bool{}
			for _, p := range problems {
				switch p.Severity {
				case fleet.SeverityError:
					t.Errorf("error Flux would not report: %s", p.String())
				case fleet.SeverityWarning:
					warnings[patternProblem{p.Rule, p.Object}] = true
				}
			}
			for _, w := range fx.warnings {
				if !warnings[w] {
					t.Errorf("missing warning %s on %s", w.rule, w.object)
				}
			}

			for _, v := range fx.values {
				o := findObject(res, v.cluster, v.unit, v.obj)
				if o == nil {
					t.Errorf("%s: %s not rendered by %s", v.cluster, v.obj, v.unit)
					continue
				}
				if got := valueAt(o.Object, v.field...); got != v.want {
					t.Errorf("%s %s %s: %v = %q, want %q", v.cluster, v.unit, v.obj, v.field, got, v.want)
				}
			}
		})
	}
}

// valueAt is nested with list indexes, printing scalars that are not
// strings ("" when the path does not exist).
func valueAt(obj map[string]any, fields ...string) string {
	var cur any = obj
	for _, f := range fields {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[f]
			if !ok {
				return ""
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(f)
			if err != nil || i < 0 || i >= len(c) {
				return ""
			}
			cur = c[i]
		default:
			return ""
		}
	}
	switch c := cur.(type) {
	case string:
		return c
	case nil, map[string]any, []any:
		return ""
	default:
		return fmt.Sprint(c)
	}
}
