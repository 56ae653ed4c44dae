package imageupdate_test

import (
	"fmt"
	"log"

	imagev1 "github.com/fluxcd/image-reflector-controller/api/v1"

	"github.com/fluxgate/fluxgate/imageupdate"
)

// ExampleSelectTag picks the newest build of the main branch by the Unix
// timestamp at the end of its tag, after dropping signature tags the way an
// ImageRepository's default exclusion list does.
func ExampleSelectTag() {
	listed := []string{
		"main-3f2a1bc-1612345678",
		"main-9e8d7c6-1612349999",
		"feature-x-1a2b3c4-1619999999",
		"sha256-5d1e0f.sig",
		"v1.4.0",
	}
	tags, err := imageupdate.ExcludeTags(listed, nil)
	if err != nil {
		log.Fatal(err)
	}

	spec := imagev1.ImagePolicySpec{
		FilterTags: &imagev1.TagFilter{
			Pattern: `^main-[a-f0-9]+-(?P<ts>[0-9]+)$`,
			Extract: "$ts",
		},
		Policy: imagev1.ImagePolicyChoice{
			Numerical: &imagev1.NumericalPolicy{Order: "asc"},
		},
	}
	tag, err := imageupdate.SelectTag(spec, tags)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tag)
	// Output:
	// main-9e8d7c6-1612349999
}
