package main

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/forge"
)

// redactURL drops the user information of a URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = nil
	return u.String()
}

// forgeOptions name a code-hosting service and repository.
type forgeOptions struct {
	name, apiURL, repository string
	token                    string
}

func addForgeFlags(cmd *cobra.Command, o *forgeOptions, repositoryUsage string) {
	f := cmd.Flags()
	f.StringVar(&o.name, "forge", "", "github or gitea (default: gitea in Gitea Actions, else github)")
	f.StringVar(&o.apiURL, "api-url", "", "API endpoint (default: $GITHUB_API_URL, or the Gitea server $GITHUB_SERVER_URL)")
	f.StringVar(&o.repository, "repository", "", repositoryUsage)
}

// check refuses, before anything is read, a --forge or --api-url that
// cannot be right, whether or not the run talks to the forge.
func (o *forgeOptions) check() error {
	if o.name != "" && o.name != "github" && o.name != "gitea" {
		return &flagError{"forge", o.name, "want github or gitea"}
	}
	return checkHTTPURL("api-url", o.apiURL)
}

// resolve fills what the flags leave out from the Actions environment.
func (o *forgeOptions) resolve(what string) error {
	if o.name == "" {
		o.name = "github"
		if os.Getenv("GITEA_ACTIONS") == "true" {
			o.name = "gitea"
		}
	}
	if o.repository == "" {
		o.repository = os.Getenv("GITHUB_REPOSITORY")
	}
	switch o.name {
	case "github":
		if o.apiURL == "" {
			o.apiURL = os.Getenv("GITHUB_API_URL")
		}
		o.token = os.Getenv("GITHUB_TOKEN")
	case "gitea":
		if o.apiURL == "" {
			o.apiURL = os.Getenv("GITHUB_SERVER_URL")
		}
		o.token = os.Getenv("GITEA_TOKEN")
		if o.token == "" {
			o.token = os.Getenv("GITHUB_TOKEN")
		}
		if o.apiURL == "" {
			return fmt.Errorf("%s: the Gitea server URL is unknown; set --api-url", what)
		}
	default:
		return fmt.Errorf("--forge %q: want github or gitea", o.name)
	}
	if owner, name, ok := strings.Cut(o.repository, "/"); !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("%s: the repository %q is not OWNER/NAME; set --repository or GITHUB_REPOSITORY", what, o.repository)
	}
	if o.token == "" {
		return fmt.Errorf("%s: no token; set %s", what, map[string]string{"github": "GITHUB_TOKEN", "gitea": "GITEA_TOKEN"}[o.name])
	}
	return nil
}

// open makes the driver.
func (o *forgeOptions) open() (forge.Forge, error) {
	owner, name, _ := strings.Cut(o.repository, "/")
	opts := forge.Options{BaseURL: o.apiURL, Token: o.token, Owner: owner, Repo: name}
	if o.name == "gitea" {
		return forge.NewGitea(opts)
	}
	return forge.NewGitHub(opts)
}

// gitToken is the token for cloning and pushing over HTTPS.
func gitToken(forgeToken string) string {
	if t := os.Getenv("FLUXGATE_GIT_TOKEN"); t != "" {
		return t
	}
	return forgeToken
}
