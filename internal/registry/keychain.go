package registry

import (
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// ghcrRegistry is the GitHub Container Registry, the one registry that
// accepts GITHUB_TOKEN.
const ghcrRegistry = "ghcr.io"

// DefaultKeychain returns the keychain fluxgate uses in CI: first the Docker
// config as authn.DefaultKeychain reads it (DOCKER_CONFIG or
// ~/.docker/config.json, credential helpers, Podman's auth.json), then, for
// ghcr.io only and only when that config has nothing for it, the token in
// GITHUB_TOKEN. ghcr.io checks the token and accepts any user name; the one
// sent is GITHUB_ACTOR when set, "x-access-token" otherwise.
//
// getenv reads GITHUB_TOKEN and GITHUB_ACTOR (nil means os.Getenv); the
// Docker config is found through the process environment.
func DefaultKeychain(getenv func(string) string) authn.Keychain {
	if getenv == nil {
		getenv = os.Getenv
	}
	return authn.NewMultiKeychain(authn.DefaultKeychain, githubTokenKeychain{getenv: getenv})
}

// githubTokenKeychain offers GITHUB_TOKEN to ghcr.io and nothing to other
// registries.
type githubTokenKeychain struct {
	getenv func(string) string
}

var _ authn.Keychain = githubTokenKeychain{}

func (k githubTokenKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	if !strings.EqualFold(target.RegistryStr(), ghcrRegistry) {
		return authn.Anonymous, nil
	}
	token := k.getenv("GITHUB_TOKEN")
	if token == "" {
		return authn.Anonymous, nil
	}
	user := k.getenv("GITHUB_ACTOR")
	if user == "" {
		user = "x-access-token"
	}
	return authn.FromConfig(authn.AuthConfig{Username: user, Password: token}), nil
}
