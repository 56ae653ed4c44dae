package imageupdate

import (
	"errors"
	"strings"
	"testing"

	imagev1 "github.com/fluxcd/image-reflector-controller/api/v1"
	"github.com/google/go-cmp/cmp"
)

// Error kinds a selection can end in.
const (
	errNone    = ""
	errInvalid = "invalid"  // *InvalidPolicyError
	errNoMatch = "no-match" // wraps ErrNoTagMatches
	errOther   = "other"    // any other error
)

func errKind(err error) string {
	var invalid *InvalidPolicyError
	switch {
	case err == nil:
		return errNone
	case errors.As(err, &invalid):
		return errInvalid
	case errors.Is(err, ErrNoTagMatches):
		return errNoMatch
	default:
		return errOther
	}
}

// selection is what a SelectTag call ends in, compared as a whole.
type selection struct {
	Tag string
	Err string
}

func semverSpec(r string) imagev1.ImagePolicySpec {
	return imagev1.ImagePolicySpec{Policy: imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: r}}}
}

func alphabeticalSpec(order string) imagev1.ImagePolicySpec {
	return imagev1.ImagePolicySpec{Policy: imagev1.ImagePolicyChoice{Alphabetical: &imagev1.AlphabeticalPolicy{Order: order}}}
}

func numericalSpec(order string) imagev1.ImagePolicySpec {
	return imagev1.ImagePolicySpec{Policy: imagev1.ImagePolicyChoice{Numerical: &imagev1.NumericalPolicy{Order: order}}}
}

func withFilter(spec imagev1.ImagePolicySpec, pattern, extract string) imagev1.ImagePolicySpec {
	spec.FilterTags = &imagev1.TagFilter{Pattern: pattern, Extract: extract}
	return spec
}

func runSelectTests(t *testing.T, tests []selectTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tag, err := SelectTag(tt.spec, tt.tags)
			got := selection{Tag: tag, Err: errKind(err)}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SelectTag(%v) mismatch (-want +got):\n%s\nerror: %v", tt.tags, diff, err)
			}
		})
	}
}

type selectTest struct {
	name string
	spec imagev1.ImagePolicySpec
	tags []string
	want selection
}

func TestSelectTagSemver(t *testing.T) {
	runSelectTests(t, []selectTest{
		{
			name: "greatest release in range, pre-release left out",
			spec: semverSpec(">=1.0.0"),
			tags: []string{"1.0.0", "1.1.0", "2.0.0-rc.1", "1.2.0"},
			want: selection{Tag: "1.2.0"},
		},
		{
			name: "range with a pre-release admits pre-releases",
			spec: semverSpec(">=1.0.0-0"),
			tags: []string{"1.0.0", "1.1.0", "2.0.0-rc.1", "1.2.0"},
			want: selection{Tag: "2.0.0-rc.1"},
		},
		{
			name: "release beats its own pre-release",
			spec: semverSpec(">=1.0.0-0"),
			tags: []string{"2.0.0-rc.2", "2.0.0", "2.0.0-rc.10"},
			want: selection{Tag: "2.0.0"},
		},
		{
			name: "tilde minor range",
			spec: semverSpec("~1.2"),
			tags: []string{"1.1.5", "1.2.0", "1.2.9", "1.3.0"},
			want: selection{Tag: "1.2.9"},
		},
		{
			name: "caret major range",
			spec: semverSpec("^1"),
			tags: []string{"0.9.0", "1.0.0", "1.9.3", "2.0.0"},
			want: selection{Tag: "1.9.3"},
		},
		{
			name: "x wildcard",
			spec: semverSpec("1.x"),
			tags: []string{"1.0.0", "1.5.0", "2.1.0"},
			want: selection{Tag: "1.5.0"},
		},
		{
			name: "leading v accepted and returned as written",
			spec: semverSpec(">=1.0.0"),
			tags: []string{"v1.0.0", "v1.2.0", "1.1.0"},
			want: selection{Tag: "v1.2.0"},
		},
		{
			name: "versions without patch, words and bare majors skipped",
			spec: semverSpec(">=1.0.0"),
			tags: []string{"1.2", "v2", "latest", "1.1.0", "main-abc123", "v3.0"},
			want: selection{Tag: "1.1.0"},
		},
		{
			name: "major.minor-pre.n parses as major.minor.0-pre.n, as fluxcd/pkg/version",
			spec: semverSpec(">=1.0.0-0"),
			tags: []string{"1.2-beta.5", "1.1.0", "1.3-beta"},
			want: selection{Tag: "1.2-beta.5"},
		},
		{
			name: "four segments skipped",
			spec: semverSpec(">=1.0.0"),
			tags: []string{"1.2.3.4", "1.0.0"},
			want: selection{Tag: "1.0.0"},
		},
		{
			name: "leading zeros accepted (calendar versions)",
			spec: semverSpec(">=2025.1.1"),
			tags: []string{"v2025.06.30", "v2025.07.03", "v2024.12.31"},
			want: selection{Tag: "v2025.07.03"},
		},
		{
			name: "equal versions with and without v: the byte-wise greater wins",
			spec: semverSpec(">=1.0.0"),
			tags: []string{"1.2.3", "v1.2.3"},
			want: selection{Tag: "v1.2.3"},
		},
		{
			name: "equal versions with and without v, other input order",
			spec: semverSpec(">=1.0.0"),
			tags: []string{"v1.2.3", "1.2.3"},
			want: selection{Tag: "v1.2.3"},
		},
		{
			name: "build metadata does not order: the byte-wise greater wins",
			spec: semverSpec(">=1.0.0"),
			tags: []string{"1.0.0+a", "1.0.0+b", "0.9.0"},
			want: selection{Tag: "1.0.0+b"},
		},
		{
			name: "OR range",
			spec: semverSpec("<1.0.0 || >=3.0.0 <3.1.0"),
			tags: []string{"0.5.0", "2.0.0", "3.0.4", "3.1.0"},
			want: selection{Tag: "3.0.4"},
		},
		{
			name: "no tag in range",
			spec: semverSpec(">=3.0.0"),
			tags: []string{"1.0.0", "latest", "2.9.9"},
			want: selection{Err: errNoMatch},
		},
		{
			name: "only pre-releases and a release-only range",
			spec: semverSpec(">=1.0.0"),
			tags: []string{"1.1.0-rc.1", "1.2.0-beta"},
			want: selection{Err: errNoMatch},
		},
		{
			name: "semver takes precedence when several kinds are set, as upstream",
			spec: imagev1.ImagePolicySpec{Policy: imagev1.ImagePolicyChoice{
				SemVer:       &imagev1.SemVerPolicy{Range: "<2.0.0"},
				Alphabetical: &imagev1.AlphabeticalPolicy{},
				Numerical:    &imagev1.NumericalPolicy{},
			}},
			tags: []string{"1.0.0", "1.5.0", "2.0.0", "zzz"},
			want: selection{Tag: "1.5.0"},
		},
	})
}

func TestSelectTagAlphabetical(t *testing.T) {
	releases := []string{
		"RELEASE.2021-01-10T00-00-00Z",
		"RELEASE.2021-12-01T23-59-59Z",
		"RELEASE.2021-02-03T10-20-30Z",
	}
	runSelectTests(t, []selectTest{
		{
			name: "default order is asc: last in sort order",
			spec: alphabeticalSpec(""),
			tags: releases,
			want: selection{Tag: "RELEASE.2021-12-01T23-59-59Z"},
		},
		{
			name: "asc",
			spec: alphabeticalSpec("asc"),
			tags: releases,
			want: selection{Tag: "RELEASE.2021-12-01T23-59-59Z"},
		},
		{
			name: "desc: first in sort order",
			spec: alphabeticalSpec("desc"),
			tags: releases,
			want: selection{Tag: "RELEASE.2021-01-10T00-00-00Z"},
		},
		{
			name: "order is case-insensitive",
			spec: alphabeticalSpec("DeSc"),
			tags: releases,
			want: selection{Tag: "RELEASE.2021-01-10T00-00-00Z"},
		},
		{
			name: "byte-wise comparison: lower case sorts after upper case",
			spec: alphabeticalSpec("asc"),
			tags: []string{"Zulu", "alpha", "Bravo"},
			want: selection{Tag: "alpha"},
		},
		{
			name: "byte-wise comparison: 9 sorts after 10",
			spec: alphabeticalSpec("asc"),
			tags: []string{"10", "9"},
			want: selection{Tag: "9"},
		},
		{
			name: "unknown order",
			spec: alphabeticalSpec("newest"),
			tags: releases,
			want: selection{Err: errInvalid},
		},
	})
}

func TestSelectTagNumerical(t *testing.T) {
	runSelectTests(t, []selectTest{
		{
			name: "default order is asc: the largest number",
			spec: numericalSpec(""),
			tags: []string{"1", "10", "9", "2"},
			want: selection{Tag: "10"},
		},
		{
			name: "desc: the smallest number",
			spec: numericalSpec("desc"),
			tags: []string{"1", "10", "9", "2"},
			want: selection{Tag: "1"},
		},
		{
			name: "floats and negatives asc",
			spec: numericalSpec("asc"),
			tags: []string{"1.5", "1.25", "-3", "0"},
			want: selection{Tag: "1.5"},
		},
		{
			name: "floats and negatives desc",
			spec: numericalSpec("desc"),
			tags: []string{"1.5", "1.25", "-3", "0"},
			want: selection{Tag: "-3"},
		},
		{
			name: "negative numbers only",
			spec: numericalSpec("ASC"),
			tags: []string{"-1", "-10", "-2"},
			want: selection{Tag: "-1"},
		},
		{
			name: "exponent notation parses as float64",
			spec: numericalSpec("asc"),
			tags: []string{"999", "1e3"},
			want: selection{Tag: "1e3"},
		},
		{
			name: "equal numbers: the byte-wise smallest wins, as upstream",
			spec: numericalSpec("asc"),
			tags: []string{"1", "1.0", "01"},
			want: selection{Tag: "01"},
		},
		{
			name: "a non-numeric tag fails the policy, as upstream",
			spec: numericalSpec("asc"),
			tags: []string{"1", "2", "latest"},
			want: selection{Err: errOther},
		},
		{
			name: "unknown order",
			spec: numericalSpec("largest"),
			tags: []string{"1"},
			want: selection{Err: errInvalid},
		},
	})
}

func TestSelectTagFilterTags(t *testing.T) {
	builds := []string{
		"main-abc123-1612345678",
		"main-def456-1612345999",
		"main-0a1b2c-1612340000",
		"dev-aaa111-1712345678",
		"latest",
	}
	runSelectTests(t, []selectTest{
		{
			name: "extract the timestamp, compare numerically, return the tag",
			spec: withFilter(numericalSpec("asc"), `^main-[a-f0-9]+-(?P<ts>[0-9]+)$`, "$ts"),
			tags: builds,
			want: selection{Tag: "main-def456-1612345999"},
		},
		{
			name: "extract the timestamp, oldest first",
			spec: withFilter(numericalSpec("desc"), `^main-[a-f0-9]+-(?P<ts>[0-9]+)$`, "$ts"),
			tags: builds,
			want: selection{Tag: "main-0a1b2c-1612340000"},
		},
		{
			name: "numbered group",
			spec: withFilter(numericalSpec("asc"), `^[a-z]+-[a-f0-9]+-([0-9]+)$`, "${1}"),
			tags: builds,
			want: selection{Tag: "dev-aaa111-1712345678"},
		},
		{
			name: "greedy named group",
			spec: withFilter(alphabeticalSpec("asc"), `^main-(?P<ts>.*)`, "$ts"),
			tags: builds,
			want: selection{Tag: "main-def456-1612345999"},
		},
		{
			name: "pattern without extract compares the tags themselves",
			spec: withFilter(semverSpec(">=1.0.0-0"), `-rc\.`, ""),
			tags: []string{"1.0.0", "1.1.0-rc.1", "1.1.0-rc.2", "1.2.0-beta.1"},
			want: selection{Tag: "1.1.0-rc.2"},
		},
		{
			name: "extract a version out of a prefixed tag",
			spec: withFilter(semverSpec("^1"), `^app-(?P<version>.*)$`, "$version"),
			tags: []string{"app-1.2.0", "app-1.10.0", "app-2.0.0", "1.99.0"},
			want: selection{Tag: "app-1.10.0"},
		},
		{
			name: "tags extracting to the same value collapse to the byte-wise smallest",
			spec: withFilter(semverSpec("<1.1.0"), `^(?P<v>[0-9.]+)-(amd64|arm64)$`, "$v"),
			tags: []string{"1.0.0-arm64", "1.0.0-amd64", "1.1.0-arm64"},
			want: selection{Tag: "1.0.0-amd64"},
		},
		{
			name: "pattern matches no tag",
			spec: withFilter(numericalSpec("asc"), `^release-(?P<ts>[0-9]+)$`, "$ts"),
			tags: builds,
			want: selection{Err: errNoMatch},
		},
		{
			name: "extract without pattern: every tag extracts to the empty string",
			spec: withFilter(alphabeticalSpec("asc"), "", "$ts"),
			tags: []string{"b", "c", "a"},
			want: selection{Tag: "a"},
		},
		{
			name: "extract without pattern under semver matches nothing",
			spec: withFilter(semverSpec(">=0.0.0"), "", "$ts"),
			tags: []string{"1.0.0", "2.0.0"},
			want: selection{Err: errNoMatch},
		},
		{
			name: "extract naming no group yields a non-number",
			spec: withFilter(numericalSpec("asc"), `^main-`, "$ts"),
			tags: builds,
			want: selection{Err: errOther},
		},
		{
			name: "empty filter keeps every tag",
			spec: withFilter(semverSpec("*"), "", ""),
			tags: []string{"1.0.0", "1.2.0", "latest"},
			want: selection{Tag: "1.2.0"},
		},
	})
}

func TestSelectTagInvalid(t *testing.T) {
	runSelectTests(t, []selectTest{
		{
			name: "bad semver range",
			spec: semverSpec("not a range"),
			tags: []string{"1.0.0"},
			want: selection{Err: errInvalid},
		},
		{
			name: "empty semver range",
			spec: semverSpec(""),
			tags: []string{"1.0.0"},
			want: selection{Err: errInvalid},
		},
		{
			name: "bad filter pattern",
			spec: withFilter(alphabeticalSpec(""), `^main-(`, ""),
			tags: []string{"main-1"},
			want: selection{Err: errInvalid},
		},
		{
			name: "no policy kind",
			spec: imagev1.ImagePolicySpec{},
			tags: []string{"1.0.0"},
			want: selection{Err: errInvalid},
		},
		{
			name: "an invalid policy is reported even without tags",
			spec: withFilter(alphabeticalSpec(""), `(`, ""),
			tags: nil,
			want: selection{Err: errInvalid},
		},
		{
			name: "empty tag list",
			spec: alphabeticalSpec(""),
			tags: []string{},
			want: selection{Err: errNoMatch},
		},
		{
			name: "nil tag list",
			spec: semverSpec(">=0.0.0"),
			tags: nil,
			want: selection{Err: errNoMatch},
		},
	})
}

func TestInvalidPolicyErrorNamesTheField(t *testing.T) {
	tests := []struct {
		name string
		spec imagev1.ImagePolicySpec
		want string
	}{
		{name: "semver range", spec: semverSpec("not a range"), want: `spec.policy.semver.range "not a range"`},
		{name: "alphabetical order", spec: alphabeticalSpec("up"), want: `spec.policy.alphabetical.order "up"`},
		{name: "numerical order", spec: numericalSpec("up"), want: `spec.policy.numerical.order "up"`},
		{name: "pattern", spec: withFilter(numericalSpec(""), "(", ""), want: `spec.filterTags.pattern "("`},
		{name: "no policy", spec: imagev1.ImagePolicySpec{}, want: "spec.policy sets none of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SelectTag(tt.spec, []string{"1"})
			var invalid *InvalidPolicyError
			if !errors.As(err, &invalid) {
				t.Fatalf("SelectTag() error = %v, want *InvalidPolicyError", err)
			}
			if !strings.Contains(invalid.Reason, tt.want) {
				t.Errorf("Reason = %q, want it to contain %q", invalid.Reason, tt.want)
			}
		})
	}
}

func TestSelectTagDoesNotModifyTags(t *testing.T) {
	tags := []string{"1.0.0", "3.0.0", "2.0.0"}
	if _, err := SelectTag(semverSpec("*"), tags); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1.0.0", "3.0.0", "2.0.0"}, tags); diff != "" {
		t.Errorf("tags modified (-want +got):\n%s", diff)
	}
}

func TestExcludeTags(t *testing.T) {
	listed := []string{"v1.0.0", "sha256-abc.sig", "sha256-abc.att", "v1.1.0-rc.1", "nightly.sig.old"}
	tests := []struct {
		name          string
		tags          []string
		exclusionList []string
		want          []string
		wantErr       string
	}{
		{
			name:          "nil list applies Flux's default",
			tags:          listed,
			exclusionList: nil,
			want:          []string{"v1.0.0", "sha256-abc.att", "v1.1.0-rc.1", "nightly.sig.old"},
		},
		{
			name:          "empty list applies Flux's default too, as upstream",
			tags:          listed,
			exclusionList: []string{},
			want:          []string{"v1.0.0", "sha256-abc.att", "v1.1.0-rc.1", "nightly.sig.old"},
		},
		{
			name:          "explicit list replaces the default",
			tags:          listed,
			exclusionList: []string{`^sha256-.*\.att$`, `-rc\.`},
			want:          []string{"v1.0.0", "sha256-abc.sig", "nightly.sig.old"},
		},
		{
			name:          "expressions match anywhere unless anchored",
			tags:          listed,
			exclusionList: []string{`sig`},
			want:          []string{"v1.0.0", "sha256-abc.att", "v1.1.0-rc.1"},
		},
		{
			name:          "no tags",
			tags:          nil,
			exclusionList: nil,
			want:          []string{},
		},
		{
			name:          "invalid expression is named",
			tags:          listed,
			exclusionList: []string{`^ok$`, `^sha256-(`},
			wantErr:       `"^sha256-("`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExcludeTags(tt.tags, tt.exclusionList)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ExcludeTags() error = %v, want one containing %s", err, tt.wantErr)
				}
				var invalid *InvalidPolicyError
				if errors.As(err, &invalid) {
					t.Errorf("ExcludeTags() error is an *InvalidPolicyError, want a plain error")
				}
				return
			}
			if err != nil {
				t.Fatalf("ExcludeTags() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ExcludeTags() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
