// Package helm is the Helm side of a render: charts fetched as
// source-controller fetches them (HTTP chart repositories with their
// index, OCI HelmRepositories and OCIRepositories, credentials and TLS
// settings of the source, size limits, a content-addressed cache on disk
// shared by runs, each index and archive fetched once per Fetcher),
// charts loaded from a directory of the repository with their missing
// dependencies, and a HelmRelease installed as helm-controller installs
// it, client-only (Template: values, CRD policy, post-renderers, hooks).
//
// It knows nothing of units or of where objects are looked up: the
// render hands it the objects it resolved (SourceAccess's SecretFunc,
// BuildDependencies's AccessFunc) and turns a Release into its objects.
package helm
