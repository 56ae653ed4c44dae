package render_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
)

// TestPlainManifests: a repository without Flux Kustomization or
// kustomization file renders its Kubernetes documents as written, each
// at its file and line, one unit per directory; chart files, templated
// files and YAML that is no object are left out.
func TestPlainManifests(t *testing.T) {
	dir := filepath.Join(fleets, "patterns", "plain-manifests")
	_, res := renderDir(t, dir, 2)
	var got []string
	for _, u := range res.Units {
		if u.Kind != render.KindManifests || u.Path != u.Cluster || u.Hash == "" {
			t.Errorf("unit %s: kind %s, path %s, cluster %s, hash %q", u.ID, u.Kind, u.Path, u.Cluster, u.Hash)
		}
		for _, o := range u.Objects {
			got = append(got, fmt.Sprintf("%s %s:%d %s", u.ID, o.File, o.Line, o.Ref()))
		}
	}
	want := []string{
		"Manifests/deploy deploy/alerts.yaml:1 PrometheusRule/shop/web",
		"Manifests/deploy deploy/config.yaml:1 ConfigMap/shop/web-config",
		"Manifests/deploy deploy/config.yaml:10 HorizontalPodAutoscaler/shop/web",
		"Manifests/deploy deploy/ingress.yaml:1 Ingress/shop/web",
		"Manifests/deploy deploy/namespace.yaml:1 Namespace/shop",
		"Manifests/deploy deploy/web.yaml:2 Deployment/shop/web",
		"Manifests/deploy deploy/web.yaml:48 Service/shop/web",
		"Manifests/jobs jobs/backup.yaml:1 CronJob/shop/db-backup",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("objects (-want +got):\n%s", d)
	}
}

// TestPlainManifestsOnlyWithoutBuilds: one kustomization.yaml (or one
// Flux Kustomization) makes the repository a kustomize one: its entry
// points are built, the other directories are not manifests.
func TestPlainManifestsOnlyWithoutBuilds(t *testing.T) {
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n"
	dir := testenv.WriteTree(t, map[string]string{
		"overlay/kustomization.yaml": "resources:\n- cm.yaml\n",
		"overlay/cm.yaml":            fmt.Sprintf(cm, "built"),
		"loose/cm.yaml":              fmt.Sprintf(cm, "loose"),
	})
	_, res := renderDir(t, dir, 2)
	var ids []string
	for _, u := range res.Units {
		ids = append(ids, u.ID)
	}
	if d := cmp.Diff([]string{"Overlay/overlay"}, ids); d != "" {
		t.Errorf("units (-want +got):\n%s", d)
	}
	// --path to a directory of plain manifests builds it as Flux would.
	_, res = renderDir(t, testenv.WriteTree(t, map[string]string{"loose/cm.yaml": fmt.Sprintf(cm, "loose")}), 2, "loose")
	if len(res.Units) != 1 || res.Units[0].Kind != render.KindOverlay {
		t.Errorf("--path loose: units %+v, want one overlay", res.Units)
	}
}

// TestPlainManifestsSharded: shards split the directories, each renders
// its own; Checked sees every unit once, compacted.
func TestPlainManifestsSharded(t *testing.T) {
	files := map[string]string{}
	for i, d := range []string{"a", "b", "c", "d", "e"} {
		for j := 0; j <= i; j++ {
			files[fmt.Sprintf("%s/cm%d.yaml", d, j)] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s-%d\n", d, j)
		}
	}
	dir := testenv.WriteTree(t, files)
	var all []string
	for i := 1; i <= 2; i++ {
		var mu sync.Mutex
		var checked []string
		_, res := renderDirOpts(t, dir, render.Options{Workers: 2, Shard: render.Shard{Index: i, Count: 2}, Compact: true,
			Checked: func(u *render.Unit) {
				mu.Lock()
				defer mu.Unlock()
				checked = append(checked, u.ID)
				if u.Objects[0].Object != nil {
					t.Errorf("%s: objects not compacted", u.ID)
				}
			}})
		if res.Assignment == nil || !res.Assignment.ByCluster || len(res.Assignment.Items) != 5 {
			t.Fatalf("shard %d: assignment %+v", i, res.Assignment)
		}
		var ids []string
		for _, u := range res.Units {
			if !res.Owns(u) {
				t.Errorf("shard %d renders %s of shard %d", i, u.ID, u.Shard)
			}
			ids = append(ids, u.ID)
		}
		sort.Strings(checked)
		if d := cmp.Diff(ids, checked); d != "" {
			t.Errorf("shard %d: Checked (-units +checked):\n%s", i, d)
		}
		all = append(all, ids...)
	}
	sort.Strings(all)
	if got := strings.Join(all, " "); got != "Manifests/a Manifests/b Manifests/c Manifests/d Manifests/e" {
		t.Errorf("shards' units: %s", got)
	}
}
