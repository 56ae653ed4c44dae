package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEcosystemUpToDate checks that the committed ecosystem catalog is
// exactly what a fresh generation from pins.yaml gives. It downloads the
// pinned modules through the Go module proxy.
func TestEcosystemUpToDate(t *testing.T) {
	if os.Getenv("GOPROXY") == "off" || strings.Contains(os.Getenv("GOFLAGS"), "-mod=vendor") {
		t.Skip("the module proxy is off (GOPROXY=off or -mod=vendor): the pinned operator modules cannot be downloaded")
	}
	err := run(context.Background(), []string{"-ecosystem", "-check", "-pins", "pins.yaml",
		"-ecosystem-dir", filepath.Join("..", "data", "ecosystem")}, io.Discard)
	if err != nil {
		t.Fatalf("%v (run go generate ./validate/catalog)", err)
	}
}

func TestReadPins(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ name, content, want string }{
		{"missing", "- name: x\n  module: example.com/x\n", "name, module, version and crds are required"},
		{"twice", "- {name: x, module: m, version: v1, crds: [a]}\n- {name: x, module: n, version: v1, crds: [b]}\n", "x is pinned twice"},
		{"unknown", "- {name: x, module: m, version: v1, crds: [a], glob: b}\n", "field glob not found"},
	} {
		p := filepath.Join(dir, tt.name+".yaml")
		if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readPins(p); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}
