package imageupdate

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	imagev1 "github.com/fluxcd/image-reflector-controller/api/v1"
	"go.yaml.in/yaml/v3"
)

// FuzzSelectTag: any policy and tag list selects without a panic, and a
// tag it selects is one of the tags given (or, with an extract template,
// the tag it came from).
func FuzzSelectTag(f *testing.F) {
	f.Add("semver", ">=1.0.0 <2.0.0", "", "", "1.0.0,1.2.3,2.0.0,v1.5.0,latest")
	f.Add("alphabetical", "desc", "^main-(?P<ts>[0-9]+)$", "$ts", "main-1,main-20,dev-3")
	f.Add("numerical", "asc", "", "", "1,10,2,x")
	f.Add("semver", "~1.2", "^(?P<v>.*)-rc$", "${v}", "1.2.3-rc,1.2.4-rc")
	f.Fuzz(func(t *testing.T, kind, arg, pattern, extract, tagList string) {
		var spec imagev1.ImagePolicySpec
		switch kind {
		case "semver":
			spec.Policy.SemVer = &imagev1.SemVerPolicy{Range: arg}
		case "alphabetical":
			spec.Policy.Alphabetical = &imagev1.AlphabeticalPolicy{Order: arg}
		case "numerical":
			spec.Policy.Numerical = &imagev1.NumericalPolicy{Order: arg}
		}
		if pattern != "" || extract != "" {
			spec.FilterTags = &imagev1.TagFilter{Pattern: pattern, Extract: extract}
		}
		tags := strings.Split(tagList, ",")
		got, err := SelectTag(spec, tags)
		if err != nil {
			var invalid *InvalidPolicyError
			_ = errors.As(err, &invalid)
			return
		}
		for _, tag := range tags {
			if tag == got {
				return
			}
		}
		t.Fatalf("selected %q, which is not among %q", got, tags)
	})
}

// FuzzPlanSetters: any file with a setter marker is planned without a
// panic or an error (bad input is a FileProblem), and every edit reads
// back as YAML.
func FuzzPlanSetters(f *testing.F) {
	f.Add("image: ghcr.io/org/app:1.0.0 # {\"$imagepolicy\": \"flux-system:app\"}\n")
	f.Add("spec:\n  tag: 1.0 # {\"$imagepolicy\": \"flux-system:app:tag\"}\n  name: x # {\"$imagepolicy\": \"flux-system:app:name\"}\n")
	f.Add("a: |\n  x # {\"$imagepolicy\": \"flux-system:app\"}\n")
	f.Add("? # {\"$imagepolicy\": \"flux-system:app\"}\n: v\n")
	f.Add("- 'q' # {\"$imagepolicy\": \"flux-system:missing\"}\n")
	f.Fuzz(func(t *testing.T, file string) {
		fsys := fstest.MapFS{"apps/app.yaml": &fstest.MapFile{Data: []byte(file)}}
		policies := map[string]ImageRef{"flux-system:app": {Name: "ghcr.io/org/app", Tag: "1.2.3", Digest: "sha256:" + strings.Repeat("a", 64)}}
		plan, err := PlanSetters(fsys, "", policies)
		if err != nil {
			t.Fatalf("PlanSetters: %v", err)
		}
		for _, e := range plan.Edits {
			if !bytes.Equal(e.Before, []byte(file)) {
				t.Fatalf("the edit of %s starts from other bytes than the file's", e.Path)
			}
			var before, after yaml.Node
			if yaml.Unmarshal(e.Before, &before) == nil {
				if err := yaml.Unmarshal(e.After, &after); err != nil {
					t.Fatalf("the edited file no longer parses: %v\n%s", err, e.After)
				}
			}
		}
	})
}
