package validate_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/fluxgate/fluxgate/validate"
)

// A .fluxgate.yaml that is a named pipe is refused with an error naming
// it, instead of blocking the run on the read.
func TestLoadConfigRefusesNamedPipe(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, validate.ConfigFile), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := validate.LoadConfig(os.DirFS(dir))
	if err == nil || !strings.Contains(err.Error(), validate.ConfigFile+": not a regular file (a named pipe)") {
		t.Fatalf("want an error naming %s as a named pipe, got %v", validate.ConfigFile, err)
	}
}
