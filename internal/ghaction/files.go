package ghaction

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ErrNoFile is returned, wrapped, when the environment file a call needs
// is not set: the step does not run in GitHub Actions.
var ErrNoFile = errors.New("environment file not set")

// SetOutput sets a step output by appending it to the $GITHUB_OUTPUT file
// in the multi-line format:
//
//	name<<ghadelimiter_<random>
//	value
//	ghadelimiter_<random>
//
// The delimiter is chosen so that it occurs in neither name nor value.
func (e *Env) SetOutput(name, value string) error {
	return e.appendKeyValue("GITHUB_OUTPUT", name, value)
}

// SetEnv sets an environment variable for the job's later steps by
// appending it to the $GITHUB_ENV file, in the same format as SetOutput.
// It does not change this process's environment.
func (e *Env) SetEnv(name, value string) error {
	return e.appendKeyValue("GITHUB_ENV", name, value)
}

// AddStepSummary appends GitHub-flavoured Markdown to the job summary,
// the $GITHUB_STEP_SUMMARY file.
func (e *Env) AddStepSummary(markdown string) error {
	return e.appendFile("GITHUB_STEP_SUMMARY", markdown)
}

// FormatKeyValue returns the environment-file entry for name and value
// with the given delimiter. It is an error for the name to be empty or
// hold a line break, or for either to contain the delimiter.
func FormatKeyValue(name, value, delimiter string) (string, error) {
	if name == "" || strings.ContainsAny(name, "\r\n") {
		return "", fmt.Errorf("name %q: empty or spans lines", name)
	}
	if strings.Contains(name, delimiter) || strings.Contains(value, delimiter) {
		return "", fmt.Errorf("name %q: delimiter %q occurs in the name or value", name, delimiter)
	}
	return name + "<<" + delimiter + "\n" + value + "\n" + delimiter + "\n", nil
}

// delimiter returns a fresh ghadelimiter_<32 hex digits> that occurs in
// none of the strings.
func (e *Env) delimiter(avoid ...string) (string, error) {
	var b [16]byte
	for {
		if _, err := io.ReadFull(e.random(), b[:]); err != nil {
			return "", fmt.Errorf("delimiter: %w", err)
		}
		d := "ghadelimiter_" + hex.EncodeToString(b[:])
		clash := false
		for _, s := range avoid {
			if strings.Contains(s, d) {
				clash = true
			}
		}
		if !clash {
			return d, nil
		}
	}
}

func (e *Env) appendKeyValue(file, name, value string) error {
	d, err := e.delimiter(name, value)
	if err != nil {
		return err
	}
	entry, err := FormatKeyValue(name, value, d)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return e.appendFile(file, entry)
}

func (e *Env) appendFile(file, text string) error {
	p := e.Var(file)
	if p == "" {
		return fmt.Errorf("%s: %w", file, ErrNoFile)
	}
	f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}
