package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fluxgate/fluxgate/internal/atomicfile"
)

// TestWrite: the file holds the data, a second write replaces it, the
// missing directory is created and no temporary file is left.
func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	for _, data := range []string{"first", "second, longer"} {
		if err := atomicfile.Write(dir, "f", []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, "f"))
		if err != nil || string(got) != data {
			t.Fatalf("read %q, %v; want %q", got, err, data)
		}
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(des) != 1 {
		t.Errorf("directory holds %d entries, want the file alone", len(des))
	}
}

// TestWriteFailure: a target that cannot be replaced (a directory) is an
// error and leaves no temporary file.
func TestWriteFailure(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "f"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f", "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(dir, "f", []byte("data")); err == nil {
		t.Fatal("replacing a directory succeeded")
	}
	des, _ := os.ReadDir(dir)
	if len(des) != 1 {
		t.Errorf("directory holds %d entries, want the existing one alone", len(des))
	}
}

// TestWritePermissions: the directories Write creates are 0700 and the
// file 0600, so no other user reads a cache entry.
func TestWritePermissions(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "a", "b")
	if err := atomicfile.Write(dir, "f", []byte("x")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want os.FileMode
	}{
		{filepath.Join(root, "a"), 0o700},
		{dir, 0o700},
		{filepath.Join(dir, "f"), 0o600},
	} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("%s: mode %v, want %v", c.path, got, c.want)
		}
	}
}
