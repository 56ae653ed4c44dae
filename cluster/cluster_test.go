package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/render"
)

// The control plane every test of the package shares, started once.
var (
	plane      *Local
	engine     *Engine
	skipReason string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	bin := DefaultBinDir()
	if missing := MissingBinaries(bin); len(missing) > 0 {
		skipReason = fmt.Sprintf("the local control plane is not built (%s missing in %s; run `make tools`)", strings.Join(missing, ", "), bin)
		return m.Run()
	}
	plane = &Local{BinDir: bin}
	ctx := context.Background()
	kc, err := plane.Start(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start the local control plane:", err)
		return 1
	}
	engine, err = NewEngine(kc, "")
	if err != nil {
		_ = plane.Stop(ctx)
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	// Stop must leave no process and no directory behind.
	var pids []int
	plane.mu.Lock()
	for _, p := range plane.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	plane.mu.Unlock()
	dir := plane.Dir()
	if err := plane.Stop(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "stop:", err)
		return 1
	}
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			fmt.Fprintf(os.Stderr, "process %d still runs after Stop\n", pid)
			return 1
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		fmt.Fprintf(os.Stderr, "%s still exists after Stop\n", dir)
		return 1
	}
	return code
}

func needPlane(t *testing.T) {
	t.Helper()
	if plane == nil {
		t.Skip(skipReason)
	}
}

// unit builds a Kustomization unit from YAML documents, document i at
// file:line (i+1)*10.
func unit(t *testing.T, name, file string, docs ...string) *render.Unit {
	t.Helper()
	u := &render.Unit{ID: "Kustomization/flux-system/" + name, Kind: "Kustomization", Namespace: "flux-system", Name: name}
	for i, d := range docs {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		u.Objects = append(u.Objects, &render.Object{Object: m, File: file, Line: (i + 1) * 10})
	}
	return u
}

func get(t *testing.T, apiVersion, kind, ns, name string) (*unstructured.Unstructured, error) {
	t.Helper()
	o := &unstructured.Unstructured{}
	gv, _ := schema.ParseGroupVersion(apiVersion)
	o.SetGroupVersionKind(gv.WithKind(kind))
	err := engine.Client().Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, o)
	return o, err
}

const widgetCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.fluxgate.dev}
spec:
  group: example.fluxgate.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              replicas: {type: integer}
            x-kubernetes-validations:
            - rule: "self.replicas <= 3"
              message: "replicas must be at most 3"
`

func TestRunAppliesInDependsOnOrder(t *testing.T) {
	needPlane(t)
	ns := unit(t, "namespaces", "infra/ns.yaml", `{apiVersion: v1, kind: Namespace, metadata: {name: order-a}}`)
	app := unit(t, "app", "apps/cm.yaml", `{apiVersion: v1, kind: ConfigMap, metadata: {name: app, namespace: order-a}, data: {k: v}}`)
	broken := unit(t, "broken", "apps/bad.yaml", `{apiVersion: v1, kind: ConfigMap, metadata: {name: bad, namespace: order-missing}}`)
	after := unit(t, "after-broken", "apps/after.yaml", `{apiVersion: v1, kind: ConfigMap, metadata: {name: after, namespace: order-a}}`)
	// app is listed first but depends on namespaces: its namespace exists only then.
	res := Run(context.Background(), engine, []UnitSpec{
		{Unit: app, DependsOn: []string{ns.ID}},
		{Unit: ns},
		{Unit: broken},
		{Unit: after, DependsOn: []string{broken.ID}},
	}, 4)
	if res[1].Status != StatusReady || res[0].Status != StatusReady {
		t.Fatalf("namespaces %s (%s), app %s (%s); want both Ready", res[1].Status, res[1].Message, res[0].Status, res[0].Message)
	}
	if res[0].Started <= res[1].Started {
		t.Errorf("app started %d, its dependency %d: want the dependency first", res[0].Started, res[1].Started)
	}
	if res[2].Status != StatusFailed {
		t.Errorf("broken: %s (%s), want Failed", res[2].Status, res[2].Message)
	}
	if res[3].Status != StatusSkipped || !strings.Contains(res[3].Message, broken.ID) {
		t.Errorf("after-broken: %s (%s), want Skipped naming %s", res[3].Status, res[3].Message, broken.ID)
	}
	cm, err := get(t, "v1", "ConfigMap", "order-a", "app")
	if err != nil {
		t.Fatal(err)
	}
	if got := cm.GetLabels()["kustomize.toolkit.fluxcd.io/name"]; got != "app" {
		t.Errorf("ownership label kustomize.toolkit.fluxcd.io/name = %q, want app", got)
	}
	if got := cm.GetLabels()["kustomize.toolkit.fluxcd.io/namespace"]; got != "flux-system" {
		t.Errorf("ownership label kustomize.toolkit.fluxcd.io/namespace = %q, want flux-system", got)
	}
}

func TestApplyCRDBeforeCR(t *testing.T) {
	needPlane(t)
	// The custom resource comes first in the unit, as a build may emit it.
	u := unit(t, "widgets", "apps/widgets.yaml",
		`{apiVersion: example.fluxgate.dev/v1, kind: Widget, metadata: {name: w1, namespace: default}, spec: {replicas: 2}}`,
		widgetCRD)
	r := RunUnit(context.Background(), engine, UnitSpec{Unit: u}, UnitResult{})
	if r.Status != StatusReady {
		t.Fatalf("%s: %s", r.Status, r.Message)
	}
	if _, err := get(t, "example.fluxgate.dev/v1", "Widget", "default", "w1"); err != nil {
		t.Errorf("the Widget was not applied: %v", err)
	}
}

func TestApplyCELRuleFailureAtSourceLine(t *testing.T) {
	needPlane(t)
	u := unit(t, "widgets-bad", "apps/widgets-bad.yaml",
		widgetCRD,
		`{apiVersion: v1, kind: ConfigMap, metadata: {name: fine, namespace: default}}`,
		`{apiVersion: example.fluxgate.dev/v1, kind: Widget, metadata: {name: too-many, namespace: default}, spec: {replicas: 7}}`)
	r := RunUnit(context.Background(), engine, UnitSpec{Unit: u}, UnitResult{})
	if r.Status != StatusFailed {
		t.Fatalf("%s: %s; want Failed", r.Status, r.Message)
	}
	if r.Object == nil || r.Object.String() != "Widget/default/too-many" {
		t.Errorf("failing object %v, want Widget/default/too-many", r.Object)
	}
	if r.File != "apps/widgets-bad.yaml" || r.Line != 30 {
		t.Errorf("source %s:%d, want apps/widgets-bad.yaml:30", r.File, r.Line)
	}
	if !strings.Contains(r.Message, "replicas must be at most 3") {
		t.Errorf("message %q does not carry the CEL rule's message", r.Message)
	}
}

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      nodeSelector: {type: %s}
      containers: [{name: app, image: registry.example/app:1.0}]
`

func TestWaitDeploymentBecomesAvailable(t *testing.T) {
	needPlane(t)
	u := unit(t, "web", "apps/web.yaml", fmt.Sprintf(deployment, "web", "web", "web", "kwok"))
	r := RunUnit(context.Background(), engine, UnitSpec{Unit: u, Wait: true, Timeout: 2 * time.Minute}, UnitResult{})
	if r.Status != StatusReady {
		t.Fatalf("%s: %s; want Ready (pods run on the kwok node)", r.Status, r.Message)
	}
	d, err := get(t, "apps/v1", "Deployment", "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if n, _, _ := unstructured.NestedInt64(d.Object, "status", "availableReplicas"); n != 2 {
		t.Errorf("availableReplicas %d, want 2", n)
	}
}

func TestWaitTimesOut(t *testing.T) {
	needPlane(t)
	// No node has type=none: the Pods stay Pending.
	u := unit(t, "stuck", "apps/stuck.yaml", fmt.Sprintf(deployment, "stuck", "stuck", "stuck", "none"))
	r := RunUnit(context.Background(), engine, UnitSpec{Unit: u, Wait: true, Timeout: 5 * time.Second}, UnitResult{})
	if r.Status != StatusTimedOut {
		t.Fatalf("%s: %s; want TimedOut", r.Status, r.Message)
	}
	if r.Object == nil || r.Object.String() != "Deployment/default/stuck" || r.File != "apps/stuck.yaml" || r.Line != 10 {
		t.Errorf("first failing object %v at %s:%d, want Deployment/default/stuck at apps/stuck.yaml:10", r.Object, r.File, r.Line)
	}
}

func TestServerDryRunPersistsNothing(t *testing.T) {
	needPlane(t)
	dry := *engine
	dry.DryRun = true
	ok := unit(t, "dry", "apps/dry.yaml", `{apiVersion: v1, kind: ConfigMap, metadata: {name: dry-only, namespace: default}}`)
	r := RunUnit(context.Background(), &dry, UnitSpec{Unit: ok, Wait: true}, UnitResult{})
	if r.Status != StatusReady {
		t.Fatalf("%s: %s", r.Status, r.Message)
	}
	if _, err := get(t, "v1", "ConfigMap", "default", "dry-only"); !apierrors.IsNotFound(err) {
		t.Errorf("a dry run persisted the ConfigMap (get: %v)", err)
	}
	bad := unit(t, "dry-bad", "apps/dry-bad.yaml",
		`{apiVersion: v1, kind: ConfigMap, metadata: {name: Not_A_Name, namespace: default}}`)
	r = RunUnit(context.Background(), &dry, UnitSpec{Unit: bad}, UnitResult{})
	if r.Status != StatusFailed || r.File != "apps/dry-bad.yaml" || r.Line != 10 {
		t.Errorf("%s at %s:%d (%s); want Failed at apps/dry-bad.yaml:10", r.Status, r.File, r.Line, r.Message)
	}
}

func TestRunSkipsCycles(t *testing.T) {
	a := &render.Unit{ID: "Kustomization/x/a"}
	b := &render.Unit{ID: "Kustomization/x/b"}
	res := Run(context.Background(), nil, []UnitSpec{{Unit: a, DependsOn: []string{b.ID}}, {Unit: b, DependsOn: []string{a.ID}}}, 2)
	for _, r := range res {
		if r.Status != StatusSkipped || r.Started != 0 {
			t.Errorf("%s: %s (started %d), want Skipped and never started", r.Unit.ID, r.Status, r.Started)
		}
	}
}

func TestKubeconfigSelectsContext(t *testing.T) {
	needPlane(t)
	kc, err := os.ReadFile(plane.Dir() + "/kubeconfig")
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/config"
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Kubeconfig{Path: path, Context: "nope"}).Start(context.Background()); err == nil || !strings.Contains(err.Error(), `no context "nope"`) {
		t.Errorf("unknown context: err %v, want one naming it", err)
	}
	got, err := (&Kubeconfig{Path: path, Context: "fluxgate-local"}).Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(got, "")
	if err != nil {
		t.Fatal(err)
	}
	ns := &unstructured.Unstructured{}
	ns.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"})
	if err := e.Client().Get(context.Background(), client.ObjectKey{Name: "default"}, ns); err != nil {
		t.Errorf("the selected context does not reach the cluster: %v", err)
	}
}

func TestLocateNamesTheLongestMatchingObject(t *testing.T) {
	u := unit(t, "x", "apps/x.yaml",
		`{apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: ns}}`,
		`{apiVersion: v1, kind: ConfigMap, metadata: {name: ab, namespace: ns}}`)
	objs, srcs, err := unstructuredOf(u)
	if err != nil {
		t.Fatal(err)
	}
	err = locate(fmt.Errorf("ConfigMap/ns/ab dry-run failed (Invalid): bad"), objs, srcs)
	var ae *ApplyError
	if !errors.As(err, &ae) {
		t.Fatalf("%v is no ApplyError", err)
	}
	if ae.Object.String() != "ConfigMap/ns/ab" || ae.File != "apps/x.yaml" || ae.Line != 20 {
		t.Errorf("located %s at %s:%d, want ConfigMap/ns/ab at apps/x.yaml:20", ae.Object, ae.File, ae.Line)
	}
	var none *ApplyError
	if err := locate(fmt.Errorf("connection refused"), objs, srcs); errors.As(err, &none) {
		t.Errorf("an error naming no object was located at %s", none.Object)
	}
}
