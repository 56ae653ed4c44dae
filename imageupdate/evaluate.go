package imageupdate

import (
	"context"
	"errors"
	"runtime"
	"sort"
	"sync"

	imagev1 "github.com/fluxcd/image-reflector-controller/api/v1"

	"github.com/fluxgate/fluxgate/fleet"
)

// TagLister asks an image registry for tags and digests. internal/registry
// implements it.
type TagLister interface {
	// Tags lists every tag of image.
	Tags(ctx context.Context, image string, insecure bool) ([]string, error)
	// Digest returns the digest ("sha256:…") that image:tag points at.
	Digest(ctx context.Context, image string, insecure bool, tag string) (string, error)
}

// EvaluateOptions configure Evaluate.
type EvaluateOptions struct {
	// Workers bounds the repositories listed at once; zero means
	// 4×GOMAXPROCS (the work waits on the network).
	Workers int
	// Policies restricts evaluation to these keys; nil means all.
	Policies []string
}

// Evaluate lists the tags of every ImageRepository a policy uses (once per
// repository, in parallel), applies each repository's exclusion list and
// selects each policy's tag like image-reflector-controller. Digests are
// read for policies whose digestReflectionPolicy is Always or IfNotPresent.
// The result maps every evaluated policy key to its ImageRef; a policy that
// cannot be evaluated is absent and explained by a problem.
func Evaluate(ctx context.Context, s *Set, lister TagLister, opts EvaluateOptions) (map[string]ImageRef, []fleet.Problem) {
	keys := opts.Policies
	if keys == nil {
		keys = s.PolicyKeys()
	}
	var probs []fleet.Problem
	need := map[*Repository]bool{}
	var todo []*Policy
	for _, k := range keys {
		p := s.Policies[k]
		if p == nil || p.Repository == nil {
			continue // Discover reported it
		}
		if _, err := SelectTag(p.Spec, nil); err != nil {
			if _, invalid := errors.AsType[*InvalidPolicyError](err); invalid {
				probs = append(probs, problem(RulePolicyInvalid, fleet.SeverityError, p.Doc, "%v", err))
				continue
			}
		}
		need[p.Repository] = true
		todo = append(todo, p)
	}

	type listing struct {
		tags []string
		err  error
	}
	tags := make(map[*Repository]*listing, len(need))
	repos := make([]*Repository, 0, len(need))
	for r := range need {
		tags[r] = &listing{}
		repos = append(repos, r)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = 4 * runtime.GOMAXPROCS(0)
	}
	forEach(ctx, len(repos), workers, func(i int) {
		r := repos[i]
		l := tags[r]
		l.tags, l.err = lister.Tags(ctx, r.Spec.Image, r.Spec.Insecure)
	})
	for _, r := range sortedRepos(repos) {
		l := tags[r]
		if l.err != nil {
			probs = append(probs, problem(RuleRegistryUnavailable, fleet.SeverityError, r.Doc, "list tags of %s: %v", r.Spec.Image, l.err))
			continue
		}
		// An invalid exclusion list was reported by Discover.
		l.tags, l.err = ExcludeTags(l.tags, r.Spec.ExclusionList)
	}

	out := make(map[string]ImageRef, len(todo))
	var digestFor []*Policy
	for _, p := range todo {
		l := tags[p.Repository]
		if l.err != nil {
			continue
		}
		tag, err := SelectTag(p.Spec, l.tags)
		switch {
		case errors.Is(err, ErrNoTagMatches):
			probs = append(probs, problem(RulePolicyNoMatch, fleet.SeverityWarning, p.Doc,
				"no tag of %s (%d listed) satisfies the policy", p.Repository.Spec.Image, len(l.tags)))
			continue
		case err != nil:
			probs = append(probs, problem(RulePolicyInvalid, fleet.SeverityError, p.Doc, "%v", err))
			continue
		}
		out[p.Key()] = ImageRef{Name: p.Repository.Spec.Image, Tag: tag}
		if reflectsDigest(p.Spec) {
			digestFor = append(digestFor, p)
		}
	}

	digests := make([]string, len(digestFor))
	errs := make([]error, len(digestFor))
	forEach(ctx, len(digestFor), workers, func(i int) {
		p := digestFor[i]
		r := p.Repository
		digests[i], errs[i] = lister.Digest(ctx, r.Spec.Image, r.Spec.Insecure, out[p.Key()].Tag)
	})
	for i, p := range digestFor {
		if errs[i] != nil {
			probs = append(probs, problem(RuleRegistryUnavailable, fleet.SeverityError, p.Doc,
				"read digest of %s:%s: %v", p.Repository.Spec.Image, out[p.Key()].Tag, errs[i]))
			delete(out, p.Key())
			continue
		}
		ref := out[p.Key()]
		ref.Digest = digests[i]
		out[p.Key()] = ref
	}
	return out, probs
}

func reflectsDigest(spec imagev1.ImagePolicySpec) bool {
	switch spec.DigestReflectionPolicy {
	case imagev1.ReflectAlways, imagev1.ReflectIfNotPresent:
		return true
	}
	return false
}

func sortedRepos(rs []*Repository) []*Repository {
	out := append([]*Repository(nil), rs...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// forEach runs fn for 0..n-1 on at most workers goroutines; it stops
// handing out work when ctx is done (fn sees the cancelled ctx itself).
func forEach(ctx context.Context, n, workers int, fn func(i int)) {
	if workers > n {
		workers = n
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
}

// PoliciesFor returns the setter input for automation a: every policy of
// the fleet, those a applies with their resolved image, the others (and
// those that could not be evaluated) with an empty tag, so that their
// markers are left alone rather than reported as unknown.
func (s *Set) PoliciesFor(a *Automation, resolved map[string]ImageRef) map[string]ImageRef {
	out := make(map[string]ImageRef, len(s.Policies))
	for k, p := range s.Policies {
		ref := ImageRef{}
		if p.Repository != nil {
			ref.Name = p.Repository.Spec.Image
		}
		out[k] = ref
	}
	for _, k := range a.Policies {
		if r, ok := resolved[k]; ok {
			out[k] = r
		}
	}
	return out
}
