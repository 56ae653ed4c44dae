package forge_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/fluxgate/fluxgate/forge"
)

// One sticky comment per pull request and environment: the first run posts
// it, later runs edit it, and a run with nothing new leaves it alone.
func ExampleGitHub_UpsertComment() {
	gh, err := forge.NewGitHub(forge.Options{
		Token: os.Getenv("GITHUB_TOKEN"),
		Owner: "acme",
		Repo:  "fleet",
	})
	if err != nil {
		log.Fatal(err)
	}
	marker := "<!-- fluxgate:diff:production -->"
	body := marker + "\n### fluxgate diff: production\n\n2 objects changed\n"
	c, err := gh.UpsertComment(context.Background(), 42, marker, body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Outcome, c.URL)
}

// The bot's pull request: update it when it is open, open it otherwise.
func ExampleGitea_FindPullRequest() {
	var prs forge.PullRequests
	prs, err := forge.NewGitea(forge.Options{
		BaseURL: "https://gitea.example.com",
		Token:   os.Getenv("GITEA_TOKEN"),
		Owner:   "acme",
		Repo:    "fleet",
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	title, body := "Update images", "podinfo 6.5.0 -> 6.5.1"
	pr, err := prs.FindPullRequest(ctx, "fluxgate/image-update", "main")
	switch {
	case err != nil:
		log.Fatal(err)
	case pr != nil:
		pr, err = prs.UpdatePullRequest(ctx, pr.Number, title, body)
	default:
		pr, err = prs.CreatePullRequest(ctx, forge.NewPullRequest{
			Head: "fluxgate/image-update", Base: "main", Title: title, Body: body,
			Labels: []string{"image-update"},
		})
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pr.URL)
}

// Links to the lines an image update changed, for the pull request's body.
// FileURL makes no request.
func ExampleGitHub_FileURL() {
	ghe, err := forge.NewGitHub(forge.Options{
		BaseURL: "https://ghe.example.com/api/v3",
		Owner:   "acme",
		Repo:    "fleet",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ghe.FileURL("fluxgate/image-update", "apps/prod/podinfo values.yaml", 12))
	// Output:
	// https://ghe.example.com/acme/fleet/blob/fluxgate/image-update/apps/prod/podinfo%20values.yaml#L12
}
