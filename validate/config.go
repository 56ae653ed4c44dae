package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/fleet"
)

// ConfigFile is the repository's fluxgate configuration file.
const ConfigFile = ".fluxgate.yaml"

// IgnoreRule silences a rule for the files matching a path glob ("**"
// spans directories, "*" stays within one). An empty Rule matches every
// rule; an empty Path every file.
type IgnoreRule struct {
	Rule string `json:"rule"`
	Path string `json:"path"`
	// Reason documents why; it is not used.
	Reason string `json:"reason,omitempty"`
}

// Config is the content of .fluxgate.yaml. docs/fluxgate.schema.json is
// its JSON schema, for editors.
type Config struct {
	Ignore []IgnoreRule `json:"ignore"`
	// Severity sets a rule's severity: error, warning, info, or ignore to
	// drop its findings (Options.Severity).
	Severity map[string]string `json:"severity,omitempty"`
	// SkipKinds and SkipRules add to --skip-kinds and --skip-rules;
	// LoadConfig adds SkipRules to Ignore.
	SkipKinds []string `json:"skipKinds,omitempty"`
	SkipRules []string `json:"skipRules,omitempty"`
	// Defaults holds per command the default values of its flags, by flag
	// name ("validate": {"fail-on": "warning"}); a flag given on the
	// command line wins. The command line reads them (cmd/fluxgate).
	Defaults map[string]map[string]any `json:"defaults,omitempty"`
	// Promotions is read by package promote; validate accepts the key and
	// leaves its content alone.
	Promotions json.RawMessage `json:"promotions,omitempty"`
}

// LoadConfig reads .fluxgate.yaml from the repository root; a missing file
// is an empty configuration.
func LoadConfig(fsys fs.FS) (*Config, error) {
	data, err := fleet.ReadRegularFile(fsys, ConfigFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &Config{}, nil
		}
		return nil, fmt.Errorf("read %s: %w", ConfigFile, err)
	}
	var c Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	for i, r := range c.Ignore {
		if r.Rule == "" && r.Path == "" {
			return nil, fmt.Errorf("%s: ignore[%d] needs a rule, a path or both", ConfigFile, i)
		}
		if r.Rule != "" {
			if _, ok := RuleByID(r.Rule); !ok {
				return nil, fmt.Errorf("%s: ignore[%d]: unknown rule %q", ConfigFile, i, r.Rule)
			}
		}
		if _, err := globRE(r.Path); err != nil {
			return nil, fmt.Errorf("%s: ignore[%d]: bad path %q: %w", ConfigFile, i, r.Path, err)
		}
	}
	for rule, sev := range c.Severity {
		if _, ok := RuleByID(rule); !ok {
			return nil, fmt.Errorf("%s: severity: unknown rule %q", ConfigFile, rule)
		}
		switch sev {
		case SeverityError, SeverityWarning, SeverityInfo, SeverityIgnore:
		default:
			return nil, fmt.Errorf("%s: severity of %s: %q is not error, warning, info or ignore", ConfigFile, rule, sev)
		}
	}
	if err := CheckSkipKinds(c.SkipKinds); err != nil {
		return nil, fmt.Errorf("%s: skipKinds: %w", ConfigFile, err)
	}
	skip, err := SkipRules(c.SkipRules)
	if err != nil {
		return nil, fmt.Errorf("%s: skipRules: %w", ConfigFile, err)
	}
	c.Ignore = append(c.Ignore, skip...)
	return &c, nil
}

// SeverityIgnore, as a rule's severity in .fluxgate.yaml, drops its findings.
const SeverityIgnore = "ignore"

// SkipRules turns rule IDs (--skip-rules) into ignore rules for every
// file. An unknown ID is an error that lists the known ones.
func SkipRules(ids []string) ([]IgnoreRule, error) {
	var out []IgnoreRule
	for _, id := range ids {
		if _, ok := RuleByID(id); !ok {
			var known []string
			for _, r := range Rules {
				known = append(known, r.ID)
			}
			return nil, fmt.Errorf("--skip-rules: unknown rule %q (known: %s)", id, strings.Join(known, ", "))
		}
		out = append(out, IgnoreRule{Rule: id, Reason: "--skip-rules"})
	}
	return out, nil
}

func ignoredByConfig(rules []IgnoreRule, f Finding) bool {
	for _, r := range rules {
		if r.Rule != "" && r.Rule != f.Rule {
			continue
		}
		if r.Path == "" {
			return true
		}
		re, err := globRE(r.Path)
		if err == nil && re.MatchString(path.Clean(f.File)) {
			return true
		}
	}
	return false
}

// globRE turns a path glob into a regular expression: "**/" matches any
// number of directories, "**" anything, "*" and "?" stay within a path
// segment.
func globRE(glob string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		switch {
		case strings.HasPrefix(glob[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(glob[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}
