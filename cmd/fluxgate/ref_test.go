package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

func TestRenderCommandRef(t *testing.T) {
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	commit := func(msg string) {
		if _, err := wt.Add("."); err != nil {
			t.Fatal(err)
		}
		sig := &object.Signature{Name: "test", Email: "test@example.com", When: time.Unix(1700000000, 0)}
		if _, err := wt.Commit(msg, &git.CommitOptions{Author: sig}); err != nil {
			t.Fatal(err)
		}
	}
	write("app/kustomization.yaml", "resources:\n- cm.yaml\n")
	write("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n")
	commit("first")
	head, err := repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	first := head.Hash().String()
	write("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: green\n")
	commit("second")
	// Uncommitted work is not part of any revision.
	write("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: red\n")

	tests := []struct{ ref, want string }{
		{first, "color: blue"},
		{"HEAD", "color: green"},
		{"", "color: red"},
	}
	for _, tt := range tests {
		t.Run("ref="+tt.ref, func(t *testing.T) {
			args := []string{"render", dir}
			if tt.ref != "" {
				args = append(args, "--ref", tt.ref)
			}
			out, stderr, code := run(t, args...)
			if code != 0 || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, output lacks %q:\n%s\n%s", code, tt.want, out, stderr)
			}
		})
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "app/cm.yaml")); !strings.Contains(string(data), "red") {
		t.Errorf("--ref touched the work tree")
	}
	if _, stderr, code := run(t, "render", dir, "--ref", "no-such-branch"); code != 2 || !strings.Contains(stderr, "--ref no-such-branch") {
		t.Errorf("unknown ref: exit %d, stderr %q", code, stderr)
	}
}
