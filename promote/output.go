package promote

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText writes the plans for people: per promotion its directory
// pairs, then each change as file:line, path, old → new and why, then
// the problems.
func WriteText(w io.Writer, plans []*Plan) error {
	var b strings.Builder
	for _, p := range plans {
		fmt.Fprintf(&b, "promotion %s: %s → %s\n", p.Promotion.Name, p.Promotion.From, p.Promotion.To)
		if len(p.Changes) == 0 {
			b.WriteString("  no changes\n")
		}
		for _, c := range p.Changes {
			if c.Kind == KindFile {
				fmt.Fprintf(&b, "  %s: %s\n", c.File, c.Why)
				continue
			}
			fmt.Fprintf(&b, "  %s:%d: %s: %s → %s (%s)", c.File, c.Line, c.Path, c.Old, c.New, c.Why)
			switch {
			case c.Downgrade:
				b.WriteString(" [downgrade]")
			case c.Order != "":
				fmt.Fprintf(&b, " [%s]", c.Order)
			}
			b.WriteByte('\n')
		}
		for _, pr := range p.Problems {
			fmt.Fprintf(&b, "  %s: %s\n", pr.Severity, pr.String())
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonPlan is a plan as WriteJSON writes it.
type jsonPlan struct {
	Name     string      `json:"name"`
	From     string      `json:"from"`
	To       string      `json:"to"`
	Pairs    [][2]string `json:"pairs"`
	Changes  []Change    `json:"changes"`
	Problems []string    `json:"problems"`
}

// WriteJSON writes the plans as a JSON object {"promotions": [...]}.
func WriteJSON(w io.Writer, plans []*Plan) error {
	out := struct {
		Promotions []jsonPlan `json:"promotions"`
	}{Promotions: []jsonPlan{}}
	for _, p := range plans {
		jp := jsonPlan{Name: p.Promotion.Name, From: p.Promotion.From, To: p.Promotion.To, Pairs: p.Pairs, Changes: p.Changes, Problems: []string{}}
		if jp.Changes == nil {
			jp.Changes = []Change{}
		}
		for _, pr := range p.Problems {
			jp.Problems = append(jp.Problems, pr.String())
		}
		out.Promotions = append(out.Promotions, jp)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
