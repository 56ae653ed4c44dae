package validate_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/validate"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/patterns")

// goldenPatterns are the pattern fleets whose every finding is kept in
// testdata/patterns/<name>.findings (go test -run Pattern -update
// rewrites them): fleets that hold findings on purpose.
var goldenPatterns = map[string]bool{
	"artifact-composition":      true,
	"plain-manifests":           true,
	"resourceset":               true,
	"secret-references":         true,
	"flux-operator":             true,
	"third-party-notifications": true,
	"home-ops-legacy":           true, // deprecated-api warns: its Flux v2.3.0 still serves v1beta2
	"home-ops-replacements":     true,
	"d2-infra":                  true,
	"bootstrap-pinned-flux":     true, // deprecated-api warns: its Flux v2.2.3 still serves the beta APIs
	"home-ops-multicluster":     true,
	"parent-patches":            true,
	"gitless":                   true,
}

// validPatterns are the pattern fleets that are valid as a whole: they must
// give no error at all.
var validPatterns = map[string]bool{
	"artifact-composition":      true,
	"artifact-generator":        true,
	"flux-operator":             true,
	"gitless":                   true,
	"home-ops":                  true,
	"kustomize-helm":            true,
	"multi-tenancy":             true,
	"parent-patches":            true,
	"resourceset":               true,
	"secret-references":         true,
	"third-party-notifications": true,
	"bootstrap-pinned-flux":     true,
	"d2-infra":                  true,
	"home-ops-legacy":           true,
	"home-ops-multicluster":     true,
	"home-ops-replacements":     true,
}

// findingLines formats findings one a line, as the golden files hold them.
func findingLines(rep *validate.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "%s:%d %s %s %s: %s\n", f.File, f.Line, f.Severity, f.Rule, f.Object, f.Message)
	}
	fmt.Fprintf(&b, "units %d, objects %d, skipped %v\n", rep.Summary.Units, rep.Summary.Objects, rep.Summary.SkippedKinds)
	for _, a := range rep.Summary.Assumed {
		fmt.Fprintf(&b, "assumed: %s\n", a)
	}
	return b.String()
}

// knownFalse lists the rules seen raising false errors on real
// repositories: tenancy read from targetNamespace, references taken for
// secrets, objects made by ResourceSets or ArtifactGenerators taken for
// missing sources, children checked without their parent's patches, CRDs
// checked without the patches the cluster serves them with, Flux APIs
// taken for unserved although the Flux the repository installs serves
// them. A pattern fleet (valid by construction, written as real
// repositories write it) must raise none of them as errors, unless
// intended says it holds one on purpose.
var knownFalse = map[string]bool{
	validate.RuleTenantEscape:          true,
	validate.RuleSecretNotEncrypted:    true,
	validate.RuleSourceNotFound:        true,
	validate.RuleRenderFailed:          true,
	validate.RuleSubstitutionUndefined: true,
	validate.RuleDuplicateObject:       true,
	validate.RulePathNotFound:          true,
	validate.RuleSchemaInvalid:         true,
	validate.RuleDeprecatedAPI:         true,
}

// intended are the errors a pattern fleet holds on purpose, by fleet and
// rule; each such fleet is in goldenPatterns, so its findings are pinned.
var intended = map[string]map[string]bool{
	"plain-manifests": {validate.RuleSchemaInvalid: true}, // jobs/backup.yaml misspells a field
}

// TestPatternFleetsNoFalseErrors sweeps every fleet under
// testdata/fleets/patterns.
func TestPatternFleetsNoFalseErrors(t *testing.T) {
	base := filepath.Join("..", "testdata", "fleets", "patterns")
	entries, err := os.ReadDir(base)
	if err != nil {
		t.Fatal(err)
	}
	for name := range intended {
		if !goldenPatterns[name] {
			t.Errorf("pattern fleet %s holds errors on purpose but its findings are not pinned in goldenPatterns", name)
		}
	}
	swept := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		swept++
		t.Run(e.Name(), func(t *testing.T) {
			rep := run(t, filepath.Join(base, e.Name()), fleet.Options{}, validate.Options{})
			if rep.Summary.Units == 0 {
				t.Fatalf("nothing rendered")
			}
			for _, f := range rep.Findings {
				if f.Severity == validate.SeverityError && (knownFalse[f.Rule] || validPatterns[e.Name()]) && !intended[e.Name()][f.Rule] {
					t.Errorf("false error: %s:%d %s [%s] %s", f.File, f.Line, f.Object, f.Rule, f.Message)
				}
			}
			if !goldenPatterns[e.Name()] {
				return
			}
			golden := filepath.Join("testdata", "patterns", e.Name()+".findings")
			got := findingLines(rep)
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -run Pattern -update writes it)", err)
			}
			if d := cmp.Diff(string(want), got); d != "" {
				t.Errorf("findings (-%s +got):\n%s", golden, d)
			}
		})
	}
	if swept < 5 {
		t.Fatalf("swept %d pattern fleets, want every one of them (at least 5)", swept)
	}
}

// TestGitlessAssumption: the gitless fleet's clusters sync from the
// OCIRepository CI pushes this repository to; the run takes it as this
// work tree and says so in the summary, unless --source maps it.
func TestGitlessAssumption(t *testing.T) {
	dir := filepath.Join("..", "testdata", "fleets", "patterns", "gitless")
	const ref = "OCIRepository/flux-system/flux-system"
	rep := run(t, dir, fleet.Options{}, validate.Options{})
	want := []string{
		"OCIRepository flux-system/flux-system (oci://ghcr.io/example-org/fleet-manifests tag prod) taken as this work tree: its path ./clusters/prod exists here; --source " + ref + "=DIR overrides",
		"OCIRepository flux-system/flux-system (oci://ghcr.io/example-org/fleet-manifests tag staging) taken as this work tree: its path ./clusters/staging exists here; --source " + ref + "=DIR overrides",
	}
	if diff := cmp.Diff(want, rep.Summary.Assumed); diff != "" {
		t.Errorf("Summary.Assumed (-want +got):\n%s", diff)
	}
	if rep.Summary.Errors != 0 || rep.Summary.Units != 6 {
		t.Errorf("summary %+v, want 6 units and no error", rep.Summary)
	}

	// Mapped explicitly, the source is what --source says and nothing is
	// assumed: here a directory without the clusters' paths.
	mapped := run(t, dir, fleet.Options{Sources: map[string]string{ref: "apps"}}, validate.Options{})
	if len(mapped.Summary.Assumed) != 0 {
		t.Errorf("with --source, Summary.Assumed = %q", mapped.Summary.Assumed)
	}
	notFound := 0
	for _, f := range mapped.Findings {
		if f.Rule == validate.RulePathNotFound {
			notFound++
		}
	}
	if notFound == 0 {
		t.Errorf("with --source %s=apps, no path-not-found: the mapping was not used (%v)", ref, mapped.Findings)
	}
}
