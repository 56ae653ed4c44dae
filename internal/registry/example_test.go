package registry_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fluxgate/fluxgate/internal/registry"
)

// List the tags of a repository and read the digest of one of them, here
// from an in-memory registry with two tags.
func ExampleClient_Tags() {
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	image := strings.TrimPrefix(srv.URL, "http://") + "/podinfo"
	img, err := random.Image(256, 1)
	if err != nil {
		log.Fatal(err)
	}
	for _, tag := range []string{"6.5.0", "6.5.1"} {
		ref, err := name.NewTag(image + ":" + tag)
		if err != nil {
			log.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			log.Fatal(err)
		}
	}

	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()}) // no credentials
	ctx := context.Background()
	repo := registry.Repository{Image: image}
	tags, err := c.Tags(ctx, repo)
	if err != nil {
		log.Fatal(err)
	}
	digest, err := c.Digest(ctx, repo, "6.5.1")
	if err != nil {
		log.Fatal(err)
	}
	want, _ := img.Digest()
	fmt.Println(tags)
	fmt.Println(digest == want.String())
	// Output:
	// [6.5.0 6.5.1]
	// true
}

// In CI, credentials come from the Docker config, and GITHUB_TOKEN covers
// ghcr.io when that config has nothing for it.
func ExampleDefaultKeychain() {
	c := registry.New(registry.Options{
		Keychain:                 registry.DefaultKeychain(os.Getenv),
		MaxConcurrentPerRegistry: 2,
	})
	tags, err := c.Tags(context.Background(), registry.Repository{Image: "ghcr.io/stefanprodan/podinfo"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(tags) > 0)
}
