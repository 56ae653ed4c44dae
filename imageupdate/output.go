package imageupdate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// JSONChange is one planned change in the JSON output of a dry run.
type JSONChange struct {
	Automation string `json:"automation,omitempty"`
	File       string `json:"file"`
	Line       int    `json:"line"`
	Policy     string `json:"policy"`
	Image      string `json:"image"`
	Old        string `json:"old"`
	New        string `json:"new"`
}

// AutomationEdits is the plan for one automation and, once it ran, where
// its changes went.
type AutomationEdits struct {
	Automation *Automation
	Edits      []FileEdit
	// Branch is the push branch; empty in a dry run.
	Branch string
	// Pushed is set when this run pushed a new commit to Branch.
	Pushed bool
	// PullRequest is the URL of the automation's open pull request.
	PullRequest string
}

// JSONPullRequest is an automation's branch and pull request in the JSON
// output of a run.
type JSONPullRequest struct {
	Automation string `json:"automation"`
	Branch     string `json:"branch"`
	Pushed     bool   `json:"pushed"`
	URL        string `json:"url,omitempty"`
}

// WriteJSON writes {"changes":[…]} for plans, one entry per changed field,
// in automation, file and line order, and, for plans that were pushed,
// "pullRequests":[…].
func WriteJSON(w io.Writer, plans []AutomationEdits) error {
	out := struct {
		Changes      []JSONChange      `json:"changes"`
		PullRequests []JSONPullRequest `json:"pullRequests,omitempty"`
	}{Changes: []JSONChange{}}
	for _, p := range plans {
		if p.Branch != "" {
			out.PullRequests = append(out.PullRequests, JSONPullRequest{
				Automation: p.Automation.Namespace + "/" + p.Automation.Name,
				Branch:     p.Branch, Pushed: p.Pushed, URL: p.PullRequest,
			})
		}
		for _, e := range p.Edits {
			for _, c := range e.Changes {
				out.Changes = append(out.Changes, JSONChange{
					Automation: p.Automation.Namespace + "/" + p.Automation.Name,
					File:       c.File, Line: c.Line, Policy: c.Policy, Image: c.Image, Old: c.Old, New: c.New,
				})
			}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteUnifiedDiff writes a unified diff (a/ and b/ prefixes, three lines
// of context) of every planned file edit.
func WriteUnifiedDiff(w io.Writer, plans []AutomationEdits) error {
	for _, p := range plans {
		for _, e := range p.Edits {
			text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
				A:        diffLines(e.Before),
				B:        diffLines(e.After),
				FromFile: "a/" + e.Path,
				ToFile:   "b/" + e.Path,
				Context:  3,
			})
			if err != nil {
				return fmt.Errorf("diff %s: %w", e.Path, err)
			}
			if !strings.HasSuffix(text, "\n") && text != "" {
				text += "\n"
			}
			if _, err := io.WriteString(w, text); err != nil {
				return err
			}
		}
	}
	return nil
}

// diffLines splits a file into lines for difflib; like git, a last line
// without a newline is followed by a "\ No newline at end of file" note.
func diffLines(data []byte) []string {
	if len(data) == 0 {
		return nil
	}
	out := strings.SplitAfter(string(data), "\n")
	if last := out[len(out)-1]; last == "" {
		out = out[:len(out)-1]
	} else {
		out[len(out)-1] = last + "\n\\ No newline at end of file\n"
	}
	return out
}

// PullRequestMarker is the hidden line identifying the automation's pull
// request body.
func PullRequestMarker(a *Automation) string {
	return fmt.Sprintf("<!-- fluxgate:image-update:%s/%s -->", a.Namespace, a.Name)
}

// PullRequestBody describes the edits of automation a: a table with one row
// per changed field (image, file:line linked with fileURL when it is not
// nil, old and new value) and the commit message.
func PullRequestBody(a *Automation, edits []FileEdit, message string, fileURL func(path string, line int) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", PullRequestMarker(a))
	n := 0
	for _, e := range edits {
		n += len(e.Changes)
	}
	fmt.Fprintf(&b, "### Image updates by ImageUpdateAutomation `%s/%s`\n\n", a.Namespace, a.Name)
	fmt.Fprintf(&b, "%d %s in %d %s, from the policies in `%s` (`%s:%d`).\n\n",
		n, plural(n, "field", "fields"), len(edits), plural(len(edits), "file", "files"),
		a.Namespace, a.Doc.File, a.Doc.Line)
	b.WriteString("| Image | File | Old | New |\n|---|---|---|---|\n")
	for _, e := range edits {
		for _, c := range e.Changes {
			loc := fmt.Sprintf("%s:%d", c.File, c.Line)
			if fileURL != nil {
				loc = fmt.Sprintf("[%s](%s)", loc, fileURL(c.File, c.Line))
			}
			fmt.Fprintf(&b, "| `%s` | %s | `%s` | `%s` |\n", mdCell(c.Image), loc, mdCell(c.Old), mdCell(c.New))
		}
	}
	fmt.Fprintf(&b, "\n<details><summary>Commit message</summary>\n\n```\n%s\n```\n</details>\n", strings.TrimRight(message, "\n"))
	b.WriteString("\nOpened by `fluxgate image-update`. New tags update this branch; a commit pushed here by anyone else stops the automation until it is removed.\n")
	return b.String()
}

// PullRequestTitle is the first line of the commit message.
func PullRequestTitle(message string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(message), "\n")
	return strings.TrimSpace(line)
}

func mdCell(s string) string {
	return strings.NewReplacer("|", "\\|", "`", "'", "\n", " ").Replace(s)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
