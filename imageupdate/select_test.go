package imageupdate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/fleet"
)

func TestSelect(t *testing.T) {
	set := &Set{Automations: []*Automation{
		{Namespace: "flux-system", Name: "apps", Policies: []string{"flux-system:web", "flux-system:app"}},
		{Namespace: "team-a", Name: "apps", Policies: []string{"team-a:app", "flux-system:app"}},
		{Namespace: "team-a", Name: "infra"},
	}}
	tests := []struct {
		names    []string
		want     []string
		policies []string
		err      string
	}{
		{names: nil, want: []string{"flux-system/apps", "team-a/apps", "team-a/infra"},
			policies: []string{"flux-system:app", "flux-system:web", "team-a:app"}},
		{names: []string{"team-a/infra", "flux-system/apps"}, want: []string{"team-a/infra", "flux-system/apps"},
			policies: []string{"flux-system:app", "flux-system:web"}},
		{names: []string{"apps", "team-a/apps"}, want: []string{"flux-system/apps", "team-a/apps"},
			policies: []string{"flux-system:app", "flux-system:web", "team-a:app"}},
		{names: []string{"team-b/apps"}, err: "--automation team-b/apps: no such ImageUpdateAutomation"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.names, ","), func(t *testing.T) {
			got, err := set.Select(tt.names)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, a := range got {
				names = append(names, a.Namespace+"/"+a.Name)
			}
			if d := cmp.Diff(tt.want, names); d != "" {
				t.Errorf("selected (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.policies, AutomationPolicies(got)); d != "" {
				t.Errorf("policies (-want +got):\n%s", d)
			}
		})
	}
}

func TestSetterProblems(t *testing.T) {
	got := SetterProblems([]FileProblem{{Path: "apps/a.yaml", Line: 3, Message: "bad marker"}})
	want := []fleet.Problem{{Rule: RuleSetterInvalid, Severity: fleet.SeverityWarning, File: "apps/a.yaml", Line: 3, Message: "bad marker"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
