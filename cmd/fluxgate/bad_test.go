package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/tools/txtar"
)

// The bad-input corpus: every file under testdata/bad is a txtar archive
// of one repository a hostile or careless user could hand fluxgate, with
// its expectations in the archive's comment. TestBadInputs runs the real
// binary (this test binary, re-executed as fluxgate) on each and checks
// the exit code, the finding that names the file, and that the run ends
// within generous bounds of time and memory: a hang or a runaway
// allocation fails the case, never the machine.
//
// Comment lines are "key: value" (lines starting with # are prose):
//
//	args:    the command and flags; the repository directory is put
//	         after the command (default "validate")
//	exit:    the exit code (required)
//	rule:    a finding of this rule must be reported (validate, JSON)
//	file:    ... in this file (relative to the repository); required with rule
//	object:  ... on this object, when the finding names one
//	stderr:  stderr must contain this text (repeatable)
//	fifo:    make a named pipe at this path (git cannot hold one)
//	symlink: "PATH -> TARGET" (txtar cannot hold one)
//	large:   "PATH MiB": a file of that many MiB of ConfigMaps
//	wide:    "PATH MiB": one ConfigMap holding a string of that many MiB
//	memory:  the bound of the run's peak RSS in MiB (default 1024)
const badInputMainEnv = "FLUXGATE_TEST_RUN_MAIN"

// badCaseTimeout bounds one case: far beyond what any case needs on a slow
// machine, so that only a hang reaches it.
const badCaseTimeout = 3 * time.Minute

func TestMain(m *testing.M) {
	if os.Getenv(badInputMainEnv) == "1" {
		main()
		return
	}
	code := m.Run()
	if builtFluxgate.path != "" {
		os.RemoveAll(filepath.Dir(builtFluxgate.path))
	}
	os.Exit(code)
}

type badCase struct {
	args      []string
	exit      int
	rule      string
	file      string
	object    string
	stderr    []string
	fifos     []string
	symlinks  [][2]string
	large     []largeFile
	wide      []largeFile
	memoryMiB int64
}

type largeFile struct {
	path string
	mib  int
}

func parseBadCase(comment []byte) (badCase, error) {
	c := badCase{exit: -1, memoryMiB: 1024}
	sc := bufio.NewScanner(bytes.NewReader(comment))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return c, fmt.Errorf("line %q is not key: value", line)
		}
		value = strings.TrimSpace(value)
		var err error
		switch key {
		case "args":
			c.args = strings.Fields(value)
		case "exit":
			c.exit, err = strconv.Atoi(value)
		case "rule":
			c.rule = value
		case "file":
			c.file = value
		case "object":
			c.object = value
		case "stderr":
			c.stderr = append(c.stderr, value)
		case "fifo":
			c.fifos = append(c.fifos, value)
		case "symlink":
			from, to, ok := strings.Cut(value, " -> ")
			if !ok {
				return c, fmt.Errorf("symlink %q is not PATH -> TARGET", value)
			}
			c.symlinks = append(c.symlinks, [2]string{from, to})
		case "large", "wide":
			f := strings.Fields(value)
			if len(f) != 2 {
				return c, fmt.Errorf("%s %q is not PATH MiB", key, value)
			}
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return c, fmt.Errorf("%s: %w", key, err)
			}
			if key == "large" {
				c.large = append(c.large, largeFile{f[0], n})
			} else {
				c.wide = append(c.wide, largeFile{f[0], n})
			}
		case "memory":
			c.memoryMiB, err = strconv.ParseInt(value, 10, 64)
		default:
			return c, fmt.Errorf("unknown key %q", key)
		}
		if err != nil {
			return c, fmt.Errorf("%s: %w", key, err)
		}
	}
	if c.exit < 0 {
		return c, fmt.Errorf("no exit:")
	}
	if (c.rule == "") != (c.file == "") {
		return c, fmt.Errorf("rule: and file: go together")
	}
	if len(c.args) == 0 {
		c.args = []string{"validate"}
	}
	return c, nil
}

// writeBadRepo lays the case's repository out in dir.
func writeBadRepo(t *testing.T, dir string, a *txtar.Archive, c badCase) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil { // a case may hold no file
		t.Fatal(err)
	}
	for _, f := range a.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range c.fifos {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range c.symlinks {
		p := filepath.Join(dir, filepath.FromSlash(l[0]))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(l[1], p); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range c.large {
		p := filepath.Join(dir, filepath.FromSlash(l.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		pad := strings.Repeat("x", 900)
		for i := 0; b.Len() < l.mib<<20; i++ {
			fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n  namespace: default\ndata:\n  v: %s\n", i, pad)
		}
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range c.wide {
		p := filepath.Join(dir, filepath.FromSlash(l.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		doc := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wide\n  namespace: default\ndata:\n  a: " + strings.Repeat("y", l.mib<<20) + "\n"
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type badReport struct {
	Findings []struct {
		Rule, Severity, File, Object, Message string
		Line                                  int
	}
}

func TestBadInputs(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "..", "testdata", "bad", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 60 {
		t.Fatalf("found %d bad-input cases, want at least 60", len(paths))
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := parseBadCase(a.Comment)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			repo := filepath.Join(t.TempDir(), "repo")
			writeBadRepo(t, repo, a, c)
			args := append([]string{c.args[0], repo}, c.args[1:]...)
			if c.args[0] == "validate" || c.args[0] == "render" {
				args = append(args, "--offline", "--cache-dir", t.TempDir(), "--quiet")
			}
			if c.rule != "" {
				args = append(args, "-o", "json")
			}
			ctx, cancel := context.WithTimeout(context.Background(), badCaseTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, self, args...)
			cmd.Dir = t.TempDir()
			cmd.Env = append(os.Environ(), badInputMainEnv+"=1", "HOME="+t.TempDir(), "XDG_CACHE_HOME="+t.TempDir(),
				"GITHUB_ACTIONS=", "SOPS_AGE_KEY=", "SOPS_AGE_KEY_FILE=")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err = cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("fluxgate %s did not finish within %v", strings.Join(c.args, " "), badCaseTimeout)
			}
			code := cmd.ProcessState.ExitCode()
			if err != nil && code < 0 {
				t.Fatalf("fluxgate did not exit: %v\nstderr:\n%s", err, stderr.String())
			}
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				if rss := ru.Maxrss >> 10; rss > c.memoryMiB {
					t.Errorf("peak memory %d MiB, bound %d MiB", rss, c.memoryMiB)
				}
			}
			out, errOut := stdout.String(), strings.ReplaceAll(stderr.String(), repo+string(filepath.Separator), "")
			if code != c.exit {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.exit, clip(out), clip(errOut))
			}
			for _, s := range []string{out, errOut} {
				if strings.Contains(s, "internal error") || strings.Contains(s, "panic:") || strings.Contains(s, "goroutine ") {
					t.Errorf("crash: %s", firstLineWith(s, "internal error"))
				}
			}
			for _, want := range c.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, clip(errOut))
				}
			}
			if c.rule == "" {
				return
			}
			var rep badReport
			if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
				t.Fatalf("not a JSON report: %v\nstdout:\n%s\nstderr:\n%s", err, clip(out), clip(errOut))
			}
			var got []string
			for _, f := range rep.Findings {
				if f.Rule == c.rule && f.File == c.file && (c.object == "" || f.Object == c.object) {
					return
				}
				got = append(got, fmt.Sprintf("%s:%d %s %s [%s] %s", f.File, f.Line, f.Severity, f.Object, f.Rule, f.Message))
			}
			t.Errorf("no %s finding in %s %s; findings:\n%s", c.rule, c.file, c.object, strings.Join(got, "\n"))
		})
	}
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:4000] + "\n[...]"
	}
	return s
}
