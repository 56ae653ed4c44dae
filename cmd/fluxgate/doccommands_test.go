package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/fluxgate/fluxgate/internal/action"
	"github.com/fluxgate/fluxgate/internal/ghaction"
)

// The command lines the documentation shows must work as shown: every
// fluxgate command line in README.md, docs/*.md, the Markdown, workflow
// and Taskfile YAML under testdata, the repository root's YAML and
// Makefile, and the commands' own Example text is parsed with the
// command's flag set (without running it): its command exists, its
// flags exist and take the values given, its positional arguments fit.
// Every step that uses the action (uses: fluxgate/fluxgate) becomes the
// command line the action would run, checked the same way.

const repoRoot = "../.."

// docSnippet is one command line, or one action step, and where it is.
type docSnippet struct {
	where string // file:line
	text  string
}

// docCommandRE finds "fluxgate <word>", also as ./cmd/fluxgate and as
// the container image ghcr.io/OWNER/fluxgate:TAG.
var docCommandRE = regexp.MustCompile(`(?:^|[^\w.-])fluxgate(?::[\w.-]+)?[ \t]+[a-z]`)

// ghExprRE is a GitHub Actions expression, ${{ ... }}.
var ghExprRE = regexp.MustCompile(`\$\{\{[^}]*\}\}`)

// docFiles lists the files whose command lines are checked.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md", "ARCHITECTURE.md", "Makefile"}
	// filepath.Glob's * matches a leading dot: .pre-commit-hooks.yaml too.
	for _, pattern := range []string{"docs/*.md", "*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(repoRoot, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			rel, _ := filepath.Rel(repoRoot, f)
			files = append(files, rel)
		}
	}
	err := filepath.WalkDir(filepath.Join(repoRoot, "testdata"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := filepath.Ext(p); ext == ".md" || ext == ".yaml" || ext == ".yml" {
			rel, _ := filepath.Rel(repoRoot, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// commandLines returns the fluxgate command lines of one file, and the
// YAML it holds (the file itself, or a Markdown file's yaml blocks) for
// action steps.
func commandLines(name string, data []byte) (lines []docSnippet, yamlDocs []docSnippet) {
	text := string(data)
	switch filepath.Ext(name) {
	case ".md":
		return markdownCommandLines(name, text)
	case ".yaml", ".yml":
		var kept []string
		for _, l := range strings.Split(text, "\n") {
			// Names and descriptions are prose about commands.
			key, _, _ := strings.Cut(strings.TrimLeft(strings.TrimSpace(l), "- "), ":")
			switch key {
			case "name", "description", "desc", "summary":
				l = ""
			}
			if strings.HasPrefix(strings.TrimSpace(l), "#") {
				l = ""
			}
			kept = append(kept, l)
		}
		return joinedCommandLines(name, 1, kept), []docSnippet{{where: name + ":1", text: text}}
	}
	var kept []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			l = "" // a comment of a Makefile
		}
		kept = append(kept, l)
	}
	return joinedCommandLines(name, 1, kept), nil
}

// joinedCommandLines finds the command lines among lines (the first is
// line first of name): a line ending in a backslash goes on on the next,
// and so does a synopsis whose next line is indented and starts with '['.
func joinedCommandLines(name string, first int, lines []string) []docSnippet {
	var out []docSnippet
	for i := 0; i < len(lines); i++ {
		start, l := i, lines[i]
		if !docCommandRE.MatchString(l) {
			continue
		}
		for i+1 < len(lines) {
			next := lines[i+1]
			switch {
			case strings.HasSuffix(strings.TrimSpace(l), `\`):
				l = strings.TrimSuffix(strings.TrimSpace(l), `\`) + " " + strings.TrimSpace(next)
			case strings.HasPrefix(next, " ") && strings.HasPrefix(strings.TrimSpace(next), "["):
				l += " " + strings.TrimSpace(next)
			default:
				goto done
			}
			i++
		}
	done:
		out = append(out, docSnippet{where: fmt.Sprintf("%s:%d", name, first+start), text: l})
	}
	return out
}

var fenceRE = regexp.MustCompile("^\\s*```\\s*([a-z]*)")

// markdownCommandLines takes the command lines of a Markdown file's code:
// fenced blocks and inline code spans (which may wrap). Prose is not
// read.
func markdownCommandLines(name, text string) (lines []docSnippet, yamlBlocks []docSnippet) {
	all := strings.Split(text, "\n")
	prose := make([]string, len(all))
	for i := 0; i < len(all); i++ {
		m := fenceRE.FindStringSubmatch(all[i])
		if m == nil {
			prose[i] = all[i]
			continue
		}
		start := i + 1
		for i++; i < len(all) && !fenceRE.MatchString(all[i]); i++ {
		}
		block := all[start:min(i, len(all))]
		lines = append(lines, joinedCommandLines(name, start+1, block)...)
		if m[1] == "yaml" || m[1] == "yml" {
			yamlBlocks = append(yamlBlocks, docSnippet{where: fmt.Sprintf("%s:%d", name, start+1), text: strings.Join(block, "\n")})
		}
	}
	joined := strings.Join(prose, "\n")
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatchIndex(joined, -1) {
		code := strings.ReplaceAll(joined[m[2]:m[3]], "\n", " ")
		// Inline code is a command line when it starts with one (not a
		// message that names fluxgate).
		if strings.HasPrefix(code, "fluxgate ") && docCommandRE.MatchString(code) {
			line := 1 + strings.Count(joined[:m[0]], "\n")
			lines = append(lines, docSnippet{where: fmt.Sprintf("%s:%d", name, line), text: code})
		}
	}
	return lines, yamlBlocks
}

// commandArgs turns a shown command line into the arguments after
// "fluxgate": expressions become a value, the shell's pipes, redirects
// and comments end it, and a synopsis's [optional] parts, repetition
// (...) and alternatives (a|b: a) become one example.
func commandArgs(line string) []string {
	line = ghExprRE.ReplaceAllString(line, "X")
	loc := docCommandRE.FindStringIndex(line)
	rest := line[loc[1]-1:]
	var args []string
	for _, f := range shellFields(rest) {
		if !f.quoted {
			if f.s == "|" || f.s == "||" || f.s == "&&" || f.s == ";" || strings.HasPrefix(f.s, ">") ||
				strings.HasPrefix(f.s, "2>") || (strings.HasPrefix(f.s, "<") && !strings.HasSuffix(f.s, ">")) || strings.HasPrefix(f.s, "#") {
				break
			}
			s := strings.NewReplacer("[", "", "]", "").Replace(f.s)
			s = strings.TrimSuffix(s, "...")
			s, _, _ = strings.Cut(s, "|")
			if s == "" {
				continue
			}
			f.s = s
		}
		args = append(args, f.s)
	}
	return args
}

type shellField struct {
	s      string
	quoted bool
}

// shellFields splits a command line as a shell would, for what the
// documentation writes: words, '...' and "..." quoting.
func shellFields(s string) []shellField {
	var out []shellField
	var cur strings.Builder
	in, quoted, started := rune(0), false, false
	for _, r := range s {
		switch {
		case in != 0 && r == in:
			in = 0
		case in != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			in, quoted, started = r, true, true
		case r == ' ' || r == '\t':
			if started {
				out = append(out, shellField{cur.String(), quoted})
			}
			cur.Reset()
			quoted, started = false, false
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if started {
		out = append(out, shellField{cur.String(), quoted})
	}
	return out
}

// parseCommandLine parses args as fluxgate would, without running the
// command.
func parseCommandLine(args []string) error {
	root := newRootCmd(io.Discard, io.Discard)
	sub, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if sub == root {
		return fmt.Errorf("no command in %q", args)
	}
	if len(rest) == 0 {
		return nil // the command named, as in "see fluxgate report merge"
	}
	sub.InitDefaultHelpFlag()
	if err := sub.ParseFlags(rest); err != nil {
		return err
	}
	if !sub.Runnable() {
		if len(sub.Flags().Args()) > 0 {
			return fmt.Errorf("%s takes a subcommand, not %q", sub.CommandPath(), sub.Flags().Args())
		}
		return nil
	}
	return sub.ValidateArgs(sub.Flags().Args())
}

func TestDocCommandLines(t *testing.T) {
	var snippets []docSnippet
	for _, f := range docFiles(t) {
		data, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		lines, _ := commandLines(f, data)
		snippets = append(snippets, lines...)
	}
	// The commands' own examples.
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Example != "" {
			snippets = append(snippets, joinedCommandLines("fluxgate "+c.CommandPath()+" --help Example", 1, strings.Split(c.Example, "\n"))...)
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRootCmd(io.Discard, io.Discard))
	if len(snippets) < 40 {
		t.Fatalf("found %d command lines; the extraction is broken", len(snippets))
	}
	for _, s := range snippets {
		args := commandArgs(s.text)
		if err := parseCommandLine(args); err != nil {
			t.Errorf("%s: %s\n  fluxgate %s: %v", s.where, strings.TrimSpace(s.text), strings.Join(args, " "), err)
		}
	}
}

// actionSteps finds the steps of a YAML document that use the action.
func actionSteps(n *yaml.Node, out *[]map[string]string) {
	if n.Kind == yaml.MappingNode {
		var uses string
		var with *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch n.Content[i].Value {
			case "uses":
				uses = n.Content[i+1].Value
			case "with":
				with = n.Content[i+1]
			}
		}
		if strings.HasPrefix(uses, "fluxgate/fluxgate") {
			inputs := map[string]string{}
			if with != nil {
				for i := 0; i+1 < len(with.Content); i += 2 {
					inputs[with.Content[i].Value] = with.Content[i+1].Value
				}
			}
			*out = append(*out, inputs)
		}
	}
	for _, c := range n.Content {
		actionSteps(c, out)
	}
}

func TestDocActionSteps(t *testing.T) {
	root := newRootCmd(io.Discard, io.Discard)
	has := func(command string) bool {
		sub, _, err := root.Find([]string{command})
		return err == nil && sub != root && sub.Name() == command
	}
	steps := 0
	for _, f := range docFiles(t) {
		data, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		_, docs := commandLines(f, data)
		for _, d := range docs {
			dec := yaml.NewDecoder(bytes.NewReader([]byte(d.text)))
			for {
				var n yaml.Node
				if err := dec.Decode(&n); err != nil {
					// Rule examples show broken YAML on purpose; a block
					// with an action step must parse.
					if !errors.Is(err, io.EOF) && strings.Contains(d.text, "fluxgate/fluxgate") {
						t.Errorf("%s: yaml block: %v", d.where, err)
					}
					break
				}
				var found []map[string]string
				actionSteps(&n, &found)
				for _, inputs := range found {
					steps++
					if c := inputs["command"]; c != "" && !has(c) {
						t.Logf("%s: command %s is not in this binary yet; step unchecked", d.where, c)
						continue
					}
					env := map[string]string{"GITHUB_ACTIONS": "true"}
					for k := range inputs {
						if !slices.ContainsFunc(action.Inputs, func(in action.Input) bool { return in.Name == k }) {
							t.Errorf("%s: input %s is not an input of action.yml", d.where, k)
						}
					}
					for k, v := range inputs {
						env[ghaction.InputVar(k)] = ghExprRE.ReplaceAllString(v, "1")
					}
					plan, err := action.NewPlan(&ghaction.Env{Getenv: func(k string) string { return env[k] }, Stdout: io.Discard}, has)
					if err == nil {
						err = parseCommandLine(plan.Args)
					}
					if err != nil {
						t.Errorf("%s: step with %v: %v", d.where, inputs, err)
					}
				}
			}
		}
	}
	if steps < 5 {
		t.Fatalf("found %d action steps; the extraction is broken", steps)
	}
}
