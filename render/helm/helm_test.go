package helm_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fluxgate/fluxgate/render/helm"
)

// TestNormalizeRepoURL: oci:// without a trailing slash, http(s) with
// one, aliases and other schemes refused, as source-controller does.
func TestNormalizeRepoURL(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "https://charts.example.com", want: "https://charts.example.com/"},
		{in: "https://charts.example.com/stable//", want: "https://charts.example.com/stable/"},
		{in: "oci://ghcr.io/org/charts/", want: "oci://ghcr.io/org/charts"},
		{in: "@stable", wantErr: true},
		{in: "alias:stable", wantErr: true},
		{in: "ftp://charts.example.com", wantErr: true},
	}
	for _, tt := range tests {
		got, err := helm.NormalizeRepoURL(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("NormalizeRepoURL(%q) error %v, want error %t", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("NormalizeRepoURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestReleaseNameShortened: helm-controller's release name, shortened
// past 53 characters to a prefix and a hash.
func TestReleaseNameShortened(t *testing.T) {
	hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps"}}
	hr.Spec.TargetNamespace = "prod"
	if got := helm.ReleaseName(hr); got != "prod-web" {
		t.Errorf("ReleaseName = %q, want prod-web", got)
	}
	hr.Spec.ReleaseName = strings.Repeat("a", 60)
	got := helm.ReleaseName(hr)
	if len(got) != 53 || !strings.HasPrefix(got, strings.Repeat("a", 40)+"-") {
		t.Errorf("ReleaseName of a 60-character name = %q (%d characters), want 40 a's, a dash and 12 hex digits", got, len(got))
	}
}

// TestParseManifestTemplates: each document of a manifest carries the
// template of its "# Source:" comment; empty documents are dropped.
func TestParseManifestTemplates(t *testing.T) {
	manifest := "---\n# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\n---\n# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n"
	docs, err := helm.ParseManifest(manifest, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range docs {
		got = append(got, d.Object["kind"].(string)+" "+d.Template)
	}
	if diff := cmp.Diff([]string{"Service web/templates/svc.yaml", "ConfigMap web/templates/cm.yaml"}, got); diff != "" {
		t.Errorf("documents (-want +got):\n%s", diff)
	}
	if _, err := helm.ParseManifest("a: [", "x.yaml"); err == nil || !strings.Contains(err.Error(), "x.yaml") {
		t.Errorf("a broken manifest: error %v, want one naming x.yaml", err)
	}
}

// TestFetcherOfflineEmptyCacheIsUnavailable: offline, a chart the cache
// does not hold is ErrUnavailable (Flux would fetch it), not a failure.
func TestFetcherOfflineEmptyCacheIsUnavailable(t *testing.T) {
	f := helm.NewFetcher(helm.FetcherOptions{CacheDir: t.TempDir(), Offline: true})
	_, err := f.RepositoryChart(context.Background(), "https://charts.example.com/", nil, "web", "1.x")
	if !errors.Is(err, helm.ErrUnavailable) {
		t.Errorf("RepositoryChart offline with an empty cache: %v, want ErrUnavailable", err)
	}
	_, err = f.OCIChart(context.Background(), "oci://ghcr.io/org/charts/web", "1.2.3", nil)
	if !errors.Is(err, helm.ErrUnavailable) {
		t.Errorf("OCIChart offline with an empty cache: %v, want ErrUnavailable", err)
	}
}
