package validate

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render"
)

// deprecated reports deprecated Flux API versions in the repository's
// documents, and Kubernetes APIs the target version does not serve although
// another known version does (removed, or not yet served).
func (v *run) deprecated(global bool) {
	catalog := v.opts.Schemas
	if catalog == nil {
		catalog = embeddedSchemas(v.opts.KubernetesVersion)
	}
	var installs []fleet.FluxInstall
	var clusters map[string]map[string]bool
	if global {
		installs = v.repo.FluxInstalls()
		if len(installs) > 0 {
			clusters = v.clustersByDoc()
		}
	}
	for _, fo := range v.repo.Flux {
		if !global {
			continue
		}
		d := fo.Doc
		relevant := installsFor(installs, clusters, d)
		if in, ok := newestInstall(relevant); ok && fo.Known {
			if since, known := fleet.FluxIntroducedIn(d.APIVersion, d.Kind); known && in.Minor < since {
				// Not served yet by the Flux the repository installs
				// (even its newest release): applying it fails.
				v.add(Finding{Rule: RuleDeprecatedAPI, Severity: SeverityError, File: d.File, Line: d.Line, Object: d.Ref(),
					Message: fmt.Sprintf("%s %s is not served by the Flux %s this repository installs (%s:%d), so applying it fails; Flux 2.%d introduced it: upgrade Flux or write the version %s serves", d.APIVersion, d.Kind, in.Version, in.File, in.Line, since, in.Version)}, d.Object)
				continue
			}
		}
		if fo.Current == "" {
			continue
		}
		current := d.Group() + "/" + fo.Current
		if _, served := catalog.Schema(d.APIVersion, d.Kind); served {
			v.add(Finding{Rule: RuleDeprecatedAPI, Severity: SeverityWarning, File: d.File, Line: d.Line, Object: d.Ref(),
				Message: fmt.Sprintf("%s is deprecated; use %s", d.APIVersion, current)}, d.Object)
			continue
		}
		removed, known := fleet.FluxRemovedIn(d.APIVersion)
		if in, ok := newestInstall(relevant); ok && known && in.Minor < removed {
			// The Flux the repository installs still serves it: applying
			// works today and fails after the upgrade.
			v.add(Finding{Rule: RuleDeprecatedAPI, Severity: SeverityWarning, File: d.File, Line: d.Line, Object: d.Ref(),
				Message: fmt.Sprintf("%s %s is served by the Flux %s this repository installs (%s:%d); removed in Flux 2.%d: move to %s before upgrading to it", d.APIVersion, d.Kind, in.Version, in.File, in.Line, removed, current)}, d.Object)
			continue
		}
		msg := fmt.Sprintf("%s %s is no longer served by Flux's CRDs, so applying it fails; use %s", d.APIVersion, d.Kind, current)
		if in, ok := newestInstall(relevant); ok && known {
			msg = fmt.Sprintf("%s %s is no longer served by the Flux %s this repository installs (%s:%d; removed in Flux 2.%d), so applying it fails; use %s", d.APIVersion, d.Kind, in.Version, in.File, in.Line, removed, current)
		} else if known {
			msg = fmt.Sprintf("%s %s is no longer served by Flux's CRDs (removed in Flux 2.%d), so applying it fails; use %s", d.APIVersion, d.Kind, removed, current)
		}
		v.add(Finding{Rule: RuleDeprecatedAPI, Severity: SeverityError, File: d.File, Line: d.Line, Object: d.Ref(), Message: msg}, d.Object)
	}
	kinds := v.opts.Kinds
	if kinds == nil {
		kinds = embeddedKinds()
	}
	versions := kinds.Versions()
	if len(versions) == 0 {
		return
	}
	target := matchVersion(versions, v.opts.KubernetesVersion)
	if target == "" {
		return // NewChecker refused the version
	}
	seen := map[string]bool{}
	for _, u := range v.res.Units {
		if !v.res.Owns(u) {
			continue // its shard reports it; merging drops the copies
		}
		for _, o := range u.Objects {
			api, kind := o.GVK()
			group := ""
			if i := strings.Index(api, "/"); i >= 0 {
				group = api[:i]
			}
			if fleet.IsFluxGroup(group) || kinds.Serves(target, api, kind) {
				continue
			}
			servedBy := ""
			for _, ver := range versions {
				if kinds.Serves(ver, api, kind) {
					servedBy = ver
					break
				}
			}
			removed, old := removedAPIs[api]
			if servedBy == "" && !old {
				continue // a custom resource or unknown API: not this rule's business
			}
			key := o.File + ":" + fmt.Sprint(o.Line) + "|" + o.Ref() + "|" + api + "|" + kind
			if seen[key] {
				continue
			}
			seen[key] = true
			var msg string
			if servedBy != "" {
				msg = fmt.Sprintf("%s %s is not served by Kubernetes %s (it is by %s)", api, kind, target, servedBy)
				if alt := alternative(kinds, target, group, kind); alt != "" {
					msg += "; use " + alt
				}
			} else {
				msg = fmt.Sprintf("%s %s was removed in Kubernetes %s; use %s", api, kind, removed.removedIn, removed.use)
			}
			v.addFor(Finding{Rule: RuleDeprecatedAPI, Severity: SeverityError, File: o.File, Line: o.Line, Object: o.Ref(), Message: msg}, o)
		}
	}
}

// alternative finds an apiVersion of the same kind that the target serves.
func alternative(kinds KindIndex, target, group, kind string) string {
	if ki, ok := kinds.(interface {
		APIVersions(version, kind string) []string
	}); ok {
		for _, api := range ki.APIVersions(target, kind) {
			g := ""
			if i := strings.Index(api, "/"); i >= 0 {
				g = api[:i]
			}
			if g == group || (group == "extensions" && (g == "networking.k8s.io" || g == "apps" || g == "policy")) {
				return api
			}
		}
	}
	return ""
}

// matchVersion picks the known version a requested one names by its
// minor version ("1.36", "1.36.3", "v1.36.0" all name 1.36.x); the newest
// when want is empty, "" when no known version has that minor.
func matchVersion(versions []string, want string) string {
	if want == "" {
		return versions[0]
	}
	minor := func(v string) string {
		parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
		if len(parts) < 2 {
			return parts[0]
		}
		return parts[0] + "." + parts[1]
	}
	for _, v := range versions {
		if minor(v) == minor(want) {
			return v
		}
	}
	return ""
}

// crdScopes returns the scope of every CRD committed in the repository or
// in the render, keyed group/kind; the render's win.
func (v *run) crdScopes() map[string]string {
	var objs []*render.Object
	for _, d := range v.committedCRDs() {
		objs = append(objs, &render.Object{Object: d.Object, File: d.File, Line: d.Line})
	}
	for _, u := range v.res.Units {
		objs = append(objs, u.Objects...)
	}
	return render.CRDScopes(objs)
}

// duplicates reports an object that two units of one cluster produce.
func (v *run) duplicates() {
	scopes := v.crdScopes()
	type owner struct {
		unit *render.Unit
		obj  *render.Object
	}
	first := map[string]owner{}
	for _, u := range v.res.Units {
		for _, o := range u.Objects {
			api, kind := o.GVK()
			group := ""
			if i := strings.Index(api, "/"); i >= 0 {
				group = api[:i]
			}
			ref := o.Ref()
			if render.IsClusterScopedKind(api, kind, scopes) {
				_, name := o.NamespacedName()
				ref = fleet.ObjectRef(kind, "", name)
			}
			key := u.Cluster + "|" + group + "|" + ref
			prev, ok := first[key]
			if !ok {
				first[key] = owner{u, o}
				continue
			}
			if prev.unit == u {
				continue // kustomize already refuses duplicates within a build
			}
			if !v.res.Owns(u) {
				continue // the shard owning u reports it
			}
			v.addFor(Finding{Rule: RuleDuplicateObject, Severity: SeverityError, File: o.File, Line: o.Line, Object: ref,
				Message: fmt.Sprintf("%s is produced by both %s (%s:%d) and %s in %s", ref, prev.unit.ID, prev.obj.File, prev.obj.Line, u.ID, u.Cluster)}, o)
		}
	}
}

// imagePolicies checks ImagePolicy specs as image-reflector-controller
// does: one policy, a valid semver range, valid filterTags regex and
// extract, known orders.
func (v *run) imagePolicies() {
	for _, fo := range v.repo.FluxKind("ImagePolicy") {
		d := fo.Doc
		spec, _ := d.Object["spec"].(map[string]any)
		policy, _ := spec["policy"].(map[string]any)
		bad := func(field []string, format string, args ...any) {
			v.add(Finding{Rule: RuleImagePolicyInvalid, Severity: SeverityError, File: d.File,
				Line: v.repo.FieldLine(d.File, d.Line, field), Object: d.Ref(), Message: fmt.Sprintf(format, args...)}, d.Object)
		}
		var kinds []string
		for k := range policy {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		switch known := knownPolicyKinds(kinds); {
		case len(kinds) == 0:
			bad([]string{"spec", "policy"}, "spec.policy must set one of semver, alphabetical, numerical")
		case len(known) > 1:
			// image-reflector-controller takes the first in this order and
			// ignores the others.
			v.add(Finding{Rule: RuleImagePolicyInvalid, Severity: SeverityWarning, File: d.File,
				Line: v.repo.FieldLine(d.File, d.Line, []string{"spec", "policy"}), Object: d.Ref(),
				Message: fmt.Sprintf("spec.policy sets %s: Flux applies %s only", strings.Join(known, " and "), known[0])}, d.Object)
		}
		for _, k := range kinds {
			p, _ := policy[k].(map[string]any)
			switch k {
			case "semver":
				r, _ := p["range"].(string)
				if _, err := semver.NewConstraint(r); err != nil || r == "" {
					bad([]string{"spec", "policy", "semver", "range"}, "invalid semver range %q: %v", r, err)
				}
			case "alphabetical", "numerical":
				order, _ := p["order"].(string)
				if order != "" && order != "asc" && order != "desc" {
					bad([]string{"spec", "policy", k, "order"}, "%s order %q must be asc or desc", k, order)
				}
			default:
				bad([]string{"spec", "policy", k}, "unknown policy %q (want semver, alphabetical or numerical)", k)
			}
		}
		if ft, ok := spec["filterTags"].(map[string]any); ok {
			pattern, _ := ft["pattern"].(string)
			extract, _ := ft["extract"].(string)
			re, err := regexp.Compile(pattern)
			if err != nil {
				bad([]string{"spec", "filterTags", "pattern"}, "invalid filterTags.pattern: %v", err)
			} else if extract != "" {
				for _, name := range referencedGroups(extract) {
					if re.SubexpIndex(name) < 0 && !isIndex(name, re.NumSubexp()) {
						bad([]string{"spec", "filterTags", "extract"}, "filterTags.extract refers to $%s, which the pattern does not capture", name)
					}
				}
			}
		}
	}
}

// knownPolicyKinds returns the policy kinds among kinds in the order
// image-reflector-controller tries them.
func knownPolicyKinds(kinds []string) []string {
	var out []string
	for _, k := range []string{"semver", "alphabetical", "numerical"} {
		if slices.Contains(kinds, k) {
			out = append(out, k)
		}
	}
	return out
}

var groupRefRE = regexp.MustCompile(`\$\{?([A-Za-z0-9_]+)\}?`)

func referencedGroups(extract string) []string {
	var out []string
	for _, m := range groupRefRE.FindAllStringSubmatch(extract, -1) {
		out = append(out, m[1])
	}
	return out
}

func isIndex(name string, n int) bool {
	var i int
	if _, err := fmt.Sscanf(name, "%d", &i); err != nil {
		return false
	}
	return fmt.Sprint(i) == name && i <= n
}

// plaintextSecrets reports Secrets with plaintext data in the repository's
// files.
func (v *run) plaintextSecrets() {
	seen := map[string]bool{}
	report := func(file string, line int, obj map[string]any, how string) {
		key := fmt.Sprintf("%s:%d:%s", file, line, objectRef(obj))
		if seen[key] {
			return
		}
		seen[key] = true
		v.add(Finding{Rule: RuleSecretNotEncrypted, Severity: SeverityError, File: file, Line: line, Object: objectRef(obj),
			Message: "Secret holds plaintext " + how + " in Git; encrypt it with SOPS or use a SealedSecret or ExternalSecret"}, obj)
	}
	for _, d := range v.repo.Docs {
		if d.Kind == "Secret" && d.APIVersion == "v1" && hasPlaintextData(d.Object) {
			report(d.File, d.Line, d.Object, fieldsWithData(d.Object))
		}
	}
	// Secrets kustomize generates are checked at their source, in
	// secretGenerators: the render holds them decrypted or in plaintext
	// either way.
}

func hasPlaintextData(obj map[string]any) bool {
	return len(plaintextKeys(obj)) > 0
}

// plaintextKeys returns the data and stringData keys of a Secret that hold
// a value, sorted (data before stringData): not ones that hold only a
// reference that some tool resolves later (see secretReference), nor empty
// ones. None for a SOPS document.
func plaintextKeys(obj map[string]any) []string {
	if _, ok := obj["sops"]; ok {
		return nil
	}
	meta, _ := obj["metadata"].(map[string]any)
	annotations, _ := meta["annotations"].(map[string]any)
	_, avp := annotations[avpPathAnnotation]
	var out []string
	for _, f := range []string{"data", "stringData"} {
		m, _ := obj[f].(map[string]any)
		keys := make([]string, 0, len(m))
		for k, val := range m {
			s, isString := val.(string)
			if !isString {
				keys = append(keys, k) // not a string: Kubernetes refuses it, but it is in Git
				continue
			}
			if f == "data" {
				if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s)); err == nil {
					s = string(dec)
				}
			}
			if !secretReference(s) && !(avp && avpPlaceholderRE.MatchString(strings.TrimSpace(s))) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, f+"."+k)
		}
	}
	return out
}

// referenceRE matches values that name a secret kept elsewhere instead of
// holding it: 1Password references (op://vault/item/field), vals
// references (ref+vault://..., ref+awssecrets://...) and
// argocd-vault-plugin placeholders (<path:secret/data/app#key>).
var referenceRE = regexp.MustCompile(`^(op://[^\s]+|ref\+[a-z0-9]+://[^\s]*|<path:[^>]+>)$`)

// avpPathAnnotation names the secret store path argocd-vault-plugin reads
// the generic placeholders of an object from.
const avpPathAnnotation = "avp.kubernetes.io/path"

// avpPlaceholderRE matches an argocd-vault-plugin generic placeholder
// (<key>, optionally with modifiers: <key | base64encode>), a reference on
// an object that carries avpPathAnnotation.
var avpPlaceholderRE = regexp.MustCompile(`^<[A-Za-z0-9_.\-]+( *\|[^<>]*)?>$`)

// varsOnlyRE matches a value made only of Flux postBuild variables
// (${VAR}, ${VAR:=default}), which substitution fills from elsewhere.
var varsOnlyRE = regexp.MustCompile(`^(\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-=][^}]*)?\})+$`)

// secretReference reports whether a Secret value holds no secret: empty,
// a reference resolved by another tool, or only substitution variables.
func secretReference(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || referenceRE.MatchString(s) || varsOnlyRE.MatchString(s)
}

func fieldsWithData(obj map[string]any) string {
	return strings.Join(plaintextKeys(obj), ", ")
}

// clustersByDoc maps "file:line" of every document a unit applies to the
// cluster entry points whose units apply it.
func (v *run) clustersByDoc() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, u := range v.res.Units {
		for _, o := range u.Objects {
			key := fmt.Sprintf("%s:%d", o.File, o.Line)
			if out[key] == nil {
				out[key] = map[string]bool{}
			}
			out[key][u.Cluster] = true
		}
	}
	return out
}

// installsFor returns the Flux releases installed in the clusters that
// apply d. A release counts when a unit applies the document that installs
// it (an example FluxInstance nothing applies says nothing about any
// cluster), or when no document carries it (install manifests as a remote
// base). Among those, the ones of d's clusters count; when d's clusters
// are not known, or none of them says which Flux it runs, all of them do.
func installsFor(installs []fleet.FluxInstall, clusters map[string]map[string]bool, d *fleet.Document) []fleet.FluxInstall {
	var applied []fleet.FluxInstall
	for _, in := range installs {
		if in.DocFile == "" || len(clusters[fmt.Sprintf("%s:%d", in.DocFile, in.DocLine)]) > 0 {
			applied = append(applied, in)
		}
	}
	mine := clusters[fmt.Sprintf("%s:%d", d.File, d.Line)]
	if len(mine) == 0 {
		return applied
	}
	var out []fleet.FluxInstall
	for _, in := range applied {
		theirs := clusters[fmt.Sprintf("%s:%d", in.DocFile, in.DocLine)]
		if len(theirs) == 0 {
			out = append(out, in) // no document: every cluster's
			continue
		}
		for c := range theirs {
			if mine[c] {
				out = append(out, in)
				break
			}
		}
	}
	if len(out) == 0 {
		return applied
	}
	return out
}

// newestInstall returns the newest of the Flux releases that apply an
// object: the first to drop an API, and the last to still lack one.
func newestInstall(installs []fleet.FluxInstall) (fleet.FluxInstall, bool) {
	if len(installs) == 0 {
		return fleet.FluxInstall{}, false
	}
	newest := installs[0]
	for _, in := range installs[1:] {
		if in.Minor > newest.Minor {
			newest = in
		}
	}
	return newest, true
}

// isRemovedAPI reports whether deprecated-api reports an object's API as
// not served (then a missing schema says nothing more).
func isRemovedAPI(kinds KindIndex, apiVersion, kind string) bool {
	if _, ok := removedAPIs[apiVersion]; ok {
		return true
	}
	for _, v := range kinds.Versions() {
		if kinds.Serves(v, apiVersion, kind) {
			return true
		}
	}
	return false
}
