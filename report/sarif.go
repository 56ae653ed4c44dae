package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/fluxgate/fluxgate/validate"
)

// SARIF constants, as GitHub code scanning reads them.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	// sarifInformationURI is fluxgate's home page.
	sarifInformationURI = "https://github.com/fluxgate/fluxgate"
	// sarifSrcRoot is the uriBaseId of every location: the root of the
	// checkout (Options.PathPrefix), declared in originalUriBaseIds.
	sarifSrcRoot = "SRCROOT"
	// sarifFingerprint is the partialFingerprints key; bump its version if
	// the fingerprint's recipe ever changes.
	sarifFingerprint = "fluxgate/v1"
)

// sarifWriter writes a SARIF 2.1.0 log with one run, for GitHub code
// scanning. The driver lists every rule in validate.Rules, in that order,
// followed by any other rule a finding names.
type sarifWriter struct {
	version     string
	rulesDocURL string
	prefix      string // Options.PathPrefix
	rootURI     string // Options.SourceRootURI
}

var _ Writer = sarifWriter{}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool sarifTool `json:"tool"`
	// OriginalURIBaseIDs declares SRCROOT, the base of every location.
	OriginalURIBaseIDs map[string]sarifBase `json:"originalUriBaseIds,omitempty"`
	Results            []sarifResult        `json:"results"`
}

// sarifBase is an originalUriBaseIds entry: an absolute URI when known,
// and what it stands for.
type sarifBase struct {
	URI         string     `json:"uri,omitempty"`
	Description *sarifText `json:"description,omitempty"`
}

// sarifBases is the originalUriBaseIds of a run whose root is uri (empty:
// unknown, left to the consumer).
func sarifBases(uri string) map[string]sarifBase {
	return map[string]sarifBase{sarifSrcRoot: {URI: uri, Description: &sarifText{"The root of the repository's checkout; every location is relative to it."}}}
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	Name                 string       `json:"name"`
	ShortDescription     sarifText    `json:"shortDescription"`
	FullDescription      sarifText    `json:"fullDescription"`
	Help                 *sarifText   `json:"help,omitempty"`
	HelpURI              string       `json:"helpUri,omitempty"`
	DefaultConfiguration sarifDefault `json:"defaultConfiguration"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifDefault struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

func (s sarifWriter) Write(w io.Writer, r *validate.Report) error {
	if r == nil {
		return errNilReport
	}
	fs := rebase(sorted(r), s.prefix)
	driver := sarifDriver{Name: "fluxgate", Version: s.version, InformationURI: sarifInformationURI}
	index := map[string]int{}
	addRule := func(rule sarifRule) {
		index[rule.ID] = len(driver.Rules)
		driver.Rules = append(driver.Rules, rule)
	}
	for _, ri := range validate.Rules {
		if _, dup := index[ri.ID]; dup {
			continue
		}
		rule := sarifRule{
			ID:                   ri.ID,
			Name:                 sarifRuleName(ri.ID),
			ShortDescription:     sarifText{ri.Summary},
			FullDescription:      sarifText{strings.TrimSpace(ri.Summary + " " + ri.Fix)},
			DefaultConfiguration: sarifDefault{sarifLevel(ri.Severity)},
		}
		if ri.Fix != "" {
			rule.Help = &sarifText{ri.Fix}
		}
		if s.rulesDocURL != "" {
			rule.HelpURI = s.rulesDocURL + ri.ID
		}
		addRule(rule)
	}
	for _, f := range fs {
		if _, ok := index[f.Rule]; ok {
			continue
		}
		desc := "Findings of rule " + strconv.Quote(f.Rule) + "."
		addRule(sarifRule{
			ID:                   f.Rule,
			Name:                 sarifRuleName(f.Rule),
			ShortDescription:     sarifText{desc},
			FullDescription:      sarifText{desc},
			DefaultConfiguration: sarifDefault{sarifLevel(f.Severity)},
		})
	}

	results := []sarifResult{} // [] rather than null
	seen := map[string]int{}
	for _, f := range fs {
		msg := objectMessage(f)
		if msg == "" {
			msg = f.Rule
		}
		fp := sarifFingerprintOf(f)
		seen[fp]++
		results = append(results, sarifResult{
			RuleID:    f.Rule,
			RuleIndex: index[f.Rule],
			Level:     sarifLevel(f.Severity),
			Message:   sarifText{msg},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: sarifURI(f.File), URIBaseID: sarifSrcRoot},
				Region:           sarifRegion{StartLine: max(f.Line, 1)},
			}}},
			// Identical findings in one file are told apart by their
			// occurrence, as GitHub does for its own line hashes.
			PartialFingerprints: map[string]string{sarifFingerprint: fp + ":" + strconv.Itoa(seen[fp])},
		})
	}

	out := sarifLog{
		Schema:  sarifSchema,
		Version: sarifVersion,
		Runs:    []sarifRun{{Tool: sarifTool{Driver: driver}, OriginalURIBaseIDs: sarifBases(s.rootURI), Results: results}},
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	return flush(w, &b)
}

// sarifLevel maps a severity to a SARIF level: error, warning or note.
func sarifLevel(severity string) string {
	switch severity {
	case validate.SeverityError:
		return "error"
	case validate.SeverityWarning:
		return "warning"
	}
	return "note"
}

// sarifRuleName turns a rule ID into the PascalCase name SARIF suggests:
// "schema-invalid" becomes "SchemaInvalid".
func sarifRuleName(id string) string {
	var b strings.Builder
	for part := range strings.FieldsFuncSeq(id, func(r rune) bool { return r == '-' || r == '_' || r == ' ' }) {
		b.WriteString(strings.ToUpper(part[:1]))
		b.WriteString(part[1:])
	}
	if b.Len() == 0 {
		return id
	}
	return b.String()
}

// sarifFingerprintOf hashes what identifies a finding apart from its line,
// so that an alert survives edits that move it.
func sarifFingerprintOf(f validate.Finding) string {
	h := sha256.New()
	for _, s := range []string{f.Rule, f.File, f.Object, f.Message} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// sarifURI turns a checkout-relative path into a relative URI reference:
// forward slashes, no leading "./" or "/", percent-encoded where a URI
// needs it. A finding without a file points at the repository root, since
// GitHub rejects results without a location.
func sarifURI(file string) string {
	p := strings.ReplaceAll(file, `\`, "/")
	for {
		trimmed := strings.TrimPrefix(strings.TrimPrefix(p, "./"), "/")
		if trimmed == p {
			break
		}
		p = trimmed
	}
	if p == "" {
		return "."
	}
	u := (&url.URL{Path: p}).EscapedPath()
	if first, _, _ := strings.Cut(u, "/"); strings.Contains(first, ":") {
		u = "./" + u // not to be read as a scheme
	}
	return u
}
