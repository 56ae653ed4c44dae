package fleet

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadRegularFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ok.yaml"), []byte("a: b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("pipe.yaml", filepath.Join(dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "dir.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	big, err := os.Create(filepath.Join(dir, "big.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(DefaultMaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	big.Close()
	fsys := os.DirFS(dir)

	data, err := ReadRegularFile(fsys, "ok.yaml")
	if err != nil || string(data) != "a: b\n" {
		t.Fatalf("ok.yaml: %q, %v", data, err)
	}
	if _, err := ReadRegularFile(fsys, "missing.yaml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing.yaml: want fs.ErrNotExist, got %v", err)
	}
	for name, want := range map[string]string{
		"pipe.yaml": "not a regular file (a named pipe)",
		"link.yaml": "not a regular file (a named pipe)",
		"dir.yaml":  "not a regular file (a directory)",
		"big.yaml":  "more than the 10485760 read",
	} {
		_, err := ReadRegularFile(fsys, name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want an error with %q, got %v", name, want, err)
		}
	}
}
