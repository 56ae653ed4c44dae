package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/report"
)

// TestPathPrefixInCIFormats: with the fleet in deploy/flux of a monorepo,
// annotations, SARIF and JUnit name files from the checkout's root; text
// and json keep the fleet's paths.
func TestPathPrefixInCIFormats(t *testing.T) {
	plain := report.Options{ChangedFiles: []string{"apps/web/deploy.yaml"}}
	opts := plain
	opts.PathPrefix, opts.SourceRootURI = "deploy/flux", "file:///home/runner/work/platform/platform/"

	gh := string(write(t, "github", opts, fixture()))
	if !strings.Contains(gh, "::error file=deploy/flux/apps/web/deploy.yaml,line=12,") ||
		!strings.Contains(gh, "file=deploy/flux/clusters/prod%2Ceu/secrets.yaml,line=3") {
		t.Errorf("github annotations lack the prefix:\n%s", gh)
	}
	for _, l := range strings.Split(gh, "\n") {
		if strings.Contains(l, "file=") && !strings.Contains(l, "file=deploy/flux/") {
			t.Errorf("annotation without the prefix: %s", l)
		}
	}
	// The changed files (the fleet's paths) still come first.
	if first := strings.SplitN(gh, "\n", 2)[0]; !strings.Contains(first, "deploy/flux/apps/web/deploy.yaml") {
		t.Errorf("first annotation is not in the changed file: %s", first)
	}

	var doc struct {
		Runs []struct {
			OriginalURIBaseIDs map[string]struct {
				URI string `json:"uri"`
			} `json:"originalUriBaseIds"`
			Results []struct {
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI       string `json:"uri"`
							URIBaseID string `json:"uriBaseId"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(write(t, "sarif", opts, fixture()), &doc); err != nil {
		t.Fatal(err)
	}
	run := doc.Runs[0]
	if got := run.OriginalURIBaseIDs["SRCROOT"].URI; got != opts.SourceRootURI {
		t.Errorf("originalUriBaseIds SRCROOT = %q, want %q", got, opts.SourceRootURI)
	}
	for _, r := range run.Results {
		loc := r.Locations[0].PhysicalLocation.ArtifactLocation
		if loc.URIBaseID != "SRCROOT" || (loc.URI != "." && !strings.HasPrefix(loc.URI, "deploy/flux/")) {
			t.Errorf("sarif location %+v", loc)
		}
	}

	junit := parseJUnit(t, write(t, "junit", opts, fixture()))
	for _, s := range junit.Suites {
		for _, c := range s.Cases {
			if !strings.HasPrefix(c.File, "deploy/flux/") {
				t.Errorf("junit testcase %q file %q without the prefix", c.Name, c.File)
			}
			if c.Failure != nil && !strings.HasPrefix(c.Failure.Text, "deploy/flux/") {
				t.Errorf("junit testcase %q: failure %q without the prefix", c.Name, c.Failure.Text)
			}
		}
	}

	for _, format := range []string{"text", "json"} {
		if !bytes.Equal(write(t, format, opts, fixture()), write(t, format, plain, fixture())) {
			t.Errorf("%s output changes with the path prefix", format)
		}
	}
}
