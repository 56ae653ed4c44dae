package imageupdate

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	imagev1auto "github.com/fluxcd/image-automation-controller/api/v1"
	imagev1 "github.com/fluxcd/image-reflector-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/fluxgate/fluxgate/fleet"
)

// Rule IDs of the problems this package reports. They are stable.
const (
	// RulePolicyInvalid is an ImagePolicy Flux would refuse (a bad semver
	// range or regular expression, no policy kind, a missing or unknown
	// ImageRepository).
	RulePolicyInvalid = "image-policy-invalid"
	// RulePolicyNoMatch is a policy no tag of its repository satisfies.
	RulePolicyNoMatch = "image-policy-no-match"
	// RuleRepositoryInvalid is an ImageRepository Flux would refuse.
	RuleRepositoryInvalid = "image-repository-invalid"
	// RuleRegistryUnavailable is a registry that could not be asked for
	// tags or digests.
	RuleRegistryUnavailable = "image-registry-unavailable"
	// RuleAutomationInvalid is an ImageUpdateAutomation that cannot run
	// (no git spec, a source that is not a GitRepository in the repository,
	// a strategy other than Setters).
	RuleAutomationInvalid = "image-automation-invalid"
	// RuleSetterInvalid is a setter marker or file that cannot be processed.
	RuleSetterInvalid = "image-setter-invalid"
)

// DefaultNamespace is the namespace given to image objects written without
// one. Flux's bootstrap puts them in flux-system, and markers name them as
// "flux-system:name".
const DefaultNamespace = "flux-system"

// Repository is an ImageRepository found in the fleet.
type Repository struct {
	Namespace, Name string
	Doc             *fleet.Document
	Spec            imagev1.ImageRepositorySpec
}

// Policy is an ImagePolicy found in the fleet, with the repository it
// points at (nil when that is missing).
type Policy struct {
	Namespace, Name string
	Doc             *fleet.Document
	Labels          map[string]string
	Spec            imagev1.ImagePolicySpec
	Repository      *Repository
}

// Key is the name setter markers use for the policy: "namespace:name".
func (p *Policy) Key() string { return p.Namespace + ":" + p.Name }

// Automation is an ImageUpdateAutomation found in the fleet, resolved
// against its GitRepository.
type Automation struct {
	Namespace, Name string
	Doc             *fleet.Document
	Spec            imagev1auto.ImageUpdateAutomationSpec
	// Source is the GitRepository of spec.sourceRef.
	Source *sourcev1.GitRepository
	// SourceDoc is where Source is written.
	SourceDoc *fleet.Document
	// CheckoutBranch is spec.git.checkout.ref.branch, else the
	// GitRepository's spec.ref.branch, else "master" (Flux's default).
	CheckoutBranch string
	// PushBranch is spec.git.push.branch; empty when Flux would push to the
	// checkout branch.
	PushBranch string
	// UpdatePath is spec.update.path cleaned, relative to the repository
	// root with forward slashes ("." for the root).
	UpdatePath string
	// Policies are the keys of the policies the automation applies: those
	// of its namespace matching spec.policySelector, sorted.
	Policies []string
}

// Ref names the automation as Kind/namespace/name.
func (a *Automation) Ref() string {
	return fleet.ObjectRef(imagev1auto.ImageUpdateAutomationKind, a.Namespace, a.Name)
}

// Set holds the image automation objects of a fleet.
type Set struct {
	Repositories map[string]*Repository // by "namespace/name"
	Policies     map[string]*Policy     // by Key
	Automations  []*Automation          // in file order
}

// PolicyKeys returns every policy key, sorted.
func (s *Set) PolicyKeys() []string {
	keys := make([]string, 0, len(s.Policies))
	for k := range s.Policies {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func namespaceOf(d *fleet.Document) string {
	if d.Namespace == "" {
		return DefaultNamespace
	}
	return d.Namespace
}

func problem(rule string, sev fleet.Severity, d *fleet.Document, format string, args ...any) fleet.Problem {
	p := fleet.Problem{Rule: rule, Severity: sev, Message: fmt.Sprintf(format, args...)}
	if d != nil {
		p.File, p.Line = d.File, d.Line
		p.Object = fleet.ObjectRef(d.Kind, namespaceOf(d), d.Name)
	}
	return p
}

// Discover collects the ImageRepositories, ImagePolicies and
// ImageUpdateAutomations of repo and resolves their references. What Flux
// would refuse is returned as problems; those objects are left out (an
// automation) or kept without what is broken (a policy without its
// repository).
func Discover(repo *fleet.Repo) (*Set, []fleet.Problem) {
	s := &Set{Repositories: map[string]*Repository{}, Policies: map[string]*Policy{}}
	var probs []fleet.Problem
	gitRepos := map[string]*fleet.FluxObject{}
	var policies, automations []*fleet.FluxObject
	for _, fo := range repo.Flux {
		d := fo.Doc
		if fo.DecodeError != nil {
			switch d.Kind {
			case imagev1.ImageRepositoryKind:
				probs = append(probs, problem(RuleRepositoryInvalid, fleet.SeverityError, d, "%v", fo.DecodeError))
			case imagev1.ImagePolicyKind:
				probs = append(probs, problem(RulePolicyInvalid, fleet.SeverityError, d, "%v", fo.DecodeError))
			case imagev1auto.ImageUpdateAutomationKind:
				probs = append(probs, problem(RuleAutomationInvalid, fleet.SeverityError, d, "%v", fo.DecodeError))
			}
			continue
		}
		switch t := fo.Typed.(type) {
		case *imagev1.ImageRepository:
			key := namespaceOf(d) + "/" + d.Name
			if _, dup := s.Repositories[key]; dup {
				continue // duplicates are validate's finding
			}
			s.Repositories[key] = &Repository{Namespace: namespaceOf(d), Name: d.Name, Doc: d, Spec: t.Spec}
		case *imagev1.ImagePolicy:
			policies = append(policies, fo)
		case *imagev1auto.ImageUpdateAutomation:
			automations = append(automations, fo)
		case *sourcev1.GitRepository:
			gitRepos[namespaceOf(d)+"/"+d.Name] = fo
		}
	}
	for _, r := range s.Repositories {
		if strings.TrimSpace(r.Spec.Image) == "" {
			probs = append(probs, problem(RuleRepositoryInvalid, fleet.SeverityError, r.Doc, "spec.image is empty"))
		} else if _, err := ExcludeTags(nil, r.Spec.ExclusionList); err != nil {
			probs = append(probs, problem(RuleRepositoryInvalid, fleet.SeverityError, r.Doc, "spec.exclusionList: %v", err))
		}
	}
	for _, fo := range policies {
		d := fo.Doc
		t := fo.Typed.(*imagev1.ImagePolicy)
		p := &Policy{Namespace: namespaceOf(d), Name: d.Name, Doc: d, Labels: t.Labels, Spec: t.Spec}
		if _, dup := s.Policies[p.Key()]; dup {
			continue
		}
		s.Policies[p.Key()] = p
		ref := t.Spec.ImageRepositoryRef
		ns := ref.Namespace
		if ns == "" {
			ns = p.Namespace
		}
		switch {
		case ref.Name == "":
			probs = append(probs, problem(RulePolicyInvalid, fleet.SeverityError, d, "spec.imageRepositoryRef.name is empty"))
		case s.Repositories[ns+"/"+ref.Name] == nil:
			probs = append(probs, problem(RulePolicyInvalid, fleet.SeverityError, d,
				"ImageRepository %s/%s is not in the repository", ns, ref.Name))
		default:
			p.Repository = s.Repositories[ns+"/"+ref.Name]
		}
	}
	for _, fo := range automations {
		a, prob := resolveAutomation(fo, gitRepos, s)
		if prob != nil {
			probs = append(probs, *prob)
			continue
		}
		s.Automations = append(s.Automations, a)
		probs = append(probs, unsupported(a)...)
	}
	return s, probs
}

func resolveAutomation(fo *fleet.FluxObject, gitRepos map[string]*fleet.FluxObject, s *Set) (*Automation, *fleet.Problem) {
	d := fo.Doc
	t := fo.Typed.(*imagev1auto.ImageUpdateAutomation)
	a := &Automation{Namespace: namespaceOf(d), Name: d.Name, Doc: d, Spec: t.Spec}
	fail := func(format string, args ...any) (*Automation, *fleet.Problem) {
		p := problem(RuleAutomationInvalid, fleet.SeverityError, d, format, args...)
		return nil, &p
	}
	ref := t.Spec.SourceRef
	if ref.Kind != "" && ref.Kind != sourcev1.GitRepositoryKind {
		return fail("source kind %q is not supported: only GitRepository", ref.Kind)
	}
	if t.Spec.GitSpec == nil {
		return fail("spec.git is required with a GitRepository source")
	}
	if t.Spec.GitSpec.Commit.Author.Email == "" {
		return fail("spec.git.commit.author.email is required")
	}
	if u := t.Spec.Update; u != nil && u.Strategy != "" && u.Strategy != imagev1auto.UpdateStrategySetters {
		return fail("update strategy %q is not supported: only Setters", u.Strategy)
	}
	ns := ref.Namespace
	if ns == "" {
		ns = a.Namespace
	}
	src := gitRepos[ns+"/"+ref.Name]
	if src == nil {
		return fail("GitRepository %s/%s is not in the repository", ns, ref.Name)
	}
	a.Source = src.Typed.(*sourcev1.GitRepository)
	a.SourceDoc = src.Doc
	if co := t.Spec.GitSpec.Checkout; co != nil && co.Reference.Branch != "" {
		a.CheckoutBranch = co.Reference.Branch
	} else if co != nil && (co.Reference.Tag != "" || co.Reference.SemVer != "" || co.Reference.Commit != "" || co.Reference.Name != "") {
		return fail("spec.git.checkout.ref must name a branch to open a pull request against")
	} else if r := a.Source.Spec.Reference; r != nil && r.Branch != "" {
		a.CheckoutBranch = r.Branch
	} else if r != nil && (r.Tag != "" || r.SemVer != "" || r.Commit != "" || r.Name != "") {
		return fail("GitRepository %s/%s does not follow a branch; set spec.git.checkout.ref.branch", ns, ref.Name)
	} else {
		a.CheckoutBranch = "master"
	}
	if p := t.Spec.GitSpec.Push; p != nil {
		a.PushBranch = p.Branch
	}
	a.UpdatePath = "."
	if u := t.Spec.Update; u != nil && u.Path != "" {
		clean := path.Clean(strings.TrimPrefix(strings.ReplaceAll(u.Path, "\\", "/"), "/"))
		if clean == ".." || strings.HasPrefix(clean, "../") {
			return fail("spec.update.path %q leaves the repository", u.Path)
		}
		a.UpdatePath = clean
	}
	sel := labels.Everything()
	if ps := t.Spec.PolicySelector; ps != nil {
		var err error
		if sel, err = metav1.LabelSelectorAsSelector(ps); err != nil {
			return fail("spec.policySelector: %v", err)
		}
	}
	for _, key := range s.PolicyKeys() {
		p := s.Policies[key]
		if p.Namespace == a.Namespace && sel.Matches(labels.Set(p.Labels)) {
			a.Policies = append(a.Policies, key)
		}
	}
	return a, nil
}

// unsupported reports the parts of an automation's git spec that a run
// from CI does not apply, so that nobody counts on them silently.
func unsupported(a *Automation) []fleet.Problem {
	var out []fleet.Problem
	g := a.Spec.GitSpec
	if g.Commit.SigningKey != nil {
		out = append(out, problem(RuleAutomationInvalid, fleet.SeverityWarning, a.Doc,
			"spec.git.commit.signingKey is not applied: commits are not signed (sign them in the forge's merge instead)"))
	}
	if g.Push != nil && g.Push.Refspec != "" {
		out = append(out, problem(RuleAutomationInvalid, fleet.SeverityWarning, a.Doc,
			"spec.git.push.refspec %q is not applied: the commit goes to the pull request branch only", g.Push.Refspec))
	}
	if g.Push != nil && len(g.Push.Options) > 0 {
		out = append(out, problem(RuleAutomationInvalid, fleet.SeverityWarning, a.Doc,
			"spec.git.push.options are not sent"))
	}
	return out
}

// Select returns the automations named NAMESPACE/NAME, or NAME alone in any
// namespace, in the order asked, each once; every automation when names is
// empty. A name that matches none is an error.
func (s *Set) Select(names []string) ([]*Automation, error) {
	if len(names) == 0 {
		return s.Automations, nil
	}
	var out []*Automation
	for _, n := range names {
		found := false
		for _, a := range s.Automations {
			if a.Namespace+"/"+a.Name == n || (!strings.Contains(n, "/") && a.Name == n) {
				if !slices.Contains(out, a) {
					out = append(out, a)
				}
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("--automation %s: no such ImageUpdateAutomation (or it is invalid)", n)
		}
	}
	return out, nil
}

// AutomationPolicies returns the keys of the policies the automations use,
// sorted, each once.
func AutomationPolicies(automations []*Automation) []string {
	var keys []string
	for _, a := range automations {
		for _, k := range a.Policies {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// SetterProblems turns setter problems into warnings of rule
// RuleSetterInvalid.
func SetterProblems(ps []FileProblem) []fleet.Problem {
	out := make([]fleet.Problem, 0, len(ps))
	for _, p := range ps {
		out = append(out, fleet.Problem{
			Rule: RuleSetterInvalid, Severity: fleet.SeverityWarning,
			File: p.Path, Line: p.Line, Message: p.Message,
		})
	}
	return out
}
