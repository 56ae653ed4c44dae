// Package registry reads container image repositories for `fluxgate
// image-update`: the tags of a repository ([Client.Tags]) and the digest a
// tag points at ([Client.Digest]). It is a thin adapter over
// go-containerregistry (pkg/name, pkg/v1/remote, pkg/authn).
//
// A [Client] adds what a CI job talking to public registries needs:
//
//   - Credentials come from a keychain; [DefaultKeychain] reads the Docker
//     config (DOCKER_CONFIG, ~/.docker/config.json, credential helpers) and
//     falls back to GITHUB_TOKEN for ghcr.io.
//   - At most [Options.MaxConcurrentPerRegistry] HTTP requests are in flight
//     to one registry host at a time; other hosts are not held up.
//   - Idempotent requests (GET, HEAD) answered with 408, 429 or a 5xx status
//     (but 501 and 505), or failed by a transient network error, are retried
//     up to [Options.MaxRetries] times, waiting as long as the registry's
//     Retry-After asks (capped at one minute) or else an exponential backoff
//     with jitter. go-containerregistry's own retries are switched off so the
//     two do not multiply.
//   - Tag lists are read page by page, following the registry's Link headers.
//
// Errors name the image (`list tags of ghcr.io/org/app: ...`) and never
// contain credentials. The package logs nothing.
package registry
