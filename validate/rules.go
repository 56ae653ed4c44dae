package validate

import "github.com/fluxgate/fluxgate/fleet"

// Rule IDs. They are stable: users name them in ignore lists and
// annotations.
const (
	RuleYAMLInvalid           = fleet.RuleYAMLInvalid
	RuleRenderFailed          = fleet.RuleRenderFailed
	RuleSourceNotFound        = fleet.RuleSourceNotFound
	RuleSourceUnavailable     = fleet.RuleSourceUnavailable
	RulePathNotFound          = fleet.RulePathNotFound
	RuleDependencyNotFound    = fleet.RuleDependencyNotFound
	RuleDependencyCycle       = fleet.RuleDependencyCycle
	RuleSubstitutionUndefined = fleet.RuleSubstitutionUndefined
	RuleFileTooLarge          = fleet.RuleFileTooLarge
	RulePathEscape            = fleet.RulePathEscape
	RuleSymlinkIgnored        = fleet.RuleSymlinkIgnored
	RuleChartUnavailable      = fleet.RuleChartUnavailable
	RuleSOPSDecryptFailed     = fleet.RuleSOPSDecryptFailed
	RuleSchemaInvalid         = "schema-invalid"
	RuleSchemaMissing         = "schema-missing"
	RuleDeprecatedAPI         = "deprecated-api"
	RuleDuplicateObject       = "duplicate-object"
	RuleTenantEscape          = "tenant-escape"
	RuleImagePolicyInvalid    = "image-policy-invalid"
	RuleSecretNotEncrypted    = "secret-not-encrypted"
	// RuleKustomizationFieldDropped: a kustomization file key Flux drops.
	RuleKustomizationFieldDropped = "kustomization-field-dropped"
	// RuleNameInvalid: a name or namespace the API server refuses.
	RuleNameInvalid = "name-invalid"
)

// RuleInfo describes a rule for documentation and SARIF.
type RuleInfo struct {
	ID string
	// Severity is the default severity.
	Severity string
	// Summary is one line: what the rule finds.
	Summary string
	// Fix is one line: what to do about it.
	Fix string
}

// Rules lists every rule, in documentation order.
var Rules = []RuleInfo{
	{RuleYAMLInvalid, SeverityError, "A YAML file does not parse, or a Flux object does not decode into its API type.", "Fix the syntax at the line given; check field types against the Flux API."},
	{RuleRenderFailed, SeverityError, "Flux could not build a Kustomization: kustomize, post-build substitution or decryption failed.", "Run the build locally with fluxgate render and fix the error it names."},
	{RuleSourceNotFound, SeverityError, "A sourceRef names a source that is not defined anywhere in the repository.", "Define the source, fix the reference, or map it with --source KIND/NAMESPACE/NAME=DIR."},
	{RuleSourceUnavailable, SeverityWarning, "A source is another repository or a remote artifact, so what it holds cannot be checked.", "Map the source to a local directory with --source, or accept that its units are not checked."},
	{RulePathNotFound, SeverityError, "A Kustomization's spec.path does not exist in its source.", "Fix spec.path (it is relative to the source root) or add the directory."},
	{RuleDependencyNotFound, SeverityError, "A dependsOn entry names a Kustomization or HelmRelease the repository does not define, so Flux never reconciles the dependent (a warning when the dependency may be defined where the run cannot see: a remote source, a ResourceSet, a variable).", "Fix the name and namespace, or define the dependency."},
	{RuleDependencyCycle, SeverityError, "dependsOn entries form a cycle, so none of its members will ever be reconciled.", "Remove one dependsOn edge of the cycle."},
	{RuleSchemaInvalid, SeverityError, "An object does not match its schema (unknown field, wrong type, missing required field).", "Fix the field named in the message; check the API reference for the Kubernetes version."},
	{RuleSchemaMissing, SeverityWarning, "No schema is known for an object's apiVersion and kind, so it was not checked.", "Commit the CRD to the repository, add --schema-location, or ignore the kind."},
	{RuleDeprecatedAPI, SeverityWarning, "An object uses an API version that is deprecated or removed in the target Kubernetes version, or a deprecated Flux API version.", "Move to the API version named in the message."},
	{RuleSubstitutionUndefined, SeverityError, "A ${VAR} without default is not defined by the Kustomization's postBuild; Flux substitutes an empty string.", "Define the variable in postBuild.substitute or substituteFrom, give it a default, or escape it as $${VAR}."},
	{RuleNameInvalid, SeverityError, "An object's metadata.name or metadata.namespace is not one the API server takes for its kind (most kinds need an RFC 1123 subdomain: lowercase letters, digits, '-' and '.'; Namespaces and Services an RFC 1123 label), so applying its unit fails.", "Rename the object: lowercase, digits and '-' (and '.' where the kind allows it)."},
	{RuleDuplicateObject, SeverityError, "Two units produce the same kind/namespace/name; they would fight over the object in the cluster.", "Keep the object in one unit only."},
	{RuleTenantEscape, SeverityError, "A tenant unit (one whose controller impersonates a service account) produces cluster-scoped objects or objects in namespaces its account may not write, or a Kustomization refers to a source in another namespace under --no-cross-namespace-refs.", "Move the object to a platform-owned unit or into the tenant's namespace."},
	{RuleImagePolicyInvalid, SeverityError, "An ImagePolicy has an invalid semver range, regular expression or policy.", "Fix the policy as the message says."},
	{RuleSecretNotEncrypted, SeverityError, "A Secret holds plaintext data in Git.", "Encrypt it with SOPS, or use a SealedSecret or an ExternalSecret."},
	{RuleKustomizationFieldDropped, SeverityWarning, "A kustomization file has a key kustomize does not know, or a key twice: kustomize-controller drops the unknown key and all but the last repeated one, and builds without them (kustomize build refuses the file).", "Fix the key's spelling, or merge the repeated keys into one."},
	{RuleSOPSDecryptFailed, SeverityError, "A SOPS file a Kustomization builds cannot be opened with the given keys, so Flux fails the whole Kustomization.", "Give the key the file is encrypted for (SOPS_AGE_KEY, --decryption-key-file), or re-encrypt the file for the cluster's key (sops updatekeys)."},
	{RuleSOPSRuleMissing, SeverityWarning, "A .sops.yaml creation rule does not cover a secret file, has no recipient, or would leave a Secret's data in plaintext.", "Add or fix the creation rule (path_regex, recipients, encrypted_regex '^(data|stringData)$')."},
	{RuleSOPSMAC, SeverityWarning, "A SOPS file has no MAC, or (with a key that opens it) its content no longer matches the MAC: it was changed outside sops. kustomize-controller applies it; sops refuses to decrypt it.", "Check the change, then re-encrypt the file with sops (decrypt it with --ignore-mac and encrypt it again)."},
	{RuleChartUnavailable, SeverityWarning, "A HelmRelease's chart cannot be fetched (offline and not cached, unreachable repository), so its release is not checked.", "Run once online to fill the chart cache (--cache-dir, actions/cache), or vendor the chart in the repository."},
	{RuleFileTooLarge, SeverityError, "A YAML file is over the size limit and was not read.", "Split the file, or raise --max-file-size."},
	{RulePathEscape, SeverityError, "A path points outside the repository or the source root.", "Keep paths inside the repository."},
	{RuleSymlinkIgnored, SeverityWarning, "A symbolic link that could stand for manifests: source-controller leaves links out of the artifacts it builds, so Flux never sees what it points to, and neither does fluxgate.", "Copy the file or directory, or list the target in a kustomization.yaml (resources: [../common])."},
}

// RuleByID returns the rule with an ID.
func RuleByID(id string) (RuleInfo, bool) {
	for _, r := range Rules {
		if r.ID == id {
			return r, true
		}
	}
	return RuleInfo{}, false
}
