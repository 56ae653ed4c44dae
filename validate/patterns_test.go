package validate_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/validate"
)

// knownFalse lists the rules seen raising false errors on real
// repositories; a pattern fleet (valid by construction, written as real
// repositories write it) must raise none of them as errors.
var knownFalse = map[string]bool{
	validate.RuleTenantEscape:       true,
	validate.RuleSecretNotEncrypted: true,
}

// TestPatternFleetsNoFalseErrors sweeps every fleet under
// testdata/fleets/patterns.
func TestPatternFleetsNoFalseErrors(t *testing.T) {
	base := filepath.Join("..", "testdata", "fleets", "patterns")
	entries, err := os.ReadDir(base)
	if err != nil {
		t.Fatal(err)
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
				if f.Severity == validate.SeverityError && knownFalse[f.Rule] {
					t.Errorf("false error: %s:%d %s [%s] %s", f.File, f.Line, f.Object, f.Rule, f.Message)
				}
			}
		})
	}
	if swept < 5 {
		t.Fatalf("swept %d pattern fleets, want every one of them (at least 5)", swept)
	}
}
