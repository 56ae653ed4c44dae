package report_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/validate"
)

func TestJSONRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *validate.Report
	}{
		{name: "fixture", r: fixture()},
		{name: "empty", r: empty()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := write(t, "json", testOptions, tc.r)
			var got validate.Report
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			// The findings about each unit, by value: the writer sorts
			// findings and units, and points the units at the sorted list.
			about := func(r *validate.Report) map[string][]validate.Finding {
				m := map[string][]validate.Finding{}
				for _, u := range r.Units {
					var fs []validate.Finding
					for _, i := range u.Findings {
						fs = append(fs, r.Findings[i])
					}
					validate.Sort(fs)
					m[u.Cluster+" "+u.ID] = fs
				}
				return m
			}
			if diff := cmp.Diff(about(tc.r), about(&got)); diff != "" {
				t.Errorf("findings of the units (-want +got):\n%s", diff)
			}
			if !slices.IsSortedFunc(got.Units, func(a, b validate.Unit) int {
				return strings.Compare(a.Cluster+" "+a.ID, b.Cluster+" "+b.ID)
			}) {
				t.Errorf("units not by cluster and ID: %+v", got.Units)
			}
			want := tc.r
			validate.Sort(want.Findings)
			want.Units, got.Units = nil, nil
			if want.Findings == nil {
				want.Findings = []validate.Finding{}
			}
			if want.Summary.SkippedKinds == nil {
				want.Summary.SkippedKinds = map[string]int{}
			}
			if diff := cmp.Diff(want, &got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			if !strings.HasSuffix(string(out), "}\n") || !strings.HasPrefix(string(out), "{\n  \"findings\": ") {
				t.Errorf("output is not indented two spaces with a trailing newline:\n%s", out)
			}
		})
	}
}

// keys returns the sorted keys of a JSON object.
func keys(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestJSONKeys(t *testing.T) {
	out := write(t, "json", testOptions, fixture())
	if diff := cmp.Diff([]string{"findings", "summary", "units"}, keys(t, out)); diff != "" {
		t.Errorf("top-level keys (-want +got):\n%s", diff)
	}
	var doc struct {
		Findings []json.RawMessage `json:"findings"`
		Summary  json.RawMessage   `json:"summary"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	wantSummary := []string{"errors", "objects", "skippedKinds", "units", "warnings"}
	if diff := cmp.Diff(wantSummary, keys(t, doc.Summary)); diff != "" {
		t.Errorf("summary keys (-want +got):\n%s", diff)
	}
	wantFinding := []string{"file", "line", "message", "object", "rule", "severity"}
	for i, f := range doc.Findings {
		if diff := cmp.Diff(wantFinding, keys(t, f)); diff != "" {
			t.Errorf("finding %d keys (-want +got):\n%s", i, diff)
		}
	}
}

func TestJSONEmptyIsNotNull(t *testing.T) {
	for _, r := range []*validate.Report{
		{},
		{Findings: []validate.Finding{}, Summary: validate.Summary{SkippedKinds: map[string]int{}}},
	} {
		out := string(write(t, "json", testOptions, r))
		if !strings.Contains(out, `"findings": []`) || !strings.Contains(out, `"skippedKinds": {}`) {
			t.Errorf("empty report should have [] findings and {} skippedKinds:\n%s", out)
		}
		if strings.Contains(out, "null") {
			t.Errorf("empty report holds null:\n%s", out)
		}
	}
}
