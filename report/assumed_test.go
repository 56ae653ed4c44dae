package report_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/report"
	"github.com/fluxgate/fluxgate/validate"
)

const assumption = "OCIRepository flux-system/flux-system (oci://ghcr.io/example-org/fleet-manifests tag prod) taken as this work tree: its path ./clusters/prod exists here; --source OCIRepository/flux-system/flux-system=DIR overrides"

func assumedReport() *validate.Report {
	r := fixture()
	r.Summary.Assumed = []string{assumption}
	return r
}

// TestAssumedInEveryFormat: the assumptions a run took are in the summary
// of the text, JSON and Markdown outputs, and nowhere when there are none.
func TestAssumedInEveryFormat(t *testing.T) {
	text := string(write(t, "text", testOptions, assumedReport()))
	if !strings.HasSuffix(text, "\nassumed: "+assumption+"\n") {
		t.Errorf("text does not end with the assumed line:\n%s", text)
	}
	var doc struct {
		Summary struct {
			Assumed []string `json:"assumed"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(write(t, "json", testOptions, assumedReport()), &doc); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{assumption}, doc.Summary.Assumed); diff != "" {
		t.Errorf("json summary.assumed (-want +got):\n%s", diff)
	}
	md := markdown(t, assumedReport(), 10)
	if !strings.Contains(md, "### Assumed\n\n- ") || !strings.Contains(md, "taken as this work tree") {
		t.Errorf("markdown has no Assumed section:\n%s", md)
	}

	for _, format := range []string{"text", "json"} {
		if out := string(write(t, format, testOptions, fixture())); strings.Contains(out, "assumed") {
			t.Errorf("%s without assumptions mentions them:\n%s", format, out)
		}
	}
	if md := markdown(t, fixture(), 10); strings.Contains(md, "Assumed") {
		t.Errorf("markdown without assumptions has the section:\n%s", md)
	}
}

// TestMergeKeepsAssumedOnce: every shard takes the same assumptions; the
// merged report lists each once.
func TestMergeKeepsAssumedOnce(t *testing.T) {
	var inputs []report.Input
	for _, r := range shardsOf(assumedReport()) {
		r.Summary.Assumed = []string{assumption}
		inputs = append(inputs, report.Input{Name: "shard.json", Data: write(t, "json", testOptions, r)})
	}
	m, err := report.Merge("json", inputs)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{assumption}, m.Report.Summary.Assumed); diff != "" {
		t.Errorf("merged summary.assumed (-want +got):\n%s", diff)
	}
}
