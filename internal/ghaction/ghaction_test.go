package ghaction_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/internal/ghaction"
)

// mapEnv returns an Env reading vars and writing commands to out.
func mapEnv(vars map[string]string, out *bytes.Buffer) *ghaction.Env {
	return &ghaction.Env{Getenv: func(k string) string { return vars[k] }, Stdout: out}
}

func TestInputVar(t *testing.T) {
	// The names and variables of the Actions toolkit's getInput tests, and
	// a hyphenated one as in action.yml files.
	tests := []struct{ name, want string }{
		{name: "my input", want: "INPUT_MY_INPUT"},
		{name: "multiple spaces variable", want: "INPUT_MULTIPLE_SPACES_VARIABLE"},
		{name: "special chars_'\t\"\\", want: "INPUT_SPECIAL_CHARS_'\t\"\\"},
		{name: "fail-on", want: "INPUT_FAIL-ON"},
	}
	for _, tc := range tests {
		if got := ghaction.InputVar(tc.name); got != tc.want {
			t.Errorf("InputVar(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestInputs(t *testing.T) {
	env := mapEnv(map[string]string{
		"INPUT_FAIL-ON":     "  warning \n",
		"INPUT_SARIF":       "True",
		"INPUT_BAD":         "yes",
		"INPUT_PATH":        "clusters/a\n\n  clusters/b  \n",
		"INPUT_MY_INPUT":    "val",
		"GITHUB_ACTIONS":    "true",
		"GITHUB_REPOSITORY": "o/r",
	}, nil)
	if got := env.Input("fail-on"); got != "warning" {
		t.Errorf("Input(fail-on) = %q", got)
	}
	if got := env.Input("my input"); got != "val" {
		t.Errorf("Input(my input) = %q", got)
	}
	if got, err := env.BoolInput("sarif", false); err != nil || !got {
		t.Errorf("BoolInput(sarif) = %v, %v", got, err)
	}
	if got, err := env.BoolInput("missing", true); err != nil || !got {
		t.Errorf("BoolInput(missing) = %v, %v; want the default", got, err)
	}
	if _, err := env.BoolInput("bad", false); err == nil || !strings.Contains(err.Error(), "input bad") {
		t.Errorf("BoolInput(bad) error = %v", err)
	}
	if diff := cmp.Diff([]string{"clusters/a", "clusters/b"}, env.MultilineInput("path")); diff != "" {
		t.Errorf("MultilineInput(path) (-want +got):\n%s", diff)
	}
	if !env.InActions() {
		t.Error("InActions() = false with GITHUB_ACTIONS=true")
	}
	if (&ghaction.Env{}).InActions() {
		t.Error("zero Env InActions() = true")
	}
}

// TestCommands checks the workflow commands against the examples of
// GitHub's "Workflow commands for GitHub Actions" page, byte for byte.
func TestCommands(t *testing.T) {
	var out bytes.Buffer
	env := mapEnv(nil, &out)
	pos := ghaction.Annotation{File: "app.js", Line: 1, Col: 5, EndColumn: 7}
	steps := []func() error{
		func() error { return env.Debug("Set the Octocat variable") },
		func() error { return env.Notice(pos, "Missing semicolon") },
		func() error { return env.Warning(pos, "Missing semicolon") },
		func() error { return env.Error(pos, "Missing semicolon") },
		func() error {
			return env.Notice(ghaction.Annotation{Title: "Heads up"}, "I need to make you aware of something")
		},
		func() error { return env.Group("My title") },
		func() error { return env.EndGroup() },
		func() error { return env.AddMask("Mona The Octocat") },
		func() error {
			return env.Error(ghaction.Annotation{File: "a.yaml", Line: 3, EndLine: 9, Title: "schema-invalid"}, "Deployment/apps/web: bad")
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			t.Fatal(err)
		}
	}
	want := `::debug::Set the Octocat variable
::notice file=app.js,line=1,col=5,endColumn=7::Missing semicolon
::warning file=app.js,line=1,col=5,endColumn=7::Missing semicolon
::error file=app.js,line=1,col=5,endColumn=7::Missing semicolon
::notice title=Heads up::I need to make you aware of something
::group::My title
::endgroup::
::add-mask::Mona The Octocat
::error file=a.yaml,line=3,endLine=9,title=schema-invalid::Deployment/apps/web: bad
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
}

// TestEscaping uses the strings of the Actions toolkit's command tests.
func TestEscaping(t *testing.T) {
	got := ghaction.Command("some-command",
		[]string{"name=" + ghaction.EscapeProperty("percent % percent % cr \r cr \r lf \n lf \n colon : colon : comma , comma ,")},
		"percent % percent % cr \r cr \r lf \n lf \n")
	want := "::some-command name=percent %25 percent %25 cr %0D cr %0D lf %0A lf %0A colon %3A colon %3A comma %2C comma %2C::percent %25 percent %25 cr %0D cr %0D lf %0A lf %0A"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	a := ghaction.AnnotationCommand(ghaction.LevelWarning, ghaction.Annotation{File: "a,b:c.yaml", Title: "x%y"}, "50% done\nnext")
	if want := "::warning file=a%2Cb%3Ac.yaml,title=x%25y::50%25 done%0Anext"; a != want {
		t.Errorf("got  %q\nwant %q", a, want)
	}
}

func TestAddMaskMultiline(t *testing.T) {
	var out bytes.Buffer
	if err := mapEnv(nil, &out).AddMask("AGE-SECRET-KEY-1\r\n\n# comment\n"); err != nil {
		t.Fatal(err)
	}
	want := "::add-mask::AGE-SECRET-KEY-1\n::add-mask::# comment\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestFormatKeyValue checks the multi-line format against the example of
// "Setting an environment variable": JSON_RESPONSE<<EOF ... EOF.
func TestFormatKeyValue(t *testing.T) {
	got, err := ghaction.FormatKeyValue("JSON_RESPONSE", "{\n  \"ok\": true\n}", "EOF")
	if err != nil {
		t.Fatal(err)
	}
	if want := "JSON_RESPONSE<<EOF\n{\n  \"ok\": true\n}\nEOF\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, tc := range []struct{ name, value string }{
		{"", "v"}, {"a\nb", "v"}, {"n", "x EOF y"}, {"EOF", "v"},
	} {
		if _, err := ghaction.FormatKeyValue(tc.name, tc.value, "EOF"); err == nil {
			t.Errorf("FormatKeyValue(%q, %q) succeeded", tc.name, tc.value)
		}
	}
}

func TestEnvironmentFiles(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{
		"GITHUB_OUTPUT":       filepath.Join(dir, "output"),
		"GITHUB_ENV":          filepath.Join(dir, "env"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
	}
	// Random bytes 00..0f then 10..1f; the value holds the first delimiter,
	// so SetOutput must move on to the second.
	first := "ghadelimiter_000102030405060708090a0b0c0d0e0f"
	second := "ghadelimiter_101112131415161718191a1b1c1d1e1f"
	random := make([]byte, 64)
	for i := range random {
		random[i] = byte(i)
	}
	env := &ghaction.Env{Getenv: func(k string) string { return vars[k] }, Rand: bytes.NewReader(random)}
	if err := env.SetOutput("findings", "3"); err != nil {
		t.Fatal(err)
	}
	if err := env.SetOutput("tricky", "line 1\n"+first+"\nline 3"); err != nil {
		t.Fatal(err)
	}
	if err := env.SetEnv("FLUXGATE_REPORT", "fluxgate.json"); err != nil {
		t.Fatal(err)
	}
	for _, md := range []string{"## fluxgate\n\n", "All clean.\n"} {
		if err := env.AddStepSummary(md); err != nil {
			t.Fatal(err)
		}
	}
	third := "ghadelimiter_202122232425262728292a2b2c2d2e2f"
	want := map[string]string{
		"output": "findings<<" + first + "\n3\n" + first + "\n" +
			"tricky<<" + second + "\nline 1\n" + first + "\nline 3\n" + second + "\n",
		"env":     "FLUXGATE_REPORT<<" + third + "\nfluxgate.json\n" + third + "\n",
		"summary": "## fluxgate\n\nAll clean.\n",
	}
	for name, w := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(w, string(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

func TestEnvironmentFileUnset(t *testing.T) {
	env := mapEnv(nil, nil)
	for name, err := range map[string]error{
		"SetOutput":      env.SetOutput("a", "b"),
		"SetEnv":         env.SetEnv("a", "b"),
		"AddStepSummary": env.AddStepSummary("x"),
	} {
		if err == nil || !strings.Contains(err.Error(), "environment file not set") {
			t.Errorf("%s without its file: error %v", name, err)
		}
	}
}

func TestEvent(t *testing.T) {
	dir := t.TempDir()
	payload := filepath.Join(dir, "event.json")
	// The fields fluxgate reads of a pull_request webhook payload, in
	// GitHub's documented shape.
	if err := os.WriteFile(payload, []byte(`{
  "action": "synchronize",
  "number": 42,
  "pull_request": {
    "number": 42,
    "html_url": "https://github.com/octo-org/fleet-infra/pull/42",
    "base": {"ref": "main", "sha": "1111111111111111111111111111111111111111", "repo": {"full_name": "octo-org/fleet-infra"}},
    "head": {"ref": "feature", "sha": "2222222222222222222222222222222222222222", "repo": {"full_name": "octo-org/fleet-infra"}}
  },
  "repository": {"full_name": "octo-org/fleet-infra"}
}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		vars map[string]string
		want *ghaction.Event
	}{
		{
			name: "pull request",
			vars: map[string]string{
				"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": payload,
				"GITHUB_REPOSITORY": "ignored/by-payload", "GITHUB_SHA": "3333",
				"GITHUB_SERVER_URL": "https://ghe.example.com", "GITHUB_API_URL": "https://ghe.example.com/api/v3",
			},
			want: &ghaction.Event{
				Name: "pull_request", Repository: "octo-org/fleet-infra", SHA: "3333",
				ServerURL: "https://ghe.example.com", APIURL: "https://ghe.example.com/api/v3",
				PullRequest: &ghaction.PullRequest{
					Number: 42, URL: "https://github.com/octo-org/fleet-infra/pull/42",
					BaseRef: "main", BaseSHA: "1111111111111111111111111111111111111111",
					HeadRef: "feature", HeadSHA: "2222222222222222222222222222222222222222",
					BaseRepository: "octo-org/fleet-infra", HeadRepository: "octo-org/fleet-infra",
				},
			},
		},
		{
			name: "outside a run",
			vars: map[string]string{"GITHUB_REPOSITORY": "o/r"},
			want: &ghaction.Event{Repository: "o/r", ServerURL: "https://github.com", APIURL: "https://api.github.com"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mapEnv(tc.vars, nil).Event()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{"), 0o644)
	if _, err := mapEnv(map[string]string{"GITHUB_EVENT_PATH": bad}, nil).Event(); err == nil {
		t.Error("malformed payload: no error")
	}
}

// TestEventUntrusted: which events run code a fork wrote with the base
// repository's secrets, read from payloads in GitHub's documented shape.
func TestEventUntrusted(t *testing.T) {
	dir := t.TempDir()
	pr := func(head string) string {
		h := "null"
		if head != "" {
			h = `{"full_name": "` + head + `"}`
		}
		return `{"pull_request": {"number": 7,
  "base": {"ref": "main", "sha": "1111", "repo": {"full_name": "octo-org/fleet"}},
  "head": {"ref": "patch-1", "sha": "2222", "repo": ` + h + `}},
  "repository": {"full_name": "octo-org/fleet"}}`
	}
	run := func(head string) string {
		h := "null"
		if head != "" {
			h = `{"full_name": "` + head + `"}`
		}
		return `{"workflow_run": {"head_repository": ` + h + `}, "repository": {"full_name": "octo-org/fleet"}}`
	}
	for _, tc := range []struct {
		name, event, payload string
		want                 bool
		why                  string
	}{
		{"same-repository pull request", "pull_request", pr("octo-org/fleet"), false, ""},
		{"fork pull request", "pull_request", pr("mallory/fleet"), true, "fork mallory/fleet"},
		{"fork case differs only", "pull_request", pr("Octo-Org/Fleet"), false, ""},
		{"deleted fork", "pull_request", pr(""), true, "head repository is gone"},
		{"review of a fork pull request", "pull_request_review", pr("mallory/fleet"), true, "fork"},
		{"pull_request_target, even from the same repository", "pull_request_target", pr("octo-org/fleet"), true, "pull_request_target"},
		{"pull_request without a payload", "pull_request", "", true, "without the pull request"},
		{"workflow_run from a fork", "workflow_run", run("mallory/fleet"), true, "workflow_run triggered from the fork"},
		{"workflow_run from the repository", "workflow_run", run("octo-org/fleet"), false, ""},
		{"push", "push", `{"repository": {"full_name": "octo-org/fleet"}}`, false, ""},
		{"schedule", "schedule", "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"GITHUB_EVENT_NAME": tc.event}
			if tc.payload != "" {
				p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".json")
				if err := os.WriteFile(p, []byte(tc.payload), 0o644); err != nil {
					t.Fatal(err)
				}
				vars["GITHUB_EVENT_PATH"] = p
			}
			env := &ghaction.Env{Getenv: func(k string) string { return vars[k] }}
			ev, err := env.Event()
			if err != nil {
				t.Fatal(err)
			}
			got, why := ev.Untrusted()
			if got != tc.want || !strings.Contains(why, tc.why) {
				t.Errorf("Untrusted() = %v, %q; want %v with %q", got, why, tc.want, tc.why)
			}
		})
	}
}
