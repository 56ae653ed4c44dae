package validate

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render/sops"
)

// RuleSOPSRuleMissing reports .sops.yaml creation rules that do not cover a
// secret file, have no recipient, or leave Secret data in plaintext.
const RuleSOPSRuleMissing = "sops-rule-missing"

// RuleSOPSMAC reports SOPS files whose MAC is missing or no longer
// matches their content.
const RuleSOPSMAC = "sops-mac"

// sopsNameRE matches file names that say they hold SOPS-encrypted data.
var sopsNameRE = regexp.MustCompile(`\.(sops|enc)\.(ya?ml|json|env|ini)$`)

// encValueRE matches a value sops encrypted.
var encValueRE = regexp.MustCompile(`^ENC\[AES256_GCM,data:.*\]$`)

type sopsConfig struct {
	CreationRules []sopsRule `json:"creation_rules"`
}

type sopsRule struct {
	PathRegex         string `json:"path_regex"`
	EncryptedRegex    string `json:"encrypted_regex"`
	UnencryptedRegex  string `json:"unencrypted_regex"`
	EncryptedSuffix   string `json:"encrypted_suffix"`
	UnencryptedSuffix string `json:"unencrypted_suffix"`
	Age               any    `json:"age"`
	PGP               any    `json:"pgp"`
	KMS               any    `json:"kms"`
	GCPKMS            any    `json:"gcp_kms"`
	AzureKV           any    `json:"azure_keyvault"`
	HCVault           any    `json:"hc_vault_transit_uri"`
	KeyGroups         any    `json:"key_groups"`
	line              int
}

func (r sopsRule) hasRecipient() bool {
	for _, v := range []any{r.Age, r.PGP, r.KMS, r.GCPKMS, r.AzureKV, r.HCVault, r.KeyGroups} {
		switch t := v.(type) {
		case string:
			if strings.TrimSpace(t) != "" {
				return true
			}
		case []any:
			if len(t) > 0 {
				return true
			}
		case map[string]any:
			if len(t) > 0 {
				return true
			}
		}
	}
	return false
}

// leavesDataPlain reports whether the rule's regexes would leave a key
// named data or stringData unencrypted.
func (r sopsRule) leavesDataPlain() bool {
	for _, key := range []string{"data", "stringData"} {
		switch {
		case r.EncryptedRegex != "":
			if re, err := regexp.Compile(r.EncryptedRegex); err == nil && !re.MatchString(key) {
				return true
			}
		case r.UnencryptedRegex != "":
			if re, err := regexp.Compile(r.UnencryptedRegex); err == nil && re.MatchString(key) {
				return true
			}
		case r.EncryptedSuffix != "":
			if !strings.HasSuffix(key, r.EncryptedSuffix) {
				return true
			}
		case r.UnencryptedSuffix != "":
			if strings.HasSuffix(key, r.UnencryptedSuffix) {
				return true
			}
		}
	}
	return false
}

// secretFiles checks the repository's secret material beyond the rendered
// objects: files named or configured for SOPS that are not encrypted (or
// only partly), secretGenerator sources in plaintext, Secrets in files
// Flux ignores, and the .sops.yaml creation rules.
func (v *run) secretFiles() {
	cfg, cfgFile := v.sopsConfig()
	var secretPaths []string
	addSecret := func(p string) { secretPaths = append(secretPaths, p) }

	// Every YAML file, including those Flux ignores.
	// Indexed files are judged from the loader's documents; only files
	// Flux ignores, and SOPS-named files without objects, are read again.
	indexed := make(map[string]bool, len(v.repo.Files))
	for _, f := range v.repo.Files {
		indexed[f] = true
	}
	files := append(append([]string(nil), v.repo.Files...), v.repo.Ignored...)
	// JSON manifests: Flux's generated kustomization includes YAML files
	// only, but a kustomization may list a .json file, and any of them is
	// in Git. They are read like ignored files.
	jsonFile := map[string]bool{}
	for _, f := range v.repo.Tree {
		if strings.EqualFold(path.Ext(f), ".json") && !indexed[f] {
			if info, err := fs.Stat(v.repo.FS, f); err == nil && info.Mode().IsRegular() && info.Size() <= fleet.DefaultMaxFileSize {
				jsonFile[f] = true
				files = append(files, f)
			}
		}
	}
	sort.Strings(files)
	for _, f := range files {
		if path.Base(f) == ".sops.yaml" {
			continue // the sops configuration itself
		}
		named := sopsNameRE.MatchString(f) || (cfg != nil && cfg.matches(f) != nil)
		docs := v.repo.DocsInFile(f)
		encrypted := false
		for _, d := range docs {
			if _, ok := d.Object["sops"]; ok {
				encrypted = true
			}
		}
		if !indexed[f] || (len(docs) == 0 && named) {
			data, err := v.repo.ReadFile(f)
			if err != nil {
				continue
			}
			if jsonFile[f] && !named && !bytes.Contains(data, []byte("Secret")) {
				continue // a dashboard, a schema, a package manifest
			}
			encrypted = sops.IsEncrypted(f, data)
			if !indexed[f] {
				docs = parseIgnored(f, data)
			}
		}
		// A file needs a creation rule when it is encrypted or holds a
		// Secret with a value; Secrets of references and variables only
		// are committed as they are.
		hasSecret, needsRule := false, encrypted
		for _, d := range docs {
			if d.Kind == "Secret" {
				hasSecret = true
				needsRule = needsRule || hasPlaintextData(d.Object)
			}
		}
		if needsRule {
			addSecret(f)
		}
		switch {
		case named && !encrypted && (hasSecret || len(docs) == 0):
			v.add(Finding{Rule: RuleSecretNotEncrypted, Severity: SeverityError, File: f, Line: 1,
				Message: "the file is named or configured for SOPS but holds no sops metadata: it is not encrypted"}, nil)
		case encrypted:
			v.checkMAC(f)
			for _, d := range docs {
				if d.Kind != "Secret" {
					continue
				}
				for _, field := range []string{"data", "stringData"} {
					m, _ := d.Object[field].(map[string]any)
					keys := make([]string, 0, len(m))
					for k := range m {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					for _, k := range keys {
						if s, ok := m[k].(string); ok && s != "" && !encValueRE.MatchString(s) {
							v.add(Finding{Rule: RuleSecretNotEncrypted, Severity: SeverityError, File: f,
								Line: v.repo.FieldLine(f, d.Line, []string{field, k}), Object: d.Ref(),
								Message: fmt.Sprintf("%s.%s is in plaintext in a SOPS file (check encrypted_regex)", field, k)}, d.Object)
						}
					}
				}
			}
		}
		// Plaintext Secrets in files Flux ignores are still in Git.
		if !indexed[f] && !encrypted {
			for _, d := range docs {
				if d.Kind == "Secret" && d.APIVersion == "v1" && hasPlaintextData(d.Object) {
					where := "in a file Flux ignores"
					if jsonFile[f] {
						where = "in a JSON file"
					}
					v.add(Finding{Rule: RuleSecretNotEncrypted, Severity: SeverityError, File: f, Line: d.Line, Object: d.Ref(),
						Message: "Secret holds plaintext " + fieldsWithData(d.Object) + " in Git (" + where + "); encrypt it with SOPS or use a SealedSecret or ExternalSecret"}, d.Object)
				}
			}
		}
	}
	v.secretGenerators(addSecret)

	if cfg == nil {
		return
	}
	for _, r := range cfg.CreationRules {
		if !r.hasRecipient() {
			v.add(Finding{Rule: RuleSOPSRuleMissing, Severity: SeverityWarning, File: cfgFile, Line: r.line,
				Message: fmt.Sprintf("creation rule %q has no recipient (age, pgp, kms, gcp_kms, azure_keyvault, hc_vault or key_groups)", r.PathRegex)}, nil)
		}
		if r.leavesDataPlain() {
			v.add(Finding{Rule: RuleSOPSRuleMissing, Severity: SeverityWarning, File: cfgFile, Line: r.line,
				Message: fmt.Sprintf("creation rule %q would leave a Secret's data or stringData in plaintext", r.PathRegex)}, nil)
		}
	}
	sort.Strings(secretPaths)
	seen := map[string]bool{}
	for _, p := range secretPaths {
		if seen[p] {
			continue
		}
		seen[p] = true
		if cfg.matches(p) == nil {
			v.add(Finding{Rule: RuleSOPSRuleMissing, Severity: SeverityWarning, File: p, Line: 1,
				Message: fmt.Sprintf("no creation rule of %s covers this secret file", cfgFile)}, nil)
		}
	}
}

// sopsConfig reads the repository's root .sops.yaml, with each rule's line.
func (v *run) sopsConfig() (*sopsConfig, string) {
	const name = ".sops.yaml"
	data, err := v.repo.ReadFile(name)
	if err != nil {
		return nil, ""
	}
	var cfg sopsConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		v.add(Finding{Rule: RuleYAMLInvalid, Severity: SeverityError, File: name, Line: 1, Message: "invalid .sops.yaml: " + err.Error()}, nil)
		return nil, ""
	}
	lines := strings.Split(string(data), "\n")
	n := 0
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "- ") && n < len(cfg.CreationRules) && i > 0 {
			cfg.CreationRules[n].line = i + 1
			n++
		}
	}
	return &cfg, name
}

// matches returns the first creation rule whose path_regex matches p, as
// sops picks it.
func (c *sopsConfig) matches(p string) *sopsRule {
	for i, r := range c.CreationRules {
		if r.PathRegex == "" {
			return &c.CreationRules[i]
		}
		if re, err := regexp.Compile(r.PathRegex); err == nil && re.MatchString(p) {
			return &c.CreationRules[i]
		}
	}
	return nil
}

type secretGenerator struct {
	Name     string   `json:"name"`
	Literals []string `json:"literals"`
	Files    []string `json:"files"`
	Envs     []string `json:"envs"`
	Env      string   `json:"env"`
}

// secretGenerators reports kustomize secretGenerators that put plaintext
// into Git: literals, and files or env files that are not SOPS-encrypted.
func (v *run) secretGenerators(addSecret func(string)) {
	v.kustomizationFiles(func(f string, data []byte) {
		var k struct {
			SecretGenerator []secretGenerator `json:"secretGenerator"`
		}
		if yaml.Unmarshal(data, &k) != nil {
			return
		}
		dir := path.Dir(f)
		for i, g := range k.SecretGenerator {
			line := v.repo.FieldLine(f, firstLine(data), []string{"secretGenerator", fmt.Sprint(i)})
			if len(g.Literals) > 0 {
				v.add(Finding{Rule: RuleSecretNotEncrypted, Severity: SeverityError, File: f, Line: line, Object: "Secret/" + g.Name,
					Message: fmt.Sprintf("secretGenerator %q has literals: the values are in plaintext in Git", g.Name)}, nil)
			}
			sources := append(append([]string(nil), g.Files...), g.Envs...)
			if g.Env != "" {
				sources = append(sources, g.Env)
			}
			for _, src := range sources {
				if _, file, ok := strings.Cut(src, "="); ok {
					src = file
				}
				p := path.Join(dir, src)
				content, err := v.repo.ReadFile(p)
				if err != nil {
					continue // kustomize reports a missing file
				}
				addSecret(p)
				if !sops.IsEncrypted(p, content) {
					v.add(Finding{Rule: RuleSecretNotEncrypted, Severity: SeverityError, File: f, Line: line, Object: "Secret/" + g.Name,
						Message: fmt.Sprintf("secretGenerator %q reads %s, which is not SOPS-encrypted", g.Name, p)}, nil)
				}
			}
		}
	})
}

func firstLine(data []byte) int {
	for i, l := range strings.Split(string(data), "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") && t != "---" {
			return i + 1
		}
	}
	return 1
}

// parseIgnored parses a file the loader did not index.
func parseIgnored(file string, data []byte) []*fleet.Document {
	docs, _ := fleet.ParseDocuments(file, data)
	return docs
}

// checkMAC reports a SOPS file whose MAC is missing (seen without a key)
// or, with a decryption key that opens it, does not match its content.
// kustomize-controller does not check the MAC and applies such a file, so
// this is a warning: sops itself refuses to decrypt the file, so the next
// `sops` edit fails, and a mismatch means values were changed outside
// sops, which is how a tampered value looks.
func (v *run) checkMAC(f string) {
	data, err := v.repo.ReadFile(f)
	if err != nil {
		return
	}
	line := sops.MetadataLine(f, data)
	if sops.MACMissing(f, data) {
		v.add(Finding{Rule: RuleSOPSMAC, Severity: SeverityWarning, File: f, Line: line,
			Message: "the SOPS metadata has no mac, so sops refuses to decrypt the file (kustomize-controller does not check it); re-encrypt it with sops"}, nil)
		return
	}
	if v.opts.Decryptor == nil {
		return
	}
	if err := v.opts.Decryptor.CheckMAC(f, data); errors.Is(err, sops.ErrMACMismatch) {
		v.add(Finding{Rule: RuleSOPSMAC, Severity: SeverityWarning, File: f, Line: line,
			Message: "the content does not match the SOPS mac: a value or key was changed outside sops (sops refuses to decrypt it; kustomize-controller applies it); check the change and re-encrypt with sops"}, nil)
	}
}
