package fleet_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fluxgate/fluxgate/fleet"
)

// TestLoadSkipsNamedPipes: a named pipe in the tree, also one linked to
// and one named like a YAML file, is reported and never opened (opening a
// FIFO for reading blocks until a writer comes).
func TestLoadSkipsNamedPipes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pipe.yaml", ".sourceignore"} {
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
	}
	if err := os.Symlink("pipe.yaml", filepath.Join(dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var repo *fleet.Repo
	var err error
	go func() {
		defer close(done)
		repo, err = fleet.Load(context.Background(), os.DirFS(dir), fleet.Options{})
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Load opened a named pipe and blocked")
	}
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, p := range repo.Problems {
		if strings.Contains(p.Message, "not a regular file") {
			got[p.File] = true
			if p.Severity != fleet.SeverityWarning {
				t.Errorf("%s: severity %s, want warning", p.File, p.Severity)
			}
		}
	}
	for _, want := range []string{"pipe.yaml", ".sourceignore"} {
		if !got[want] {
			t.Errorf("no problem for %s; problems: %+v", want, repo.Problems)
		}
	}
	if !slices.ContainsFunc(repo.Problems, func(p fleet.Problem) bool { return p.File == "link.yaml" && p.Rule == fleet.RuleSymlinkIgnored }) {
		t.Errorf("the link to a pipe is not reported as a link: %+v", repo.Problems)
	}
	if len(repo.DocsInFile("cm.yaml")) != 1 {
		t.Errorf("the regular file beside the pipes was not loaded")
	}
	// The checks that read files after the load (secretGenerator files,
	// SOPS MACs) go through ReadFile, which opens regular files only.
	read := make(chan error, 1)
	go func() {
		_, err := repo.ReadFile("pipe.yaml")
		read <- err
	}()
	select {
	case err := <-read:
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadFile of a named pipe: %v, want not-exist", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("ReadFile opened a named pipe and blocked")
	}
	for _, name := range []string{"link.yaml", "../cm.yaml", "missing.yaml"} {
		if _, err := repo.ReadFile(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadFile(%s): %v, want not-exist", name, err)
		}
	}
	if data, err := repo.ReadFile("./cm.yaml"); err != nil || !strings.Contains(string(data), "ConfigMap") {
		t.Errorf("ReadFile of a regular file: %q, %v", data, err)
	}
}
