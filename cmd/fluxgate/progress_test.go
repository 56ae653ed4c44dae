package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fluxgate/fluxgate/render"
)

// TestProgressModeFor: --quiet wins, a terminal gets the live line, GitHub
// Actions the grouped lines, anything else nothing.
func TestProgressModeFor(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "GITHUB_ACTIONS" {
				return v
			}
			return ""
		}
	}
	var buf bytes.Buffer
	for _, tc := range []struct {
		name    string
		quiet   bool
		actions string
		want    progressMode
	}{
		{"pipe", false, "", progressOff},
		{"actions", false, "true", progressActions},
		{"quiet in actions", true, "true", progressOff},
	} {
		if got := progressModeFor(&buf, tc.quiet, env(tc.actions)); got != tc.want {
			t.Errorf("%s: mode %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestProgressActionsLines: in Actions mode the progress is one ::group::
// section holding the counts, HelmReleases and failures included.
func TestProgressActionsLines(t *testing.T) {
	var buf bytes.Buffer
	p := startProgress(&buf, progressActions, "validate")
	p.now = func() time.Time { return p.start.Add(1500 * time.Millisecond) }
	p.Unit(&render.Unit{Kind: "Kustomization"})
	p.Unit(&render.Unit{Kind: "HelmRelease", Failed: true})
	p.Done()
	p.Done()
	want := "::group::fluxgate validate\nfluxgate validate: 2 units rendered, 1 HelmReleases, 1 failed, 1.5s\n::endgroup::\n"
	if got := buf.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestProgressTerminalClears: the live line names the verb and the count,
// and is cleared when the render ends.
func TestProgressTerminalClears(t *testing.T) {
	var buf bytes.Buffer
	p := startProgress(&buf, progressTerminal, "render")
	p.Unit(&render.Unit{Kind: "HelmRelease"})
	p.Done()
	out := buf.String()
	if !strings.Contains(out, "render: 1 units, 1 HelmReleases") {
		t.Fatalf("live line lacks the verb and counts: %q", out)
	}
	last := out[strings.LastIndex(out, "HelmReleases"):]
	if cleared := strings.TrimSpace(strings.ReplaceAll(last[strings.Index(last, "\r"):], "\r", "")); cleared != "" {
		t.Errorf("live line not cleared at the end: %q", out)
	}
}

// TestProgressNeverOnStdout: in GitHub Actions, validate's progress goes to
// stderr and stdout holds the report only; --quiet turns it off.
func TestProgressNeverOnStdout(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_EVENT_PATH", "")
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	dir := filepath.Join(fleets, "fleet-infra")
	stdout, stderr, code := run(t, "validate", dir, "--path", "clusters/production")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(stdout, "::group::") || strings.Contains(stdout, "units rendered") {
		t.Errorf("progress on stdout:\n%s", stdout)
	}
	if !strings.Contains(stderr, "::group::fluxgate validate") || !strings.Contains(stderr, "::endgroup::") {
		t.Errorf("stderr lacks the progress group:\n%s", stderr)
	}
	_, stderr, code = run(t, "validate", dir, "--path", "clusters/production", "--quiet")
	if code != 0 || strings.Contains(stderr, "::group::") {
		t.Errorf("--quiet: exit %d, stderr:\n%s", code, stderr)
	}
}
