package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runStdin runs fluxgate with stdin as input, offline and with a cache
// directory of the test.
func runStdin(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newRootCmd(&out, &errb)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(append(args, "--offline", "--cache-dir", t.TempDir()))
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), exitStatus(err)
}

// TestValidateStdin: validate - checks a manifest stream from stdin as
// objects (a Flux Kustomization in it is checked against its schema, not
// followed), findings at <stdin>:line, and writes nothing to the cache.
func TestValidateStdin(t *testing.T) {
	stream := `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./does/not/exist
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
  replicas: 3
`
	cache := t.TempDir()
	var out, errb bytes.Buffer
	cmd := newRootCmd(&out, &errb)
	cmd.SetIn(strings.NewReader(stream))
	cmd.SetArgs([]string{"validate", "-", "--offline", "--cache-dir", cache})
	err := cmd.ExecuteContext(context.Background())
	if code := exitStatus(err); code != 1 {
		t.Fatalf("exit %d: %v\n%s", code, err, errb.String())
	}
	want := "<stdin>:14:1: error: Kustomization/flux-system/apps: /spec: additional properties 'replicas' not allowed [schema-invalid]"
	if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "in 1 unit (2 objects)") {
		t.Errorf("stdout lacks %q and the counts:\n%s", want, out.String())
	}
	if strings.Contains(out.String(), "path-not-found") || strings.Contains(out.String(), "stdin.yaml") {
		t.Errorf("the stream's Kustomization was followed, or its file named:\n%s", out.String())
	}
	entries, err := os.ReadDir(cache)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "parsed" || e.Name() == "units" {
			if sub, _ := os.ReadDir(filepath.Join(cache, e.Name())); len(sub) > 0 {
				t.Errorf("the stream went into the cache: %s holds %d entries", e.Name(), len(sub))
			}
		}
	}
}

// TestValidateStdinRefusals: an empty stream, one over --max-file-size
// and --path with - are usage errors (exit 2) saying what to do.
func TestValidateStdinRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"empty", "", nil, "empty manifest stream"},
		{"too large", strings.Repeat("# padding\n", 200), []string{"--max-file-size", "100"}, "over --max-file-size (100 bytes)"},
		{"path", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", []string{"--path", "clusters/x"}, "--path, --shard and --source need a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runStdin(t, tc.stdin, append([]string{"validate", "-"}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 with %q", code, stderr, tc.want)
			}
		})
	}
}

// TestValidateStdinInterrupted: a stream that never ends does not hold
// fluxgate past SIGTERM: it stops with the reason and removes the
// temporary copy of the stream.
func TestValidateStdinInterrupted(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	cmd := exec.Command(self, "validate", "-", "--offline", "--cache-dir", t.TempDir())
	cmd.Env = append(os.Environ(), badInputMainEnv+"=1", "TMPDIR="+tmp)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := stdin.Write([]byte("apiVersion: v1\nkind: ConfigMap\n")); err != nil {
		t.Fatal(err)
	}
	copies := func() []string {
		m, _ := filepath.Glob(filepath.Join(tmp, "fluxgate-stdin-*"))
		return m
	}
	for deadline := time.Now().Add(time.Minute); len(copies()) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("fluxgate never started reading stdin\n%s", stderr.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatalf("fluxgate still reading stdin a minute after SIGTERM\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 2 {
		t.Errorf("exit %d, want 2\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "read stdin") {
		t.Errorf("stderr lacks the reason:\n%s", stderr.String())
	}
	if left := copies(); len(left) > 0 {
		t.Errorf("the stream's temporary copy is left behind: %v", left)
	}
}
