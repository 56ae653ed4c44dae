package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	yaml "go.yaml.in/yaml/v3"
	"golang.org/x/mod/modfile"
)

// TestWorkflowsLint: every workflow under .github/workflows passes
// actionlint (its library: expressions, contexts, permissions, action
// inputs of the known actions, job needs), with shellcheck over the run:
// scripts when shellcheck is installed.
func TestWorkflowsLint(t *testing.T) {
	root := filepath.Join("..", "..")
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows: %v", err)
	}
	opts := &actionlint.LinterOptions{Oneline: true}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = sc
	} else {
		t.Log("shellcheck not installed: run: scripts are not checked")
	}
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, opts)
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.LintFiles(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Errorf("actionlint found %d problem(s):\n%s", len(errs), out.String())
	}
	for _, want := range []string{"ci.yaml", "release.yaml", "vulncheck.yaml"} {
		if _, err := os.Stat(filepath.Join(root, ".github", "workflows", want)); err != nil {
			t.Errorf("workflow %s: %v", want, err)
		}
	}
}

// TestReleaseWorkflowMovesActionImage: the release workflow's last step
// rewrites action.yml's image line, which must have the form it matches,
// and the release refuses a Dockerfile whose bases are not pinned.
func TestReleaseWorkflowMovesActionImage(t *testing.T) {
	root := filepath.Join("..", "..")
	action, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^  image: docker://\S+$`).Match(action) {
		t.Errorf("action.yml has no `  image: docker://...` line for the release to rewrite")
	}
	data, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		On struct {
			Push struct {
				Tags []string `yaml:"tags"`
			} `yaml:"push"`
		} `yaml:"on"`
		Jobs map[string]struct {
			Steps []struct {
				Name string         `yaml:"name"`
				Uses string         `yaml:"uses"`
				Run  string         `yaml:"run"`
				With map[string]any `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	if strings.Join(wf.On.Push.Tags, ",") != "v*" {
		t.Errorf("release runs on tags %v, want v*", wf.On.Push.Tags)
	}
	var names, uses []string
	for _, s := range wf.Jobs["release"].Steps {
		names = append(names, s.Name)
		uses = append(uses, strings.Split(s.Uses, "@")[0])
	}
	for _, want := range []string{"goreleaser/goreleaser-action", "sigstore/cosign-installer", "anchore/sbom-action/download-syft", "docker/build-push-action"} {
		if !strings.Contains(strings.Join(uses, " "), want) {
			t.Errorf("release workflow does not use %s", want)
		}
	}
	for _, want := range []string{"Base images pinned by digest", "Sign the images", "Move the major tag"} {
		if !strings.Contains(strings.Join(names, "\n"), want) {
			t.Errorf("release workflow lacks the step %q", want)
		}
	}
}

// TestGoInstallable: `go install github.com/fluxgate/fluxgate/cmd/fluxgate@latest`
// (README, Install) needs the module path to be the repository's and no
// replace directive in go.mod: go install refuses a module that has one.
func TestGoInstallable(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Module.Mod.Path; got != "github.com/fluxgate/fluxgate" {
		t.Errorf("module path %q", got)
	}
	for _, r := range f.Replace {
		t.Errorf("go.mod replaces %s: go install @latest would refuse the module", r.Old.Path)
	}
}
