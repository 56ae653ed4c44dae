package registry_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/fluxgate/fluxgate/internal/registry"
)

// writeDockerConfig writes a Docker config.json with the given
// registry → "user:password" entries into a fresh directory, points
// DOCKER_CONFIG at it and hides other credential files.
func writeDockerConfig(t *testing.T, auths map[string]string) {
	t.Helper()
	dir := t.TempDir()
	entries := map[string]any{}
	for reg, userPass := range auths {
		entries[reg] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(userPass))}
	}
	b, err := json.Marshal(map[string]any{"auths": entries})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("REGISTRY_AUTH_FILE", "")
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("XDG_CONFIG_HOME", "")
}

// basicAuth lets through only requests with the given Basic credentials,
// answering others with a Basic challenge as registries do.
func basicAuth(user, password string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="fluxgate-test"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// TestTagsWithDockerConfig runs the default keychain (Options.Keychain nil)
// against a registry that wants Basic auth.
func TestTagsWithDockerConfig(t *testing.T) {
	const user, password = "ci-bot", "s3cret-Passw0rd"
	mem := memRegistry()
	open := serve(t, mem) // the same storage without auth, to push to
	pushImage(t, open+"/app", "1.0.0", "1.1.0")
	host := serve(t, basicAuth(user, password, mem))

	for _, tc := range []struct {
		name    string
		auths   map[string]string
		want    []string
		wantErr []string
	}{
		{
			name:  "right credentials",
			auths: map[string]string{host: user + ":" + password},
			want:  []string{"1.0.0", "1.1.0"},
		},
		{
			name:    "wrong password",
			auths:   map[string]string{host: user + ":wrong-Passw0rd"},
			wantErr: []string{"list tags of " + host + "/app: ", "UNAUTHORIZED"},
		},
		{
			name:    "no entry for the registry",
			auths:   map[string]string{"registry.example.com": user + ":" + password},
			wantErr: []string{"list tags of " + host + "/app: ", "UNAUTHORIZED"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeDockerConfig(t, tc.auths)
			c := registry.New(registry.Options{})

			got, err := c.Tags(testContext(t), registry.Repository{Image: host + "/app"})
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("Tags (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("Tags = %v, want an error", got)
			}
			msg := err.Error()
			t.Logf("error: %v", err)
			for _, s := range tc.wantErr {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not contain %q", msg, s)
				}
			}
			for _, auth := range tc.auths {
				secret := auth[strings.Index(auth, ":")+1:]
				for _, leak := range []string{secret, base64.StdEncoding.EncodeToString([]byte(auth))} {
					if strings.Contains(msg, leak) {
						t.Errorf("error %q contains the credential %q", msg, leak)
					}
				}
			}
		})
	}
}

// tokenAuth plays a registry with a token service on the same host, as
// ghcr.io and Docker Hub do: registry requests need a Bearer token, which
// GET /token hands out for the right Basic credentials.
func tokenAuth(user, password string, next http.Handler) http.Handler {
	const token = "registry-token-1"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}`))
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"token":"` + token + `"}`))
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="test",scope="repository:app:pull"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// TestTokenAuth runs the Bearer token flow through a Client that allows a
// single request in flight per host: the token request must not wait for a
// slot the registry request still holds.
func TestTokenAuth(t *testing.T) {
	const user, password = "x-access-token", "ghs_s3cretToken"
	mem := memRegistry()
	open := serve(t, mem)
	pushImage(t, open+"/app", "1.0.0")
	host := serve(t, tokenAuth(user, password, mem))

	for _, tc := range []struct {
		name     string
		password string
		wantErr  []string
	}{
		{name: "right token"},
		{name: "wrong token", password: "ghs_wrongToken", wantErr: []string{"list tags of " + host + "/app: ", "UNAUTHORIZED"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pw := password
			if tc.password != "" {
				pw = tc.password
			}
			c := registry.New(registry.Options{
				Keychain:                 staticKeychain{authn.AuthConfig{Username: user, Password: pw}},
				MaxConcurrentPerRegistry: 1,
			})
			got, err := c.Tags(testContext(t), registry.Repository{Image: host + "/app"})
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]string{"1.0.0"}, got); diff != "" {
					t.Errorf("Tags (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("Tags = %v, want an error", got)
			}
			t.Logf("error: %v", err)
			for _, s := range tc.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

// staticKeychain hands the same credentials to every registry.
type staticKeychain struct{ cfg authn.AuthConfig }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.FromConfig(k.cfg), nil
}

func TestDefaultKeychain(t *testing.T) {
	for _, tc := range []struct {
		name   string
		auths  map[string]string
		env    map[string]string
		target string
		want   authn.AuthConfig
	}{
		{
			name:   "ghcr.io gets GITHUB_TOKEN",
			env:    map[string]string{"GITHUB_TOKEN": "ghs_token"},
			target: "ghcr.io/org/app",
			want:   authn.AuthConfig{Username: "x-access-token", Password: "ghs_token"},
		},
		{
			name:   "ghcr.io gets GITHUB_ACTOR as user name",
			env:    map[string]string{"GITHUB_TOKEN": "ghs_token", "GITHUB_ACTOR": "octocat"},
			target: "ghcr.io/org/app",
			want:   authn.AuthConfig{Username: "octocat", Password: "ghs_token"},
		},
		{
			name:   "ghcr.io without GITHUB_TOKEN is anonymous",
			target: "ghcr.io/org/app",
			want:   authn.AuthConfig{},
		},
		{
			name:   "other registries never get GITHUB_TOKEN",
			env:    map[string]string{"GITHUB_TOKEN": "ghs_token"},
			target: "quay.io/org/app",
			want:   authn.AuthConfig{},
		},
		{
			name:   "Docker Hub never gets GITHUB_TOKEN",
			env:    map[string]string{"GITHUB_TOKEN": "ghs_token"},
			target: "nginx",
			want:   authn.AuthConfig{},
		},
		{
			name:   "a Docker config entry for ghcr.io wins",
			auths:  map[string]string{"ghcr.io": "docker-user:docker-pass"},
			env:    map[string]string{"GITHUB_TOKEN": "ghs_token"},
			target: "ghcr.io/org/app",
			want:   authn.AuthConfig{Username: "docker-user", Password: "docker-pass"},
		},
		{
			name:   "the Docker config serves other registries",
			auths:  map[string]string{"quay.io": "quay-user:quay-pass"},
			env:    map[string]string{"GITHUB_TOKEN": "ghs_token"},
			target: "quay.io/org/app",
			want:   authn.AuthConfig{Username: "quay-user", Password: "quay-pass"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeDockerConfig(t, tc.auths)
			repo, err := name.NewRepository(tc.target)
			if err != nil {
				t.Fatal(err)
			}
			getenv := func(k string) string { return tc.env[k] }

			auth, err := registry.DefaultKeychain(getenv).Resolve(repo)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := authn.Authorization(testContext(t), auth)
			if err != nil {
				t.Fatal(err)
			}
			got := authn.AuthConfig{Username: cfg.Username, Password: cfg.Password}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("credentials (-want +got):\n%s", diff)
			}
		})
	}
}
