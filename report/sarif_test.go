package report_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/report"
	"github.com/fluxgate/fluxgate/validate"
)

// Test-side SARIF types: the subset GitHub code scanning reads.
type xSarif struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name           string `json:"name"`
				Version        string `json:"version"`
				InformationURI string `json:"informationUri"`
				Rules          []struct {
					ID               string `json:"id"`
					Name             string `json:"name"`
					ShortDescription struct {
						Text string `json:"text"`
					} `json:"shortDescription"`
					FullDescription struct {
						Text string `json:"text"`
					} `json:"fullDescription"`
					Help *struct {
						Text string `json:"text"`
					} `json:"help"`
					HelpURI              string `json:"helpUri"`
					DefaultConfiguration struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []xSarifResult `json:"results"`
	} `json:"runs"`
}

type xSarifResult struct {
	RuleID    *string `json:"ruleId"`
	RuleIndex *int    `json:"ruleIndex"`
	Level     string  `json:"level"`
	Message   struct {
		Text string `json:"text"`
	} `json:"message"`
	Locations []struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI       string `json:"uri"`
				URIBaseID string `json:"uriBaseId"`
			} `json:"artifactLocation"`
			Region struct {
				StartLine int `json:"startLine"`
			} `json:"region"`
		} `json:"physicalLocation"`
	} `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
}

func parseSARIF(t *testing.T, out []byte) xSarif {
	t.Helper()
	var doc xSarif
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("sarif output is not JSON: %v", err)
	}
	return doc
}

var sarifLevels = map[string]bool{"error": true, "warning": true, "note": true}

func TestSARIFStructure(t *testing.T) {
	doc := parseSARIF(t, write(t, "sarif", testOptions, fixture()))
	if doc.Version != "2.1.0" {
		t.Errorf("version = %q", doc.Version)
	}
	if doc.Schema != "https://json.schemastore.org/sarif-2.1.0.json" {
		t.Errorf("$schema = %q", doc.Schema)
	}
	if len(doc.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(doc.Runs))
	}
	run := doc.Runs[0]
	d := run.Tool.Driver
	if d.Name != "fluxgate" || d.Version != testOptions.ToolVersion || d.InformationURI == "" {
		t.Errorf("driver name=%q version=%q informationUri=%q", d.Name, d.Version, d.InformationURI)
	}

	index := map[string]int{}
	for i, r := range d.Rules {
		if _, dup := index[r.ID]; dup {
			t.Errorf("rule %q listed twice", r.ID)
		}
		index[r.ID] = i
		if r.Name == "" || r.ShortDescription.Text == "" || r.FullDescription.Text == "" {
			t.Errorf("rule %q lacks name or descriptions", r.ID)
		}
		if !sarifLevels[r.DefaultConfiguration.Level] {
			t.Errorf("rule %q default level %q", r.ID, r.DefaultConfiguration.Level)
		}
	}
	for _, ri := range validate.Rules {
		i, ok := index[ri.ID]
		if !ok {
			t.Errorf("rule %q missing from the driver", ri.ID)
			continue
		}
		r := d.Rules[i]
		if r.ShortDescription.Text != ri.Summary || r.Help == nil || r.Help.Text != ri.Fix {
			t.Errorf("rule %q: shortDescription %q, help %v; want the rule's summary and fix", ri.ID, r.ShortDescription.Text, r.Help)
		}
		if r.HelpURI != testOptions.RulesDocURL+ri.ID {
			t.Errorf("rule %q helpUri = %q", ri.ID, r.HelpURI)
		}
	}
	if _, ok := index["x-custom-policy"]; !ok {
		t.Error("the unknown rule x-custom-policy has no rule entry")
	}

	if len(run.Results) != len(fixture().Findings) {
		t.Fatalf("%d results, want %d", len(run.Results), len(fixture().Findings))
	}
	fingerprints := map[string]bool{}
	for i, res := range run.Results {
		if res.RuleID == nil || res.RuleIndex == nil {
			t.Errorf("result %d lacks ruleId or ruleIndex", i)
			continue
		}
		if want, ok := index[*res.RuleID]; !ok || want != *res.RuleIndex {
			t.Errorf("result %d: ruleId %q at ruleIndex %d, driver has it at %d (listed: %v)", i, *res.RuleID, *res.RuleIndex, want, ok)
		}
		if !sarifLevels[res.Level] {
			t.Errorf("result %d: level %q", i, res.Level)
		}
		if res.Message.Text == "" {
			t.Errorf("result %d: empty message", i)
		}
		if len(res.Locations) == 0 {
			t.Errorf("result %d: no location (GitHub rejects the whole file)", i)
		}
		for _, loc := range res.Locations {
			pl := loc.PhysicalLocation
			uri := pl.ArtifactLocation.URI
			if uri == "" || strings.Contains(uri, `\`) || strings.HasPrefix(uri, "/") || strings.HasPrefix(uri, "./") || strings.Contains(uri, "://") {
				t.Errorf("result %d: uri %q is not a relative forward-slash path", i, uri)
			}
			if pl.ArtifactLocation.URIBaseID != "SRCROOT" {
				t.Errorf("result %d: uriBaseId %q", i, pl.ArtifactLocation.URIBaseID)
			}
			if pl.Region.StartLine < 1 {
				t.Errorf("result %d: startLine %d", i, pl.Region.StartLine)
			}
		}
		fp := res.PartialFingerprints["fluxgate/v1"]
		if fp == "" || fingerprints[fp] {
			t.Errorf("result %d: fingerprint %q empty or not unique", i, fp)
		}
		fingerprints[fp] = true
	}
}

func TestSARIFMessageAndLevels(t *testing.T) {
	doc := parseSARIF(t, write(t, "sarif", testOptions, fixture()))
	levels := map[string]string{}
	for _, res := range doc.Runs[0].Results {
		levels[*res.RuleID] = res.Level
		if *res.RuleID == validate.RuleSourceUnavailable {
			if got := res.Locations[0].PhysicalLocation.Region.StartLine; got != 1 {
				t.Errorf("line-0 finding: startLine %d, want 1", got)
			}
			if !strings.HasPrefix(res.Message.Text, "Kustomization/flux-system/infra: ") {
				t.Errorf("message %q does not name the object", res.Message.Text)
			}
		}
	}
	want := map[string]string{
		validate.RuleSecretNotEncrypted: "error", validate.RuleSchemaInvalid: "error", "x-custom-policy": "error",
		validate.RuleDeprecatedAPI: "warning", validate.RuleSourceUnavailable: "warning", validate.RuleYAMLInvalid: "note",
	}
	for rule, level := range want {
		if levels[rule] != level {
			t.Errorf("%s: level %q, want %q", rule, levels[rule], level)
		}
	}
}

// TestSARIFFingerprintStable checks that moving a finding to another line
// keeps its fingerprint, while changing what it says changes it, and that
// two identical findings still get distinct fingerprints.
func TestSARIFFingerprintStable(t *testing.T) {
	fp := func(fs ...validate.Finding) []string {
		doc := parseSARIF(t, write(t, "sarif", report.Options{}, &validate.Report{Findings: fs}))
		var out []string
		for _, res := range doc.Runs[0].Results {
			out = append(out, res.PartialFingerprints["fluxgate/v1"])
		}
		return out
	}
	f := fixture().Findings[1]
	moved := f
	moved.Line += 30
	changed := f
	changed.Message += "!"
	if a, b := fp(f)[0], fp(moved)[0]; a != b {
		t.Errorf("moving a finding changed its fingerprint: %s, %s", a, b)
	}
	if a, b := fp(f)[0], fp(changed)[0]; a == b {
		t.Errorf("a different message kept the fingerprint %s", a)
	}
	if twins := fp(f, moved); twins[0] == twins[1] {
		t.Errorf("identical findings share the fingerprint %s", twins[0])
	}
}

func TestSARIFNoDocURL(t *testing.T) {
	doc := parseSARIF(t, write(t, "sarif", report.Options{}, empty()))
	d := doc.Runs[0].Tool.Driver
	if d.Version != "" {
		t.Errorf("version %q without ToolVersion", d.Version)
	}
	if len(d.Rules) != len(validate.Rules) {
		t.Errorf("%d rules, want %d", len(d.Rules), len(validate.Rules))
	}
	for _, r := range d.Rules {
		if r.HelpURI != "" {
			t.Errorf("rule %q has helpUri %q without RulesDocURL", r.ID, r.HelpURI)
		}
	}
	if doc.Runs[0].Results == nil {
		t.Error("results is null, want []")
	}
}
