package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/fluxgate/fluxgate/internal/action"
	"github.com/fluxgate/fluxgate/internal/ghaction"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/report"
	"github.com/fluxgate/fluxgate/validate"
)

var updateGolden = flag.Bool("update", false, "rewrite golden files under testdata/")

// actionYAML is what the tests read of action.yml.
type actionYAML struct {
	Inputs map[string]struct {
		Default string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
	} `yaml:"outputs"`
	Runs struct {
		Using string   `yaml:"using"`
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
	} `yaml:"runs"`
	Branding map[string]string `yaml:"branding"`
}

func readActionYAML(t *testing.T) actionYAML {
	t.Helper()
	data, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a actionYAML
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestActionInputsMatchFlags checks that action.yml and action.Inputs list
// the same inputs, and that each input's flag is a real flag of every
// command it targets. A command this binary does not have yet (diff comes
// with its own issue) is reported and skipped; once it is registered, its
// flags are checked too.
func TestActionInputsMatchFlags(t *testing.T) {
	a := readActionYAML(t)
	var table []string
	for _, in := range action.Inputs {
		table = append(table, in.Name)
	}
	sort.Strings(table)
	if diff := cmp.Diff(sortedKeys(a.Inputs), table); diff != "" {
		t.Errorf("action.yml inputs (-) and action.Inputs (+) differ:\n%s", diff)
	}
	root := newRootCmd(io.Discard, io.Discard)
	for _, in := range action.Inputs {
		if in.Flag == "" {
			if !slices.Contains([]string{"command", "directory", "token"}, in.Name) {
				t.Errorf("input %s maps to no flag", in.Name)
			}
			continue
		}
		for _, c := range in.Commands {
			sub, _, err := root.Find([]string{c})
			if err != nil || sub == root {
				t.Logf("input %s: command %s not in this binary yet; flag --%s unchecked", in.Name, c, in.Flag)
				continue
			}
			if sub.Flags().Lookup(in.Flag) == nil {
				t.Errorf("input %s: command %s has no flag --%s", in.Name, c, in.Flag)
			}
		}
	}
	// Only the command, the directory and the token have defaults: any
	// other default would reach commands that do not take the flag.
	for name, in := range a.Inputs {
		if in.Default != "" && !slices.Contains([]string{"command", "directory", "token"}, name) {
			t.Errorf("input %s has a default (%q); leave it to the flag", name, in.Default)
		}
	}
	if a.Runs.Using != "docker" || !strings.HasPrefix(a.Runs.Image, "docker://ghcr.io/") || !slices.Equal(a.Runs.Args, []string{"action"}) {
		t.Errorf("runs = %+v, want a docker action running the published image with args [action]", a.Runs)
	}
	if a.Branding["icon"] == "" || a.Branding["color"] == "" {
		t.Errorf("branding = %v", a.Branding)
	}
}

// TestActionOutputsMatchYAML checks that action.yml declares exactly the
// outputs the action code writes (internal/action tests that it writes
// every one of them).
func TestActionOutputsMatchYAML(t *testing.T) {
	a := readActionYAML(t)
	if diff := cmp.Diff(sortedKeys(a.Outputs), slices.Sorted(slices.Values(action.Outputs))); diff != "" {
		t.Errorf("action.yml outputs (-) and action.Outputs (+) differ:\n%s", diff)
	}
}

var delimiterRE = regexp.MustCompile(`ghadelimiter_[0-9a-f]{32}`)

// readOutputsFile reads a $GITHUB_OUTPUT file written in the multi-line
// format, checking that each entry closes with its own delimiter.
func readOutputsFile(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, delim, ok := strings.Cut(sc.Text(), "<<")
		if !ok || !delimiterRE.MatchString(delim) {
			t.Fatalf("%s: entry header %q", path, sc.Text())
		}
		var lines []string
		for sc.Scan() && sc.Text() != delim {
			lines = append(lines, sc.Text())
		}
		out[name] = append(out[name], strings.Join(lines, "\n"))
	}
	return out
}

func TestActionOutsideActions(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "")
	root := newRootCmd(io.Discard, io.Discard)
	root.SetArgs([]string{"action"})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "GITHUB_ACTIONS=true") {
		t.Errorf("error = %v", err)
	}
}

// dockerStage is one FROM ... stage of the Dockerfile, its instructions
// with continuation lines joined.
type dockerStage struct {
	from, name string
	instrs     []string
}

// parseDockerfile is a line parser for the instructions the tests check:
// comments dropped, "\" continuations joined, stages split at FROM.
func parseDockerfile(t *testing.T, path string) []dockerStage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages []dockerStage
	var cur strings.Builder
	flush := func() {
		line := strings.Join(strings.Fields(cur.String()), " ")
		cur.Reset()
		if line == "" {
			return
		}
		kw, rest, _ := strings.Cut(line, " ")
		if strings.EqualFold(kw, "FROM") {
			f := strings.Fields(rest)
			f = slices.DeleteFunc(f, func(s string) bool { return strings.HasPrefix(s, "--platform=") })
			st := dockerStage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			return
		}
		if len(stages) > 0 {
			stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, strings.ToUpper(kw)+" "+rest)
		}
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		if s, ok := strings.CutSuffix(strings.TrimRight(l, " \t"), `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(l)
		flush()
	}
	flush()
	return stages
}

func (s dockerStage) find(kw string) []string {
	var out []string
	for _, i := range s.instrs {
		if rest, ok := strings.CutPrefix(i, kw+" "); ok {
			out = append(out, rest)
		}
	}
	return out
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, "../../Dockerfile")
	if len(stages) != 3 {
		t.Fatalf("%d stages, want build, action and the final image", len(stages))
	}
	build, action, final := stages[0], stages[1], stages[2]
	if build.from != "golang:${GO_VERSION}" || build.name != "build" {
		t.Errorf("builder stage: FROM %s AS %s", build.from, build.name)
	}
	runs := strings.Join(build.find("RUN"), "\n")
	for _, want := range []string{"CGO_ENABLED=0", "go build -trimpath", "-X main.version=${VERSION}", "-X main.commit=${COMMIT}", "./cmd/fluxgate"} {
		if !strings.Contains(runs, want) {
			t.Errorf("builder RUN lacks %q:\n%s", want, runs)
		}
	}
	if got := build.find("ENV"); !slices.Contains(got, "GOTOOLCHAIN=go1.27.3") {
		t.Errorf("builder ENV = %v, want GOTOOLCHAIN=go1.27.3 as in the Makefile", got)
	}
	if final.from != "gcr.io/distroless/static-debian12:nonroot" {
		t.Errorf("final stage FROM %s, want distroless static nonroot", final.from)
	}
	if got := final.find("USER"); len(got) != 1 || strings.HasPrefix(got[0], "0") || strings.HasPrefix(got[0], "root") {
		t.Errorf("final stage USER %v, want one non-root user", got)
	}
	entry := `["/usr/local/bin/fluxgate"]`
	for _, st := range []dockerStage{action, final} {
		if got := st.find("ENTRYPOINT"); !slices.Equal(got, []string{entry}) {
			t.Errorf("stage %s ENTRYPOINT %v, want %s", st.from, got, entry)
		}
		if got := st.find("COPY"); !slices.Contains(got, "--from=build /out/fluxgate /usr/local/bin/fluxgate") {
			t.Errorf("stage %s does not copy the binary: %v", st.from, got)
		}
	}
	// GitHub runs container actions as root; the Action's image says so.
	if action.name != "action" || !strings.HasPrefix(action.from, "gcr.io/distroless/static-debian12") || !slices.Equal(action.find("USER"), []string{"0:0"}) {
		t.Errorf("action stage: FROM %s AS %s, USER %v", action.from, action.name, action.find("USER"))
	}
	a := readActionYAML(t)
	if !strings.HasSuffix(a.Runs.Image, "-action") {
		t.Errorf("action.yml runs %s, want the image of the action target (-action tag)", a.Runs.Image)
	}
}

// buildFluxgate builds the binary once per test binary run.
var builtFluxgate struct {
	path string
	err  error
	done bool
}

func buildFluxgate(t *testing.T) string {
	t.Helper()
	if !builtFluxgate.done {
		builtFluxgate.done = true
		dir, err := os.MkdirTemp("", "fluxgate-bin-")
		if err != nil {
			t.Fatal(err)
		}
		builtFluxgate.path = filepath.Join(dir, "fluxgate")
		cmd := exec.Command("go", "build", "-o", builtFluxgate.path, ".")
		cmd.Stderr = os.Stderr
		builtFluxgate.err = cmd.Run()
	}
	if builtFluxgate.err != nil {
		t.Fatalf("go build: %v", builtFluxgate.err)
	}
	return builtFluxgate.path
}

// badConfigMaps writes n ConfigMaps that fail their schema (an unknown
// field), one per document.
func badConfigMaps(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s-%02d\n  namespace: apps\nspec:\n  unknown: true\n", prefix, i)
	}
	return b.String()
}

// TestActionEndToEnd runs the built binary the way the runner runs the
// Action's container: GITHUB_ACTIONS=true, INPUT_* variables, environment
// files and a pull_request event, in a copy of the example fleet where the
// pull request adds 8 schema errors and the base already had 6 (more than
// GitHub annotates). The annotations, outputs and summary are compared
// with golden files (go test -run TestActionEndToEnd -update rewrites them).
func TestActionEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildFluxgate(t)
	tmp := t.TempDir()
	repo := filepath.Join(tmp, "workspace")
	testenv.CopyTree(t, "../../testdata/fleets/fleet-infra", repo)
	kust := filepath.Join(repo, "apps/production/kustomization.yaml")
	addResource := func(name string) {
		data, err := os.ReadFile(kust)
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.Replace(data, []byte("  - team-a.yaml\n"), []byte("  - team-a.yaml\n  - "+name+"\n"), 1)
		if err := os.WriteFile(kust, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(repo, "apps/production/a-old.yaml"), []byte(badConfigMaps("old", 6)), 0o644); err != nil {
		t.Fatal(err)
	}
	addResource("a-old.yaml")
	// The base commit of the pull request.
	g, err := git.PlainInit(repo, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := g.Worktree()
	if err := wt.AddGlob("."); err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	base, err := wt.Commit("base", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: when}})
	if err != nil {
		t.Fatal(err)
	}
	// The pull request's change, in the work tree as actions/checkout leaves it.
	if err := os.WriteFile(filepath.Join(repo, "apps/production/z-new.yaml"), []byte(badConfigMaps("new", 8)), 0o644); err != nil {
		t.Fatal(err)
	}
	addResource("z-new.yaml")

	files := filepath.Join(tmp, "files")
	os.MkdirAll(files, 0o755)
	event := filepath.Join(files, "event.json")
	payload := fmt.Sprintf(`{"action":"synchronize","number":7,"pull_request":{"number":7,"html_url":"https://github.com/octo-org/fleet-infra/pull/7","base":{"ref":"main","sha":%q,"repo":{"full_name":"octo-org/fleet-infra"}},"head":{"ref":"feature","sha":"2222222222222222222222222222222222222222","repo":{"full_name":"octo-org/fleet-infra"}}},"repository":{"full_name":"octo-org/fleet-infra"}}`, base.String())
	if err := os.WriteFile(event, []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	output, summary := filepath.Join(files, "output"), filepath.Join(files, "summary")
	before := treeFiles(t, repo)
	runnerTemp := filepath.Join(tmp, "runner-temp")
	os.MkdirAll(runnerTemp, 0o755)
	cmd := exec.Command(bin, "action")
	cmd.Dir = repo
	cmd.Env = []string{
		"HOME=" + tmp, "PATH=" + os.Getenv("PATH"), "TMPDIR=" + runnerTemp,
		"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=pull_request", "GITHUB_EVENT_PATH=" + event,
		"GITHUB_REPOSITORY=octo-org/fleet-infra", "GITHUB_SHA=3333333333333333333333333333333333333333",
		"GITHUB_SERVER_URL=https://github.com", "GITHUB_API_URL=https://api.github.com",
		"GITHUB_OUTPUT=" + output, "GITHUB_STEP_SUMMARY=" + summary,
		"INPUT_COMMAND=validate", "INPUT_DIRECTORY=.", "INPUT_PATH=clusters/production", "INPUT_SARIF=true",
		"INPUT_OFFLINE=true", "INPUT_CACHE-DIR=" + filepath.Join(tmp, "cache"), "INPUT_TOKEN=ghs_notused",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v, want 1 (errors found)\nstderr:\n%s", err, stderr.String())
	}
	outputs, err := os.ReadFile(output)
	if err != nil {
		t.Fatal(err)
	}
	readOutputsFile(t, output) // every entry well formed
	summaryText, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(repo, "fluxgate.sarif")); err != nil {
		t.Errorf("SARIF report: %v", err)
	}
	// The one file an input asked for (sarif: true) is all the step
	// leaves in the workspace; its temporary report is gone.
	want := append(before, "fluxgate.sarif")
	sort.Strings(want)
	if diff := cmp.Diff(want, treeFiles(t, repo)); diff != "" {
		t.Errorf("files in the workspace after the step (-want +got):\n%s", diff)
	}
	if left, _ := os.ReadDir(runnerTemp); len(left) > 0 {
		t.Errorf("the step left %d entries in the temporary directory, e.g. %s", len(left), left[0].Name())
	}
	golden(t, "testdata/action/annotations.txt", stdout.Bytes())
	golden(t, "testdata/action/outputs.txt", delimiterRE.ReplaceAll(outputs, []byte("ghadelimiter_RANDOM")))
	golden(t, "testdata/action/summary.md", summaryText)
	if strings.Contains(stdout.String()+stderr.String(), "ghs_notused") {
		t.Error("the token appears in the log")
	}
}

// TestActionForkPullRequestIsUntrusted runs the built binary as the
// runner runs a validate step on a pull request from a fork, with a
// decryption key in the inputs (as on pull_request_target, where secrets
// are given): the step runs with --untrusted, says why, warns that the
// key was not used, and the key never appears in the log.
func TestActionForkPullRequestIsUntrusted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildFluxgate(t)
	tmp := t.TempDir()
	key, err := os.ReadFile(filepath.Join(fleets, "keys", "age.agekey"))
	if err != nil {
		t.Fatal(err)
	}
	event := filepath.Join(tmp, "event.json")
	payload := `{"number":9,"pull_request":{"number":9,"html_url":"https://github.com/octo-org/fleet-infra/pull/9",` +
		`"base":{"ref":"main","sha":"1111111111111111111111111111111111111111","repo":{"full_name":"octo-org/fleet-infra"}},` +
		`"head":{"ref":"patch-1","sha":"2222222222222222222222222222222222222222","repo":{"full_name":"mallory/fleet-infra"}}},` +
		`"repository":{"full_name":"octo-org/fleet-infra"}}`
	if err := os.WriteFile(event, []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	dir, err := filepath.Abs(filepath.Join(fleets, "fleet-infra"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "action")
	cmd.Dir = tmp
	cmd.Env = []string{
		"HOME=" + tmp, "PATH=" + os.Getenv("PATH"), "TMPDIR=" + tmp,
		"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=pull_request_target", "GITHUB_EVENT_PATH=" + event,
		"GITHUB_REPOSITORY=octo-org/fleet-infra", "GITHUB_OUTPUT=" + filepath.Join(tmp, "output"),
		"GITHUB_STEP_SUMMARY=" + filepath.Join(tmp, "summary"),
		"INPUT_COMMAND=validate", "INPUT_DIRECTORY=" + dir, "INPUT_CACHE-DIR=" + filepath.Join(tmp, "cache"),
		"INPUT_DECRYPTION-KEY=" + string(key),
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("action: %v\nstderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "fluxgate: untrusted run: a pull_request_target event (untrusted: auto)") ||
		!strings.Contains(stderr.String(), " --untrusted ") {
		t.Errorf("stderr does not show the untrusted run:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "--decryption-key-file") {
		t.Errorf("the key was passed to the command:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "::warning title=fluxgate::decryption keys not used: this run is untrusted") {
		t.Errorf("no warning that the key was not used:\n%s", stdout.String())
	}
	// The key is registered with ::add-mask:: (the runner hides it from
	// then on); nothing else may print it.
	var logged []string
	for _, l := range strings.Split(stdout.String()+stderr.String(), "\n") {
		if !strings.HasPrefix(l, "::add-mask::") {
			logged = append(logged, l)
		}
	}
	if !strings.Contains(stdout.String(), "::add-mask::") {
		t.Error("the key was not masked")
	}
	for _, line := range strings.Split(strings.TrimSpace(string(key)), "\n") {
		if strings.HasPrefix(line, "AGE-SECRET-KEY-") && strings.Contains(strings.Join(logged, "\n"), line) {
			t.Error("the key appears in the log")
		}
	}
}

// actionEnv is the environment the runner gives the Action's container
// in a scheduled run, plus the inputs; files go under dir.
func actionEnv(t *testing.T, dir string, inputs ...string) (env []string, output, summary string) {
	t.Helper()
	event := filepath.Join(dir, "event.json")
	if err := os.WriteFile(event, []byte(`{"schedule":"17 6 * * 1-5"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	output, summary = filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	env = []string{
		"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "TMPDIR=" + dir,
		"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=schedule", "GITHUB_EVENT_PATH=" + event,
		"GITHUB_REPOSITORY=octo-org/fleet-infra", "GITHUB_SHA=3333333333333333333333333333333333333333",
		"GITHUB_SERVER_URL=https://github.com", "GITHUB_API_URL=http://127.0.0.1:1",
		"GITHUB_OUTPUT=" + output, "GITHUB_STEP_SUMMARY=" + summary,
	}
	return append(env, inputs...), output, summary
}

// TestActionImageUpdateEndToEnd runs the built binary as the runner runs a
// scheduled image-update step with dry-run against a fleet whose
// ImageRepository is a real registry in this process: the planned edit is
// printed as a diff, image-updates counts it, no pull request is named,
// and neither the work tree nor the workspace keeps anything of the run
// (the report was a temporary file). Stdout and the outputs are golden
// files, with the registry's address replaced by REGISTRY.
func TestActionImageUpdateEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildFluxgate(t)
	reg := newTestRegistry(t)
	for _, tag := range []string{"1.0.0", "1.1.0", "2.0.0-rc.1"} {
		reg.push(t, "org/app", tag)
	}
	repo := testenv.WriteTree(t, imageFleet(reg.host+"/org/app", "ssh://git@github.com/octo-org/fleet-infra"))
	before, err := os.ReadDir(repo)
	if err != nil {
		t.Fatal(err)
	}
	app, err := os.ReadFile(filepath.Join(repo, "apps/app.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	env, output, summary := actionEnv(t, tmp,
		"INPUT_COMMAND=image-update", "INPUT_DIRECTORY=.", "INPUT_DRY-RUN=true",
		"INPUT_LABELS=dependencies", "INPUT_TOKEN=ghs_notused")
	cmd := exec.Command(bin, "action")
	cmd.Dir, cmd.Env = repo, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("exit: %v, want 0\nstderr:\n%s", err, stderr.String())
	}
	got := readOutputsFile(t, output)
	if diff := cmp.Diff(map[string][]string{"image-updates": {"1"}}, got); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	outputs, err := os.ReadFile(output)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/action/image-update-outputs.txt", delimiterRE.ReplaceAll(outputs, []byte("ghadelimiter_RANDOM")))
	golden(t, "testdata/action/image-update-stdout.txt", bytes.ReplaceAll(stdout.Bytes(), []byte(reg.host), []byte("REGISTRY")))

	// The token is masked first, then never shown.
	mask := "::add-mask::ghs_notused\n"
	if !strings.HasPrefix(stdout.String(), mask) || strings.Contains(strings.TrimPrefix(stdout.String(), mask)+stderr.String(), "ghs_notused") {
		t.Errorf("the token is not masked first, or appears in the log:\n%s\n%s", stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "fluxgate: image-update --dry-run --label=dependencies --output=diff --output=json="+tmp) {
		t.Errorf("stderr does not show the command line with a temporary report:\n%s", stderr.String())
	}
	if _, err := os.Stat(summary); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("job summary: %v, want none", err)
	}
	if after, _ := os.ReadFile(filepath.Join(repo, "apps/app.yaml")); !bytes.Equal(after, app) {
		t.Error("dry-run changed apps/app.yaml")
	}
	after, err := os.ReadDir(repo)
	if err != nil {
		t.Fatal(err)
	}
	names := func(es []os.DirEntry) []string {
		var n []string
		for _, e := range es {
			n = append(n, e.Name())
		}
		return n
	}
	if diff := cmp.Diff(names(before), names(after)); diff != "" {
		t.Errorf("the workspace gained files (-before +after):\n%s", diff)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "fluxgate-report-*")); len(left) > 0 {
		t.Errorf("temporary report left behind: %v", left)
	}
}

// TestActionImageUpdateToken checks that the token input reaches a real
// image-update run as GITHUB_TOKEN: the clone (the first thing a run does
// after reading the registry) sends it, with the git-username input, to the
// git-url input's server, which refuses it. The failure is a tool error
// that names no token.
func TestActionImageUpdateToken(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildFluxgate(t)
	reg := newTestRegistry(t)
	reg.push(t, "org/app", "1.1.0")
	type cred struct{ user, password string }
	creds := make(chan cred, 16)
	git := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, pw, _ := r.BasicAuth()
		select {
		case creds <- cred{u, pw}:
		default:
		}
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer git.Close()
	repo := testenv.WriteTree(t, imageFleet(reg.host+"/org/app", "ssh://git@github.com/octo-org/fleet-infra"))
	tmp := t.TempDir()
	env, output, _ := actionEnv(t, tmp,
		"INPUT_COMMAND=image-update", "INPUT_DIRECTORY=.", "INPUT_GIT-URL="+git.URL+"/octo-org/fleet-infra.git",
		"INPUT_GIT-USERNAME=fleet-bot", "INPUT_TOKEN=ghs_secret")
	cmd := exec.Command(bin, "action")
	cmd.Dir, cmd.Env = repo, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit: %v, want 2 (the clone is refused)\nstderr:\n%s", err, stderr.String())
	}
	select {
	case c := <-creds:
		if c != (cred{"fleet-bot", "ghs_secret"}) {
			t.Errorf("the git server got user %q and a password of %d bytes, want fleet-bot and the token", c.user, len(c.password))
		}
	default:
		t.Fatalf("the git server got no request\nstderr:\n%s", stderr.String())
	}
	if strings.Contains(strings.TrimPrefix(stdout.String(), "::add-mask::ghs_secret\n")+stderr.String(), "ghs_secret") {
		t.Errorf("the token appears in the log:\n%s\n%s", stdout.String(), stderr.String())
	}
	// The automations that ran are still reported; the one that failed
	// counts no change and names no pull request.
	if diff := cmp.Diff(map[string][]string{"image-updates": {"0"}}, readOutputsFile(t, output)); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *updateGolden {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// TestReportAnnotationsMatchGhaction keeps the report package's github
// format (which may not import internal/ghaction) byte-identical to the
// protocol implementation.
func TestReportAnnotationsMatchGhaction(t *testing.T) {
	f := validate.Finding{Rule: "r:1,2", Severity: validate.SeverityError, File: "a,b:c%.yaml", Line: 7, Object: "ConfigMap/x/y", Message: "100% bad\r\nreally: yes, bad"}
	var got bytes.Buffer
	rw, _ := report.New("github", report.Options{})
	if err := rw.Write(&got, &validate.Report{Findings: []validate.Finding{f}}); err != nil {
		t.Fatal(err)
	}
	want := ghaction.AnnotationCommand(ghaction.LevelError, ghaction.Annotation{File: f.File, Line: f.Line, Title: f.Rule}, f.Object+": "+f.Message) + "\n"
	if got.String() != want {
		t.Errorf("report: %q\nghaction: %q", got.String(), want)
	}
}

// treeFiles lists the regular files below dir (outside .git), relative.
func treeFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.IsDir() && de.Name() == ".git" {
			return filepath.SkipDir
		}
		if de.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
