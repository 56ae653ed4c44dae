package promote

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Health is the part of a `test -o json` report the health gate reads.
type Health struct {
	Healthy bool   `json:"healthy"`
	Path    string `json:"path"`
	Units   []struct {
		Kind, Namespace, Name, Status, Message string
	} `json:"units"`
}

// ReadHealth decodes a test report.
func ReadHealth(r io.Reader) (*Health, error) {
	var h Health
	if err := json.NewDecoder(r).Decode(&h); err != nil {
		return nil, fmt.Errorf("read test report: %w", err)
	}
	return &h, nil
}

// Check returns an error naming the units that are not Ready (nor
// Skipped) when the report is not healthy.
func (h *Health) Check() error {
	if h.Healthy {
		return nil
	}
	var bad []string
	for _, u := range h.Units {
		if u.Status != "Ready" && u.Status != "Skipped" {
			bad = append(bad, fmt.Sprintf("%s/%s/%s %s", u.Kind, u.Namespace, u.Name, u.Status))
		}
	}
	return fmt.Errorf("source environment %s is not healthy: %s", h.Path, strings.Join(bad, ", "))
}
