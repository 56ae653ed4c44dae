package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlagValuesChecked: a flag value fluxgate cannot work with is a
// usage error (exit 2) before any work, one line on stderr naming the
// flag and the value, nothing on stdout.
func TestFlagValuesChecked(t *testing.T) {
	infra := filepath.Join(fleets, "fleet-infra")
	tmp := t.TempDir()
	file := filepath.Join(tmp, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	underFile := filepath.Join(file, "sub")
	tests := []struct {
		name string
		args []string
		// want are the parts of the one line on stderr: the flag and the
		// value at least.
		want []string
	}{
		{"validate: --cache-dir not writable", []string{"validate", infra, "--cache-dir", underFile}, []string{"--cache-dir", underFile, "not a writable directory"}},
		{"render: --cache-dir not writable", []string{"render", infra, "--cache-dir=" + underFile}, []string{"--cache-dir", underFile}},
		{"diff: --cache-dir not writable", []string{"diff", infra, "--base", "main", "--cache-dir", underFile}, []string{"--cache-dir", underFile}},
		{"--source matching no source object", []string{"validate", infra, "--source", "GitRepository/flux-system/apps-typo=."},
			[]string{"--source", "GitRepository/flux-system/apps-typo=.", "no source object GitRepository/flux-system/apps-typo"}},
		{"render: --source matching no source object", []string{"render", infra, "--source", "OCIRepository/flux-system/flux-system=."},
			[]string{"--source", "OCIRepository/flux-system/flux-system=."}},
		{"image-update: --source matching no source object", []string{"image-update", infra, "--dry-run", "--source", "GitRepository/apps/nope=apps"},
			[]string{"--source", "GitRepository/apps/nope=apps"}},
		{"--source to a directory that does not exist", []string{"validate", infra, "--source", "GitRepository/flux-system/flux-system=nowhere"},
			[]string{"--source", "GitRepository/flux-system/flux-system=nowhere", "nowhere is not a directory"}},
		{"--source without a namespace", []string{"validate", infra, "--source", "GitRepository/apps=."}, []string{"--source", "GitRepository/apps=.", "KIND/NAMESPACE/NAME=DIR"}},
		{"--source of a kind that is no source", []string{"render", infra, "--source", "Kustomization/flux-system/apps=apps"},
			[]string{"--source", "Kustomization/flux-system/apps=apps", "not a source kind"}},
		{"negative --max-file-size", []string{"validate", infra, "--max-file-size", "-1"}, []string{"--max-file-size", "-1", "positive"}},
		{"zero --max-file-size", []string{"render", infra, "--max-file-size", "0"}, []string{"--max-file-size", "0"}},
		{"image-update: negative --max-file-size", []string{"image-update", infra, "--dry-run", "--max-file-size=-5"}, []string{"--max-file-size", "-5"}},
		{"negative --workers", []string{"validate", infra, "--workers", "-2"}, []string{"--workers", "-2"}},
		{"--schema-location URL with --offline", []string{"validate", infra, "--schema-location", "https://schemas.example.com/{{ .ResourceKind }}.json"},
			[]string{"--schema-location", "https://schemas.example.com/{{ .ResourceKind }}.json", "--offline"}},
		{"--schema-location default with --offline", []string{"validate", infra, "--schema-location", "default"}, []string{"--schema-location", `"default"`, "--offline"}},
		{"--schema-location in a missing directory", []string{"validate", infra, "--schema-location", filepath.Join(tmp, "nope", "{{ .ResourceKind }}.json")},
			[]string{"--schema-location", filepath.Join(tmp, "nope"), "is not a directory"}},
		{"render: --kubernetes-version not a version", []string{"render", infra, "--kubernetes-version", "latest"}, []string{"--kubernetes-version", "latest"}},
		{"diff: --kubernetes-version not a version", []string{"diff", infra, "--base", "main", "--kubernetes-version", "1"}, []string{"--kubernetes-version", `"1"`}},
		{"validate: --kubernetes-version not a version", []string{"validate", infra, "--kubernetes-version", "one.36"}, []string{"--kubernetes-version", "one.36"}},
		{"--output-dir that is a file", []string{"render", infra, "--output-dir", file}, []string{"--output-dir", file}},
		{"--output-dir with -o json", []string{"render", infra, "--output-dir", filepath.Join(tmp, "out"), "-o", "json"}, []string{"--output", "json", "--output-dir"}},
		{"render: unknown -o", []string{"render", infra, "-o", "xml"}, []string{"--output", "xml"}},
		{"validate: unknown -o", []string{"validate", infra, "-o", "html"}, []string{"--output", "html", "unknown format"}},
		{"-o to a directory", []string{"validate", infra, "-o", "json=" + tmp}, []string{"--output", "json=" + tmp, "is a directory"}},
		{"-o below a file", []string{"validate", infra, "-o", "sarif=" + filepath.Join(file, "r.sarif")}, []string{"--output", file + " is not a directory"}},
		{"diff: -o to a directory", []string{"diff", infra, "--base", "main", "-o", "markdown=" + tmp}, []string{"--output", "markdown=" + tmp}},
		{"unknown --fail-on", []string{"validate", infra, "--fail-on", "sometimes"}, []string{"--fail-on", "sometimes"}},
		{"report merge: unknown --fail-on", []string{"report", "merge", "--fail-on", "always", "r.json"}, []string{"--fail-on", "always"}},
		{"report merge: --dir not a directory", []string{"report", "merge", "--dir", file, "r.json"}, []string{"--dir", file}},
		{"--shard out of range", []string{"validate", infra, "--shard", "5/4"}, []string{"--shard", "5/4"}},
		{"--shard index above the count", []string{"validate", infra, "--shard", "9/4"}, []string{"--shard", "9/4", "1 ≤ i ≤ n"}},
		{"--shard index 0", []string{"render", infra, "--shard", "0/4"}, []string{"--shard", "0/4", "1 ≤ i ≤ n"}},
		{"--shard negative", []string{"validate", infra, "--shard", "-1/4"}, []string{"--shard", "-1/4"}},
		{"--shard negative count", []string{"validate", infra, "--shard", "1/-4"}, []string{"--shard", "1/-4"}},
		{"--shard garbage", []string{"validate", infra, "--shard", "two/four"}, []string{"--shard", "two/four"}},
		{"diff: unknown --forge", []string{"diff", infra, "--base", "main", "--forge", "gitlab"}, []string{"--forge", "gitlab", "github or gitea"}},
		{"diff: --api-url not a URL", []string{"diff", infra, "--base", "main", "--api-url", "api.github.com"}, []string{"--api-url", "api.github.com"}},
		{"diff: negative --pr", []string{"diff", infra, "--base", "main", "--pr", "-3"}, []string{"--pr", "-3"}},
		{"diff: --comment-id with a space", []string{"diff", infra, "--base", "main", "--comment-id", "my id"}, []string{"--comment-id", "my id"}},
		{"image-update: --registry-concurrency 0", []string{"image-update", infra, "--dry-run", "--registry-concurrency", "0"}, []string{"--registry-concurrency", `"0"`}},
		{"image-update: --automation with two slashes", []string{"image-update", infra, "--dry-run", "--automation", "a/b/c"}, []string{"--automation", "a/b/c"}},
		{"image-update: --git-url over SSH", []string{"image-update", infra, "--git-url", "git@github.com:org/fleet.git"}, []string{"--git-url", "git@github.com:org/fleet.git"}},
		{"image-update: --branch Git refuses", []string{"image-update", infra, "--dry-run", "--branch", "bots..images"}, []string{"--branch", "bots..images"}},
		{"image-update: unknown --forge", []string{"image-update", infra, "--dry-run", "--forge", "bitbucket"}, []string{"--forge", "bitbucket"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := run(t, tt.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
			}
			line := strings.TrimSpace(stderr)
			if strings.Contains(line, "\n") {
				t.Errorf("stderr is not one line:\n%s", stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if out != "" {
				t.Errorf("stdout:\n%s", out)
			}
		})
	}
}

// TestFlagValuesAccepted: the values the checks must let through.
func TestFlagValuesAccepted(t *testing.T) {
	infra := filepath.Join(fleets, "fleet-infra")
	schemas := t.TempDir()
	cache := filepath.Join(t.TempDir(), "new", "cache")
	tests := []struct {
		name string
		args []string
	}{
		{"a --source naming the bootstrap source", []string{"validate", infra, "--source", "GitRepository/flux-system/flux-system=."}},
		{"a --cache-dir to create", []string{"render", infra, "--path", "clusters/staging", "--cache-dir", cache}},
		{"a local --schema-location with --offline", []string{"validate", infra, "--schema-location", schemas + "/{{ .ResourceKind }}{{ .KindSuffix }}.json"}},
		{"a --kubernetes-version with its patch", []string{"validate", infra, "--kubernetes-version", "v1.36.2"}},
		{"-o to a file in a new directory", []string{"validate", infra, "-o", "json=" + filepath.Join(t.TempDir(), "reports", "r.json")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := run(t, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
			}
		})
	}
	if fi, err := os.Stat(cache); err != nil || !fi.IsDir() {
		t.Errorf("--cache-dir %s was not created: %v", cache, err)
	}
}

// TestDiffSourceChecked: diff refuses a --source that neither revision
// nor its render names.
func TestDiffSourceChecked(t *testing.T) {
	g := newGitFleet(t, "plain-overlays")
	_, stderr, code := runDiffCmd(t, "--base", "main", "--head", "main", "--source", "GitRepository/flux-system/apps=base", g.dir)
	if code != 2 || !strings.Contains(stderr, `--source "GitRepository/flux-system/apps=base": no source object GitRepository/flux-system/apps`) {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
}
