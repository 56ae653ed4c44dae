package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteAndCopyTree(t *testing.T) {
	src := WriteTree(t, map[string]string{"a/b/c.yaml": "c: 1\n", "d.txt": "d"})
	dst := t.TempDir()
	CopyTree(t, src, dst)
	for name, want := range map[string]string{"a/b/c.yaml": "c: 1\n", "d.txt": "d"} {
		got, err := os.ReadFile(filepath.Join(dst, filepath.FromSlash(name)))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
}
