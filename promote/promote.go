package promote

import "github.com/fluxgate/fluxgate/fleet"

// Promotion names what moves from one environment to another.
type Promotion struct {
	// Name identifies the promotion (its bot branch is promote/<Name>).
	Name string `json:"name"`
	// From and To are overlay directories relative to the repository
	// root, or environment names ("staging") that match every pair of
	// sibling directories so named (apps/staging and apps/production).
	From string `json:"from"`
	To   string `json:"to"`
	// Images are globs of image names whose tags and digests move.
	Images []string `json:"images,omitempty"`
	// Charts are names of HelmReleases, OCIRepositories and HelmCharts
	// whose chart versions move ("*" for all).
	Charts []string `json:"charts,omitempty"`
	// Files are globs of files, relative to From, copied verbatim to the
	// same place under To; Exclude keeps environment-specific ones out.
	Files   []string `json:"files,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
	// Vars are postBuild substitute keys whose values move.
	Vars []string `json:"vars,omitempty"`
	// Labels and Reviewers are set on the promotion's pull request.
	Labels    []string `json:"labels,omitempty"`
	Reviewers []string `json:"reviewers,omitempty"`
}

// Kinds of a Change.
const (
	KindImage = "image"
	KindChart = "chart"
	KindVar   = "var"
	KindFile  = "file"
)

// Change is one scalar a promotion edits in the target environment, or
// one file it copies there (Kind file, Path empty).
type Change struct {
	Kind string `json:"kind"`
	// File and Line locate the scalar; Path is its YAML path in the
	// document (spec.chart.spec.version, images[1].newTag).
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Path string `json:"path,omitempty"`
	// Object is the edited object as Kind/namespace/name.
	Object string `json:"object,omitempty"`
	// Old and New are the scalar's value before and after.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// Why says what moves and where New comes from (the source
	// environment's file and line).
	Why string `json:"why"`
	// Downgrade is set when New is an older semantic version than Old;
	// Order says why the order is unknown when it cannot be told
	// (a digest, a version that is not semver).
	Downgrade bool   `json:"downgrade,omitempty"`
	Order     string `json:"order,omitempty"`
}

// FileEdit is one target file's content before and after the promotion;
// Before is nil for a file the promotion creates.
type FileEdit struct {
	Path          string
	Before, After []byte
}

// Plan is what one promotion changes.
type Plan struct {
	Promotion Promotion `json:"promotion"`
	// Pairs are the source and target directories compared.
	Pairs   [][2]string `json:"pairs"`
	Changes []Change    `json:"changes"`
	// Edits are the target files as the changes leave them.
	Edits []FileEdit `json:"-"`
	// Problems are findings met while planning (a version the source
	// pins twice with different values, a field that cannot be edited).
	Problems []fleet.Problem `json:"problems,omitempty"`
}

// Downgrades are the changes that move a version backwards.
func (p *Plan) Downgrades() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Downgrade {
			out = append(out, c)
		}
	}
	return out
}
