package imageupdate

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	imagev1 "github.com/fluxcd/image-reflector-controller/api/v1"
)

// ErrNoTagMatches is returned, possibly wrapped with detail, when no tag
// satisfies an image policy: the tag list is empty, spec.filterTags.pattern
// matches no tag, or no tag parses as a version inside spec.policy.semver.range.
// Test for it with errors.Is.
var ErrNoTagMatches = errors.New("no tag matches the image policy")

// InvalidPolicyError reports an ImagePolicy spec that cannot be evaluated
// whatever the tags are: a semver range that does not parse, a filter pattern
// that does not compile, an unknown order, or no policy kind at all. The
// image-reflector-controller marks such a policy Stalled with reason
// InvalidPolicy.
type InvalidPolicyError struct {
	// Reason names the spec field at fault and what is wrong with it.
	Reason string
}

// Error implements the error interface.
func (e *InvalidPolicyError) Error() string {
	return "invalid image policy: " + e.Reason
}

// defaultExclusion is the ImageRepository spec.exclusionList used when the
// list is empty: it drops cosign signature tags (sha256-<digest>.sig).
const defaultExclusion = `^.*\.sig$`

// SelectTag returns the tag that the policy in spec selects among tags, the
// tag the image-reflector-controller would write to status.latestRef.tag.
//
// Upstream evaluates the tags in the order its database holds them, sorted
// in descending byte order; SelectTag sorts a copy the same way, so ties
// between tags of equal precedence are broken as upstream does: for semver
// the byte-wise greatest of equal versions wins ("v1.2.3" over "1.2.3",
// "1.0.0+b" over "1.0.0+a"), for numerical the byte-wise smallest of equal
// numbers ("1" over "1.0").
//
// When spec.filterTags is set, only tags matching its pattern take part; with
// an extract template, the expanded value is compared and the original tag is
// returned. Tags that extract to the same value collapse to the byte-wise
// smallest of them, as upstream.
//
// SelectTag returns an *InvalidPolicyError when the spec is unusable, an
// error wrapping ErrNoTagMatches when no tag qualifies, and a plain error
// when a value under a numerical policy is not a number (upstream fails the
// whole policy rather than skipping the tag).
func SelectTag(spec imagev1.ImagePolicySpec, tags []string) (string, error) {
	choose, err := newChooser(spec.Policy)
	if err != nil {
		return "", err
	}
	var filter *tagFilter
	if spec.FilterTags != nil {
		if filter, err = newTagFilter(*spec.FilterTags); err != nil {
			return "", err
		}
	}
	if len(tags) == 0 {
		return "", fmt.Errorf("%w: the image repository has no tags", ErrNoTagMatches)
	}

	ordered := slices.Clone(tags)
	slices.SortFunc(ordered, func(a, b string) int { return strings.Compare(b, a) })

	values, original := ordered, map[string]string(nil)
	if filter != nil {
		values, original = filter.apply(ordered)
		if len(values) == 0 {
			return "", fmt.Errorf("%w: spec.filterTags.pattern %q matches none of %d tags",
				ErrNoTagMatches, filter.re.String(), len(tags))
		}
	}

	value, err := choose(values)
	if err != nil {
		return "", err
	}
	if original != nil {
		return original[value], nil
	}
	return value, nil
}

// chooser picks the latest value among values, which are in descending byte
// order and non-empty.
type chooser func(values []string) (string, error)

// newChooser builds the chooser for the first policy kind set, in the order
// semver, alphabetical, numerical. Like upstream's PolicerFromSpec it does not
// reject a spec setting several kinds.
func newChooser(p imagev1.ImagePolicyChoice) (chooser, error) {
	switch {
	case p.SemVer != nil:
		c, err := semver.NewConstraint(p.SemVer.Range)
		if err != nil {
			return nil, &InvalidPolicyError{Reason: fmt.Sprintf("spec.policy.semver.range %q: %v", p.SemVer.Range, err)}
		}
		return func(values []string) (string, error) { return latestSemver(c, p.SemVer.Range, values) }, nil
	case p.Alphabetical != nil:
		desc, err := parseOrder("spec.policy.alphabetical.order", p.Alphabetical.Order)
		if err != nil {
			return nil, err
		}
		return func(values []string) (string, error) { return latestAlphabetical(desc, values), nil }, nil
	case p.Numerical != nil:
		desc, err := parseOrder("spec.policy.numerical.order", p.Numerical.Order)
		if err != nil {
			return nil, err
		}
		return func(values []string) (string, error) { return latestNumerical(desc, values) }, nil
	default:
		return nil, &InvalidPolicyError{Reason: "spec.policy sets none of semver, alphabetical, numerical"}
	}
}

// parseOrder reads an alphabetical or numerical order: case-insensitive asc
// or desc, empty meaning asc. It reports whether the order is descending.
func parseOrder(field, order string) (bool, error) {
	switch strings.ToUpper(order) {
	case "", "ASC":
		return false, nil
	case "DESC":
		return true, nil
	default:
		return false, &InvalidPolicyError{Reason: fmt.Sprintf("%s %q is not one of asc, desc", field, order)}
	}
}

// parseVersion parses a tag as fluxcd/pkg/version.ParseVersion does: it needs
// major, minor and patch (at least two dots), then takes Masterminds' lenient
// parse, so a leading "v" and leading zeros (v2025.07.03) are accepted while
// "1.2" and "latest" are not.
func parseVersion(tag string) (*semver.Version, error) {
	if strings.Count(tag, ".") < 2 {
		return nil, semver.ErrInvalidSemVer
	}
	return semver.NewVersion(tag)
}

// latestSemver returns the greatest value that parses as a version inside c;
// of equal versions the first one wins.
func latestSemver(c *semver.Constraints, rng string, values []string) (string, error) {
	var latest *semver.Version
	var latestValue string
	for _, value := range values {
		v, err := parseVersion(value)
		if err != nil || !c.Check(v) {
			continue
		}
		if latest == nil || v.GreaterThan(latest) {
			latest, latestValue = v, value
		}
	}
	if latest == nil {
		return "", fmt.Errorf("%w: semver range %q matches none of %d candidate tags", ErrNoTagMatches, rng, len(values))
	}
	return latestValue, nil
}

// latestAlphabetical returns the byte-wise greatest value, or the smallest
// when desc is set.
func latestAlphabetical(desc bool, values []string) string {
	if desc {
		return slices.Min(values)
	}
	return slices.Max(values)
}

// latestNumerical returns the value with the greatest number, or the smallest
// when desc is set. Of equal numbers the last one wins, as upstream. A value
// that is not a float64 fails the whole policy, as upstream.
func latestNumerical(desc bool, values []string) (string, error) {
	var latest string
	var latestNum float64
	for i, value := range values {
		n, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return "", fmt.Errorf("numerical policy: tag value %q is not a number", value)
		}
		if i > 0 && (!desc && n < latestNum || desc && n > latestNum) {
			continue
		}
		latest, latestNum = value, n
	}
	return latest, nil
}

// tagFilter is a compiled spec.filterTags.
type tagFilter struct {
	re      *regexp.Regexp
	extract string
}

func newTagFilter(f imagev1.TagFilter) (*tagFilter, error) {
	re, err := regexp.Compile(f.Pattern)
	if err != nil {
		return nil, &InvalidPolicyError{Reason: fmt.Sprintf("spec.filterTags.pattern %q: %v", f.Pattern, err)}
	}
	return &tagFilter{re: re, extract: f.Extract}, nil
}

// apply keeps the tags the pattern matches anywhere and maps each to the
// value the policy compares: the tag itself, or the extract template expanded
// with the match. It returns the distinct values in descending byte order and
// the original tag of each; a later tag overwrites an earlier one with the
// same value, as upstream.
func (f *tagFilter) apply(tags []string) ([]string, map[string]string) {
	original := make(map[string]string)
	for _, tag := range tags {
		m := f.re.FindStringSubmatchIndex(tag)
		if m == nil {
			continue
		}
		value := tag
		if f.extract != "" {
			value = string(f.re.ExpandString(nil, f.extract, tag, m))
		}
		original[value] = tag
	}
	values := make([]string, 0, len(original))
	for v := range original {
		values = append(values, v)
	}
	slices.SortFunc(values, func(a, b string) int { return strings.Compare(b, a) })
	return values, original
}

// ExcludeTags returns the tags that match none of the regular expressions in
// exclusionList, in their original order, as the image-reflector-controller
// filters tags before storing them for an ImageRepository. An empty list, nil
// or not, means Flux's default `^.*\.sig$` (upstream's GetExclusionList
// treats both alike). An expression that does not compile is an error naming
// it.
func ExcludeTags(tags []string, exclusionList []string) ([]string, error) {
	if len(exclusionList) == 0 {
		exclusionList = []string{defaultExclusion}
	}
	res := make([]*regexp.Regexp, 0, len(exclusionList))
	for _, expr := range exclusionList {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("compile ImageRepository spec.exclusionList expression %q: %w", expr, err)
		}
		res = append(res, re)
	}
	kept := make([]string, 0, len(tags))
	for _, tag := range tags {
		if !slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(tag) }) {
			kept = append(kept, tag)
		}
	}
	return kept, nil
}
