package validate

import (
	"os"
	"strings"
	"testing"
)

func TestEveryRuleIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range Rules {
		if seen[r.ID] {
			t.Errorf("rule %s listed twice", r.ID)
		}
		seen[r.ID] = true
		section := "\n## " + r.ID + "\n"
		i := strings.Index(string(doc), section)
		if i < 0 {
			t.Errorf("docs/rules.md has no section %q", strings.TrimSpace(section))
			continue
		}
		body := string(doc[i+len(section):])
		if j := strings.Index(body, "\n## "); j >= 0 {
			body = body[:j]
		}
		if !strings.Contains(body, "**Fix:**") {
			t.Errorf("docs/rules.md section %s has no fix", r.ID)
		}
		if !strings.Contains(body, "**"+r.Severity) {
			t.Errorf("docs/rules.md section %s does not state severity %s", r.ID, r.Severity)
		}
	}
}
