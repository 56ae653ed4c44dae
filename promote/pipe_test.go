package promote

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Named pipes in either environment are reported, never read: a read of
// one would block the promotion for good.
func TestNamedPipesAreNotRead(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"staging/app.conf":    "a = 1\n",
		"production/keep.txt": "",
	})
	if err := syscall.Mkfifo(filepath.Join(dir, "production", "app.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := Promotion{Name: "conf", From: "staging", To: "production", Files: []string{"*.conf"}}

	plan, err := Compute(os.DirFS(dir), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Edits) != 0 {
		t.Errorf("the named pipe production/app.conf is written over: %+v", plan.Edits)
	}
	found := false
	for _, pr := range plan.Problems {
		if pr.File == "production/app.conf" && strings.Contains(pr.Message, "not a regular file (a named pipe)") {
			found = true
		}
	}
	if !found {
		t.Errorf("no problem names the named pipe production/app.conf: %+v", plan.Problems)
	}

	if err := syscall.Mkfifo(filepath.Join(dir, "staging", "values.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Compute(os.DirFS(dir), p)
	if err == nil || !strings.Contains(err.Error(), "staging/values.yaml: not a regular file (a named pipe)") {
		t.Errorf("want an error naming staging/values.yaml as a named pipe, got %v", err)
	}
}
