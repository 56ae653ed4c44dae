package promote

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"

	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/fleet"
)

// ConfigFile is the repository's fluxgate configuration file.
const ConfigFile = ".fluxgate.yaml"

// LoadConfig reads the promotions: list of .fluxgate.yaml at the root of
// fsys (other top-level keys belong to other commands and are not read).
// A missing file or key is no promotions. Each promotion needs a unique
// name, a from and a to, and valid globs.
func LoadConfig(fsys fs.FS) ([]Promotion, error) {
	data, err := fleet.ReadRegularFile(fsys, ConfigFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ConfigFile, err)
	}
	var top map[string]json.RawMessage
	if err := yaml.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	raw, ok := top["promotions"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var ps []Promotion
	if err := yaml.UnmarshalStrict(raw, &ps); err != nil {
		return nil, fmt.Errorf("%s: promotions: %w", ConfigFile, err)
	}
	seen := map[string]bool{}
	for i, p := range ps {
		where := fmt.Sprintf("%s: promotions[%d]", ConfigFile, i)
		if p.Name == "" {
			return nil, fmt.Errorf("%s: needs a name", where)
		}
		where = fmt.Sprintf("%s: promotion %s", ConfigFile, p.Name)
		if seen[p.Name] {
			return nil, fmt.Errorf("%s: declared twice", where)
		}
		seen[p.Name] = true
		if p.From == "" || p.To == "" {
			return nil, fmt.Errorf("%s: needs from and to", where)
		}
		for _, globs := range [][]string{p.Images, p.Charts, p.Files, p.Exclude, p.Vars} {
			for _, g := range globs {
				if _, err := path.Match(g, ""); err != nil {
					return nil, fmt.Errorf("%s: bad glob %q: %w", where, g, err)
				}
			}
		}
	}
	return ps, nil
}

// Find returns the promotion named name.
func Find(ps []Promotion, name string) (Promotion, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return Promotion{}, false
}
