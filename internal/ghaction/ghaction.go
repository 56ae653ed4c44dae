package ghaction

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strings"
)

// Env is the runner's side of a step: where environment variables come
// from and where workflow commands go. Build one with FromProcess, or fill
// the fields in tests.
type Env struct {
	// Getenv looks an environment variable up; nil means none is set.
	Getenv func(string) string
	// Stdout receives workflow commands; the runner reads the step's
	// standard output. Nil discards them.
	Stdout io.Writer
	// Rand is the source of the random part of environment-file
	// delimiters; nil means crypto/rand.
	Rand io.Reader
}

// FromProcess returns the Env of the running process: os.Getenv and
// os.Stdout.
func FromProcess() *Env {
	return &Env{Getenv: os.Getenv, Stdout: os.Stdout}
}

// Var returns the environment variable name, or "".
func (e *Env) Var(name string) string {
	if e == nil || e.Getenv == nil {
		return ""
	}
	return e.Getenv(name)
}

// InActions reports whether the step runs in GitHub Actions
// (GITHUB_ACTIONS=true); Gitea and Forgejo runners set it too.
func (e *Env) InActions() bool {
	return e.Var("GITHUB_ACTIONS") == "true"
}

// InputVar returns the environment variable the runner sets for an input:
// INPUT_ followed by the name in upper case with spaces replaced by
// underscores. Hyphens are kept: input "fail-on" is INPUT_FAIL-ON.
func InputVar(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

// Input returns an input's value with surrounding white space trimmed, as
// the Actions toolkit's getInput does; "" when it is unset or empty.
func (e *Env) Input(name string) string {
	return strings.TrimSpace(e.Var(InputVar(name)))
}

// BoolInput returns a boolean input. Like the toolkit's getBooleanInput it
// accepts true, True, TRUE, false, False and FALSE; an empty input is
// def, anything else an error naming the input.
func (e *Env) BoolInput(name string, def bool) (bool, error) {
	switch v := e.Input(name); v {
	case "":
		return def, nil
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	default:
		return false, fmt.Errorf("input %s: %q is not a boolean (want true or false)", name, v)
	}
}

// MultilineInput returns an input's lines, each trimmed, without empty
// ones, as the toolkit's getMultilineInput does.
func (e *Env) MultilineInput(name string) []string {
	var out []string
	for _, l := range strings.Split(e.Var(InputVar(name)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (e *Env) stdout() io.Writer {
	if e == nil || e.Stdout == nil {
		return io.Discard
	}
	return e.Stdout
}

func (e *Env) random() io.Reader {
	if e == nil || e.Rand == nil {
		return rand.Reader
	}
	return e.Rand
}
