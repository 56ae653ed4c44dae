package workspace

import (
	"context"
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/internal/testenv"
)

func TestLoadSourcesAndPaths(t *testing.T) {
	dir := testenv.WriteTree(t, map[string]string{
		"apps/kustomization.yaml": "resources:\n- cm.yaml\n",
		"apps/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
	})
	tests := []struct {
		name    string
		o       Options
		paths   []string
		wantErr string
	}{
		{name: "the work tree", paths: []string{"apps", "apps/"}},
		{name: "a source mapped to a directory", o: Options{Sources: []string{"GitRepository/flux-system/apps=apps"}}},
		{name: "a source without its namespace", o: Options{Sources: []string{"GitRepository/apps=apps"}}, wantErr: `--source "GitRepository/apps=apps": want KIND/NAMESPACE/NAME=DIR`},
		{name: "a path that is a file", paths: []string{"apps/cm.yaml"}, wantErr: "--path apps/cm.yaml: not a directory of"},
		{name: "a revision outside a repository", o: Options{Ref: "main"}, wantErr: "--ref main:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			abs, repo, cleanup, err := Load(context.Background(), dir, tc.o)
			defer cleanup()
			if err == nil {
				err = CheckPaths(repo, tc.paths, dir)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if abs == "" || !repo.IsDir("apps") {
				t.Errorf("Load = %q, a repository without apps/", abs)
			}
		})
	}
}
